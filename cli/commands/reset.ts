/** `reset <chapter>`: back up the learner's files, then restore the stubs. */
import type { Chapter } from '../../chapters/manifest.ts';
import { chapterPaths } from '../../chapters/manifest.ts';
import { backupChapter } from '../core/backup.ts';
import { CliError } from '../core/errors.ts';
import { writeAtomic } from '../core/fsutil.ts';
import { style } from '../core/output.ts';
import { PROGRESS_FILE, Progress } from '../core/progress.ts';
import { ensureSnapshots, stubContent } from '../core/stubs.ts';
import { abs, cmd, ref, rel, resolveChapter } from '../core/workbook.ts';
import type { Command } from './command.ts';

/** Back up and restore; returns the lines to print. The chapter is marked not passed in `progress` (default: the file, if readable). */
export function resetChapter(chapter: Chapter, progress?: Progress): string[] {
  ensureSnapshots([chapter]);
  // Read every stub first, so a missing one fails before anything is touched.
  const stubs = chapter.files.map((f) => stubContent(chapter, f));
  const backup = backupChapter(chapter);
  const files = chapterPaths(chapter).stubs;
  files.forEach((f, i) => writeAtomic(abs(f), stubs[i]!));
  const read = progress ? { ok: true as const, progress } : Progress.read(PROGRESS_FILE);
  if (read.ok) {
    read.progress.setPassed(chapter, false);
    read.progress.save();
  }
  const lines = [`Restored the stub: ${files.join(', ')}`];
  if (backup) {
    lines.unshift(`Backed up your files to ${rel(backup)}/`);
    const undo = chapter.files.map((f, i) => `cp ${rel(backup)}/${f} ${files[i]}`).join(' && ');
    lines.push(style.dim(`To undo: ${undo}`));
  } else {
    lines.push(style.dim('There was nothing to back up: your file was missing.'));
  }
  lines.push(`Start over: ${cmd(`check ${ref(chapter)}`)}`);
  return lines;
}

/** The `reset` command. */
export const reset: Command = {
  name: 'reset',
  usage: 'reset <chapter>',
  summary: 'Restore the stub of a chapter. Your file is backed up first, under .workbook/backups/.',
  async run({ positionals }) {
    if (!positionals[0]) throw new CliError('Name the chapter to reset, e.g. 04 or sockets.', cmd('reset <chapter>'));
    console.log(resetChapter(resolveChapter(positionals[0])).join('\n'));
    return 0;
  },
};
