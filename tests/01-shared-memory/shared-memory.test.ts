/**
 * Chapter 01 · Notes in shared memory: the SPSC ring-buffer channel in a SharedArrayBuffer.
 *
 * Single-thread tests check the ring's bookkeeping (order, wraparound, full vs empty, limits).
 * Then real threads: Workers that block in receive()/send(), a 10 MB transfer checked by hash,
 * and an instrumented Atomics.notify that catches "notify before publish" deterministically.
 * Last, copying vs sharing: postMessage, SharedArrayBuffer, and a forked child process.
 * Every blocking call on learner code runs in a Worker with a timeout, never on this thread.
 * The machinery is in harness.ts (and brams-thread.ts, the Worker that runs blocking calls).
 */
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, describe, it } from 'vitest';
import {
  CONTROL_BYTES,
  Channel,
  ChannelError,
  LENGTH_PREFIX_BYTES,
  MessageTooLargeError,
  READ_SLOT,
  WRITE_SLOT,
  postCopy,
  postShared,
} from '@impl/01-shared-memory/exercise.ts';
import { DeadlineError, check, fail, fc, forAllSync, hexBytes, onCleanup, pause, replayHint, testSeed, thrown, track, within } from '../helpers/index.ts';
import { repoRoot } from '../../engine/impl.ts';
import { type Reply, bram, blockingCall, warmUpBram } from './brams-thread.ts';
import {
  type NotifyWatch,
  type Operation,
  advance,
  attempt,
  errorOf,
  fields,
  fromUtf8,
  implPath,
  isTimeoutError,
  keeper,
  lesson,
  pattern,
  reported,
  same,
  settle,
  show,
  timedOut,
  timedOutReport,
  timeoutExpected,
  utf8,
  watchNotifies,
  workerEntry,
} from './harness.ts';
import { CHILD_NOTE, type ErrorReport, traffic } from './workers/01-common.ts';

/** What a correct ring does at the end of its buffer. */
const WRAP_EXPECTED =
  'the copy splits in two: bytes up to the end of the ring, then the rest from position 0, for the length prefix and the payload alike (a typed array\'s set() throws RangeError when asked to write past its end)';
/** What a correct ring does when its 32-bit counters overflow. */
const OVERFLOW_EXPECTED = 'the ring works wherever its counters are: positions are `counter & (capacity - 1)`, bytes in use are `(write - read) >>> 0`';

