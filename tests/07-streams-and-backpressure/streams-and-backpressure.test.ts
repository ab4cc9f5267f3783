/**
 * Chapter 07 · Queues on both ends.
 *
 * Part 1 drives the learner's ByteStream with short scripts and a long seeded random run,
 * checked against a plain model of a bounded queue.
 *
 * Part 2 runs the learner's relay between real sockets on loopback:
 *
 *   producer ──tcp──▶ a ╶ your relay ╴ b ──tcp──▶ consumer
 *
 * The test opens all four sockets itself, so it reads the buffers of the relay's two sockets
 * (readableLength, writableLength) on its own, every millisecond or so, and takes the larger of
 * that and the relay's own `stats().buffered`. Memory is sampled, not assumed. Data is checked
 * byte for byte against a seeded pattern, so a failure names the first wrong byte.
 */
import { once } from 'node:events';
import net from 'node:net';
import { describe, it } from 'vitest';
import { BadCapacityError, ByteStream, ByteStreamError, MAX_CAPACITY, StreamClosedError, StreamErroredError } from '@impl/07-streams-and-backpressure/exercise.ts';
import type { Relay } from '@impl/07-streams-and-backpressure/relay.ts';
import { relay } from '@impl/07-streams-and-backpressure/relay.ts';
import {
  DeadlineError,
  Transcript,
  eventually,
  check,
  fail,
  listen,
  pause,
  randomBytes,
  randomInt,
  replayHint,
  seeLesson,
  seededRandom,
  tapSocket,
  testSeed,
  track,
  within,
  until,
} from '../helpers/index.ts';

const ID = '07-streams-and-backpressure';
const see = (heading: string) => seeLesson(ID, heading);
const seed = testSeed();

const KiB = 1024;
const MiB = 1024 * KiB;

/** The highWaterMark of the relay's two sockets (set by the test, the same on every Node version). */
const HWM = 64 * KiB;
/**
 * The bound on what the relay may hold. A relay that respects write()'s return value holds at
 * most about HWM plus one 64 KiB read in each of the four buffers it can fill (the read and write
 * buffers of a and b): 512 KiB. The bound leaves twice that.
 */
const BOUND = 1 * MiB;
/** What the load test moves from the producer to the consumer. */
const TOTAL = 100 * MiB;
/** The producer's writes, and the unit of the test pattern. */
const CHUNK = 64 * KiB;
/** The consumer of the load test stops reading each time this much more has arrived... */
const PAUSE_EVERY = 10 * MiB;
/** ...until the producer has been blocked (its write() returned false) this long: the whole line is full (or it has sent everything)... */
const BLOCKED_MS = 15;
/** ...or the producer is this far ahead of the consumer (a backstop: the kernel buffers of this line hold about 10 MiB on Linux)... */
const MAX_GAP = 32 * MiB;
/** ...or this long has passed. */
const MAX_PAUSE_MS = 1_000;
/** The deadline for the whole 100 MiB; on an idle machine it takes about one second. */
const TRANSFER_MS = 6_500;

// ---------------------------------------------------------------------------------------------
// Test-side helpers. Only startRelay and the Sampler (through stats()) touch the code under test.
// ---------------------------------------------------------------------------------------------

/** "1.00 MiB", "64.0 KiB", "12 B". */
function size(n: number): string {
  if (Math.abs(n) >= MiB) return `${(n / MiB).toFixed(2)} MiB`;
  if (Math.abs(n) >= KiB) return `${(n / KiB).toFixed(1)} KiB`;
  return `${n} B`;
}
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const cap = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** "threw StreamClosedError ERR_STREAM_CLOSED (push after close ...)" */
function thrown(e: unknown): string {
  if (!(e instanceof Error)) return `threw ${String(e)}`;
  const code = (e as { code?: unknown }).code;
  return `threw ${e.name}${code ? ` ${String(code)}` : ''} (${e.message})`;
}

/** Bytes as spaced hex, shortened: "00 01 02 ... (40 bytes)". */
function hex(b: Uint8Array, max = 16): string {
  const shown = Array.from(b.subarray(0, max), (x) => x.toString(16).padStart(2, '0')).join(' ');
  return b.length > max ? `${shown} ... (${b.length} bytes)` : `[${shown}]`;
}
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const seq = (from: number, n: number) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

/**
 * A long, seeded, non-repeating byte stream: chunk k is a 64 KiB window of a 1 MiB random pool at
 * an offset that differs from chunk to chunk. Lost, repeated or swapped chunks all show up.
 */
class Pattern {
  private static readonly POOL = 1 * MiB;
  private readonly pool: Buffer;

  constructor(readonly seed: number) {
    this.pool = Buffer.from(randomBytes(seededRandom(seed), Pattern.POOL + CHUNK));
  }

  private offset(k: number): number {
    return (k * 104_729) % Pattern.POOL;
  }

  /** Chunk k: the bytes at stream offsets [k * CHUNK, (k + 1) * CHUNK). */
  chunk(k: number, length = CHUNK): Buffer {
    const o = this.offset(k);
    return this.pool.subarray(o, o + length);
  }

  /** The first stream offset where `data`, which starts at stream offset `at`, differs from the pattern; -1 if none. */
  firstDifference(data: Buffer, at: number): number {
    let i = 0;
    while (i < data.length) {
      const pos = at + i;
      const k = Math.floor(pos / CHUNK);
      const within = pos % CHUNK;
      const n = Math.min(CHUNK - within, data.length - i);
      const want = this.chunk(k).subarray(within, within + n);
      const got = data.subarray(i, i + n);
      if (!got.equals(want)) return pos + got.findIndex((b, j) => b !== want[j]);
      i += n;
    }
    return -1;
  }

  /** The expected bytes around stream offset `pos`, for a message. */
  around(pos: number): Buffer {
    const k = Math.floor(pos / CHUNK);
    return this.chunk(k).subarray(pos % CHUNK, (pos % CHUNK) + 8);
  }
}

/** Everything one end of a line saw: bytes (checked against a pattern), the end, errors, the close. */
class Sink {
  received = 0;
  /** performance.now() of the last chunk received. */
  lastDataAt = performance.now();
  /** Stream offset of the first byte that differs from the pattern, or -1. */
  firstBad = -1;
  badBytes: Buffer | undefined;
  ended = false;
  errorCode: string | undefined;
  closed = false;
  /** Resolves once the stream has ended or the socket has closed. */
  readonly done: Promise<void>;

  constructor(
    readonly socket: net.Socket,
    readonly pattern: Pattern | undefined,
    onData?: (chunk: Buffer) => void,
  ) {
    socket.on('error', (e: NodeJS.ErrnoException) => (this.errorCode ??= e.code ?? e.message));
    socket.on('data', (d: Buffer) => {
      if (this.pattern && this.firstBad < 0) {
        const bad = this.pattern.firstDifference(d, this.received);
        if (bad >= 0) {
          this.firstBad = bad;
          this.badBytes = d.subarray(bad - this.received, bad - this.received + 8);
        }
      }
      this.received += d.length;
      this.lastDataAt = performance.now();
      onData?.(d);
    });
    this.done = new Promise((resolve) => {
      socket.once('end', () => {
        this.ended = true;
        resolve();
      });
      socket.once('close', () => {
        this.closed = true;
        resolve();
      });
    });
  }

  /** One line on what this end got, for messages. */
  summary(name: string, expected?: number): string {
    const how = this.ended
      ? 'then a clean end (FIN)'
      : this.errorCode
        ? `then its connection failed (${this.errorCode})`
        : this.closed
          ? 'then its connection closed'
          : 'and its connection is still open';
    return `${name} received ${size(this.received)}${expected === undefined ? '' : ` of ${size(expected)}`}, ${how}`;
  }

  /** A problem line if the bytes were not the pattern's, else undefined. */
  corruption(name: string): string | undefined {
    if (this.firstBad < 0 || !this.pattern) return undefined;
    return `${name} got a wrong byte at stream offset ${this.firstBad}: got ${hex(this.badBytes ?? Buffer.alloc(0))}, expected ${hex(this.pattern.around(this.firstBad))}`;
  }
}

/** Writes a pattern into a socket as fast as the socket takes it, and remembers when write() said "full". */
class Producer {
  sent = 0;
  /** When the current wait for 'drain' began, or undefined while not blocked. */
  blockedSince: number | undefined;
  blockedCount = 0;
  readonly done: Promise<void>;

