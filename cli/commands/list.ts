/** `list`: the progress table. */
import { chapters } from '../../chapters/manifest.ts';
import { mark, pad, progressBar, style } from '../core/output.ts';
import type { Progress } from '../core/progress.ts';
import { availableChapters, currentChapter, openProgress } from '../core/session.ts';
import { cmd, isAvailable, ref } from '../core/workbook.ts';
import { ChapterRunner } from '../runner/runner.ts';
import type { Command } from './command.ts';

/** The progress bar and one row per chapter. */
export function progressTable(progress: Progress): string {
  const current = currentChapter(progress);
  const done = chapters.filter((c) => progress.passed(c)).length;
  const rows = chapters.map((c) => {
    const p = progress.of(c);
    const state = p.passed
      ? `${mark.pass} ${pad('passed', 16)}`
      : c.id === current?.id
        ? `${mark.current} ${pad(style.cyan('current'), 16)}`
        : isAvailable(c)
          ? `  ${pad('to do', 16)}`
          : `  ${pad(style.dim('being written'), 16)}`;
    const hints = c.hints.length ? `${p.hintsSeen}/${c.hints.length}` : '-';
    return `${state}${ref(c)}  ${pad(c.title, 34)} ${pad(hints, 6)} ${c.points}`;
  });
  const head = style.dim(`${pad('', 18)}#   ${pad('chapter', 34)} ${pad('hints', 6)} points`);
  return [progressBar(done, chapters.length), '', head, ...rows].join('\n');
}

/** The line under the table: what to run next. */
export function continueLine(progress: Progress): string {
  const current = currentChapter(progress);
  if (current) return `Continue with chapter ${ref(current)}: npm start   (or: ${cmd(`check ${ref(current)}`)})`;
  if (availableChapters().length === 0) return `No chapter is written yet. Check your setup meanwhile: ${cmd('doctor')}`;
  return `${mark.pass} Every chapter written so far passes. Compare with the reference solutions: ${cmd('solution <chapter>')}`;
}

/** The `list` command. */
export const list: Command = {
  name: 'list',
  usage: 'list',
  summary: 'Show your progress: every chapter, passed or not, and hints seen.',
  async run() {
    let runner: ChapterRunner | undefined;
    try {
      const { progress, notice } = await openProgress(() => (runner ??= new ChapterRunner()));
      if (notice) console.log(style.dim(notice));
      console.log(`${style.bold('From Shared Memory to Sockets')}\n${progressTable(progress)}\n\n${continueLine(progress)}`);
      return 0;
    } finally {
      await runner?.close();
    }
  },
};
