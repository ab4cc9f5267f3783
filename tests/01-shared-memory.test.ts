/**
 * Chapter 01 · Notes in shared memory: the SPSC ring-buffer channel in a SharedArrayBuffer.
 *
 * Single-thread tests check the ring's bookkeeping (order, wraparound, full vs empty, limits).
 * Then real threads: Workers that block in receive()/send(), a 10 MB transfer checked by hash,
 * and an instrumented Atomics.notify that catches "notify before publish" deterministically.
 * Last, copying vs sharing: postMessage, SharedArrayBuffer, and a forked child process.
 * Every blocking call on learner code runs in a Worker with a timeout, never on this thread.
 */
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  CONTROL_BYTES,
  Channel,
  ChannelError,
  ChannelTimeoutError,
  LENGTH_PREFIX_BYTES,
  MessageTooLargeError,
  READ_SLOT,
  WRITE_SLOT,
  postCopy,
  postShared,
} from '@impl/01-shared-memory/exercise.ts';
import {
  DeadlineError,
  LearnerFacingError,
  check,
  fail,
  implFile,
  onCleanup,
  pause,
  randomBytes,
  randomInt,
  replayHint,
  seeLesson,
  seededRandom,
  testSeed,
  track,
  within,
} from './helpers/index.ts';
import { repoRoot } from './impl-switch.ts';
import type { ErrorReport } from './workers/01-common.ts';
import { CHILD_NOTE, describeError, traffic } from './workers/01-common.ts';

const ID = '01-shared-memory';
const lesson = (heading: string) => seeLesson(ID, heading);
const workerEntry = (name: string) => fileURLToPath(new URL(`./workers/${name}`, import.meta.url));
const implPath = () => implFile(ID, 'exercise.ts');
/** The harness's TypeScript Worker bootstrap (what startTsWorker uses), for the one Worker this file keeps between tests. */
const tsWorkerBootstrap = new URL('./helpers/ts-worker-entry.mjs', import.meta.url);

const utf8 = (s: string) => new TextEncoder().encode(s);
const fromUtf8 = (b: Uint8Array | number[]) => new TextDecoder().decode(Uint8Array.from(b));

/** `n` recognisable bytes; `tag` makes messages of the same length differ. */
const pattern = (n: number, tag: number) => Uint8Array.from({ length: n }, (_, i) => (tag * 37 + i * 7 + 1) & 0xff);

function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && a.length === b.length && Buffer.compare(a, b) === 0;
}

/** A short, readable description of a message for failure messages. */
function show(b: unknown): string {
  if (b === undefined) return 'undefined (the ring looked empty)';
  if (!(b instanceof Uint8Array)) return `${typeof b} ${String(b)}`;
  const printable = b.length > 0 && b.every((c) => c >= 0x20 && c < 0x7f);
  if (printable) return `"${fromUtf8(b)}"`;
  const hex = Array.from(b.subarray(0, 12), (c) => c.toString(16).padStart(2, '0')).join(' ');
  return `${b.length} bytes [${hex}${b.length > 12 ? ' ...' : ''}]`;
}

/** Move an empty ring's counters forward by `bytes` (at least 4) with filler messages sent and received. */
function advance(ch: Channel, bytes: number): void {
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
function attempt<T>(what: string, situation: string, fn: () => T, heading: string, expected: string): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof LearnerFacingError || (err as { code?: string }).code === 'ERR_NOT_IMPLEMENTED') throw err;
    return fail({ did: `${what} threw ${describeError(err)} (${situation})`, expected, lesson: lesson(heading) });
  }
}

/** What a correct ring does at the end of its buffer. */
const WRAP_EXPECTED =
  'the copy splits in two: bytes up to the end of the ring, then the rest from position 0, for the length prefix and the payload alike (a typed array\'s set() throws RangeError when asked to write past its end)';
/** What a correct ring does when its 32-bit counters overflow. */
const OVERFLOW_EXPECTED = 'the ring works wherever its counters are: positions are `counter & (capacity - 1)`, bytes in use are `(write - read) >>> 0`';

/** The outcome of a promise, without throwing. */
async function settle<T>(p: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

const isTimeoutError = (e: unknown) =>
  e instanceof ChannelTimeoutError && e instanceof ChannelError && e.code === 'ERR_CHANNEL_TIMEOUT';
const isTimeoutReport = (r: ErrorReport | undefined) => r?.name === 'ChannelTimeoutError' && r.code === 'ERR_CHANNEL_TIMEOUT';

/** Atomics.waitAsync, typed locally (the project's TypeScript lib is ES2023). */
type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (a: Int32Array, i: number, v: number, ms: number) =>
  (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, ms: number): WaitAsyncResult }).waitAsync(a, i, v, ms);

/** A reply from Bram's thread (tests/workers/01-thread.ts). */
interface Reply {
  id: number;
  ok: boolean;
  /** 'load' when the implementation could not be imported at all. */
  stage?: 'load';
  message?: Uint8Array;
  error?: ErrorReport;
  /** For the 10 MB transfer: the message it was sending when it failed, how many it sent, their SHA-256. */
  index?: number;
  count?: number;
  digest?: string;
  elapsedMs: number;
}

/**
 * Bram's thread: one Worker (tests/workers/01-thread.ts) that runs blocking calls of your Channel,
 * one at a time, shared by the tests of this file because a TypeScript Worker takes a few hundred ms
 * to start. It is retired (terminated) after any test whose call did not finish, so a stuck call
 * never leaks into the next test, and after the last test.
 */