  constructor(
    readonly socket: net.Socket,
    pattern: Pattern,
    readonly total: number,
    options: { end: boolean; onBlocked?: () => void },
  ) {
    this.done = this.run(pattern, options);
  }

  /** How long the producer has been blocked, in ms (0 when it is not). */
  blockedFor(now = performance.now()): number {
    return this.blockedSince === undefined ? 0 : now - this.blockedSince;
  }

  private async run(pattern: Pattern, options: { end: boolean; onBlocked?: () => void }): Promise<void> {
    const closed = once(this.socket, 'close').then(() => false);
    // Bounded: one iteration per chunk.
    for (let k = 0; this.sent < this.total; k++) {
      if (this.socket.destroyed) return;
      const chunk = pattern.chunk(k, Math.min(CHUNK, this.total - this.sent));
      this.sent += chunk.length;
      if (!this.socket.write(chunk)) {
        this.blockedSince = performance.now();
        this.blockedCount++;
        options.onBlocked?.();
        const drained = await Promise.race([once(this.socket, 'drain').then(() => true), closed]);
        this.blockedSince = undefined;
        if (!drained) return;
      }
    }
    if (options.end) this.socket.end();
  }
}

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
interface Line {
  producer: net.Socket;
  a: net.Socket;
  b: net.Socket;
  consumer: net.Socket;
}

/** producer ──▶ a  (relay)  b ──▶ consumer. `a` and `b` have highWaterMark HWM unless `hwm` says otherwise. */
async function openLine(hwm: { a?: number; b?: number } = {}): Promise<Line> {
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

/** Start the learner's relay on a line. */
function startRelay(line: Line): Relay {
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
    lesson: see('The exercise'),
  });
  return r;
}

/** The two directions of a line. */
type Direction = 'a to b' | 'b to a';
const DIRECTIONS: Direction[] = ['a to b', 'b to a'];

/** One direction of a line: who writes, who reads, and the relay's socket on each side. */
function sides(line: Line, dir: Direction) {
  return dir === 'a to b'
    ? { writer: line.producer, reader: line.consumer, from: line.a, to: line.b, writerName: 'the producer', readerName: 'the consumer', stat: 'aToB' as const }
    : { writer: line.consumer, reader: line.producer, from: line.b, to: line.a, writerName: 'the consumer', readerName: 'the producer', stat: 'bToA' as const };
}

/** How many timers are running in this process right now. */
const runningTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** Listener counts of a socket, by event name. */
function listenerCounts(socket: net.Socket): Map<string | symbol, number> {
  return new Map(socket.eventNames().map((e) => [e, socket.listenerCount(e)]));
}

/** Events whose listener count grew by more than `slack` from `before` to now, as "'drain' on b: 1 -> 700". */
function listenersGrown(line: Line, before: { a: Map<string | symbol, number>; b: Map<string | symbol, number> }, slack: number): string[] {
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
const socketsHold = (line: Line) => line.a.readableLength + line.a.writableLength + line.b.readableLength + line.b.writableLength;

/** What the relay holds, sampled: the larger of the test's own reading and the relay's stats().buffered. */
class Sampler {
  max = 0;
  maxAtMs = 0;
  maxMoved = 0;
  samples = 0;
  /** The largest amount by which stats().buffered fell short of what the sockets held. */
  underReported = 0;
  underReportedAt = { reported: 0, held: 0 };
  maxExternal = 0;
  /** What stats() threw, if it ever did. */
  statsError: unknown;
  over: { value: number; atMs: number; moved: number; readerPaused: boolean } | undefined;
  private readonly t0 = performance.now();
  private readonly external0 = process.memoryUsage().arrayBuffers;

  constructor(
    private readonly line: Line,
    private readonly r: Relay,
    private readonly moved: () => number,
    private readonly onOver: () => void,
    /** The socket of the slow reader, for messages. */
    private readonly reader: net.Socket = line.consumer,
  ) {
    const timer = setInterval(() => {
      this.sample();
      this.maxExternal = Math.max(this.maxExternal, process.memoryUsage().arrayBuffers - this.external0);
    }, 1);
    track(timer, 'the buffer sampler');
  }

  sample(): void {
    if (this.over) return;
    this.samples++;
    const held = socketsHold(this.line);
    let reported = 0;
    try {
      reported = this.r.stats().buffered;
    } catch (e) {
      // Reported by the test; a throw inside this timer would only be an unhandled error.
      this.statsError ??= e;
    }
    if (held - reported > this.underReported) {
      this.underReported = held - reported;
      this.underReportedAt = { reported, held };
    }
    const value = Math.max(held, Number.isFinite(reported) ? reported : 0);
    if (value > this.max) {
      this.max = value;
      this.maxAtMs = performance.now() - this.t0;
      this.maxMoved = this.moved();
    }
    if (value > BOUND) {
      this.over = { value, atMs: performance.now() - this.t0, moved: this.moved(), readerPaused: this.reader.isPaused() };
      this.onOver();
    }
  }

  /** One sentence on the sampling, for messages. */
  report(): string {
    return `${this.samples} samples; largest ${size(this.max)} at ${secs(this.maxAtMs)} (${size(this.maxMoved)} delivered by then); the test process's buffer memory grew by at most ${size(this.maxExternal)}`;
  }
}

/**
 * Watch a transfer until `finished()`: 'stalled' if `progress()` stands still for `stallMs`,
 * 'slow' if it is still going after `totalMs`.
 */
async function watchTransfer(progress: () => number, finished: () => boolean, stallMs: number, totalMs: number): Promise<'done' | 'stalled' | 'slow'> {
  const start = performance.now();
  let last = progress();
  let movedAt = start;
  for (;;) {
    if (finished()) return 'done';
    const now = performance.now();
    const p = progress();
    if (p !== last) [last, movedAt] = [p, now];
    if (now - movedAt > stallMs) return 'stalled';
    if (now - start > totalMs) return 'slow';
    await pause(5);
  }
}

// ---------------------------------------------------------------------------------------------
// Part 1: the bounded byte stream
// ---------------------------------------------------------------------------------------------

/** A ByteStream with every operation written to a log, so that a failure can show the script. */
class Logged {
  readonly log: string[] = [];
  readonly s: ByteStream;

  constructor(capacity: number) {
    this.log.push(`const s = new ByteStream(${capacity})`);
    this.s = new ByteStream(capacity);
  }

  push(data: Uint8Array): number {
    return this.note(`s.push(${hex(data, 8)})`, () => this.s.push(data));
  }
  peek(max?: number): Uint8Array {
    return this.note(`s.peek(${max ?? ''})`, () => this.s.peek(max));
  }
  pop(n: number): number {
    return this.note(`s.pop(${n})`, () => this.s.pop(n));
  }
  read(max?: number): Uint8Array {
    return this.note(`s.read(${max ?? ''})`, () => this.s.read(max));
  }
  close(): void {
    this.note('s.close()', () => this.s.close());
  }
  error(reason: Error): void {
    this.note(`s.error(new Error(${JSON.stringify(reason.message)}))`, () => this.s.error(reason));
  }

  private note<T>(call: string, fn: () => T): T {
    try {
      const out = fn();
      this.log.push(`${call}${out === undefined ? '' : ` -> ${out instanceof Uint8Array ? hex(out, 8) : String(out)}`}`);
      return out;
    } catch (e) {
      this.log.push(`${call} ${thrown(e)}`);
      throw e;
    }
  }

  /** The script so far, last `n` steps. */
  script(n = 12): string {
    const shown = this.log.slice(-n);
    return `${this.log.length > n ? `  ... (${this.log.length - n} earlier steps)\n` : ''}${shown.map((l) => `  ${l}`).join('\n')}`;
  }

  /** The counters as a line. */
  counters(): string {
    const s = this.s;
    return `bytesPushed ${s.bytesPushed}, bytesPopped ${s.bytesPopped}, bytesBuffered ${s.bytesBuffered}, availableCapacity ${s.availableCapacity}`;
  }
}

/** Fail with the script unless `cond`. */
function checkStep(cond: boolean, l: Logged, did: string, expected: string, heading: string, extra?: string): void {
  check(cond, () => ({ did: `${did}\n  after this script:\n${l.script()}`, expected, lesson: see(heading), extra }));
}

/** Everything a ByteStream shows of its state, as the tests compare it. */
interface StreamState {
  bytesPushed: number;
  bytesPopped: number;
  bytesBuffered: number;
  availableCapacity: number;
  isClosed: boolean;
  isFinished: boolean;
  errored: Error | undefined;
}

/** Read every getter of `s`; a getter that throws is reported as such. */
function stateOf(s: ByteStream): Record<keyof StreamState, unknown> {
  const read = (get: () => unknown) => {
    try {
      return get();
    } catch (e) {
      return `(${thrown(e)})`;
    }
  };
  return {
    bytesPushed: read(() => s.bytesPushed),
    bytesPopped: read(() => s.bytesPopped),
    bytesBuffered: read(() => s.bytesBuffered),
    availableCapacity: read(() => s.availableCapacity),
    isClosed: read(() => s.isClosed),
    isFinished: read(() => s.isFinished),
    errored: read(() => s.errored),
  };
}

/** Fail with the script unless every getter of the stream shows `want`. */
function checkState(l: Logged, want: StreamState, heading: string, why: string): void {
  const got = stateOf(l.s);
  const show = (v: unknown) => (v instanceof Error ? `Error("${v.message}")` : String(v));
  const wrong = (Object.keys(want) as (keyof StreamState)[]).filter((k) => !Object.is(got[k], want[k]));
  checkStep(
    wrong.length === 0,
    l,
    `the stream now shows ${wrong.map((k) => `${k} ${show(got[k])}`).join(', ')}`,
    `${wrong.map((k) => `${k} ${show(want[k])}`).join(', ')} (${why})`,
    heading,
  );
}

/** The state of a healthy stream of `capacity` bytes after `pushed` and `popped` bytes. */
function healthy(capacity: number, pushed: number, popped: number, closed = false): StreamState {
  const buffered = pushed - popped;
  return {
    bytesPushed: pushed,
    bytesPopped: popped,
    bytesBuffered: buffered,
    availableCapacity: capacity - buffered,
    isClosed: closed,
    isFinished: closed && buffered === 0,
    errored: undefined,
  };
}

/** The error `fn` throws, or undefined. */
function errorOf(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e;
  }
}

