/**
 * Chapter 07 · Queues on both ends.
 *
 * Part 1 drives the learner's ByteStream with short scripts, and with random scripts (fast-check)
 * checked against a plain model of a bounded queue.
 *
 * Part 2 runs the learner's relay between real sockets on loopback:
 *
 *   producer ──tcp──▶ a ╶ your relay ╴ b ──tcp──▶ consumer
 *
 * The test opens all four sockets itself and samples what the relay holds (relay-rig.ts,
 * traffic.ts). Data is checked byte for byte against a seeded pattern, so a failure names the
 * first wrong byte.
 */
import { describe, it } from 'vitest';
import { BadCapacityError, ByteStream, ByteStreamError, MAX_CAPACITY, StreamClosedError, StreamErroredError } from '@impl/07-streams-and-backpressure/exercise.ts';
import { DeadlineError, Transcript, check, eventually, fail, forAllSync, hexBytes, pause, replayHint, tapSocket, testSeed, thrown, until, within } from '../helpers/index.ts';
import type { StreamState } from './harness.ts';
import { KiB, Logged, MiB, StreamModel, bytes, cap, checkState, checkStep, errorOf, healthy, lesson, outcome, same, secs, seq, showScript, size, streamScripts, viewOf } from './harness.ts';
import type { Direction } from './relay-rig.ts';
import { DIRECTIONS, listenersGrown, openLine, runningTimers, sides, socketsHold, startRelay, unguardedSockets } from './relay-rig.ts';
import { BLOCKED_MS, BOUND, Pattern, Producer, Sampler, Sink, startLoad, watchTransfer } from './traffic.ts';

/** The seed of the byte patterns the relay tests send (WORKBOOK_SEED replays it). */
const seed = testSeed();

/** What the load test moves from the producer to the consumer. */
const TOTAL = 100 * MiB;
/** The consumer of the load test stops reading each time this much more has arrived (until the whole line is full). */
const PAUSE_EVERY = 10 * MiB;
/** The deadline for the whole 100 MiB; on an idle machine it takes about one second. */
const TRANSFER_MS = 6_500;

// ---------------------------------------------------------------------------------------------
// Part 1: the bounded byte stream
// ---------------------------------------------------------------------------------------------