class SecondThread {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  /** Send one request; resolves with its reply, rejects if the Worker dies. */
  request(req: Record<string, unknown>, retireIfUnfinished = true): Promise<Reply> {
    const worker = this.ensure();
    const id = this.nextId++;
    let done = false;
    const reply = new Promise<Reply>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    reply.then(
      () => (done = true),
      () => (done = true),
    );
    if (retireIfUnfinished) {
      onCleanup("Bram's thread", async () => {
        if (!done) await this.retire();
      });
    }
    worker.postMessage({ ...req, id, implPath: implPath() });
    return reply;
  }

  /**
   * Start the Worker and load your code in it ahead of the tests that need it, so their deadlines
   * do not include a TypeScript Worker's start-up (much longer on a busy machine). Never fails:
   * if loading goes wrong, the tests themselves report it.
   */
  async warmUp(ms: number): Promise<void> {
    try {
      await within(this.request({ kind: 'ping' }, false), ms, "starting Bram's thread");
    } catch {
      await this.retire();
    }
  }

  /** Terminate the Worker (even in the middle of Atomics.wait); the next request starts a new one. */
  async retire(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(tsWorkerBootstrap, { workerData: { __entry: workerEntry('01-thread.ts') } });
    worker.on('message', (r: Reply) => {
      const w = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      if (r.stage === 'load') w?.reject(new Error(`A Worker could not import ${implPath()}: ${describeError(r.error)}`));
      else w?.resolve(r);
    });
    const failAll = (err: Error) => {
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
      if (this.worker === worker) this.worker = undefined;
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`Bram's thread (a Worker) stopped, exit code ${code}`)));
    this.worker = worker;
    return worker;
  }
}

const bram = new SecondThread();
afterAll(() => bram.retire());
/** For the describe blocks that use Bram's thread. */
const warmUpBram = () => beforeAll(() => bram.warmUp(6_000));

/**
 * Run one blocking receive() or send() of your Channel in Bram's thread.
 * `asleep()` resolves once that thread has called Atomics.wait; `report()` gives the call's outcome.
 */
function blockingCall(op: 'receive' | 'send', ch: Channel, timeoutMs: number, message?: Uint8Array) {
  const probe = new Int32Array(new SharedArrayBuffer(4));
  const outcome = bram.request({ kind: op, buffer: ch.buffer, probe: probe.buffer, timeoutMs, message });
  outcome.catch(() => {});
  const call = op === 'receive' ? `receive(${timeoutMs})` : `send(${show(message)}, ${timeoutMs})`;
  return {
    call,
    /** Wait until the Worker's call is asleep in Atomics.wait. Fails if it returns or spins instead. */
    async asleep(situation: string): Promise<void> {
      const slept = waitAsync(probe, 0, 0, 4_000);
      const sleeping = slept.async ? slept.value.then(() => Atomics.load(probe, 0) > 0) : Promise.resolve(true);
      const first = await within(
        Promise.race([sleeping.then((s) => ({ slept: s })), outcome.then((r) => ({ report: r }))]),
        5_000,
        `the Worker's ${call}`,
      );
      if ('report' in first) {
        const r = first.report;
        fail({
          did: `${call} in a Worker, called ${situation}, did not wait: it ${r.ok ? `returned ${show(r.message)}` : `threw ${describeError(r.error)}`}`,
          expected: `${call} sleeps in Atomics.wait until the other side moves the counter, or its timeout runs out`,
          lesson: lesson('Atomics: load, store, wait, notify'),
        });
      }
      check(first.slept, {
        did: `${call} in a Worker, called ${situation}, neither returned nor called Atomics.wait within 4 s`,
        expected: 'a waiting thread sleeps in Atomics.wait; a loop that checks again and again burns a whole CPU core',
        lesson: lesson('Atomics: load, store, wait, notify'),
      });
      // The probe is bumped just before the real Atomics.wait; give the thread a moment to get into it.
      await pause(30);
    },
    /** The call's outcome, or a DeadlineError after `ms`. */
    report: (ms: number, advice: string) => within(outcome, ms, `the Worker's ${call}`, advice),
  };
}

/** Copy the channel's memory into a new buffer and attach a Channel to the copy: a look that changes nothing. */
function snapshot(ch: Channel): Channel {
  const copy = new SharedArrayBuffer(ch.buffer.byteLength);
  new Uint8Array(copy).set(new Uint8Array(ch.buffer));
  return new Channel(copy);
}

