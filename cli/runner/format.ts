/**
 * The learner-facing report of one chapter run: every test sentence with its outcome, then the
 * first failure in full (its teaching message and transcript, the line of the learner's code, what
 * the code printed). Never vitest's internals: syntax errors become file:line:col with the line,
 * blocked event loops become one plain sentence.
 */
import type { Chapter } from '../../chapters/manifest.ts';
import { chapterPaths } from '../../chapters/manifest.ts';
import { indent, mark, style } from '../core/output.ts';
import { codeFrame, compileError, learnerFrame, where } from './diagnose.ts';
import { chapterPassed, moduleOf } from './runner.ts';
import type { ErrorInfo, Frame, ModuleResult, RunResult, TestInfo } from '../../engine/types.ts';

/** What kind of outcome a run had. */
export type Outcome = 'passed' | 'failed' | 'compile-error' | 'load-error' | 'hang' | 'no-tests';

/** A formatted chapter result. */
export interface ChapterReport {
  outcome: Outcome;
  passed: boolean;
  /** Tests that passed, and tests that ran (skipped ones excluded). */
  passing: number;
  total: number;
  text: string;
}

/** The sentence for a blocked event loop. */
export const HANG_SENTENCE = 'this test blocked the event loop (endless loop / Atomics.wait without timeout)';

const MAX_LOG_LINES = 20;
const ruler = (title: string) => style.dim(`── ${title} ${'─'.repeat(Math.max(4, 56 - title.length))}`);

/** Format one chapter's part of a run. */
export function reportChapter(chapter: Chapter, result: RunResult): ChapterReport {
  const mod = moduleOf(result, chapter);
  if (!mod) {
    return { outcome: 'no-tests', passed: false, passing: 0, total: 0, text: `${mark.fail} The suite ${chapterPaths(chapter).test} did not run.\n${indent(result.output.trim())}` };
  }
  const ran = mod.tests.filter((t) => t.state !== 'skipped');
  const passing = ran.filter((t) => t.state === 'passed').length;
  const passed = chapterPassed(result, chapter);
  const base = { passed, passing, total: ran.length };

  if (mod.tests.length === 0 && mod.errors.length > 0 && !mod.hang) {
    return { ...base, ...loadFailure(chapter, mod.errors[0]!) };
  }
  const lines: string[] = [testList(mod)];
  const first = mod.tests.find((t) => t.state === 'failed' || isHung(mod, t));
  if (first) lines.push('', ruler('First failure'), failure(chapter, mod, first));
  else if (mod.hang) lines.push('', ruler('Stopped'), hangText(mod, undefined));
  else if (mod.errors.length > 0) lines.push('', ruler('The suite reported an error'), errorText(chapter, mod.errors[0]!));
  if (mod.tests.length === 0 && !mod.hang && mod.errors.length === 0) lines.push(`${mark.fail} The suite has no tests.`);
  // When the watchdog stopped a test process, vitest's own note about the dead worker adds nothing.
  const runErrors = mod.hang ? result.runErrors.filter((e) => !/worker|fork|exited/i.test(e.message)) : result.runErrors;
  for (const e of runErrors.slice(0, 1)) {
    lines.push('', ruler('An error outside any test'), errorText(chapter, e), style.dim('It happened after a test had finished, often in a callback or timer the code left running.'));
  }
  const outcome: Outcome = passed ? 'passed' : mod.hang ? 'hang' : mod.tests.length === 0 ? 'no-tests' : 'failed';
  return { ...base, outcome, text: lines.join('\n') };
}

const isHung = (mod: ModuleResult, t: TestInfo) => Boolean(mod.hang && mod.hang.test === t.fullName);

function testList(mod: ModuleResult): string {
  const out: string[] = [];
  let shown: string[] = [];
  for (const t of mod.tests) {
    // Print each describe heading once, where it starts.
    let same = 0;
    while (same < shown.length && same < t.suites.length && shown[same] === t.suites[same]) same++;
    for (let d = same; d < t.suites.length; d++) out.push(`${'  '.repeat(d)}${style.bold(t.suites[d]!)}`);
    shown = t.suites;
    out.push(`${'  '.repeat(t.suites.length)}${testLine(mod, t)}`);
  }
  return out.join('\n');
}

