/**
 * Replay commands for seeded failures. Kept apart from random.ts, which plain scripts (benchmarks)
 * use without loading vitest.
 */
import path from 'node:path';
import { expect } from 'vitest';

/** Escape a test name for vitest's -t, which reads it as a regular expression. */
function asPattern(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/"/g, '\\"');
}

/**
 * The sentence that tells a learner how to replay a seeded failure, naming the current test file and
 * test. `fcPath` is fast-check's path to a shrunk counterexample (see property.ts).
 */
export function replayHint(seed: number, fcPath?: string): string {
  const state = expect.getState();
  const file = state.testPath ? path.relative(process.cwd(), state.testPath) : '<test file>';
  const name = (state.currentTestName ?? '<test name>').split(' > ').pop()!;
  const env = `WORKBOOK_SEED=${seed}${fcPath ? ` WORKBOOK_FC_PATH=${fcPath}` : ''}`;
  return `seed ${seed}: replay exactly with ${env} npx vitest run ${file} -t "${asPattern(name)}"`;
}
