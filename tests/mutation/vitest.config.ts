/**
 * The vitest config of a mutation run (tests/mutation/main.ts): the reference solutions, and only
 * the suites named in WORKBOOK_MUTATION_TESTS. Built from scratch rather than merged with the
 * root vitest.config.ts, because vitest's mergeConfig concatenates `include` arrays and a merged
 * config would silently run every suite.
 */
import { defineConfig } from 'vitest/config';
import { implAliases, repoRoot, resolveImpl } from '../../engine/impl.ts';
import { baseTestOptions } from '../../engine/options.ts';

const files = (process.env.WORKBOOK_MUTATION_TESTS ?? '').split(',').filter(Boolean);
if (files.length === 0) throw new Error('WORKBOOK_MUTATION_TESTS is empty: run mutation testing with `npm run mutation -- <chapter>`');

const impl = resolveImpl('solutions', repoRoot);
const base = baseTestOptions(impl);

export default defineConfig({
  resolve: { alias: implAliases(impl) },
  test: {
    ...base,
    root: repoRoot,
    include: files,
    // A mutant that loops forever is Stryker's to time out (its hit limit and timeout count it as
    // detected); the watchdog would kill Stryker's test runner instead.
    env: { ...base.env, WORKBOOK_BLOCKED_LOOP_LIMIT_MS: String(10 * 60_000) },
  },
});
