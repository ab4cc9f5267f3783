/**
 * Chapter 08, making datagrams reliable: a sender and a receiver that deliver a byte stream once
 * and in order over a channel that loses, duplicates, reorders and damages datagrams.
 *
 * Three kinds of tests, from small to large:
 * - scripts on a fake clock, CS144-style: "test: write(300 bytes)", "expect you to send 0..100,
 *   100..200, 200..300", "time is 1000 ms", "expect you to send 0..100 again". A failing script
 *   prints itself up to the failing step. Anything sent that the script did not claim fails it too.
 * - the whole protocol over a seeded simulated channel (tests/helpers/sim-channel.ts), for many
 *   random setups; invariants (the window, the timer) are checked on every datagram, the bytes at the end.
 * - one real transfer over UDP on loopback, through the seeded lossy relay of chapter 05.
 *
 * The suite reads the wire with its own decoder (wire.ts), written from the lesson's diagram. The
 * scripts' steps are in sender-script.ts and receiver-script.ts, the simulator in sim.ts.
 */
import { createHash } from 'node:crypto';
import { describe, it } from 'vitest';
import type { Clock } from '@impl/08-reliable-delivery/exercise.ts';
import { StreamEndedError } from '@impl/08-reliable-delivery/exercise.ts';
import { RtoEstimator } from '@impl/08-reliable-delivery/rto.ts';
import { SegmentError, decodeSegment, encodeSegment, unwrap, wrap } from '@impl/08-reliable-delivery/segment.ts';
import { UdpStreamReceiver, UdpStreamSender } from '@impl/08-reliable-delivery/udp.ts';
import {
  DeadlineError, check, closeQuietly, fail, fc, forAllSync, hexBytes, hexNumber, hexdump, onCleanup, randomBytes, randomInt, replayHint, seededRandom, testSeed,
  thrown, within,
} from '../helpers/index.ts';
import { startLossyUdpRelay } from '../helpers/lossy-udp-relay.ts';
import { estimatorTable, lesson } from './harness.ts';
import { acks, arrives, deliveredTotal, finishedIs, receiverScript, receiverStatsAre, strayArrives } from './receiver-script.ts';
import {
  ackTo, at, closeSender, doneIs, endStream, estimatorIs, inFlight, noAckArrives, senderScript, senderStatsAre, sends, sendsOneOf, timersWaiting, write,
  writeFromView,
} from './sender-script.ts';
import type { SimSetup } from './sim.ts';
import { SEEDS, SIM_RTO, checkRun, describeSetup, forEachLossyRun, randomStream, runSim, storyAround, wrongBytes } from './sim.ts';
import { HEADER, TWO32, firstDifference, none, stream, wire, wrapRef } from './wire.ts';

