/**
 * A simulated datagram channel on a fake clock: it carries datagrams one way, and loses,
 * duplicates, reorders, delays and damages some of them, at random but reproducibly.
 * Chapter 08 wires two of them (data one way, ACKs the other) between a sender and a receiver.
 *
 *   sender --send()--> [ channel: drop? copy? damage? delay ] --deliver()--> receiver
 *
 * Determinism: the fate of the n-th datagram depends only on the seed and n. Every datagram takes
 * the same number of draws from the channel's PRNG whatever happens to it, and deliveries are
 * timers on the one FakeClock, which fires them in time order (ties in order of sending).
 * So a run can be replayed exactly from its seed, as long as the code under test is deterministic.
 *
 * Every delivered datagram is a fresh copy: damage never reaches the sender's own buffers, and a
 * receiver that keeps a reference gets bytes nobody else will touch.
 *
 * Usage:
 *   const clock = new FakeClock();
 *   const toReceiver = new SimChannel({ clock, seed, name: 'data', impair: { loss: 0.2, delayMs: [10, 30] },
 *     deliver: (d) => receiver.receive(d), label: (d) => describeSegment(d) });
 *   sender = new Sender({ clock, transmit: (d) => toReceiver.send(d), ... });
 *   // advance the clock; afterwards toReceiver.stats, toReceiver.render()
 */
import type { FakeClock } from './clock.ts';
import { seededRandom } from './random.ts';

/** What the channel does to datagrams. Every rate is a probability in [0, 1]. */
export interface ChannelImpairments {
  /** Probability that a datagram is lost. */
  loss?: number;
  /** Probability that a datagram arrives twice (the copy with its own delay). */
  duplicate?: number;
  /** Probability that a datagram is held back by `reorderDelayMs` more, so later ones overtake it. */
  reorder?: number;
  /** Probability that one byte is flipped (XORed with a non-zero mask). */
  corrupt?: number;
  /** One-way delay in ms: fixed, or [min, max] drawn uniformly (a spread reorders too). Default 10. */
  delayMs?: number | readonly [number, number];
  /** Extra delay of a reordered datagram in ms. Default: the largest delay. */
  reorderDelayMs?: number;
}

/** What happened to one datagram. */
export interface ChannelEvent {
  /** Simulated time it was sent. */
  at: number;
  /** 1-based count of datagrams sent into this channel. */
  nth: number;
  size: number;
  /** The test's description of the datagram ("data seq=..."), taken when it was sent. */
  label: string;
  lost: boolean;
  /** When each copy arrives (empty when lost). */
  arrivals: number[];
  reordered: boolean;
  /** Offset of the flipped byte, when damaged. */
  damagedAt?: number;
}

/** Counters of one channel. */
export interface ChannelStats {
  sent: number;
  lost: number;
  duplicated: number;
  reordered: number;
  damaged: number;
  /** Copies handed to `deliver`. */
  delivered: number;
}

/** Draws per datagram, whatever its fate: the key to determinism. */
const DRAWS = 8;
/** Events kept for failure messages; later ones are counted only. */
const MAX_EVENTS = 50_000;

/** One direction of a simulated network path. */
export class SimChannel {
  readonly stats: ChannelStats = { sent: 0, lost: 0, duplicated: 0, reordered: 0, damaged: 0, delivered: 0 };
  readonly events: ChannelEvent[] = [];
  private readonly rand: () => number;
  private closed = false;

