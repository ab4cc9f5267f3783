/**
 * Chapter 01's test harness: recognisable messages and how to show them, moving a ring forward,
 * judging timeout errors (thrown here or reported by a Worker), watching Atomics.notify, and the
 * keeper Worker of the copy-vs-share tests. Bram's thread, the Worker that runs blocking calls,
 * is in brams-thread.ts.
 */
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  Channel,
  ChannelError,
  ChannelTimeoutError,
  LENGTH_PREFIX_BYTES,
} from '@impl/01-shared-memory/exercise.ts';
import { LearnerFacingError, fail, hexBytes, implFile, lessonOf, onCleanup, thrown, track, within } from '../helpers/index.ts';
import type { ErrorReport } from './workers/01-common.ts';

export const ID = '01-shared-memory';
export const lesson = lessonOf(ID);

/** The absolute path of an entry file in tests/01-shared-memory/workers/. */
export const workerEntry = (name: string) => fileURLToPath(new URL(`./workers/${name}`, import.meta.url));
/** The implementation under test, for Workers and child processes (the `@impl` alias does not reach them). */
export const implPath = () => implFile(ID, 'exercise.ts');

export const utf8 = (s: string) => new TextEncoder().encode(s);
export const fromUtf8 = (b: Uint8Array | number[]) => new TextDecoder().decode(Uint8Array.from(b));

/** `n` recognisable bytes; `tag` makes messages of the same length differ. */
export const pattern = (n: number, tag: number) => Uint8Array.from({ length: n }, (_, i) => (tag * 37 + i * 7 + 1) & 0xff);

/** Both are messages, with the same bytes. */
export function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && a.length === b.length && Buffer.compare(a, b) === 0;
}

/** A short, readable description of a message for failure messages. */
export function show(b: unknown): string {
  if (b === undefined) return 'undefined (the ring looked empty)';
  if (!(b instanceof Uint8Array)) return `${typeof b} ${String(b)}`;
  if (b.length === 0) return 'an empty message (0 bytes)';
  const printable = b.every((c) => c >= 0x20 && c < 0x7f);
  if (printable) return `"${fromUtf8(b)}"`;
  return `${b.length} byte${b.length === 1 ? '' : 's'} [${hexBytes(b.subarray(0, 12))}${b.length > 12 ? ' ...' : ''}]`;
}

/** An error a Worker or child process reported, in the words of `thrown`: "ChannelTimeoutError [ERR_CHANNEL_TIMEOUT]: ...". */
export function reported(r: ErrorReport | undefined): string {
  if (r === undefined) return 'nothing (no error was reported)';
  const err = new Error(r.message);
  err.name = r.name;
  return thrown(r.code === undefined ? err : Object.assign(err, { code: r.code }));
}

/** Move an empty ring's counters forward by `bytes` (at least 4) with filler messages sent and received. */
export function advance(ch: Channel, bytes: number): void {
  for (let left = bytes; left > 0; ) {
    const step = left <= ch.capacity ? left : Math.min(ch.capacity, left - LENGTH_PREFIX_BYTES);
    const filler = new Uint8Array(step - LENGTH_PREFIX_BYTES).fill(0xee);
    if (!ch.trySend(filler) || !same(ch.tryReceive(), filler)) {
      fail({
        did: `a ${filler.length}-byte filler message, sent and received to move the ring forward, did not come back intact`,
        expected: 'an empty ring takes any message up to capacity - 4 bytes and gives it back unchanged',
        lesson: lesson('A ring for one writer and one reader'),
      });
    }
    left -= step;
  }
}

/** Call learner code; turn an unexpected exception into a teaching failure that gives the situation. */
export function attempt<T>(what: string, situation: string, fn: () => T, heading: string, expected: string): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof LearnerFacingError || (err as { code?: string }).code === 'ERR_NOT_IMPLEMENTED') throw err;
    return fail({ did: `${what} threw ${thrown(err)} (${situation})`, expected, lesson: lesson(heading) });
  }
}

/** The error a call threw, or undefined if it returned. */
export function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** Copy the channel's memory into a new buffer and attach a Channel to the copy: a look that changes nothing. */
export function snapshot(ch: Channel): Channel {
  const copy = new SharedArrayBuffer(ch.buffer.byteLength);
  new Uint8Array(copy).set(new Uint8Array(ch.buffer));
  return new Channel(copy);
}