describe('a ring of messages, in one thread', () => {
  it('delivers messages in the order they were sent (FIFO)', () => {
    const ch = Channel.create(64);
    const notes = ['one', 'two', 'three'].map(utf8);
    let used = 0;
    for (const note of notes) {
      check(ch.trySend(note) === true, {
        did: `trySend(${show(note)}) returned false on a 64-byte ring with only ${used} bytes in use`,
        expected: 'true: the message and its 4-byte length prefix fit',
        lesson: lesson('A ring for one writer and one reader'),
      });
      used += LENGTH_PREFIX_BYTES + note.length;
    }
    const got = notes.map(() => ch.tryReceive());
    check(got.every((g, i) => same(g, notes[i])), {
      did: `sent "one", "two", "three"; tryReceive() gave ${got.map(show).join(', ')}`,
      expected: '"one", "two", "three": each message once, in the order sent',
      lesson: lesson('A ring for one writer and one reader'),
    });
    const after = ch.tryReceive();
    check(after === undefined, {
      did: `after all three messages were received, tryReceive() returned ${show(after)}`,
      expected: 'undefined: the ring is empty again',
      lesson: lesson('A ring for one writer and one reader'),
    });

    // Random traffic against a model queue: sends and receives interleaved, the ring wrapping many times.
    const seed = testSeed();
    const rand = seededRandom(seed);
    const ring = Channel.create(256);
    const model: Uint8Array[] = [];
    used = 0;
    const log: string[] = [];
    for (let step = 0; step < 3_000; step++) {
      if (rand() < 0.55) {
        const message = randomBytes(rand, randomInt(rand, 0, 40));
        const fits = ring.capacity - used >= LENGTH_PREFIX_BYTES + message.length;
        const ok = ring.trySend(message);
        log.push(`trySend(${message.length} bytes) -> ${ok}`);
        check(ok === fits, () => ({
          did: `step ${step}: trySend of a ${message.length}-byte message returned ${ok} with ${used} of ${ring.capacity} bytes in use`,
          expected: `${fits}: a message takes 4 + length bytes, and a ring has room while used + 4 + length <= capacity`,
          lesson: lesson('Full or empty?'),
          extra: `Last steps: ${log.slice(-6).join(', ')}\n${replayHint(seed)}`,
        }));
        if (ok) {
          model.push(message);
          used += LENGTH_PREFIX_BYTES + message.length;
        }
      } else {
        const want = model.shift();
        const got1 = ring.tryReceive();
        log.push(`tryReceive() -> ${got1 === undefined ? 'undefined' : `${got1.length} bytes`}`);
        check(want === undefined ? got1 === undefined : same(got1, want), () => ({
          did: `step ${step}: tryReceive() returned ${show(got1)}`,
          expected: want === undefined ? 'undefined: every message sent so far was already received' : `the oldest message not yet received: ${show(want)}`,
          lesson: lesson('A ring for one writer and one reader'),
          extra: `Last steps: ${log.slice(-6).join(', ')}\n${replayHint(seed)}`,
        }));
        if (want) used -= LENGTH_PREFIX_BYTES + want.length;
      }
    }
  });

  it('wraps messages around the end of the buffer, even when the length prefix is split', () => {
    const capacity = 64;
    const sizes = [0, 1, 3, 4, 5, 17, 31, 59, 60];
    for (let start = 0; start < capacity; start++) {
      const ch = Channel.create(capacity);
      // Move to position `start` the long way round, so that the counters are past one full lap.
      attempt('moving the ring forward', `two fillers totalling ${start + capacity} bytes`, () => advance(ch, start + capacity), 'Wraparound', WRAP_EXPECTED);
      let at = start;
      for (const n of sizes) {
        const message = pattern(n, start);
        const prefixEnd = at + LENGTH_PREFIX_BYTES;
        const where =
          prefixEnd > capacity
            ? `the 4-byte length prefix starts at position ${at}, so it is split ${capacity - at} + ${prefixEnd - capacity} bytes across the end`
            : prefixEnd + n > capacity && prefixEnd < capacity
              ? `the payload starts at position ${prefixEnd}, so it is split ${capacity - prefixEnd} + ${prefixEnd + n - capacity} bytes across the end`
              : `it starts at position ${at}`;
        const situation = `a ${n}-byte message in a ${capacity}-byte ring; ${where}`;
        const sent = attempt('trySend', situation, () => ch.trySend(message), 'Wraparound', WRAP_EXPECTED);
        check(sent === true, {
          did: `trySend returned false for ${situation}, with the ring empty`,
          expected: 'true: an empty ring has room for any message up to capacity - 4 bytes, wherever its counters are',
          lesson: lesson('Wraparound'),
        });
        const got = attempt('tryReceive', situation, () => ch.tryReceive(), 'Wraparound', WRAP_EXPECTED);
        check(same(got, message), {
          did: `for ${situation}, tryReceive() returned ${show(got)}`,
          expected: `the same ${show(message)}: copy up to the end of the ring, then the rest from position 0, for the prefix and the payload alike`,
          lesson: lesson('Wraparound'),
        });
        at = (at + LENGTH_PREFIX_BYTES + n) % capacity;
      }
    }
  });

  it('keeps working when the 32-bit counters pass 2^31 and wrap past 2^32', () => {
    const starts = [
      { value: 0x7fff_ffff - 100, label: '2^31 - 101 (the Int32 slot turns negative soon)' },
      { value: -100, label: '2^32 - 100 (the counter wraps to 0 soon)' },
    ];
    for (const { value, label } of starts) {
      const ch = Channel.create(64);
      const control = new Int32Array(ch.buffer, 0, CONTROL_BYTES / 4);
      control[WRITE_SLOT] = value;
      control[READ_SLOT] = value;
      for (let i = 0; i < 60; i++) {
        const a = pattern(i % 29, i);
        const b = pattern((i * 7) % 23, i + 1);
        const situation = `both counters started at ${label}, message pair #${i}`;
        const sent = attempt('trySend', situation, () => [ch.trySend(a), ch.trySend(b)], 'Counters that overflow', OVERFLOW_EXPECTED);
        const got = attempt('tryReceive', situation, () => [ch.tryReceive(), ch.tryReceive()], 'Counters that overflow', OVERFLOW_EXPECTED);
        check(sent[0] && sent[1] && same(got[0], a) && same(got[1], b), {
          did: `${situation}: trySend gave ${sent.join(' and ')}, tryReceive gave ${got.map(show).join(' and ')} (write counter now ${Atomics.load(control, WRITE_SLOT)}, read counter ${Atomics.load(control, READ_SLOT)})`,
          expected: `both sent (true) and received unchanged: ${show(a)} and ${show(b)}`,
          lesson: lesson('Counters that overflow'),
          extra: 'An Int32 slot reads back negative after 2^31, and `-5 % 64` is -5 in JavaScript: use `counter & (capacity - 1)` for positions and `(write - read) >>> 0` for the bytes in use.',
        });
      }
    }
  });

  it('accepts a message that exactly fills the free space', () => {
    for (const start of [0, 13, 42]) {
      const ch = Channel.create(64);
      if (start > 0) advance(ch, start);
      const where = start === 0 ? 'a new 64-byte ring' : `a 64-byte ring whose counters are at position ${start}`;
      const biggest = pattern(60, 1);
      check(ch.trySend(biggest) === true, {
        did: `trySend of a 60-byte message into ${where}, empty, returned false`,
        expected: 'true: 4 prefix bytes + 60 bytes = 64, exactly the capacity. All of the ring is usable, no byte kept free',
        lesson: lesson('Full or empty?'),
      });
      const got = ch.tryReceive();
      check(same(got, biggest), {
        did: `after a 60-byte message filled ${where} exactly, tryReceive() returned ${show(got)}`,
        expected: `the 60-byte message, ${show(biggest)}`,
        lesson: lesson('Full or empty?'),
      });

      const first = pattern(20, 2);
      const rest = pattern(36, 3);
      ch.trySend(first);
      check(ch.trySend(rest) === true, {
        did: `with a 20-byte message in ${where} (24 bytes used, 40 free), trySend of a 36-byte message returned false`,
        expected: 'true: 4 + 36 = 40 bytes, exactly the free space',
        lesson: lesson('Full or empty?'),
      });
      check(ch.trySend(new Uint8Array(0)) === false, {
        did: 'with all 64 bytes in use, trySend of an empty message returned true',
        expected: 'false: even an empty message needs 4 bytes for its length prefix',
        lesson: lesson('Full or empty?'),
      });
      const [g1, g2] = [ch.tryReceive(), ch.tryReceive()];
      check(same(g1, first) && same(g2, rest), {
        did: `after filling the ring exactly, tryReceive() gave ${show(g1)} then ${show(g2)}`,
        expected: `${show(first)} then ${show(rest)}`,
        lesson: lesson('Full or empty?'),
      });
    }
  });

  it('tells a full ring from an empty one', () => {
    for (const start of [0, 20]) {
      const ch = Channel.create(64);
      if (start > 0) advance(ch, start);
      const where = start === 0 ? 'a new 64-byte ring' : `a 64-byte ring whose counters were at position ${start}`;
      const fresh = ch.tryReceive();
      check(fresh === undefined, {
        did: `tryReceive() on ${where}, with nothing sent, returned ${show(fresh)}`,
        expected: 'undefined: the ring is empty',
        lesson: lesson('Full or empty?'),
      });
      const a = pattern(28, 4);
      const b = pattern(28, 5);
      check(ch.trySend(a) && ch.trySend(b), {
        did: `two 28-byte messages (32 bytes each with their prefix) did not both fit in ${where}`,
        expected: 'both fit: 32 + 32 = 64 bytes',
        lesson: lesson('Full or empty?'),
      });
      // Now the write position has gone all the way round to the read position.
      const extra = ch.trySend(new Uint8Array(0));
      check(extra === false, {
        did: 'the ring was full (64 of 64 bytes in use) and trySend of one more, empty message (4 bytes with its prefix) returned true',
        expected: 'false. When full, the write position equals the read position, just as when empty: compare positions only and a full ring looks empty, so the sender overwrites unread messages',
        lesson: lesson('Full or empty?'),
      });
      const g1 = ch.tryReceive();
      check(same(g1, a), {
        did: `the ring was full (64 of 64 bytes in use) and tryReceive() returned ${show(g1)}`,
        expected: `the first message, ${show(a)}. When full, the write position equals the read position, just as when empty: free-running counters (write - read = 64) tell the two apart`,
        lesson: lesson('Full or empty?'),
      });
      const g2 = ch.tryReceive();
      const g3 = ch.tryReceive();
      check(same(g2, b) && g3 === undefined, {
        did: `then tryReceive() gave ${show(g2)}, then ${show(g3)}`,
        expected: `${show(b)}, then undefined (empty again)`,
        lesson: lesson('Full or empty?'),
      });
    }
  });

  it('rejects an oversize message with MessageTooLargeError (ERR_MESSAGE_TOO_LARGE)', () => {
    const ch = Channel.create(64);
    const hello = utf8('hi');
    for (const state of ['empty', 'holding one message'] as const) {
      if (state === 'holding one message') ch.trySend(hello);
      const tooBig = new Uint8Array(61);
      let returned: unknown;
      let thrown: unknown;
      try {
        returned = ch.trySend(tooBig);
      } catch (err) {
        thrown = err;
      }
      check(thrown instanceof MessageTooLargeError && thrown instanceof ChannelError && thrown.code === 'ERR_MESSAGE_TOO_LARGE', {
        did: `trySend of a 61-byte message into a 64-byte ring (${state}) ${thrown ? `threw ${describeError(thrown)}` : `returned ${String(returned)}`}`,
        expected:
          'it throws MessageTooLargeError with code ERR_MESSAGE_TOO_LARGE: 4 + 61 = 65 bytes can never fit in 64, so "false" (try again later) would keep a sender retrying forever',
        lesson: lesson('Length prefixes'),
      });
    }
    let viaSend: unknown;
    try {
      ch.send(new Uint8Array(100), 20);
    } catch (err) {
      viaSend = err;
    }
    check(viaSend instanceof MessageTooLargeError, {
      did: `send() of a 100-byte message into a 64-byte ring ${viaSend ? `threw ${describeError(viaSend)}` : 'returned normally'}`,
      expected: 'MessageTooLargeError at once, not a wait and a ChannelTimeoutError: no amount of waiting makes room for it',
      lesson: lesson('Length prefixes'),
    });
    const [g1, g2] = [ch.tryReceive(), ch.tryReceive()];
    check(same(g1, hello) && g2 === undefined, {
      did: `after the rejected messages, the ring gave ${show(g1)} then ${show(g2)}`,
      expected: 'only "hi", then undefined: a rejected message leaves the ring untouched',
      lesson: lesson('Length prefixes'),
    });
  });

  it('hands out a copy: a received message does not change when its bytes are reused', () => {
    const ch = Channel.create(64);
    const first = utf8('Ada: first note, keep it');
    ch.trySend(first);
    const got = ch.tryReceive();
    check(same(got, first), {
      did: `tryReceive() returned ${show(got)}`,
      expected: show(first),
      lesson: lesson('A ring for one writer and one reader'),
    });
    const kept = Uint8Array.from(got!);
    // The next message is longer than the space left before the end: it wraps over the first one's old bytes.
    const second = new Uint8Array(56).fill(0x42);
    ch.trySend(second);
    check(same(got, kept), {
      did: `the message returned earlier as ${show(kept)} now reads ${show(got)}: the next send wrote over it`,
      expected: 'a received message is the receiver\'s own copy; once the read counter moves on, the sender may reuse those ring bytes at any time',
      lesson: lesson('A ring for one writer and one reader'),
    });
  });
});

