/**
 * `grade [--impl DIR] [--json FILE] [--junit FILE]`: points per chapter and per test group for one
 * student's tree (the rule: cli/grade/score.ts). Exits 0 even when tests fail: grading is not failing.
 */
import { chapterPaths, chapters, findChapter } from '../../chapters/manifest.ts';
import { ImplSwitchError, resolveImpl } from '../../engine/impl.ts';
import { hangsOf, loadErrorsOf, runPhase, testsOf } from '../../engine/run.ts';
import { buildVariant, findMistake, PatchError } from '../../engine/mistakes.ts';
import { CliError } from '../core/errors.ts';
import { writeAtomic } from '../core/fsutil.ts';
import { pad, style } from '../core/output.ts';
import { availableChapters } from '../core/session.ts';
import { cmd, heading, root, userPath } from '../core/workbook.ts';
import { toJUnit } from '../grade/junit.ts';
import type { ChapterGrade } from '../grade/score.ts';
import { RULE, gradeChapter } from '../grade/score.ts';
import type { Command } from './command.ts';

const fmt = (n: number) => n.toFixed(2).replace(/\.00$/, '');

/** Run every written chapter's suite against `impl` and grade it. */
export async function gradeTree(impl: string): Promise<ChapterGrade[]> {
  const graded = availableChapters();
  const files = graded.map((c) => chapterPaths(c).test);
  const run = files.length ? await runPhase([{ name: 'grade', impl, files }]) : { modules: [], runErrors: [], hangs: [], output: '', durationMs: 0 };
  return chapters.map((c) => {
    const file = chapterPaths(c).test;
    if (!graded.includes(c)) {
      return { id: c.id, number: c.number, title: c.title, status: 'no-suite', points: 0, maxPoints: 0, groups: [] } satisfies ChapterGrade;
    }
    const tests = testsOf(run, 'grade', file);
    const loadErrors = loadErrorsOf(run, 'grade', file);
    const [hang] = hangsOf(run, 'grade', file);
    return gradeChapter(c, tests, loadErrors, hang ? `"${hang.test}" blocked the event loop for ${hang.blockedMs} ms` : undefined);
  });
}

/** The grade as a table. */
export function gradeTable(label: string, grades: ChapterGrade[]): string {
  const nameWidth = Math.min(60, Math.max(30, ...grades.flatMap((g) => g.groups.map((gr) => gr.name.length))));
  const width = nameWidth + 5 + 18;
  const score = (got: number, max: number) => `${fmt(got).padStart(6)} / ${fmt(max)}`;
  const lines = [style.bold(`Grade for ${label}`), ''];
  for (const g of grades) {
    const c = chapters.find((x) => x.id === g.id)!;
    if (g.status === 'no-suite') {
      lines.push(style.dim(`${pad(heading(c), width)} not graded: no suite yet`));
      continue;
    }
    lines.push(`${pad(style.bold(heading(c)), width)} ${score(g.points, g.maxPoints)}`);
    if (g.status === 'did-not-load') lines.push(style.red(`     the suite could not load this code: ${(g.error ?? '').split('\n')[0]}`));
    if (g.hung) lines.push(style.red(`     ${g.hung}`));
    for (const gr of g.groups) {
      const counts = `${gr.passed}/${gr.passed + gr.failed} tests${gr.skipped ? `, ${gr.skipped} skipped` : ''}`;
      const name = gr.name.length > nameWidth ? `${gr.name.slice(0, nameWidth - 1)}…` : gr.name;
      lines.push(`     ${pad(name, nameWidth)} ${pad(counts, 17)} ${score(gr.points, gr.maxPoints)}`);
    }
  }
  const got = Math.round(grades.reduce((s, g) => s + g.points, 0) * 100) / 100;
  const max = grades.reduce((s, g) => s + g.maxPoints, 0);
  lines.push('', `${pad(style.bold('Total'), width)} ${score(got, max)}`, '', style.dim(`Rule: ${RULE}`));
  const skipped = grades.flatMap((g) => g.groups.flatMap((gr) => gr.tests.filter((t) => t.state === 'skipped')));
  if (skipped.length) lines.push(style.yellow(`${skipped.length} tests were skipped on this machine (${[...new Set(skipped.map((t) => t.note ?? 'no reason given'))].join('; ')}). For a complete grade install the missing peers; see: ${cmd('doctor')}`));
  return lines.join('\n');
}

/** The `grade` command. */
export const grade: Command = {
  name: 'grade',
  usage: 'grade [--impl DIR | --mistake <chapter>/<name>] [--json FILE] [--junit FILE]',
  summary: "Grade one student's tree: points per chapter and per test group (default: your chapters/). --mistake grades a known mistake (the solutions with that one patch). Always exits 0.",
  options: { impl: { type: 'string' }, mistake: { type: 'string' }, json: { type: 'string' }, junit: { type: 'string' } },
  async run({ values }) {
    let asked = (values.impl as string | undefined) ?? process.env.WORKBOOK_IMPL ?? 'chapters';
    let impl = asked === 'chapters' || asked === 'solutions' ? asked : userPath(asked);
    if (typeof values.mistake === 'string') {
      if (typeof values.impl === 'string') throw new CliError('Give either --impl or --mistake, not both.', cmd('grade --mistake 04/ignores-half-close'));
      const found = findMistake(values.mistake, findChapter);
      if (typeof found === 'string') throw new CliError(`--mistake ${values.mistake}: ${found}.`, cmd('grade --mistake 04/ignores-half-close'));
      try {
        impl = buildVariant(found.chapter, found.mistake);
      } catch (err) {
        if (err instanceof PatchError) throw new CliError(err.message, 'npm run mistake -- list');
        throw err;
      }
      asked = `mistake ${found.chapter.id}/${found.mistake.name}`;
    }
    let resolved;
    try {
      resolved = resolveImpl(impl, root);
    } catch (err) {
      if (err instanceof ImplSwitchError) throw new CliError(`${err.message}`, cmd('grade --impl <folder laid out like chapters/>'));
      throw err;
    }
    const at = new Date();
    const grades = await gradeTree(impl);
    console.log(gradeTable(asked, grades));
    const total = { points: Math.round(grades.reduce((s, g) => s + g.points, 0) * 100) / 100, maxPoints: grades.reduce((s, g) => s + g.maxPoints, 0) };
    const written: string[] = [];
    if (typeof values.json === 'string') {
      const file = userPath(values.json);
      writeAtomic(file, `${JSON.stringify({ impl: asked, source: { root: resolved.root, overrides: resolved.overrides }, gradedAt: at.toISOString(), rule: RULE, ...total, chapters: grades }, null, 2)}\n`);
      written.push(file);
    }
    if (typeof values.junit === 'string') {
      const file = userPath(values.junit);
      writeAtomic(file, toJUnit(asked, grades, at));
      written.push(file);
    }
    if (written.length) console.log(`\nWrote ${written.join(', ')}`);
    return 0;
  },
};
