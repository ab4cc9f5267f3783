/**
 * Chapter 08's test harness, the parts the other modules share: the chapter's id and lesson links,
 * and the step-by-step check of an RTO estimator against RFC 6298's numbers.
 * The rest of the harness: wire.ts (the suite's own codec), sender-script.ts and receiver-script.ts
 * (scripts on a fake clock), sim.ts (the simulated lossy channel and its seeded runs).
 */
import type { RtoEstimator } from '@impl/08-reliable-delivery/rto.ts';
import { check, lessonOf, thrown } from '../helpers/index.ts';

const ID = '08-reliable-delivery';
export const lesson = lessonOf(ID);

/** Two estimator readings agree (to rounding: an equivalent formula may round differently in the last bit). */
const close = (a: number | undefined, b: number | undefined) =>
  a === b || (typeof a === 'number' && typeof b === 'number' && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)));

/** Check an estimator step by step against the RFC's numbers; all the rows are tried and every wrong one is listed. */
export function estimatorTable(rows: { step: string; run: () => void; want: { srtt?: number; rttvar?: number; rto: number } }[], read: () => RtoEstimator, heading: string, expected: string): void {
  const bad: string[] = [];
  for (const r of rows) {
    try {
      r.run();
    } catch (err) {
      bad.push(`  ${r.step}: threw ${thrown(err)}`);
      break;
    }
    const e = read();
    const ok = close(e.srtt, r.want.srtt) && close(e.rttvar, r.want.rttvar) && close(e.rto, r.want.rto);
    const show = (x: { srtt?: number; rttvar?: number; rto?: number }) => `SRTT ${x.srtt}, RTTVAR ${x.rttvar}, RTO ${x.rto}`;
    bad.push(`  ${ok ? 'ok' : 'x '} ${r.step.padEnd(34)} ${ok ? show(e) : `got ${show(e)}; want ${show(r.want)}`}`);
  }
  check(bad.every((b) => b.startsWith('  ok')), () => ({ did: `your estimator, step by step:\n${bad.join('\n')}`, expected, lesson: lesson(heading) }));
}