describe('the wire format: checksums and sequence numbers that wrap', () => {
  const FIELDS: [number, number, string][] = [[0, 4, 'Checksum'], [4, 8, 'Sequence Number'], [8, 12, 'Acknowledgment Number'], [12, 13, 'Flags']];
  const fieldAt = (i: number) => FIELDS.find(([s, e]) => i >= s && i < e)?.[2] ?? `payload (byte ${i - HEADER})`;
  const u32 = fc.integer({ min: 0, max: TWO32 - 1 });
  /** Random segments: ack and fin present or not, up to 40 payload bytes. */
  const segments = fc.record({ seq: u32, ack: u32, fin: fc.boolean(), payload: fc.uint8Array({ maxLength: 40 }) }, { requiredKeys: ['seq', 'payload'] });
  const showSegment = (seg: { seq: number; ack?: number; fin?: boolean; payload: Uint8Array }) =>
    `seq ${hexNumber(seg.seq)}, ack ${seg.ack === undefined ? 'none (no ACK flag)' : hexNumber(seg.ack)}, fin ${seg.fin}, payload ${hexBytes(seg.payload)}`;

  /** decodeSegment must refuse `damaged`, whose byte `i` was flipped, with ERR_SEGMENT_CHECKSUM. */
  const refusesDamage = (damaged: Uint8Array, i: number) => {
    let error: unknown;
    let got: unknown;
    try {
      got = decodeSegment(damaged);
    } catch (err) {
      error = err;
    }
    check(error instanceof SegmentError && error.code === 'ERR_SEGMENT_CHECKSUM', () => ({
      did: error ? `with byte ${i} (${fieldAt(i)}) damaged, decodeSegment threw ${thrown(error)}` : `with byte ${i} (${fieldAt(i)}) damaged, decodeSegment returned ${JSON.stringify(got, (_, v) => (v instanceof Uint8Array ? `${v.length} bytes` : v))}`,
      expected: 'a SegmentError with code ERR_SEGMENT_CHECKSUM: the CRC-32 of bytes 4..end no longer matches the checksum field, wherever the damage is (the checksum field itself included)',
      lesson: lesson('Checksums: throwing damage away'),
      extra: hexdump(damaged, '    ', 64),
    }));
  };

  it('encodes a segment as the lesson draws it: checksum, sequence number, ACK number, flags, payload', () => {
    const cases = [
      { name: 'data with FIN', seg: { seq: 0xfffffffe, fin: true, payload: new TextEncoder().encode('Hi, Bram!') } },
      { name: 'a pure ACK', seg: { seq: 0, ack: 0x00000105, payload: none } },
      { name: 'data', seg: { seq: 0x12345678, payload: stream(300) } },
    ];
    for (const { name, seg } of cases) {
      const want = wire(seg);
      const got = encodeSegment(seg);
      let i = 0;
      while (i < want.length && got[i] === want[i]) i++;
      check(got instanceof Uint8Array && got.length === want.length && i === want.length, () => ({
        did: `encodeSegment(${name}: seq ${hexNumber(seg.seq)}${'ack' in seg ? `, ack ${hexNumber(seg.ack!)}` : ''}${'fin' in seg ? ', fin' : ''}, ${seg.payload.length} payload bytes) gave ${got?.length} bytes, first different at byte ${i} (${fieldAt(i)})`,
        expected: `${want.length} bytes: checksum (4 bytes, CRC-32 of everything after it), seq (4), ack (4, zero unless the ACK flag is set), flags (1: 0x01 ACK, 0x02 FIN), then the payload; numbers big-endian\nExpected:\n${hexdump(want, '    ', 48)}\nYours:\n${got instanceof Uint8Array ? hexdump(got, '    ', 48) : String(got)}`,
        lesson: lesson('The wire format'),
      }));
    }
  });

  it('decodes what it encodes, and refuses every single damaged byte with ERR_SEGMENT_CHECKSUM', () => {
    forAllSync(segments, (seg) => {
      for (const [how, bytes] of [['the suite', wire(seg)], ['your encodeSegment', encodeSegment(seg)]] as const) {
        const got = decodeSegment(bytes);
        const same = got.seq === seg.seq && got.ack === seg.ack && !!got.fin === !!seg.fin && firstDifference(seg.payload, got.payload) === '';
        check(same, () => ({
          did: `decodeSegment of a segment encoded by ${how} gave seq ${hexNumber(got.seq)}, ack ${got.ack === undefined ? 'undefined' : hexNumber(got.ack)}, fin ${got.fin}, ${got.payload?.length} payload bytes`,
          expected: `seq ${hexNumber(seg.seq)}, ack ${seg.ack === undefined ? 'undefined (no ACK flag)' : hexNumber(seg.ack)}, fin ${!!seg.fin}, ${seg.payload.length} payload bytes, equal to those sent`,
          lesson: lesson('The wire format'),
          extra: hexdump(bytes, '    ', 64),
        }));
      }
    }, { numRuns: 30, show: showSegment });
    // Every byte of one segment, each damaged on its own; then random damage to random segments.
    const original = wire({ seq: 0x01020304, ack: 0x0a0b0c0d, payload: stream(24) });
    for (let i = 0; i < original.length; i++) {
      const damaged = original.slice();
      damaged[i] ^= 1 + ((i * 37) % 255);
      refusesDamage(damaged, i);
    }
    const damages = fc.record({ seg: segments, at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) });
    forAllSync(damages, ({ seg, at, xor }) => {
      const damaged = wire(seg);
      damaged[at % damaged.length] ^= xor;
      refusesDamage(damaged, at % damaged.length);
    }, { numRuns: 30, show: ({ seg, at, xor }) => `${showSegment(seg)}; byte ${at % (HEADER + seg.payload.length)} XORed with ${hexNumber(xor, 2)}` });
  });

  it('refuses a datagram shorter than the 13-byte header with ERR_SEGMENT_TRUNCATED', () => {
    const full = wire({ seq: 1, payload: none });
    for (let n = 0; n < HEADER; n++) {
      let error: unknown;
      try {
        decodeSegment(full.slice(0, n));
      } catch (err) {
        error = err;
      }
      check(error instanceof SegmentError && error.code === 'ERR_SEGMENT_TRUNCATED', () => ({
        did: `decodeSegment of a ${n}-byte datagram ${error ? `threw ${thrown(error)}` : 'returned a segment'}`,
        expected: 'a SegmentError with code ERR_SEGMENT_TRUNCATED: there is no complete header to check, let alone to read',
        lesson: lesson('The wire format'),
      }));
    }
  });

  it('decodes a segment from a view at any offset in a larger buffer, and encodes a payload that is itself a view', () => {
    const high = Uint8Array.from({ length: 128 }, (_, i) => 0x80 + i); // bytes 0x80..0xff
    const cases = [
      { name: 'data with bytes 0x80-0xff', seg: { seq: 0x80818283, payload: high } },
      { name: 'a pure ACK of 0', seg: { seq: 0, ack: 0, payload: none } },
      { name: 'a FIN alone', seg: { seq: 0xffffffff, fin: true, payload: none } },
      { name: 'an ACK with a FIN and data', seg: { seq: 5, ack: 0xfffffffe, fin: true, payload: high.subarray(100) } },
    ];
    for (const { name, seg } of cases) {
      for (const at of [1, 3, 8]) {
        const d = wire(seg);
        const big = new Uint8Array(at + d.length + 7).fill(0xee);
        big.set(d, at);
        let got: ReturnType<typeof decodeSegment> | undefined;
        let error: unknown;
        try {
          got = decodeSegment(big.subarray(at, at + d.length));
        } catch (err) {
          error = err;
        }
        const same = !!got && got.seq === seg.seq && got.ack === seg.ack && !!got.fin === !!seg.fin && got.payload instanceof Uint8Array && firstDifference(seg.payload, got.payload) === '';
        check(same, () => ({
          did: error
            ? `decodeSegment(${name}, handed over as a view at byte offset ${at} of a larger buffer) threw ${thrown(error)}`
            : `decodeSegment(${name}, as a view at byte offset ${at}) gave seq ${hexNumber(got!.seq)}, ack ${got!.ack === undefined ? 'undefined' : hexNumber(got!.ack)}, fin ${got!.fin}, payload ${got!.payload?.length} bytes${got!.payload instanceof Uint8Array ? ` (${firstDifference(seg.payload, got!.payload) || 'equal'})` : ''}`,
          expected: `seq ${hexNumber(seg.seq)}, ack ${seg.ack === undefined ? 'undefined (no ACK flag)' : hexNumber(seg.ack)}, fin ${!!seg.fin}, ${seg.payload.length} payload bytes. A Uint8Array may be a window into a larger ArrayBuffer: read it through its byteOffset and byteLength (new DataView(d.buffer, d.byteOffset, d.byteLength)), never from d.buffer's start`,
          lesson: lesson('The wire format'),
          extra: hexdump(big, '    ', 64),
        }));
      }
      // Encoding a payload that is a view into a larger buffer: only its own bytes go on the wire.
      const padded = new Uint8Array(seg.payload.length + 20).fill(0xee);
      padded.set(seg.payload, 9);
      const view = padded.subarray(9, 9 + seg.payload.length);
      const want = wire(seg);
      const got = encodeSegment({ ...seg, payload: view });
      check(got instanceof Uint8Array && got.length === want.length && firstDifference(want, got) === '', () => ({
        did: `encodeSegment(${name}) with the payload a view at offset 9 of a larger buffer gave ${got?.length} bytes${got instanceof Uint8Array ? `: ${firstDifference(want, got)}` : ''}`,
        expected: `the same ${want.length} bytes as for a payload of its own: copy the view's bytes (out.set(payload, 13)), not its whole buffer`,
        lesson: lesson('The wire format'),
        extra: `Expected:\n${hexdump(want, '    ', 48)}\nYours:\n${got instanceof Uint8Array ? hexdump(got, '    ', 48) : String(got)}`,
      }));
    }
  });

  it('decodes a bare 13-byte header as a segment with an empty payload, and reads each flag on its own', () => {
    const rows: { name: string; seg: { seq: number; ack?: number; fin?: boolean; payload: Uint8Array } }[] = [
      { name: 'no flags, no payload', seg: { seq: 0x01020304, payload: none } },
      { name: 'ACK flag only, ack 0', seg: { seq: 0, ack: 0, payload: none } },
      { name: 'ACK flag only, ack 0xFFFFFFFF', seg: { seq: 0, ack: 0xffffffff, payload: none } },
      { name: 'FIN flag only', seg: { seq: 0x7fffffff, fin: true, payload: none } },
      { name: 'ACK and FIN', seg: { seq: 0x80000000, ack: 77, fin: true, payload: none } },
      { name: 'one byte 0xFF, FIN', seg: { seq: 9, fin: true, payload: Uint8Array.of(0xff) } },
    ];
    const bad: string[] = [];
    for (const { name, seg } of rows) {
      for (const [how, bytes] of [['the suite', wire(seg)], ['your encodeSegment', encodeSegment(seg)]] as const) {
        let got: ReturnType<typeof decodeSegment> | undefined;
        try {
          got = decodeSegment(bytes);
        } catch (err) {
          bad.push(`  ${name}, encoded by ${how} (${bytes.length} bytes): threw ${thrown(err)}`);
          continue;
        }
        const ok = got.seq === seg.seq && got.ack === seg.ack && (got.fin === true) === (seg.fin === true) && got.payload instanceof Uint8Array && firstDifference(seg.payload, got.payload) === '';
        if (!ok) bad.push(`  ${name}, encoded by ${how}: got seq ${hexNumber(got.seq)}, ack ${got.ack}, fin ${got.fin}, ${got.payload?.length} payload bytes`);
      }
    }
    check(bad.length === 0, () => ({
      did: `${bad.length} case(s) came out wrong:\n${bad.join('\n')}`,
      expected: 'a 13-byte datagram is a whole segment with an empty payload; `ack` is present exactly when flag 0x01 is set (0 is a valid ACK number), `fin` is true exactly when flag 0x02 is set',
      lesson: lesson('The wire format'),
    }));
  });

  it('wraps stream offsets into 32-bit sequence numbers and unwraps them nearest a checkpoint', () => {
    const rows: [string, () => number, number][] = [
      ['wrap(0, 0xFFFFFFF0)', () => wrap(0, 0xfffffff0), 0xfffffff0],
      ['wrap(16, 0xFFFFFFF0)', () => wrap(16, 0xfffffff0), 0],
      ['wrap(2^32 + 5, 10)', () => wrap(TWO32 + 5, 10), 15],
      ['wrap(3 * 2^32, 7)', () => wrap(3 * TWO32, 7), 7],
      ['unwrap(0, 0xFFFFFFF0, 0)', () => unwrap(0, 0xfffffff0, 0), 16],
      ['unwrap(0xFFFFFFF0, 0xFFFFFFF0, 10)', () => unwrap(0xfffffff0, 0xfffffff0, 10), 0],
      ['unwrap(5, 0, 2^32)', () => unwrap(5, 0, TWO32), TWO32 + 5],
      ['unwrap(0xFFFFFFFF, 0, 2^32 + 3)', () => unwrap(0xffffffff, 0, TWO32 + 3), TWO32 - 1],
      ['unwrap(0xFFFFFFFF, 0, 0)', () => unwrap(0xffffffff, 0, 0), TWO32 - 1],
      ['unwrap(7, 7, 3 * 2^32 + 100)', () => unwrap(7, 7, 3 * TWO32 + 100), 3 * TWO32],
    ];
    const bad: string[] = [];
    for (const [expr, run, want] of rows) {
      let got: unknown;
      try {
        got = run();
      } catch (err) {
        got = `threw ${thrown(err)}`;
      }
      if (got !== want) bad.push(`  ${expr} = ${typeof got === 'number' ? `${got} (${got >= 0 && got < TWO32 ? hexNumber(got) : 'not a 32-bit number'})` : got}; want ${want}`);
    }
    const expected = 'wrap(offset, isn) = (isn + offset) mod 2^32; unwrap(seq, isn, checkpoint) = the offset >= 0 that wraps to seq and is nearest the checkpoint';
    check(bad.length === 0, () => ({
      did: `${bad.length} of ${rows.length} cases are wrong:\n${bad.slice(0, 12).join('\n')}`,
      expected,
      lesson: lesson('Sequence numbers that wrap'),
    }));
    // Any offset within 2^31 - 1 of the checkpoint comes back from its sequence number.
    const cases = fc.record({ isn: u32, checkpoint: fc.integer({ min: 0, max: 2 ** 40 }), distance: fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 }) });
    forAllSync(cases, ({ isn, checkpoint, distance }) => {
      const offset = Math.max(0, checkpoint + distance);
      const seq = wrap(offset, isn);
      const back = unwrap(seq, isn, checkpoint);
      check(seq === wrapRef(offset, isn) && back === offset, () => ({
        did: `wrap(${offset}, ${hexNumber(isn)}) = ${seq}${seq === wrapRef(offset, isn) ? '' : ` (want ${hexNumber(wrapRef(offset, isn))})`}, and unwrap(that, ${hexNumber(isn)}, ${checkpoint}) = ${back}; want ${offset}`,
        expected,
        lesson: lesson('Sequence numbers that wrap'),
      }));
    }, { numRuns: 30, show: ({ isn, checkpoint, distance }) => `offset ${Math.max(0, checkpoint + distance)}, ISN ${hexNumber(isn)}, checkpoint ${checkpoint}` });
  });
});

