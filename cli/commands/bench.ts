/**
 * `bench <chapter> [--quick] [--rounds N]`: time the learner's code against the reference solution
 * and the platform baseline the lesson compares against, side by side in one run. It runs the
 * chapter's tests first and refuses while they fail: a broken implementation is not worth timing.
 * Prints the table and writes the chart to .workbook/bench/<chapter id>.svg (and the figures to .json).
 * The benchmarks themselves are bench/chapters/<id>.ts, shared with `npm run bench`.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chartOf, renderChart } from '../../bench/chart.ts';
import { subjectList, subjectsOf } from '../../bench/framework.ts';
import { benchmarkedChapters, benchmarkFile, loadBenchmark } from '../../bench/registry.ts';
import { report } from '../../bench/report.ts';
import { runBenchmark } from '../../bench/run.ts';
import { CliError } from '../core/errors.ts';
import { writeAtomic } from '../core/fsutil.ts';
import { mark, style } from '../core/output.ts';
import { openProgress } from '../core/session.ts';
import { assertCheckable, cmd, heading, ref, rel, resolveChapter, stateDir } from '../core/workbook.ts';
import { ChapterRunner } from '../runner/runner.ts';
import { checkChapter } from './check.ts';
import type { Command } from './command.ts';

/** Where a chapter's chart and figures go. */
export function benchOutput(chapterId: string): { svg: string; json: string } {
  const dir = path.join(stateDir, 'bench');
  return { svg: path.join(dir, `${chapterId}.svg`), json: path.join(dir, `${chapterId}.json`) };
}

const withBenchmark = () => benchmarkedChapters.map((id) => id.slice(0, 2)).join(', ');

/** The `bench` command. */
export const bench: Command = {
  name: 'bench',
  usage: 'bench <chapter> [--quick] [--rounds N]',
  summary: 'Time your code against the reference solution and the platform, once the chapter passes; draws a chart in .workbook/bench/.',
  options: { quick: { type: 'boolean' }, rounds: { type: 'string' } },
  async run({ positionals, values }) {
    if (!positionals[0]) throw new CliError(`Name the chapter to benchmark. Chapters with a benchmark: ${withBenchmark()}.`, cmd('bench 01'));
    const chapter = resolveChapter(positionals[0]);
    const r = ref(chapter);
    if (!benchmarkFile(chapter.id)) throw new CliError(`Chapter ${r} has no benchmark. Chapters with one: ${withBenchmark()}.`, cmd(`bench ${benchmarkedChapters[0]!.slice(0, 2)}`));
    const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
    if (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 1 && rounds <= 50)) {
      throw new CliError(`--rounds takes a whole number from 1 to 50, not "${String(values.rounds)}".`, cmd(`bench ${r} --rounds 5`));
    }
    assertCheckable(chapter);

    // The tests first: timing code that does not work would only mislead.
    const runner = new ChapterRunner();
    let checked;
    try {
      const { progress, notice } = await openProgress(() => runner);
      if (notice) console.log(style.dim(notice));
      checked = await checkChapter(runner, chapter, progress);
    } finally {
      await runner.close();
    }
    if (!checked.passed) {
      throw new CliError(
        `Chapter ${r} does not pass yet (${checked.passing} of ${checked.total} tests pass), so it is not benchmarked: a broken implementation is not worth timing. See what fails, and make it pass first:`,
        cmd(`check ${r}`),
        1,
      );
    }

    const b = await loadBenchmark(chapter.id);
    const quick = Boolean(values.quick);
    const subjects = subjectsOf(b, ['learner', 'reference', 'baseline']);
    console.log(`${mark.pass} Chapter ${r}'s ${checked.total} tests pass. Benchmarking ${heading(chapter)}: ${subjectList(b, subjects)}, each trial in its own process.`);
    console.log(style.dim('Keep the machine otherwise idle while it runs: other work on it changes the figures.'));
    const result = await runBenchmark(b, {
      subjects,
      quick,
      rounds,
      onTrial: (t) => console.log(style.dim(`  round ${t.round + 1}/${t.rounds}  ${t.label.padEnd(24)} ${(t.ms / 1000).toFixed(1)} s${t.error ? '  failed' : ''}`)),
    });
    console.log(`\n${report(b, result)}\n`);
    const out = benchOutput(chapter.id);
    mkdirSync(path.dirname(out.svg), { recursive: true });
    writeAtomic(out.svg, `${renderChart(chartOf(b, result), { standalone: true })}\n`);
    writeAtomic(out.json, `${JSON.stringify(result, null, 1)}\n`);
    console.log(`Chart: ${rel(out.svg)}   (open it in a browser)\nFigures: ${rel(out.json)}`);
    const failed = result.subjects.filter((s) => s.error);
    if (failed.some((s) => s.kind === 'learner')) {
      console.log(`${mark.fail} Your code could not be timed (see above), though its tests pass. Run it again; if it fails again, the benchmark found something the tests did not.`);
      return 1;
    }
    return failed.length > 0 ? 1 : 0;
  },
};
