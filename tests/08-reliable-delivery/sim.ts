/**
 * Chapter 08's simulator: your sender and receiver, joined by two seeded SimChannels (data one way,
 * ACKs back) on one fake clock. The suite reads every datagram on its way and notes the first time the
 * window is exceeded, a segment is resent without a timer, or a datagram is not a valid segment; at the
 * end it compares the bytes. Also here: the lossy setups that the many-seed tests draw with fast-check.
 */
import type { Clock } from '@impl/08-reliable-delivery/exercise.ts';
import { Sender } from '@impl/08-reliable-delivery/exercise.ts';
import { Receiver } from '@impl/08-reliable-delivery/receiver.ts';
import type { RtoOptions } from '@impl/08-reliable-delivery/rto.ts';
import { FakeClock, fail, fc, forAllSync, hexNumber, hexdump, randomBytes, seededRandom, thrown } from '../helpers/index.ts';
import type { DatagramRecord, Impairments } from '../helpers/impairment.ts';
import { forwardedAt } from '../helpers/impairment.ts';
import { SimChannel } from '../helpers/sim-channel.ts';
import { lesson } from './harness.ts';
import { TWO32, firstDifference, none, rangeText, readWire, unwrapRef } from './wire.ts';

export interface SimSetup {
  /** Seed of the two channels' random decisions. */
  seed: number;
  data: Uint8Array;
  isn: number;
  mss: number;
  windowBytes: number;
  rto: RtoOptions;
  /** The same impairments both ways: data to the receiver, ACKs back. */
  impair: Impairments;
  /** When the test calls write() with which part of the data; end() follows the last write. */
  writes: { at: number; from: number; to: number }[];
  /** Simulated time after which the run is stopped. */
  limitMs: number;
}

export interface SimRun {
  setup: SimSetup;
  delivered: Uint8Array;
  deliveries: { at: number; offset: number; length: number }[];
  /** When the sender was done and the receiver finished, if they were. */
  finishedAt: number | undefined;
  /** Why the run stopped early: your code threw, stalled, or ran out of time. */
  problem?: string;
  /** First time more than the window was outstanding. */
  windowViolation?: string;
  /** First retransmission that did not come from a timer. */
  earlyRetransmission?: string;
  /** First datagram of your sender that was not a valid data segment. */
  badDatagram?: string;
  maxInFlight: number;
  forward: SimChannel;
  backward: SimChannel;
  /** Stream offsets carried by each data datagram, by its number in the forward channel. */
  ranges: Map<number, [start: number, end: number]>;
  describeEnds(): string;
}

/** Clock steps after which a run is stopped whatever the simulated time: a guard against a livelock. */
const MAX_SIM_STEPS = 200_000;

