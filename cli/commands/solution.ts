/**
 * `solution <chapter> [--force]`: write the reference solution beside the learner's file, as
 * chapters/<id>/<name>.solution.ts, never over it. Only after a pass, unless --force.
 *
 * Why that name is safe: vitest only runs tests/**\/*.test.ts, and the suites import the learner's
 * file by its own name, so nothing runs it; its first line is `// @ts-nocheck`, so the typecheck
 * (tsconfig includes chapters/) never reports it, whatever its imports resolve to there. It stays a
 * .ts file so that editors highlight it next to the learner's code.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Chapter } from '../../chapters/manifest.ts';
import { chapterPaths } from '../../chapters/manifest.ts';
import { CliError } from '../core/errors.ts';
import { writeAtomic } from '../core/fsutil.ts';
import { style } from '../core/output.ts';
import type { Progress } from '../core/progress.ts';
import { openProgress } from '../core/session.ts';
import { abs, cmd, ref, resolveChapter } from '../core/workbook.ts';
import { ChapterRunner } from '../runner/runner.ts';
import type { Command } from './command.ts';

const MARKER = '// @ts-nocheck -- the workbook\'s reference solution, for comparison only.';

/** Where the solution of one learner file goes: exercise.ts -> exercise.solution.ts */
export function solutionTarget(chapter: Chapter, file: string): string {
  const ext = path.extname(file);
  return `chapters/${chapter.id}/${file.slice(0, file.length - ext.length)}.solution${ext}`;
}

/** Write the solution files; returns the lines to print. Throws unless passed or forced. */
export function writeSolution(chapter: Chapter, progress: Progress, force: boolean): string[] {
  const r = ref(chapter);
  if (!progress.passed(chapter) && !force) {
    throw new CliError(
      `Chapter ${r} has not passed yet; its solution opens after a pass, so that you solve it first (to look anyway: ${cmd(`solution ${r} --force`)}). Make it pass:`,
      cmd(`check ${r}`),
      1,
    );
  }
  const p = chapterPaths(chapter);
  const written: string[] = [];
  chapter.files.forEach((file, i) => {
    const from = p.solutions[i]!;
    if (!existsSync(abs(from))) throw new CliError(`The reference solution ${from} is missing from this copy of the workbook.`, 'git checkout -- solutions/', 1);
    const target = solutionTarget(chapter, file);
    if (existsSync(abs(target)) && !readFileSync(abs(target), 'utf8').startsWith(MARKER)) {
      throw new CliError(`${target} exists and was not written by the workbook; it is left alone. Move it away, then:`, cmd(`solution ${r}${force ? ' --force' : ''}`), 1);
    }
    const header = [
      MARKER,
      `// Copied from ${from} by \`${cmd(`solution ${r}`)}\`. The tests never run this file;`,
      `// they check your ${file}. Compare: diff -u ${p.stubs[i]} ${target}`,
      '',
    ].join('\n');
    writeAtomic(abs(target), header + readFileSync(abs(from), 'utf8'));
    written.push(target);
  });
  const diff = chapter.files.map((f, i) => `diff -u ${p.stubs[i]} ${solutionTarget(chapter, f)}`).join('; ');
  return [`Wrote the reference solution beside your code (your file is untouched): ${written.join(', ')}`, style.dim('Read it next to yours: the comments say why each step is done that way.'), `Compare: ${diff}`];
}

/** The `solution` command. */
export const solution: Command = {
  name: 'solution',
  usage: 'solution <chapter> [--force]',
  summary: 'Write the reference solution beside your file (exercise.solution.ts), once the chapter passes (or with --force).',
  options: { force: { type: 'boolean', short: 'f' } },
  async run({ positionals, values }) {
    if (!positionals[0]) throw new CliError('Name the chapter whose solution you want, e.g. 04.', cmd('solution <chapter>'));
    const chapter = resolveChapter(positionals[0]);
    let runner: ChapterRunner | undefined;
    try {
      const { progress, notice } = await openProgress(() => (runner ??= new ChapterRunner()));
      if (notice) console.log(style.dim(notice));
      console.log(writeSolution(chapter, progress, Boolean(values.force)).join('\n'));
      return 0;
    } finally {
      await runner?.close();
    }
  },
};
