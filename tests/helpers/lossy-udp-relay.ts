/**
 * A lossy UDP relay for tests: it sits between a client and a server on loopback and forwards
 * datagrams both ways, losing, duplicating, reordering, delaying and corrupting some of them,
 * on purpose and reproducibly.
 *
 *   client  <-->  relay (127.0.0.1:relay.port)  <-->  server
 *
 * The client sends to the relay's port instead of the server's. The relay learns the client's
 * address from the first datagram that does not come from the server (or is told it up front);
 * datagrams from the server go to that client, everything else from the client goes to the server.
 * One socket does both jobs: the server sees the relay as its client.
 *
 * Determinism: the random fate of the n-th datagram in a direction depends only on the seed, the
 * direction and n (each datagram consumes the same number of draws from that direction's PRNG),
 * never on timing or on the other direction. `planFates` predicts it without any socket.
 * Scripted rules (`script`) replace the random fate of the datagrams they name, so a test can be
 * exact: "drop the 3rd pong", "delay pong #2 by 300 ms", "duplicate pong #4".
 *
 * Bounded: at most `maxQueued` datagrams wait (delayed or held) at once; more are dropped and
 * counted as `overflowed`. Delays are capped at MAX_DELAY_MS. `close()` discards what waits,
 * clears every timer and closes the socket. `startLossyUdpRelay` registers that close with the
 * test cleanup, so a relay never outlives its test.
 *
 * Usage:
 *   const relay = await startLossyUdpRelay({ server: { port }, seed, impair: { loss: 0.2 },
 *     script: [{ direction: 'toClient', nth: 2, action: 'delay', ms: 300 }], names: { toServer: 'ping', toClient: 'pong' } });
 *   // point the client at relay.port; afterwards: relay.stats.toClient.dropped, relay.render()
 */
import dgram from 'node:dgram';
import { onCleanup } from './cleanup.ts';
import { seededRandom } from './random.ts';

/** Which way a datagram travels: from the client to the server, or back. */
export type RelayDirection = 'toServer' | 'toClient';

/** Random impairments for one direction. Every rate is a probability in [0, 1]. */
export interface Impairments {
  /** Probability that a datagram is dropped. */
  loss?: number;
  /** Probability that a datagram is sent twice. */
  duplicate?: number;
  /** Probability that a datagram is held back and sent right after the next one in its direction. */
  reorder?: number;
  /** Probability that one byte is flipped (XORed with a non-zero value). */
  corrupt?: number;
  /** Extra delay per datagram in ms: a fixed value, or [min, max] drawn uniformly (a spread also reorders). */
  delayMs?: number | readonly [number, number];
}

/** What a scripted rule does to the datagram it names. Several rules for one datagram combine. */
export type RelayAction =
  | { action: 'pass' }
  | { action: 'drop' }
  | { action: 'duplicate'; /** Copies sent in all (default 2). */ copies?: number }
  | { action: 'delay'; ms: number }
  | { action: 'hold' }
  | { action: 'corrupt'; /** Byte to flip (default: a seeded random one). */ offset?: number; /** Non-zero XOR mask. */ xor?: number };

/** A scripted rule: the `nth` datagram (1-based) travelling in `direction` gets `action`. */
export type RelayRule = { direction: RelayDirection; nth: number } & RelayAction;

/** How to start a relay. */
export interface LossyUdpRelayOptions {
  /** Where the server listens. */
  server: { port: number; host?: string };
  /** The client's address, if known before it speaks (otherwise learned from its first datagram). */
  client?: { port: number; host?: string };
  /** Seed for every random decision (print it in failure messages). Default 1. */
  seed?: number;
  /** Random impairments in both directions... */
  impair?: Impairments;
  /** ...or per direction (these replace `impair` for that direction). */
  toServer?: Impairments;
  toClient?: Impairments;
  /** Exact per-datagram rules; they replace the random fate of the datagrams they name. */
  script?: RelayRule[];
  /** Longest a held datagram waits for a successor before it is sent anyway. Default 100 ms. */
  holdMs?: number;
  /** Most datagrams that may wait (delayed or held) at once. Default 1000. */
  maxQueued?: number;
  /** Labels in the transcript, e.g. { toServer: 'ping', toClient: 'pong' }. */
  names?: Partial<Record<RelayDirection, string>>;
  /** Address the relay binds. Default 127.0.0.1. */
  host?: string;
}

