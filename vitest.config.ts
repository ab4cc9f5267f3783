import { defineConfig } from 'vitest/config';
import { projectConfig } from './engine/projects.ts';

// `npx vitest` runs every suite against one implementation, picked by WORKBOOK_IMPL (engine/impl.ts), with
// the same options and aliases as the workbook's own runs (engine/projects.ts).
const { resolve, test } = projectConfig({ name: 'workbook', impl: process.env.WORKBOOK_IMPL ?? 'chapters', files: ['tests/**/*.test.ts'] }, process.cwd());

export default defineConfig({ resolve, test });
