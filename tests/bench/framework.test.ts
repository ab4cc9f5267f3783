/**
 * The benchmark framework without timing anything: how samples become medians and ratios, how a
 * chart is drawn, and that a trial that hangs or throws is stopped and reported while the others
 * still run. Timings are never asserted; the figures here are fixed numbers.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chartOf, renderChart } from '../../bench/chart.ts';
import type { Benchmark, BenchResult, SubjectKind, TrialResult } from '../../bench/framework.ts';
import { median, statOf, subjectList, subjectsOf } from '../../bench/framework.ts';
import { benchmarkedChapters, loadBenchmark, resultsFile } from '../../bench/registry.ts';
import { ratio, report } from '../../bench/report.ts';
import { runBenchmark, summarise } from '../../bench/run.ts';
import fixture from './fixtures/misbehaving.ts';

const fixtureFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/misbehaving.ts');
/** Trials per subject, as summarise takes them. */
const byKind = (entries: [SubjectKind, TrialResult[]][]) => new Map<SubjectKind, TrialResult[]>(entries);
const trial = (a: number, b: number, series?: [number, number][]): TrialResult => ({ samples: { n: { a: [a], b: [b] } }, series });

describe('the benchmark framework', () => {
  it('summarises samples as median, min and max (the mean of the middle two for an even count)', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(statOf([2, 9, 4])).toEqual({ median: 4, min: 2, max: 9, n: 3 });
  });

  it('prints ratios of the first subject to each other one, and a summary at the headline point', () => {
    expect(ratio(30, 10)).toBe('3.0x');
    expect(ratio(123, 10)).toBe('12.3x');
    expect(ratio(1, 0)).toBe('-');
    // Just under a round ratio keeps a third digit instead of rounding up to it.
    expect(ratio(9.978, 1)).toBe('9.98x');
    expect(ratio(0.9976, 1)).toBe('0.998x');
    expect(ratio(9.94, 1)).toBe('9.9x');
    const trials = byKind([
      ['learner', [trial(10, 40), trial(30, 20), trial(20, 60)]],
      ['reference', [trial(10, 10)]],
      ['baseline', [trial(5, 80)]],
    ]);
    const result = summarise(fixture, ['learner', 'reference', 'baseline'], trials, new Map(), { quick: false, rounds: 3 });
    expect(result.stats.n!.b!.learner).toEqual({ median: 40, min: 20, max: 60, n: 3 });
    const text = report(fixture, result);
    expect(text).toMatch(/you \/ reference\s+you \/ throws/);
    expect(text).toMatch(/B\s+40\.0 \(20\.0-60\.0\)\s+10\.0\s+80\.0\s+4\.0x\s+0\.50x/);
    expect(text).toContain('At B: hangs 40.0 things/s, 4.0x works and 0.50x throws (higher is better).');
  });

  it("draws the series of each subject's median trial, not its best or worst", () => {
    const trials = byKind([['reference', [trial(1, 5, [[0, 5]]), trial(1, 9, [[0, 9]]), trial(1, 7, [[0, 7]])]]]);
    const result = summarise(fixture, ['reference'], trials, new Map(), { quick: false, rounds: 3 });
    expect(result.series.reference).toEqual([[0, 7]]);
  });

  it('draws a chart with a line, markers and min-max whiskers per subject, labels escaped, no script', () => {
    const trials = byKind([
      ['learner', [trial(10, 40), trial(30, 20)]],
      ['baseline', [trial(5, 80)]],
    ]);
    const result = summarise({ ...fixture, labels: { ...fixture.labels, learner: 'a <b> & "c"' } }, ['learner', 'baseline'], trials, new Map(), { quick: false, rounds: 2 });
    const data = chartOf({ ...fixture, labels: { ...fixture.labels, learner: 'a <b> & "c"' } }, result);
    expect(data.description).toContain('a <b> & "c": A 20.0, B 30.0');
    const svg = renderChart(data, { standalone: true });
    expect(svg).toContain('a &lt;b&gt; &amp; &quot;c&quot;');
    expect(svg).toContain('class="series series-learner"');
    expect(svg).toContain('class="series series-baseline"');
    expect(svg).not.toContain('series-reference');
    expect(svg.match(/<circle /g)).toHaveLength(3); // two points and the legend's marker
    expect(svg).toMatch(/stroke-dasharray="6 4"/);
    expect(svg).not.toMatch(/<script|href=/i);
    const inline = renderChart(data, { standalone: false });
    expect(inline).not.toContain('<style');
    expect(inline).not.toContain('xmlns');
    expect(inline).toContain('aria-hidden="true"');
  });

  it('measures a ceiling beside the others only when the benchmark names one, and draws it apart', () => {
    expect(subjectsOf(fixture, ['learner', 'reference', 'baseline'])).toEqual(['learner', 'reference', 'baseline']);
    const withCeiling: Benchmark = { ...fixture, labels: { ...fixture.labels, ceiling: 'plain copy' } };
    const kinds = subjectsOf(withCeiling, ['reference', 'baseline']);
    expect(kinds).toEqual(['reference', 'baseline', 'ceiling']);
    expect(subjectList(withCeiling, kinds)).toBe('works, throws and plain copy');
    const trials = byKind([
      ['reference', [trial(10, 40)]],
      ['baseline', [trial(5, 20)]],
      ['ceiling', [trial(20, 80)]],
    ]);
    const result = summarise(withCeiling, kinds, trials, new Map(), { quick: false, rounds: 1 });
    expect(result.subjects.map((s) => s.label)).toEqual(['works', 'throws', 'plain copy']);
    expect(report(withCeiling, result)).toMatch(/reference \/ throws\s+reference \/ plain copy/);
    expect(report(withCeiling, result)).toContain('At B: works 40.0 things/s, 2.0x throws and 0.50x plain copy (higher is better).');
    const svg = renderChart(chartOf(withCeiling, result), { standalone: true });
    expect(svg).toContain('class="series series-ceiling"');
    expect(svg).toMatch(/stroke-dasharray="1.5 3"/);
  });

  it('stops a trial that never finishes, reports one that throws, and still measures the others', async () => {
    const result = await runBenchmark(fixture, { subjects: ['learner', 'reference', 'baseline'], file: fixtureFile });
    const bySubject = Object.fromEntries(result.subjects.map((s) => [s.kind, s]));
    expect(bySubject.learner!.error).toMatch(/did not finish within 8 s, so it was stopped/);
    expect(bySubject.baseline!.error).toContain('the baseline broke on purpose');
    expect(bySubject.reference!.error).toBeUndefined();
    expect(result.stats.n!.a!.reference).toEqual({ median: 10.5, min: 10, max: 11, n: 2 });
    expect(result.stats.n!.a!.learner).toBeUndefined();
    // The helper ran in a process of its own, and was stopped.
    const pid = result.series.reference![0]![1];
    expect(pid).not.toBe(process.pid);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(report(fixture, result)).toContain('hangs could not be measured: it did not finish within 8 s');
  }, 60_000);

  it('registers a benchmark for every chapter it names, each with its chart, points and metrics', async () => {
    expect(benchmarkedChapters).toEqual(['01-shared-memory', '04-sockets', '07-streams-and-backpressure', '08-reliable-delivery', '09-framing', '13-http']);
    for (const id of benchmarkedChapters) {
      const b: Benchmark = await loadBenchmark(id);
      expect(b.chapter).toBe(id);
      expect(b.metrics.map((m) => m.key)).toContain(b.primary);
      expect(b.points.map((p) => p.key)).toContain(b.headline);
      if (b.chart.kind === 'points') expect(b.metrics.map((m) => m.key)).toContain(b.chart.metric);
    }
  });

  it('has a recorded reference run for every chapter with a benchmark, drawn on its lesson page', async () => {
    for (const id of benchmarkedChapters) {
      const b = await loadBenchmark(id);
      const recorded = JSON.parse(readFileSync(resultsFile(id), 'utf8')) as BenchResult;
      expect(recorded.quick, `${id}: recorded without --quick`).toBe(false);
      expect(recorded.subjects.map((s) => [s.kind, s.error])).toEqual(subjectsOf(b, ['reference', 'baseline']).map((kind) => [kind, undefined]));
      expect(Object.keys(recorded.stats).sort()).toEqual(b.metrics.map((m) => m.key).sort());
      const lesson = readFileSync(path.join(fileURLToPath(new URL('../../chapters', import.meta.url)), id, 'lesson.md'), 'utf8');
      expect(lesson, `${id}: the lesson has "## Measure it" with "::: measured"`).toMatch(/## Measure it\n[\s\S]*?::: measured\n/);
    }
  });
});
