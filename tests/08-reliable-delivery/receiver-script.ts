/**
 * Scripts for chapter 08's receiver: segments arrive (intact, damaged, as views into reused buffers)
 * and expectations check the ACKs it sends and the bytes it delivers, one step at a time. The world
 * reads every ACK with the suite's own decoder and checks each delivery against the stream.
 */
import { Receiver } from '@impl/08-reliable-delivery/receiver.ts';
import { hexNumber, thrown } from '../helpers/index.ts';
import type { ScriptWorld, Step } from '../helpers/script.ts';
import { action, expectation, runScript } from '../helpers/script.ts';
import { lesson } from './harness.ts';
import { firstDifference, rangeText, readWire, stream, unwrapRef, wire, wrapRef } from './wire.ts';

export class ReceiverWorld implements ScriptWorld {
  readonly receiver: Receiver;
  /** What the sender's stream holds: the receiver must deliver exactly this, in order. */
  readonly data = stream(1 << 16, 5);
  readonly delivered: number[] = [];
  deliveredBytes = 0;
  /** The first delivery that was not the next bytes of the stream. */
  wrongDelivery: string | undefined;
  private pending: string[] = [];
  /** ACK offsets sent since the last check. */
  private acks: number[] = [];
  private lastAck = 0;

  constructor(
    readonly isn: number,
    windowBytes?: number,
  ) {
    this.receiver = new Receiver({ isn, windowBytes, transmit: (d) => this.onTransmit(d), deliver: (b) => this.onDeliver(b) });
  }

  private onTransmit(d: Uint8Array): void {
    const w = readWire(d);
    if (typeof w === 'string') {
      this.pending.push(`a datagram that is not a valid segment (${w})`);
    } else if (w.ack === undefined) {
      this.pending.push(`a segment without the ACK flag (seq ${hexNumber(w.seq)})`);
    } else {
      const offset = unwrapRef(w.ack, this.isn, this.lastAck);
      this.lastAck = offset;
      this.acks.push(offset);
      this.pending.push(`ACK ${offset}${w.payload.length || w.fin ? ' (with data or FIN!)' : ''}`);
    }
  }

  private onDeliver(b: Uint8Array): void {
    const bytes = Uint8Array.from(b);
    const want = this.data.subarray(this.deliveredBytes, this.deliveredBytes + bytes.length);
    const diff = firstDifference(want, bytes);
    if (diff && !this.wrongDelivery) {
      this.wrongDelivery = `deliver() got ${bytes.length} bytes meant to be stream offsets ${this.deliveredBytes}..${this.deliveredBytes + bytes.length}, but ${diff.replace(/offset (\d+)/, (_, k) => `offset ${this.deliveredBytes + Number(k)}`)}`;
    }
    this.delivered.push(bytes.length);
    this.deliveredBytes += bytes.length;
  }

  unclaimed(): string[] {
    return this.pending;
  }

  claimAll(): void {
    this.pending = [];
    this.acks = [];
  }

  takeAcks(): number[] {
    const out = this.acks;
    this.claimAll();
    return out;
  }

  describe(): string {
    let finished: string;
    try {
      finished = String(this.receiver.finished);
    } catch (err) {
      finished = `(threw ${thrown(err)})`;
    }
    return `Your receiver now: delivered ${this.deliveredBytes} bytes in ${this.delivered.length} call(s) of deliver(); finished ${finished}`;
  }
}

type R = Step<ReceiverWorld>;

/** The sender's segment with stream bytes start..end arrives (intact, unless `damage` names a byte to flip). */
export const arrives = (start: number, end: number, o: { fin?: boolean; damage?: number; view?: number } = {}): R =>
  action(
    `sender's segment ${rangeText(start, end, !!o.fin)} arrives${o.damage !== undefined ? `, DAMAGED on the way (byte ${o.damage} of the datagram flipped)` : ''}${
      o.view !== undefined ? `, as a view at offset ${o.view} of a larger buffer that the caller reuses (fills with 0xEE) once receive() returns` : ''
    }`,
    (w) => {
      const d = wire({ seq: wrapRef(start, w.isn), fin: o.fin, payload: w.data.slice(start, end) });
      if (o.damage !== undefined) d[o.damage] ^= 0x20;
      if (o.view === undefined) return w.receiver.receive(d);
      const big = new Uint8Array(o.view + d.length + 11).fill(0xee);
      big.set(d, o.view);
      w.receiver.receive(big.subarray(o.view, o.view + d.length));
      big.fill(0xee);
    },
  );

/** A segment with no data and no FIN arrives (a stray pure ACK, or an empty segment). */
export const strayArrives = (o: { ack?: number }): R =>
  action(`a segment with no data and no FIN arrives (${o.ack === undefined ? 'no flags at all' : `a pure ACK ${o.ack}`})`, (w) => {
    w.receiver.receive(wire({ seq: wrapRef(0, w.isn), ack: o.ack === undefined ? undefined : wrapRef(o.ack, w.isn) }));
  });

/** Exactly these ACKs were sent since the last check (as stream offsets; the FIN counts one). */
export const acks = (...offsets: number[]): R =>
  expectation(offsets.length ? `expect you to send ${offsets.map((o) => `ACK ${o}`).join(', ')}` : 'expect you to send no ACK', (w) => {
    const bad = w.unclaimed().filter((p) => !p.startsWith('ACK '));
    const got = w.takeAcks();
    if (bad.length) return `you sent ${bad.join(', ')}`;
    return got.length === offsets.length && got.every((g, i) => g === offsets[i]) ? undefined : got.length ? `you sent ${got.map((g) => `ACK ${g}`).join(', ')}` : 'you sent nothing';
  });

/** In total, the first `n` bytes of the stream have been delivered, each once and in order. */
export const deliveredTotal = (n: number, why?: string): R =>
  expectation(
    `expect deliver() to have been given the first ${n} bytes of the stream, in order, each once`,
    (w) =>
      w.wrongDelivery ??
      (w.deliveredBytes !== n
        ? `deliver() has been given ${w.deliveredBytes} bytes in all`
        : w.receiver.delivered !== n
          ? `deliver() has been given the right ${n} bytes, but your receiver's \`delivered\` says ${w.receiver.delivered}`
          : undefined),
    why,
  );

/** The receiver's stats hold these counts. */
export const receiverStatsAre = (want: Partial<Record<'delivered' | 'acksSent' | 'damaged', number>>, why?: string): R =>
  expectation(
    `expect your stats to count ${Object.entries(want).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    (w) => {
      const st = w.receiver.stats as unknown as Record<string, unknown>;
      const bad = Object.entries(want).filter(([k, v]) => st?.[k] !== v);
      return bad.length ? `stats is ${JSON.stringify(st)}` : undefined;
    },
    why,
  );

export const finishedIs = (v: boolean, why?: string): R =>
  expectation(`expect finished to be ${v}`, (w) => (w.receiver.finished === v ? undefined : `finished is ${w.receiver.finished}`), why);

export function receiverScript(title: string, heading: string, o: { isn: number; windowBytes?: number }, steps: R[]): void {
  const world = new ReceiverWorld(o.isn, o.windowBytes);
  const preamble = `ISN ${hexNumber(o.isn)}, windowBytes ${o.windowBytes ?? 'default'}; offsets count stream bytes from 0, and ACK n means "I have every byte before offset n"`;
  runScript(world, steps, { title, lesson: lesson(heading), preamble });
}