describe('the receiver: reassembly and cumulative ACKs', () => {
  it('delivers in-order data at once and acknowledges the next offset it expects, across the wrap to 0', () => {
    receiverScript('in order, across the wrap', 'Cumulative ACKs', { isn: 0xffffff00 }, [
      arrives(0, 100),
      acks(100),
      deliveredTotal(100),
      arrives(100, 256),
      acks(256),
      deliveredTotal(256, 'offset 256 is sequence number 0x00000000: the numbers wrap, the offsets go on'),
      arrives(256, 400),
      acks(400),
      deliveredTotal(400),
      finishedIs(false, 'no FIN has arrived'),
    ]);
  });

  it('acknowledges only what it holds in order: data after a gap is kept, and the ACK stays at the gap', () => {
    receiverScript('a gap, then the segment that fills it', 'Cumulative ACKs', { isn: 1000 }, [
      arrives(0, 100),
      acks(100),
      deliveredTotal(100),
      arrives(200, 300),
      acks(100).why('bytes 100..199 are missing: a cumulative ACK says "I have everything before 100", and nothing about what lies beyond the gap'),
      deliveredTotal(100).why('the bytes after a gap are kept, not delivered: deliver() gets the stream in order'),
      arrives(300, 400),
      acks(100),
      deliveredTotal(100),
      arrives(100, 200),
      acks(400).why('the gap is filled, and the kept segments 200..300 and 300..400 continue the stream'),
      deliveredTotal(400),
    ]);
  });

  it('drops a damaged segment silently: nothing delivered, no ACK', () => {
    receiverScript('damaged segments', 'Checksums: throwing damage away', { isn: 0x00c0ffee }, [
      arrives(0, 100, { damage: 20 }),
      acks().why('the checksum does not match: nothing in the datagram can be trusted, not even its sequence number, so it is dropped without an ACK'),
      deliveredTotal(0, 'damaged bytes must never reach the application'),
      arrives(0, 100, { damage: 5 }),
      acks().why('a damaged sequence number would put good-looking bytes in the wrong place'),
      deliveredTotal(0),
      arrives(0, 100),
      acks(100),
      deliveredTotal(100),
      arrives(100, 200, { damage: 12 }),
      acks(),
      arrives(100, 200, { damage: 1 }),
      acks(),
      arrives(100, 200),
      acks(200),
      deliveredTotal(200),
      receiverStatsAre({ delivered: 200, acksSent: 2, damaged: 4 }, 'four damaged datagrams dropped, two good segments answered'),
    ]);
  });

  it('delivers a duplicate once, and acknowledges it again', () => {
    receiverScript('duplicates', 'Cumulative ACKs', { isn: 77 }, [
      arrives(0, 100),
      acks(100),
      arrives(0, 100),
      acks(100).why('a duplicate often means our ACK was lost: acknowledge it again, or the sender keeps resending'),
      deliveredTotal(100).why('each byte is delivered once'),
      arrives(200, 300),
      acks(100),
      arrives(200, 300),
      acks(100),
      arrives(100, 200),
      acks(300),
      deliveredTotal(300),
      arrives(100, 200),
      acks(300),
      deliveredTotal(300),
    ]);
  });

  it('ends the stream at the FIN, which takes one sequence number, and acknowledges a repeated FIN again', () => {
    receiverScript('a FIN after a gap', 'Ending the stream: FIN', { isn: 0xfffffff0 }, [
      arrives(0, 100),
      acks(100),
      arrives(200, 250, { fin: true }),
      acks(100),
      finishedIs(false, 'bytes 100..199 have not arrived yet'),
      arrives(100, 200),
      acks(251).why('the FIN sits at offset 250, right after the last byte, and takes one sequence number: ACK 251 acknowledges it'),
      deliveredTotal(250),
      finishedIs(true),
      arrives(200, 250, { fin: true }),
      acks(251).why('the sender resends its FIN until it hears ACK 251'),
      deliveredTotal(250),
    ]);
    receiverScript('an empty stream', 'Ending the stream: FIN', { isn: 5 }, [arrives(0, 0, { fin: true }), acks(1), finishedIs(true), deliveredTotal(0)]);
  });

  it('reads a datagram handed over as a view, and keeps nothing that the caller reuses once receive() returns', () => {
    receiverScript('views into reused buffers', 'The exercise', { isn: 0xffffffc0 }, [
      arrives(0, 100, { view: 5 }),
      acks(100),
      deliveredTotal(100, 'the datagram is the view\'s bytes only, read from its byteOffset'),
      arrives(200, 300, { view: 1 }),
      acks(100),
      arrives(300, 350, { view: 9, fin: true }),
      acks(100),
      arrives(100, 200, { view: 2 }),
      acks(351).why('the gap is filled: the kept segments and the FIN continue the stream'),
      deliveredTotal(350, 'the kept bytes 200..350 must be the ones that arrived, not what the caller wrote into its buffer after receive() returned: keep a copy'),
      finishedIs(true),
    ]);
  });

  it('delivers only the new part of a segment that overlaps what it has, and answers nothing to a segment without data or FIN', () => {
    receiverScript('overlaps and stray segments', 'Cumulative ACKs', { isn: 4242 }, [
      arrives(0, 100),
      acks(100),
      arrives(50, 150),
      acks(150).why('50..99 were delivered already; only 100..149 are new'),
      deliveredTotal(150, 'each byte once: the overlapping 50 bytes are not delivered again'),
      arrives(250, 300),
      acks(150),
      arrives(200, 280),
      acks(150),
      arrives(150, 260),
      acks(300).why('150..260 fills the gap, and the kept 200..280 and 250..300 continue it; each byte is delivered once'),
      deliveredTotal(300),
      strayArrives({ ack: 7 }),
      acks().why('a segment with neither data nor a FIN takes no sequence number: answering it could make two ends ACK each other forever'),
      strayArrives({}),
      acks(),
      deliveredTotal(300),
      finishedIs(false),
    ]);
  });

  it('keeps out-of-order data only inside its window', () => {
    receiverScript('a segment beyond the window', "The receiver's window", { isn: 7, windowBytes: 300 }, [
      arrives(0, 100),
      acks(100),
      arrives(400, 500),
      acks(100).why('offsets 400..499 lie beyond the window 100..399: the receiver does not keep them (its memory is bounded), but still answers'),
      arrives(200, 300),
      acks(100),
      arrives(100, 200),
      acks(300),
      deliveredTotal(300),
      arrives(300, 400),
      acks(400).why('400..500 was dropped when it arrived outside the window, so it is still missing'),
      arrives(400, 500),
      acks(500),
      deliveredTotal(500),
      receiverStatsAre({ delivered: 500, acksSent: 6, damaged: 0 }, 'every segment with data was answered, including the one beyond the window'),
      arrives(750, 850),
      acks(500).why('the window is now 500..799: 750..799 lies inside it and is kept, 800..849 lies beyond it and is not'),
      arrives(500, 750),
      acks(800).why('500..750 continues the stream, then the kept 750..800; 800..850 was never kept'),
      arrives(850, 900),
      acks(800),
      arrives(800, 850),
      acks(900),
      deliveredTotal(900),
    ]);
    receiverScript('two segments that start at the same offset', 'Cumulative ACKs', { isn: 0xfffffff8 }, [
      arrives(0, 100),
      acks(100),
      arrives(200, 300),
      acks(100),
      arrives(200, 250),
      acks(100),
      arrives(400, 450),
      acks(100),
      arrives(400, 500),
      acks(100),
      arrives(100, 200),
      acks(300).why('200..300 was kept; the shorter 200..250 that came later adds nothing and must not replace it'),
      arrives(300, 400),
      acks(500).why('400..450 came first, then 400..500: the longer one holds more, keep all of it'),
      deliveredTotal(500),
    ]);
    receiverScript('a segment wholly beyond the window', "The receiver's window", { isn: 0x10000, windowBytes: 300 }, [
      arrives(0, 100),
      acks(100),
      arrives(450, 550),
      acks(100).why('450..549 lies wholly beyond the window 100..399: none of it is kept'),
      arrives(100, 400),
      acks(400),
      arrives(400, 450),
      acks(450).why('450..550 was not kept when it arrived beyond the window: the stream stops at 450 until it comes again'),
      deliveredTotal(450),
    ]);
    receiverScript('a FIN beyond the window', "The receiver's window", { isn: 0xffffff00, windowBytes: 300 }, [
      arrives(0, 100),
      acks(100),
      arrives(300, 400, { fin: true }),
      acks(100).why('the window is 100..399: the data 300..399 is beyond the gap but inside it, the FIN at 400 is not'),
      arrives(100, 300),
      acks(400).why('the gap is filled, 300..400 was kept; the FIN at 400 was beyond the window when it arrived, so it is dropped like data beyond the window, and the sender will resend it'),
      finishedIs(false),
      arrives(400, 400, { fin: true }),
      acks(401),
      finishedIs(true),
      deliveredTotal(400),
    ]);
    receiverScript('a FIN on the last place of the window', "The receiver's window", { isn: 12, windowBytes: 300 }, [
      arrives(0, 100),
      acks(100),
      arrives(200, 399, { fin: true }),
      acks(100).why('the FIN at 399 is the last place of the window 100..399: it is kept, like a byte there would be'),
      arrives(100, 200),
      acks(400),
      finishedIs(true),
      deliveredTotal(399),
    ]);
  });
});

