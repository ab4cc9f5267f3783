/**
 * Chapter 07 · Queues on both ends: a relay whose memory stays bounded.
 *
 * `relay(a, b)` joins two connected TCP sockets: every byte read from one is written to the
 * other, in both directions at once, for as long as the streams last, in memory that stays
 * bounded however fast one side writes and however slowly the other reads.
 *
 * Read chapters/07-streams-and-backpressure/lesson.md first. Run the tests with
 *   npm run workbook -- check 07
 */
import type net from 'node:net';
import { todo } from '../workbook.ts';

/** What a relay has done so far, and what it holds right now. */
export interface RelayStats {
  /** Bytes read from `a` and written to `b` so far. */
  aToB: number;
  /** Bytes read from `b` and written to `a` so far. */
  bToA: number;
  /**
   * Bytes the relay holds in memory right now: its own queues (if it has any), plus the
   * readableLength and writableLength of both sockets.
   */
  buffered: number;
}

/** A running relay between two sockets. */
export interface Relay {
  /** Counters and the bytes held right now. Cheap: tests call it every few milliseconds. */
  stats(): RelayStats;
}

/**
 * Relay between `a` and `b`, both ways at once, until both streams have ended.
 * Both sockets must be connected (or connecting) and opened with `allowHalfOpen: true`.
 * - Backpressure: a write() that returns false stops reading the other socket until 'drain'.
 * - End: one side's end (FIN) is passed on after every byte that came before it; the other
 *   direction keeps going (half-close).
 * - Errors: a socket that fails or closes without ending cleanly makes the relay reset the
 *   other socket (RST), so the far side knows its stream was cut off. A clean close leaves the
 *   other socket alone: it may still be sending its last bytes.
 * - Bytes pass as they are (never decoded as text); listeners are added once, and nothing (no
 *   timer) keeps running once both sockets have closed.
 */
export function relay(a: net.Socket, b: net.Socket): Relay {
  // TODO: relay both ways at once in bounded memory; pass each end on after the bytes before it, and each failure on as a reset.
  return todo(import.meta.url, 'relay');
}