describe('waiting and waking', () => {
  warmUpBram();

  it('a receiver waiting in receiveAsync is woken by a send', async () => {
    const ch = Channel.create(64);
    const note = utf8('Ada: are you awake?');
    const pending = ch.receiveAsync(5_000);
    pending.catch(() => {});
    // The ring is empty, so the receiver is now waiting (Atomics.waitAsync).
    await pause(20);
    check(ch.trySend(note) === true, { did: 'trySend into an empty ring returned false', expected: 'true', lesson: lesson('A ring for one writer and one reader') });
    let got: Uint8Array;
    try {
      got = await within(pending, 1_500, 'receiveAsync(5000)');
    } catch (err) {
      if (!(err instanceof DeadlineError)) throw err;
      fail({
        did: 'receiveAsync(5000) was still waiting 1.5 s after trySend had put a message into the ring',
        expected:
          'the send wakes the waiting receiver at once: trySend stores the new write counter, then calls Atomics.notify on it (the slot the receiver waits on)',
        lesson: lesson('Atomics: load, store, wait, notify'),
      });
    }
    check(same(got, note), { did: `receiveAsync resolved with ${show(got)}`, expected: show(note), lesson: lesson('Atomics: load, store, wait, notify') });
  });

  it('a receiver blocked in receive() inside a Worker is woken by a send', async () => {
    const ch = Channel.create(64);
    const note = utf8('Ada: wake up, Bram');
    const call = blockingCall('receive', ch, 5_000);
    await call.asleep('on an empty ring');
    ch.trySend(note);
    let r: Reply;
    try {
      r = await call.report(1_500, '');
    } catch (err) {
      if (!(err instanceof DeadlineError)) throw err;
      fail({
        did: `receive(5000) in a Worker was asleep in Atomics.wait; trySend put a message into the ring, and 1.5 s later the Worker was still asleep`,
        expected: 'trySend stores the new write counter, then calls Atomics.notify on that slot, which wakes the sleeping receiver at once',
        lesson: lesson('Atomics: load, store, wait, notify'),
      });
    }
    check(r.ok && same(r.message, note), {
      did: `receive(5000) in the Worker ${r.ok ? `returned ${show(r.message)}` : `threw ${describeError(r.error)}`}`,
      expected: `it returns ${show(note)}`,
      lesson: lesson('Atomics: load, store, wait, notify'),
    });
  });

  it('a sender blocked on a full ring is woken when the receiver makes room (a send waiting in a Worker)', async () => {
    const ch = Channel.create(64);
    const filler = pattern(60, 6);
    const note = pattern(20, 7);
    ch.trySend(filler);
    const call = blockingCall('send', ch, 5_000, note);
    await call.asleep('on a full ring');
    const first = ch.tryReceive();
    check(same(first, filler), { did: `tryReceive() returned ${show(first)}`, expected: show(filler), lesson: lesson('A ring for one writer and one reader') });
    let r: Reply;
    try {
      r = await call.report(1_500, '');
    } catch (err) {
      if (!(err instanceof DeadlineError)) throw err;
      fail({
        did: 'send() in a Worker was asleep waiting for room; tryReceive() emptied the ring, and 1.5 s later the sender was still asleep',
        expected: 'tryReceive stores the new read counter, then calls Atomics.notify on it, which wakes the sleeping sender',
        lesson: lesson('Atomics: load, store, wait, notify'),
      });
    }
    check(r.ok, { did: `send() in the Worker threw ${describeError(r.error)}`, expected: 'it returns once there is room', lesson: lesson('Atomics: load, store, wait, notify') });
    const got = ch.tryReceive();
    check(same(got, note), { did: `the message the Worker sent arrived as ${show(got)}`, expected: show(note), lesson: lesson('A ring for one writer and one reader') });
  });

  it('publishes the message before notifying, so a woken receiver finds it', async () => {
    const ch = Channel.create(64);
    // Watch Atomics.notify in this thread: each time the learner's code calls it on this channel,
    // look at the shared memory through a copy. A woken thread sees at least what is there now.
    const realNotify = Atomics.notify;
    onCleanup('restore Atomics.notify', () => {
      Atomics.notify = realNotify;
    });
    interface Watch {
      look: (view: Channel) => string | undefined;
      calls: number;
      problem?: string;
    }
    let watching: Watch | undefined;
    Atomics.notify = ((array: Int32Array, index: number, count?: number) => {
      const w = watching;
      if (w && array.buffer === ch.buffer) {
        watching = undefined; // the look below runs your code on the copy: do not watch that
        w.calls++;
        try {
          w.problem ??= w.look(snapshot(ch));
        } catch (err) {
          w.problem ??= `looking at a copy of the ring through a second Channel threw ${describeError(err)}`;
        }
        watching = w;
      }
      return realNotify(array, index, count);
    }) as typeof Atomics.notify;
    /** Run `fn` (a call of your code) while watching its Atomics.notify calls on this channel. */
    const watch = (look: Watch['look'], fn: () => unknown): Watch => {
      const w: Watch = { look, calls: 0 };
      watching = w;
      try {
        fn();
      } finally {
        watching = undefined;
      }
      return w;
    };
    const lostWakeUp = (method: string, w: Watch) =>
      check(!w.problem, {
        did: `when your ${method} called Atomics.notify, ${w.problem}`,
        expected: 'store (publish) the counter first, then notify: a thread woken by the notify must find the change already there',
        lesson: lesson('Memory ordering: publish, then notify'),
      });
    const sentLook = (message: Uint8Array) => (view: Channel) => {
      const seen = view.tryReceive();
      return same(seen, message)
        ? undefined
        : `the write index still said the ring was empty: a receiver woken then finds nothing and sleeps again (a lost wake-up)`;
    };

    // 1. trySend, with a receiver really waiting (so even a send that notifies only when needed must notify).
    const m1 = utf8('Ada: first');
    const waiter = ch.receiveAsync(2_000);
    waiter.catch(() => {});
    const s1 = watch(sentLook(m1), () => ch.trySend(m1));
    check(s1.calls > 0, {
      did: 'trySend put a message into the ring while a receiver was waiting in receiveAsync, and never called Atomics.notify on the channel',
      expected: 'publish the write counter, then Atomics.notify on it, or the waiting receiver sleeps until its timeout',
      lesson: lesson('Memory ordering: publish, then notify'),
    });
    lostWakeUp('trySend', s1);
    const g1 = await within(waiter, 2_000, 'receiveAsync(2000) after a send');
    check(same(g1, m1), { did: `receiveAsync resolved with ${show(g1)}`, expected: show(m1), lesson: lesson('A ring for one writer and one reader') });

    // 2. The blocking send(), on a ring with room: it returns at once, and any notify must come after publishing.
    const m2 = utf8('Ada: second');
    lostWakeUp('send', watch(sentLook(m2), () => ch.send(m2, 1_000)));
    ch.tryReceive();

    // 3. tryReceive on a full ring: if it notifies a sender, the room must already be visible.
    const a = pattern(28, 8);
    ch.trySend(a);
    ch.trySend(pattern(28, 9));
    const r3 = watch(
      (view) =>
        view.trySend(new Uint8Array(a.length))
          ? undefined
          : 'the read counter still said the ring was full: a sender woken then finds no room and sleeps again (a lost wake-up)',
      () => ch.tryReceive(),
    );
    lostWakeUp('tryReceive', r3);
    Atomics.notify = realNotify;
  });
});

