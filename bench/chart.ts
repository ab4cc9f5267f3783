/**
 * Benchmark charts as static SVG, drawn once (by the CLI, or by the site at build time) and never
 * by a script in the browser.
 *
 * Built on d3-scale and d3-shape, two modules of D3: they compute scales, "nice" tick values and
 * SVG path strings, and need no DOM, so plain string templates around them make a complete,
 * self-contained file. D3 is the most used and longest kept charting toolkit on npm, and these two
 * modules are small and pure functions. (A full charting library such as Vega or Observable Plot
 * needs a DOM or a canvas to render on the server, and brings far more than a line chart needs.)
 *
 * Ink is `currentColor`, so the chart follows the page's theme on the site; a standalone file
 * carries its own colours for light and dark (prefers-color-scheme). The three series differ in
 * colour, dash and marker shape, so they stay apart in grey print and for colour-blind readers.
 * The two accent colours keep a contrast of at least 3:1 against both the light and the dark page.
 */
import { scaleLinear, scaleLog } from 'd3-scale';
import { curveLinear, line } from 'd3-shape';
import type { Benchmark, BenchResult, SubjectKind } from './framework.ts';
import { measuredSubjects } from './framework.ts';

const W = 640;
const H = 380;
const M = { top: 64, right: 24, bottom: 52, left: 88 };

/** How each subject is drawn. */
const LOOK: Record<SubjectKind, { stroke: string; dash?: string; width: number; marker: 'circle' | 'square' | 'triangle' | 'diamond' }> = {
  learner: { stroke: '#d9480f', width: 2.5, marker: 'circle' },
  reference: { stroke: '#3b5bdb', width: 2, marker: 'square' },
  baseline: { stroke: 'currentColor', dash: '6 4', width: 1.75, marker: 'triangle' },
  ceiling: { stroke: 'currentColor', dash: '1.5 3', width: 1.75, marker: 'diamond' },
};

/** One line of a chart. */
export interface ChartLine {
  kind: SubjectKind;
  label: string;
  points: { x: number; y: number; min?: number; max?: number }[];
}

