/**
 * The one impairment model of the test networks: what a path does to each datagram it carries.
 * It loses, duplicates, reorders (holds back), corrupts and delays datagrams, at random but
 * reproducibly from a seed, or exactly as a script says ("drop the 2nd datagram toClient").
 *
 * Two carriers use it, and differ only in their clock and their wire:
 * - SimChannel (sim-channel.ts): one direction on a FakeClock, in memory (chapter 08);
 * - the lossy UDP relay (lossy-udp-relay.ts): both directions on real timers and a real socket (05, 08).
 *
 *   datagram --send()--> decide: drop? how many copies? hold? which byte to flip? delay of each copy?
 *                    --> forward(copy): now, after its delay, or right after the next datagram goes
 *
 * Determinism: the fate of the n-th datagram of a direction depends only on the seed, the direction,
 * n and (for which byte is flipped) its length. Every datagram takes DRAWS_PER_DATAGRAM draws from its
 * direction's PRNG whatever happens to it, even when a scripted rule decides, so one scripted datagram
 * never shifts the fates of the others. `planFates` predicts the fates without any carrier.
 *
 * Every datagram gets a record (`DatagramRecord`): its fate, and when each copy went out, or why not.
 * The records are the transcript both carriers render for failure messages.
 */
import { seededRandom } from './random.ts';

/** Random impairments of one direction. Every rate is a probability in [0, 1]. */
export interface Impairments {
  /** Probability that a datagram is lost. */
  loss?: number;
  /** Probability that a datagram goes twice (each copy with its own delay). */
  duplicate?: number;
  /** Probability that a datagram is held back until the next one in its direction has gone, so that one overtakes it. */
  reorder?: number;
  /** Probability that one byte is flipped (XORed with a non-zero mask). */
  corrupt?: number;
  /** Delay of each copy in ms: fixed, or [min, max] drawn uniformly (a spread reorders too). Default 0. */
  delayMs?: number | readonly [number, number];
}

/** What a scripted rule does to the datagram it names. Several rules for one datagram combine. */
export type ImpairAction =
  | { action: 'pass' }
  | { action: 'drop' }
  | { action: 'duplicate'; /** Copies sent in all (default 2). */ copies?: number }
  | { action: 'delay'; ms: number }
  | { action: 'hold' }
  | { action: 'corrupt'; /** Byte to flip (default: a seeded random one). */ offset?: number; /** Non-zero XOR mask (default: seeded). */ xor?: number };

/** A scripted rule: the `nth` datagram (1-based) travelling in `direction` gets `action`, instead of its random fate. */
export type ImpairRule<D extends string = string> = { direction: D; nth: number } & ImpairAction;

/** The decision for one datagram. */
export interface Fate {
  drop: boolean;
  /** When each copy goes, in ms after the datagram came: one entry per copy (two when duplicated), none when dropped. */
  delays: number[];
  /** Held back: all its copies go right after the next datagram of its direction goes, or holdMs after it came; `delays` do not apply. */
  hold: boolean;
  /** The byte flipped and its non-zero mask; null = intact (always for an empty datagram). */
  corrupt: { offset: number; xor: number } | null;
  /** Decided by a scripted rule rather than at random. */
  scripted: boolean;
}

/** How some copies of a datagram went out, or why they never did. */
export interface Outcome {
  /** Carrier time (ms) when it happened. */
  at: number;
  copies: number;
  how: 'now' | 'after its delay' | 'after the next one' | 'after the hold timed out' | 'overflow' | 'discarded';
}

/** The transcript entry of one datagram: what the model decided, and what became of it. */
export interface DatagramRecord {
  direction: string;
  /** 1-based count of datagrams in this direction. */
  nth: number;
  /** Carrier time (ms) when it came. */
  at: number;
  size: number;
  /** The carrier's description of the datagram ("data 0..500", or its first bytes), taken when it came. */
  label: string;
  fate: Fate;
  outcomes: Outcome[];
}

/** Counters of one direction. */
export interface LinkCounts {
  /** Datagrams that came in. */
  seen: number;
  /** Copies forwarded. */
  forwarded: number;
  dropped: number;
  /** Extra copies. */
  duplicated: number;
  /** Datagrams with at least one copy delayed. */
  delayed: number;
  held: number;
  corrupted: number;
  /** Dropped because `maxQueued` copies were already waiting. */
  overflowed: number;
  /** Copies still waiting at close, or sent in after it. */
  discarded: number;
}