describe('timeouts: a lost wake-up or deadlock fails, never hangs', () => {
  warmUpBram();

  it('receiveAsync on an empty ring rejects with ChannelTimeoutError after its timeout', async () => {
    const ch = Channel.create(64);
    const t0 = performance.now();
    const outcome = await within(
      settle(ch.receiveAsync(100)),
      2_000,
      'receiveAsync(100) on an empty ring',
      'It must give up by itself: pass the time left to Atomics.waitAsync, and when it wakes with the deadline passed, reject.',
    );
    const elapsed = performance.now() - t0;
    if ('value' in outcome) {
      fail({ did: `receiveAsync(100) on a ring nobody sent to resolved with ${show(outcome.value)}`, expected: 'a rejection with ChannelTimeoutError', lesson: lesson('Waiting with a deadline') });
    }
    check(isTimeoutError(outcome.error), {
      did: `receiveAsync(100) on an empty ring rejected with ${describeError(outcome.error)}`,
      expected: 'a ChannelTimeoutError (code ERR_CHANNEL_TIMEOUT), so the caller can tell "nothing came" from a bug',
      lesson: lesson('Waiting with a deadline'),
    });
    check(elapsed >= 90, {
      did: `receiveAsync(100) gave up after ${elapsed.toFixed(0)} ms`,
      expected: 'it waits the whole 100 ms before giving up',
      lesson: lesson('Waiting with a deadline'),
    });
  });

  it('receive() on an empty ring throws ChannelTimeoutError after its timeout (in a Worker)', async () => {
    const ch = Channel.create(64);
    const call = blockingCall('receive', ch, 100);
    const r = await call.report(
      5_000,
      'It must give up by itself: pass the time left to Atomics.wait, and when it wakes with the deadline passed, throw.',
    );
    check(!r.ok && isTimeoutReport(r.error), {
      did: `receive(100) on a ring nobody sent to ${r.ok ? `returned ${show(r.message)}` : `threw ${describeError(r.error)}`}`,
      expected: 'it throws ChannelTimeoutError (code ERR_CHANNEL_TIMEOUT)',
      lesson: lesson('Waiting with a deadline'),
    });
    check(r.elapsedMs >= 90, {
      did: `receive(100) gave up after ${r.elapsedMs.toFixed(0)} ms`,
      expected: 'it waits the whole 100 ms before giving up',
      lesson: lesson('Waiting with a deadline'),
    });
  });

  it('send() on a full ring that nobody drains throws ChannelTimeoutError (a deadlock, in a Worker)', async () => {
    const ch = Channel.create(64);
    const filler = pattern(60, 10);
    ch.trySend(filler);
    const call = blockingCall('send', ch, 100, pattern(10, 11));
    const r = await call.report(
      5_000,
      'It must give up by itself: pass the time left to Atomics.wait, and when it wakes with the deadline passed, throw.',
    );
    check(!r.ok && isTimeoutReport(r.error), {
      did: `send() of 10 bytes into a full ring that nobody drains ${r.ok ? 'returned normally' : `threw ${describeError(r.error)}`}`,
      expected: 'it throws ChannelTimeoutError (code ERR_CHANNEL_TIMEOUT) after 100 ms: two threads each waiting for the other is a deadlock, and only a timeout ends it',
      lesson: lesson('Waiting with a deadline'),
    });
    check(r.elapsedMs >= 90, {
      did: `send(…, 100) gave up after ${r.elapsedMs.toFixed(0)} ms`,
      expected: 'it waits the whole 100 ms before giving up',
      lesson: lesson('Waiting with a deadline'),
    });
    const [g1, g2] = [ch.tryReceive(), ch.tryReceive()];
    check(same(g1, filler) && g2 === undefined, {
      did: `after the send timed out, the ring gave ${show(g1)} then ${show(g2)}`,
      expected: 'only the 60-byte message that filled it: a send that gives up leaves the ring untouched',
      lesson: lesson('Waiting with a deadline'),
    });
  });
});

