/**
 * Sequence numbers on a circle (RFC 9293 §3.4): 32-bit numbers that wrap after 2^32 - 1,
 * compared by their distance around the circle, and unwrapped to 64-bit absolute positions.
 *
 * Absolute sequence numbers are bigints: a long-lived connection passes 2^32 bytes quickly,
 * a JS number is exact only up to 2^53, and JS bit operators silently cut numbers to 32 bits.
 */
import { todo } from '../workbook.ts';

/** How many sequence numbers there are; arithmetic on them is modulo this (RFC 9293 §3.4). */
export const SEQ_SPACE = 2 ** 32;

/** `a + n` in sequence space: wrapped into 0 .. 2^32 - 1, never negative. */
export function seqAdd(a: number, n: number): number {
  // TODO: add, then wrap into 0 .. 2^32 - 1 (seqAdd(0xFFFFFFFF, 1) is 0).
  return todo(import.meta.url, 'seqAdd');
}

/** `a - b` in sequence space: the signed distance from b to a, in -2^31 .. 2^31 - 1. */
export function seqDiff(a: number, b: number): number {
  // TODO: subtract, then read the result as a signed 32-bit number (seqDiff(1, 0xFFFFFFFF) is 2).
  return todo(import.meta.url, 'seqDiff');
}

/** `a < b` in sequence space: a comes before b (less than half the circle before; exactly half apart is undefined). */
export function seqLt(a: number, b: number): boolean {
  // TODO: compare by distance around the circle, not with a plain `<`.
  return todo(import.meta.url, 'seqLt');
}

/** `a <= b` in sequence space. */
export function seqLe(a: number, b: number): boolean {
  // TODO: like seqLt, but equal numbers count too.
  return todo(import.meta.url, 'seqLe');
}

/** `a > b` in sequence space. */
export function seqGt(a: number, b: number): boolean {
  // TODO: a comes after b on the circle.
  return todo(import.meta.url, 'seqGt');
}

/** `a >= b` in sequence space. */
export function seqGe(a: number, b: number): boolean {
  // TODO: like seqGt, but equal numbers count too.
  return todo(import.meta.url, 'seqGe');
}

/** The 32-bit sequence number of absolute position `absolute` (0 = the ISN itself). */
export function wrap(absolute: bigint, isn: number): number {
  // TODO: (isn + absolute) modulo 2^32, as a number.
  return todo(import.meta.url, 'wrap');
}

/**
 * The absolute position (0 = the ISN) whose 32-bit sequence number is `seqno` and which lies
 * nearest to `checkpoint`, e.g. the last absolute position this side has seen.
 */
export function unwrap(seqno: number, isn: number, checkpoint: bigint): bigint {
  // TODO: of all positions that wrap to seqno, return the one nearest checkpoint (never below 0).
  return todo(import.meta.url, 'unwrap');
}
