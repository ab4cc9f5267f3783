/**
 * Run a benchmark: every subject's trials, each in a fresh child process (so one subject's JIT
 * state, garbage and leftover sockets never touch another's), rounds interleaved and the order
 * rotated each round (so a slow minute on the machine is shared, not pinned on one subject).
 */
import os from 'node:os';
import path from 'node:path';
import { chapterDir, repoRoot, resolveImpl } from '../engine/impl.ts';
import type { Benchmark, BenchResult, Machine, Stat, SubjectKind, TrialResult } from './framework.ts';
import { median, statOf } from './framework.ts';
import type { TrialMessage, TrialSpec } from './trial.ts';
import { benchmarkFile } from './registry.ts';
import { forkChild } from './trial.ts';

/** How to run a benchmark. */
export interface RunOptions {
  /** Which subjects, in the order they are listed. */
  subjects: SubjectKind[];
  quick?: boolean;
  /** Override the benchmark's number of rounds. */
  rounds?: number;
  /** Where the learner's chapters are (default: chapters/); for tests and graders. */
  learnerRoot?: string;
  /** The benchmark's file, when it is not the chapter's registered one (tests use fixtures). */
  file?: string;
  /** Called after every trial, for a progress line. */
  onTrial?(info: { round: number; rounds: number; subject: SubjectKind; label: string; ms: number; error?: string }): void;
}

/** The chapter folder a subject's code is loaded from. */
export function subjectDir(b: Benchmark, subject: SubjectKind, learnerRoot?: string): string {
  if (subject === 'learner') return learnerRoot ? path.join(learnerRoot, b.chapter) : chapterDir(resolveImpl('chapters'), b.chapter);
  return chapterDir(resolveImpl('solutions'), b.chapter);
}

/** This machine, for the record. */
export function machine(): Machine {
  return { cpu: os.cpus()[0]?.model.trim() ?? 'unknown', cores: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.arch()}`, date: new Date().toISOString() };
}

/** Run one trial in its own process; resolves with its result, or rejects with what went wrong. */
export function runTrial(spec: Extract<TrialSpec, { mode: 'trial' }>, timeoutMs: number): Promise<TrialResult> {
  return new Promise((resolve, reject) => {
    const { child, output } = forkChild(spec, repoRoot);
    let settled: TrialMessage | undefined;
    child.on('message', (m: TrialMessage) => (settled ??= m));
    const timer = setTimeout(() => {
      settled ??= { ok: false, error: `it did not finish within ${timeoutMs / 1000} s, so it was stopped. Something in the code under test never returns or never answers.` };
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => (settled ??= { ok: false, error: err.message }));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (settled && 'ok' in settled && settled.ok) return resolve(settled.result);
      const why = settled && 'error' in settled ? settled.error : `its process exited (${signal ?? `code ${code}`}) without a result`;
      const printed = output().trim();
      reject(new Error(printed ? `${why}\n--- its output ---\n${printed}` : why));
    });
  });
}

/** Run the benchmark for the given subjects and summarise it. */
export async function runBenchmark(b: Benchmark, options: RunOptions): Promise<BenchResult> {
  const quick = Boolean(options.quick);
  const rounds = options.rounds ?? (quick ? b.rounds.quick : b.rounds.normal);
  const timeoutMs = quick ? b.trialTimeoutMs.quick : b.trialTimeoutMs.normal;
  const file = options.file ?? benchmarkFile(b.chapter);
  if (!file) throw new Error(`Chapter ${b.chapter} has no benchmark file in bench/registry.ts.`);
  const trials = new Map<SubjectKind, TrialResult[]>(options.subjects.map((s) => [s, []]));
  const errors = new Map<SubjectKind, string>();
  for (let round = 0; round < rounds; round++) {
    const order = options.subjects.map((_, i) => options.subjects[(i + round) % options.subjects.length]!);
    for (const subject of order) {
      if (errors.has(subject)) continue;
      const started = performance.now();
      let error: string | undefined;
      try {
        const result = await runTrial({ mode: 'trial', file, subject, dir: subjectDir(b, subject, options.learnerRoot), quick, round }, timeoutMs);
        trials.get(subject)!.push(result);
      } catch (err) {
        error = (err as Error).message;
        errors.set(subject, error);
      }
      options.onTrial?.({ round, rounds, subject, label: b.labels[subject] ?? subject, ms: performance.now() - started, error });
    }
  }
  return summarise(b, options.subjects, trials, errors, { quick, rounds });
}

/** Turn the trials into medians, extremes and the series to draw. */
export function summarise(
  b: Benchmark,
  subjects: SubjectKind[],
  trials: Map<SubjectKind, TrialResult[]>,
  errors: Map<SubjectKind, string>,
  run: { quick: boolean; rounds: number },
): BenchResult {
  const stats: BenchResult['stats'] = {};
  for (const metric of b.metrics) {
    stats[metric.key] = {};
    for (const point of b.points) {
      const row: Partial<Record<SubjectKind, Stat>> = {};
      for (const subject of subjects) {
        const samples = (trials.get(subject) ?? []).flatMap((t) => t.samples[metric.key]?.[point.key] ?? []);
        if (samples.length > 0) row[subject] = statOf(samples);
      }
      stats[metric.key]![point.key] = row;
    }
  }
  const series: BenchResult['series'] = {};
  const last = b.points[b.points.length - 1]!.key;
  for (const subject of subjects) {
    const withSeries = (trials.get(subject) ?? []).filter((t) => t.series && t.series.length > 0);
    if (withSeries.length === 0) continue;
    // The trial whose primary figure is the median one: a typical run, not the best or the worst.
    const value = (t: TrialResult) => median(t.samples[b.primary]?.[last] ?? [0]);
    const sorted = [...withSeries].sort((x, y) => value(x) - value(y));
    series[subject] = sorted[Math.floor((sorted.length - 1) / 2)]!.series!;
  }
  return {
    chapter: b.chapter,
    title: b.title,
    quick: run.quick,
    rounds: run.rounds,
    machine: machine(),
    subjects: subjects.map((kind) => ({ kind, label: b.labels[kind] ?? kind, ...(errors.has(kind) ? { error: errors.get(kind)! } : {}) })),
    stats,
    series,
  };
}