describe('the sender: a sliding window', () => {
  it('never has more than the window outstanding, counted in bytes, on every step', () => {
    senderScript('a window of 300 bytes, segments of 100', 'Sliding windows', { isn: 5000, mss: 100, windowBytes: 300 }, [
      write(1000),
      sends('0..100', '100..200', '200..300').why('the window is 300 bytes: three segments of 100 fill it, and the other 700 bytes wait'),
      inFlight(300),
      ackTo(100),
      sends('300..400').why('ACK 100 frees 100 bytes of the window, room for one more segment'),
      ackTo(300),
      sends('400..500', '500..600'),
      inFlight(300),
    ]);
    senderScript('the FIN takes a place in the window', 'Sliding windows', { isn: 1, mss: 100, windowBytes: 300 }, [
      write(300),
      sends('0..100', '100..200', '200..300'),
      endStream(),
      sends().why('the FIN takes one sequence number, and 300 are already outstanding: it waits for room'),
      ackTo(100),
      sends('FIN@300'),
      inFlight(201),
    ]);
    // And on every datagram of the lossy runs: outstanding = highest sent - highest ACK given, never above the window.
    forEachLossyRun(
      (r) => r.windowViolation,
      'at every moment, (offset after the last sequence number sent) - (highest ACK received) <= windowBytes: the window counts bytes (and the FIN), not segments',
      'Sliding windows',
    );
  });

  it('keeps the pipe full: without loss, N bytes take about N/W round trips', () => {
    const [length, mss, windowBytes, rtt] = [64_000, 1_000, 8_000, 20];
    const bound = (Math.ceil(length / windowBytes) + 2) * rtt;
    const setups = fc.record({ isn: fc.integer({ min: 0, max: TWO32 - 1 }), seed: fc.nat() }).map(({ isn, seed }): SimSetup => ({
      seed, data: randomStream(seed, length), isn, mss, windowBytes, rto: {}, impair: { delayMs: rtt / 2 }, writes: [{ at: 0, from: 0, to: length }], limitMs: 60_000,
    }));
    forAllSync(setups, (setup) => {
      const run = runSim(setup);
      checkRun(run, (r) => wrongBytes(r) || r.windowViolation || r.earlyRetransmission, 'every byte delivered, in order, with no loss on the channel', 'Sliding windows');
      check(run.finishedAt !== undefined && run.finishedAt <= bound, () => ({
        did: `the transfer of ${length} bytes took ${run.finishedAt} simulated ms; at most ${run.maxInFlight} bytes were ever outstanding`,
        expected: `at most ${bound} ms: with a round trip of ${rtt} ms and a window of ${windowBytes} bytes, a full window goes out every round trip, so ${length} bytes need about ${Math.ceil(length / windowBytes)} round trips (stop-and-wait would need ${length / mss}: ${(length / mss) * rtt} ms)`,
        lesson: lesson('Stop-and-wait'),
        extra: run.describeEnds(),
      }));
    }, { numRuns: 5, show: describeSetup });
  });

  it('slides the window on a cumulative ACK, and ignores old, duplicate, impossible and damaged ACKs', () => {
    senderScript('ACKs good and bad', 'Cumulative ACKs', { isn: 0xffffff80, mss: 100, windowBytes: 300 }, [
      write(600),
      sends('0..100', '100..200', '200..300'),
      ackTo(200),
      sends('300..400', '400..500').why('ACK 200 acknowledges both 0..100 and 100..200 at once: cumulative ACKs'),
      inFlight(300),
      ackTo(100),
      sends().why('ACK 100 is older than the ACK 200 already received: it tells nothing new'),
      inFlight(300),
      ackTo(200),
      sends().why('a duplicate ACK tells nothing new either (and our protocol resends only on a timeout)'),
      ackTo(900),
      sends().why('offset 900 was never sent: such an ACK is impossible and must not move the window'),
      inFlight(300),
      ackTo(500, { damaged: true }),
      sends().why('a damaged ACK fails its checksum and is dropped: its number could be anything'),
      inFlight(300),
      ackTo(500),
      sends('500..600'),
      inFlight(100),
      ackTo(600),
      sends(),
      inFlight(0),
    ]);
  });

  it('reads ACKs by unwrapping them near SND.UNA, when its sequence numbers wrap past 2^32 - 1 to 0', () => {
    senderScript('ISN 150 below 2^32: offset 150 is sequence number 0', 'Sequence numbers that wrap', { isn: TWO32 - 150, mss: 100, windowBytes: 300 }, [
      write(600),
      sends('0..100', '100..200', '200..300').why('100..200 starts at 0xFFFFFFCE and wraps to 0x00000032 in mid-segment; 200..300 starts at 0x00000032'),
      inFlight(300),
      ackTo(200),
      sends('300..400', '400..500').why('ACK 200 is sequence number 0x00000032, numerically far below the ISN: unwrapped near SND.UNA it is offset 200, and it acknowledges 0..200'),
      inFlight(300),
      ackTo(100),
      sends().why('ACK 100 (0xFFFFFFCE) is old, although it is numerically larger than the last ACK 0x00000032'),
      inFlight(300),
      at(999),
      sends(),
      at(1000),
      sends('200..300 again').why('the timer restarted when ACK 200 arrived at 0 ms, with RTO 1000'),
      at(1100),
      ackTo(500),
      sends('500..600'),
      endStream(),
      sends('FIN@600'),
      ackTo(601),
      doneIs(true),
      inFlight(0),
      timersWaiting(0),
    ]);
  });

  it('keeps its own copy of what write() is given: a view at an offset, and a buffer the caller reuses at once', () => {
    senderScript('write() from a view into a reused buffer', 'Sliding windows', { isn: 0x40000000, mss: 100, windowBytes: 200 }, [
      writeFromView(250, { at: 3 }),
      sends('0..100', '100..200').why('only the view\'s own 250 bytes are the stream, read from its offset in the larger buffer'),
      writeFromView(50, { at: 17 }),
      sends(),
      ackTo(100),
      sends('200..300').why('bytes 200..299 were written in two calls whose buffers were both overwritten since: the sender must have copied them when write() was called'),
      at(1000),
      sends('100..200 again').why('a retransmission carries the bytes as they were written, not what the caller put in its buffer afterwards'),
      ackTo(300),
      sends(),
      inFlight(0),
    ]);
  });

  it('close() stops the retransmission timer: nothing waits on the clock, and nothing more is sent', () => {
    senderScript('close() with data outstanding', 'Timer discipline', { isn: 11, mss: 100, windowBytes: 300 }, [
      write(500),
      sends('0..100', '100..200', '200..300'),
      timersWaiting(1),
      closeSender(),
      timersWaiting(0, 'close() clears the retransmission timer on the clock it was given; a timer left behind keeps a process alive and fires into a closed socket'),
      at(60_000),
      sends().why('a closed sender never resends'),
      ackTo(100),
      sends().why('a closed sender sends nothing more, even when an ACK opens the window'),
      timersWaiting(0, 'nor does an ACK that arrives after close() set the timer again'),
      write(100),
      sends().why('nor does a write() after close()'),
      timersWaiting(0),
      at(120_000),
      sends(),
    ]);
  });

  it('sends a FIN after the last byte, and is done only when the FIN is acknowledged', () => {
    const world = senderScript('a FIN after 250 bytes', 'Ending the stream: FIN', { isn: 77, mss: 100, windowBytes: 1000 }, [
      write(250),
      sends('0..100', '100..200', '200..250'),
      endStream(),
      sends('FIN@250').why('the FIN takes the sequence number after the last byte'),
      doneIs(false),
      ackTo(250),
      doneIs(false).why('ACK 250 acknowledges the bytes but not the FIN'),
      ackTo(251),
      doneIs(true),
      inFlight(0),
      timersWaiting(0, 'everything is acknowledged: the retransmission timer is stopped (RFC 6298 §5.2)'),
    ]);
    let error: unknown;
    try {
      world.sender.write(new Uint8Array(1));
    } catch (err) {
      error = err;
    }
    check(error instanceof StreamEndedError && error.code === 'ERR_STREAM_ENDED', () => ({
      did: error ? `write() after end() threw ${thrown(error)}` : 'write() after end() was accepted',
      expected: 'a StreamEndedError with code ERR_STREAM_ENDED: the FIN has already taken the sequence number after the last byte',
      lesson: lesson('Ending the stream: FIN'),
    }));
    senderScript('an empty stream', 'Ending the stream: FIN', { isn: 0xffffffff, mss: 100, windowBytes: 1000 }, [endStream(), sends('FIN@0'), ackTo(1), doneIs(true)]);
    senderScript('room for exactly the FIN, and end() twice', 'Ending the stream: FIN', { isn: 300, mss: 100, windowBytes: 301 }, [
      write(300),
      sends('0..100', '100..200', '200..300'),
      endStream(),
      sends('FIN@300').why('300 of the 301 places in the window are taken: the one left is exactly what the FIN needs'),
      inFlight(301),
      endStream(),
      sends().why('end() again changes nothing: there is one FIN, at offset 300'),
      ackTo(300),
      doneIs(false),
      endStream(),
      ackTo(301),
      doneIs(true).why('ACK 301 acknowledges the FIN at offset 300'),
      inFlight(0),
      timersWaiting(0),
    ]);
    senderScript('end() while data still waits for the window', 'Ending the stream: FIN', { isn: 9, mss: 100, windowBytes: 300 }, [
      write(400),
      sends('0..100', '100..200', '200..300'),
      endStream(),
      sends().why('the window is full'),
      ackTo(200),
      sendsOneOf(['300..400+FIN'], ['300..400', 'FIN@400']).why('the window has room for the last 100 bytes and the FIN: the FIN may ride on the last segment or go alone right after it'),
      inFlight(201),
      ackTo(401),
      doneIs(true),
      timersWaiting(0),
    ]);
  });
});