afterAll(() => bram.retire());

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

    // Random traffic against a model queue: sends and receives interleaved, the ring wrapping many times
    // and often exactly full. A failure shrinks to the shortest script of sends and receives that still goes wrong.
    const step = fc.oneof(
      { weight: 8, arbitrary: fc.uint8Array({ maxLength: 40, size: 'max' }) },
      { weight: 3, arbitrary: fc.uint8Array({ maxLength: 4 }) },
      { weight: 9, arbitrary: fc.constant('receive' as const) },
    );
    const script = fc.record({
      capacity: fc.constantFrom(64, 256),
      steps: fc.array(step, { minLength: 1, maxLength: 300, size: 'max' }),
    });
    const showStep = (s: Uint8Array | 'receive') => (s === 'receive' ? 'tryReceive()' : `trySend(${s.length === 1 ? '1 byte' : `${s.length} bytes`})`);
    forAllSync(
      script,
      ({ capacity, steps }) => {
        const ring = Channel.create(capacity);
        const model: Uint8Array[] = [];
        let inUse = 0;
        const log: string[] = [];
        steps.forEach((s, i) => {
          const situation = `step ${i} of the script below, a ${capacity}-byte ring with ${inUse} bytes in use`;
          if (s !== 'receive') {
            const fits = capacity - inUse >= LENGTH_PREFIX_BYTES + s.length;
            const ok = attempt('trySend', situation, () => ring.trySend(s), 'A ring for one writer and one reader', `${fits}`);
            log.push(`trySend(${s.length} bytes) -> ${ok}`);
            check(ok === fits, () => ({
              did: `step ${i}: trySend of a ${s.length}-byte message returned ${ok} with ${inUse} of ${capacity} bytes in use`,
              expected: `${fits}: a message takes 4 + length bytes, and a ring has room while used + 4 + length <= capacity`,
              lesson: lesson('Full or empty?'),
              extra: `Last steps: ${log.slice(-6).join(', ')}`,
            }));
            if (ok) {
              model.push(s);
              inUse += LENGTH_PREFIX_BYTES + s.length;
            }
          } else {
            const want = model.shift();
            const got1 = attempt('tryReceive', situation, () => ring.tryReceive(), 'A ring for one writer and one reader', want === undefined ? 'undefined' : show(want));
            log.push(`tryReceive() -> ${got1 === undefined ? 'undefined' : `${got1.length} bytes`}`);
            check(want === undefined ? got1 === undefined : same(got1, want), () => ({
              did: `step ${i}: tryReceive() returned ${show(got1)}`,
              expected: want === undefined ? 'undefined: every message sent so far was already received' : `the oldest message not yet received: ${show(want)}`,
              lesson: lesson('A ring for one writer and one reader'),
              extra: `Last steps: ${log.slice(-6).join(', ')}`,
            }));
            if (want) inUse -= LENGTH_PREFIX_BYTES + want.length;
          }
        });
      },
      { numRuns: 60, show: ({ capacity, steps }) => `a new ${capacity}-byte ring, then ${steps.map(showStep).join(', ')}` },
    );
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
      const caught = errorOf(() => (returned = ch.trySend(tooBig)));
      const t = caught as MessageTooLargeError | undefined;
      check(caught instanceof MessageTooLargeError && caught instanceof ChannelError && caught.code === 'ERR_MESSAGE_TOO_LARGE' && t?.size === 61 && t.limit === 60 && t.name === 'MessageTooLargeError', {
        did: `trySend of a 61-byte message into a 64-byte ring (${state}) ${caught ? `threw ${thrown(caught)} (size ${String(t?.size)}, limit ${String(t?.limit)})` : `returned ${String(returned)}`}`,
        expected:
          'it throws MessageTooLargeError with code ERR_MESSAGE_TOO_LARGE, size 61 (the message) and limit 60 (maxMessageBytes): 4 + 61 = 65 bytes can never fit in 64, so "false" (try again later) would keep a sender retrying forever',
        lesson: lesson('Length prefixes'),
      });
    }
    const viaSend = errorOf(() => ch.send(new Uint8Array(100), 20));
    check(viaSend instanceof MessageTooLargeError, {
      did: `send() of a 100-byte message into a 64-byte ring ${viaSend ? `threw ${thrown(viaSend)}` : 'returned normally'}`,
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
    // Receiving the next message must not change the one received before (no shared scratch buffer either).
    const next = ch.tryReceive();
    check(same(next, second) && same(got, kept), {
      did: `the next tryReceive() gave ${show(next)}, and the message received before it now reads ${show(got)}`,
      expected: `${show(second)}, and the earlier message still ${show(kept)}: every message handed out is a new array of its own`,
      lesson: lesson('A ring for one writer and one reader'),
    });
  });

  it('lays each message out as a 4-byte little-endian length and its bytes, and moves each counter by exactly that much', () => {
    const ch = Channel.create(1024);
    const control = new Int32Array(ch.buffer, 0, CONTROL_BYTES / 4);
    const ring = new Uint8Array(ch.buffer, CONTROL_BYTES);
    const counters = () => `write counter ${Atomics.load(control, WRITE_SLOT)}, read counter ${Atomics.load(control, READ_SLOT)}`;
    const expectCounters = (write: number, read: number, after: string) =>
      check(Atomics.load(control, WRITE_SLOT) === write && Atomics.load(control, READ_SLOT) === read, {
        did: `after ${after}, the control block held ${counters()}`,
        expected: `write counter ${write}, read counter ${read}: each counter is the number of bytes ever written or read (4 prefix bytes + the message), stored in its Int32 slot of the shared buffer, where the other thread reads it`,
        lesson: lesson('A ring for one writer and one reader'),
      });

    // Sending: the bytes in the ring and the write counter, after each message.
    const big = pattern(300, 12); // 300 = 0x012c: a length whose prefix has two non-zero bytes
    const steps: [Uint8Array, number[]][] = [
      [utf8('hi'), [0x02, 0, 0, 0, 0x68, 0x69]],
      [big, [0x2c, 0x01, 0, 0, ...big]],
      [new Uint8Array(0), [0, 0, 0, 0]],
    ];
    let write = 0;
    for (const [message, bytes] of steps) {
      check(ch.trySend(message) === true, { did: `trySend(${show(message)}) into a 1024-byte ring returned false`, expected: 'true: it fits', lesson: lesson('Length prefixes') });
      const inRing = ring.subarray(write, write + bytes.length);
      check(same(inRing, Uint8Array.from(bytes)), {
        did: `trySend(${show(message)}) left these bytes at ring position ${write}: ${hexBytes(inRing, 12)}`,
        expected: `${hexBytes(Uint8Array.from(bytes), 12)}: the length as an unsigned 32-bit little-endian number (lowest byte first), then the message's bytes. The other thread may run another implementation; only this layout is agreed`,
        lesson: lesson('Length prefixes'),
      });
      write += bytes.length;
      expectCounters(write, 0, `sending ${show(message)}`);
    }
    // Refused messages leave the counters alone.
    const full = Channel.create(16);
    const fullControl = new Int32Array(full.buffer, 0, CONTROL_BYTES / 4);
    full.trySend(pattern(12, 13));
    const refused = full.trySend(new Uint8Array(0));
    check(refused === false && Atomics.load(fullControl, WRITE_SLOT) === 16 && Atomics.load(fullControl, READ_SLOT) === 0, {
      did: `on a full 16-byte ring (write counter 16, read counter 0), trySend of an empty message returned ${String(refused)}; the counters are now ${Atomics.load(fullControl, WRITE_SLOT)} and ${Atomics.load(fullControl, READ_SLOT)}`,
      expected: 'false, and the counters unchanged: a message that does not fit is not written at all',
      lesson: lesson('Full or empty?'),
    });

    // Receiving: the read counter after each message, then nothing moves on an empty ring.
    let read = 0;
    for (const [message, bytes] of steps) {
      const got = ch.tryReceive();
      check(same(got, message), { did: `tryReceive() returned ${show(got)}`, expected: show(message), lesson: lesson('Length prefixes') });
      read += bytes.length;
      expectCounters(write, read, `receiving ${show(message)}`);
    }
    const none = ch.tryReceive();
    check(none === undefined, { did: `tryReceive() on the emptied ring returned ${show(none)}`, expected: 'undefined', lesson: lesson('Full or empty?') });
    expectCounters(write, read, 'tryReceive() on an empty ring');

    // Reading what another implementation wrote: the same layout, put there by hand.
    const theirs = Channel.create(1024);
    const theirRing = new Uint8Array(theirs.buffer, CONTROL_BYTES);
    const long = pattern(258, 14); // 258 = 0x0102
    theirRing.set([0x04, 0, 0, 0, ...utf8('Bram'), 0x02, 0x01, 0, 0, ...long]);
    Atomics.store(new Int32Array(theirs.buffer, 0, 2), WRITE_SLOT, 8 + 4 + 258);
    const [h1, h2, h3] = [theirs.tryReceive(), theirs.tryReceive(), theirs.tryReceive()];
    check(same(h1, utf8('Bram')) && same(h2, long) && h3 === undefined, {
      did: `the ring held "04 00 00 00 42 72 61 6d" then a 258-byte message with prefix "02 01 00 00", and the write counter said 270; tryReceive() gave ${show(h1)}, ${show(h2)}, ${show(h3)}`,
      expected: `"Bram", the ${show(long)}, then undefined: read the write counter from the control block and each length little-endian`,
      lesson: lesson('Length prefixes'),
    });
  });

  it('copies a message given as a view into a bigger buffer, and keeps it when the caller reuses that buffer', () => {
    const ch = Channel.create(256);
    // A view 37 bytes into a 200-byte buffer, with bytes from 0x80 to 0xff too.
    const backing = Uint8Array.from({ length: 200 }, (_, i) => (i * 53 + 128) & 0xff);
    const view = backing.subarray(37, 37 + 40);
    const wanted = view.slice();
    // Node's Buffer.from takes small buffers from a shared pool: a view at some offset of a larger ArrayBuffer.
    const pooled = Buffer.from('Ada: a pooled note \u00e9\u00ff');
    const pooledWanted = Uint8Array.from(pooled);
    for (const [name, message] of [['a 40-byte view at offset 37 of a 200-byte buffer', view], [`a Buffer (offset ${pooled.byteOffset} of a ${pooled.buffer.byteLength}-byte pool)`, pooled]] as const) {
      check(attempt('trySend', name, () => ch.trySend(message), 'A ring for one writer and one reader', 'true: the message fits'), {
        did: `trySend of ${name} returned false on a ring with room`,
        expected: 'true',
        lesson: lesson('A ring for one writer and one reader'),
      });
    }
    // The caller reuses its memory at once.
    backing.fill(0);
    pooled.fill(0x2a);
    const [g1, g2] = [ch.tryReceive(), ch.tryReceive()];
    check(same(g1, wanted) && same(g2, pooledWanted), {
      did: `sent a view (offset 37, 40 bytes) and a pooled Buffer, then overwrote both buffers; tryReceive() gave ${show(g1)} and ${show(g2)}`,
      expected: `${show(wanted)} and ${show(pooledWanted)}: exactly the bytes the views covered when sent (a view's bytes start at its byteOffset, not at 0 of its buffer), copied into the ring by trySend`,
      lesson: lesson('A ring for one writer and one reader'),
    });
  });

  it('accepts every power-of-two capacity from 8 to 2^30 and refuses any other with ERR_BAD_CAPACITY', () => {
    for (const capacity of [8, 16, 4_096, 2 ** 30]) {
      const ch = Channel.create(capacity);
      check(ch.capacity === capacity && ch.maxMessageBytes === capacity - LENGTH_PREFIX_BYTES, {
        did: `Channel.create(${capacity}) made a channel with capacity ${ch.capacity} and maxMessageBytes ${ch.maxMessageBytes}`,
        expected: `capacity ${capacity}, maxMessageBytes ${capacity - LENGTH_PREFIX_BYTES}`,
        lesson: lesson('Length prefixes'),
      });
      // Fill the small rings exactly; in the 1 GiB one, one small message is enough (and touches one page).
      const message = capacity <= 4_096 ? pattern(capacity - LENGTH_PREFIX_BYTES, 15) : utf8('hi');
      const sent = attempt('trySend', `a ${capacity}-byte ring`, () => ch.trySend(message), 'Full or empty?', 'true');
      const got = ch.tryReceive();
      check(sent === true && same(got, message), {
        did: `in a ${capacity}-byte ring, trySend(${show(message)}) returned ${String(sent)} and tryReceive() gave ${show(got)}`,
        expected: `true, then the same message: any power-of-two capacity from ${8} to 2^30 works, and the whole of it is usable`,
        lesson: lesson('Full or empty?'),
      });
    }
    const refuse = (what: string, make: () => unknown) => {
      const caught = errorOf(make);
      check(caught instanceof ChannelError && caught.code === 'ERR_BAD_CAPACITY' && caught.name === 'ChannelError', {
        did: `${what} ${caught ? `threw ${thrown(caught)}` : 'made a channel'}`,
        expected: 'a ChannelError with code ERR_BAD_CAPACITY: a ring must be a power of two (positions are `counter & (capacity - 1)`) from 8 to 2^30 bytes',
        lesson: lesson('Counters that overflow'),
      });
    };
    for (const capacity of [0, 4, 7, 12, 24, 100, 8.5, -8, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      refuse(`Channel.create(${capacity})`, () => Channel.create(capacity));
    }
    refuse('new Channel(a SharedArrayBuffer of 8 + 24 bytes)', () => new Channel(new SharedArrayBuffer(CONTROL_BYTES + 24)));
    refuse('new Channel(a SharedArrayBuffer of 4 bytes)', () => new Channel(new SharedArrayBuffer(4)));
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
      did: `receive(5000) in the Worker ${r.ok ? `returned ${show(r.message)}` : `threw ${reported(r.error)}`}`,
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
    check(r.ok, { did: `send() in the Worker threw ${reported(r.error)}`, expected: 'it returns once there is room', lesson: lesson('Atomics: load, store, wait, notify') });
    const got = ch.tryReceive();
    check(same(got, note), { did: `the message the Worker sent arrived as ${show(got)}`, expected: show(note), lesson: lesson('A ring for one writer and one reader') });
  });

  it('publishes the message before notifying, so a woken receiver finds it', async () => {
    const ch = Channel.create(64);
    // Watch Atomics.notify in this thread: each time the learner's code calls it on this channel,
    // look at the shared memory through a copy. A woken thread sees at least what is there now.
    const { watch, restore } = watchNotifies(ch);
    const lostWakeUp = (method: string, w: NotifyWatch) =>
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
    restore();
  });
});

