import { defineConfig } from 'vitest/config';
import { implAliases, resolveImpl } from './engine/impl.ts';
import { baseTestOptions } from './engine/options.ts';

// One switch picks the implementation under test: WORKBOOK_IMPL (see tests/impl-switch.ts).
const impl = resolveImpl(process.env.WORKBOOK_IMPL, process.cwd());

export default defineConfig({
  resolve: { alias: implAliases(impl) },
  test: {
    ...baseTestOptions(impl),
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/mistakes/**', 'node_modules/**'],
  },
});