/** Everything a chart shows, independent of how it is drawn. */
export interface ChartData {
  /** The chart's id prefix: unique per page. */
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  xScale: 'log' | 'linear';
  yScale: 'log' | 'linear';
  /** Fixed x ticks (the benchmark's points), or undefined for automatic ones. */
  xTicks?: { x: number; label: string }[];
  formatX(v: number): string;
  formatY(v: number): string;
  /** A few measured points (drawn with markers and min-max whiskers), or a sampled series (a bare line). */
  markers: boolean;
  lines: ChartLine[];
  /** The chart in words, for screen readers and for anyone who cannot see it. */
  description: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const r1 = (n: number) => Math.round(n * 10) / 10;

/** The data of a benchmark's chart, from its results. */
export function chartOf(b: Benchmark, result: BenchResult): ChartData {
  const subjects = measuredSubjects(result);
  const id = `chart-${b.chapter.slice(0, 2)}`;
  if (b.chart.kind === 'points') {
    const metric = b.metrics.find((m) => m.key === (b.chart as { metric: string }).metric)!;
    const lines = subjects.map((s) => ({
      kind: s.kind,
      label: s.label,
      points: b.points.flatMap((p) => {
        const st = result.stats[metric.key]?.[p.key]?.[s.kind];
        return st ? [{ x: p.x, y: st.median, min: st.min, max: st.max }] : [];
      }),
    }));
    const described = lines.map((l) => `${l.label}: ${l.points.map((pt, i) => `${b.points[i]!.label} ${metric.format(pt.y)}`).join(', ')}`).join('; ');
    return {
      id,
      title: b.title,
      xLabel: b.chart.xLabel,
      yLabel: `${metric.label} (${metric.better} is better)`,
      xScale: b.chart.xScale,
      yScale: b.chart.yScale ?? 'linear',
      xTicks: b.points.map((p) => ({ x: p.x, label: p.label })),
      formatX: (v) => String(v),
      formatY: metric.format,
      markers: true,
      lines,
      description: `Line chart of ${metric.label} (${metric.better} is better) by ${b.chart.xLabel.toLowerCase()}, median of ${result.rounds} run${result.rounds === 1 ? '' : 's'}. ${described}.`,
    };
  }
  const spec = b.chart;
  const lines = subjects.flatMap((s) => (result.series[s.kind] ? [{ kind: s.kind, label: s.label, points: result.series[s.kind]!.map(([x, y]) => ({ x, y })) }] : []));
  const described = lines
    .map((l) => {
      const peak = l.points.reduce((a, p) => (p.y > a.y ? p : a), l.points[0]!);
      const end = l.points[l.points.length - 1]!;
      return `${l.label} peaks at ${spec.formatY(peak.y)} at ${spec.formatX(peak.x)} and ends at ${spec.formatX(end.x)}`;
    })
    .join('; ');
  return {
    id,
    title: b.title,
    xLabel: spec.xLabel,
    yLabel: spec.yLabel,
    xScale: 'linear',
    yScale: 'linear',
    formatX: spec.formatX,
    formatY: spec.formatY,
    markers: false,
    lines,
    description: `Line chart of ${spec.yLabel.toLowerCase()} against ${spec.xLabel.toLowerCase()}, one typical run each. ${described}.`,
  };
}

function marker(kind: SubjectKind, x: number, y: number): string {
  const look = LOOK[kind];
  const common = `fill="${look.stroke}" stroke="none"`;
  if (look.marker === 'circle') return `<circle cx="${r1(x)}" cy="${r1(y)}" r="4.5" ${common}/>`;
  if (look.marker === 'square') return `<rect x="${r1(x - 4)}" y="${r1(y - 4)}" width="8" height="8" ${common}/>`;
  if (look.marker === 'diamond') return `<path d="M${r1(x)},${r1(y - 5.5)}L${r1(x + 5.5)},${r1(y)}L${r1(x)},${r1(y + 5.5)}L${r1(x - 5.5)},${r1(y)}Z" ${common}/>`;
  return `<path d="M${r1(x)},${r1(y - 5.5)}L${r1(x + 5)},${r1(y + 3.5)}L${r1(x - 5)},${r1(y + 3.5)}Z" ${common}/>`;
}

/** Render the chart as SVG markup. `standalone` adds the XML namespace, a background and its own colours. */
export function renderChart(data: ChartData, options: { standalone: boolean }): string {
  const all = data.lines.flatMap((l) => l.points);
  const xs = all.map((p) => p.x);
  const yMax = Math.max(1e-9, ...all.map((p) => p.max ?? p.y));
  const xDomain: [number, number] = data.xTicks ? [Math.min(...data.xTicks.map((t) => t.x)), Math.max(...data.xTicks.map((t) => t.x))] : [Math.min(0, ...xs), Math.max(1e-9, ...xs)];
  const x =
    data.xScale === 'log'
      ? // Leave a little room at the ends of a log axis, so end markers do not sit on the frame.
        scaleLog().base(2).domain([Math.max(xDomain[0], 1e-9), Math.max(xDomain[1], xDomain[0] * 2)]).range([M.left + 16, W - M.right - 16])
      : scaleLinear().domain(xDomain[0] === xDomain[1] ? [xDomain[0], xDomain[0] + 1] : xDomain).range([M.left, W - M.right]);
  const yMin = Math.min(...all.map((p) => p.min ?? p.y));
  const yRange: [number, number] = [H - M.bottom, M.top];
  // A log axis starts at the power of ten below the smallest value; a linear one at 0.
  const y =
    data.yScale === 'log'
      ? scaleLog().domain([10 ** Math.floor(Math.log10(Math.max(yMin, 1e-9))), 10 ** Math.ceil(Math.log10(yMax))]).range(yRange)
      : scaleLinear().domain([0, yMax]).nice(5).range(yRange);
  const yTicks = data.yScale === 'log' ? y.ticks(4).filter((t) => Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9) : y.ticks(5);
  const out: string[] = [];
  const ns = options.standalone ? ' xmlns="http://www.w3.org/2000/svg"' : '';
  out.push(`<svg${ns} viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" class="bench-chart" font-size="12" ${options.standalone ? `role="img" aria-labelledby="${data.id}-title ${data.id}-desc"` : 'aria-hidden="true"'}>`);
  if (options.standalone) {
    out.push(`<title id="${data.id}-title">${esc(data.title)}</title><desc id="${data.id}-desc">${esc(data.description)}</desc>`);
    out.push(
      '<style>.bench-chart{color:#1b1f24;font-family:system-ui,-apple-system,"Segoe UI",sans-serif}.bench-chart .bg{fill:#ffffff}' +
        '@media (prefers-color-scheme: dark){.bench-chart{color:#e6e8eb}.bench-chart .bg{fill:#16181d}}</style>',
    );
    out.push(`<rect class="bg" width="${W}" height="${H}"/>`);
  }
  out.push(`<text x="${M.left}" y="22" font-size="14" font-weight="600" fill="currentColor">${esc(data.title)}</text>`);
  // Legend: one entry per line, with its dash and marker.
  let lx = M.left;
  for (const l of data.lines) {
    const look = LOOK[l.kind];
    out.push(`<line x1="${lx}" y1="42" x2="${lx + 28}" y2="42" stroke="${look.stroke}" stroke-width="${look.width}"${look.dash ? ` stroke-dasharray="${look.dash}"` : ''}/>`);
    out.push(marker(l.kind, lx + 14, 42));
    out.push(`<text x="${lx + 34}" y="46" fill="currentColor">${esc(l.label)}</text>`);
    lx += 34 + l.label.length * 7 + 24;
  }
  // Grid and y axis.
  for (const t of yTicks) {
    const ty = r1(y(t));
    out.push(`<line x1="${M.left}" y1="${ty}" x2="${W - M.right}" y2="${ty}" stroke="currentColor" stroke-opacity="0.14"/>`);
    out.push(`<text x="${M.left - 8}" y="${ty + 4}" text-anchor="end" fill="currentColor" fill-opacity="0.8">${esc(data.formatY(t))}</text>`);
  }
  // x axis.
  const xTicks = data.xTicks ?? x.ticks(6).map((v) => ({ x: v, label: data.formatX(v) }));
  out.push(`<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="currentColor" stroke-opacity="0.6"/>`);
  for (const t of xTicks) {
    const tx = r1(x(t.x));
    out.push(`<line x1="${tx}" y1="${H - M.bottom}" x2="${tx}" y2="${H - M.bottom + 5}" stroke="currentColor" stroke-opacity="0.6"/>`);
    out.push(`<text x="${tx}" y="${H - M.bottom + 19}" text-anchor="middle" fill="currentColor" fill-opacity="0.8">${esc(t.label)}</text>`);
  }
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 10}" text-anchor="middle" fill="currentColor">${esc(data.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle" fill="currentColor">${esc(data.yLabel)}</text>`);
  // The lines, whiskers (min to max over the runs) and markers.
  const path = line<{ x: number; y: number }>()
    .x((p) => r1(x(p.x)))
    .y((p) => r1(y(p.y)))
    .curve(curveLinear);
  for (const l of data.lines) {
    const look = LOOK[l.kind];
    out.push(`<g class="series series-${l.kind}">`);
    out.push(`<path d="${path(l.points) ?? ''}" fill="none" stroke="${look.stroke}" stroke-width="${look.width}" stroke-linejoin="round"${look.dash ? ` stroke-dasharray="${look.dash}"` : ''}/>`);
    if (data.markers) {
      for (const p of l.points) {
        const px = r1(x(p.x));
        if (p.min !== undefined && p.max !== undefined && p.max > p.min) {
          out.push(`<path d="M${px - 4},${r1(y(p.min))}H${px + 4}M${px},${r1(y(p.min))}V${r1(y(p.max))}M${px - 4},${r1(y(p.max))}H${px + 4}" stroke="${look.stroke}" stroke-opacity="0.7" fill="none"/>`);
        }
        out.push(marker(l.kind, px, y(p.y)));
      }
    }
    out.push('</g>');
  }
  out.push('</svg>');
  return out.join('\n');
}
