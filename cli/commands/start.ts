/**
 * `start` (npm start): the interactive workbook on a terminal. Without a terminal, or with CI=true,
 * it checks the current chapter once, prints the result and exits 0 (pass) or 1 (fail).
 */
import { style } from '../core/output.ts';
import { currentChapter, openProgress } from '../core/session.ts';
import { cmd } from '../core/workbook.ts';
import { Session } from '../interactive/session.ts';
import { ChapterRunner } from '../runner/runner.ts';
import { chapterHeader, checkChapter, verdict } from './check.ts';
import type { Command } from './command.ts';
import { continueLine, progressTable } from './list.ts';

/** Whether to run interactively: a terminal on both ends, and not in CI. */
export function isInteractive(): boolean {
  const ci = process.env.CI;
  return Boolean(process.stdin.isTTY && process.stdout.isTTY) && !(ci && ci !== 'false' && ci !== '0');
}

/** The `start` command (npm start). */
export const start: Command = {
  name: 'start',
  usage: 'start',
  summary: 'The workbook (npm start): your progress, the current chapter, its tests re-run on every save.',
  async run() {
    const runner = new ChapterRunner();
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      process.stdin.setRawMode?.(false);
      void runner.close(1_000).then(() => process.exit(130));
    };
    process.once('SIGTERM', stop);
    process.once('SIGHUP', stop);
    try {
      const { progress, notice } = await openProgress(() => runner);
      const chapter = currentChapter(progress);
      if (!chapter) {
        if (notice) console.log(style.dim(notice));
        console.log(`${progressTable(progress)}\n\n${continueLine(progress)}`);
        return 0;
      }
      if (!isInteractive()) {
        if (notice) console.log(style.dim(notice));
        const report = await checkChapter(runner, chapter, progress);
        console.log(`${chapterHeader(chapter)}\n\n${report.text}\n\n${verdict(chapter, report, progress)}`);
        console.log(style.dim(`(No terminal here, so the tests ran once. On a terminal, npm start re-runs them on every save; or run: ${cmd('check <chapter>')})`));
        return report.passed ? 0 : 1;
      }
      return await new Session(runner, progress, chapter, { input: process.stdin, output: process.stdout }, notice).run();
    } finally {
      await runner.close();
    }
  },
};
