/**
 * The benchmark framework: what a chapter's benchmark declares, and the numbers it produces.
 *
 * A chapter's benchmark is one small file in bench/chapters/ that calls `defineBenchmark`. It
 * names its points (message sizes, loss rates, connection counts), its metrics, its chart, and a
 * `trial` function that measures ONE subject once: the learner's code (chapters/<id>/), the
 * reference solution (solutions/<id>/), or the platform baseline the lesson compares against.
 * bench/run.ts runs every trial in a fresh child process, rounds interleaved, and bench/report.ts
 * and bench/chart.ts turn the samples into a table and an SVG chart.
 *
 * Two commands use it, with no code of their own for any chapter:
 *   npm run workbook -- bench <ch>   learner vs reference vs baseline (cli/commands/bench.ts)
 *   npm run bench -- <ch>            reference vs baseline, for maintainers (bench/reference.ts)
 */

/**
 * Whose code a trial measures. `ceiling` is optional: the most any implementation could reach
 * (e.g. a plain copy of the same bytes), for chapters whose lesson compares against one.
 */
export type SubjectKind = 'learner' | 'reference' | 'baseline' | 'ceiling';

/** The order subjects appear in tables, legends and charts. */
export const SUBJECT_ORDER: SubjectKind[] = ['learner', 'reference', 'baseline', 'ceiling'];

/** The subjects a command measures: the ones it names, plus the ceiling when the benchmark has one. */
export function subjectsOf(b: Benchmark, named: SubjectKind[]): SubjectKind[] {
  return b.labels.ceiling === undefined ? named : [...named, 'ceiling'];
}