/** The clock a link runs on: a FakeClock, or the real one. */
export interface LinkClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The longest delay a rule or distribution may ask for, so no timer outlives a test by much. */
export const MAX_DELAY_MS = 10_000;
/** Draws each datagram takes from its direction's PRNG, whatever its fate: the key to determinism. */
const DRAWS_PER_DATAGRAM = 8;
/** Defaults of a link. */
export const LINK_DEFAULTS = { holdMs: 100, maxQueued: 1000, maxRecords: 5000 } as const;

/** Throw a RangeError for impairments that make no sense. */
export function validateImpairments(where: string, imp: Impairments): void {
  for (const k of ['loss', 'duplicate', 'reorder', 'corrupt'] as const) {
    const v = imp[k];
    if (v !== undefined && !(v >= 0 && v <= 1)) throw new RangeError(`${where}.${k} must be a probability in [0, 1], got ${v}`);
  }
  const d = imp.delayMs;
  if (typeof d === 'number') validateDelay(`${where}.delayMs`, d);
  else if (d) {
    validateDelay(`${where}.delayMs[0]`, d[0]);
    validateDelay(`${where}.delayMs[1]`, d[1]);
    if (d[0] > d[1]) throw new RangeError(`${where}.delayMs is [min, max], got [${d[0]}, ${d[1]}]`);
  }
}

/** Throw a RangeError for a scripted rule that makes no sense. */
function validateRules(rules: readonly ImpairRule[]): void {
  for (const r of rules) {
    const what = `script rule for ${r.direction} #${r.nth}`;
    if (!Number.isInteger(r.nth) || r.nth < 1) throw new RangeError(`script nth is 1-based, got ${r.nth}`);
    if (r.action === 'delay') validateDelay(`${what}: delay`, r.ms);
    const copies = r.action === 'duplicate' ? (r.copies ?? 2) : 1;
    if (!(Number.isInteger(copies) && copies >= 1 && copies <= 100)) throw new RangeError(`${what}: duplicate copies must be 1..100, got ${copies}`);
    if (r.action === 'corrupt' && r.offset !== undefined && !(Number.isInteger(r.offset) && r.offset >= 0)) {
      throw new RangeError(`${what}: corrupt offset must be a whole number >= 0, got ${r.offset}`);
    }
    if (r.action === 'corrupt' && r.xor !== undefined && !(Number.isInteger(r.xor) && r.xor >= 1 && r.xor <= 255)) {
      throw new RangeError(`${what}: corrupt xor must be 1..255, got ${r.xor}`);
    }
  }
}

/** Throw a RangeError for a delay outside 0..MAX_DELAY_MS. */
function validateDelay(what: string, ms: number): void {
  if (!(ms >= 0 && ms <= MAX_DELAY_MS)) throw new RangeError(`${what} must be 0..${MAX_DELAY_MS} ms, got ${ms}`);
}

/** The PRNG of one direction: each direction name gets its own stream of draws from the one seed. */
function directionRandom(seed: number, direction: string): () => number {
  let salt = 0;
  for (const c of direction) salt = (Math.imul(salt, 31) + c.charCodeAt(0)) >>> 0;
  return seededRandom((seed ^ salt) >>> 0);
}

/**
 * The decision function: the fate of one datagram of `size` bytes from its DRAWS_PER_DATAGRAM draws,
 * or from the scripted rules that name it (which replace the random fate, and borrow only the
 * seeded byte position and mask of a corruption).
 */
export function decide(r: readonly number[], size: number, imp: Impairments, rules?: readonly ImpairAction[]): Fate {
  const [lo, hi] = typeof imp.delayMs === 'number' ? [imp.delayMs, imp.delayMs] : (imp.delayMs ?? [0, 0]);
  const delay = (x: number) => lo + Math.floor(x * (hi - lo + 1));
  const flip = (offset?: number, xor?: number) =>
    size === 0 ? null : { offset: Math.min(size - 1, offset ?? Math.floor(r[4]! * size)), xor: xor ?? 1 + Math.floor(r[5]! * 255) };
  if (!rules?.length) {
    const drop = r[0]! < (imp.loss ?? 0);
    return {
      drop,
      delays: drop ? [] : r[1]! < (imp.duplicate ?? 0) ? [delay(r[6]!), delay(r[7]!)] : [delay(r[6]!)],
      hold: !drop && r[2]! < (imp.reorder ?? 0),
      corrupt: !drop && r[3]! < (imp.corrupt ?? 0) ? flip() : null,
      scripted: false,
    };
  }
  let [drop, hold, copies, ms] = [false, false, 1, 0];
  let corrupt: Fate['corrupt'] = null;
  for (const rule of rules) {
    if (rule.action === 'drop') drop = true;
    else if (rule.action === 'duplicate') copies = rule.copies ?? 2;
    else if (rule.action === 'delay') ms = rule.ms;
    else if (rule.action === 'hold') hold = true;
    else if (rule.action === 'corrupt') corrupt = flip(rule.offset, rule.xor);
  }
  if (drop) return { drop, delays: [], hold: false, corrupt: null, scripted: true };
  return { drop, delays: Array.from({ length: copies }, () => ms), hold, corrupt, scripted: true };
}