describe('timeouts: a lost wake-up or deadlock fails, never hangs', () => {
  warmUpBram();

  it('receiveAsync on an empty ring rejects with ChannelTimeoutError after its timeout', async () => {
    const ch = Channel.create(64);
    const t0 = performance.now();
    const pending = ch.receiveAsync(100);
    // A promise still pending when the call returns: the wait did not block this thread.
    // `pending` goes first: if it is already settled, its reaction runs before the marker's.
    const marker = Symbol('pending');
    const atReturn = await Promise.race([pending, Promise.resolve(marker)]).then(
      (v) => (v === marker ? 'pending' : 'settled'),
      () => 'settled',
    );
    check(atReturn === 'pending', {
      did: `receiveAsync(100) on an empty ring returned a promise that had already settled, ${(performance.now() - t0).toFixed(0)} ms after the call: it waited by blocking this thread`,
      expected: 'it returns a pending promise at once and waits with Atomics.waitAsync; blocking the main thread freezes every timer, socket and callback of the program',
      lesson: lesson('Atomics: load, store, wait, notify'),
    });
    const outcome = await within(
      settle(pending),
      2_000,
      'receiveAsync(100) on an empty ring',
      'It must give up by itself: pass the time left to Atomics.waitAsync, and when it wakes with the deadline passed, reject.',
    );
    const elapsed = performance.now() - t0;
    if ('value' in outcome) {
      fail({ did: `receiveAsync(100) on a ring nobody sent to resolved with ${show(outcome.value)}`, expected: 'a rejection with ChannelTimeoutError', lesson: lesson('Waiting with a deadline') });
    }
    check(timedOut(outcome.error, 'receiveAsync', 100), {
      did: `receiveAsync(100) on an empty ring rejected with ${thrown(outcome.error)}${fields(outcome.error)}`,
      expected: timeoutExpected('receiveAsync', 100),
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
    check(!r.ok && timedOutReport(r.error, 'receive', 100), {
      did: `receive(100) on a ring nobody sent to ${r.ok ? `returned ${show(r.message)}` : `threw ${reported(r.error)}${fields(r.error)}`}`,
      expected: timeoutExpected('receive', 100),
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
    check(!r.ok && timedOutReport(r.error, 'send', 100), {
      did: `send() of 10 bytes into a full ring that nobody drains ${r.ok ? 'returned normally' : `threw ${reported(r.error)}${fields(r.error)}`}`,
      expected: `${timeoutExpected('send', 100)}, after 100 ms: two threads each waiting for the other is a deadlock, and only a timeout ends it`,
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
  it('a timeout of 0 still takes a message that is already there, and still sends when there is room', async () => {
    const ch = Channel.create(64);
    const a = utf8('Ada: already here');
    ch.trySend(a);
    const o1 = await within(settle(ch.receiveAsync(0)), 2_000, 'receiveAsync(0) with a message waiting');
    check('value' in o1 && same(o1.value, a), {
      did: `receiveAsync(0), with a message already in the ring, ${'value' in o1 ? `resolved with ${show(o1.value)}` : `rejected with ${thrown(o1.error)}`}`,
      expected: `${show(a)}: try first, and give up only when the try fails and the time is up`,
      lesson: lesson('Waiting with a deadline'),
    });

    const b = pattern(30, 16);
    ch.trySend(b);
    const r1 = await blockingCall('receive', ch, 0).report(5_000, 'With a message already in the ring, receive(0) returns it without waiting.');
    check(r1.ok && same(r1.message, b), {
      did: `receive(0) in a Worker, with a message already in the ring, ${r1.ok ? `returned ${show(r1.message)}` : `threw ${reported(r1.error)}`}`,
      expected: `${show(b)}: try first, and give up only when the try fails and the time is up`,
      lesson: lesson('Waiting with a deadline'),
    });

    // The message is a view 9 bytes into a larger buffer; the Worker overwrites that buffer as soon as send() returns.
    const backing = Uint8Array.from({ length: 64 }, (_, i) => (i * 29 + 0x80) & 0xff);
    const view = backing.subarray(9, 9 + 20);
    const r2 = await blockingCall('send', ch, 0, view).report(5_000, 'With room in the ring, send(message, 0) puts the message in without waiting.');
    check(r2.ok, {
      did: `send(20 bytes, 0) in a Worker, into a ring with room, threw ${reported(r2.error)}`,
      expected: 'it returns normally: try first, and give up only when the try fails and the time is up',
      lesson: lesson('Waiting with a deadline'),
    });
    const got = ch.tryReceive();
    check(same(got, view), {
      did: `the Worker sent a 20-byte view (offset 9 of a 64-byte buffer) with send(…, 0) and then overwrote its buffer; the ring gave ${show(got)}`,
      expected: `${show(view)}: the bytes the view covered, copied into the ring before send() returned`,
      lesson: lesson('A ring for one writer and one reader'),
    });
  });

  it('a timeout of 0 with nothing to do fails at once with ChannelTimeoutError', async () => {
    const advice = 'A timeout of 0 means "do not wait": try once, then give up. It does not mean "wait forever".';
    const ch = Channel.create(64);
    const o = await within(settle(ch.receiveAsync(0)), 2_000, 'receiveAsync(0) on an empty ring', advice);
    check('error' in o && timedOut(o.error, 'receiveAsync', 0), {
      did: `receiveAsync(0) on an empty ring ${'value' in o ? `resolved with ${show(o.value)}` : `rejected with ${thrown(o.error)}${fields(o.error)}`}`,
      expected: timeoutExpected('receiveAsync', 0),
      lesson: lesson('Waiting with a deadline'),
    });
    const r1 = await blockingCall('receive', ch, 0).report(3_000, advice);
    check(!r1.ok && timedOutReport(r1.error, 'receive', 0), {
      did: `receive(0) in a Worker, on an empty ring, ${r1.ok ? `returned ${show(r1.message)}` : `threw ${reported(r1.error)}${fields(r1.error)}`}`,
      expected: timeoutExpected('receive', 0),
      lesson: lesson('Waiting with a deadline'),
    });
    const filler = pattern(60, 17);
    ch.trySend(filler);
    const r2 = await blockingCall('send', ch, 0, utf8('one more')).report(3_000, advice);
    check(!r2.ok && timedOutReport(r2.error, 'send', 0), {
      did: `send("one more", 0) in a Worker, into a full ring, ${r2.ok ? 'returned normally' : `threw ${reported(r2.error)}${fields(r2.error)}`}`,
      expected: timeoutExpected('send', 0),
      lesson: lesson('Waiting with a deadline'),
    });
    const [g1, g2] = [ch.tryReceive(), ch.tryReceive()];
    check(same(g1, filler) && g2 === undefined, {
      did: `after send(…, 0) gave up, the ring gave ${show(g1)} then ${show(g2)}`,
      expected: 'only the 60-byte message that filled it: a send that gives up leaves the ring untouched',
      lesson: lesson('Waiting with a deadline'),
    });
  });

  it('a wait woken again and again with nothing to take still ends at its deadline', async () => {
    const T = 1_000; // the timeout of every call here
    // Stray wake-ups stop just before the deadline. A call that gives every wait the full timeout
    // then sleeps T more from the last one and ends near NUDGE_MS + T; one that sleeps only the time
    // left ends at T. NUDGE_MS > LATE_MS keeps the two apart however late a busy machine runs.
    const NUDGE_MS = 950;
    const LATE_MS = 800; // how far past its deadline a call may end, for a busy machine
    /** Call Atomics.notify on a counter every 10 ms for NUDGE_MS, as stray wake-ups would, changing nothing. */
    const nudge = (ch: Channel, slot: number) => {
      const control = new Int32Array(ch.buffer, 0, 2);
      const timer = setInterval(() => Atomics.notify(control, slot), 10);
      const end = setTimeout(() => clearInterval(timer), NUDGE_MS);
      onCleanup('stop the wake-ups', () => {
        clearTimeout(end);
        clearInterval(timer);
      });
    };
    const advice = 'After each wake-up, look again, then sleep only for the time left until the deadline computed at the start.';
    const stillWaiting = (call: string, woken: string) => ({
      did: `${call}, ${woken} every 10 ms for ${NUDGE_MS} ms but never given what it waits for, was still waiting 3 s later`,
      expected: 'each wake-up is only a reason to look again; the call gives up at its deadline however often it is woken',
      lesson: lesson('Waiting with a deadline'),
    });
    const judge = (call: string, woken: string, outcome: string, ok: boolean, elapsed: number, operation: Operation) =>
      check(ok && elapsed >= T - 10 && elapsed <= T + LATE_MS, {
        did: `${call}, ${woken} every 10 ms for the first ${NUDGE_MS} ms with nothing to take, ${outcome} after ${elapsed.toFixed(0)} ms`,
        expected: `${timeoutExpected(operation, T)}, after ${T} ms (up to ${LATE_MS} ms late on a busy machine). A wake-up that brings nothing is no reason to give up early; then sleep for the time *left*: passing the full timeout to every wait starts the clock over at each wake-up`,
        lesson: lesson('Waiting with a deadline'),
      });

    // 1. receiveAsync on this thread and 2. receive() in a Worker, at the same time, each on an empty ring.
    const ch1 = Channel.create(64);
    const t0 = performance.now();
    const async1 = settle(ch1.receiveAsync(T)).then((o) => ({ o, elapsed: performance.now() - t0 }));
    nudge(ch1, WRITE_SLOT);
    const ch2 = Channel.create(64);
    const call2 = blockingCall('receive', ch2, T);
    await call2.asleep('on an empty ring');
    nudge(ch2, WRITE_SLOT);

    let r1: Awaited<typeof async1>;
    try {
      r1 = await within(async1, 3_000, `receiveAsync(${T})`, advice);
    } catch (err) {
      if (!(err instanceof DeadlineError)) throw err;
      fail(stillWaiting(`receiveAsync(${T})`, 'woken (Atomics.notify on the write counter)'));
    }
    const o1 = r1.o;
    judge(
      `receiveAsync(${T})`,
      'woken (Atomics.notify on the write counter)',
      'value' in o1 ? `resolved with ${show(o1.value)}` : `rejected with ${thrown(o1.error)}${fields(o1.error)}`,
      'error' in o1 && timedOut(o1.error, 'receiveAsync', T),
      r1.elapsed,
      'receiveAsync',
    );

    let r2: Reply;
    try {
      r2 = await call2.report(3_000, advice);
    } catch (err) {
      if (!(err instanceof DeadlineError)) throw err;
      fail(stillWaiting(`receive(${T}) in a Worker`, 'woken (Atomics.notify on the write counter)'));
    }
    judge(
      `receive(${T}) in a Worker`,
      'woken (Atomics.notify on the write counter)',
      r2.ok ? `returned ${show(r2.message)}` : `threw ${reported(r2.error)}${fields(r2.error)}`,
      !r2.ok && timedOutReport(r2.error, 'receive', T),
      r2.elapsedMs,
      'receive',
    );

    // 3. send() in a Worker on a full ring: the receiver makes some room, but not enough, then stray wake-ups.
    const ch3 = Channel.create(64);
    const small = [0, 1, 2, 3].map((i) => pattern(12, 20 + i)); // 4 x (4 + 12) = 64 bytes: full
    for (const m of small) ch3.trySend(m);
    const big = pattern(40, 24); // needs 44 bytes
    const call3 = blockingCall('send', ch3, T, big);
    await call3.asleep('on a full ring');
    const first = ch3.tryReceive(); // 16 bytes free now: a real wake-up, still no room for 44
    nudge(ch3, READ_SLOT);
    let r3: Reply;
    try {
      r3 = await call3.report(3_000, advice);
    } catch (err) {
      if (!(err instanceof DeadlineError)) throw err;
      fail(stillWaiting(`send(40 bytes, ${T}) in a Worker`, 'woken (16 bytes freed, then Atomics.notify on the read counter)'));
    }
    judge(
      `send(40 bytes, ${T}) in a Worker, on a ring with only 16 bytes free (4 + 40 never fit),`,
      'woken',
      r3.ok ? 'returned normally' : `threw ${reported(r3.error)}${fields(r3.error)}`,
      !r3.ok && timedOutReport(r3.error, 'send', T),
      r3.elapsedMs,
      'send',
    );
    const rest = [ch3.tryReceive(), ch3.tryReceive(), ch3.tryReceive(), ch3.tryReceive()];
    check(same(first, small[0]) && small.slice(1).every((m, i) => same(rest[i], m)) && rest[3] === undefined, {
      did: `the ring then gave ${[first, ...rest].map(show).join(', ')}`,
      expected: 'the four 12-byte messages in order, then undefined: the send that gave up wrote nothing',
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
        if (!r.ok) reject(new Error(`The sending Worker failed at message #${r.index} of ${count}: its send() threw ${reported(r.error)}`));
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

    // A view 11 bytes into a larger SharedArrayBuffer, like a message still inside the ring.
    const region = new Uint8Array(new SharedArrayBuffer(64)).fill(0x2e);
    region.set(utf8(original), 11);
    const inRegion = region.subarray(11, 11 + original.length);
    postCopy(worker, inRegion);
    region.fill(0x21);
    const seen2 = await look(2);
    check(seen2.text === original && !seen2.shared, {
      did: `postCopy got an ${original.length}-byte view at offset 11 of a 64-byte SharedArrayBuffer; the sender then overwrote that buffer, and the Worker now holds "${seen2.text}"${seen2.shared ? ' in a SharedArrayBuffer' : ''}`,
      expected: `"${original}": exactly the bytes the view covers (from its byteOffset), in ordinary memory of the Worker's own`,
      lesson: lesson('Copying versus sharing'),
    });
  });

  it('data posted in a SharedArrayBuffer is shared: the receiver sees later changes', async () => {
    const { worker, look } = keeper();
    const original = 'Ada: meet at noon.';
    // The note is a view 5 bytes into a larger buffer, which the sender reuses right after posting.
    const backing = new Uint8Array(40).fill(0x2e);
    backing.set(utf8(original), 5);
    const note = backing.subarray(5, 5 + original.length);
    const view = postShared(worker, note);
    backing.fill(0x21);
    check(view instanceof Uint8Array && view.buffer instanceof SharedArrayBuffer && view.length === note.length, {
      did: `postShared of an ${original.length}-byte view (offset 5 of a 40-byte buffer) returned ${view instanceof Uint8Array ? `a ${view.length}-byte view of ${view.buffer.constructor.name}` : String(view)}`,
      expected: `a ${original.length}-byte Uint8Array over a new SharedArrayBuffer, holding the note`,
      lesson: lesson('SharedArrayBuffer: one memory, two threads'),
    });
    view.set(utf8('nine'), 13);
    const seen = await look(0);
    check(seen.shared && seen.text === 'Ada: meet at nine.', {
      did: `the sender overwrote the buffer it had passed in and changed its shared view to "${fromUtf8(view)}"; the Worker holds "${seen.text}"${seen.shared ? '' : ', in ordinary (copied) memory'}`,
      expected: '"Ada: meet at nine.": the note\'s own bytes, copied once into a new SharedArrayBuffer that both threads look at',
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
      fail({ did: `in the child process, your Channel threw ${reported(reply.error)}`, expected: 'the child attaches to its copy of the ring and uses it', lesson: lesson('Virtual memory: why processes cannot see each other') });
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
