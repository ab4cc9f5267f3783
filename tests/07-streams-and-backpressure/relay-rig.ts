/**
 * Chapter 07's test harness, part 2: the line the relay sits on.
 *
 *   producer ──tcp──▶ a ╶ your relay ╴ b ──tcp──▶ consumer
 *
 * The test opens all four sockets itself, so it can read the buffers of the relay's two sockets
 * (readableLength, writableLength) on its own. Only `startRelay` touches the code under test.
 */
import { once } from 'node:events';
import net from 'node:net';
import type { Relay } from '@impl/07-streams-and-backpressure/relay.ts';
import { relay } from '@impl/07-streams-and-backpressure/relay.ts';
import { check, listen, track, within } from '../helpers/index.ts';
import { KiB, lesson } from './harness.ts';

/** The highWaterMark of the relay's two sockets (set by the test, the same on every Node version). */
export const HWM = 64 * KiB;

/** A connected pair of sockets through a test listener: `client` dialed `server`. Both allow half-open. */
async function socketPair(what: string, hwm: { client?: number; server?: number }): Promise<{ client: net.Socket; server: net.Socket }> {
  const listener = net.createServer({ allowHalfOpen: true, ...(hwm.server ? { highWaterMark: hwm.server } : {}) });
  const port = await listen(listener);
  const accepted = once(listener, 'connection') as Promise<[net.Socket]>;
  const client = track(
    net.connect({ host: '127.0.0.1', port, allowHalfOpen: true, ...(hwm.client ? { highWaterMark: hwm.client } : {}) }),
    `${what} (client end)`,
  );
  await within(once(client, 'connect'), 2_000, `connecting ${what}`);
  const [server] = await within(accepted, 2_000, `accepting ${what}`);
  track(server, `${what} (server end)`);
  // No more connections are expected; the accepted socket lives on.
  listener.close();
  return { client, server };
}

/** The four sockets of a relayed line. The test owns them all; the relay gets `a` and `b`. */
export interface Line {
  producer: net.Socket;
  a: net.Socket;
  b: net.Socket;
  consumer: net.Socket;
}

/** producer ──▶ a  (relay)  b ──▶ consumer. `a` and `b` have highWaterMark HWM unless `hwm` says otherwise. */
export async function openLine(hwm: { a?: number; b?: number } = {}): Promise<Line> {
  const up = await socketPair('the producer -> relay connection', { server: hwm.a ?? HWM });
  const down = await socketPair('the relay -> consumer connection', { client: hwm.b ?? HWM });
  const line: Line = { producer: up.client, a: up.server, b: down.client, consumer: down.server };
  // Resets are part of the tests: an 'error' on the test's own two sockets must never crash the
  // test process. The relay's sockets a and b get their guard only after relay() has had the chance
  // to add its own listeners (see startRelay), so that the guard cannot hide a missing one.
  for (const s of [line.producer, line.consumer]) s.on('error', () => {});
  return line;
}

/** The relay's sockets that had no 'error' listener of the relay's own once relay() returned. */
const withoutErrorListener = new WeakMap<Line, string[]>();

/** Which of the relay's sockets ('a', 'b') had no 'error' listener of the relay's own once relay() returned. */
export const unguardedSockets = (line: Line): string[] => withoutErrorListener.get(line) ?? [];

/** Start the learner's relay on a line. */
export function startRelay(line: Line): Relay {
  let r: Relay;
  try {
    r = relay(line.a, line.b);
  } finally {
    withoutErrorListener.set(
      line,
      (['a', 'b'] as const).filter((name) => line[name].listenerCount('error') === 0),
    );
    // Now the guard: a failure in one test must not crash the whole test process.
    for (const s of [line.a, line.b]) s.on('error', () => {});
  }
  check(r && typeof r.stats === 'function', {
    did: `relay(a, b) returned ${String(r)}`,
    expected: 'an object with a stats() method: { stats: () => ({ aToB, bToA, buffered }) }',
    lesson: lesson('The exercise'),
  });
  return r;
}

/** The two directions of a line. */
export type Direction = 'a to b' | 'b to a';
export const DIRECTIONS: Direction[] = ['a to b', 'b to a'];

/** One direction of a line: who writes, who reads, and the relay's socket on each side. */
export function sides(line: Line, dir: Direction) {
  return dir === 'a to b'
    ? { writer: line.producer, reader: line.consumer, from: line.a, to: line.b, writerName: 'the producer', readerName: 'the consumer', stat: 'aToB' as const }
    : { writer: line.consumer, reader: line.producer, from: line.b, to: line.a, writerName: 'the consumer', readerName: 'the producer', stat: 'bToA' as const };
}

/** How many timers are running in this process right now. */
export const runningTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** Listener counts of a socket, by event name. */
function listenerCounts(socket: net.Socket): Map<string | symbol, number> {
  return new Map(socket.eventNames().map((e) => [e, socket.listenerCount(e)]));
}

/** The listener counts of the relay's two sockets, to compare with later (`listenersGrown`). */
export type ListenerCounts = { a: Map<string | symbol, number>; b: Map<string | symbol, number> };
export const countListeners = (line: Line): ListenerCounts => ({ a: listenerCounts(line.a), b: listenerCounts(line.b) });

/** Events whose listener count grew by more than `slack` from `before` to now, as "'drain' on b: 1 -> 700". */
export function listenersGrown(line: Line, before: ListenerCounts, slack: number): string[] {
  const grown: string[] = [];
  for (const name of ['a', 'b'] as const) {
    for (const [event, n] of listenerCounts(line[name])) {
      const was = before[name].get(event) ?? 0;
      if (n > was + slack) grown.push(`'${String(event)}' on ${name}: ${was} -> ${n}`);
    }
  }
  return grown;
}

/** What the relay's two sockets hold, read by the test itself. */
export const socketsHold = (line: Line) => line.a.readableLength + line.a.writableLength + line.b.readableLength + line.b.writableLength;
