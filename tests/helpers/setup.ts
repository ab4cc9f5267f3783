/**
 * Runs in every test process before the test files (vitest `setupFiles`):
 * - the watchdog, which turns a synchronous hang into a reported failure instead of a stuck runner;
 * - cleanup after every test, so no socket, server, worker or timer outlives its test;
 * - in a mutation run, the mutation state shared with the Workers and processes a test starts.
 */
import { afterEach, beforeAll, beforeEach } from 'vitest';
import { runCleanups } from './cleanup.ts';
import { collectChildCoverage, shareMutationState } from './mutation.ts';
import { startWatchdog } from './watchdog.ts';

const watchdog = startWatchdog(Number(process.env.WORKBOOK_BLOCKED_LOOP_LIMIT_MS ?? 5_000));

// Workers a test file starts in its own beforeAll need the mutation state too.
beforeAll(shareMutationState);

beforeEach((ctx) => {
  const names: string[] = [];
  // Walk up through describe blocks; the file itself is not part of the test's name.
  for (let t: { name: string; suite?: unknown; filepath?: string } | undefined = ctx.task; t; t = t.suite as typeof t) {
    if (t.filepath === undefined && t.name) names.unshift(t.name);
  }
  watchdog.enter(ctx.task.file?.filepath ?? '', names.join(' > '));
  shareMutationState();
});

afterEach(async () => {
  const problems = await runCleanups();
  collectChildCoverage();
  watchdog.leave();
  if (problems.length) console.warn(`[workbook] cleanup problems:\n  ${problems.join('\n  ')}`);
});