/** What decides the fates of one direction. */
export interface FateOptions {
  /** Seed for every random decision (print it in failure messages). */
  seed: number;
  /** The direction's name ("toServer", "data"): it picks the PRNG stream and the rules that apply. */
  direction: string;
  impair?: Impairments;
  /** Scripted rules; those of other directions are ignored. */
  script?: readonly ImpairRule[];
}

/** The fates of one direction's datagrams, one after the other. */
export class FateSource {
  private readonly rand: () => number;
  private readonly rules = new Map<number, ImpairRule[]>();
  private count = 0;

  constructor(private readonly o: FateOptions) {
    validateImpairments(`impairments of ${o.direction}`, o.impair ?? {});
    validateRules(o.script ?? []);
    this.rand = directionRandom(o.seed, o.direction);
    for (const r of o.script ?? []) if (r.direction === o.direction) this.rules.set(r.nth, [...(this.rules.get(r.nth) ?? []), r]);
  }

  /** The fate of the next datagram, of `size` bytes, and its number. */
  next(size: number): { nth: number; fate: Fate } {
    const draws = Array.from({ length: DRAWS_PER_DATAGRAM }, this.rand);
    const nth = ++this.count;
    return { nth, fate: decide(draws, size, this.o.impair ?? {}, this.rules.get(nth)) };
  }
}

/** The fates of the first datagrams of a direction, as any carrier with these options will decide them. */
export function planFates(o: FateOptions, sizes: readonly number[]): Fate[] {
  const source = new FateSource(o);
  return sizes.map((size) => source.next(size).fate);
}

/** When each copy of a datagram was forwarded (the carrier's arrival or send time), in order. */
export function forwardedAt(r: DatagramRecord): number[] {
  return r.outcomes.filter((o) => o.how !== 'overflow' && o.how !== 'discarded').flatMap((o) => Array<number>(o.copies).fill(o.at));
}

/** One line of counts: "ping: 8 seen, 2 dropped, 1 held". */
export function describeCounts(name: string, c: LinkCounts): string {
  const extra = (['dropped', 'duplicated', 'delayed', 'held', 'corrupted', 'overflowed', 'discarded'] as const).filter((k) => c[k] > 0).map((k) => `${c[k]} ${k}`);
  return `${name}: ${c.seen} seen${extra.length ? `, ${extra.join(', ')}` : ''}`;
}

/** How to run one direction. */
export interface LinkOptions extends FateOptions {
  clock: LinkClock;
  /** Called with each copy that goes out: a fresh copy of the (possibly corrupted) bytes. */
  forward: (datagram: Uint8Array) => void;
  /** Describe a datagram for the transcript. */
  label?: (datagram: Uint8Array) => string;
  /** Longest a held datagram waits for a successor before it goes anyway. Default 100 ms. */
  holdMs?: number;
  /** Most copies that may wait (delayed or held) at once; a datagram that would exceed it is dropped. Default 1000. */
  maxQueued?: number;
  /** Records kept for the transcript; later ones are counted only. Default 5000. */
  maxRecords?: number;
}

interface Waiting {
  record: DatagramRecord;
  bytes: Uint8Array;
  copies: number;
  held: boolean;
  timer: unknown;
}

/** One direction of an impaired path: decides each datagram's fate and carries it out on its clock. */
export class ImpairedLink {
  readonly counts: LinkCounts = { seen: 0, forwarded: 0, dropped: 0, duplicated: 0, delayed: 0, held: 0, corrupted: 0, overflowed: 0, discarded: 0 };
  /** The transcript: one record per datagram (the first `maxRecords`). */
  readonly records: DatagramRecord[] = [];
  /** Records not kept because `maxRecords` were. */
  recordsOmitted = 0;
  private readonly fates: FateSource;
  private readonly waiting = new Set<Waiting>();
  private closed = false;

