/**
 * The vitest config of a mutation run (tests/mutation/main.ts): the reference solutions, and only
 * the suites named in WORKBOOK_MUTATION_TESTS. Built from scratch rather than merged with the
 * root vitest.config.ts, because vitest's mergeConfig concatenates `include` arrays and a merged
 * config would silently run every suite.
 */
import { defineConfig } from 'vitest/config';
import { projectConfig } from '../../engine/projects.ts';

const files = (process.env.WORKBOOK_MUTATION_TESTS ?? '').split(',').filter(Boolean);
if (files.length === 0) throw new Error('WORKBOOK_MUTATION_TESTS is empty: run mutation testing with `npm run mutation -- <chapter>`');

// The same project the self-check runs for the solutions (engine/projects.ts). A mutant that loops forever
// is Stryker's to time out (its hit limit and timeout count it as detected); the watchdog would kill
// Stryker's test runner instead, so its limit is 10 minutes here.
const { resolve, test } = projectConfig({ name: 'mutation', impl: 'solutions', files, blockedLoopLimitMs: 10 * 60_000 });

export default defineConfig({ resolve, test });
