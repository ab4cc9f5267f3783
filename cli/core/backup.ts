/** Backups of the learner's files, taken before the CLI replaces them: .workbook/backups/<id>/<timestamp>/<file>. */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Chapter } from '../../chapters/manifest.ts';
import { chapterPaths } from '../../chapters/manifest.ts';
import { stamp } from './fsutil.ts';
import { abs, stateDir } from './workbook.ts';

/** Copy the chapter's existing learner files into a new backup folder; returns it, or undefined if there was nothing to copy. */
export function backupChapter(chapter: Chapter, now = new Date()): string | undefined {
  const present = chapter.files.filter((_, i) => existsSync(abs(chapterPaths(chapter).stubs[i]!)));
  if (present.length === 0) return undefined;
  const base = path.join(stateDir, 'backups', chapter.id, stamp(now));
  // Two resets in the same millisecond must not share a folder.
  let dir = base;
  for (let n = 2; existsSync(dir); n++) dir = `${base}-${n}`;
  for (const file of present) {
    const to = path.join(dir, file);
    mkdirSync(path.dirname(to), { recursive: true });
    copyFileSync(abs(`chapters/${chapter.id}/${file}`), to);
  }
  return dir;
}
