/**
 * Scripts for chapter 08's sender, CS144-style: actions ("test: write(300 bytes)", "receiver's ACK
 * arrives", "time is 1000 ms") and expectations ("expect you to send 0..100, 100..200") run one by one
 * on a fake clock. The world reads every datagram the sender transmits with the suite's own decoder;
 * anything sent that no expectation claims fails the script.
 */
import { crc32 } from 'node:zlib';
import { Sender } from '@impl/08-reliable-delivery/exercise.ts';
import type { RtoOptions } from '@impl/08-reliable-delivery/rto.ts';
import { FakeClock, hexNumber, thrown } from '../helpers/index.ts';
import type { ScriptWorld, Step } from '../helpers/script.ts';
import { action, expectation, runScript } from '../helpers/script.ts';
import { lesson } from './harness.ts';
import { firstDifference, rangeText, readWire, stream, unwrapRef, wire, wrapRef } from './wire.ts';

/** One datagram your sender sent, as the suite read it. */
export interface SentSegment {
  at: number;
  start: number;
  /** Offset after its last payload byte (the FIN, if any, is at `end`). */
  end: number;
  fin: boolean;
  text: string;
}

export class SenderWorld implements ScriptWorld {
  readonly clock = new FakeClock();
  readonly sender: Sender;
  /** The bytes written so far: a recognisable pattern. */
  readonly data = stream(1 << 20);
  written = 0;
  /** Highest offset sent (after the FIN, if sent). */
  highest = 0;
  /** Offsets sent so far (to tell a retransmission). */
  private readonly sentBefore = new Set<string>();
  private pending: SentSegment[] = [];
  readonly all: SentSegment[] = [];

  constructor(
    readonly isn: number,
    readonly o: { mss?: number; windowBytes?: number; rto?: RtoOptions } = {},
  ) {
    this.sender = new Sender({ clock: this.clock, isn, ...o, transmit: (d) => this.onTransmit(d) });
  }

  private onTransmit(d: Uint8Array): void {
    const at = this.clock.now();
    const w = readWire(d);
    if (typeof w === 'string') {
      this.pending.push({ at, start: NaN, end: NaN, fin: false, text: `a datagram that is not a valid segment (${w})` });
      return;
    }
    if (w.ack !== undefined) {
      this.pending.push({ at, start: NaN, end: NaN, fin: false, text: `a segment with the ACK flag (ack ${hexNumber(w.ack)}): a sender's segments carry data, not ACKs` });
      return;
    }
    const start = unwrapRef(w.seq, this.isn, this.highest);
    const end = start + w.payload.length;
    const key = `${start}:${end}:${w.fin}`;
    let text = rangeText(start, end, w.fin);
    const want = this.data.subarray(start, end);
    const diff = end > this.written ? `bytes past the ${this.written} written so far` : firstDifference(want, w.payload);
    if (diff) text += ` (WRONG PAYLOAD: ${diff})`;
    if (this.sentBefore.has(key)) text += ' again';
    this.sentBefore.add(key);
    this.highest = Math.max(this.highest, end + (w.fin ? 1 : 0));
    const seg = { at, start, end, fin: w.fin, text };
    this.pending.push(seg);
    this.all.push(seg);
  }

  unclaimed(): string[] {
    return this.pending.map((s) => `${s.text} at ${s.at} ms`);
  }

  claimAll(): void {
    this.pending = [];
  }

