/** A benchmark's results as text: one table per metric, the ratios, and a summary line. */
import type { Benchmark, BenchResult, Metric, Stat, SubjectKind } from './framework.ts';
import { measuredSubjects, samplesPerPoint } from './framework.ts';

/** "11.1x", "0.98x" */
export function ratio(a: number, b: number): string {
  if (!(b > 0) || !Number.isFinite(a / b)) return '-';
  const r = a / b;
  const shown = r >= 10 ? r.toFixed(1) : r.toPrecision(2);
  // 9.98 would print as "10", and 0.996 as "1.0": one more digit, so a ratio never reads as a
  // round target (1x, 10x) it did not reach.
  return `${(r < 1 && Number(shown) >= 1) || (r < 10 && Number(shown) >= 10) ? r.toPrecision(3) : shown}x`;
}

function cell(metric: Metric, s: Stat | undefined): string {
  if (!s) return '-';
  return s.n > 1 && s.min !== s.max ? `${metric.format(s.median)} (${metric.format(s.min)}-${metric.format(s.max)})` : metric.format(s.median);
}

/** Pad every column of rows to its widest cell; the first column left-aligned, the rest right. */
function columns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ').trimEnd());
}

/** One metric's table: a row per point, a column per subject, then the ratios of the first subject to the others. */
export function metricTable(b: Benchmark, result: BenchResult, metric: Metric): string {
  const subjects = measuredSubjects(result);
  const first = subjects[0];
  const others = subjects.slice(1);
  const short = (s: { kind: SubjectKind; label: string }) => (s.kind === 'learner' ? 'you' : s.kind === 'reference' ? 'reference' : s.label);
  const header = [b.axis, ...subjects.map((s) => s.label), ...others.map((o) => `${short(first!)} / ${short(o)}`)];
  const rows = b.points.map((p) => {
    const row = result.stats[metric.key]?.[p.key] ?? {};
    return [p.label, ...subjects.map((s) => cell(metric, row[s.kind])), ...others.map((o) => ratio(row[first!.kind]?.median ?? NaN, row[o.kind]?.median ?? NaN))];
  });
  const how = samplesPerPoint(result) > 1 ? 'median (min-max)' : 'one run';
  return [`${metric.label}, ${metric.better} is better: ${how}`, ...columns([header, ...rows]).map((l) => `  ${l}`)].join('\n');
}

/** The sentence under the tables: the first subject against the others at the headline point. */
export function summaryLine(b: Benchmark, result: BenchResult): string {
  const subjects = measuredSubjects(result);
  const metric = b.metrics.find((m) => m.key === b.primary)!;
  const point = b.points.find((p) => p.key === b.headline)!;
  const row = result.stats[metric.key]?.[point.key] ?? {};
  const [first, ...others] = subjects;
  if (!first || !row[first.kind]) return '';
  const against = others.filter((o) => row[o.kind]).map((o) => `${ratio(row[first.kind]!.median, row[o.kind]!.median)} ${o.label}`);
  return `${b.points.length > 1 ? `At ${point.label}: ` : ''}${first.label} ${metric.format(row[first.kind]!.median)} ${metric.label}${against.length ? `, ${against.join(' and ')}` : ''} (${metric.better} is better).`;
}

/** The whole report. */
export function report(b: Benchmark, result: BenchResult): string {
  const lines: string[] = [];
  const m = result.machine;
  lines.push(`${b.title}`);
  lines.push(`${result.rounds} round${result.rounds === 1 ? '' : 's'}${result.quick ? ' (quick: small workloads, rough figures)' : ''}; ${m.cores} cores, ${m.cpu}, Node ${m.node}`);
  for (const s of result.subjects.filter((x) => x.error)) {
    lines.push('', `${s.label} could not be measured: ${s.error}`);
  }
  if (measuredSubjects(result).length > 0) {
    for (const metric of b.metrics) lines.push('', metricTable(b, result, metric));
    const summary = summaryLine(b, result);
    if (summary) lines.push('', summary);
  }
  if (b.notes.length) lines.push('', ...b.notes);
  return lines.join('\n');
}