/** The decision for one datagram. */
export interface Fate {
  drop: boolean;
  /** How many copies are sent (2 when duplicated). */
  copies: number;
  /** Held back until the next datagram in this direction has been sent. */
  hold: boolean;
  delayMs: number;
  /** Which byte to flip (an explicit offset, else `fraction` of the length) and with what mask; null = intact. */
  corrupt: { offset?: number; fraction: number; xor: number } | null;
  /** Decided by a scripted rule rather than at random. */
  scripted: boolean;
}

/** What the relay did with one datagram, for transcripts. */
export interface RelayEvent {
  /** Milliseconds since the relay started. */
  at: number;
  direction: RelayDirection;
  /** 1-based index of the datagram in its direction. */
  nth: number;
  size: number;
  /** pass: sent now; release: sent after a delay or hold; discard: still waiting at close; stranger: unknown sender; error: a socket error. */
  action: 'pass' | 'drop' | 'delay' | 'hold' | 'release' | 'overflow' | 'discard' | 'stranger' | 'error';
  copies: number;
  corrupted: boolean;
  scripted: boolean;
  /** The first bytes, as text or hex. */
  preview: string;
  note?: string;
}

/** Counters for one direction. */
export interface RelayCounts {
  /** Datagrams received from the sender. */
  seen: number;
  /** Datagrams sent onward, copies included. */
  forwarded: number;
  dropped: number;
  /** Extra copies sent. */
  duplicated: number;
  delayed: number;
  held: number;
  corrupted: number;
  /** Dropped because `maxQueued` datagrams were already waiting. */
  overflowed: number;
  /** Still waiting when the relay closed. */
  discarded: number;
}

/** The longest delay a rule or distribution may ask for, so no timer outlives a test by much. */
export const MAX_DELAY_MS = 10_000;
/** Events kept for the transcript; later ones are counted, not stored. */
const MAX_EVENTS = 5_000;
/** Draws each datagram takes from its direction's PRNG, whatever its fate: the key to determinism. */
const DRAWS_PER_DATAGRAM = 7;

const zeroCounts = (): RelayCounts => ({
  seen: 0, forwarded: 0, dropped: 0, duplicated: 0, delayed: 0, held: 0, corrupted: 0, overflowed: 0, discarded: 0,
});

/** The PRNG of one direction; the directions never share draws. */
function directionRandom(seed: number, direction: RelayDirection): () => number {
  return seededRandom((seed + (direction === 'toServer' ? 0x9e3779b9 : 0x7f4a7c15)) >>> 0);
}

/** Draw the random fate of the next datagram: always DRAWS_PER_DATAGRAM draws, in a fixed order. */
function drawFate(rand: () => number, imp: Impairments): Fate {
  const r = Array.from({ length: DRAWS_PER_DATAGRAM }, rand);
  const [lo, hi] = typeof imp.delayMs === 'number' ? [imp.delayMs, imp.delayMs] : (imp.delayMs ?? [0, 0]);
  return {
    drop: r[0]! < (imp.loss ?? 0),
    copies: r[1]! < (imp.duplicate ?? 0) ? 2 : 1,
    hold: r[2]! < (imp.reorder ?? 0),
    corrupt: r[3]! < (imp.corrupt ?? 0) ? { fraction: r[4]!, xor: 1 + Math.floor(r[5]! * 255) } : null,
    delayMs: lo + Math.floor(r[6]! * (hi - lo + 1)),
    scripted: false,
  };
}

/** The random fates of the first `count` datagrams in `direction`, as a relay with this seed will draw them. */
export function planFates(seed: number, direction: RelayDirection, impairments: Impairments, count: number): Fate[] {
  const rand = directionRandom(seed, direction);
  return Array.from({ length: count }, () => drawFate(rand, impairments));
}

/** Combine the scripted rules for one datagram into its fate (the random one lends the corrupt position). */
function scriptedFate(rules: RelayRule[], random: Fate): Fate {
  const fate: Fate = { drop: false, copies: 1, hold: false, delayMs: 0, corrupt: null, scripted: true };
  for (const r of rules) {
    if (r.action === 'drop') fate.drop = true;
    else if (r.action === 'duplicate') fate.copies = r.copies ?? 2;
    else if (r.action === 'delay') fate.delayMs = r.ms;
    else if (r.action === 'hold') fate.hold = true;
    else if (r.action === 'corrupt') {
      fate.corrupt = { offset: r.offset, fraction: random.corrupt?.fraction ?? 0.5, xor: r.xor ?? random.corrupt?.xor ?? 0xff };
    }
  }
  return fate;
}