export function runSim(setup: SimSetup): SimRun {
  const { seed, data, isn, mss, windowBytes, rto, impair } = setup;
  const clock = new FakeClock();
  // Your sender's timers run through this wrapper, so the suite knows when a retransmission comes from a timer.
  let inTimer = 0;
  const senderClock: Clock = {
    now: () => clock.now(),
    setTimeout: (callback, ms) =>
      clock.setTimeout(() => {
        inTimer++;
        try {
          callback();
        } finally {
          inTimer--;
        }
      }, ms),
    clearTimeout: (handle) => clock.clearTimeout(handle),
  };
  let highest = 0; // offset after the highest sequence number sent (the FIN counts one)
  let ackGiven = 0; // highest valid ACK handed to your sender
  let lastAckSeen = 0; // for reading ACKs in labels
  let cause = 'inside write()';
  let label = '';
  const chunks: Uint8Array[] = [];
  const run: SimRun = {
    setup, delivered: none, deliveries: [], finishedAt: undefined, maxInFlight: 0, ranges: new Map(),
    forward: undefined as unknown as SimChannel, backward: undefined as unknown as SimChannel, describeEnds: () => '',
  };
  let sender: Sender | undefined;
  let receiver: Receiver | undefined;
  let total = 0;

  run.forward = new SimChannel({ clock, seed, name: 'data', impair, label: () => label, deliver: (d) => receiver!.receive(d) });
  run.backward = new SimChannel({
    clock, seed, name: 'ack', impair, label: () => label,
    deliver: (d) => {
      const w = readWire(d);
      if (typeof w !== 'string' && w.ack !== undefined) {
        const offset = unwrapRef(w.ack, isn, ackGiven);
        if (offset > ackGiven && offset <= highest) ackGiven = offset;
        cause = `right after ACK ${offset} arrived at ${clock.now()} ms`;
      } else {
        cause = `right after a damaged ACK arrived at ${clock.now()} ms`;
      }
      sender!.receive(d);
    },
  });

  const transmitData = (d: Uint8Array) => {
    const now = clock.now();
    const w = readWire(d);
    if (typeof w === 'string' || w.ack !== undefined) {
      run.badDatagram ??= `at ${now} ms your sender sent ${typeof w === 'string' ? `a datagram that is not a valid segment: ${w}` : 'a segment with the ACK flag set'}\n${hexdump(d, '    ', 64)}`;
      label = 'not a valid segment';
      run.forward.send(d);
      return;
    }
    const start = unwrapRef(w.seq, isn, highest);
    const end = start + w.payload.length + (w.fin ? 1 : 0);
    const text = rangeText(start, start + w.payload.length, w.fin);
    if (start < highest && inTimer === 0) {
      run.earlyRetransmission ??= `at ${now} ms your sender sent ${text} again ${cause}, while no timer of its own had expired`;
    }
    run.maxInFlight = Math.max(run.maxInFlight, end - ackGiven);
    if (end - ackGiven > windowBytes) {
      run.windowViolation ??= `at ${now} ms your sender sent ${text} while the receiver had acknowledged only up to offset ${ackGiven}: ${end - ackGiven} sequence numbers outstanding, more than the window of ${windowBytes}`;
    }
    highest = Math.max(highest, end);
    label = `${text.padEnd(14)} seq ${hexNumber(w.seq)}`;
    run.ranges.set(run.forward.stats.seen + 1, [start, start + w.payload.length]);
    run.forward.send(d);
  };
  const transmitAck = (d: Uint8Array) => {
    const w = readWire(d);
    if (typeof w === 'string' || w.ack === undefined) label = typeof w === 'string' ? 'not a valid segment' : 'a segment without the ACK flag';
    else label = `ACK ${(lastAckSeen = unwrapRef(w.ack, isn, lastAckSeen))}`;
    run.backward.send(d);
  };

  run.describeEnds = () => {
    const s = sender?.stats;
    const r = receiver?.stats;
    return [
      s ? `Your sender: ${s.segmentsSent} segments sent, ${s.retransmissions} retransmissions, ${s.timeouts} timeouts, ${s.damaged} damaged ACKs dropped; at the end RTO ${sender?.estimator?.rto} ms, SRTT ${sender?.estimator?.srtt}, RTTVAR ${sender?.estimator?.rttvar}.` : '',
      r ? `Your receiver: ${r.delivered} bytes delivered, ${r.acksSent} ACKs sent, ${r.damaged} damaged segments dropped.` : '',
      `Channels: ${run.forward.summary()}; ${run.backward.summary()}.`,
    ].filter(Boolean).join('\n');
  };

  try {
    sender = new Sender({ clock: senderClock, isn, mss, windowBytes, rto, transmit: transmitData });
    receiver = new Receiver({
      isn, windowBytes, transmit: transmitAck,
      deliver: (b) => {
        run.deliveries.push({ at: clock.now(), offset: total, length: b.length });
        chunks.push(Uint8Array.from(b));
        total += b.length;
      },
    });
    const s = sender;
    setup.writes.forEach((piece, i) => {
      const go = () => {
        cause = `inside write() at ${clock.now()} ms`;
        s.write(data.slice(piece.from, piece.to));
        if (i === setup.writes.length - 1) s.end();
      };
      if (piece.at === 0) go();
      else clock.setTimeout(go, piece.at);
    });
    for (let steps = 0; ; steps++) {
      if (sender.done && receiver.finished) {
        run.finishedAt = clock.now();
        break;
      }
      const next = clock.nextAt();
      if (next === undefined) {
        run.problem = `at ${clock.now()} ms nothing more could happen: no datagram in flight and no timer waiting, yet ${sender.done ? '' : 'the sender is not done'}${!sender.done && !receiver.finished ? ' and ' : ''}${receiver.finished ? '' : 'the receiver has not finished'}. A sender with unacknowledged data must always have its retransmission timer running`;
        break;
      }
      if (next > setup.limitMs || steps >= MAX_SIM_STEPS) {
        run.problem = `the transfer had not finished after ${clock.now()} simulated ms (${steps} clock steps); ${total} of ${data.length} bytes delivered`;
        break;
      }
      clock.advance(next - clock.now());
    }
    // Let copies still in flight arrive: duplicates must not be delivered again.
    if (run.finishedAt !== undefined) clock.advance(1_000);
  } catch (err) {
    run.problem = `your code threw at ${clock.now()} simulated ms: ${thrown(err)}`;
  }
  run.forward.close();
  run.backward.close();
  run.delivered = Buffer.concat(chunks);
  return run;
}

