/** Run vitest projects in one vitest instance and return the one result type (engine/types.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './impl.ts';
import type { ProjectSpec } from './projects.ts';
import { projectConfig, vitestOptions } from './projects.ts';
import { collect } from './results.mjs';
import type { Hang, ModuleResult, RunResult, TestInfo } from './types.ts';

/** Run the given projects (at most `maxWorkers` test processes at once) and collect every outcome. */
export async function runPhase(specs: ProjectSpec[], opts: { maxWorkers?: number } = {}): Promise<RunResult> {
  const t0 = performance.now();
  const hangDir = mkdtempSync(path.join(os.tmpdir(), 'workbook-hangs-'));
  const previous = process.env.WORKBOOK_HANG_DIR;
  process.env.WORKBOOK_HANG_DIR = hangDir;
  const projects = specs.map((s) => projectConfig(s));
  for (const p of projects) p.test.env = { ...p.test.env, WORKBOOK_HANG_DIR: hangDir };
  const { createVitest } = await import('vitest/node');
  const vitest = await createVitest('test', vitestOptions(projects, opts.maxWorkers ?? 2) as never);
  try {
    try {
      await vitest.start();
    } catch (err) {
      // A failing run is reported through the collected results below, not thrown.
      if (!(err instanceof Error) || !/failed|error/i.test(err.message)) throw err;
    }
    return { ...collect(vitest, { root: repoRoot, hangDir }), output: '', durationMs: performance.now() - t0 };
  } finally {
    await vitest.close();
    rmSync(hangDir, { recursive: true, force: true });
    if (previous === undefined) delete process.env.WORKBOOK_HANG_DIR;
    else process.env.WORKBOOK_HANG_DIR = previous;
  }
}

/** The modules of one project (and one file), from a run. */
export function modulesOf(run: RunResult, project: string, file?: string): ModuleResult[] {
  return run.modules.filter((m) => m.project === project && (file === undefined || m.file === file));
}

/** The tests of one project (and one file), from a run. */
export function testsOf(run: RunResult, project: string, file?: string): (TestInfo & { file: string })[] {
  return modulesOf(run, project, file).flatMap((m) => m.tests.map((t) => ({ ...t, file: m.file })));
}

/** The processes the watchdog stopped while running one project's modules (and one file). */
export function hangsOf(run: RunResult, project: string, file?: string): Hang[] {
  return modulesOf(run, project, file).flatMap((m) => (m.hang ? [m.hang] : []));
}

/** Errors that were not a test's: files that failed to load (with the file named), for one project. */
export function loadErrorsOf(run: RunResult, project: string, file?: string): string[] {
  return modulesOf(run, project, file).flatMap((m) => m.errors.map((e) => (file ? e.message : `${m.file}: ${e.message}`)));
}
