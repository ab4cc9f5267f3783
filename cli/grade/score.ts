/**
 * The grading rule. A chapter's points (from the manifest) are split evenly over its suite's test
 * groups, the top-level describe blocks (tests outside any describe form one more group). A group
 * earns its share in proportion to its passing tests: share × passed / ran. Tests skipped for a
 * missing optional peer on the grading machine do not count either way; a group whose tests were
 * all skipped earns nothing and is flagged. A hung test and the tests it stopped count as failed.
 * A suite that cannot load the student's code earns 0.
 */
import type { Chapter } from '../../chapters/manifest.ts';
import type { TestInfo } from '../../engine/types.ts';

/** The rule in one paragraph, for reports. */
export const RULE =
  "Each chapter's points are split evenly over its suite's top-level describe blocks (test groups); a group earns its share times passed/ran. Tests skipped for a missing optional peer count neither way (a group with every test skipped earns 0). Hung or unfinished tests count as failed; a suite that cannot load the code earns 0.";

/** One test in a grade. */
export interface GradedTest {
  name: string;
  fullName: string;
  state: TestInfo['state'];
  error?: string;
  note?: string;
}

/** One test group's grade. */
export interface GroupGrade {
  name: string;
  points: number;
  maxPoints: number;
  passed: number;
  failed: number;
  skipped: number;
  tests: GradedTest[];
}

/** One chapter's grade. */
export interface ChapterGrade {
  id: string;
  number: number;
  title: string;
  status: 'graded' | 'did-not-load' | 'no-suite';
  points: number;
  maxPoints: number;
  error?: string;
  hung?: string;
  groups: GroupGrade[];
}

/** Name of the group for tests outside any describe block. */
export const TOP_LEVEL_GROUP = '(tests outside any describe)';

const round = (n: number) => Math.round(n * 100) / 100;

/** Grade one chapter from its tests' outcomes. */
export function gradeChapter(chapter: Chapter, tests: TestInfo[], loadErrors: string[], hung?: string): ChapterGrade {
  const base = { id: chapter.id, number: chapter.number, title: chapter.title, maxPoints: chapter.points };
  if (tests.length === 0) {
    return { ...base, status: 'did-not-load', points: 0, error: loadErrors.join('\n') || 'the suite reported no tests', hung, groups: [] };
  }
  const names: string[] = [];
  for (const t of tests) {
    const g = t.suites?.[0] ?? TOP_LEVEL_GROUP;
    if (!names.includes(g)) names.push(g);
  }
  const share = chapter.points / names.length;
  let exact = 0;
  const groups = names.map((name): GroupGrade => {
    const own = tests.filter((t) => (t.suites?.[0] ?? TOP_LEVEL_GROUP) === name);
    const passed = own.filter((t) => t.state === 'passed').length;
    const skipped = own.filter((t) => t.state === 'skipped').length;
    const ran = own.length - skipped;
    const points = ran === 0 ? 0 : (share * passed) / ran;
    exact += points;
    return {
      name,
      points: round(points),
      maxPoints: round(share),
      passed,
      failed: ran - passed,
      skipped,
      tests: own.map((t) => ({ name: t.name, fullName: t.fullName, state: t.state, error: t.error?.message, note: t.note })),
    };
  });
  // Rounded once, from the exact sum, so that three thirds make a whole.
  return { ...base, status: 'graded', points: round(exact), hung, groups };
}