describe('the retransmission timer (RFC 6298)', () => {
  it('RTT estimation follows RFC 6298: SRTT = R and RTTVAR = R/2 at first, then alpha = 1/8 and beta = 1/4', () => {
    const e = new RtoEstimator({ minRto: 1 });
    estimatorTable(
      [
        { step: 'new RtoEstimator({ minRto: 1 })', run: () => {}, want: { rto: 1000 } },
        { step: 'sample(100)', run: () => e.sample(100), want: { srtt: 100, rttvar: 50, rto: 300 } },
        { step: 'sample(200)', run: () => e.sample(200), want: { srtt: 112.5, rttvar: 62.5, rto: 362.5 } },
        { step: 'sample(50)', run: () => e.sample(50), want: { srtt: 104.6875, rttvar: 62.5, rto: 354.6875 } },
      ],
      () => e,
      'Measuring the round trip: SRTT and RTTVAR',
      'first sample R: SRTT = R, RTTVAR = R/2. Then RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R| using the OLD SRTT, and only then SRTT = 7/8 SRTT + 1/8 R. RTO = SRTT + max(G, 4 RTTVAR). E.g. after 100 then 200: RTTVAR = 37.5 + 25 = 62.5, SRTT = 87.5 + 25 = 112.5',
    );
    senderScript('your sender measures R = time from sending to the ACK', 'Measuring the round trip: SRTT and RTTVAR', { isn: 0, mss: 100, windowBytes: 1000, rto: { minRto: 1 } }, [
      write(100),
      sends('0..100'),
      at(100),
      ackTo(100),
      estimatorIs({ srtt: 100, rttvar: 50, rto: 300 }).why('the ACK came 100 ms after 0..100 was sent: the first measurement, R = 100'),
      write(100),
      sends('100..200'),
      at(300),
      ackTo(200),
      estimatorIs({ srtt: 112.5, rttvar: 62.5, rto: 362.5 }).why('100..200 was sent at 100 ms and acknowledged at 300 ms: R = 200'),
      write(100),
      sends('200..300'),
      at(350),
      write(100),
      sends('300..400'),
      at(400),
      ackTo(400),
      estimatorIs({ srtt: 110.9375, rttvar: 50, rto: 310.9375 }).why(
        'one ACK acknowledges 200..300 (sent at 300 ms) and 300..400 (sent at 350 ms): take ONE sample, timed from the oldest of them, R = 400 - 300 = 100. RTTVAR = 3/4 x 62.5 + 1/4 x |112.5 - 100| = 50, SRTT = 7/8 x 112.5 + 1/8 x 100 = 110.9375',
      ),
    ]);
  });

  it('computes RTO = SRTT + max(G, 4 * RTTVAR), kept between its minimum and maximum', () => {
    const defaults = new RtoEstimator();
    estimatorTable(
      [
        { step: 'new RtoEstimator()', run: () => {}, want: { rto: 1000 } },
        { step: 'sample(100)', run: () => defaults.sample(100), want: { srtt: 100, rttvar: 50, rto: 1000 } },
      ],
      () => defaults,
      'Measuring the round trip: SRTT and RTTVAR',
      'RTO starts at 1 s (RFC 6298 §2.1), and a computed RTO below the minimum (1 s by default, §2.4) is rounded up: 100 + 4 x 50 = 300 becomes 1000',
    );
    const fine = new RtoEstimator({ minRto: 0, granularity: 10 });
    const rows = [];
    let rttvar = 50;
    for (let k = 1; k <= 8; k++) {
      const want = { srtt: 100, rttvar, rto: 100 + Math.max(10, 4 * rttvar) };
      rows.push({ step: `sample(100) #${k}`, run: () => fine.sample(100), want });
      rttvar *= 3 / 4;
    }
    estimatorTable(rows, () => fine, 'Measuring the round trip: SRTT and RTTVAR', 'with G = 10 ms: steady samples of 100 shrink RTTVAR by 3/4 each time, and RTO = SRTT + max(G, 4 RTTVAR) never drops below SRTT + G = 110');
    const big = new RtoEstimator({ maxRto: 60_000 });
    estimatorTable(
      [{ step: 'sample(30000)', run: () => big.sample(30_000), want: { srtt: 30_000, rttvar: 15_000, rto: 60_000 } }],
      () => big,
      'Measuring the round trip: SRTT and RTTVAR',
      '30000 + 4 x 15000 = 90000 is more than the maximum RTO: it is cut to maxRto, 60000 (RFC 6298 §2.5)',
    );
  });

  it('backOff() doubles RTO up to its maximum, and reset() ends the backoff without touching SRTT or RTTVAR', () => {
    const fresh = new RtoEstimator({ initialRto: 1500, maxRto: 5000 });
    estimatorTable(
      [
        { step: 'new RtoEstimator({ initialRto: 1500, maxRto: 5000 })', run: () => {}, want: { rto: 1500 } },
        { step: 'backOff()', run: () => fresh.backOff(), want: { rto: 3000 } },
        { step: 'backOff()', run: () => fresh.backOff(), want: { rto: 5000 } },
        { step: 'backOff()', run: () => fresh.backOff(), want: { rto: 5000 } },
        { step: 'reset()', run: () => fresh.reset(), want: { rto: 1500 } },
      ],
      () => fresh,
      'Backing off',
      'before any sample RTO is initialRto; each backOff() doubles it, never past maxRto (6000 becomes 5000); reset() with no sample yet goes back to initialRto',
    );
    const e = new RtoEstimator({ minRto: 200, maxRto: 2000 });
    estimatorTable(
      [
        { step: 'new RtoEstimator({ minRto: 200, maxRto: 2000 })', run: () => {}, want: { rto: 1000 } },
        { step: 'sample(40)', run: () => e.sample(40), want: { srtt: 40, rttvar: 20, rto: 200 } },
        { step: 'backOff()', run: () => e.backOff(), want: { srtt: 40, rttvar: 20, rto: 400 } },
        { step: 'backOff()', run: () => e.backOff(), want: { srtt: 40, rttvar: 20, rto: 800 } },
        { step: 'reset()', run: () => e.reset(), want: { srtt: 40, rttvar: 20, rto: 200 } },
        { step: 'sample(100)', run: () => e.sample(100), want: { srtt: 47.5, rttvar: 30, rto: 200 } },
        { step: 'sample(400)', run: () => e.sample(400), want: { srtt: 91.5625, rttvar: 110.625, rto: 534.0625 } },
        { step: 'backOff()', run: () => e.backOff(), want: { srtt: 91.5625, rttvar: 110.625, rto: 1068.125 } },
        { step: 'backOff()', run: () => e.backOff(), want: { srtt: 91.5625, rttvar: 110.625, rto: 2000 } },
        { step: 'backOff()', run: () => e.backOff(), want: { srtt: 91.5625, rttvar: 110.625, rto: 2000 } },
        { step: 'reset()', run: () => e.reset(), want: { srtt: 91.5625, rttvar: 110.625, rto: 534.0625 } },
        { step: 'reset() again', run: () => e.reset(), want: { srtt: 91.5625, rttvar: 110.625, rto: 534.0625 } },
      ],
      () => e,
      'Backing off',
      'sample(40): 40 + 4 x 20 = 120, raised to minRto 200. backOff() doubles RTO (§5.5) up to maxRto and leaves SRTT and RTTVAR alone; reset() recomputes RTO from SRTT and RTTVAR, within [minRto, maxRto]. sample(100): RTTVAR = 15 + 15 = 30, SRTT = 35 + 12.5 = 47.5, RTO = 167.5, raised to 200. sample(400): RTTVAR = 22.5 + 88.125 = 110.625, SRTT = 41.5625 + 50 = 91.5625, RTO = 91.5625 + 442.5',
    );
  });

  it('RTO doubles on every timeout, up to its maximum, and resets on a new ACK', () => {
    senderScript('a segment lost again and again', 'Backing off', { isn: 42, mss: 100, windowBytes: 1000, rto: { minRto: 200, maxRto: 8000 } }, [
      write(100),
      sends('0..100'),
      at(100),
      ackTo(100),
      estimatorIs({ srtt: 100, rttvar: 50, rto: 300 }).why('R = 100: RTO = 100 + 4 x 50'),
      write(100),
      sends('100..200'),
      at(399),
      sends().why('the timer started at 100 ms with RTO 300: it expires at 400 ms, not before'),
      at(400),
      sends('100..200 again').why('the timer expired: resend the oldest unacknowledged segment'),
      estimatorIs({ rto: 600 }).why('each timeout doubles RTO (RFC 6298 §5.5)'),
      at(999),
      sends().why('the timer restarted at 400 ms with the doubled RTO 600'),
      at(1000),
      sends('100..200 again'),
      estimatorIs({ rto: 1200 }),
      at(2199),
      sends(),
      at(2200),
      sends('100..200 again'),
      estimatorIs({ rto: 2400 }),
      at(4600),
      sends('100..200 again'),
      estimatorIs({ rto: 4800 }),
      at(9400),
      sends('100..200 again'),
      estimatorIs({ rto: 8000 }).why('9600 is above maxRto: the backoff is capped at 8000'),
      at(17399),
      sends(),
      at(17400),
      sends('100..200 again'),
      estimatorIs({ rto: 8000 }),
      at(17500),
      ackTo(200),
      estimatorIs({ srtt: 100, rttvar: 50, rto: 300 }).why('new data was acknowledged: the backoff is over, and RTO is back to SRTT + 4 RTTVAR (with no new sample: 100..200 was sent more than once)'),
      write(100),
      sends('200..300'),
      at(17799),
      sends(),
      at(17800),
      sends('200..300 again').why('RTO is 300 again, so the new segment times out 300 ms after it was sent'),
      estimatorIs({ rto: 600 }),
    ]);
  });

  it("follows Karn's rule: no RTT sample from a segment that was sent more than once", () => {
    senderScript("an ACK for a resent segment", "Karn's rule", { isn: 9, mss: 100, windowBytes: 1000, rto: { minRto: 1 } }, [
      write(100),
      sends('0..100'),
      at(1000),
      sends('0..100 again'),
      estimatorIs({ rto: 2000 }),
      at(1050),
      ackTo(100),
      estimatorIs({ srtt: undefined, rttvar: undefined, rto: 1000 }).why(
        'this ACK may answer the first copy (sent at 0 ms: R = 1050) or the second (sent at 1000 ms: R = 50); nobody can tell, so there is no sample at all, and RTO goes back to its initial 1000',
      ),
      write(100),
      sends('100..200'),
      at(1150),
      ackTo(200),
      estimatorIs({ srtt: 100, rttvar: 50, rto: 300 }).why('100..200 was sent once: R = 100 is a clean measurement'),
      write(100),
      sends('200..300'),
      at(1450),
      sends('200..300 again'),
      at(1460),
      ackTo(300),
      estimatorIs({ srtt: 100, rttvar: 50, rto: 300 }).why('200..300 was sent twice: no sample, SRTT and RTTVAR stay as they were (and the backoff ends)'),
    ]);
    senderScript('one ACK for a resent segment and a segment sent once', "Karn's rule", { isn: 0xfffffff0, mss: 100, windowBytes: 1000, rto: { minRto: 1 } }, [
      write(200),
      sends('0..100', '100..200'),
      at(1000),
      sends('0..100 again'),
      at(1050),
      ackTo(200),
      estimatorIs({ srtt: undefined, rttvar: undefined, rto: 1000 }).why(
        'ACK 200 acknowledges 0..100, which was sent twice, together with 100..200, sent once: the sample would be timed from 0..100, the oldest, and nobody knows which of its copies arrived. Take a sample only when EVERY segment the ACK acknowledges was sent once',
      ),
      inFlight(0),
    ]);
  });

  it('no retransmission without a timeout: duplicate ACKs and new data never make it resend early', () => {
    senderScript('duplicate ACKs', 'Timer discipline', { isn: 3, mss: 100, windowBytes: 500 }, [
      write(500),
      sends('0..100', '100..200', '200..300', '300..400', '400..500'),
      at(10),
      ackTo(0),
      sends().why('a duplicate ACK acknowledges nothing new; in our protocol only the timer triggers a resend'),
      at(20),
      ackTo(0),
      at(30),
      ackTo(0),
      sends().why('even three duplicate ACKs (TCP would "fast retransmit" here; this protocol does not)'),
      at(40),
      ackTo(100),
      sends().why('ACK 100 is new, but there is nothing new to send and the timer has not expired'),
      at(1039),
      sends().why('the timer restarted at 40 ms with RTO 1000 (the 1 s minimum)'),
      at(1040),
      sends('100..200 again').why('on a timeout, only the oldest unacknowledged segment is resent'),
      write(100),
      sends('500..600').why('new data is sent when the window has room; that is not a retransmission'),
      at(1100),
      ackTo(100),
      sends(),
    ]);
    forEachLossyRun(
      (r) => r.earlyRetransmission,
      'every resent segment is sent from the retransmission timer, when it expires; receiving an ACK or a write() never resends anything',
      'Timer discipline',
    );
  });

  it('a duplicate ACK, a damaged one or a segment without an ACK neither restarts the timer nor ends the backoff', () => {
    senderScript('duplicate ACKs during a backoff', 'Timer discipline', { isn: 0x7ffffff0, mss: 100, windowBytes: 1000, rto: { minRto: 200 } }, [
      write(200),
      sends('0..100', '100..200'),
      at(100),
      ackTo(100),
      estimatorIs({ srtt: 100, rttvar: 50, rto: 300 }),
      at(300),
      ackTo(100),
      sends(),
      at(399),
      sends().why('ACK 100 at 100 ms restarted the timer with RTO 300; the duplicate ACK 100 at 300 ms acknowledges nothing new and must not restart it again (RFC 6298 §5.3 is about ACKs of NEW data)'),
      at(400),
      sends('100..200 again'),
      estimatorIs({ rto: 600 }),
      at(500),
      ackTo(100),
      estimatorIs({ srtt: 100, rttvar: 50, rto: 600 }).why('a duplicate ACK tells nothing about the path: only an ACK of new data ends the backoff'),
      ackTo(200, { damaged: true }),
      noAckArrives(200),
      sends(),
      inFlight(100, 'a damaged ACK and a segment without the ACK flag acknowledge nothing'),
      estimatorIs({ rto: 600 }),
      at(999),
      sends().why('the timer restarted at 400 ms with RTO 600: nothing before 1000 ms moved it'),
      at(1000),
      sends('100..200 again'),
      estimatorIs({ rto: 1200 }),
      senderStatsAre({ segmentsSent: 4, retransmissions: 2, timeouts: 2, damaged: 1 }, 'two new segments and two resends, each after a timeout; one damaged ACK dropped'),
      at(1010),
      ackTo(200),
      estimatorIs({ srtt: 100, rttvar: 50, rto: 300 }).why('ACK 200 acknowledges new data: the backoff ends (no sample: 100..200 was sent three times)'),
      inFlight(0),
      timersWaiting(0),
      senderStatsAre({ segmentsSent: 4, retransmissions: 2, timeouts: 2, damaged: 1 }),
    ]);
  });

  it('starts the timer when data goes out, restarts it on a new ACK, and stops it when all is acknowledged', () => {
    senderScript('the life of the timer', 'Timer discipline', { isn: 1, mss: 100, windowBytes: 1000 }, [
      write(100),
      sends('0..100'),
      timersWaiting(1, 'data went out and no timer was running: start it (RFC 6298 §5.1)'),
      at(400),
      write(100),
      sends('100..200'),
      timersWaiting(1, 'one timer per sender, not one per segment'),
      at(999),
      sends(),
      at(1000),
      sends('0..100 again').why('the timer started at 0 ms; sending 100..200 at 400 ms must not restart it (§5.1: start it only if it is not running)'),
      at(1100),
      ackTo(100),
      estimatorIs({ rto: 1000 }).why('new data acknowledged: the backoff is over (no sample: 0..100 was sent twice)'),
      at(1399),
      sends().why('ACK 100 at 1100 ms restarted the timer (§5.3): 100..200 times out at 2100 ms, not 1000 ms after it was sent'),
      at(2099),
      sends(),
      at(2100),
      sends('100..200 again'),
      at(2150),
      ackTo(200),
      inFlight(0),
      timersWaiting(0, 'all data is acknowledged: stop the timer (§5.2)'),
      at(100_000),
      sends(),
    ]);
  });
});