describe('the bounded byte stream (exercise.ts)', () => {
  it('refuses a capacity that is not a whole number from 1 to MAX_CAPACITY', () => {
    const problems: string[] = [];
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, MAX_CAPACITY + 1]) {
      const e = errorOf(() => new ByteStream(bad));
      if (!(e instanceof BadCapacityError) || !(e instanceof ByteStreamError) || e.code !== 'ERR_BAD_CAPACITY' || !Object.is(e.capacity, bad)) {
        problems.push(`new ByteStream(${bad}) ${e === undefined ? 'was accepted' : `${thrown(e)} with capacity ${String((e as BadCapacityError).capacity)}`}`);
      }
    }
    // The bounds themselves are allowed. A Uint8Array of MAX_CAPACITY bytes costs no real memory until it is written.
    for (const good of [1, MAX_CAPACITY]) {
      const e = errorOf(() => new ByteStream(good).push(seq(0, 2)));
      if (e !== undefined) problems.push(`new ByteStream(${good}) ${thrown(e)}`);
    }
    check(problems.length === 0, {
      did: problems.join('; '),
      expected: `BadCapacityError (code ERR_BAD_CAPACITY, capacity the rejected value) for 0, negatives, fractions, NaN, Infinity and MAX_CAPACITY + 1; a working stream for 1 and for MAX_CAPACITY (${MAX_CAPACITY})`,
      lesson: see('A bounded byte stream'),
    });
  });

  it('never holds more than its capacity, whatever is pushed', () => {
    const l = new Logged(8);
    const data = seq(0, 20);
    l.push(data.subarray(0, 5));
    l.push(data.subarray(5, 15));
    checkStep(
      l.s.bytesBuffered <= 8 && l.s.availableCapacity >= 0,
      l,
      `the stream holds ${l.s.bytesBuffered} bytes (${l.counters()})`,
      'at most 8 bytes: push takes only what fits, here 3 of the 10, and leaves the rest with the writer',
      'A bounded byte stream',
    );
    l.push(data.subarray(8, 20));
    checkStep(l.s.bytesBuffered === 8, l, `a push into a full stream left ${l.s.bytesBuffered} bytes buffered`, 'still 8: a full stream accepts nothing', 'A bounded byte stream');
    const out = l.read();
    checkStep(
      same(out, data.subarray(0, 8)),
      l,
      `read() returned ${hex(out)}`,
      `the first 8 bytes pushed, ${hex(data.subarray(0, 8))}, and nothing that did not fit`,
      'A bounded byte stream',
    );
  });

  it('a partial push returns the accepted count, not the requested one', () => {
    const l = new Logged(8);
    const data = seq(100, 10);
    const first = l.push(data);
    checkStep(first === 8, l, `push of 10 bytes into an empty 8-byte stream returned ${first}`, '8: the number of bytes it took', 'A bounded byte stream');
    const full = l.push(seq(0, 3));
    checkStep(full === 0, l, `push into a full stream returned ${full}`, '0: it took nothing, so the writer must keep all 3 bytes', 'A bounded byte stream');
    l.pop(3);
    const rest = l.push(data.subarray(first));
    checkStep(rest === 2, l, `pushing the 2 bytes left over returned ${rest}`, '2', 'A bounded byte stream');
    l.push(seq(0, 5));
    // A writer that trusts the count resends exactly what was refused: the reader sees one unbroken sequence.
    const out = l.read();
    const want = Uint8Array.from([...data.subarray(3), ...seq(0, 1)]);
    checkStep(same(out, want), l, `read() returned ${hex(out)}`, `${hex(want)}`, 'A bounded byte stream');
  });

  it('keeps bytes in order when they wrap around the end of its memory', () => {
    const l = new Logged(5);
    l.push(seq(1, 4));
    l.pop(3);
    const took = l.push(seq(5, 4)); // 1 byte left in front, room for 4: wraps
    const peeked = l.peek();
    const want = seq(4, 5);
    checkStep(took === 4 && same(peeked, want), l, `push returned ${took}, then peek() returned ${hex(peeked)}`, `4, then ${hex(want)}: the oldest byte first, across the wrap`, 'A bounded byte stream');
    const two = Uint8Array.from(l.read(2)); // copied at once: whether read() hands out copies is another test
    l.push(seq(9, 2));
    const out = l.read();
    checkStep(
      same(two, seq(4, 2)) && same(out, seq(6, 5)),
      l,
      `read(2) returned ${hex(two)}, then read() returned ${hex(out)}`,
      `${hex(seq(4, 2))}, then ${hex(seq(6, 5))}`,
      'A bounded byte stream',
    );
  });

  it('peek looks without taking; pop and read take from the front and count', () => {
    const l = new Logged(16);
    l.push(seq(0, 10));
    const a = l.peek(4);
    const b = l.peek(4);
    checkStep(same(a, seq(0, 4)) && same(b, seq(0, 4)) && l.s.bytesBuffered === 10, l, `two peek(4) returned ${hex(a)} and ${hex(b)}; ${l.counters()}`, 'the same 4 bytes twice, and all 10 still buffered', 'A bounded byte stream');
    const popped = l.pop(3);
    const r = l.read(100);
    const counts = [l.s.bytesPushed, l.s.bytesPopped, l.s.bytesBuffered, l.s.availableCapacity];
    checkStep(
      popped === 3 && same(r, seq(3, 7)) && same(Uint8Array.from(counts), Uint8Array.from([10, 10, 0, 16])),
      l,
      `pop(3) returned ${popped}, read(100) returned ${hex(r)}; ${l.counters()}`,
      `3, then the 7 remaining bytes ${hex(seq(3, 7))}; bytesPushed 10, bytesPopped 10, bytesBuffered 0, availableCapacity 16`,
      'A bounded byte stream',
    );
    const empty = l.read();
    checkStep(empty.length === 0, l, `read() on an empty stream returned ${hex(empty)}`, 'an empty Uint8Array: nothing to read yet is not an error', 'A bounded byte stream');
  });

  it('matches a plain model through 3000 seeded random pushes, peeks, pops and reads', () => {
    const rand = seededRandom(seed);
    const capacity = randomInt(rand, 1, 40);
    const l = new Logged(capacity);
    const model: number[] = [];
    let pushed = 0;
    let popped = 0;
    let next = 0;
    for (let step = 0; step < 3_000; step++) {
      const op = randomInt(rand, 0, 3);
      if (op === 0) {
        const data = seq(next, randomInt(rand, 0, Math.ceil(capacity * 1.5)));
        const want = Math.min(data.length, capacity - model.length);
        const got = l.push(data);
        model.push(...data.subarray(0, want));
        pushed += want;
        next += want; // the writer resends what was refused
        checkStep(got === want, l, `push returned ${got}`, `${want} (capacity ${capacity}, ${model.length - want} bytes were buffered)`, 'A bounded byte stream', replayHint(seed));
      } else {
        const max = randomInt(rand, 0, capacity + 2);
        const want = model.slice(0, max);
        if (op === 1) {
          const got = l.peek(max);
          checkStep(same(got, Uint8Array.from(want)), l, `peek returned ${hex(got)}`, hex(Uint8Array.from(want)), 'A bounded byte stream', replayHint(seed));
        } else if (op === 2) {
          const got = l.pop(max);
          model.splice(0, want.length);
          popped += want.length;
          checkStep(got === want.length, l, `pop returned ${got}`, String(want.length), 'A bounded byte stream', replayHint(seed));
        } else {
          const got = l.read(max);
          model.splice(0, want.length);
          popped += want.length;
          checkStep(same(got, Uint8Array.from(want)), l, `read returned ${hex(got)}`, hex(Uint8Array.from(want)), 'A bounded byte stream', replayHint(seed));
        }
      }
      const s = l.s;
      checkStep(
        s.bytesPushed === pushed && s.bytesPopped === popped && s.bytesBuffered === model.length && s.availableCapacity === capacity - model.length,
        l,
        `the counters say ${l.counters()}`,
        `bytesPushed ${pushed}, bytesPopped ${popped}, bytesBuffered ${model.length}, availableCapacity ${capacity - model.length}`,
        'A bounded byte stream',
        replayHint(seed),
      );
    }
  });

  it('reports the end to the reader only after the last byte is read', () => {
    const l = new Logged(8);
    l.push(seq(0, 4));
    l.close();
    checkStep(l.s.isClosed && !l.s.isFinished, l, `after close(): isClosed ${l.s.isClosed}, isFinished ${l.s.isFinished}`, 'isClosed true, isFinished false: 4 bytes are still waiting for the reader', 'End of input and errors');
    l.read(3);
    checkStep(!l.s.isFinished, l, `with 1 byte left, isFinished is ${l.s.isFinished}`, 'false until the last byte is read', 'End of input and errors');
    const last = l.read();
    checkStep(same(last, seq(3, 1)) && l.s.isFinished, l, `the last read() returned ${hex(last)}, then isFinished is ${l.s.isFinished}`, `${hex(seq(3, 1))}, then isFinished true`, 'End of input and errors');
    const e = errorOf(() => l.push(seq(0, 1)));
    checkStep(
      e instanceof StreamClosedError && e.code === 'ERR_STREAM_CLOSED',
      l,
      `push after close() ${e === undefined ? 'returned normally' : thrown(e)}`,
      'StreamClosedError, code ERR_STREAM_CLOSED: nothing can come after the end',
      'End of input and errors',
    );
  });

  it('passes an error from either side to the other', () => {
    // The writer fails: the reader hears of it at its next step.
    const w = new Logged(8);
    w.push(seq(0, 4));
    const writerFault = new Error('the disk under the writer failed');
    w.s.error(writerFault);
    w.log.push('s.error(new Error("the disk under the writer failed"))');
    const onRead = errorOf(() => w.read());
    const onPeek = errorOf(() => w.peek());
    checkStep(
      onRead instanceof StreamErroredError && onRead.code === 'ERR_STREAM_ERRORED' && onRead.reason === writerFault && onPeek instanceof StreamErroredError,
      w,
      `the reader's read() ${onRead === undefined ? 'returned normally' : thrown(onRead)}; peek() ${onPeek === undefined ? 'returned normally' : thrown(onPeek)}`,
      "StreamErroredError (ERR_STREAM_ERRORED) from both, with `reason` the writer's error: bytes of a failed stream cannot be trusted",
      'End of input and errors',
    );
    // The reader gives up: the writer hears of it at its next push, and the first reason stays.
    const r = new Logged(8);
    const readerFault = new Error('the reader gave up');
    r.s.error(readerFault);
    r.s.error(new Error('a second error'));
    r.log.push('s.error(new Error("the reader gave up"))', 's.error(new Error("a second error"))');
    const onPush = errorOf(() => r.push(seq(0, 2)));
    const onClose = errorOf(() => r.close());
    checkStep(
      onPush instanceof StreamErroredError && onPush.reason === readerFault && onClose instanceof StreamErroredError && r.s.errored === readerFault,
      r,
      `the writer's push() ${onPush === undefined ? 'returned normally' : thrown(onPush)}; close() ${onClose === undefined ? 'returned normally' : thrown(onClose)}; errored is ${String(r.s.errored?.message)}`,
      'StreamErroredError from push and close, with `reason` (and `errored`) the first error, "the reader gave up"',
      'End of input and errors',
    );
  });

  it('shows the right counters and flags after every step of a script', () => {
    const A = 'A bounded byte stream';
    const E = 'End of input and errors';
    const l = new Logged(6);
    check(l.s.capacity === 6, { did: `new ByteStream(6).capacity is ${String(l.s.capacity)}`, expected: '6', lesson: see('The exercise') });
    checkState(l, healthy(6, 0, 0), A, 'a new stream is empty, open and healthy');
    const steps: [() => unknown, unknown, StreamState, string, string][] = [
      [() => l.push(new Uint8Array(0)), 0, healthy(6, 0, 0), 'pushing nothing takes nothing', A],
      [() => l.push(seq(1, 4)), 4, healthy(6, 4, 0), 'all 4 bytes fit', A],
      [() => l.peek(0), seq(0, 0), healthy(6, 4, 0), 'peek(0) looks at nothing', A],
      [() => l.pop(0), 0, healthy(6, 4, 0), 'pop(0) removes nothing', A],
      [() => l.read(0), seq(0, 0), healthy(6, 4, 0), 'read(0) takes nothing', A],
      [() => l.read(3), seq(1, 3), healthy(6, 4, 3), 'read(3) takes the 3 oldest bytes', A],
      [() => l.push(seq(5, 7)), 5, healthy(6, 9, 3), 'only 5 of the 7 bytes fit: 1 byte is still buffered', A],
      [() => l.push(seq(10, 1)), 0, healthy(6, 9, 3), 'a full stream takes nothing', A],
      [() => l.peek(), seq(4, 6), healthy(6, 9, 3), 'peek() shows all 6 buffered bytes, oldest first, across the end of the ring, and removes none', A],
      [() => l.pop(2), 2, healthy(6, 9, 5), 'pop(2) removes 2 bytes', A],
      [() => l.pop(100), 4, healthy(6, 9, 9), 'pop(100) removes only the 4 bytes there are, and says so', A],
      [() => l.read(), seq(0, 0), healthy(6, 9, 9), 'an empty stream has nothing to read, and that is not an error', A],
      [() => l.pop(5), 0, healthy(6, 9, 9), 'pop on an empty stream removes nothing', A],
      [() => l.push(seq(10, 3)), 3, healthy(6, 12, 9), 'an empty stream has room for all 3', A],
      [() => l.close(), undefined, healthy(6, 12, 9, true), 'closed, but 3 bytes still wait for the reader: not finished', E],
      [() => l.close(), undefined, healthy(6, 12, 9, true), 'closing twice is harmless', E],
      [() => l.read(2), seq(10, 2), healthy(6, 12, 11, true), 'the reader still gets the bytes pushed before close(); 1 is left', E],
      [() => l.peek(), seq(12, 1), healthy(6, 12, 11, true), 'peek removes nothing, so the stream is not finished yet', E],
      [() => l.read(), seq(12, 1), healthy(6, 12, 12, true), 'the last byte is read: now the stream is finished', E],
      [() => l.read(), seq(0, 0), healthy(6, 12, 12, true), 'reading a finished stream gives no bytes, and no error', E],
      [() => l.pop(1), 0, healthy(6, 12, 12, true), 'popping a finished stream removes nothing, and no error', E],
    ];
    for (const [run, want, state, why, heading] of steps) {
      let got: unknown;
      try {
        got = run();
      } catch (e) {
        checkStep(false, l, `the last call ${thrown(e)}`, `it returns normally: ${why}`, heading);
      }
      const ok = want instanceof Uint8Array ? got instanceof Uint8Array && same(got, want) : Object.is(got, want);
      const show = (v: unknown) => (v instanceof Uint8Array ? hex(v) : String(v));
      checkStep(ok, l, `the last call returned ${show(got)}`, `${show(want)}: ${why}`, heading);
      checkState(l, state, heading, why);
    }
    const e = errorOf(() => l.push(seq(0, 1)));
    checkStep(
      e instanceof StreamClosedError && e.code === 'ERR_STREAM_CLOSED' && e instanceof ByteStreamError,
      l,
      `push after close() ${e === undefined ? 'returned normally' : thrown(e)}`,
      'StreamClosedError, code ERR_STREAM_CLOSED',
      E,
    );
    checkState(l, healthy(6, 12, 12, true), E, 'a refused push changes nothing');
    // A stream closed while empty is finished at once.
    const empty = new Logged(4);
    empty.close();
    checkState(empty, healthy(4, 0, 0, true), E, 'closed with nothing buffered: the reader is at the end at once');
  });

  it('a failed stream refuses every operation on both sides, with the first reason', () => {
    const E = 'End of input and errors';
    const operations: [string, (s: Logged) => unknown][] = [
      ['push', (s) => s.push(seq(0, 1))],
      ['push of nothing', (s) => s.push(new Uint8Array(0))],
      ['peek', (s) => s.peek()],
      ['pop', (s) => s.pop(1)],
      ['read', (s) => s.read()],
      ['close', (s) => s.close()],
    ];
    // Failed with bytes buffered, after close(), and on an empty stream: every operation throws StreamErroredError.
    const setups: [string, (s: Logged) => void][] = [
      ['with 3 bytes buffered', (s) => void s.push(seq(0, 3))],
      ['after close(), with 2 bytes still buffered', (s) => (s.push(seq(0, 2)), s.close())],
      ['while empty', () => {}],
    ];
    for (const [when, setup] of setups) {
      for (const [name, op] of operations) {
        const l = new Logged(4);
        setup(l);
        checkStep(l.s.errored === undefined, l, `errored is ${String(l.s.errored)} before any error()`, 'undefined while the stream is healthy', E);
        const first = new Error('the first failure');
        l.error(first);
        const again = errorOf(() => l.error(new Error('a later failure')));
        const e = errorOf(() => op(l));
        checkStep(
          again === undefined && e instanceof StreamErroredError && e instanceof ByteStreamError && e.code === 'ERR_STREAM_ERRORED' && e.reason === first && l.s.errored === first,
          l,
          `${again === undefined ? '' : `a second error() ${thrown(again)}; `}${name} on a stream that failed ${when} ${e === undefined ? 'returned normally' : thrown(e)}; errored is ${String(l.s.errored?.message)}`,
          `StreamErroredError (code ERR_STREAM_ERRORED) whose reason is the first error passed to error(), and errored the same error: after a failure nothing is trusted, not even the bytes buffered before it`,
          E,
        );
      }
    }
  });

  it('copies the bytes it is given, and hands out copies', () => {
    const A = 'A bounded byte stream';
    // A view into the middle of a bigger buffer: only the view's bytes belong to the push.
    const big = seq(0x80, 64);
    const l = new Logged(8);
    const took = l.push(big.subarray(10, 15));
    const first = l.peek();
    checkStep(
      took === 5 && same(first, big.subarray(10, 15)),
      l,
      `push of a 5-byte view starting at offset 10 of a 64-byte buffer returned ${took}, then peek() returned ${hex(first)}`,
      `5, then the view's own bytes ${hex(big.subarray(10, 15))}: a Uint8Array may be a window into a larger buffer (data.byteOffset, data.length), so copy data itself, never data.buffer`,
      A,
    );
    // A partial push from a view, across the end of the ring.
    l.read(4);
    const took2 = l.push(big.subarray(40, 50));
    const after = l.read();
    const want = Uint8Array.from([...big.subarray(14, 15), ...big.subarray(40, 47)]);
    checkStep(took2 === 7 && same(after, want), l, `push of a 10-byte view at offset 40 returned ${took2}, then read() returned ${hex(after)}`, `7, then ${hex(want)}`, A);
    // The writer reuses its buffer at once: the stream must already hold its own copy.
    const buf = seq(0xf0, 6);
    l.push(buf);
    buf.fill(0);
    const kept = l.peek();
    checkStep(same(kept, seq(0xf0, 6)), l, `after push(buf), the writer overwrote buf with zeros; peek() then returned ${hex(kept)}`, `${hex(seq(0xf0, 6))}: push copies the bytes, the caller's buffer is its own again when push returns`, A);
    // What peek and read return belongs to the caller: changing it changes nothing in the stream,
    // and later pushes, which reuse the same place in the ring, do not change it either.
    kept.fill(0xaa);
    const again = l.peek();
    checkStep(same(again, seq(0xf0, 6)), l, `the reader wrote 0xaa into the array peek() returned; the next peek() returned ${hex(again)}`, `${hex(seq(0xf0, 6))}: peek returns a copy, never a view of the stream's own storage`, A);
    // Once across the end of the ring, once not: the bytes read() handed out never change.
    const taken = l.read(6);
    l.push(seq(0x10, 8));
    const m = new Logged(8);
    m.push(seq(0xf0, 6));
    const plain = m.read(6);
    m.push(seq(0x10, 8));
    checkStep(
      same(taken, seq(0xf0, 6)) && same(plain, seq(0xf0, 6)),
      same(plain, seq(0xf0, 6)) ? l : m,
      `read(6) returned an array that, after the stream was filled again, holds ${hex(same(plain, seq(0xf0, 6)) ? taken : plain)}`,
      `${hex(seq(0xf0, 6))} still: read returns a copy, so new bytes in the ring never change bytes already handed out`,
      A,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Part 2: the relay, on real sockets
// ---------------------------------------------------------------------------------------------

describe('the relay: ends and errors (relay.ts)', () => {
  it("passes each side's end on and keeps the other direction open (half-close)", async () => {
    for (const dir of DIRECTIONS) {
      const line = await openLine();
      const { writer, reader, writerName, readerName } = sides(line, dir);
      const transcript = new Transcript({ out: writerName, inn: `${readerName}, via your relay` });
      tapSocket(writer, transcript);
      const timersBefore = runningTimers();
      startRelay(line);
      const request = `hello from ${writerName}, and that is all I will send\n`;
      const reply = 'heard you; here is my answer after your end\n';
      const atReader = new Sink(reader, undefined);
      const parts: Buffer[] = [];
      reader.on('data', (d: Buffer) => parts.push(d));
      writer.write(request);
      writer.end();
      transcript.note(`${writerName} ended its side (FIN)`);
      try {
        await within(atReader.done, 2_000, `the end of ${writerName} reaching ${readerName}`);
      } catch (err) {
        fail({
          did: `${atReader.summary(readerName)} 2 s after ${writerName} sent ${request.length} bytes and ended its side (${dir})`,
          expected: "the bytes, then the end: when one socket emits 'end', call end() on the other (it sends the FIN after the bytes still queued)",
          lesson: see('Ending: FIN, flush, half-close'),
          transcript,
          extra: String((err as Error).message),
        });
      }
      const got = Buffer.concat(parts).toString();
      check(got === request && atReader.ended, {
        did: `${atReader.summary(readerName)}: ${JSON.stringify(got)} (${dir})`,
        expected: `${JSON.stringify(request)}, then a clean end`,
        lesson: see('Ending: FIN, flush, half-close'),
        transcript,
      });
      // The other direction is still open: the reader answers after the writer's end.
      const atWriter = new Sink(writer, undefined);
      reader.end(reply);
      try {
        await within(atWriter.done, 2_000, `the reply and end of ${readerName} reaching ${writerName}`);
      } catch {
        /* reported below */
      }
      const back = transcript.receivedBytes().toString();
      check(back === reply && atWriter.ended, {
        did: `after its own end, ${atWriter.summary(writerName)}: ${JSON.stringify(back)}`,
        expected: `${JSON.stringify(reply)}, then a clean end: one side's end closes only its own direction`,
        lesson: see('Ending: FIN, flush, half-close'),
        transcript,
      });
      await until(
        () => line.a.destroyed && line.b.destroyed,
        1_500,
        "your relay's sockets closing after both ends",
        'Once both directions have ended and flushed, both sockets close on their own: call end() on each when the other ends.',
      );
      // Give a wrongly sent reset the time to arrive, then check that both conversations ended cleanly.
      await pause(20);
      const errors = [atReader.errorCode && `${readerName} got ${atReader.errorCode}`, atWriter.errorCode && `${writerName} got ${atWriter.errorCode}`].filter(Boolean);
      check(errors.length === 0, {
        did: `after both sides had ended cleanly, ${errors.join(' and ')}`,
        expected: 'no error on either side: a connection whose two directions both ended and flushed closed cleanly, so there is no failure to pass on',
        lesson: see('Errors travel too'),
        transcript,
      });
      const timersAfter = runningTimers();
      check(timersAfter <= timersBefore, {
        did: `${timersAfter - timersBefore} more timer(s) running in the process after both of your relay's sockets closed than before relay() started`,
        expected: 'none: once both sockets have closed, the relay has nothing left to do, so nothing of it may keep running (clear every setTimeout/setInterval you start)',
        lesson: see('The exercise'),
      });
    }
  });

  it('flushes every buffered byte before passing the end on', async () => {
    const SIZE = 16 * MiB;
    for (const dir of DIRECTIONS) {
      // The relay's socket towards the reader may queue 64 MiB before write() says "full", so the
      // relay reads the writer's end long before the paused reader has taken the bytes: when the
      // end arrives, that socket still holds megabytes.
      const line = await openLine(dir === 'a to b' ? { b: 64 * MiB } : { a: 64 * MiB });
      const { writer, reader, from, to, writerName, readerName } = sides(line, dir);
      const pattern = new Pattern(seed);
      let heldAtEnd = -1;
      // Registered before the relay's own listener, so this runs first: what `to` holds when the end arrives.
      from.once('end', () => (heldAtEnd = to.writableLength));
      startRelay(line);
      const producer = new Producer(writer, pattern, SIZE, { end: true });
      // The reader does not read until the writer's end has reached the relay (or everything is full).
      await until(
        () => heldAtEnd >= 0 || producer.blockedFor() > 50 || from.destroyed,
        4_000,
        `the end of ${writerName} reaching your relay`,
        'Your relay must keep reading while the other socket accepts writes.',
      );
      const sink = new Sink(reader, pattern);
      try {
        await within(sink.done, 4_000, `${readerName} reading to the end`);
      } catch {
        /* reported below */
      }
      const lost = SIZE - sink.received;
      check(sink.received === SIZE && sink.ended, () => ({
        did: `${sink.summary(readerName, SIZE)} (${dir}). When the end of ${writerName} reached your relay, the socket towards ${readerName} still held ${size(Math.max(0, heldAtEnd))}${lost > 0 ? `; ${size(lost)} never arrived` : ''}.`,
        expected: "every byte, then a clean end: end() queues the FIN behind the bytes already written; destroy() (or closing both sockets on 'end') throws them away",
        lesson: see('Ending: FIN, flush, half-close'),
        extra: replayHint(seed),
      }));
      check(sink.firstBad < 0, () => ({ did: sink.corruption(readerName)!, expected: 'the bytes in the order they were sent', lesson: see('Ending: FIN, flush, half-close'), extra: replayHint(seed) }));
      await within(producer.done, 1_000, `${writerName} finishing`);
    }
  });

  it('lets the other socket finish its bytes when one socket has closed cleanly', async () => {
    const SIZE = 16 * MiB;
    for (const dir of DIRECTIONS) {
      // As in the flush test, the relay's socket towards the reader may queue 64 MiB.
      const line = await openLine(dir === 'a to b' ? { b: 64 * MiB } : { a: 64 * MiB });
      const { writer, reader, from, to, writerName, readerName } = sides(line, dir);
      const pattern = new Pattern(seed);
      startRelay(line);
      // The reader ends its own side at once but does not read yet; the writer sends everything and ends.
      reader.pause();
      reader.end();
      const producer = new Producer(writer, pattern, SIZE, { end: true });
      // Both directions of `from` are now done: it closes cleanly, while `to` still holds megabytes for the reader.
      const closed = await eventually(() => from.destroyed || to.destroyed, 4_000);
      const heldThen = to.writableLength;
      const sink = new Sink(reader, pattern);
      reader.resume();
      try {
        await within(sink.done, 4_000, `${readerName} reading to the end`);
      } catch {
        /* reported below */
      }
      check(closed && sink.received === SIZE && sink.ended && sink.firstBad < 0, () => ({
        did: `${readerName} ended its side at once and read nothing until the relay's socket on the side of ${writerName} had closed (${dir}); that socket ${from.destroyed ? 'closed' : 'did not close'}, the socket towards ${readerName} then held ${size(heldThen)}, and ${sink.summary(readerName, SIZE)}${sink.firstBad >= 0 ? `; ${sink.corruption(readerName)}` : ''}`,
        expected: "every byte, then a clean end: one socket's clean close (both of its directions ended and flushed) is no failure, and the other socket still owes its reader the bytes it queued. Never destroy or reset it on a clean 'close'.",
        lesson: see('Errors travel too'),
        extra: replayHint(seed),
      }));
      await within(producer.done, 1_000, `${writerName} finishing`);
    }
  });

  it('passes a reset on as a reset, never as a clean end, in both directions', async () => {
    for (const dir of ['producer', 'consumer'] as const) {
      const line = await openLine();
      startRelay(line);
      const unguarded = withoutErrorListener.get(line) ?? [];
      check(unguarded.length === 0, {
        did: `after relay(a, b) returned, ${unguarded.join(' and ')} had no 'error' listener: the reset this test is about to cause would have crashed the whole process (an 'error' event that nobody listens for is thrown)`,
        expected: "an 'error' listener on both sockets, added by relay() itself",
        lesson: see('Errors travel too'),
      });
      const [from, to] = dir === 'producer' ? [line.producer, line.consumer] : [line.consumer, line.producer];
      const names = dir === 'producer' ? ['the producer', 'the consumer'] : ['the consumer', 'the producer'];
      const far = new Sink(to, undefined);
      from.write(Buffer.alloc(1 * KiB, 0x61));
      // The line works before it breaks.
      try {
        await until(() => far.received === KiB, 2_000, `1 KiB from ${names[0]} reaching ${names[1]}`);
      } catch {
        fail({
          did: `${names[0]} wrote 1 KiB; 2 s later, ${far.summary(names[1]!, KiB)}`,
          expected: `the relay carries data in both directions (here ${dir === 'producer' ? 'a to b' : 'b to a'})`,
          lesson: see('Full duplex'),
        });
      }
      from.resetAndDestroy();
      try {
        await within(far.done, 2_000, `${names[1]} hearing of the reset`);
      } catch {
        /* reported below */
      }
      check(far.closed && !far.ended, {
        did: `${names[0]} reset its connection (RST); after that, ${far.summary(names[1]!)}`,
        expected: `${names[1]} sees its connection reset too (an error such as ECONNRESET, no clean end): a FIN would tell it that a cut-off stream was complete. On 'close' without a clean end, call resetAndDestroy() on the other socket.`,
        lesson: see('Errors travel too'),
      });
    }
  });
  it('takes a socket that closes without a clean end for a failure, and resets the other', async () => {
    for (const dir of DIRECTIONS) {
      // 1. The program around the relay destroys one socket in mid-stream (a timeout, a shutdown):
      //    no 'error', and no 'end' either.
      const line = await openLine();
      const { writer, reader, from, to, writerName, readerName } = sides(line, dir);
      startRelay(line);
      const far = new Sink(reader, undefined);
      writer.write(Buffer.alloc(KiB, 0x62));
      await until(() => far.received === KiB, 2_000, `1 KiB from ${writerName} reaching ${readerName} (${dir})`);
      from.destroy();
      try {
        await within(far.done, 2_000, `${readerName} hearing that the line was cut`);
      } catch {
        /* reported below */
      }
      check(far.closed && !far.ended && to.destroyed, {
        did: `the relay's socket on the side of ${writerName} was destroyed (no error, no end) in mid-stream; after that, ${far.summary(readerName)}, and the relay's other socket is ${to.destroyed ? 'destroyed' : 'still open'}`,
        expected: `${readerName} sees its connection reset: a socket that closes before its 'end' is a failure, even with hadError false. Listen for 'close', not only 'error'.`,
        lesson: see('Errors travel too'),
      });
      // 2. The writer ends its side, its FIN goes through, and then its socket is destroyed while the
      //    other direction is still open: that direction was cut off before it finished.
      const line2 = await openLine();
      const two = sides(line2, dir);
      startRelay(line2);
      const far2 = new Sink(two.reader, undefined);
      two.writer.end('last words');
      await within(far2.done, 2_000, `the end of ${two.writerName} reaching ${two.readerName} (${dir})`);
      two.from.destroy();
      const cut = await eventually(() => two.to.destroyed, 1_500);
      check(cut, {
        did: `${two.writerName} ended its side, which reached ${two.readerName}; then the relay's socket on the side of ${two.writerName} was destroyed before ${two.readerName} had ended its own direction. 1.5 s later the relay's other socket is still open, so ${two.readerName} would go on talking into nothing.`,
        expected: "a reset of the other socket: a socket closed cleanly only if it emitted 'end' (readableEnded) and flushed its own writes (writableFinished); here its writing side never finished",
        lesson: see('Errors travel too'),
      });
      // 3. The other way round: the reader ends its side first (so the writer's socket has finished
      //    writing), and then the writer's socket is destroyed before the writer ended.
      const line3 = await openLine();
      const three = sides(line3, dir);
      startRelay(line3);
      const back3 = new Sink(three.writer, undefined);
      const far3 = new Sink(three.reader, undefined);
      three.reader.end();
      await within(back3.done, 2_000, `the end of ${three.readerName} reaching ${three.writerName} (${dir})`);
      three.writer.write(Buffer.alloc(KiB, 0x63));
      await until(() => far3.received === KiB, 2_000, `1 KiB from ${three.writerName} reaching ${three.readerName} (${dir})`);
      three.from.destroy();
      try {
        await within(far3.done, 2_000, `${three.readerName} hearing that the line was cut`);
      } catch {
        /* reported below */
      }
      check(far3.closed && !far3.ended, {
        did: `${three.readerName} ended its side, and the relay passed that on; ${three.writerName} was still sending when the relay's socket on its side was destroyed (no error, no end). After that, ${far3.summary(three.readerName)}`,
        expected: `${three.readerName} sees its connection reset: that socket had finished writing, but it never emitted 'end', so its stream was cut off (clean means readableEnded and writableFinished, both)`,
        lesson: see('Errors travel too'),
      });
    }
  });
});

/**
 * The load test, in one direction: the writer sends `total` bytes as fast as it can, and the reader
 * stops reading each time `pauseEvery` more bytes have arrived, until the whole line has backed up.
 */
async function loadTest(dir: Direction, total: number, pauseEvery: number, deadlineMs: number): Promise<void> {
  const line = await openLine();
  const { writer, reader, writerName, readerName, stat } = sides(line, dir);
  const pattern = new Pattern(seed);
  const r = startRelay(line);
  const listenersBefore = { a: listenerCounts(line.a), b: listenerCounts(line.b) };
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let producer: Producer | undefined;
  let nextPause = pauseEvery;
  let pauses = 0;
  const sink = new Sink(reader, pattern, () => {
    sampler.sample();
    if (sink.received < nextPause || sink.received >= total) return;
    // The slow reader: stop reading until the whole line has backed up to the writer.
    nextPause += pauseEvery;
    pauses++;
    reader.pause();
    const since = performance.now();
    const poll = setInterval(() => {
      const now = performance.now();
      const gap = (producer?.sent ?? 0) - sink.received;
      // The writer has written its last chunk and is not waiting: nothing more can back up.
      const allSent = (producer?.sent ?? 0) >= total && producer?.blockedFor(now) === 0 && now - since >= BLOCKED_MS;
      if ((producer?.blockedFor(now) ?? 0) >= BLOCKED_MS || allSent || gap >= MAX_GAP || now - since >= MAX_PAUSE_MS || sampler.over) {
        clearInterval(poll);
        reader.resume();
      }
    }, 2);
    track(poll, `the slow reader (${readerName})`);
  });
  const sampler: Sampler = new Sampler(
    line,
    r,
    () => sink.received,
    () => {
      // Over the bound: stop the transfer at once, the verdict is in.
      line.producer.destroy();
      line.consumer.destroy();
      stop();
    },
    reader,
  );
  producer = new Producer(writer, pattern, total, { end: true, onBlocked: () => sampler.sample() });
  try {
    await within(Promise.race([sink.done, stopped]), deadlineMs, `moving ${size(total)} through your relay (${dir})`);
  } catch (err) {
    if (!(err instanceof DeadlineError)) throw err;
    const idle = performance.now() - sink.lastDataAt;
    fail({
      did: `after ${secs(deadlineMs)}, ${writerName} had written ${size(producer.sent)} and ${sink.summary(readerName, total)}${idle > 500 ? `; nothing had arrived for the last ${secs(idle)}` : ''}; your relay held ${size(socketsHold(line))} in its sockets (stats().buffered: ${size(r.stats().buffered)})`,
      expected: `all ${size(total)} within ${secs(deadlineMs)} (a fraction of that on an idle machine)`,
      lesson: see("write() returns false: wait for 'drain'"),
      extra: `If the numbers stopped moving, your relay paused a socket and never resumed it: resume the socket you read from on the 'drain' of the socket you write to. Sampler: ${sampler.report()}`,
    });
  }
  const over = sampler.over;
  check(!over, () => ({
    did: `your relay held ${size(over!.value)} at ${secs(over!.atMs)} into the transfer (${dir}), after ${size(over!.moved)} had reached ${readerName}; the bound is ${size(BOUND)}. ${over!.readerPaused ? `${cap(readerName)} had stopped reading for a moment` : `${cap(readerName)} was reading more slowly than ${writerName} wrote`}, and what your relay read beyond what it could pass on piled up in memory.`,
    expected: `at most ${size(BOUND)} at every sample, in each direction: when write() returns false, pause() the socket you read from until the other one emits 'drain'. A queue of your own does not help: it grows just the same.`,
    lesson: see("write() returns false: wait for 'drain'"),
    extra: `Sampler: ${sampler.report()}`,
  }));
  check(sink.received === total && sink.ended && sink.firstBad < 0, () => ({
    did: `${sink.summary(readerName, total)}${sink.firstBad >= 0 ? `; ${sink.corruption(readerName)}` : ''}`,
    expected: `all ${size(total)} in order, then a clean end`,
    lesson: see('The exercise'),
    extra: replayHint(seed),
  }));
  check(sampler.statsError === undefined, () => ({
    did: `stats() ${thrown(sampler.statsError)} during the transfer`,
    expected: 'stats() to answer at any moment: { aToB, bToA, buffered }',
    lesson: see('The exercise'),
  }));
  const stats = r.stats();
  check(stats[stat] === total && sampler.underReported === 0, () => ({
    did: `stats() said ${stat} = ${stats[stat]}${sampler.underReported ? `, and once buffered = ${sampler.underReportedAt.reported} while the relay's sockets held ${sampler.underReportedAt.held}` : ''}`,
    expected: `${stat} = ${total}, and buffered never below readableLength + writableLength of both sockets (plus any queue of your own)`,
    lesson: see('The exercise'),
  }));
  // After all those pauses and resumes, the relay has about as many listeners as at its start.
  const grown = listenersGrown(line, listenersBefore, 2);
  check(grown.length === 0, () => ({
    did: `after ${pauses} stops of ${readerName} and ${producer!.blockedCount} waits of ${writerName}, listeners piled up on your relay's sockets: ${grown.join(', ')}`,
    expected: "about as many listeners as right after relay() returned: add each listener once, when the relay starts (or use once() and let it go), never a new on('drain') each time you pause",
    lesson: see('Pausing the reader'),
  }));
}

describe('the relay under load: bounded memory', () => {
  it(`keeps its buffered bytes under ${BOUND / MiB} MiB while moving ${TOTAL / MiB} MiB to a consumer that keeps stopping`, async () => {
    await loadTest('a to b', TOTAL, PAUSE_EVERY, TRANSFER_MS);
  });

  it(`bounds its memory the other way too: 32 MiB from b to a, with a producer that keeps stopping reading`, async () => {
    await loadTest('b to a', 32 * MiB, 8 * MiB, 4_000);
  });
});

describe('the relay: full duplex', () => {
  it('carries both directions at once', async () => {
    const SIZE = 16 * MiB;
    const STALL_MS = 1_500;
    const line = await openLine();
    const r = startRelay(line);
    const there = new Pattern(seed);
    const back = new Pattern(seed + 1);
    const atConsumer = new Sink(line.consumer, there);
    const atProducer = new Sink(line.producer, back);
    const sampler = new Sampler(line, r, () => atConsumer.received + atProducer.received, () => {
      line.producer.destroy();
      line.consumer.destroy();
    });
    // Each end sends, and ends its side only once it has received everything from the other:
    // a relay that carries one direction at a time can never finish this conversation.
    const ends = [
      [new Producer(line.producer, there, SIZE, { end: false }), atProducer, line.producer],
      [new Producer(line.consumer, back, SIZE, { end: false }), atConsumer, line.consumer],
    ] as const;
    for (const [sender, sink, socket] of ends) {
      void until(() => (sender.sent >= SIZE && sink.received >= SIZE) || socket.destroyed, 10_000, 'this end sending and receiving everything')
        .then(() => socket.destroyed || socket.end())
        .catch(() => {});
    }
    const progress = () => atConsumer.received + atProducer.received + ends[0][0].sent + ends[1][0].sent;
    const finished = () => [atConsumer, atProducer].every((end) => end.ended || end.closed) || !!sampler.over;
    const outcome = await watchTransfer(progress, finished, STALL_MS, 6_000);
    const allArrived = atConsumer.received === SIZE && atProducer.received === SIZE;
    check(outcome === 'done' || !allArrived, () => ({
      did: `every byte arrived both ways, but the ends did not: ${atConsumer.summary('the consumer')}; ${atProducer.summary('the producer')}. Each side ended its own direction once it had received everything.`,
      expected: "each side's end passed on after its bytes: when one socket emits 'end', call end() on the other",
      lesson: see('Ending: FIN, flush, half-close'),
    }));
    check(outcome === 'done', () => ({
      did:
        outcome === 'stalled'
          ? `nothing moved for ${secs(STALL_MS)}: ${atConsumer.summary('the consumer', SIZE)}; ${atProducer.summary('the producer', SIZE)}`
          : `after 6 s, ${atConsumer.summary('the consumer', SIZE)}; ${atProducer.summary('the producer', SIZE)}`,
      expected: `both ends receive ${size(SIZE)} while they are still sending: the relay reads a and b at the same time, and backpressure in one direction never stops the other`,
      lesson: see('Full duplex'),
      extra: replayHint(seed),
    }));
    check(!sampler.over, () => ({
      did: `your relay held ${size(sampler.over!.value)} at ${secs(sampler.over!.atMs)}; the bound is ${size(BOUND)}`,
      expected: `at most ${size(BOUND)} in both directions together`,
      lesson: see("write() returns false: wait for 'drain'"),
      extra: `Sampler: ${sampler.report()}`,
    }));
    const problems = [atConsumer.corruption('the consumer'), atProducer.corruption('the producer')].filter(Boolean);
    check(problems.length === 0 && atConsumer.received === SIZE && atProducer.received === SIZE && atConsumer.ended && atProducer.ended, () => ({
      did: [atConsumer.summary('the consumer', SIZE), atProducer.summary('the producer', SIZE), ...problems].join('; '),
      expected: `${size(SIZE)} intact each way, then a clean end each way`,
      lesson: see('Full duplex'),
      extra: replayHint(seed),
    }));
    const stats = r.stats();
    check(stats.aToB === SIZE && stats.bToA === SIZE, {
      did: `stats() said aToB = ${stats.aToB}, bToA = ${stats.bToA}`,
      expected: `${SIZE} each way`,
      lesson: see('The exercise'),
    });
  });
  it('keeps one direction moving while the other is blocked', async () => {
    const BACK = 4 * MiB;
    const line = await openLine();
    const r = startRelay(line);
    const sampler = new Sampler(line, r, () => 0, () => {
      line.producer.destroy();
      line.consumer.destroy();
    });
    // a to b backs up: the consumer does not read at all, and the producer writes until it is blocked.
    line.consumer.pause();
    const stuck = new Producer(line.producer, new Pattern(seed), 64 * MiB, { end: false, onBlocked: () => sampler.sample() });
    const blocked = await eventually(() => stuck.blockedFor() >= BLOCKED_MS || !!sampler.over, 3_000);
    check(!sampler.over, () => ({
      did: `while the consumer was not reading, your relay held ${size(sampler.over!.value)}; the bound is ${size(BOUND)}`,
      expected: "the relay stops reading a once b's write() returns false",
      lesson: see("write() returns false: wait for 'drain'"),
    }));
    check(blocked, {
      did: `the consumer stopped reading, yet 3 s later the producer had written ${size(stuck.sent)} without ever being told to wait for more than a moment`,
      expected: 'the line backs up to the producer, and its write() returns false',
      lesson: see("write() returns false: wait for 'drain'"),
    });
    // Now the other direction: the consumer talks, the producer listens.
    const back = new Pattern(seed + 1);
    const atProducer = new Sink(line.producer, back);
    const talker = new Producer(line.consumer, back, BACK, { end: true });
    const outcome = await watchTransfer(() => atProducer.received, () => atProducer.ended || atProducer.closed || !!sampler.over, 1_500, 4_000);
    check(outcome === 'done' && atProducer.received === BACK && atProducer.ended && atProducer.firstBad < 0 && !sampler.over, () => ({
      did: `with a to b blocked (the producer waiting for 'drain'), the consumer sent ${size(talker.sent)} the other way and ended; ${atProducer.summary('the producer', BACK)}${outcome === 'stalled' ? ', and nothing moved for 1.5 s' : ''}${atProducer.firstBad >= 0 ? `; ${atProducer.corruption('the producer')}` : ''}${sampler.over ? `; your relay held ${size(sampler.over.value)}` : ''}`,
      expected: `all ${size(BACK)} and the end: backpressure in one direction pauses only that direction's source. Pause the socket you read from, and resume it only on the 'drain' of the socket you write to.`,
      lesson: see('Full duplex'),
      extra: replayHint(seed),
    }));
    check(stuck.blockedFor() > 0 && r.stats().bToA === BACK, () => ({
      did: `afterwards the producer is ${stuck.blockedFor() > 0 ? 'still' : 'no longer'} blocked, and stats().bToA = ${r.stats().bToA}`,
      expected: `the producer still blocked (the consumer never read), and bToA = ${BACK}`,
      lesson: see('Full duplex'),
    }));
  });

  it('carries every byte value, 0x00 to 0xff, unchanged both ways', async () => {
    const line = await openLine();
    const transcript = new Transcript({ out: 'producer', inn: 'consumer, via your relay' });
    tapSocket(line.producer, transcript);
    const r = startRelay(line);
    // Every byte value, high bytes first, and UTF-8 sequences cut in the middle by the writes.
    const all = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
    const there = [all.subarray(0, 1), Uint8Array.of(0xe2, 0x82), Uint8Array.of(0xac, 0xc3), Uint8Array.of(0x28, 0xf0, 0x9f), all.subarray(1)];
    const back = [Uint8Array.of(0xff, 0xfe, 0x00), all, Uint8Array.of(0xed, 0xa0, 0x80, 0xc0, 0x80)];
    const want = (parts: Uint8Array[]) => Buffer.concat(parts);
    const atConsumer: Buffer[] = [];
    const atProducer: Buffer[] = [];
    line.consumer.on('data', (d: Buffer) => atConsumer.push(d));
    line.producer.on('data', (d: Buffer) => atProducer.push(d));
    line.producer.setNoDelay(true);
    line.consumer.setNoDelay(true);
    for (let i = 0; i < Math.max(there.length, back.length); i++) {
      if (there[i]) line.producer.write(there[i]!);
      if (back[i]) line.consumer.write(back[i]!);
      await pause(1);
    }
    const doneBoth = () => Buffer.concat(atConsumer).length >= want(there).length && Buffer.concat(atProducer).length >= want(back).length;
    await eventually(doneBoth, 2_000);
    const gotThere = Buffer.concat(atConsumer);
    const gotBack = Buffer.concat(atProducer);
    check(gotThere.equals(want(there)) && gotBack.equals(want(back)), {
      did: `the consumer got ${hex(gotThere, 12)} (want ${hex(want(there), 12)}); the producer got ${hex(gotBack, 12)} (want ${hex(want(back), 12)})`,
      expected: "the same bytes, byte for byte: a relay passes on Buffers and never decodes them as text (no setEncoding, no toString: bytes 0x80-0xff are not characters on their own)",
      lesson: see('The exercise'),
      transcript,
    });
    // Once everything has arrived, the relay holds nothing, and its counters are exact.
    const idle = await eventually(() => r.stats().buffered === 0, 1_000);
    const stats = r.stats();
    check(idle && stats.aToB === want(there).length && stats.bToA === want(back).length, {
      did: `stats() says aToB = ${stats.aToB}, bToA = ${stats.bToA}, buffered = ${stats.buffered}`,
      expected: `aToB = ${want(there).length}, bToA = ${want(back).length} (bytes, not characters or chunks), and buffered = 0 once every byte has arrived`,
      lesson: see('The exercise'),
    });
  });
});