  constructor(
    private readonly o: {
      clock: FakeClock;
      seed: number;
      /** Names the direction in transcripts: "data", "ack". */
      name: string;
      impair: ChannelImpairments;
      /** Called with each arriving copy. */
      deliver: (datagram: Uint8Array) => void;
      /** Describe a datagram for the transcript. */
      label?: (datagram: Uint8Array) => string;
    },
  ) {
    for (const k of ['loss', 'duplicate', 'reorder', 'corrupt'] as const) {
      const v = o.impair[k];
      if (v !== undefined && !(v >= 0 && v <= 1)) throw new RangeError(`sim channel: ${k} must be a probability in [0, 1], got ${v}`);
    }
    // Each channel name gets its own stream of draws from the one seed.
    let salt = 0;
    for (const c of o.name) salt = (Math.imul(salt, 31) + c.charCodeAt(0)) >>> 0;
    this.rand = seededRandom((o.seed ^ salt) >>> 0);
  }

  /** Put a datagram on the channel at the clock's current time. */
  send(datagram: Uint8Array): void {
    const { impair, clock } = this.o;
    const r = Array.from({ length: DRAWS }, this.rand);
    const nth = ++this.stats.sent;
    const [lo, hi] = typeof impair.delayMs === 'number' ? [impair.delayMs, impair.delayMs] : (impair.delayMs ?? [10, 10]);
    const delay = (x: number) => lo + Math.floor(x * (hi - lo + 1));
    const event: ChannelEvent = {
      at: clock.now(), nth, size: datagram.length, label: this.o.label?.(datagram) ?? '', lost: false, arrivals: [], reordered: false,
    };
    if (this.events.length < MAX_EVENTS) this.events.push(event);
    if (this.closed) return;
    if (r[0]! < (impair.loss ?? 0)) {
      event.lost = true;
      this.stats.lost++;
      return;
    }
    const bytes = datagram.slice();
    if (r[1]! < (impair.corrupt ?? 0) && bytes.length > 0) {
      const at = Math.floor(r[2]! * bytes.length);
      bytes[at] ^= 1 + Math.floor(r[3]! * 255);
      event.damagedAt = at;
      this.stats.damaged++;
    }
    let first = delay(r[4]!);
    if (r[5]! < (impair.reorder ?? 0)) {
      first += impair.reorderDelayMs ?? hi;
      event.reordered = true;
      this.stats.reordered++;
    }
    const copies = [first];
    if (r[6]! < (impair.duplicate ?? 0)) {
      copies.push(delay(r[7]!));
      this.stats.duplicated++;
    }
    for (const d of copies) {
      event.arrivals.push(clock.now() + d);
      clock.setTimeout(() => {
        if (this.closed) return;
        this.stats.delivered++;
        this.o.deliver(bytes.slice());
      }, d);
    }
  }

  /** Stop delivering (what is in flight is dropped). */
  close(): void {
    this.closed = true;
  }

  /** One line of counts. */
  summary(): string {
    const s = this.stats;
    return `${this.o.name}: ${s.sent} sent, ${s.lost} lost, ${s.duplicated} duplicated, ${s.reordered} reordered, ${s.damaged} damaged`;
  }

  /** The events that `keep` selects (default all), as text; long lists keep their head and tail. */
  render(keep: (e: ChannelEvent) => boolean = () => true, maxLines = 30): string {
    const lines = this.events.filter(keep).map((e) => {
      const fate = e.lost
        ? 'LOST'
        : [
            `arrives at ${e.arrivals.map((t) => `${t} ms`).join(' and ')}`,
            e.arrivals.length > 1 ? '(duplicated)' : '',
            e.reordered ? '(held back: reordered)' : '',
            e.damagedAt !== undefined ? `DAMAGED (byte ${e.damagedAt} flipped)` : '',
          ].filter(Boolean).join(' ');
      return `  t=${String(e.at).padStart(6)} ms  ${this.o.name} #${String(e.nth).padEnd(4)} ${String(e.size).padStart(5)} B  ${e.label.padEnd(36)} ${fate}`;
    });
    if (lines.length <= maxLines) return lines.join('\n') || '  (none)';
    const head = Math.floor(maxLines / 3);
    return [...lines.slice(0, head), `  ... ${lines.length - maxLines} lines skipped ...`, ...lines.slice(-(maxLines - head))].join('\n');
  }
}
