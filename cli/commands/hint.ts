/** `hint [chapter] [--all]`: the next hint not seen yet, or all of them. */
import type { Chapter } from '../../chapters/manifest.ts';
import { indent, style } from '../core/output.ts';
import type { Progress } from '../core/progress.ts';
import { currentChapter, openProgress } from '../core/session.ts';
import { chapterPaths } from '../../chapters/manifest.ts';
import { cmd, heading, ref, resolveChapter } from '../core/workbook.ts';
import { CliError } from '../core/errors.ts';
import { ChapterRunner } from '../runner/runner.ts';
import type { Command } from './command.ts';

/** Show the next hint (counting it as seen and saving progress), or every hint. */
export function showHint(chapter: Chapter, progress: Progress, all = false): string {
  const hints = chapter.hints;
  const r = ref(chapter);
  if (hints.length === 0) return `Chapter ${r} has no hints yet. The lesson explains the traps: ${chapterPaths(chapter).lesson}. Run the tests again: ${cmd(`check ${r}`)}`;
  const before = progress.of(chapter).hintsSeen;
  const seen = all ? hints.length : progress.seeHint(chapter, hints.length);
  if (all) for (let i = before; i < hints.length; i++) progress.seeHint(chapter, hints.length);
  progress.save();
  const shown = all || before >= hints.length ? hints.map((h, i) => [i, h] as const) : [[seen - 1, hints[seen - 1]!] as const];
  const body = shown.map(([i, h]) => `${style.bold(`Hint ${i + 1} of ${hints.length}`)}\n${indent(h.trim())}`).join('\n\n');
  const tail =
    seen < hints.length
      ? style.dim(`Still stuck? The next hint: ${cmd(`hint ${r}`)}`)
      : style.dim(`${before >= hints.length && !all ? 'You have seen every hint. ' : 'That was the last hint. '}Then run the tests: ${cmd(`check ${r}`)}`);
  return `${style.bold(heading(chapter))}\n\n${body}\n\n${tail}`;
}

/** The `hint` command. */
export const hint: Command = {
  name: 'hint',
  usage: 'hint [chapter] [--all]',
  summary: 'Show the next hint you have not seen for a chapter (default: the current one); --all shows every hint.',
  options: { all: { type: 'boolean', short: 'a' } },
  async run({ positionals, values }) {
    const named = positionals[0] === undefined ? undefined : resolveChapter(positionals[0]);
    let runner: ChapterRunner | undefined;
    try {
      const { progress, notice } = await openProgress(() => (runner ??= new ChapterRunner()));
      if (notice) console.log(style.dim(notice));
      const chapter = named ?? currentChapter(progress);
      if (!chapter) throw new CliError('Every chapter written so far passes; name the chapter you want a hint for.', cmd('hint <chapter>'));
      console.log(showHint(chapter, progress, Boolean(values.all)));
      return 0;
    } finally {
      await runner?.close();
    }
  },
};