/** The settings of a run, in one line. */
export function describeSetup(s: SimSetup): string {
  const imp = Object.entries(s.impair).map(([k, v]) => `${k} ${Array.isArray(v) ? v.join('-') : v}`).join(', ');
  return `${s.data.length} bytes written in ${s.writes.length} piece(s) (${s.writes.map((w) => `at ${w.at} ms: ${w.to - w.from}`).join('; ')}), ISN ${hexNumber(s.isn)}, mss ${s.mss}, windowBytes ${s.windowBytes}, rto ${JSON.stringify(s.rto)}; channel both ways: ${imp}, seed ${s.seed}`;
}

/** The channel's record of the data datagrams that carried stream offset `offset`, and of the ACKs around `time`. */
export function storyAround(run: SimRun, offset: number, time: number): string {
  const carried = (e: DatagramRecord) => {
    const r = run.ranges.get(e.nth);
    return !!r && r[0] <= offset && offset < r[1];
  };
  return [
    `What the data channel did with every segment that carried offset ${offset}:`,
    run.forward.render(carried, 16),
    `The data segments that reached the receiver in the 100 ms up to ${time} ms:`,
    run.forward.render((e) => forwardedAt(e).some((t) => t <= time && t >= time - 100), 12),
    `The ACKs sent in the 200 ms up to ${time} ms:`,
    run.backward.render((e) => e.at <= time && e.at >= time - 200, 12),
  ].join('\n');
}

/** The bytes check of a run: '' when every byte arrived once, in order. */
export function wrongBytes(run: SimRun): string {
  const diff = firstDifference(run.setup.data, run.delivered);
  if (!diff) return '';
  const off = Math.min(run.setup.data.length, run.delivered.length);
  const m = /offset (\d+)/.exec(diff);
  const at = m ? Number(m[1]) : off;
  const call = run.deliveries.find((d) => d.offset <= at && at < d.offset + d.length);
  const when = call ? ` It came in a deliver() call at ${call.at} ms with ${call.length} bytes for offsets ${call.offset}..${call.offset + call.length}.` : '';
  return `${diff}.${when}`;
}

/**
 * Fail with a teaching message if the run went wrong: your code threw, stalled or ran out of time, or
 * `problem` finds something (a string saying what). `story` tells what the channels did around it.
 * Call it inside a property whose `show` is describeSetup: the message ends with the setup.
 */