  take(): SentSegment[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  describe(): string {
    const e = this.sender.estimator;
    let inFlight: string;
    try {
      inFlight = String(this.sender.bytesInFlight);
    } catch (err) {
      inFlight = `(threw ${thrown(err)})`;
    }
    return `Your sender now: time ${this.clock.now()} ms; bytesInFlight ${inFlight}; estimator: SRTT ${e?.srtt}, RTTVAR ${e?.rttvar}, RTO ${e?.rto}; timers waiting on the clock: ${this.clock.pendingCount()}`;
  }
}

type S = Step<SenderWorld>;

/** The test writes the next `n` bytes of the stream. */
export const write = (n: number): S =>
  action(`test: write(${n} bytes)`, (w) => {
    const from = w.written;
    w.written += n;
    w.sender.write(w.data.slice(from, from + n));
  });

/**
 * The test writes the next `n` bytes from a view at offset `at` inside a larger buffer, then reuses
 * that buffer (fills it with 0xEE): your sender must have kept its own copy.
 */
export const writeFromView = (n: number, o: { at: number }): S =>
  action(`test: write(${n} bytes) from a view at offset ${o.at} of a larger buffer, then reuse that buffer (fill it with 0xEE)`, (w) => {
    const from = w.written;
    w.written += n;
    const big = new Uint8Array(o.at + n + 9).fill(0xee);
    big.set(w.data.subarray(from, from + n), o.at);
    w.sender.write(big.subarray(o.at, o.at + n));
    big.fill(0xee);
  });

/** The test closes the sender. */
export const closeSender = (): S => action('test: close()', (w) => w.sender.close());

/** The test ends the stream. */
export const endStream = (): S => action('test: end()', (w) => w.sender.end());

/** The receiver's ACK arrives: "I have every byte before `offset`". */
export const ackTo = (offset: number, o: { damaged?: boolean } = {}): S =>
  action(`receiver's ACK arrives: next expected offset ${offset}${o.damaged ? ', DAMAGED on the way (one byte flipped)' : ''}`, (w) => {
    const d = wire({ seq: 0, ack: wrapRef(offset, w.isn) });
    if (o.damaged) d[9] ^= 0x40;
    w.sender.receive(d);
  });

/** Move the fake clock to time `t` (ms), firing due timers. */
export const at = (t: number): S => action(`time is ${t} ms`, (w) => w.clock.advance(t - w.clock.now()));

/** Exactly these segments were sent since the last check, in this order, each at the current time. */
export const sends = (...texts: string[]): S =>
  expectation(
    texts.length ? `expect you to send ${texts.join(', ')}` : 'expect you to send nothing',
    (w) => {
      const got = w.take();
      const now = w.clock.now();
      const same = got.length === texts.length && got.every((g, i) => g.text === texts[i] && g.at === now);
      if (same) return undefined;
      return got.length ? `you sent ${got.map((g) => `${g.text} at ${g.at} ms`).join(', ')}` : 'you sent nothing';
    },
  );

/** The segments sent since the last check are one of these sequences (where the lesson allows either). */
export const sendsOneOf = (...ways: string[][]): S =>
  expectation(
    `expect you to send ${ways.map((t) => t.join(', ')).join('; or ')}`,
    (w) => {
      const got = w.take();
      const now = w.clock.now();
      if (ways.some((texts) => got.length === texts.length && got.every((g, i) => g.text === texts[i] && g.at === now))) return undefined;
      return got.length ? `you sent ${got.map((g) => `${g.text} at ${g.at} ms`).join(', ')}` : 'you sent nothing';
    },
  );

/** A segment without the ACK flag arrives at the sender, its ack field holding `offset`'s number all the same. */
export const noAckArrives = (offset: number): S =>
  action(`a segment WITHOUT the ACK flag arrives (10 bytes of data; its ack field holds the number of offset ${offset}, but with no ACK flag it means nothing)`, (w) => {
    const d = wire({ seq: w.isn, ack: wrapRef(offset, w.isn), payload: stream(10) });
    d[12] = 0; // no flags: the checksum is computed again below, so the segment is intact
    new DataView(d.buffer).setUint32(0, crc32(d.subarray(4)));
    w.sender.receive(d);
  });

/** The sender's stats hold these counts. */
export const senderStatsAre = (want: Partial<Record<'segmentsSent' | 'retransmissions' | 'timeouts' | 'damaged', number>>, why?: string): S =>
  expectation(
    `expect your stats to count ${Object.entries(want).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    (w) => {
      const st = w.sender.stats as unknown as Record<string, unknown>;
      const bad = Object.entries(want).filter(([k, v]) => st?.[k] !== v);
      return bad.length ? `stats is ${JSON.stringify(st)}` : undefined;
    },
    why,
  );

/** The sender's estimator holds these values (undefined = no measurement yet). */
export const estimatorIs = (want: { srtt?: number; rttvar?: number; rto?: number }, why?: string): S => {
  const shown = Object.entries(want).map(([k, v]) => `${k.toUpperCase()} ${v}`).join(', ');
  return expectation(
    `expect your estimator to hold ${shown}`,
    (w) => {
      const e = w.sender.estimator;
      const bad = Object.entries(want).filter(([k, v]) => e[k as keyof typeof want] !== v);
      return bad.length ? `it holds ${Object.keys(want).map((k) => `${k.toUpperCase()} ${e[k as keyof typeof want]}`).join(', ')}` : undefined;
    },
    why,
  );
};

export const inFlight = (n: number, why?: string): S =>
  expectation(`expect bytesInFlight to be ${n}`, (w) => (w.sender.bytesInFlight === n ? undefined : `bytesInFlight is ${w.sender.bytesInFlight}`), why);

export const doneIs = (v: boolean, why?: string): S =>
  expectation(`expect done to be ${v}`, (w) => (w.sender.done === v ? undefined : `done is ${w.sender.done}`), why);

export const timersWaiting = (n: number, why?: string): S =>
  expectation(`expect ${n} timer(s) waiting on the clock`, (w) => (w.clock.pendingCount() === n ? undefined : `${w.clock.pendingCount()} timer(s) are waiting`), why);

export function senderScript(title: string, heading: string, o: { isn: number; mss?: number; windowBytes?: number; rto?: RtoOptions }, steps: S[]): SenderWorld {
  const world = new SenderWorld(o.isn, o);
  const settings = [`ISN ${hexNumber(o.isn)}`, `mss ${o.mss ?? 'default'}`, `windowBytes ${o.windowBytes ?? 'default'}`, `rto ${JSON.stringify(o.rto ?? {})}`];
  runScript(world, steps, { title, lesson: lesson(heading), preamble: `${settings.join(', ')}; offsets count stream bytes from 0, "0..100" is a segment with bytes 0 to 99` });
  return world;
}