/** The subjects' names in a sentence: "your ring, reference ring and MessagePort". */
export function subjectList(b: Benchmark, kinds: SubjectKind[]): string {
  const names = kinds.map((k) => b.labels[k]!);
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** One position on the x axis: a message size, a loss rate, a number of connections. */
export interface Point {
  /** Stable key, used in results files. */
  key: string;
  /** As printed: "64 B", "5%". */
  label: string;
  /** Where it sits on the x axis. */
  x: number;
}

/** Something measured at every point. */
export interface Metric {
  key: string;
  /** "messages/s", "p99 latency" */
  label: string;
  /** Is a larger number better? Decides how a ratio reads ("2.0x faster" or "2.0x the memory"). */
  better: 'higher' | 'lower';
  /** One value as printed in tables and on the chart's axis: "2.61 M/s", "1.4 ms". */
  format(value: number): string;
}

/** The chart a benchmark draws. */
export type ChartSpec =
  | {
      /** One line per subject through the median at each point, with a min-max whisker. */
      kind: 'points';
      metric: string;
      xLabel: string;
      xScale: 'log' | 'linear';
      /** log when the values span orders of magnitude (default linear, from 0). */
      yScale?: 'log' | 'linear';
    }
  | {
      /** One line per subject: the over-time series of its median trial (e.g. bytes held). */
      kind: 'series';
      xLabel: string;
      yLabel: string;
      formatX(value: number): string;
      formatY(value: number): string;
    };

/** What one trial gets to know. */
export interface TrialContext {
  subject: SubjectKind;
  /** The chapter folder whose code to load: chapters/<id> for the learner, solutions/<id> otherwise. Absolute. */
  dir: string;
  /** A short run: smaller workloads, for tests and a first look. Figures are noisier. */
  quick: boolean;
  /** Which round this is, from 0. */
  round: number;
  /** Start one of the benchmark's helpers in its own process (e.g. a server); see Benchmark.helpers. */
  startHelper(name: string, args: string[]): Promise<Helper>;
}

/** A helper process started by a trial. */
export interface Helper {
  /** The first message the helper sent (e.g. the port it listens on). */
  ready: unknown;
  /** Stop it; resolves when it has exited. */
  stop(): Promise<void>;
}

/** What one trial returns: samples of every metric at every point (usually one each), and an optional series. */
export interface TrialResult {
  samples: Record<string, Record<string, number[]>>;
  /** [x, y] pairs, for a 'series' chart. */
  series?: [number, number][];
}

/** A chapter's benchmark. */
export interface Benchmark {
  /** The chapter id, e.g. "01-shared-memory". */
  chapter: string;
  /** One line: what is measured, against what. */
  title: string;
  /** Names of the subjects in tables and legends; a benchmark with a `ceiling` label measures a ceiling too. */
  labels: Record<Exclude<SubjectKind, 'ceiling'>, string> & { ceiling?: string };
  points: Point[];
  /** What the points are, as the heading of their column in tables: "size", "loss", "connections". */
  axis: string;
  metrics: Metric[];
  /** The metric whose median picks the trial whose series is drawn, and that the summary leads with. */
  primary: string;
  /** The point the summary line speaks of, e.g. 64 B messages. */
  headline: string;
  chart: ChartSpec;
  /** Trials per subject (rounds); the table shows their median, min and max. */
  rounds: { normal: number; quick: number };
  /** One trial past this is stopped and reported. */
  trialTimeoutMs: { normal: number; quick: number };
  /** Notes printed under the table: what the workload is, what to look for. */
  notes: string[];
  trial(ctx: TrialContext): Promise<TrialResult>;
  /** Code that runs in its own process, started with ctx.startHelper; it calls `ready(value)` once, then keeps running until stopped. */
  helpers?: Record<string, (args: string[], ready: (value: unknown) => void) => Promise<void>>;
}

/** Declare a benchmark (the identity function, for the types). */
export function defineBenchmark(b: Benchmark): Benchmark {
  return b;
}

/** The median, min and max of one metric at one point for one subject. */
export interface Stat {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Summarise samples. */
export function statOf(xs: number[]): Stat {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/** Where and when a result was measured. */
export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  platform: string;
  date: string;
}

/** A whole benchmark run: what bench/report.ts prints, bench/chart.ts draws and results files keep. */
export interface BenchResult {
  chapter: string;
  title: string;
  quick: boolean;
  rounds: number;
  machine: Machine;
  /** The subjects measured, in order, with their labels; `error` when its trials failed. */
  subjects: { kind: SubjectKind; label: string; error?: string }[];
  /** metric key -> point key -> subject -> stat */
  stats: Record<string, Record<string, Partial<Record<SubjectKind, Stat>>>>;
  /** subject -> the series of its median trial (by the primary metric at the last point). */
  series: Partial<Record<SubjectKind, [number, number][]>>;
}

/** The subjects of a result that produced figures (not those whose trials failed), in order. */
export function measuredSubjects(result: BenchResult): BenchResult['subjects'] {
  return result.subjects.filter((s) => !s.error);
}

/** The most samples behind any one figure of a result: 1 means every figure is a single run. */
export function samplesPerPoint(result: BenchResult): number {
  return Math.max(0, ...Object.values(result.stats).flatMap((row) => Object.values(row).flatMap((r) => Object.values(r).map((st) => st?.n ?? 0))));
}

/** Format helpers shared by the chapters' files. */
export const fmt = {
  /** 2610000 -> "2.61 M", 236000 -> "236 k", 950 -> "950" */
  si(value: number): string {
    const abs = Math.abs(value);
    if (abs >= 1e9) return `${(value / 1e9).toPrecision(3)} G`;
    if (abs >= 1e6) return `${(value / 1e6).toPrecision(3)} M`;
    if (abs >= 1e3) return `${(value / 1e3).toPrecision(3)} k`;
    return value >= 100 ? value.toFixed(0) : value.toPrecision(3);
  },
  /** Bytes in binary units: 153600 -> "150 KiB" */
  bytes(value: number): string {
    const units = ['B', 'KiB', 'MiB', 'GiB'];
    let v = value;
    let u = 0;
    while (Math.abs(v) >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return `${u === 0 ? v.toFixed(0) : v >= 100 ? v.toFixed(0) : v.toPrecision(3)} ${units[u]}`;
  },
  /** Milliseconds: 0.42 -> "0.42 ms", 1234 -> "1.23 s" */
  ms(value: number): string {
    return value >= 1000 ? `${(value / 1000).toPrecision(3)} s` : `${value.toPrecision(value >= 100 ? 3 : 2)} ms`;
  },
};
