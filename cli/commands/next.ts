/** `next`: the chapter to work on now, and how to start it. */
import { chapterPaths } from '../../chapters/manifest.ts';
import { style } from '../core/output.ts';
import { currentChapter, openProgress } from '../core/session.ts';
import { cmd, heading, ref } from '../core/workbook.ts';
import { ChapterRunner } from '../runner/runner.ts';
import { continueLine } from './list.ts';
import type { Command } from './command.ts';

/** The `next` command. */
export const next: Command = {
  name: 'next',
  usage: 'next',
  summary: 'Show the chapter to work on now (the first one not passed) and how to start it.',
  async run() {
    let runner: ChapterRunner | undefined;
    try {
      const { progress, notice } = await openProgress(() => (runner ??= new ChapterRunner()));
      if (notice) console.log(style.dim(notice));
      const chapter = currentChapter(progress);
      if (!chapter) {
        console.log(continueLine(progress));
        return 0;
      }
      const p = chapterPaths(chapter);
      console.log(
        [
          `${style.bold(`Next: ${heading(chapter)}`)}`,
          `  ${chapter.summary}`,
          '',
          `  Read   ${p.lesson}`,
          `  Edit   ${p.stubs.join(', ')}`,
          `  Check  ${cmd(`check ${ref(chapter)}`)}   (or npm start, which re-runs the tests on every save)`,
        ].join('\n'),
      );
      return 0;
    } finally {
      await runner?.close();
    }
  },
};
