// Known mistake "unbounded-array-queue": the relay keeps its own array of chunks and writes from it on
// 'drain', but never pauses the socket it reads from: the array grows as fast as the producer writes.
/**
 * Chapter 07 · Queues on both ends (reference solution): a relay whose memory stays bounded.
 *
 * `relay(a, b)` joins two connected TCP sockets: every byte read from one is written to the
 * other, in both directions at once, for as long as the streams last. The relay keeps no queue
 * of its own. Its memory is the sockets' own buffers, and backpressure keeps those near their
 * highWaterMark: when a write() says "full", the relay stops reading the other side until 'drain'.
 */
import type net from 'node:net';

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
  const counts = { aToB: 0, bToA: 0 };
  const queues = [new Queue(), new Queue()];
  forward(a, b, (n) => (counts.aToB += n), queues[0]!);
  forward(b, a, (n) => (counts.bToA += n), queues[1]!);
  passResets(a, b);
  passResets(b, a);
  return {
    stats: () => ({ ...counts, buffered: held(a) + held(b) + queues[0]!.bytes + queues[1]!.bytes }),
  };
}

/** Chunks waiting for the socket to drain. */
class Queue {
  chunks: Buffer[] = [];
  bytes = 0;
}

/** One direction: read `from` into the queue, and write the queue into `to` whenever it has room. */
function forward(from: net.Socket, to: net.Socket, count: (n: number) => void, queue: Queue): void {
  let ended = false;
  const flush = () => {
    while (queue.chunks.length > 0) {
      const chunk = queue.chunks.shift()!;
      queue.bytes -= chunk.length;
      if (!to.write(chunk)) return; // wait for 'drain'
    }
    if (ended) to.end();
  };
  from.on('data', (chunk: Buffer) => {
    count(chunk.length);
    queue.chunks.push(chunk);
    queue.bytes += chunk.length;
    if (!to.writableNeedDrain) flush();
  });
  to.on('drain', flush);
  from.on('end', () => {
    ended = true;
    if (!to.writableNeedDrain) flush();
  });
}

/** A socket that fails, or closes without finishing cleanly, takes the other one down with a reset. */
function passResets(from: net.Socket, to: net.Socket): void {
  // The 'close' that follows every 'error' does the work; this listener keeps the error from crashing the process.
  from.on('error', () => {});
  from.on('close', (hadError: boolean) => {
    const clean = !hadError && from.readableEnded && from.writableFinished;
    // A reset, not a FIN: a FIN would tell the far side that its stream ended complete.
    if (!clean && !to.destroyed) to.resetAndDestroy();
  });
}

/** Bytes a socket holds in user space: read but not yet consumed, and written but not yet sent. */
function held(socket: net.Socket): number {
  return socket.readableLength + socket.writableLength;
}
