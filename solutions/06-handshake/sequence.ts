/**
 * Sequence numbers on a circle (RFC 9293 §3.4): 32-bit numbers that wrap after 2^32 - 1,
 * compared by their distance around the circle, and unwrapped to 64-bit absolute positions.
 *
 * Absolute sequence numbers are bigints: a long-lived connection passes 2^32 bytes quickly,
 * a JS number is exact only up to 2^53, and JS bit operators silently cut numbers to 32 bits.
 */

/** How many sequence numbers there are; arithmetic on them is modulo this (RFC 9293 §3.4). */
export const SEQ_SPACE = 2 ** 32;

/** `a + n` in sequence space: wrapped into 0 .. 2^32 - 1, never negative. */
export function seqAdd(a: number, n: number): number {
  // `>>> 0` keeps the low 32 bits and reads them as unsigned: 0xFFFFFFFF + 1 becomes 0.
  return (a + n) >>> 0;
}

/** `a - b` in sequence space: the signed distance from b to a, in -2^31 .. 2^31 - 1. */
export function seqDiff(a: number, b: number): number {
  // `| 0` reads the low 32 bits as signed: a distance past half the circle counts backwards.
  return (a - b) | 0;
}

/** `a < b` in sequence space: a comes before b (less than half the circle before; exactly half apart is undefined). */
export function seqLt(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}

/** `a <= b` in sequence space. */
export function seqLe(a: number, b: number): boolean {
  return seqDiff(a, b) <= 0;
}

/** `a > b` in sequence space. */
export function seqGt(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}

/** `a >= b` in sequence space. */
export function seqGe(a: number, b: number): boolean {
  return seqDiff(a, b) >= 0;
}

/** The 32-bit sequence number of absolute position `absolute` (0 = the ISN itself). */
export function wrap(absolute: bigint, isn: number): number {
  // asUintN(32, ...) is the bigint spelling of "modulo 2^32, as unsigned".
  return Number(BigInt.asUintN(32, absolute + BigInt(isn)));
}

/**
 * The absolute position (0 = the ISN) whose 32-bit sequence number is `seqno` and which lies
 * nearest to `checkpoint`, e.g. the last absolute position this side has seen.
 */
export function unwrap(seqno: number, isn: number, checkpoint: bigint): bigint {
  // Step from the checkpoint by the short way round the circle to seqno...
  const candidate = checkpoint + BigInt(seqDiff(seqno, wrap(checkpoint, isn)));
  // ...unless that lands before the ISN: positions are never negative, so go a full turn up.
  return candidate < 0n ? candidate + BigInt(SEQ_SPACE) : candidate;
}