describe('delivery over a lossy channel (simulated, many seeds)', () => {
  it(`every byte arrives once, in order, under 20% loss, reordering, duplication and corruption, for ${SEEDS} seeds`, () => {
    forEachLossyRun(
      (r) => r.badDatagram ?? (wrongBytes(r) || undefined),
      'every byte of the stream delivered exactly once, in order, and the sender done (its FIN acknowledged)',
      'A channel that misbehaves on purpose',
      (r) => {
        const m = /offset (\d+)/.exec(wrongBytes(r));
        const offset = m ? Number(m[1]) : r.delivered.length;
        const call = r.deliveries.find((d) => d.offset <= offset && offset < d.offset + d.length);
        return storyAround(r, offset, call?.at ?? r.deliveries.at(-1)?.at ?? 0);
      },
    );
  });

  it('finishes within a bounded number of simulated ticks under 20% loss', () => {
    const BOUND_MS = 30 * 60_000;
    forEachLossyRun(
      (r) => (r.finishedAt !== undefined && r.finishedAt > BOUND_MS ? `the transfer took ${(r.finishedAt / 1000).toFixed(1)} simulated seconds` : undefined),
      `done within ${BOUND_MS / 60_000} simulated minutes (a tick is 1 ms). A correct sender needs seconds here, rarely a few minutes; far longer means the backoff is never reset, or segments wait for something other than the window and the timer`,
      'Backing off',
    );
  });

  it('carries a stream across the point where its sequence numbers wrap to 0', () => {
    const setups = fc.nat().map((seed): SimSetup => ({
      seed, data: randomStream(seed, 20_000), isn: TWO32 - 3_000, mss: 500, windowBytes: 4_000, rto: SIM_RTO,
      impair: { loss: 0.1, reorder: 0.1, delayMs: [10, 30] }, writes: [{ at: 0, from: 0, to: 20_000 }], limitMs: 3_600_000,
    }));
    forAllSync(setups, (setup) => {
      const run = runSim(setup);
      checkRun(run, (r) => r.badDatagram ?? (wrongBytes(r) || undefined), 'every byte delivered once, in order: offset 3000 is sequence number 0, and the stream goes on', 'Sequence numbers that wrap', (r) => storyAround(r, 3_000, r.deliveries.at(-1)?.at ?? 0));
    }, { numRuns: 5, show: describeSetup });
  });
});

