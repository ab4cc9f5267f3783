/**
 * The learner's test runner: one warm vitest instance in a worker thread (host.mjs), configured
 * exactly like the self-check's (engine/projects.ts), against the learner's chapters/.
 * Start it early; it loads vitest while the caller does other work.
 */
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { Chapter } from '../../chapters/manifest.ts';
import { chapterPaths, chapters } from '../../chapters/manifest.ts';
import { repoRoot } from '../../engine/impl.ts';
import { projectConfig, vitestOptions } from '../../engine/projects.ts';
import { CliError } from '../core/errors.ts';
import { stateDir } from '../core/workbook.ts';
import { startHost, takeHost } from './prestart.ts';
import type { ModuleResult, RunResult } from '../../engine/types.ts';

type HostMessage =
  | { type: 'ready'; ms: number }
  | { type: 'closed' }
  | { type: 'result'; id: number; result: RunResult }
  | { type: 'error'; id: number; message: string };

/** A warm vitest instance that runs chapter suites against one implementation (the learner's by default). */
export class ChapterRunner {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (r: RunResult) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closing?: Promise<void>;
  /** Resolves once vitest is loaded. */
  readonly ready: Promise<void>;

  constructor(impl = 'chapters') {
    const files = chapters.map((c) => chapterPaths(c).test);
    const options = vitestOptions([projectConfig({ name: 'learner', impl, files })], 1);
    this.worker = takeHost() ?? startHost();
    this.worker.postMessage({ type: 'init', root: repoRoot, options, cacheDir: path.join(stateDir, 'cache') });
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (m: HostMessage) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'result' || m.type === 'error') {
          const w = this.waiting.get(m.id);
          this.waiting.delete(m.id);
          if (m.type === 'result') w?.resolve(m.result);
          else w?.reject(new Error(`the test runner failed: ${m.message}`));
        }
      });
      this.worker.on('error', (err) => {
        reject(err);
        for (const w of this.waiting.values()) w.reject(err);
        this.waiting.clear();
      });
    });
    this.ready.catch(() => undefined);
  }

  /**
   * Run the suites of these chapters. `changed` lists files saved since the last run, so that
   * vitest drops its cached transform of them.
   */
  async run(list: Chapter[], changed: string[] = []): Promise<RunResult> {
    try {
      await this.ready;
    } catch (err) {
      throw new CliError(`The test runner (vitest) could not start: ${(err as Error).message}. Reinstall the dependencies:`, 'npm ci', 1);
    }
    const id = this.nextId++;
    const files = list.map((c) => path.join(repoRoot, chapterPaths(c).test));
    const invalidate = [...new Set([...changed, ...list.flatMap((c) => chapterPaths(c).stubs.map((f) => path.join(repoRoot, f)))])];
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'run', id, files, invalidate });
    });
  }

  /** Close vitest and the worker (waits at most `ms`, then terminates it). */
  close(ms = 3_000): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        void this.worker.terminate().then(() => resolve());
      };
      const timer = setTimeout(done, ms);
      this.worker.on('message', (m: HostMessage) => m.type === 'closed' && done());
      this.worker.on('exit', done);
      this.worker.postMessage({ type: 'close' });
    });
    return this.closing;
  }
}

/** The result for one chapter's test file. */
export function moduleOf(result: RunResult, chapter: Chapter): ModuleResult | undefined {
  return result.modules.find((m) => m.file === chapterPaths(chapter).test);
}

/** Whether a chapter passed: its suite loaded, ran at least one test, and no test failed or hung. */
export function chapterPassed(result: RunResult, chapter: Chapter): boolean {
  const mod = moduleOf(result, chapter);
  if (!mod || mod.errors.length > 0 || mod.hang || mod.tests.length === 0) return false;
  const ran = mod.tests.filter((t) => t.state !== 'skipped');
  return ran.length > 0 && ran.every((t) => t.state === 'passed');
}
