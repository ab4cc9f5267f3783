/** Where things are, and how chapters are named on the command line. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Chapter } from '../../chapters/manifest.ts';
import { chapterNumber, chapterPaths, chapters, findChapter } from '../../chapters/manifest.ts';
import { repoRoot } from '../../engine/impl.ts';
import { CliError } from './errors.ts';

/** The workbook's root directory. */
export const root = repoRoot;
/** The CLI's own state: progress, backups, stub snapshots. */
export const stateDir = path.join(root, '.workbook');

/** The command line that runs a workbook command, as learners type it. */
export function cmd(args: string): string {
  return `npm run workbook -- ${args}`;
}

/** How a chapter is named in commands: its two-digit number. */
export function ref(chapter: Chapter): string {
  return chapterNumber(chapter);
}

/** "04 · The socket's lifecycle" */
export function heading(chapter: Chapter): string {
  return `${ref(chapter)} · ${chapter.title}`;
}

/** Absolute path of a file relative to the root. */
export function abs(rel: string): string {
  return path.join(root, rel);
}

/** A path for messages: relative to the root when inside it. */
export function rel(file: string): string {
  const r = path.relative(root, file);
  return r.startsWith('..') || path.isAbsolute(r) ? file : r;
}

/** The chapter a learner named ("4", "04", "sockets", "04-sockets"), or a CliError listing the valid names. */
export function resolveChapter(name: string): Chapter {
  const found = findChapter(name);
  if (found) return found;
  const valid = chapters.map((c) => `${ref(c)} ${c.slug}`).join(', ');
  throw new CliError(`There is no chapter "${name}". The chapters are: ${valid}.`, cmd('list'));
}

/** Whether a chapter can be worked on: its test suite exists (chapters are written one by one). */
export function isAvailable(chapter: Chapter): boolean {
  return existsSync(abs(chapterPaths(chapter).test));
}

/** The learner's files of a chapter that are missing; throws nothing. */
export function missingFiles(chapter: Chapter): string[] {
  return chapterPaths(chapter).stubs.filter((f) => !existsSync(abs(f)));
}

/** Fail with a clear message when a chapter cannot be checked yet. */
export function assertCheckable(chapter: Chapter): void {
  const p = chapterPaths(chapter);
  if (!existsSync(abs(p.test))) {
    throw new CliError(`Chapter ${heading(chapter)} has no test suite yet (${p.test}); it is still being written.`, cmd('list'), 1);
  }
  const missing = missingFiles(chapter);
  if (missing.length) {
    throw new CliError(`Your exercise file ${missing.join(', ')} is missing. Restore the stub with`, cmd(`reset ${ref(chapter)}`), 1);
  }
}

/** A path the user typed, resolved against the directory they typed it in (npm run changes cwd). */
export function userPath(p: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), p);
}