export function checkRun(run: SimRun, problem: (r: SimRun) => string | undefined, expected: string, heading: string, story: (r: SimRun) => string = () => ''): void {
  const p = run.problem ?? problem(run);
  if (!p) return;
  fail({
    did: p,
    expected,
    lesson: lesson(run.problem ? 'The exercise' : heading),
    extra: [run.describeEnds(), run.problem ? '' : story(run)].filter(Boolean).join('\n'),
  });
}

/** How the lossy runs are set up: 20% loss, reordering, duplication and damage, both ways. */
const LOSSY: Impairments = { loss: 0.2, duplicate: 0.1, reorder: 0.1, corrupt: 0.05, delayMs: [10, 30] };
/** RFC 6298 defaults, except the 1 s floor: Linux's 200 ms suits a 20-60 ms round trip. */
export const SIM_RTO: RtoOptions = { minRto: 200 };
/** Lossy runs per test. */
export const SEEDS = 60;

/** Random bytes from a seed: the stream a run writes (its content matters only in that a misplaced byte shows). */
export const randomStream = (seed: number, length: number) => randomBytes(seededRandom(seed ^ 0x5eed5eed), length);

/**
 * A lossy run: its own channel seed, random data of 8 to 32 KB, MSS, window of 4 to 16 segments, ISN
 * (about half of them just below 2^32, so their sequence numbers wrap in mid-stream) and write()
 * pattern (up to 3 more writes, within the first 3 s). Shrinks towards one write of 8000 bytes from ISN 0.
 */
const lossySetups: fc.Arbitrary<SimSetup> = fc
  .record({
    seed: fc.nat(),
    length: fc.integer({ min: 8_000, max: 32_000 }),
    mss: fc.constantFrom(200, 500, 1000, 1400),
    segments: fc.integer({ min: 4, max: 16 }),
    isn: fc.oneof(fc.integer({ min: 0, max: TWO32 - 1 }), fc.integer({ min: 1, max: 8_000 }).map((below) => TWO32 - below)),
    /** Where later writes start, in thousandths of the length. */
    cuts: fc.uniqueArray(fc.integer({ min: 1, max: 999 }), { maxLength: 3 }),
    /** When the later writes come, in ms. */
    later: fc.array(fc.integer({ min: 1, max: 3_000 }), { minLength: 3, maxLength: 3 }),
  })
  .map(({ seed, length, mss, segments, isn, cuts, later }) => {
    const starts = [...new Set(cuts.map((c) => Math.floor((c * length) / 1000)))].sort((a, b) => a - b);
    const bounds = [0, ...starts, length];
    const times = [0, ...later.slice(0, starts.length).sort((a, b) => a - b)];
    const writes = times.map((at, i) => ({ at, from: bounds[i]!, to: bounds[i + 1]! }));
    return { seed, data: randomStream(seed, length), isn, mss, windowBytes: mss * segments, rto: SIM_RTO, impair: LOSSY, writes, limitMs: 6 * 3_600_000 };
  });

/** Setups already simulated in this test file: the lossy tests check the same runs from different sides. */
const simulated = new Map<string, SimRun>();

/** The run of a lossy setup, simulated once per test file. */
function simulate(s: SimSetup): SimRun {
  const key = [s.seed, s.data.length, s.isn, s.mss, s.windowBytes, JSON.stringify(s.writes)].join('|');
  let run = simulated.get(key);
  if (!run) simulated.set(key, (run = runSim(s)));
  return run;
}

/** Check `problem` on SEEDS lossy runs; a failure shrinks to the simplest setup that still fails. */
export function forEachLossyRun(problem: (r: SimRun) => string | undefined, expected: string, heading: string, story?: (r: SimRun) => string): void {
  forAllSync(lossySetups, (setup) => checkRun(simulate(setup), problem, expected, heading, story), { numRuns: SEEDS, show: describeSetup });
}