  constructor(private readonly o: LinkOptions) {
    this.fates = new FateSource(o);
    validateDelay('holdMs', o.holdMs ?? LINK_DEFAULTS.holdMs);
    const max = o.maxQueued ?? LINK_DEFAULTS.maxQueued;
    if (!(Number.isInteger(max) && max >= 0)) throw new RangeError(`maxQueued must be a whole number >= 0, got ${max}`);
  }

  /** Copies waiting (delayed or held) right now: one timer each. */
  get queued(): number {
    return this.waiting.size;
  }

  /** Take a datagram at the clock's current time, and carry out its fate. */
  send(datagram: Uint8Array): DatagramRecord {
    const { nth, fate } = this.fates.next(datagram.length);
    const now = this.o.clock.now();
    const record: DatagramRecord = { direction: this.o.direction, nth, at: now, size: datagram.length, label: this.o.label?.(datagram) ?? '', fate, outcomes: [] };
    const c = this.counts;
    c.seen++;
    if (this.records.length < (this.o.maxRecords ?? LINK_DEFAULTS.maxRecords)) this.records.push(record);
    else this.recordsOmitted++;
    if (fate.drop) {
      c.dropped++;
      return record;
    }
    if (this.closed) {
      c.discarded += fate.delays.length;
      record.outcomes.push({ at: now, copies: fate.delays.length, how: 'discarded' });
      return record;
    }
    const bytes = datagram.slice();
    if (fate.corrupt) {
      bytes[fate.corrupt.offset] ^= fate.corrupt.xor;
      c.corrupted++;
    }
    c.duplicated += fate.delays.length - 1;
    // Copies that wait, grouped by delay: one timer per group.
    const later = new Map<number, number>();
    if (!fate.hold) for (const d of fate.delays) if (d > 0) later.set(d, (later.get(d) ?? 0) + 1);
    const groups = fate.hold ? 1 : later.size;
    if (groups > 0 && this.waiting.size + groups > (this.o.maxQueued ?? LINK_DEFAULTS.maxQueued)) {
      c.overflowed++;
      record.outcomes.push({ at: now, copies: fate.delays.length, how: 'overflow' });
      return record;
    }
    if (fate.hold) {
      c.held++;
      this.wait(record, bytes, fate.delays.length, true, this.o.holdMs ?? LINK_DEFAULTS.holdMs);
      return record;
    }
    if (later.size) c.delayed++;
    const atOnce = fate.delays.length - [...later.values()].reduce((a, b) => a + b, 0);
    if (atOnce > 0) this.go(record, bytes, atOnce, 'now');
    for (const [ms, copies] of later) this.wait(record, bytes, copies, false, ms);
    return record;
  }

  /** Stop: discard what waits and clear its timers; later datagrams are recorded, never forwarded. Safe to call twice. */
  close(): void {
    this.closed = true;
    for (const w of this.waiting) {
      this.o.clock.clearTimeout(w.timer);
      this.counts.discarded += w.copies;
      w.record.outcomes.push({ at: this.o.clock.now(), copies: w.copies, how: 'discarded' });
    }
    this.waiting.clear();
  }

  private wait(record: DatagramRecord, bytes: Uint8Array, copies: number, held: boolean, ms: number): void {
    const w: Waiting = { record, bytes, copies, held, timer: undefined };
    w.timer = this.o.clock.setTimeout(() => this.release(w, held ? 'after the hold timed out' : 'after its delay'), ms);
    this.waiting.add(w);
  }

  private release(w: Waiting, how: Outcome['how']): void {
    if (!this.waiting.delete(w)) return;
    this.o.clock.clearTimeout(w.timer);
    this.go(w.record, w.bytes, w.copies, how);
  }

  /** Forward copies now; a datagram that was not held is "the next one" for every held datagram. */
  private go(record: DatagramRecord, bytes: Uint8Array, copies: number, how: Outcome['how']): void {
    record.outcomes.push({ at: this.o.clock.now(), copies, how });
    for (let i = 0; i < copies; i++) {
      this.counts.forwarded++;
      this.o.forward(bytes.slice());
    }
    if (how === 'now' || how === 'after its delay') {
      for (const w of [...this.waiting]) if (w.held) this.release(w, 'after the next one');
    }
  }
}