function validate(o: LossyUdpRelayOptions): void {
  const rate = (name: string, v: number | undefined) => {
    if (v !== undefined && !(v >= 0 && v <= 1)) throw new RangeError(`lossy relay: ${name} must be a probability in [0, 1], got ${v}`);
  };
  const delay = (name: string, v: number) => {
    if (!(v >= 0 && v <= MAX_DELAY_MS)) throw new RangeError(`lossy relay: ${name} must be 0..${MAX_DELAY_MS} ms, got ${v}`);
  };
  for (const [dir, imp] of [['impair', o.impair], ['toServer', o.toServer], ['toClient', o.toClient]] as const) {
    if (!imp) continue;
    for (const k of ['loss', 'duplicate', 'reorder', 'corrupt'] as const) rate(`${dir}.${k}`, imp[k]);
    const d = imp.delayMs;
    if (typeof d === 'number') delay(`${dir}.delayMs`, d);
    else if (d) (delay(`${dir}.delayMs[0]`, d[0]), delay(`${dir}.delayMs[1]`, d[1]));
    if (Array.isArray(d) && d[0] > d[1]) throw new RangeError(`lossy relay: ${dir}.delayMs is [min, max], got [${d[0]}, ${d[1]}]`);
  }
  for (const r of o.script ?? []) {
    if (!Number.isInteger(r.nth) || r.nth < 1) throw new RangeError(`lossy relay: script nth is 1-based, got ${r.nth}`);
    if (r.action === 'delay') delay(`script delay of ${r.direction} #${r.nth}`, r.ms);
    if (r.action === 'duplicate' && !(Number.isInteger(r.copies ?? 2) && (r.copies ?? 2) >= 1 && (r.copies ?? 2) <= 100)) {
      throw new RangeError(`lossy relay: duplicate copies must be 1..100, got ${r.copies}`);
    }
  }
  if (o.holdMs !== undefined) delay('holdMs', o.holdMs);
  if (o.maxQueued !== undefined && !(Number.isInteger(o.maxQueued) && o.maxQueued >= 0)) {
    throw new RangeError(`lossy relay: maxQueued must be a whole number >= 0, got ${o.maxQueued}`);
  }
}

/** First bytes of a datagram, quoted when printable, else as hex. */
function preview(b: Uint8Array): string {
  const head = b.subarray(0, 24);
  const printable = head.every((c) => (c >= 0x20 && c < 0x7f) || c === 0x0a);
  const more = b.length > head.length ? '...' : '';
  if (printable) return JSON.stringify(Buffer.from(head).toString('latin1')) + more;
  return Buffer.from(head.subarray(0, 12)).toString('hex').replace(/(..)/g, '$1 ').trim() + (b.length > 12 ? ' ...' : '');
}

interface Waiting {
  direction: RelayDirection;
  nth: number;
  payload: Buffer;
  copies: number;
  timer: NodeJS.Timeout;
}

type Peer = { address: string; port: number };

/** A running relay. Create it with `startLossyUdpRelay`. */
export class LossyUdpRelay {
  /** Counters per direction. */
  readonly stats: Record<RelayDirection, RelayCounts> = { toServer: zeroCounts(), toClient: zeroCounts() };
  /** Datagrams from neither the client nor the server (dropped). */
  strangers = 0;
  /** The port clients should send to (valid once started). */
  port = 0;
  /** The seed every random decision comes from. */
  readonly seed: number;