describe('two threads, one ring', () => {
  warmUpBram();

  it('a Worker sends 10 MB of messages with no loss, duplication or tearing (checked by hash)', async () => {
    const seed = testSeed();
    const plan = traffic(seed);
    const count = plan.sizes.length;
    const ch = Channel.create(64 * 1024);
    const outcome = bram.request({ kind: 'produce', buffer: ch.buffer, seed, timeoutMs: 2_000 });
    // Rejects as soon as the sending Worker reports a failure; never resolves otherwise.
    const producerFailed = new Promise<never>((_, reject) => {
      outcome.then((r) => {
        if (!r.ok) reject(new Error(`The sending Worker failed at message #${r.index} of ${count}: its send() threw ${describeError(r.error)}`));
      }, reject);
    });
    producerFailed.catch(() => {});

    const hash = createHash('sha256');
    const prefix = Buffer.alloc(4);
    const replay = replayHint(seed);
    for (let i = 0; i < count; i++) {
      let got = ch.tryReceive();
      if (got === undefined) {
        try {
          got = await within(Promise.race([ch.receiveAsync(2_000), producerFailed]), 3_000, `receiving message #${i} of ${count}`);
        } catch (err) {
          if (!isTimeoutError(err) && !(err instanceof DeadlineError)) throw err;
          const control = new Int32Array(ch.buffer, 0, CONTROL_BYTES / 4);
          const used = (Atomics.load(control, WRITE_SLOT) - Atomics.load(control, READ_SLOT)) >>> 0;
          fail({
            did: `after ${i} of ${count} messages, nothing more arrived for 2 s (the ring holds ${used} of ${ch.capacity} bytes; receiveAsync ${err instanceof DeadlineError ? 'never settled' : 'timed out'})`,
            expected: 'a steady stream: the sender refills the ring as soon as the receiver makes room',
            lesson: lesson('Atomics: load, store, wait, notify'),
            extra: `The sender sleeps in send() while the ring is full. If tryReceive never calls Atomics.notify on the read counter, it sleeps until its own timeout, every time.\n${replay}`,
          });
        }
      }
      const want = plan.message(i);
      if (!same(got, want)) {
        const lost = same(got, plan.message(i + 1));
        const dup = i > 0 && same(got, plan.message(i - 1));
        let diff = 0;
        while (diff < Math.min(got.length, want.length) && got[diff] === want[diff]) diff++;
        fail({
          did: lost
            ? `message #${i} was lost: #${i + 1} arrived in its place`
            : dup
              ? `message #${i - 1} arrived twice`
              : `message #${i} arrived torn: ${got.length} bytes (expected ${want.length}), first wrong byte at offset ${diff}`,
          expected: `all ${count} messages (${(plan.totalBytes / 2 ** 20).toFixed(1)} MiB) arrive once each, in order, byte for byte`,
          lesson: lesson('Memory ordering: publish, then notify'),
          extra: `Torn or repeated data means one side touched bytes the other still owned: copy in, then publish the write counter; copy out, then publish the read counter.\n${replay}`,
        });
      }
      prefix.writeUInt32LE(got.length);
      hash.update(prefix).update(got);
    }
    const report = await within(Promise.race([outcome, producerFailed]), 2_000, 'the sending Worker\'s final report');
    const digest = hash.digest('hex');
    check(report.digest === digest && report.count === count, {
      did: `the receiver's SHA-256 of all messages is ${digest.slice(0, 16)}…, the sender's is ${report.digest?.slice(0, 16)}…`,
      expected: 'the same hash on both sides',
      lesson: lesson('Memory ordering: publish, then notify'),
      extra: replay,
    });
    const extra = ch.tryReceive();
    check(extra === undefined, {
      did: `after all ${count} messages, the ring still held ${show(extra)}`,
      expected: 'an empty ring: nothing duplicated',
      lesson: lesson('A ring for one writer and one reader'),
      extra: replay,
    });
  });
});

