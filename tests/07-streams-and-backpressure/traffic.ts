/**
 * Chapter 07's test harness, part 3: traffic on the line, and what the relay holds meanwhile.
 *
 * Data is a seeded pattern, checked byte for byte, so a failure names the first wrong byte. Memory
 * is sampled, not assumed: every millisecond or so the Sampler takes the larger of what the relay's
 * two sockets hold (read by the test itself) and the relay's own `stats().buffered`.
 */
import { once } from 'node:events';
import type net from 'node:net';
import type { Relay } from '@impl/07-streams-and-backpressure/relay.ts';
import { hexBytes, pause, randomBytes, seededRandom, testSeed, track } from '../helpers/index.ts';
import { KiB, MiB, secs, size } from './harness.ts';
import type { Direction, Line, ListenerCounts } from './relay-rig.ts';
import { countListeners, openLine, sides, socketsHold, startRelay } from './relay-rig.ts';

/**
 * The bound on what the relay may hold. A relay that respects write()'s return value holds at
 * most about HWM plus one 64 KiB read in each of the four buffers it can fill (the read and write
 * buffers of a and b): 512 KiB. The bound leaves twice that.
 */
export const BOUND = 1 * MiB;
/** The producer's writes, and the unit of the test pattern. */
export const CHUNK = 64 * KiB;
/** The slow reader of a load test, once stopped, waits until the producer has been blocked (its write() returned false) this long: the whole line is full (or it has sent everything)... */
export const BLOCKED_MS = 15;
/** ...or the producer is this far ahead of the consumer (a backstop: the kernel buffers of this line hold about 10 MiB on Linux)... */
const MAX_GAP = 32 * MiB;
/** ...or this long has passed. */
const MAX_PAUSE_MS = 1_000;

/**
 * A long, seeded, non-repeating byte stream: chunk k is a 64 KiB window of a 1 MiB random pool at
 * an offset that differs from chunk to chunk. Lost, repeated or swapped chunks all show up.
 */
export class Pattern {
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
export class Sink {
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
    return `${name} got a wrong byte at stream offset ${this.firstBad}: got ${hexBytes(this.badBytes ?? Buffer.alloc(0), 16)}, expected ${hexBytes(this.pattern.around(this.firstBad), 16)}`;
  }
}

/** Writes a pattern into a socket as fast as the socket takes it, and remembers when write() said "full". */
export class Producer {
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

/** What the relay holds, sampled: the larger of the test's own reading and the relay's stats().buffered. */
export class Sampler {
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
export async function watchTransfer(progress: () => number, finished: () => boolean, stallMs: number, totalMs: number): Promise<'done' | 'stalled' | 'slow'> {
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

/** A load test under way (see `startLoad`). */
export interface Load {
  line: Line;
  r: Relay;
  sink: Sink;
  producer: Producer;
  sampler: Sampler;
  /** The listener counts of the relay's sockets right after relay() returned. */
  listenersBefore: ListenerCounts;
  /** How many times the slow reader has stopped. */
  pauses(): number;
  /** Resolves when the reader has its end (or its socket closed), or the sampler saw the bound crossed. */
  finished: Promise<void>;
}

/**
 * The load test, in one direction: the writer sends `total` bytes of a seeded pattern as fast as it
 * can, and the reader stops reading each time `pauseEvery` more bytes have arrived, until the whole
 * line has backed up. Over the bound, the transfer stops at once: the verdict is in.
 */
export async function startLoad(dir: Direction, total: number, pauseEvery: number): Promise<Load> {
  const line = await openLine();
  const { writer, reader, readerName } = sides(line, dir);
  const pattern = new Pattern(testSeed());
  const r = startRelay(line);
  const listenersBefore = countListeners(line);
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
      line.producer.destroy();
      line.consumer.destroy();
      stop();
    },
    reader,
  );
  producer = new Producer(writer, pattern, total, { end: true, onBlocked: () => sampler.sample() });
  return { line, r, sink, producer, sampler, listenersBefore, pauses: () => pauses, finished: Promise.race([sink.done, stopped]) };
}