describe('the bounded byte stream (exercise.ts)', () => {
  it('refuses a capacity that is not a whole number from 1 to MAX_CAPACITY', () => {
    const problems: string[] = [];
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, MAX_CAPACITY + 1]) {
      const e = errorOf(() => new ByteStream(bad));
      if (!(e instanceof BadCapacityError) || !(e instanceof ByteStreamError) || e.code !== 'ERR_BAD_CAPACITY' || !Object.is(e.capacity, bad)) {
        problems.push(`new ByteStream(${bad}) ${e === undefined ? 'was accepted' : `threw ${thrown(e)} with capacity ${String((e as BadCapacityError).capacity)}`}`);
      }
    }
    // The bounds themselves are allowed. A Uint8Array of MAX_CAPACITY bytes costs no real memory until it is written.
    for (const good of [1, MAX_CAPACITY]) {
      const e = errorOf(() => new ByteStream(good).push(seq(0, 2)));
      if (e !== undefined) problems.push(`new ByteStream(${good}) threw ${thrown(e)}`);
    }
    check(problems.length === 0, {
      did: problems.join('; '),
      expected: `BadCapacityError (code ERR_BAD_CAPACITY, capacity the rejected value) for 0, negatives, fractions, NaN, Infinity and MAX_CAPACITY + 1; a working stream for 1 and for MAX_CAPACITY (${MAX_CAPACITY})`,
      lesson: lesson('A bounded byte stream'),
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
      `read() returned ${hexBytes(out)}`,
      `the first 8 bytes pushed, ${hexBytes(data.subarray(0, 8))}, and nothing that did not fit`,
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
    checkStep(same(out, want), l, `read() returned ${hexBytes(out)}`, `${hexBytes(want)}`, 'A bounded byte stream');
  });

  it('keeps bytes in order when they wrap around the end of its memory', () => {
    const l = new Logged(5);
    l.push(seq(1, 4));
    l.pop(3);
    const took = l.push(seq(5, 4)); // 1 byte left in front, room for 4: wraps
    const peeked = l.peek();
    const want = seq(4, 5);
    checkStep(took === 4 && same(peeked, want), l, `push returned ${took}, then peek() returned ${hexBytes(peeked)}`, `4, then ${hexBytes(want)}: the oldest byte first, across the wrap`, 'A bounded byte stream');
    const two = Uint8Array.from(l.read(2)); // copied at once: whether read() hands out copies is another test
    l.push(seq(9, 2));
    const out = l.read();
    checkStep(
      same(two, seq(4, 2)) && same(out, seq(6, 5)),
      l,
      `read(2) returned ${hexBytes(two)}, then read() returned ${hexBytes(out)}`,
      `${hexBytes(seq(4, 2))}, then ${hexBytes(seq(6, 5))}`,
      'A bounded byte stream',
    );
  });

  it('peek looks without taking; pop and read take from the front and count', () => {
    const l = new Logged(16);
    l.push(seq(0, 10));
    const a = l.peek(4);
    const b = l.peek(4);
    checkStep(same(a, seq(0, 4)) && same(b, seq(0, 4)) && l.s.bytesBuffered === 10, l, `two peek(4) returned ${hexBytes(a)} and ${hexBytes(b)}; ${l.counters()}`, 'the same 4 bytes twice, and all 10 still buffered', 'A bounded byte stream');
    const popped = l.pop(3);
    const r = l.read(100);
    const counts = [l.s.bytesPushed, l.s.bytesPopped, l.s.bytesBuffered, l.s.availableCapacity];
    checkStep(
      popped === 3 && same(r, seq(3, 7)) && same(Uint8Array.from(counts), Uint8Array.from([10, 10, 0, 16])),
      l,
      `pop(3) returned ${popped}, read(100) returned ${hexBytes(r)}; ${l.counters()}`,
      `3, then the 7 remaining bytes ${hexBytes(seq(3, 7))}; bytesPushed 10, bytesPopped 10, bytesBuffered 0, availableCapacity 16`,
      'A bounded byte stream',
    );
    const empty = l.read();
    checkStep(empty.length === 0, l, `read() on an empty stream returned ${hexBytes(empty)}`, 'an empty Uint8Array: nothing to read yet is not an error', 'A bounded byte stream');
  });

  it('matches a plain model through random scripts of pushes, peeks, pops, reads and a close', () => {
    const A = 'A bounded byte stream';
    const E = 'End of input and errors';
    forAllSync(
      streamScripts,
      ({ capacity, steps }) => {
        const l = new Logged(capacity);
        const model = new StreamModel(capacity);
        /** Every array peek and read handed out, with the bytes it held then: they must never change. */
        const handedOut: { call: string; got: Uint8Array; held: Uint8Array }[] = [];
        const keep = (got: Uint8Array) => handedOut.push({ call: l.log.at(-1)!.replace(/ -> .*$/, ''), got, held: Uint8Array.from(got) });
        for (const step of steps) {
          if (step.op === 'push') {
            // The writer offers the bytes not yet accepted, as a view into a larger buffer, and reuses that buffer at once.
            const data = model.unsent(step.length);
            const view = viewOf(data, step.offset);
            if (model.closed) {
              // Nothing can come after the end. (A push of nothing asks for nothing: returning 0 is fine too.)
              let took: unknown;
              const e = errorOf(() => (took = l.push(view)));
              checkStep(
                (e instanceof StreamClosedError && e.code === 'ERR_STREAM_CLOSED') || (step.length === 0 && e === undefined && took === 0),
                l,
                `push after close() ${e === undefined ? `returned ${String(took)}` : outcome(e)}`,
                'StreamClosedError, code ERR_STREAM_CLOSED: nothing can come after the end',
                E,
              );
            } else {
              const buffered = model.bytes.length;
              const want = model.push(data);
              const got = l.push(view);
              view.fill(0xee);
              checkStep(got === want, l, `push returned ${got}`, `${want} (capacity ${capacity}, ${bytes(buffered)} already buffered)`, A);
            }
          } else if (step.op === 'peek') {
            const want = model.peek(step.max);
            const got = l.peek(step.max);
            checkStep(same(got, want), l, `peek returned ${hexBytes(got)}`, hexBytes(want), A);
            keep(got);
          } else if (step.op === 'pop') {
            const want = model.take(step.max).length;
            const got = l.pop(step.max);
            checkStep(got === want, l, `pop returned ${got}`, String(want), A);
          } else if (step.op === 'read') {
            const want = model.take(step.max);
            const got = l.read(step.max);
            checkStep(same(got, want), l, `read returned ${hexBytes(got)}`, hexBytes(want), A);
            keep(got);
          } else {
            l.close();
            model.closed = true;
          }
          checkState(l, model.state(), model.closed ? E : A, 'as the model shows after the same calls');
          const changed = handedOut.find((h) => !same(h.got, h.held));
          if (changed) {
            checkStep(
              false,
              l,
              `the array that \`${changed.call}\` returned now holds ${hexBytes(changed.got)}`,
              `${hexBytes(changed.held)} still: peek and read return copies, so later calls never change bytes already handed out`,
              A,
            );
          }
        }
      },
      { numRuns: 100, show: showScript },
    );
  });

  it('reports the end to the reader only after the last byte is read', () => {
    const l = new Logged(8);
    l.push(seq(0, 4));
    l.close();
    checkStep(l.s.isClosed && !l.s.isFinished, l, `after close(): isClosed ${l.s.isClosed}, isFinished ${l.s.isFinished}`, 'isClosed true, isFinished false: 4 bytes are still waiting for the reader', 'End of input and errors');
    l.read(3);
    checkStep(!l.s.isFinished, l, `with 1 byte left, isFinished is ${l.s.isFinished}`, 'false until the last byte is read', 'End of input and errors');
    const last = l.read();
    checkStep(same(last, seq(3, 1)) && l.s.isFinished, l, `the last read() returned ${hexBytes(last)}, then isFinished is ${l.s.isFinished}`, `${hexBytes(seq(3, 1))}, then isFinished true`, 'End of input and errors');
    const e = errorOf(() => l.push(seq(0, 1)));
    checkStep(
      e instanceof StreamClosedError && e.code === 'ERR_STREAM_CLOSED',
      l,
      `push after close() ${outcome(e)}`,
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
      `the reader's read() ${outcome(onRead)}; peek() ${outcome(onPeek)}`,
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
      `the writer's push() ${outcome(onPush)}; close() ${outcome(onClose)}; errored is ${String(r.s.errored?.message)}`,
      'StreamErroredError from push and close, with `reason` (and `errored`) the first error, "the reader gave up"',
      'End of input and errors',
    );
  });

  it('shows the right counters and flags after every step of a script', () => {
    const A = 'A bounded byte stream';
    const E = 'End of input and errors';
    const l = new Logged(6);
    check(l.s.capacity === 6, { did: `new ByteStream(6).capacity is ${String(l.s.capacity)}`, expected: '6', lesson: lesson('The exercise') });
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
        checkStep(false, l, `the last call threw ${thrown(e)}`, `it returns normally: ${why}`, heading);
      }
      const ok = want instanceof Uint8Array ? got instanceof Uint8Array && same(got, want) : Object.is(got, want);
      const show = (v: unknown) => (v instanceof Uint8Array ? hexBytes(v) : String(v));
      checkStep(ok, l, `the last call returned ${show(got)}`, `${show(want)}: ${why}`, heading);
      checkState(l, state, heading, why);
    }
    const e = errorOf(() => l.push(seq(0, 1)));
    checkStep(
      e instanceof StreamClosedError && e.code === 'ERR_STREAM_CLOSED' && e instanceof ByteStreamError,
      l,
      `push after close() ${outcome(e)}`,
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
          `${again === undefined ? '' : `a second error() threw ${thrown(again)}; `}${name} on a stream that failed ${when} ${outcome(e)}; errored is ${String(l.s.errored?.message)}`,
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
      `push of a 5-byte view starting at offset 10 of a 64-byte buffer returned ${took}, then peek() returned ${hexBytes(first)}`,
      `5, then the view's own bytes ${hexBytes(big.subarray(10, 15))}: a Uint8Array may be a window into a larger buffer (data.byteOffset, data.length), so copy data itself, never data.buffer`,
      A,
    );
    // A partial push from a view, across the end of the ring.
    l.read(4);
    const took2 = l.push(big.subarray(40, 50));
    const after = l.read();
    const want = Uint8Array.from([...big.subarray(14, 15), ...big.subarray(40, 47)]);
    checkStep(took2 === 7 && same(after, want), l, `push of a 10-byte view at offset 40 returned ${took2}, then read() returned ${hexBytes(after)}`, `7, then ${hexBytes(want)}`, A);
    // The writer reuses its buffer at once: the stream must already hold its own copy.
    const buf = seq(0xf0, 6);
    l.push(buf);
    buf.fill(0);
    const kept = l.peek();
    checkStep(same(kept, seq(0xf0, 6)), l, `after push(buf), the writer overwrote buf with zeros; peek() then returned ${hexBytes(kept)}`, `${hexBytes(seq(0xf0, 6))}: push copies the bytes, the caller's buffer is its own again when push returns`, A);
    // What peek and read return belongs to the caller: changing it changes nothing in the stream,
    // and later pushes, which reuse the same place in the ring, do not change it either.
    kept.fill(0xaa);
    const again = l.peek();
    checkStep(same(again, seq(0xf0, 6)), l, `the reader wrote 0xaa into the array peek() returned; the next peek() returned ${hexBytes(again)}`, `${hexBytes(seq(0xf0, 6))}: peek returns a copy, never a view of the stream's own storage`, A);
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
      `read(6) returned an array that, after the stream was filled again, holds ${hexBytes(same(plain, seq(0xf0, 6)) ? taken : plain)}`,
      `${hexBytes(seq(0xf0, 6))} still: read returns a copy, so new bytes in the ring never change bytes already handed out`,
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
          lesson: lesson('Ending: FIN, flush, half-close'),
          transcript,
          extra: String((err as Error).message),
        });
      }
      const got = Buffer.concat(parts).toString();
      check(got === request && atReader.ended, {
        did: `${atReader.summary(readerName)}: ${JSON.stringify(got)} (${dir})`,
        expected: `${JSON.stringify(request)}, then a clean end`,
        lesson: lesson('Ending: FIN, flush, half-close'),
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
        lesson: lesson('Ending: FIN, flush, half-close'),
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
        lesson: lesson('Errors travel too'),
        transcript,
      });
      const timersAfter = runningTimers();
      check(timersAfter <= timersBefore, {
        did: `${timersAfter - timersBefore} more timer(s) running in the process after both of your relay's sockets closed than before relay() started`,
        expected: 'none: once both sockets have closed, the relay has nothing left to do, so nothing of it may keep running (clear every setTimeout/setInterval you start)',
        lesson: lesson('The exercise'),
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
        lesson: lesson('Ending: FIN, flush, half-close'),
        extra: replayHint(seed),
      }));
      check(sink.firstBad < 0, () => ({ did: sink.corruption(readerName)!, expected: 'the bytes in the order they were sent', lesson: lesson('Ending: FIN, flush, half-close'), extra: replayHint(seed) }));
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
        lesson: lesson('Errors travel too'),
        extra: replayHint(seed),
      }));
      await within(producer.done, 1_000, `${writerName} finishing`);
    }
  });

  it('passes a reset on as a reset, never as a clean end, in both directions', async () => {
    for (const dir of ['producer', 'consumer'] as const) {
      const line = await openLine();
      startRelay(line);
      const unguarded = unguardedSockets(line);
      check(unguarded.length === 0, {
        did: `after relay(a, b) returned, ${unguarded.join(' and ')} had no 'error' listener: the reset this test is about to cause would have crashed the whole process (an 'error' event that nobody listens for is thrown)`,
        expected: "an 'error' listener on both sockets, added by relay() itself",
        lesson: lesson('Errors travel too'),
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
          lesson: lesson('Full duplex'),
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
        lesson: lesson('Errors travel too'),
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
        lesson: lesson('Errors travel too'),
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
        lesson: lesson('Errors travel too'),
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
        lesson: lesson('Errors travel too'),
      });
    }
  });
});