describe('over real UDP on loopback', () => {
  for (const host of ['127.0.0.1', '::1'] as const) {
    it(`sends over ${host === '::1' ? 'IPv6 (::1)' : 'IPv4 (127.0.0.1)'}, and once send() resolves its socket is closed and no timer is left running`, async () => {
      // The real clock, counted: every timer your sender sets must be cleared or have fired by the end.
      const live = new Set<unknown>();
      const counted: Clock = {
        now: () => performance.now(),
        setTimeout: (callback, ms) => {
          const handle = setTimeout(() => {
            live.delete(handle);
            callback();
          }, ms);
          live.add(handle);
          return handle;
        },
        clearTimeout: (handle) => {
          live.delete(handle);
          clearTimeout(handle as NodeJS.Timeout);
        },
      };
      onCleanup('timers your sender left running', () => live.forEach((h) => clearTimeout(h as NodeJS.Timeout)));
      const file = Uint8Array.from({ length: 40_000 }, (_, i) => 0x80 | ((i * 37) & 0x7f)); // every byte in 0x80..0xff
      const receiver = new UdpStreamReceiver({ isn: 0xfffff000, host, windowBytes: 8_000 });
      onCleanup('your UDP receiver', async () => {
        try {
          await receiver.close();
        } finally {
          closeQuietly(receiver.socket);
        }
      });
      const port = await within(receiver.listen(0), 2_000, `UdpStreamReceiver.listen(0) on ${host}`, `Bind the host you were given (udp6 for an IPv6 address), then resolve with the bound port.`);
      // Over ::1 the sender runs on its default clock, systemClock; over 127.0.0.1 on the counted one.
      const clock = host === '::1' ? undefined : counted;
      const sender = new UdpStreamSender({ port, host, isn: 0xfffff000, mss: 1_000, windowBytes: 8_000, clock, rto: { initialRto: 200, minRto: 50, maxRto: 400 } });
      onCleanup('your UDP sender', () => {
        try {
          sender.close();
        } finally {
          closeQuietly(sender.socket);
        }
      });
      // Over ::1, received() is called only after send() resolves: it must resolve at once with the stream that is already complete.
      const late = host === '::1';
      const [stats, got] = late
        ? [
            await within(sender.send(file), 5_000, `a 40 KB transfer over ${host} with no loss`, 'send() resolves once the FIN is acknowledged'),
            await within(receiver.received(), 1_000, 'received(), called after the stream was already complete', 'keep the stream once it is complete, and resolve at once when received() is called later'),
          ]
        : await within(Promise.all([sender.send(file), receiver.received()]), 5_000, `a 40 KB transfer over ${host} with no loss`, 'send() resolves once the FIN is acknowledged, received() once the stream is complete up to its FIN');
      check(firstDifference(file, got) === '', () => ({
        did: `the bytes that arrived differ: ${firstDifference(file, got)}`,
        expected: `the ${file.length} bytes sent (each one 0x80-0xff), once and in order`,
        lesson: lesson('The exercise'),
      }));
      check(stats && stats.segmentsSent >= Math.ceil(file.length / 1_000), () => ({
        did: `send() resolved with ${JSON.stringify(stats)}`,
        expected: `your sender's stats: at least ${Math.ceil(file.length / 1_000)} segments sent for ${file.length} bytes with an mss of 1000`,
        lesson: lesson('The exercise'),
      }));
      const srtt = sender.sender?.estimator?.srtt;
      check(typeof srtt === 'number' && Number.isFinite(srtt) && srtt >= 0, () => ({
        did: `after the transfer your sender's estimator holds SRTT ${srtt}`,
        expected: `a measured round trip in milliseconds (on loopback, well under a second): the sender's clock${clock ? '' : ' (by default systemClock, whose now() is performance.now())'} gives the times of sending and of the ACK`,
        lesson: lesson('Measuring the round trip: SRTT and RTTVAR'),
      }));
      check(live.size === 0, () => ({
        did: `send() resolved, and ${live.size} timer(s) of your sender were still set on the clock it was given`,
        expected: 'no timer left: once the FIN is acknowledged nothing is outstanding, so the retransmission timer is stopped (RFC 6298 §5.2), and the adapter closes its sender',
        lesson: lesson('Timer discipline'),
      }));
      const socketOpen = (socket: { address(): unknown } | undefined) => {
        try {
          socket?.address();
          return !!socket;
        } catch {
          return false; // ERR_SOCKET_DGRAM_NOT_RUNNING: closed
        }
      };
      check(sender.socket !== undefined && !socketOpen(sender.socket), () => ({
        did: sender.socket ? 'send() resolved with its UDP socket still open' : 'send() resolved, and this.socket was never set',
        expected: 'send() keeps its socket in this.socket and closes it before it resolves: nothing is left to receive, and an open socket keeps the process alive',
        lesson: lesson('The exercise'),
      }));
      check(socketOpen(receiver.socket), () => ({
        did: 'received() resolved and the receiver\'s socket was already closed',
        expected: 'the receiver keeps listening after the stream is complete (its last ACK may be lost), until close()',
        lesson: lesson('Ending the stream: FIN'),
      }));
      await within(receiver.close(), 2_000, 'UdpStreamReceiver.close()');
      check(!socketOpen(receiver.socket), () => ({
        did: 'after close() resolved, the receiver\'s socket was still open',
        expected: 'close() closes the socket, and resolves once it is closed',
        lesson: lesson('The exercise'),
      }));
    });
  }

  it('close() on either adapter is safe before it started and twice after, and the sender calls back every time', async () => {
    const receiver = new UdpStreamReceiver({ isn: 1 });
    onCleanup('your UDP receiver', () => closeQuietly(receiver.socket));
    await within(Promise.resolve().then(() => receiver.close()), 1_000, 'UdpStreamReceiver.close() before listen()', 'With no socket yet there is nothing to close: resolve at once.');
    const port = await within(receiver.listen(0), 2_000, 'UdpStreamReceiver.listen(0)');
    const sender = new UdpStreamSender({ port, isn: 1, rto: { initialRto: 100, minRto: 20, maxRto: 200 } });
    onCleanup('your UDP sender', () => closeQuietly(sender.socket));
    const callbacks: string[] = [];
    let threw: unknown;
    try {
      sender.close(); // nothing to close yet: whether it calls back here is up to you
    } catch (err) {
      threw = err;
    }
    check(threw === undefined, () => ({
      did: `UdpStreamSender.close() before send() threw ${thrown(threw)}`,
      expected: 'close() before send() does nothing: there is no sender nor socket yet',
      lesson: lesson('The exercise'),
    }));
    await within(sender.send(Uint8Array.of(0xff, 0x80, 0x00)), 3_000, 'send() of 3 bytes over loopback');
    for (const label of ['after send() resolved', 'once more']) {
      try {
        await within(new Promise<void>((resolve) => sender.close(() => (callbacks.push(label), resolve()))), 1_000, `UdpStreamSender.close(callback) ${label}`, 'A socket that is already closed throws from close(): catch that and call the callback yourself.');
        sender.close(); // and without a callback
      } catch (err) {
        threw = err;
        break;
      }
    }
    check(threw === undefined && callbacks.length === 2, () => ({
      did: threw ? `close() on an already closed sender threw ${thrown(threw)}` : `the callbacks called were: ${callbacks.join(', ') || 'none'}`,
      expected: 'close(callback) calls back whether or not the socket was still open, and close() with no callback never throws',
      lesson: lesson('The exercise'),
    }));
    for (const label of ['the first', 'a second']) {
      await within(Promise.resolve().then(() => receiver.close()), 1_000, `${label} UdpStreamReceiver.close()`, 'Closing a socket twice throws: catch that, and resolve.');
    }
  });

  it('transfers a 256 KB file through the lossy relay with 10% loss, duplication, reordering and damage, hash-checked', async () => {
    const seed = testSeed();
    const rand = seededRandom(seed);
    const WINDOW = 32_000;
    const file = randomBytes(rand, 256 * 1024);
    const isn = randomInt(rand, 0, TWO32 - 1);
    const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    const receiver = new UdpStreamReceiver({ isn, windowBytes: WINDOW });
    onCleanup('your UDP receiver', async () => {
      try {
        await receiver.close();
      } finally {
        closeQuietly(receiver.socket); // in case close() is unfinished
      }
    });
    const port = await within(receiver.listen(0), 2_000, 'UdpStreamReceiver.listen(0)', 'It should resolve with the bound port once the socket is listening.');
    const relay = await startLossyUdpRelay({
      server: { port },
      seed,
      impair: { loss: 0.1, duplicate: 0.05, reorder: 0.05, corrupt: 0.02 },
      holdMs: 20,
      names: { toServer: 'data', toClient: 'ack' },
    });
    // Timers fit for loopback, where a round trip takes well under a millisecond (a few ms on a busy machine).
    // Every loss costs one RTO, one after the other, so RTO is capped low: a spurious resend only costs a datagram.
    const sender = new UdpStreamSender({ port: relay.port, isn, mss: 1_200, windowBytes: WINDOW, rto: { initialRto: 20, minRto: 5, maxRto: 50 } });
    onCleanup('your UDP sender', () => {
      try {
        sender.close();
      } finally {
        closeQuietly(sender.socket);
      }
    });
    const started = performance.now();
    const budget = 6_000;
    let got: Uint8Array;
    try {
      [, got] = await within(Promise.all([sender.send(file), receiver.received()]), budget, 'the transfer');
    } catch (err) {
      if (!(err instanceof DeadlineError)) throw err;
      fail({
        did: `after ${budget} ms the transfer had not finished: your receiver had delivered ${receiver.receiver?.delivered ?? '?'} of ${file.length} bytes${sender.sender ? `, your sender is ${sender.sender.done ? 'done' : 'not done'} (${sender.sender.stats.segmentsSent} segments sent, ${sender.sender.stats.timeouts} timeouts)` : ''}`,
        expected: `send() and received() both resolve: the file arrives whole and the FIN is acknowledged, in about a second on loopback`,
        lesson: lesson('The exercise'),
        extra: `${replayHint(seed)}\nWhat the relay did:\n${relay.render(40)}`,
      });
    }
    const ms = performance.now() - started;
    check(digest(got) === digest(file), () => ({
      did: `the file that arrived has SHA-256 ${digest(got).slice(0, 16)}…, not ${digest(file).slice(0, 16)}…: ${firstDifference(file, got)}`,
      expected: `the ${file.length} bytes that were sent, exactly once and in order (SHA-256 ${digest(file).slice(0, 16)}…)`,
      lesson: lesson('A channel that misbehaves on purpose'),
      extra: `${replayHint(seed)}\nThe transfer took ${ms.toFixed(0)} ms. What the relay did:\n${relay.render(40)}`,
    }));
    check(relay.stats.toServer.dropped + relay.stats.toClient.dropped > 0, () => ({
      did: `the relay dropped nothing (${relay.summary()})`,
      expected: 'some loss on the way, which proves the transfer survives it. Does your UdpStreamSender send to options.port (the relay\'s port), and your UdpStreamReceiver answer the address each datagram came from?',
      lesson: lesson('The exercise'),
    }));
  });
});