  private readonly socket: dgram.Socket;
  private readonly started = performance.now();
  private readonly events: RelayEvent[] = [];
  private eventsOmitted = 0;
  private readonly rand: Record<RelayDirection, () => number>;
  private readonly impairments: Record<RelayDirection, Impairments>;
  private readonly rules = new Map<string, RelayRule[]>();
  private readonly waiting = new Set<Waiting>();
  private readonly held: Record<RelayDirection, Waiting[]> = { toServer: [], toClient: [] };
  private readonly server: Peer;
  private client: Peer | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: LossyUdpRelayOptions) {
    validate(options);
    this.seed = options.seed ?? 1;
    this.rand = { toServer: directionRandom(this.seed, 'toServer'), toClient: directionRandom(this.seed, 'toClient') };
    this.impairments = { toServer: options.toServer ?? options.impair ?? {}, toClient: options.toClient ?? options.impair ?? {} };
    for (const r of options.script ?? []) {
      const key = `${r.direction}:${r.nth}`;
      this.rules.set(key, [...(this.rules.get(key) ?? []), r]);
    }
    this.server = { address: options.server.host ?? '127.0.0.1', port: options.server.port };
    if (options.client) this.client = { address: options.client.host ?? '127.0.0.1', port: options.client.port };
    this.socket = dgram.createSocket(this.server.address.includes(':') ? 'udp6' : 'udp4');
    this.socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    // A relay never crashes a test: socket errors (a closed peer port) become notes in the transcript.
    this.socket.on('error', (err) => this.note(`socket error: ${err.message}`));
  }

  /** Bind on port 0 (or `port`) and resolve once listening. */
  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(port, this.options.host ?? '127.0.0.1', () => {
        this.socket.off('error', reject);
        resolve();
      });
    });
    this.port = this.socket.address().port;
    return this;
  }

  /** The client's address, once known. */
  get clientAddress(): Peer | undefined {
    return this.client;
  }

  /** How many datagrams are waiting (delayed or held) right now. */
  get queued(): number {
    return this.waiting.size;
  }

  /** Every event so far (the first 5000; later ones are only counted). */
  transcript(): readonly RelayEvent[] {
    return this.events;
  }

  /** The transcript as text for a failure message; long ones keep their head and tail. */
  render(maxLines = 80): string {
    const name = (d: RelayDirection) => this.options.names?.[d] ?? (d === 'toServer' ? 'client->server' : 'server->client');
    const width = Math.max(name('toServer').length, name('toClient').length);
    const verb: Record<RelayEvent['action'], string> = {
      pass: 'passed', drop: 'DROPPED', delay: 'delayed', hold: 'held', release: 'sent', overflow: 'DROPPED (overflow)',
      discard: 'discarded', stranger: 'ignored stranger', error: 'error',
    };
    const line = (e: RelayEvent) => {
      const what = [
        verb[e.action],
        e.note ?? '',
        e.copies > 1 ? `x${e.copies} (duplicated)` : '',
        e.corrupted ? 'corrupted' : '',
        e.scripted ? '[script]' : '',
      ].filter(Boolean).join(' ');
      const who = e.nth ? `${name(e.direction).padEnd(width)} #${String(e.nth).padEnd(3)}` : `${''.padEnd(width)}     `;
      return `  +${e.at.toFixed(1).padStart(8)} ms  ${who} ${String(e.size).padStart(5)} B  ${what.padEnd(34)} ${e.preview}`;
    };
    const lines = this.events.map(line);
    if (this.eventsOmitted) lines.push(`  ... and ${this.eventsOmitted} later events not kept`);
    const header = `  lossy relay 127.0.0.1:${this.port}, seed ${this.seed}; ${this.summary()}`;
    if (lines.length <= maxLines) return [header, ...lines].join('\n');
    const head = Math.floor(maxLines / 4);
    return [header, ...lines.slice(0, head), `  ... ${lines.length - maxLines} lines skipped ...`, ...lines.slice(-(maxLines - head))].join('\n');
  }

  /** One line of counts, e.g. for a failure message. */
  summary(): string {
    const name = (d: RelayDirection) => this.options.names?.[d] ?? d;
    return (['toServer', 'toClient'] as const)
      .map((d) => {
        const c = this.stats[d];
        const extra = (['dropped', 'duplicated', 'delayed', 'held', 'corrupted', 'overflowed', 'discarded'] as const)
          .filter((k) => c[k] > 0)
          .map((k) => `${c[k]} ${k}`);
        return `${name(d)}: ${c.seen} seen${extra.length ? `, ${extra.join(', ')}` : ''}`;
      })
      .join('; ');
  }

  /** Discard waiting datagrams, clear every timer and close the socket. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const w of this.waiting) {
        clearTimeout(w.timer);
        this.stats[w.direction].discarded++;
        this.record(w.direction, w.nth, w.payload, 'discard', { note: 'still waiting at close' });
      }
      this.waiting.clear();
      this.held.toServer.length = 0;
      this.held.toClient.length = 0;
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // never bound, or already closed
      }
    });
    return this.closing;
  }

  private onDatagram(msg: Buffer, from: dgram.RemoteInfo): void {
    const direction = this.classify(from);
    if (!direction) {
      this.strangers++;
      this.record('toServer', 0, msg, 'stranger', { note: `from ${from.address}:${from.port}` });
      return;
    }
    const counts = this.stats[direction];
    const nth = ++counts.seen;
    // Draw the random fate even when a rule decides, so later datagrams keep their planned fates.
    const random = drawFate(this.rand[direction], this.impairments[direction]);
    const rules = this.rules.get(`${direction}:${nth}`);
    const fate = rules ? scriptedFate(rules, random) : random;
    const flags = { copies: fate.copies, scripted: fate.scripted };

    if (fate.drop) {
      counts.dropped++;
      this.record(direction, nth, msg, 'drop', flags);
      return;
    }
    const payload = fate.corrupt && msg.length > 0 ? corrupted(msg, fate.corrupt) : msg;
    const flagged = { ...flags, corrupted: payload !== msg };
    if (payload !== msg) counts.corrupted++;
    if (fate.copies > 1) counts.duplicated += fate.copies - 1;

    if (!fate.hold && fate.delayMs === 0) {
      this.record(direction, nth, payload, 'pass', flagged);
      this.send(direction, payload, fate.copies);
      this.releaseHeld(direction);
      return;
    }
    if (this.waiting.size >= (this.options.maxQueued ?? 1000)) {
      counts.overflowed++;
      this.record(direction, nth, payload, 'overflow', { ...flagged, note: `queue full (${this.waiting.size} waiting)` });
      return;
    }
    const wait = fate.hold ? (this.options.holdMs ?? 100) : fate.delayMs;
    const w: Waiting = { direction, nth, payload, copies: fate.copies, timer: setTimeout(() => this.release(w, fate.hold), wait) };
    this.waiting.add(w);
    if (fate.hold) {
      counts.held++;
      this.held[direction].push(w);
      this.record(direction, nth, payload, 'hold', { ...flagged, note: 'until the next one goes' });
    } else {
      counts.delayed++;
      this.record(direction, nth, payload, 'delay', { ...flagged, note: `by ${wait} ms` });
    }
  }

  /** Send a waiting datagram now: its delay is over, its hold timed out, or its successor passed. */
  private release(w: Waiting, wasHeld: boolean, why = wasHeld ? 'after the hold timed out' : 'after its delay'): void {
    if (!this.waiting.delete(w)) return;
    clearTimeout(w.timer);
    if (wasHeld) this.held[w.direction].splice(this.held[w.direction].indexOf(w), 1);
    this.record(w.direction, w.nth, w.payload, 'release', { copies: w.copies, note: why });
    this.send(w.direction, w.payload, w.copies);
    // A delayed datagram that goes out is "the next one" for anything held behind it.
    if (!wasHeld) this.releaseHeld(w.direction);
  }

  private releaseHeld(direction: RelayDirection): void {
    for (const w of [...this.held[direction]]) this.release(w, true, 'after the next one');
  }

  private send(direction: RelayDirection, payload: Buffer, copies: number): void {
    const to = direction === 'toServer' ? this.server : this.client;
    if (!to || this.closing) return;
    for (let i = 0; i < copies; i++) {
      this.socket.send(payload, to.port, to.address, (err) => {
        if (err) this.note(`send to ${to.address}:${to.port} failed: ${err.message}`);
      });
      this.stats[direction].forwarded++;
    }
  }

  private classify(from: dgram.RemoteInfo): RelayDirection | undefined {
    const same = (p: Peer) => p.port === from.port && p.address === from.address;
    if (same(this.server)) return this.client ? 'toClient' : undefined;
    this.client ??= { address: from.address, port: from.port };
    return same(this.client) ? 'toServer' : undefined;
  }

  private record(
    direction: RelayDirection,
    nth: number,
    payload: Uint8Array,
    action: RelayEvent['action'],
    o: { copies?: number; corrupted?: boolean; scripted?: boolean; note?: string } = {},
  ): void {
    if (this.events.length >= MAX_EVENTS) {
      this.eventsOmitted++;
      return;
    }
    this.events.push({
      at: performance.now() - this.started,
      direction,
      nth,
      size: payload.length,
      action,
      copies: o.copies ?? 1,
      corrupted: o.corrupted ?? false,
      scripted: o.scripted ?? false,
      preview: preview(payload),
      note: o.note,
    });
  }

  private note(text: string): void {
    this.record('toServer', 0, new Uint8Array(0), 'error', { note: text });
  }
}

/** A copy of `msg` with one byte XORed. */
function corrupted(msg: Buffer, c: NonNullable<Fate['corrupt']>): Buffer {
  const out = Buffer.from(msg);
  const at = Math.min(out.length - 1, c.offset ?? Math.floor(c.fraction * out.length));
  out[at] ^= c.xor;
  return out;
}

/** Start a relay on 127.0.0.1, port 0; it is closed by the test cleanup (or call `close()` yourself). */
export async function startLossyUdpRelay(options: LossyUdpRelayOptions): Promise<LossyUdpRelay> {
  const relay = new LossyUdpRelay(options);
  onCleanup('lossy UDP relay', () => relay.close());
  return relay.start();
}
