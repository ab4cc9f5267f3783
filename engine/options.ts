/**
 * Test options shared by vitest.config.ts (one implementation) and the self-check
 * (many implementations side by side as vitest projects).
 */
import path from 'node:path';
import type { ResolvedImpl } from './impl.ts';
import { repoRoot } from './impl.ts';

/** Async backstop: a test whose promise never settles fails after this long, by name. */
export const TEST_TIMEOUT_MS = 8_000;
/** Sync backstop: the watchdog stops a test process whose event loop is blocked this long. */
export const BLOCKED_LOOP_LIMIT_MS = 5_000;

/** The `test` options every project uses. */
export function baseTestOptions(impl: ResolvedImpl) {
  return {
    setupFiles: [path.join(repoRoot, 'tests/helpers/setup.ts')],
    testTimeout: TEST_TIMEOUT_MS,
    hookTimeout: TEST_TIMEOUT_MS,
    teardownTimeout: 3_000,
    pool: 'forks' as const,
    env: {
      WORKBOOK_IMPL_RESOLVED: JSON.stringify(impl),
      WORKBOOK_BLOCKED_LOOP_LIMIT_MS: String(BLOCKED_LOOP_LIMIT_MS),
    },
  };
}