/** The outcome of a promise, without throwing. */
export async function settle<T>(p: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

// --- Timeout errors ------------------------------------------------------------------------------

export const isTimeoutError = (e: unknown) =>
  e instanceof ChannelTimeoutError && e instanceof ChannelError && e.code === 'ERR_CHANNEL_TIMEOUT';
const isTimeoutReport = (r: ErrorReport | undefined) => r?.name === 'ChannelTimeoutError' && r.code === 'ERR_CHANNEL_TIMEOUT';
export type Operation = 'send' | 'receive' | 'receiveAsync';
/** A ChannelTimeoutError from `operation`, with the timeout it was given in its documented fields. */
export const timedOut = (e: unknown, operation: Operation, timeoutMs: number) =>
  isTimeoutError(e) && (e as ChannelTimeoutError).operation === operation && (e as ChannelTimeoutError).timeoutMs === timeoutMs;
/** The same, for an error reported by Bram's thread. */
export const timedOutReport = (r: ErrorReport | undefined, operation: Operation, timeoutMs: number) =>
  isTimeoutReport(r) && r?.operation === operation && r?.timeoutMs === timeoutMs;
/** What a timeout error must look like, for failure messages. */
export const timeoutExpected = (operation: Operation, timeoutMs: number) =>
  `a ChannelTimeoutError (code ERR_CHANNEL_TIMEOUT) with operation '${operation}' and timeoutMs ${timeoutMs}, so the caller can tell "nothing came" from a bug, and which call gave up`;
/** An error's documented fields, for failure messages. */
export const fields = (e: unknown) => {
  const t = e as { operation?: unknown; timeoutMs?: unknown } | undefined;
  return t && typeof t === 'object' && ('operation' in t || 'timeoutMs' in t) ? ` (operation ${JSON.stringify(t.operation)}, timeoutMs ${JSON.stringify(t.timeoutMs)})` : '';
};

// --- Watching Atomics.notify ---------------------------------------------------------------------

/** One watched call of learner code: how often it called Atomics.notify on the channel, and what a look then found wrong. */
export interface NotifyWatch {
  look: (view: Channel) => string | undefined;
  calls: number;
  problem?: string;
}

/**
 * Instrument Atomics.notify on this thread (restored after the test). `watch(look, fn)` runs `fn`, a
 * call of learner code; each time it calls Atomics.notify on `ch`, `look` examines a copy of the shared
 * memory at that very moment (a woken thread sees at least what is there now) and returns a problem, if any.
 */
export function watchNotifies(ch: Channel): { watch: (look: NotifyWatch['look'], fn: () => unknown) => NotifyWatch; restore: () => void } {
  const realNotify = Atomics.notify;
  const restore = () => {
    Atomics.notify = realNotify;
  };
  onCleanup('restore Atomics.notify', restore);
  let watching: NotifyWatch | undefined;
  Atomics.notify = ((array: Int32Array, index: number, count?: number) => {
    const w = watching;
    if (w && array.buffer === ch.buffer) {
      watching = undefined; // the look below runs your code on the copy: do not watch that
      w.calls++;
      try {
        w.problem ??= w.look(snapshot(ch));
      } catch (err) {
        w.problem ??= `looking at a copy of the ring through a second Channel threw ${thrown(err)}`;
      }
      watching = w;
    }
    return realNotify(array, index, count);
  }) as typeof Atomics.notify;
  const watch = (look: NotifyWatch['look'], fn: () => unknown): NotifyWatch => {
    const w: NotifyWatch = { look, calls: 0 };
    watching = w;
    try {
      fn();
    } finally {
      watching = undefined;
    }
    return w;
  };
  return { watch, restore };
}

// --- The keeper Worker (copying vs sharing) ------------------------------------------------------

/** Start the keeper Worker (plain JavaScript: it runs none of your code); `look(i)` asks what note #i holds now. */
export function keeper() {
  const worker = track(new Worker(new URL('./workers/01-keeper.mjs', import.meta.url)), 'keeper worker');
  const look = async (i: number) => {
    const reply = once(worker, 'message') as Promise<[{ bytes: number[] | null; shared: boolean; type?: string }]>;
    worker.postMessage({ look: i });
    const [seen] = await within(reply, 5_000, 'the receiving Worker');
    return { ...seen, text: seen.bytes ? fromUtf8(seen.bytes) : `(not a Uint8Array: ${seen.type})` };
  };
  return { worker, look };
}
