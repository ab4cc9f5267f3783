/**
 * A simulated datagram channel on a fake clock: one direction of a path, in memory. What it does to
 * each datagram (lose it, duplicate it, hold it back, damage a byte, delay it) is the impairment
 * model's decision (impairment.ts), the same one the lossy UDP relay makes for the same options and
 * seed. Chapter 08 wires two channels (data one way, ACKs the other) between a sender and a receiver.
 *
 *   sender --send()--> [ channel: drop? copy? hold? damage? delay ] --deliver()--> receiver
 *
 * Determinism: the fate of the n-th datagram depends only on the seed, the channel's name and n (see
 * impairment.ts), and deliveries are timers on the one FakeClock, which fires them in time order (ties
 * in order of sending). So a run can be replayed exactly from its seed, as long as the code under test
 * is deterministic.
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
import type { DatagramRecord, ImpairRule, Impairments, LinkCounts } from './impairment.ts';
import { ImpairedLink, describeCounts, forwardedAt } from './impairment.ts';

/** Records kept for failure messages; later ones are counted only. */
const MAX_RECORDS = 50_000;

/** One direction of a simulated network path. */
export class SimChannel {
  private readonly link: ImpairedLink;

  constructor(
    private readonly o: {
      clock: FakeClock;
      seed: number;
      /** Names the direction: it picks the channel's stream of random draws, its script rules, and its transcript label ("data", "ack"). */
      name: string;
      impair: Impairments;
      /** Exact per-datagram rules for this direction (`direction` = `name`); they replace the random fate. */
      script?: readonly ImpairRule[];
      /** Longest a held datagram waits for the next one before it is delivered anyway (simulated ms). Default 100. */
      holdMs?: number;
      /** Called with each arriving copy. */
      deliver: (datagram: Uint8Array) => void;
      /** Describe a datagram for the transcript. */
      label?: (datagram: Uint8Array) => string;
    },
  ) {
    this.link = new ImpairedLink({
      seed: o.seed, direction: o.name, impair: o.impair, script: o.script, holdMs: o.holdMs, clock: o.clock,
      forward: (d) => o.deliver(d), label: o.label, maxRecords: MAX_RECORDS,
    });
  }

  /** Counters: seen, dropped, duplicated, held, corrupted, forwarded (= copies delivered), ... */
  get stats(): LinkCounts {
    return this.link.counts;
  }

  /** What happened to each datagram, in the order they were sent. */
  get records(): readonly DatagramRecord[] {
    return this.link.records;
  }

  /** Put a datagram on the channel at the clock's current time. */
  send(datagram: Uint8Array): void {
    this.link.send(datagram);
  }

  /** Stop delivering (what is in flight is dropped). */
  close(): void {
    this.link.close();
  }

  /** One line of counts. */
  summary(): string {
    return describeCounts(this.o.name, this.link.counts);
  }

  /** The records that `keep` selects (default all), as text; long lists keep their head and tail. */
  render(keep: (r: DatagramRecord) => boolean = () => true, maxLines = 30): string {
    const lines = this.link.records.filter(keep).map((r) => {
      const arrivals = forwardedAt(r);
      const overflow = r.outcomes.some((x) => x.how === 'overflow');
      const discarded = r.outcomes.filter((x) => x.how === 'discarded').reduce((n, x) => n + x.copies, 0);
      const fate = r.fate.drop || overflow
        ? `LOST${overflow ? ' (queue full)' : ''}${r.fate.scripted ? ' [script]' : ''}`
        : [
            arrivals.length ? `arrives at ${arrivals.map((t) => `${t} ms`).join(' and ')}` : '',
            r.fate.delays.length > 1 ? '(duplicated)' : '',
            r.fate.hold ? '(held back: reordered)' : '',
            r.fate.corrupt ? `DAMAGED (byte ${r.fate.corrupt.offset} flipped)` : '',
            discarded ? `${discarded} cop${discarded > 1 ? 'ies' : 'y'} still in flight at the end` : '',
            r.fate.scripted ? '[script]' : '',
          ].filter(Boolean).join(' ');
      return `  t=${String(r.at).padStart(6)} ms  ${this.o.name} #${String(r.nth).padEnd(4)} ${String(r.size).padStart(5)} B  ${r.label.padEnd(36)} ${fate}`;
    });
    if (lines.length <= maxLines) return lines.join('\n') || '  (none)';
    const head = Math.floor(maxLines / 3);
    return [...lines.slice(0, head), `  ... ${lines.length - maxLines} lines skipped ...`, ...lines.slice(-(maxLines - head))].join('\n');
  }
}
