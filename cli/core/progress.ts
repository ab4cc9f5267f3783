/**
 * The learner's progress, in .workbook/progress.json. Only the CLI writes it (atomically); the site
 * reads it through the same parser (`parseProgress`, used by site/progress.ts). The format is fixed:
 *   { "version": 1, "chapters": { "04-sockets": { "passed": true, "passedAt": "<ISO>", "hintsSeen": 2 } } }
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Chapter } from '../../chapters/manifest.ts';
import { writeAtomic } from './fsutil.ts';
import { stateDir } from './workbook.ts';

/** The progress file. */
export const PROGRESS_FILE = path.join(stateDir, 'progress.json');

/** One chapter's progress. */
export interface ChapterProgress {
  passed: boolean;
  /** When it last passed; present only while `passed` is true. */
  passedAt?: string;
  hintsSeen: number;
}

/** What reading the file found. */
export type ReadOutcome = { ok: true; progress: Progress } | { ok: false; problem: 'missing' | 'corrupt'; detail: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The progress of every chapter, and the one place that saves it. */
export class Progress {
  constructor(private readonly chapters: Record<string, ChapterProgress> = {}) {}

  /** Read and validate the progress file. */
  static read(file = PROGRESS_FILE): ReadOutcome {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { ok: false, problem: code === 'ENOENT' ? 'missing' : 'corrupt', detail: code ?? String(err) };
    }
    try {
      return { ok: true, progress: new Progress(parseProgress(text)) };
    } catch (err) {
      return { ok: false, problem: 'corrupt', detail: (err as Error).message };
    }
  }

  /** A chapter's progress (a fresh record when there is none). */
  of(chapter: Chapter): ChapterProgress {
    return this.chapters[chapter.id] ?? { passed: false, hintsSeen: 0 };
  }

  /** Whether the chapter's last check passed. */
  passed(chapter: Chapter): boolean {
    return this.of(chapter).passed;
  }

  /** Record a check's outcome. A pass keeps the time of the first pass in a row. */
  setPassed(chapter: Chapter, passed: boolean, at = new Date()): void {
    const cur = this.of(chapter);
    this.chapters[chapter.id] = passed
      ? { passed: true, passedAt: cur.passed && cur.passedAt ? cur.passedAt : at.toISOString(), hintsSeen: cur.hintsSeen }
      : { passed: false, hintsSeen: cur.hintsSeen };
  }

  /** Count one more hint as seen (at most `max`); returns the new count. */
  seeHint(chapter: Chapter, max: number): number {
    const cur = this.of(chapter);
    const hintsSeen = Math.min(max, cur.hintsSeen + 1);
    this.chapters[chapter.id] = { ...cur, hintsSeen };
    return hintsSeen;
  }

  /** The file's JSON text. */
  toJSON(): { version: 1; chapters: Record<string, ChapterProgress> } {
    return { version: 1, chapters: this.chapters };
  }

  /** Save atomically (temp file, then rename). */
  save(file = PROGRESS_FILE): void {
    writeAtomic(file, `${JSON.stringify(this.toJSON(), null, 2)}\n`);
  }
}

/**
 * The one parser of progress.json (the CLI and the site both read the file through it). Throws an
 * Error whose message says what is wrong with the shape.
 */
export function parseProgress(text: string): Record<string, ChapterProgress> {
  const data: unknown = JSON.parse(text);
  if (!isRecord(data) || data.version !== 1 || !isRecord(data.chapters)) throw new Error('expected { "version": 1, "chapters": { ... } }');
  const out: Record<string, ChapterProgress> = {};
  for (const [id, e] of Object.entries(data.chapters)) {
    if (!isRecord(e) || typeof e.passed !== 'boolean') throw new Error(`chapter "${id}" has no boolean "passed"`);
    const hintsSeen = Number.isInteger(e.hintsSeen) && (e.hintsSeen as number) >= 0 ? (e.hintsSeen as number) : 0;
    const passedAt = e.passed && typeof e.passedAt === 'string' && !Number.isNaN(Date.parse(e.passedAt)) ? e.passedAt : undefined;
    out[id] = passedAt ? { passed: e.passed, passedAt, hintsSeen } : { passed: e.passed, hintsSeen };
  }
  return out;
}