describe('the relay under load: bounded memory', () => {
  /** Run a load test in one direction, then judge it: the bound, every byte, stats(), the listeners. */
  async function loadTest(dir: Direction, total: number, pauseEvery: number, deadlineMs: number): Promise<void> {
    const { line, r, sink, producer, sampler, listenersBefore, pauses, finished } = await startLoad(dir, total, pauseEvery);
    const { writerName, readerName, stat } = sides(line, dir);
    try {
      await within(finished, deadlineMs, `moving ${size(total)} through your relay (${dir})`);
    } catch (err) {
      if (!(err instanceof DeadlineError)) throw err;
      const idle = performance.now() - sink.lastDataAt;
      fail({
        did: `after ${secs(deadlineMs)}, ${writerName} had written ${size(producer.sent)} and ${sink.summary(readerName, total)}${idle > 500 ? `; nothing had arrived for the last ${secs(idle)}` : ''}; your relay held ${size(socketsHold(line))} in its sockets (stats().buffered: ${size(r.stats().buffered)})`,
        expected: `all ${size(total)} within ${secs(deadlineMs)} (a fraction of that on an idle machine)`,
        lesson: lesson("write() returns false: wait for 'drain'"),
        extra: `If the numbers stopped moving, your relay paused a socket and never resumed it: resume the socket you read from on the 'drain' of the socket you write to. Sampler: ${sampler.report()}`,
      });
    }
    const over = sampler.over;
    check(!over, () => ({
      did: `your relay held ${size(over!.value)} at ${secs(over!.atMs)} into the transfer (${dir}), after ${size(over!.moved)} had reached ${readerName}; the bound is ${size(BOUND)}. ${over!.readerPaused ? `${cap(readerName)} had stopped reading for a moment` : `${cap(readerName)} was reading more slowly than ${writerName} wrote`}, and what your relay read beyond what it could pass on piled up in memory.`,
      expected: `at most ${size(BOUND)} at every sample, in each direction: when write() returns false, pause() the socket you read from until the other one emits 'drain'. A queue of your own does not help: it grows just the same.`,
      lesson: lesson("write() returns false: wait for 'drain'"),
      extra: `Sampler: ${sampler.report()}`,
    }));
    check(sink.received === total && sink.ended && sink.firstBad < 0, () => ({
      did: `${sink.summary(readerName, total)}${sink.firstBad >= 0 ? `; ${sink.corruption(readerName)}` : ''}`,
      expected: `all ${size(total)} in order, then a clean end`,
      lesson: lesson('The exercise'),
      extra: replayHint(seed),
    }));
    check(sampler.statsError === undefined, () => ({
      did: `stats() threw ${thrown(sampler.statsError)} during the transfer`,
      expected: 'stats() to answer at any moment: { aToB, bToA, buffered }',
      lesson: lesson('The exercise'),
    }));
    const stats = r.stats();
    check(stats[stat] === total && sampler.underReported === 0, () => ({
      did: `stats() said ${stat} = ${stats[stat]}${sampler.underReported ? `, and once buffered = ${sampler.underReportedAt.reported} while the relay's sockets held ${sampler.underReportedAt.held}` : ''}`,
      expected: `${stat} = ${total}, and buffered never below readableLength + writableLength of both sockets (plus any queue of your own)`,
      lesson: lesson('The exercise'),
    }));
    // After all those pauses and resumes, the relay has about as many listeners as at its start.
    const grown = listenersGrown(line, listenersBefore, 2);
    check(grown.length === 0, () => ({
      did: `after ${pauses()} stops of ${readerName} and ${producer.blockedCount} waits of ${writerName}, listeners piled up on your relay's sockets: ${grown.join(', ')}`,
      expected: "about as many listeners as right after relay() returned: add each listener once, when the relay starts (or use once() and let it go), never a new on('drain') each time you pause",
      lesson: lesson('Pausing the reader'),
    }));
  }

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
      lesson: lesson('Ending: FIN, flush, half-close'),
    }));
    check(outcome === 'done', () => ({
      did:
        outcome === 'stalled'
          ? `nothing moved for ${secs(STALL_MS)}: ${atConsumer.summary('the consumer', SIZE)}; ${atProducer.summary('the producer', SIZE)}`
          : `after 6 s, ${atConsumer.summary('the consumer', SIZE)}; ${atProducer.summary('the producer', SIZE)}`,
      expected: `both ends receive ${size(SIZE)} while they are still sending: the relay reads a and b at the same time, and backpressure in one direction never stops the other`,
      lesson: lesson('Full duplex'),
      extra: replayHint(seed),
    }));
    check(!sampler.over, () => ({
      did: `your relay held ${size(sampler.over!.value)} at ${secs(sampler.over!.atMs)}; the bound is ${size(BOUND)}`,
      expected: `at most ${size(BOUND)} in both directions together`,
      lesson: lesson("write() returns false: wait for 'drain'"),
      extra: `Sampler: ${sampler.report()}`,
    }));
    const problems = [atConsumer.corruption('the consumer'), atProducer.corruption('the producer')].filter(Boolean);
    check(problems.length === 0 && atConsumer.received === SIZE && atProducer.received === SIZE && atConsumer.ended && atProducer.ended, () => ({
      did: [atConsumer.summary('the consumer', SIZE), atProducer.summary('the producer', SIZE), ...problems].join('; '),
      expected: `${size(SIZE)} intact each way, then a clean end each way`,
      lesson: lesson('Full duplex'),
      extra: replayHint(seed),
    }));
    const stats = r.stats();
    check(stats.aToB === SIZE && stats.bToA === SIZE, {
      did: `stats() said aToB = ${stats.aToB}, bToA = ${stats.bToA}`,
      expected: `${SIZE} each way`,
      lesson: lesson('The exercise'),
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
      lesson: lesson("write() returns false: wait for 'drain'"),
    }));
    check(blocked, {
      did: `the consumer stopped reading, yet 3 s later the producer had written ${size(stuck.sent)} without ever being told to wait for more than a moment`,
      expected: 'the line backs up to the producer, and its write() returns false',
      lesson: lesson("write() returns false: wait for 'drain'"),
    });
    // Now the other direction: the consumer talks, the producer listens.
    const back = new Pattern(seed + 1);
    const atProducer = new Sink(line.producer, back);
    const talker = new Producer(line.consumer, back, BACK, { end: true });
    const outcome = await watchTransfer(() => atProducer.received, () => atProducer.ended || atProducer.closed || !!sampler.over, 1_500, 4_000);
    check(outcome === 'done' && atProducer.received === BACK && atProducer.ended && atProducer.firstBad < 0 && !sampler.over, () => ({
      did: `with a to b blocked (the producer waiting for 'drain'), the consumer sent ${size(talker.sent)} the other way and ended; ${atProducer.summary('the producer', BACK)}${outcome === 'stalled' ? ', and nothing moved for 1.5 s' : ''}${atProducer.firstBad >= 0 ? `; ${atProducer.corruption('the producer')}` : ''}${sampler.over ? `; your relay held ${size(sampler.over.value)}` : ''}`,
      expected: `all ${size(BACK)} and the end: backpressure in one direction pauses only that direction's source. Pause the socket you read from, and resume it only on the 'drain' of the socket you write to.`,
      lesson: lesson('Full duplex'),
      extra: replayHint(seed),
    }));
    check(stuck.blockedFor() > 0 && r.stats().bToA === BACK, () => ({
      did: `afterwards the producer is ${stuck.blockedFor() > 0 ? 'still' : 'no longer'} blocked, and stats().bToA = ${r.stats().bToA}`,
      expected: `the producer still blocked (the consumer never read), and bToA = ${BACK}`,
      lesson: lesson('Full duplex'),
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
      did: `the consumer got ${hexBytes(gotThere, 12)} (want ${hexBytes(want(there), 12)}); the producer got ${hexBytes(gotBack, 12)} (want ${hexBytes(want(back), 12)})`,
      expected: "the same bytes, byte for byte: a relay passes on Buffers and never decodes them as text (no setEncoding, no toString: bytes 0x80-0xff are not characters on their own)",
      lesson: lesson('The exercise'),
      transcript,
    });
    // Once everything has arrived, the relay holds nothing, and its counters are exact.
    const idle = await eventually(() => r.stats().buffered === 0, 1_000);
    const stats = r.stats();
    check(idle && stats.aToB === want(there).length && stats.bToA === want(back).length, {
      did: `stats() says aToB = ${stats.aToB}, bToA = ${stats.bToA}, buffered = ${stats.buffered}`,
      expected: `aToB = ${want(there).length}, bToA = ${want(back).length} (bytes, not characters or chunks), and buffered = 0 once every byte has arrived`,
      lesson: lesson('The exercise'),
    });
  });
});
