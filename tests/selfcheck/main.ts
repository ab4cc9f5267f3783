/**
 * The self-check, `npm test`: proves the workbook is sound.
 *   1. every manifest entry has its lesson, stub, solution, suite, hints and mistakes;
 *   2. the typecheck is clean, and every implementation exports its stub's API;
 *   3. every solution passes its suite (and the CLI/site/harness suites pass);
 *   4. against the untouched stubs, every single test fails;
 *   5. every known-mistake variant is rejected, by the test named for its concept.
 * Ends with the plain line "N passed, N failed" and exits non-zero on any failure.
 *
 *   npm test                         everything
 *   npm test -- --chapter 04         only chapter 04 (repeatable), plus structure and typecheck
 *   npm test -- --no-typecheck       skip the typecheck (faster while writing a chapter)
 *   npm test -- --verbose            print every failing test's message
 *   npm test -- --no-mistakes        skip the known-mistake variants (solutions and stubs only)
 *   npm run test:node -- 22          solutions and stubs under Node 22 (or 24): tests/selfcheck/other-node.ts
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Chapter } from '../../chapters/manifest.ts';
import { chapterPaths, chapters as allChapters, findChapter } from '../../chapters/manifest.ts';
import { repoRoot } from '../../engine/impl.ts';
import { buildVariants } from '../../engine/mistakes.ts';
import type { ProjectSpec } from '../../engine/projects.ts';
import { chapterProjects, mistakeProject } from '../../engine/projects.ts';
import { hangsOf, loadErrorsOf, runPhase, testsOf } from '../../engine/run.ts';
import type { RunResult, TestInfo } from '../../engine/types.ts';
import { Checks } from './checks.ts';
import { checkStructure } from './structure.ts';
import { checkTypes } from './typecheck.ts';

/** The tooling suites (CLI, site, harness, self-check) that do not depend on an implementation. */
const TOOLING_GLOBS = ['tests/cli/**/*.test.ts', 'tests/site/**/*.test.ts', 'tests/bench/**/*.test.ts', 'tests/fuzz/**/*.test.ts', 'tests/helpers/**/*.test.ts', 'tests/selfcheck/**/*.test.ts'];