function testLine(mod: ModuleResult, t: TestInfo): string {
  if (isHung(mod, t)) return `${mark.hang} ${t.name} ${style.red(`— ${HANG_SENTENCE}`)}`;
  switch (t.state) {
    case 'passed':
      return `${mark.pass} ${t.name}${t.durationMs && t.durationMs > 1000 ? style.dim(` (${(t.durationMs / 1000).toFixed(1)} s)`) : ''}`;
    case 'failed':
      return `${mark.fail} ${t.name}`;
    case 'skipped':
      return `${mark.skip} ${t.name} ${style.yellow(`(skipped${t.note ? `: ${t.note}` : ''})`)}`;
    default:
      return `${style.dim('·')} ${t.name} ${style.dim(mod.hang ? '(no result: the test process was stopped)' : '(did not finish)')}`;
  }
}

const titleOf = (t: TestInfo) => [...t.suites, t.name].join(style.dim(' › '));

function hangText(mod: ModuleResult, t: TestInfo | undefined): string {
  const h = mod.hang!;
  return [
    `${mark.hang} ${t ? titleOf(t) : h.test}`,
    '',
    `This test blocked the event loop for ${(h.blockedMs / 1000).toFixed(1)} s: synchronous code never returned.`,
    'Usual causes: an endless loop, or Atomics.wait without a timeout on the main thread.',
    'The test process was stopped so that the run could end; the tests after it did not run.',
  ].join('\n');
}

function failure(chapter: Chapter, mod: ModuleResult, t: TestInfo): string {
  if (isHung(mod, t)) return hangText(mod, t);
  const parts = [`${mark.fail} ${titleOf(t)}`, '', errorText(chapter, t.error)];
  const at = testFrame(mod, t.error);
  if (at) parts.push(style.dim(`The test: ${where(at)}`));
  const logs = (t.logs ?? []).join('').trimEnd().split('\n').filter((l, i, a) => a.length > 1 || l);
  if (logs.length) {
    const shownLogs = logs.slice(0, MAX_LOG_LINES);
    parts.push('', style.dim('Printed during this test:'), indent(shownLogs.join('\n')));
    if (logs.length > MAX_LOG_LINES) parts.push(style.dim(`  ... ${logs.length - MAX_LOG_LINES} more lines`));
  }
  return parts.join('\n');
}

/** An error's message, diff and the line of the learner's code it came from. */
export function errorText(chapter: Chapter, e: ErrorInfo | undefined): string {
  if (!e) return '(the test failed without an error message)';
  const teaching = e.name === 'AssertionError' || e.name === 'WorkbookCheckFailed' || e.name === 'Error';
  const parts = [teaching ? e.message : `${style.bold(e.name ?? 'Error')}: ${e.message}`];
  // A diff helps with objects and long text; for two short values the message already says it all.
  const multiline = /\n/.test(`${e.expected ?? ''}${e.actual ?? ''}`);
  if (e.diff && multiline) parts.push('', e.diff.trim());
  const frame = learnerFrame(chapter, e);
  if (frame) {
    const fn = frame.method?.replace(/^(Module|Object)\./, '');
    parts.push('', style.dim(`at ${where(frame)}${fn ? ` (in ${fn})` : ''}`));
    const code = codeFrame(frame.file, frame.line, frame.column);
    if (code) parts.push(code);
  }
  return parts.join('\n');
}

/** The line in the test file where the failing check is. */
function testFrame(mod: ModuleResult, e: ErrorInfo | undefined): Frame | undefined {
  return e?.frames.find((f) => f.file.endsWith(mod.file));
}

function loadFailure(chapter: Chapter, e: ErrorInfo): { outcome: Outcome; text: string } {
  const c = compileError(e);
  if (c) {
    const head = `${mark.fail} ${style.bold('Your code does not compile.')}`;
    const loc = c.line ? `${where(c)}  ${c.message}` : c.message;
    const code = c.line ? codeFrame(c.file, c.line, c.column) : '';
    return { outcome: 'compile-error', text: [head, '', loc, ...(code ? [code] : []), '', 'No test could run. Fix this line, save, and the tests run again.'].join('\n') };
  }
  return {
    outcome: 'load-error',
    text: [`${mark.fail} ${style.bold('The tests could not load your code.')}`, '', errorText(chapter, e)].join('\n'),
  };
}
