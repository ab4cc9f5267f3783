/**
 * `grade` end to end: full points against the solutions, 0 against the untouched stubs, partial
 * against a known-mistake variant and a student's tree; valid JUnit XML and JSON; exit 0 always.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliRun } from './support/sandbox.ts';
import { Sandbox } from './support/sandbox.ts';
import { findAll, parseXml } from './support/xml.ts';

let box: Sandbox;
const runs: Record<string, CliRun> = {};

interface GradeJson {
  points: number;
  maxPoints: number;
  rule: string;
  chapters: { id: string; points: number; maxPoints: number; status: string; groups: { name: string; points: number; maxPoints: number; passed: number; failed: number }[] }[];
}
const json = (name: string) => JSON.parse(box.read(`${name}.json`)) as GradeJson;

beforeAll(async () => {
  box = await Sandbox.create();
  const grade = (name: string, impl: string[], cwd?: string) =>
    box.run(['grade', ...impl, '--json', `${box.root}/${name}.json`, '--junit', `${box.root}/${name}.xml`], { cwd, timeoutMs: 30_000 }).then((r) => (runs[name] = r));
  // One at a time: each grade runs a vitest of its own, and three at once starve one another.
  await grade('solutions', ['--impl', 'solutions']);
  await grade('stubs', []);
  // A known mistake by name: the solutions with its patch applied, built into tests/.generated/mistakes/.
  await grade('mistake', ['--mistake', '01/off-by-one']);
  // A relative --impl is resolved against the directory the command was typed in.
  await grade('relative', ['--impl', '.generated/mistakes/01-adder/off-by-one'], box.path('tests'));
}, 60_000);

afterAll(async () => box?.remove());

describe('grade', () => {
  it('gives full points against the solutions, per chapter and per test group', () => {
    expect(runs.solutions!.code).toBe(0);
    const g = json('solutions');
    expect(g.points).toBe(16);
    expect(g.maxPoints).toBe(16);
    const adder = g.chapters.find((c) => c.id === '01-adder')!;
    expect(adder.groups.map((gr) => [gr.name, gr.points, gr.maxPoints])).toEqual([
      ['adding', 5, 5],
      ['doubling', 5, 5],
    ]);
    expect(runs.solutions!.stdout).toMatch(/Total\s+16 \/ 16/);
  });

  it('gives 0 against the untouched stubs, and still exits 0', () => {
    expect(runs.stubs!.code).toBe(0);
    const g = json('stubs');
    expect(g.points).toBe(0);
    expect(g.maxPoints).toBe(16);
    expect(g.chapters.every((c) => c.points === 0 && c.status === 'graded')).toBe(true);
  });

  it('gives partial points against a known mistake (--mistake): the group that catches it loses its share', () => {
    expect(runs.mistake!.code).toBe(0);
    expect(runs.mistake!.stdout).toMatch(/Grade for mistake 01-adder\/off-by-one/);
    const adder = json('mistake').chapters.find((c) => c.id === '01-adder')!;
    expect(adder.points).toBe(7.5);
    expect(adder.groups.find((gr) => gr.name === 'doubling')).toMatchObject({ points: 2.5, maxPoints: 5, passed: 1, failed: 1 });
    expect(json('mistake').points).toBe(13.5);
    expect(box.read('tests/.generated/mistakes/01-adder/off-by-one/exercise.ts')).toMatch(/a > 0 \? a \* 2 \+ 1/);
  });

  it('resolves a relative --impl against the directory the command was typed in', () => {
    expect(runs.relative!.code).toBe(0);
    expect(json('relative').points).toBe(13.5);
  });

  it('explains an unknown --mistake, listing the chapter\'s mistakes', async () => {
    const r = await box.run(['grade', '--mistake', '01/no-such-mistake']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/chapter 01-adder has no known mistake "no-such-mistake". Its mistakes: off-by-one/);
  }, 15_000);

  it('names the patch and the hunk when a mistake no longer applies to its solution', async () => {
    const solution = box.read('solutions/01-adder/exercise.ts');
    box.write('solutions/01-adder/exercise.ts', solution.replace('return a * 2;', 'return a + a;'));
    try {
      const r = await box.run(['grade', '--mistake', '01/off-by-one']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/tests\/mistakes\/01-adder\/off-by-one.patch no longer applies to solutions\/01-adder\/exercise.ts: hunk @@ -5,5 \+5,6 @@/);
    } finally {
      box.write('solutions/01-adder/exercise.ts', solution);
    }
  }, 15_000);

  it('writes JUnit XML that parses back, with escaped names and messages and consistent counts', () => {
    for (const name of ['solutions', 'stubs', 'mistake', 'relative']) {
      const doc = parseXml(box.read(`${name}.xml`));
      expect(doc.name).toBe('testsuites');
      const suites = findAll(doc, 'testsuite');
      expect(suites.map((s) => s.attrs.name)).toEqual(['01-adder', '02-greeter']);
      for (const s of suites) {
        const cases = findAll(s, 'testcase');
        expect(Number(s.attrs.tests)).toBe(cases.length);
        expect(Number(s.attrs.failures)).toBe(cases.filter((c) => c.children.some((x) => x.name === 'failure')).length);
      }
    }
    const stubs = parseXml(box.read('stubs.xml'));
    expect(findAll(stubs, 'testcase').map((c) => c.attrs.name)).toContain('greets Ada too, & says "hi" <politely>');
    expect(Number(stubs.attrs.failures)).toBe(6);
    const mistake = parseXml(box.read('mistake.xml'));
    const failures = findAll(mistake, 'failure');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.attrs.message).toMatch(/^double\(4\) -> 8, twice 4 & "not" <more>/);
    expect(failures[0]!.text).toMatch(/expected 9 to be 8/);
    const points = findAll(findAll(mistake, 'testsuite')[0]!, 'property').find((p) => p.attrs.name === 'points');
    expect(points?.attrs.value).toBe('7.5');
  });

  it('explains a wrong --impl and ends with the command that fixes it', async () => {
    const r = await box.run(['grade', '--impl', 'no/such/folder']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no such directory/);
    expect(r.stderr.trim().split('\n').pop()).toMatch(/npm run workbook -- grade --impl/);
  }, 15_000);
});