describe('copying vs sharing', () => {
  /** Start the keeper Worker (plain JavaScript: it runs none of your code); `look(i)` asks what note #i holds now. */
  function keeper() {
    const worker = track(new Worker(new URL('./workers/01-keeper.mjs', import.meta.url)), 'keeper worker');
    const look = async (i: number) => {
      const reply = once(worker, 'message') as Promise<[{ bytes: number[] | null; shared: boolean; type?: string }]>;
      worker.postMessage({ look: i });
      const [seen] = await within(reply, 5_000, 'the receiving Worker');
      return { ...seen, text: seen.bytes ? fromUtf8(seen.bytes) : `(not a Uint8Array: ${seen.type})` };
    };
    return { worker, look };
  }

  it('data posted with postMessage is a copy: later changes do not reach the receiver', async () => {
    const { worker, look } = keeper();
    const original = 'Ada: meet at noon.';

    const note = utf8(original);
    postCopy(worker, note);
    check(note.length === original.length, {
      did: `after postCopy(worker, note), the sender's note had ${note.length} bytes left: its buffer was transferred away, not copied`,
      expected: 'the sender keeps its note; only a copy travels',
      lesson: lesson('Copying versus sharing'),
    });
    note.set(utf8('nine'), 13);
    const seen0 = await look(0);
    check(seen0.text === original && !seen0.shared, {
      did: `the sender changed its note to "${fromUtf8(note)}" after posting; the Worker now holds "${seen0.text}"${seen0.shared ? ' in a SharedArrayBuffer' : ''}`,
      expected: `"${original}": the Worker got its own copy when the note was posted`,
      lesson: lesson('Copying versus sharing'),
    });

    // A note that lives in shared memory, like a message still inside the ring.
    const sharedNote = new Uint8Array(new SharedArrayBuffer(original.length));
    sharedNote.set(utf8(original));
    postCopy(worker, sharedNote);
    sharedNote.set(utf8('nine'), 13);
    const seen1 = await look(1);
    check(seen1.text === original && !seen1.shared, {
      did: `postCopy got a note that lives in a SharedArrayBuffer; the sender then changed it to "${fromUtf8(sharedNote)}", and the Worker now holds "${seen1.text}"${seen1.shared ? ', in that same SharedArrayBuffer' : ''}`,
      expected: `"${original}": postMessage copies ordinary memory but shares a SharedArrayBuffer, so copy the bytes into ordinary memory first`,
      lesson: lesson('Copying versus sharing'),
    });
  });

  it('data posted in a SharedArrayBuffer is shared: the receiver sees later changes', async () => {
    const { worker, look } = keeper();
    const original = 'Ada: meet at noon.';
    const note = utf8(original);
    const view = postShared(worker, note);
    check(view instanceof Uint8Array && view.buffer instanceof SharedArrayBuffer && view.length === note.length, {
      did: `postShared returned ${view instanceof Uint8Array ? `a ${view.length}-byte view of ${view.buffer.constructor.name}` : String(view)}`,
      expected: `a ${note.length}-byte Uint8Array over a new SharedArrayBuffer, holding the note`,
      lesson: lesson('SharedArrayBuffer: one memory, two threads'),
    });
    view.set(utf8('nine'), 13);
    const seen = await look(0);
    check(seen.shared && seen.text === 'Ada: meet at nine.', {
      did: `the sender changed its shared view to "${fromUtf8(view)}"; the Worker holds "${seen.text}"${seen.shared ? '' : ', in ordinary (copied) memory'}`,
      expected: '"Ada: meet at nine.": both threads look at the same SharedArrayBuffer',
      lesson: lesson('SharedArrayBuffer: one memory, two threads'),
    });
  });

  it('a forked child process has its own memory: what it writes never reaches our ring', async () => {
    const ring = Channel.create(256);
    const ours = 'Ada (parent process): hello';
    check(ring.trySend(utf8(ours)), { did: 'trySend into an empty ring returned false', expected: 'true', lesson: lesson('A ring for one writer and one reader') });

    const child = track(
      fork(workerEntry('01-child.ts'), [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
      'forked child process',
    );
    // A SharedArrayBuffer cannot cross a process boundary; the child gets a copy of the ring's bytes.
    child.send({ implPath: implPath(), memory: new Uint8Array(ring.buffer).slice() });
    const [reply] = (await within(
      once(child, 'message'),
      6_000,
      'the forked child process',
      'Starting a Node process takes a moment; on a busy machine, run the test again.',
    )) as [{ ok: boolean; pid: number; received?: number[] | null; sent?: boolean; error?: ErrorReport }];
    if (!reply.ok) {
      fail({ did: `in the child process, your Channel threw ${describeError(reply.error)}`, expected: 'the child attaches to its copy of the ring and uses it', lesson: lesson('Virtual memory: why processes cannot see each other') });
    }
    check(reply.received && fromUtf8(reply.received) === ours && reply.sent === true, {
      did: `the child (pid ${reply.pid}), attached to a copy of the ring, received ${reply.received ? `"${fromUtf8(reply.received)}"` : 'nothing'} and trySend returned ${reply.sent}`,
      expected: `it finds "${ours}" in its copy (the copy holds the counters and bytes), and its reply fits`,
      lesson: lesson('A ring for one writer and one reader'),
    });
    const g1 = ring.tryReceive();
    const g2 = ring.tryReceive();
    check(same(g1, utf8(ours)) && g2 === undefined, {
      did: `after the child process read our message and wrote "${CHILD_NOTE}" into its memory, our ring gave ${show(g1)} then ${show(g2)}`,
      expected: `"${ours}" (the child's read changed only its copy), then undefined (its write never reached us)`,
      lesson: lesson('Virtual memory: why processes cannot see each other'),
    });
  });
});
