/**
 * Table tests for the chapter's pure functions (sequence arithmetic, segmentLength): every row is
 * tried, and a failure lists all the wrong rows at once, with the errors they threw.
 */
import { check, thrown } from '../helpers/index.ts';
import { lesson } from './harness.ts';

/** One case: the call as a learner would write it, the call itself, and the answer a correct implementation gives. */
export type Row = { expr: string; run: () => unknown; want: unknown };

/** Try every row; fail with the list of wrong ones, what a correct implementation does, and the lesson section. */
export function table(rows: Row[], heading: string, expected: string): void {
  const bad: string[] = [];
  const errors = new Set<string>();
  for (const r of rows) {
    let got: unknown;
    try {
      got = r.run();
    } catch (err) {
      bad.push(`  ${r.expr} threw ${err instanceof Error ? err.name : 'an error'}; want ${fmt(r.want)}`);
      errors.add(thrown(err));
      continue;
    }
    if (got !== r.want) bad.push(`  ${r.expr} = ${fmt(got)}; want ${fmt(r.want)}`);
  }
  const errorList = errors.size ? `\nThe errors thrown:\n  ${[...errors].join('\n  ')}` : '';
  check(bad.length === 0, () => ({
    did: `${bad.length} of ${rows.length} cases are wrong:\n${bad.join('\n')}${errorList}`,
    expected,
    lesson: lesson(heading),
  }));
}

/** A value as a row shows it: bigints with their n, large integers also in (signed) hex. */
export function fmt(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) >= 2 ** 16) return `${v} (${v < 0 ? '-' : ''}0x${Math.abs(v).toString(16)})`;
  return String(v);
}
