/**
 * The learner's progress, as the CLI writes it to .workbook/progress.json:
 *   { "version": 1, "chapters": { "04-sockets": { "passed": true, "passedAt": "<ISO>", "hintsSeen": 2 } } }
 * A missing file means no progress yet; a corrupt one is reported and ignored, never fatal. The parser
 * is the CLI's own (cli/core/progress.ts), so the two never disagree about what the file means.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ChapterProgress } from '../cli/core/progress.ts';
import { PROGRESS_FILE as CLI_PROGRESS_FILE, parseProgress } from '../cli/core/progress.ts';
import { root } from '../cli/core/workbook.ts';

/** What the site shows of one chapter's progress (the CLI's record). */
export type { ChapterProgress };

/** Progress by chapter id, plus a notice when the file had to be ignored. */
export interface Progress {
  chapters: Map<string, ChapterProgress>;
  notice?: string;
}

/** Where the CLI keeps progress, relative to the repository root. */
export const PROGRESS_FILE = path.relative(root, CLI_PROGRESS_FILE).split(path.sep).join('/');

/** Read the progress file; a missing file is empty progress, a corrupt one is ignored with a notice. */
export function readProgress(file: string | null | undefined): Progress {
  if (!file) return { chapters: new Map() };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { chapters: new Map() };
    return { chapters: new Map(), notice: `could not read ${file} (${(err as Error).message}); building without progress.` };
  }
  try {
    return { chapters: new Map(Object.entries(parseProgress(text))) };
  } catch (err) {
    return {
      chapters: new Map(),
      notice: `ignoring ${file}: it is not valid progress (${(err as Error).message}). Building without progress; run \`npm start\` to rewrite it.`,
    };
  }
}
