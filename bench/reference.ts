/**
 * `npm run bench -- <chapter>` (for maintainers): a chapter's benchmark on the reference solution
 * and the platform baseline only, the same modules `npm run workbook -- bench` runs for learners.
 *
 *   npx tsx bench/reference.ts 01 [--quick] [--rounds N] [--record]
 *
 * --record keeps the figures in bench/results/<id>.json, from which the site draws the lesson's
 * "Measure it" chart at build time. Record on an idle machine, and commit the file with the lesson
 * text that quotes it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { findChapter } from '../chapters/manifest.ts';
import { chartOf, renderChart } from './chart.ts';
import { subjectsOf } from './framework.ts';
import { benchmarkedChapters, loadBenchmark, resultsFile } from './registry.ts';
import { report } from './report.ts';
import { runBenchmark } from './run.ts';

const { values, positionals } = parseArgs({ options: { quick: { type: 'boolean' }, rounds: { type: 'string' }, record: { type: 'boolean' } }, allowPositionals: true });
const chapter = positionals[0] ? findChapter(positionals[0]) : undefined;
if (!chapter || !benchmarkedChapters.includes(chapter.id)) {
  console.error(`Name a chapter with a benchmark: ${benchmarkedChapters.join(', ')}\n  -> npx tsx bench/reference.ts 01`);
  process.exit(2);
}
const b = await loadBenchmark(chapter.id);
const result = await runBenchmark(b, {
  subjects: subjectsOf(b, ['reference', 'baseline']),
  quick: values.quick,
  rounds: values.rounds === undefined ? undefined : Number(values.rounds),
  onTrial: (t) => console.log(`  round ${t.round + 1}/${t.rounds}  ${t.label.padEnd(24)} ${(t.ms / 1000).toFixed(1)} s${t.error ? `  failed: ${t.error}` : ''}`),
});
console.log(`\n${report(b, result)}`);
const svg = path.resolve('.workbook/bench', `${chapter.id}.reference.svg`);
mkdirSync(path.dirname(svg), { recursive: true });
writeFileSync(svg, `${renderChart(chartOf(b, result), { standalone: true })}\n`);
console.log(`\nChart: ${path.relative(process.cwd(), svg)}`);
if (values.record) {
  if (result.quick) {
    console.error('Not recorded: a --quick run is too rough for the lesson. Run it without --quick.');
    process.exit(1);
  }
  writeFileSync(resultsFile(chapter.id), `${JSON.stringify(result, null, 1)}\n`);
  console.log(`Recorded: ${path.relative(process.cwd(), resultsFile(chapter.id))} (the site draws the lesson's chart from it)`);
}
process.exit(result.subjects.some((s) => s.error) ? 1 : 0);
