/** `check [chapter]`: run one chapter's tests against the learner's code; exit 0 only on a pass. */
import type { Chapter } from '../../chapters/manifest.ts';
import { chapterPaths } from '../../chapters/manifest.ts';
import { mark, pad, style } from '../core/output.ts';
import type { Progress } from '../core/progress.ts';
import { chapterAfter, currentChapter, openProgress } from '../core/session.ts';
import { assertCheckable, cmd, heading, ref, resolveChapter } from '../core/workbook.ts';
import type { ChapterReport } from '../runner/format.ts';
import { reportChapter } from '../runner/format.ts';
import { ChapterRunner } from '../runner/runner.ts';
import type { Command } from './command.ts';

/** Run a chapter, record the outcome in progress, and return the report. */
export async function checkChapter(runner: ChapterRunner, chapter: Chapter, progress: Progress, changed: string[] = []): Promise<ChapterReport> {
  const result = await runner.run([chapter], changed);
  const report = reportChapter(chapter, result);
  progress.setPassed(chapter, report.passed);
  progress.save();
  return report;
}

/** The title lines above a chapter's results. */
export function chapterHeader(chapter: Chapter): string {
  const p = chapterPaths(chapter);
  return `${pad(style.bold(heading(chapter)), 48)} ${style.dim(p.test)}\n${style.dim(`Your code: ${p.stubs.join(', ')}`)}`;
}

/** The lines under a chapter's results: the verdict, and what to do next (ending with a command). */
export function verdict(chapter: Chapter, report: ChapterReport, progress: Progress, interactive = false): string {
  const r = ref(chapter);
  if (report.passed) {
    const next = chapterAfter(chapter, progress);
    return [
      `${mark.pass} ${style.green(style.bold(`All ${report.total} tests pass. Chapter ${r} is done, well done!`))}`,
      `Compare your code with the reference solution: ${interactive ? 'press s, or run ' : ''}${cmd(`solution ${r}`)}`,
      next ? `Next: ${heading(next)}: ${interactive ? 'press n, or run ' : ''}${cmd(`check ${ref(next)}`)}` : `That was the last chapter written so far. See them all: ${cmd('list')}`,
    ].join('\n');
  }
  const again = interactive ? 'save your file and the tests run again' : `run again: ${cmd(`check ${r}`)}`;
  const lead =
    report.outcome === 'compile-error'
      ? `${mark.fail} Your code does not compile yet. Fix it, then ${again}`
      : report.outcome === 'hang'
        ? `${mark.fail} A test blocked the event loop, so the run was stopped. Fix the loop or wait above, then ${again}`
        : report.outcome === 'load-error'
          ? `${mark.fail} The tests cannot load your code yet. Fix the error above, then ${again}`
          : `${mark.fail} ${report.passing} of ${report.total} tests pass. Fix the first failure, then ${again}`;
  return `${lead}\n${style.dim(`Stuck? ${interactive ? 'Press h for a hint, or run ' : 'Get a hint: '}${cmd(`hint ${r}`)}`)}`;
}

/** The `check` command. */
export const check: Command = {
  name: 'check',
  usage: 'check [chapter]',
  summary: "Run one chapter's tests against your code (default: the current chapter). Exits 0 only on a pass.",
  async run({ positionals }) {
    const named = positionals[0] === undefined ? undefined : resolveChapter(positionals[0]);
    if (named) assertCheckable(named);
    // Start vitest now: it loads while progress is read.
    const runner = new ChapterRunner();
    try {
      const { progress, notice } = await openProgress(() => runner);
      if (notice) console.log(style.dim(notice));
      const chapter = named ?? currentChapter(progress);
      if (!chapter) {
        console.log(`${mark.pass} Every chapter written so far passes. Nothing left to check! See them all: ${cmd('list')}`);
        return 0;
      }
      assertCheckable(chapter);
      const report = await checkChapter(runner, chapter, progress);
      console.log(`${chapterHeader(chapter)}\n\n${report.text}\n\n${verdict(chapter, report, progress)}`);
      return report.passed ? 0 : 1;
    } finally {
      await runner.close();
    }
  },
};