const { values } = parseArgs({
  options: {
    chapter: { type: 'string', multiple: true, short: 'c' },
    'no-typecheck': { type: 'boolean' },
    'no-tooling': { type: 'boolean' },
    'no-mistakes': { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log('Usage: npm test [-- --chapter <n|slug>]... [--no-typecheck] [--no-tooling] [--no-mistakes] [--verbose]');
  process.exit(0);
}

const selected: Chapter[] = values.chapter
  ? values.chapter.map((name) => {
      const ch = findChapter(name);
      if (!ch) {
        console.error(`No chapter "${name}". Chapters: ${allChapters.map((c) => `${c.number} ${c.slug}`).join(', ')}`);
        process.exit(2);
      }
      return ch;
    })
  : allChapters;

const checks = new Checks();
const timings: string[] = [];
const timed = async <T,>(label: string, fn: () => Promise<T> | T): Promise<T> => {
  const t0 = performance.now();
  const out = await fn();
  timings.push(`${label} ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  return out;
};
const firstLines = (s: string | undefined, n = 12) => (s ?? '').split('\n').slice(0, n);

console.log(`Workbook self-check on Node ${process.version}: ${selected.map((c) => c.id).join(', ')}\n`);
await timed('structure', () => checkStructure(selected, checks));
// Every known mistake is a patch against its solution: build the variants (solution copy + patch) that the
// typecheck and phase B run. A patch that no longer applies fails here, by name and hunk.
const withMistakes = !values['no-mistakes'];
const variants = await timed('mistake variants', () => buildVariants(withMistakes ? selected : []));
if (withMistakes) checks.add(`every mistake patch applies to its solution (${variants.built.length}/${variants.built.length + variants.failed.length})`, variants.failed.length === 0, variants.failed.map((f) => f.error));
const structureChecks = checks.results.length;

// Three phases, one vitest instance each, run one after the other so that no phase starves another.
// Phase A: the solutions, with no other test beside them, so that their timing-sensitive tests (proxies,
// relays, Workers) are not starved.
const projects = chapterProjects(selected.filter((c) => existsSync(path.join(repoRoot, chapterPaths(c).test))));
const reference = projects.reference;
const broken = withMistakes ? projects.broken : projects.broken.filter((p) => p.name === 'stubs');
// The typecheck runs beside it: one core for a few seconds, while these suites spend much of their time
// waiting on timers and the network (they also pass with a whole core taken by stress-ng).
const typecheck = values['no-typecheck'] ? undefined : timed('typecheck (beside the solutions)', () => checkTypes(selected, withMistakes));
const refRun = await timed('solutions', () => runPhase(reference));
// Listed after the structure checks, where it always stood.
if (typecheck) checks.results.splice(structureChecks, 0, await typecheck);
// Phase B: the runs that must fail.
const brokenRun = await timed('stubs and mistakes', () => runPhase(broken));
// Phase C: the CLI, site and harness suites. The CLI's end-to-end tests start whole CLI processes, each
// with its own vitest; beside the chapter suites they were starved into timeouts, so they run last, alone.
const toolingFiles = hasToolingTests() && !values['no-tooling'] && !values.chapter;
// The tooling suites run no learner code in their own process; their watchdog only needs to catch a
// runaway, so it gets headroom for heavy but legitimate work on a loaded CI machine.
const tooling: ProjectSpec = { name: 'tooling', impl: 'solutions', files: TOOLING_GLOBS, blockedLoopLimitMs: 15_000 };
const toolRun = toolingFiles ? await timed('tooling', () => runPhase([tooling])) : undefined;

const hangNote = (run: RunResult, project: string, file: string) => hangsOf(run, project, file).map((h) => `hung: "${h.test}" blocked the event loop ${h.blockedMs} ms`);
const runErrs = (run: RunResult) => run.runErrors.map((e) => e.message);
const failedLike = (t: TestInfo) => t.state === 'failed' || t.state === 'pending';
const firstErrorLines = (t: TestInfo, n = 12) => firstLines(t.error?.message, n);

for (const ch of selected) {
  const file = chapterPaths(ch).test;
  if (!existsSync(path.join(repoRoot, file))) continue;

  // 3. Solutions pass.
  const sol = testsOf(refRun, 'solutions', file);
  const solBad = sol.filter((t) => t.state !== 'passed' && t.state !== 'skipped');
  const solSkipped = sol.filter((t) => t.state === 'skipped');
  checks.add(`solution passes ${ch.id} (${sol.length - solBad.length - solSkipped.length}/${sol.length} passed${solSkipped.length ? `, ${solSkipped.length} skipped` : ''})`, sol.length > 0 && solBad.length === 0, [
    ...(sol.length === 0 ? ['the suite reported no tests', ...loadErrorsOf(refRun, 'solutions')] : []),
    ...hangNote(refRun, 'solutions', file),
    ...solBad.flatMap((t) => [`${t.state}: ${t.fullName}`, ...firstErrorLines(t).map((l) => `    ${l}`)]),
    ...solSkipped.map((t) => `skipped: ${t.fullName}${t.note ? ` (${t.note})` : ''}`),
  ]);

  // 4. Stubs fail every test.
  const stub = testsOf(brokenRun, 'stubs', file);
  const stubPassed = stub.filter((t) => t.state === 'passed');
  const stubSkipped = stub.filter((t) => t.state === 'skipped');
  const missing = sol.filter((s) => !stub.some((t) => t.fullName === s.fullName));
  checks.add(`stub fails every test of ${ch.id} (${stub.filter(failedLike).length}/${stub.length} failed${stubSkipped.length ? `, ${stubSkipped.length} skipped for a missing peer` : ''})`, stub.length > 0 && stubPassed.length === 0 && missing.length === 0 && stubSkipped.every((t) => !!t.note), [
    ...stubPassed.map((t) => `passes against the untouched stub, so it checks nothing: ${t.fullName}`),
    ...stubSkipped.map((t) => `skipped: ${t.fullName}${t.note ? ` (${t.note})` : ' (with no reason)'}`),
    ...missing.map((t) => `did not run against the stub: ${t.fullName}`),
    ...loadErrorsOf(brokenRun, 'stubs'),
  ]);

  // 5. Every known-mistake variant is rejected by the test named for its concept.
  for (const m of withMistakes ? ch.mistakes : []) {
    const project = mistakeProject(ch, m.name);
    const tests = testsOf(brokenRun, project, file);
    const failing = tests.filter(failedLike);
    const hangs = hangNote(brokenRun, project, file);
    const named = failing.filter((t) => t.fullName.toLowerCase().includes(m.caughtBy.toLowerCase()));
    const ok = named.length > 0;
    checks.add(`mistake ${ch.id}/${m.name} is rejected by "${m.caughtBy}"`, ok, [
      `the mistake: ${m.what}`,
      ...(tests.length > 0 && tests.every((t) => t.state === 'skipped')
        ? [`no test name contains "${m.caughtBy}": fix caughtBy in chapters/manifest.ts`]
        : failing.length === 0
          ? [`the test named "${m.caughtBy}" passes against this variant: the suite does not catch the mistake`, ...loadErrorsOf(brokenRun, project)]
          : []),
      ...(failing.length > 0 && !ok ? [`caught only by tests not named for the concept: ${failing.map((t) => t.fullName).join(' | ')}`] : []),
      ...hangs,
      ...(values.verbose ? named.flatMap((t) => [`caught by: ${t.fullName}`, ...firstErrorLines(t, 6).map((l) => `    ${l}`)]) : []),
    ]);
  }
}

if (toolRun) {
  const tool = testsOf(toolRun, 'tooling');
  const bad = tool.filter((t) => t.state !== 'passed' && t.state !== 'skipped');
  checks.add(`CLI, site and harness suites pass (${tool.length - bad.length}/${tool.length})`, tool.length > 0 && bad.length === 0, [
    ...loadErrorsOf(toolRun, 'tooling'),
    ...bad.flatMap((t) => [`${t.state}: ${t.file} > ${t.fullName}`, ...firstErrorLines(t).map((l) => `    ${l}`)]),
  ]);
}

const runErrors = [refRun, brokenRun, toolRun].flatMap((run) => (run ? runErrs(run) : []));
if (values.verbose && runErrors.length) console.log(`Run-level errors (killed or crashed test processes):\n  ${runErrors.join('\n  ')}\n`);

for (const r of checks.results) {
  console.log(`${r.ok ? '  ok  ' : '  FAIL'}  ${r.name}`);
  if (!r.ok || values.verbose) for (const d of r.details) console.log(`          ${d}`);
}
console.log(`\nTime: ${timings.join(', ')}`);
console.log(`${checks.passed} passed, ${checks.failed} failed`);
process.exit(checks.failed ? 1 : 0);

function hasToolingTests(): boolean {
  return ['tests/cli', 'tests/site', 'tests/bench', 'tests/helpers', 'tests/selfcheck'].some((d) => {
    const dir = path.join(repoRoot, d);
    return existsSync(dir) && readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith('.test.ts'));
  });
}
