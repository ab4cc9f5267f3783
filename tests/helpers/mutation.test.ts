/**
 * The mutation run's reach into Workers and child processes (mutation.ts, mutation-child.mjs), and
 * the mutation run's vitest config, which must run one chapter's suite and nothing else.
 * Stryker's state is imitated here: a `__stryker__` global as its instrumented code keeps it.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { track } from './cleanup.ts';
import { within } from './deadline.ts';
import { COVERAGE_FILE_ENV, collectChildCoverage, shareMutationState } from './mutation.ts';
import { startTsWorker } from './worker.ts';

type Ns = { activeMutant?: string; mutantCoverage?: { static: Record<string, number>; perTest: Record<string, Record<string, number>> } };
const g = globalThis as { __stryker__?: Ns };
const saved = { env: { ...process.env } };

// What Stryker's instrumented code does when it runs: read the active mutant (from the environment
// when its global has none), and count the mutants it reaches.
const INSTRUMENTED = `
const ns = (globalThis.__stryker__ ??= {});
if (ns.activeMutant === undefined && process.env.__STRYKER_ACTIVE_MUTANT__) ns.activeMutant = process.env.__STRYKER_ACTIVE_MUTANT__;
const cov = (ns.mutantCoverage ??= { static: {}, perTest: {} });
for (const id of ['3', '14', '3']) cov.static[id] = (cov.static[id] ?? 0) + 1;
const report = { activeMutant: ns.activeMutant ?? null };
`;

function scratch(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'workbook-mutation-test-'));
  writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }');
  writeFileSync(path.join(dir, 'worker.ts'), `import { parentPort } from 'node:worker_threads';\n${INSTRUMENTED}\nparentPort!.postMessage(report);\n`);
  writeFileSync(path.join(dir, 'child.mjs'), `${INSTRUMENTED}\nprocess.send(report, () => process.disconnect());\n`);
  return dir;
}

afterEach(() => {
  delete g.__stryker__;
  for (const k of Object.keys(process.env)) if (!(k in saved.env)) delete process.env[k];
  Object.assign(process.env, saved.env);
});

describe('mutation testing reaches Workers and child processes', () => {
  it('does nothing outside a mutation run', () => {
    shareMutationState();
    expect(process.env.__STRYKER_ACTIVE_MUTANT__).toBeUndefined();
    expect(process.env[COVERAGE_FILE_ENV]).toBeUndefined();
    collectChildCoverage();
    expect(g.__stryker__).toBeUndefined();
  });

  it('hands the active mutant to a Worker and to a child process', async () => {
    const dir = scratch();
    try {
      g.__stryker__ = { activeMutant: '42' };
      shareMutationState();
      const worker = startTsWorker(path.join(dir, 'worker.ts'));
      const [fromWorker] = (await within(once(worker, 'message'), 5_000, 'the Worker')) as [{ activeMutant: string | null }];
      expect(fromWorker.activeMutant).toBe('42');
      const child = track(fork(path.join(dir, 'child.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }), 'child');
      const [fromChild] = (await within(once(child, 'message'), 5_000, 'the child process')) as [{ activeMutant: string | null }];
      expect(fromChild.activeMutant).toBe('42');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("in the coverage run, counts what a Worker and a child process reached as this run's static coverage", async () => {
    const dir = scratch();
    try {
      g.__stryker__ = { mutantCoverage: { static: { '1': 1 }, perTest: {} } };
      shareMutationState();
      const worker = startTsWorker(path.join(dir, 'worker.ts'));
      await within(once(worker, 'message'), 5_000, 'the Worker');
      await worker.terminate();
      collectChildCoverage();
      expect(g.__stryker__.mutantCoverage!.static).toEqual({ '1': 1, '3': 1, '14': 1 });

      const child = track(fork(path.join(dir, 'child.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }), 'child');
      await within(once(child, 'exit'), 5_000, 'the child process');
      collectChildCoverage();
      expect(g.__stryker__.mutantCoverage!.static).toEqual({ '1': 1, '3': 2, '14': 2 });
      // Read once: a second collection adds nothing.
      collectChildCoverage();
      expect(g.__stryker__.mutantCoverage!.static).toEqual({ '1': 1, '3': 2, '14': 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the mutation run's vitest config", () => {
  it("includes only the chapter's own suite (a merged config would concatenate include arrays)", async () => {
    process.env.WORKBOOK_MUTATION_TESTS = 'tests/02-addresses-and-ports/addresses-and-ports.test.ts';
    vi.resetModules(); // the config reads the variable when it loads
    const { default: config } = await import('../mutation/vitest.config.ts');
    expect(config.test!.include).toEqual(['tests/02-addresses-and-ports/addresses-and-ports.test.ts']);
    expect(config.test!.env!.WORKBOOK_IMPL_RESOLVED).toMatch(/solutions/);
  });

  it('refuses to start without a suite to run', async () => {
    delete process.env.WORKBOOK_MUTATION_TESTS;
    vi.resetModules();
    await expect(import('../mutation/vitest.config.ts')).rejects.toThrow(/npm run mutation -- <chapter>/);
  });
});
