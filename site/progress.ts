/**
 * The learner's progress, as the CLI writes it to .workbook/progress.json:
 *   { "version": 1, "chapters": { "04-sockets": { "passed": true, "passedAt": "<ISO>", "hintsSeen": 2 } } }
 * A missing file means no progress yet; a corrupt one is reported and ignored, never fatal.
 */
import { readFileSync } from 'node:fs';

/** What the site shows of one chapter's progress. */
export interface ChapterProgress {
  passed: boolean;
  passedAt?: string;
  hintsSeen: number;
}

/** Progress by chapter id, plus a notice when the file had to be ignored. */
export interface Progress {
  chapters: Map<string, ChapterProgress>;
  notice?: string;
}

/** Where the CLI keeps progress, relative to the repository root. */
export const PROGRESS_FILE = '.workbook/progress.json';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse progress JSON text; throws a message-only Error when the shape is wrong. */
export function parseProgress(text: string): Map<string, ChapterProgress> {
  const data: unknown = JSON.parse(text);
  if (!isRecord(data) || data.version !== 1 || !isRecord(data.chapters)) {
    throw new Error('expected { "version": 1, "chapters": { ... } }');
  }
  const out = new Map<string, ChapterProgress>();
  for (const [id, entry] of Object.entries(data.chapters)) {
    if (!isRecord(entry)) throw new Error(`chapter "${id}" is not an object`);
    const passedAt = typeof entry.passedAt === 'string' && !Number.isNaN(Date.parse(entry.passedAt)) ? entry.passedAt : undefined;
    const hintsSeen = Number.isInteger(entry.hintsSeen) && (entry.hintsSeen as number) > 0 ? (entry.hintsSeen as number) : 0;
    out.set(id, { passed: entry.passed === true, passedAt, hintsSeen });
  }
  return out;
}

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
    return { chapters: parseProgress(text) };
  } catch (err) {
    return {
      chapters: new Map(),
      notice: `ignoring ${file}: it is not valid progress (${(err as Error).message}). Building without progress; run \`npm start\` to rewrite it.`,
    };
  }
}
