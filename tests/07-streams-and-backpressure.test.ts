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
import { BadCapacityError, ByteStream, StreamClosedError, StreamErroredError } from '@impl/07-streams-and-backpressure/exercise.ts';
import type { Relay } from '@impl/07-streams-and-backpressure/relay.ts';
import { relay } from '@impl/07-streams-and-backpressure/relay.ts';
import {
  DeadlineError,
  Transcript,
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
} from './helpers/index.ts';

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
/** ...until the producer has been blocked (its write() returned false) this long: the whole line is full... */
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

/** producer ──▶ a  (relay)  b ──▶ consumer. `a` and `b` have highWaterMark HWM unless `bHwm` says otherwise. */
async function openLine(bHwm = HWM): Promise<Line> {
  const up = await socketPair('the producer -> relay connection', { server: HWM });
  const down = await socketPair('the relay -> consumer connection', { client: bHwm });
  const line: Line = { producer: up.client, a: up.server, b: down.client, consumer: down.server };
  // Resets are part of the tests: an 'error' on any of the four sockets must never crash the test process.
  for (const s of [line.producer, line.a, line.b, line.consumer]) s.on('error', () => {});
  return line;
}

/** Start the learner's relay on a line. */
function startRelay(line: Line): Relay {
  const r = relay(line.a, line.b);
  check(r && typeof r.stats === 'function', {
    did: `relay(a, b) returned ${String(r)}`,
    expected: 'an object with a stats() method: { stats: () => ({ aToB, bToA, buffered }) }',
    lesson: see('The exercise'),
  });
  return r;
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
  over: { value: number; atMs: number; moved: number; consumerPaused: boolean } | undefined;
  private readonly t0 = performance.now();
  private readonly external0 = process.memoryUsage().arrayBuffers;

  constructor(
    private readonly line: Line,
    private readonly r: Relay,
    private readonly moved: () => number,
    private readonly onOver: () => void,
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
      this.over = { value, atMs: performance.now() - this.t0, moved: this.moved(), consumerPaused: this.line.consumer.isPaused() };
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
  it('refuses a capacity that is not a whole number from 1 up', () => {
    const problems: string[] = [];
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const e = errorOf(() => new ByteStream(bad));
      if (!(e instanceof BadCapacityError) || e.code !== 'ERR_BAD_CAPACITY') {
        problems.push(`new ByteStream(${bad}) ${e === undefined ? 'was accepted' : thrown(e)}`);
      }
    }
    const one = errorOf(() => new ByteStream(1));
    if (one !== undefined) problems.push(`new ByteStream(1) ${thrown(one)}`);
    check(problems.length === 0, {
      did: problems.join('; '),
      expected: 'BadCapacityError (code ERR_BAD_CAPACITY) for 0, negatives, fractions, NaN and Infinity; a stream for 1',
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
    const two = l.read(2);
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
});

// ---------------------------------------------------------------------------------------------
// Part 2: the relay, on real sockets
// ---------------------------------------------------------------------------------------------

describe('the relay: ends and errors (relay.ts)', () => {
  it("passes each side's end on and keeps the other direction open (half-close)", async () => {
    const line = await openLine();
    const transcript = new Transcript({ out: 'producer', inn: 'consumer, via your relay' });
    tapSocket(line.producer, transcript);
    startRelay(line);
    const request = 'hello from the producer, and that is all I will send\n';
    const reply = 'heard you; here is my answer after your end\n';
    const atConsumer = new Sink(line.consumer, undefined);
    const parts: Buffer[] = [];
    line.consumer.on('data', (d: Buffer) => parts.push(d));
    line.producer.write(request);
    line.producer.end();
    transcript.note('producer ended its side (FIN)');
    try {
      await within(atConsumer.done, 2_000, "the producer's end reaching the consumer");
    } catch (err) {
      fail({
        did: `${atConsumer.summary('the consumer')} 2 s after the producer sent ${request.length} bytes and ended its side`,
        expected: "the bytes, then the end: when a emits 'end', call b.end() (it sends the FIN after the bytes still queued)",
        lesson: see('Ending: FIN, flush, half-close'),
        transcript,
        extra: String((err as Error).message),
      });
    }
    const got = Buffer.concat(parts).toString();
    check(got === request && atConsumer.ended, {
      did: `${atConsumer.summary('the consumer')}: ${JSON.stringify(got)}`,
      expected: `${JSON.stringify(request)}, then a clean end`,
      lesson: see('Ending: FIN, flush, half-close'),
      transcript,
    });
    // The consumer's direction is still open: it answers after the producer's end.
    const atProducer = new Sink(line.producer, undefined);
    line.consumer.end(reply);
    try {
      await within(atProducer.done, 2_000, "the consumer's reply and end reaching the producer");
    } catch {
      /* reported below */
    }
    const back = transcript.receivedBytes().toString();
    check(back === reply && atProducer.ended, {
      did: `after its own end, ${atProducer.summary('the producer')}: ${JSON.stringify(back)}`,
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
  });

  it('flushes every buffered byte before passing the end on', async () => {
    const SIZE = 16 * MiB;
    // b may queue 64 MiB before write() says "full", so the relay reads the producer's end long
    // before the paused consumer has taken the bytes: when the end arrives, b still holds megabytes.
    const line = await openLine(64 * MiB);
    const pattern = new Pattern(seed);
    let heldAtEnd = -1;
    // Registered before the relay's own listener, so this runs first: what b holds when a's end arrives.
    line.a.once('end', () => (heldAtEnd = line.b.writableLength));
    startRelay(line);
    const producer = new Producer(line.producer, pattern, SIZE, { end: true });
    // The consumer does not read until the producer's end has reached the relay (or everything is full).
    await until(
      () => heldAtEnd >= 0 || producer.blockedFor() > 50 || line.a.destroyed,
      4_000,
      "the producer's end reaching your relay",
      'Your relay must keep reading a while b accepts writes.',
    );
    const sink = new Sink(line.consumer, pattern);
    try {
      await within(sink.done, 4_000, 'the consumer reading to the end');
    } catch {
      /* reported below */
    }
    const lost = SIZE - sink.received;
    check(sink.received === SIZE && sink.ended, () => ({
      did: `${sink.summary('the consumer', SIZE)}. When the producer's end reached your relay, b still held ${size(Math.max(0, heldAtEnd))} for the consumer${lost > 0 ? `; ${size(lost)} never arrived` : ''}.`,
      expected: "every byte, then a clean end: b.end() queues the FIN behind the bytes already written; destroy() (or closing b on 'end') throws them away",
      lesson: see('Ending: FIN, flush, half-close'),
      extra: replayHint(seed),
    }));
    check(sink.firstBad < 0, () => ({ did: sink.corruption('the consumer')!, expected: 'the bytes in the order they were sent', lesson: see('Ending: FIN, flush, half-close'), extra: replayHint(seed) }));
    await within(producer.done, 1_000, 'the producer finishing');
  });

  it('passes a reset on as a reset, never as a clean end, in both directions', async () => {
    for (const dir of ['producer', 'consumer'] as const) {
      const line = await openLine();
      startRelay(line);
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
});

describe('the relay under load: bounded memory', () => {
  it(`keeps its buffered bytes under ${BOUND / MiB} MiB while moving ${TOTAL / MiB} MiB to a consumer that keeps stopping`, async () => {
    const line = await openLine();
    const pattern = new Pattern(seed);
    const r = startRelay(line);
    let stop: () => void = () => {};
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    let producer: Producer | undefined;
    let nextPause = PAUSE_EVERY;
    const sink = new Sink(line.consumer, pattern, () => {
      sampler.sample();
      if (sink.received < nextPause || sink.received >= TOTAL) return;
      // The slow consumer: stop reading until the whole line has backed up to the producer.
      nextPause += PAUSE_EVERY;
      line.consumer.pause();
      const since = performance.now();
      const poll = setInterval(() => {
        const now = performance.now();
        const gap = (producer?.sent ?? 0) - sink.received;
        if ((producer?.blockedFor(now) ?? 0) >= BLOCKED_MS || gap >= MAX_GAP || now - since >= MAX_PAUSE_MS || sampler.over) {
          clearInterval(poll);
          line.consumer.resume();
        }
      }, 2);
      track(poll, 'the slow consumer');
    });
    const sampler: Sampler = new Sampler(line, r, () => sink.received, () => {
      // Over the bound: stop the transfer at once, the verdict is in.
      line.producer.destroy();
      line.consumer.destroy();
      stop();
    });
    producer = new Producer(line.producer, pattern, TOTAL, { end: true, onBlocked: () => sampler.sample() });
    try {
      await within(Promise.race([sink.done, stopped]), TRANSFER_MS, `moving ${size(TOTAL)} through your relay`);
    } catch (err) {
      if (!(err instanceof DeadlineError)) throw err;
      const idle = performance.now() - sink.lastDataAt;
      fail({
        did: `after ${secs(TRANSFER_MS)} the producer had written ${size(producer.sent)} and ${sink.summary('the consumer', TOTAL)}${idle > 500 ? `; nothing had arrived for the last ${secs(idle)}` : ''}; your relay held ${size(socketsHold(line))} in its sockets (stats().buffered: ${size(r.stats().buffered)})`,
        expected: `all ${size(TOTAL)} within ${secs(TRANSFER_MS)} (about one second on an idle machine)`,
        lesson: see("write() returns false: wait for 'drain'"),
        extra: `If the numbers stopped moving, your relay paused a socket and never resumed it: resume the socket you read from on the 'drain' of the socket you write to. Sampler: ${sampler.report()}`,
      });
    }
    const over = sampler.over;
    check(!over, () => ({
      did: `your relay held ${size(over!.value)} at ${secs(over!.atMs)} into the transfer, after ${size(over!.moved)} had reached the consumer; the bound is ${size(BOUND)}. ${over!.consumerPaused ? 'The consumer had stopped reading for a moment' : 'The consumer was reading more slowly than the producer wrote'}, and what your relay read beyond what it could pass on piled up in memory.`,
      expected: `at most ${size(BOUND)} at every sample: when write() returns false, pause() the socket you read from until the other one emits 'drain'. A queue of your own does not help: it grows just the same.`,
      lesson: see("write() returns false: wait for 'drain'"),
      extra: `Sampler: ${sampler.report()}`,
    }));
    check(sink.received === TOTAL && sink.ended && sink.firstBad < 0, () => ({
      did: `${sink.summary('the consumer', TOTAL)}${sink.firstBad >= 0 ? `; ${sink.corruption('the consumer')}` : ''}`,
      expected: `all ${size(TOTAL)} in order, then a clean end`,
      lesson: see('The exercise'),
      extra: replayHint(seed),
    }));
    check(sampler.statsError === undefined, () => ({
      did: `stats() ${thrown(sampler.statsError)} during the transfer`,
      expected: 'stats() to answer at any moment: { aToB, bToA, buffered }',
      lesson: see('The exercise'),
    }));
    const stats = r.stats();
    check(stats.aToB === TOTAL && sampler.underReported === 0, () => ({
      did: `stats() said aToB = ${stats.aToB}${sampler.underReported ? `, and once buffered = ${sampler.underReportedAt.reported} while the relay's sockets held ${sampler.underReportedAt.held}` : ''}`,
      expected: `aToB = ${TOTAL}, and buffered never below readableLength + writableLength of both sockets (plus any queue of your own)`,
      lesson: see('The exercise'),
    }));
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
});
