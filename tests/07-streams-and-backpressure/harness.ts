/**
 * Chapter 07's test harness, part 1: the byte stream. A logged ByteStream whose every call is
 * written down, so that a failure shows the script that led to it; its state compared getter by
 * getter; and a plain model of a bounded queue, with random scripts (fast-check) to compare it on.
 *
 * The relay's rig is in relay-rig.ts (the sockets) and traffic.ts (the bytes and the measuring).
 */
import { ByteStream } from '@impl/07-streams-and-backpressure/exercise.ts';
import { check, fc, hexBytes, lessonOf, thrown } from '../helpers/index.ts';

export const ID = '07-streams-and-backpressure';
/** `lesson('Heading')`: a checked link to a section of this chapter's lesson. */
export const lesson = lessonOf(ID);

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** "1.00 MiB", "64.0 KiB", "12 B". */
export function size(n: number): string {
  if (Math.abs(n) >= MiB) return `${(n / MiB).toFixed(2)} MiB`;
  if (Math.abs(n) >= KiB) return `${(n / KiB).toFixed(1)} KiB`;
  return `${n} B`;
}
/** "1.50 s". */
export const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
/** The sentence's first letter in upper case. */
export const cap = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** "1 byte", "3 bytes". */
export const bytes = (n: number) => `${n} byte${n === 1 ? '' : 's'}`;
/** Same length, same bytes. */
export const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
/** `n` counting bytes from `from` (mod 256): seq(254, 3) is fe ff 00. */
export const seq = (from: number, n: number) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

/** The error `fn` throws, or undefined. */
export function errorOf(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e;
  }
}

/** What a call that may have thrown `e` did: "returned normally" or "threw StreamClosedError [ERR_STREAM_CLOSED]: ...". */
export const outcome = (e: unknown) => (e === undefined ? 'returned normally' : `threw ${thrown(e)}`);

// ---------------------------------------------------------------------------------------------
// A ByteStream with a log
// ---------------------------------------------------------------------------------------------

/** A ByteStream with every operation written to a log, so that a failure can show the script. */
export class Logged {
  readonly log: string[] = [];
  readonly s: ByteStream;

  constructor(capacity: number) {
    this.log.push(`const s = new ByteStream(${capacity})`);
    this.s = new ByteStream(capacity);
  }

  push(data: Uint8Array): number {
    return this.note(`s.push(${data.length === 0 ? 'new Uint8Array(0)' : `<${hexBytes(data, 8)}>`})`, () => this.s.push(data));
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
      this.log.push(`${call}${out === undefined ? '' : ` -> ${out instanceof Uint8Array ? hexBytes(out, 8) : String(out)}`}`);
      return out;
    } catch (e) {
      this.log.push(`${call} threw ${thrown(e)}`);
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
export function checkStep(cond: boolean, l: Logged, did: string, expected: string, heading: string): void {
  check(cond, () => ({ did: `${did}\n  after this script:\n${l.script()}`, expected, lesson: lesson(heading) }));
}

/** Everything a ByteStream shows of its state, as the tests compare it. */
export interface StreamState {
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
      return `(threw ${thrown(e)})`;
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
export function checkState(l: Logged, want: StreamState, heading: string, why: string): void {
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
export function healthy(capacity: number, pushed: number, popped: number, closed = false): StreamState {
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

// ---------------------------------------------------------------------------------------------
// The plain model, and random scripts to compare it with
// ---------------------------------------------------------------------------------------------

/**
 * A bounded queue of bytes in the plainest terms: an array, two counters and a flag. The writer
 * pushes the next bytes of one counting sequence and resends whatever was refused, so the reader
 * must see that sequence unbroken.
 */
export class StreamModel {
  /** The buffered bytes, oldest first. */
  readonly bytes: number[] = [];
  pushed = 0;
  popped = 0;
  closed = false;

  constructor(readonly capacity: number) {}

  /** The next `n` bytes the writer has not had accepted yet. */
  unsent(n: number): Uint8Array {
    return seq(this.pushed, n);
  }

  /** Take what fits of `data`; returns the accepted count. */
  push(data: Uint8Array): number {
    const n = Math.min(data.length, this.capacity - this.bytes.length);
    this.bytes.push(...data.subarray(0, n));
    this.pushed += n;
    return n;
  }

  peek(max = Infinity): Uint8Array {
    return Uint8Array.from(this.bytes.slice(0, Math.max(0, max)));
  }

  /** Remove up to `n` bytes; returns them. */
  take(n = Infinity): Uint8Array {
    const out = Uint8Array.from(this.bytes.splice(0, Math.max(0, Math.min(n, this.bytes.length))));
    this.popped += out.length;
    return out;
  }

  state(): StreamState {
    return healthy(this.capacity, this.pushed, this.popped, this.closed);
  }
}

/** One call of a random script. A push hands over a view at `offset` into a larger buffer, which the writer then reuses. */
export type StreamStep =
  | { op: 'push'; length: number; offset: number }
  | { op: 'peek' | 'read'; max: number | undefined }
  | { op: 'pop'; max: number }
  | { op: 'close' };

/** A capacity and the calls to make on a stream of that capacity. */
export interface StreamScript {
  capacity: number;
  steps: StreamStep[];
}

const MAX_SCRIPT_CAPACITY = 40;
/** An amount to ask for: 0 to a little more than the largest capacity, or (for peek and read) none at all. */
const amount = fc.integer({ min: 0, max: MAX_SCRIPT_CAPACITY + 2 });

/**
 * Random scripts: a capacity of 1 to 40 bytes, then up to 60 pushes (of up to 1.5 times the largest
 * capacity), peeks, pops and reads, and in about half of the scripts a close somewhere. A failing
 * script shrinks to the fewest, smallest calls that still fail.
 */
export const streamScripts: fc.Arbitrary<StreamScript> = fc.record({
  capacity: fc.integer({ min: 1, max: MAX_SCRIPT_CAPACITY }),
  steps: fc.array(
    fc.oneof(
      {
        weight: 16,
        arbitrary: fc.record({
          op: fc.constant('push' as const),
          length: fc.integer({ min: 0, max: MAX_SCRIPT_CAPACITY * 1.5 }),
          offset: fc.integer({ min: 0, max: 8 }),
        }),
      },
      { weight: 8, arbitrary: fc.record({ op: fc.constantFrom('peek' as const, 'read' as const), max: fc.option(amount, { nil: undefined, freq: 4 }) }) },
      { weight: 8, arbitrary: fc.record({ op: fc.constant('pop' as const), max: amount }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('close' as const) }) },
    ),
    { maxLength: 60, size: 'max' },
  ),
});

/** A script in words, for "Fails for:": "new ByteStream(3); push(5 bytes); pop(2); close()". */
export function showScript({ capacity, steps }: StreamScript): string {
  const call = (s: StreamStep) => {
    switch (s.op) {
      case 'push':
        return `push(${bytes(s.length)}${s.offset ? `, a view at offset ${s.offset} of a larger buffer` : ''})`;
      case 'close':
        return 'close()';
      default:
        return `${s.op}(${s.max ?? ''})`;
    }
  };
  return [`new ByteStream(${capacity})`, ...steps.map(call)].join('; ');
}

/** `data` copied into the middle of a larger buffer of 0xee, as a view at `offset`. */
export function viewOf(data: Uint8Array, offset: number): Uint8Array {
  const big = new Uint8Array(offset + data.length + 3).fill(0xee);
  big.set(data, offset);
  return big.subarray(offset, offset + data.length);
}
