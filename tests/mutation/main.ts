/**
 * `npm run mutation -- [<chapter>...] [--concurrency N]`: how much of a chapter's solution its suite
 * really pins down. Stryker (https://stryker-mutator.io) makes small changes to the solution files
 * (mutants) and runs the chapter's own suite against each; a mutant the suite still passes is a wrong
 * learner solution the suite would accept. No chapter named: every chapter with a suite.
 *
 * Per chapter it prints the score, the counts, and every surviving mutant (file:line, the original
 * code and the mutated code), and writes the HTML report to reports/mutation/<id>.html.
 *
 * The score that counts leaves out Stryker's StringLiteral mutants: most are error-message texts, and
 * the tests check an error's class and code, never its message. String-literal survivors are still
 * listed, apart, so that a protocol string no test pins is seen. A mutant that no test could ever
 * kill (identical behaviour) is marked in the solution with
 *   // Stryker disable next-line <Mutator>: <why it is equivalent>
 * and counted as equivalent; at most 5% of a chapter's mutants may be.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Chapter } from '../../chapters/manifest.ts';
import { chapterPaths, chapters as allChapters, findChapter } from '../../chapters/manifest.ts';
import { repoRoot } from '../../engine/impl.ts';

/** The bar: the score without string literals, in percent. */
const BAR = 90;
/** At most this share of a chapter's mutants may be marked equivalent. */
const MAX_EQUIVALENT = 0.05;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { concurrency: { type: 'string', default: '2' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log('Usage: npm run mutation -- [<chapter>...] [--concurrency N]');
  process.exit(0);
}
const selected: Chapter[] = positionals.length
  ? positionals.map((name) => {
      const ch = findChapter(name);
      if (!ch) {
        console.error(`No chapter "${name}". Chapters: ${allChapters.map((c) => `${c.number} ${c.slug}`).join(', ')}\n  -> npm run mutation -- ${allChapters[0]!.number}`);
        process.exit(2);
      }
      return ch;
    })
  : allChapters;

/** A mutant as Stryker reports it (the fields used here). */
interface Mutant {
  id: string;
  mutatorName: string;
  replacement: string;
  status: string;
  statusReason?: string;
  fileName: string;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}

/** One chapter's figures. */
export interface ChapterScore {
  id: string;
  score: number;
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  equivalent: number;
  invalid: number;
  all: number;
  stringLiteralSurvivors: number;
  seconds: number;
}

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

/** The source text a mutant replaces (Stryker's report positions: lines and columns from 1). */
function original(m: Mutant, sources: Map<string, string[]>): string {
  let lines = sources.get(m.fileName);
  if (!lines) sources.set(m.fileName, (lines = readFileSync(m.fileName, 'utf8').split('\n')));
  const { start, end } = m.location;
  const text = lines.slice(start.line - 1, end.line).join('\n');
  const from = start.column - 1;
  const to = text.length - (lines[end.line - 1]!.length - (end.column - 1));
  return text.slice(from, to);
}

const oneLine = (s: string, max = 100) => {
  const flat = s.replace(/\s*\n\s*/g, ' ⏎ ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

async function mutate(ch: Chapter): Promise<ChapterScore> {
  const { Stryker } = await import('@stryker-mutator/core');
  const paths = chapterPaths(ch);
  const report = `reports/mutation/${ch.id}`;
  process.env.WORKBOOK_MUTATION_TESTS = paths.test;
  const t0 = performance.now();
  const options = {
    mutate: paths.solutions,
    testRunner: 'vitest',
    plugins: ['@stryker-mutator/vitest-runner'],
    vitest: { configFile: 'tests/mutation/vitest.config.ts', related: false },
    coverageAnalysis: 'perTest',
    concurrency: Number(values.concurrency),
    reporters: ['html', 'json', process.stdout.isTTY ? 'progress' : 'progress-append-only'],
    htmlReporter: { fileName: `${report}.html` },
    jsonReporter: { fileName: `${report}.json` },
    tempDirName: '.stryker-tmp',
    cleanTempDir: 'always',
    ignorePatterns: ['.scratch', 'reports', 'artifacts', 'site/dist', '.workbook', 'tests/.generated', 'tests/mistakes'],
    logLevel: 'warn',
    fileLogLevel: 'off',
  };
  // Stryker types its log levels as an enum; these are its string values.
  const stryker = new Stryker(options as ConstructorParameters<typeof Stryker>[0]);
  const results = (await stryker.runMutationTest()) as unknown as Mutant[];
  const seconds = (performance.now() - t0) / 1000;

  const counted = results.filter((m) => m.mutatorName !== 'StringLiteral');
  const n = (status: string, list = counted) => list.filter((m) => m.status === status).length;
  const detected = counted.filter((m) => DETECTED.has(m.status)).length;
  const undetected = counted.filter((m) => UNDETECTED.has(m.status));
  const score: ChapterScore = {
    id: ch.id,
    score: detected + undetected.length === 0 ? 100 : (100 * detected) / (detected + undetected.length),
    killed: n('Killed'),
    timeout: n('Timeout'),
    survived: n('Survived'),
    noCoverage: n('NoCoverage'),
    equivalent: n('Ignored', results),
    invalid: n('CompileError') + n('RuntimeError'),
    all: results.length,
    stringLiteralSurvivors: results.filter((m) => m.mutatorName === 'StringLiteral' && UNDETECTED.has(m.status)).length,
    seconds,
  };

  const sources = new Map<string, string[]>();
  const where = (m: Mutant) => `${path.relative(repoRoot, m.fileName)}:${m.location.start.line}:${m.location.start.column}`;
  const show = (m: Mutant) =>
    `  ${m.status === 'NoCoverage' ? 'not covered' : 'survived   '}  ${where(m)}  ${m.mutatorName}\n      - ${oneLine(original(m, sources))}\n      + ${oneLine(m.replacement)}`;
  const byPlace = (a: Mutant, b: Mutant) => a.fileName.localeCompare(b.fileName) || a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column;
  console.log(`\n== ${ch.id}: ${score.score.toFixed(1)}% without string literals (bar ${BAR}%)`);
  console.log(
    `   ${score.killed} killed, ${score.timeout} timed out, ${score.survived} survived, ${score.noCoverage} not covered, ${score.equivalent} marked equivalent, ${score.invalid} invalid; ${score.all} mutants in all; ${seconds.toFixed(0)} s`,
  );
  if (undetected.length) console.log(`\nSurviving mutants (each is a wrong solution the suite accepts):\n${undetected.sort(byPlace).map(show).join('\n')}`);
  const strings = results.filter((m) => m.mutatorName === 'StringLiteral' && UNDETECTED.has(m.status)).sort(byPlace);
  if (strings.length) console.log(`\nSurviving string-literal mutants (not in the score; check that none is a protocol string):\n${strings.map(show).join('\n')}`);
  const ignored = results.filter((m) => m.status === 'Ignored');
  if (ignored.length) console.log(`\nMarked equivalent:\n${ignored.sort(byPlace).map((m) => `  ${where(m)}  ${m.mutatorName}: ${m.statusReason ?? ''}`).join('\n')}`);
  console.log(`\nReport: ${report}.html`);
  return score;
}

const scores: ChapterScore[] = [];
for (const ch of selected) scores.push(await mutate(ch));

// The summary keeps each chapter's latest result, so chapters measured in separate runs add up to one table.
mkdirSync(path.join(repoRoot, 'reports/mutation'), { recursive: true });
const summaryFile = path.join(repoRoot, 'reports/mutation/summary.json');
const earlier: ChapterScore[] = existsSync(summaryFile) ? (JSON.parse(readFileSync(summaryFile, 'utf8')) as ChapterScore[]) : [];
const latest = new Map([...earlier, ...scores].map((s) => [s.id, s]));
const order = allChapters.map((c) => c.id);
writeFileSync(summaryFile, `${JSON.stringify([...latest.values()].sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id)), null, 2)}\n`);

console.log('\n| chapter | score (no string literals) | killed | timed out | survived | not covered | equivalent | mutants | time |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const s of scores) {
  console.log(`| ${s.id} | ${s.score.toFixed(1)}% | ${s.killed} | ${s.timeout} | ${s.survived} | ${s.noCoverage} | ${s.equivalent} | ${s.all} | ${s.seconds.toFixed(0)} s |`);
}
const below = scores.filter((s) => s.score < BAR);
const tooManyEquivalent = scores.filter((s) => s.equivalent > MAX_EQUIVALENT * s.all);
for (const s of below) console.log(`${s.id}: ${s.score.toFixed(1)}% is under the bar of ${BAR}%`);
for (const s of tooManyEquivalent) console.log(`${s.id}: ${s.equivalent} of ${s.all} mutants are marked equivalent, more than ${MAX_EQUIVALENT * 100}%`);
console.log(`Summary (the latest result of every chapter measured): ${path.relative(repoRoot, summaryFile)}`);
process.exit(below.length || tooManyEquivalent.length ? 1 : 0);
