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
 * What happens to each datagram is the impairment model's decision (impairment.ts), the same one
 * SimChannel makes for the same options and seed: per direction, the fate of the n-th datagram depends
 * only on the seed, the direction ('toServer' or 'toClient') and n, never on timing or on the other
 * direction, and `planFates` predicts it without any socket. Scripted rules (`script`) replace the
 * random fate of the datagrams they name, so a test can be exact: "drop the 3rd pong", "delay pong #2
 * by 300 ms", "duplicate pong #4".
 *
 * Bounded: at most `maxQueued` copies wait (delayed or held) at once in each direction; more are
 * dropped and counted as `overflowed`. Delays are capped at MAX_DELAY_MS. `close()` discards what
 * waits, clears every timer and closes the socket. `startLossyUdpRelay` registers that close with the
 * test cleanup, so a relay never outlives its test.
 *
 * Usage:
 *   const relay = await startLossyUdpRelay({ server: { port }, seed, impair: { loss: 0.2 },
 *     script: [{ direction: 'toClient', nth: 2, action: 'delay', ms: 300 }], names: { toServer: 'ping', toClient: 'pong' } });
 *   // point the client at relay.port; afterwards: relay.stats.toClient.dropped, relay.render()
 */
import dgram from 'node:dgram';
import { onCleanup } from './cleanup.ts';
import type { DatagramRecord, ImpairRule, Impairments, LinkClock, LinkCounts } from './impairment.ts';
import { ImpairedLink, LINK_DEFAULTS, describeCounts, validateImpairments } from './impairment.ts';

/** Which way a datagram travels: from the client to the server, or back. */
export type RelayDirection = 'toServer' | 'toClient';

/** A scripted rule of the relay: the `nth` datagram (1-based) travelling in `direction` gets `action`. */
export type RelayRule = ImpairRule<RelayDirection>;

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
  /** Most copies that may wait (delayed or held) at once in each direction. Default 1000. */
  maxQueued?: number;
  /** Labels in the transcript, e.g. { toServer: 'ping', toClient: 'pong' }. */
  names?: Partial<Record<RelayDirection, string>>;
  /** Address the relay binds. Default 127.0.0.1. */
  host?: string;
}

/** One line of the relay's timeline, for transcripts. */
export interface RelayEvent {
  /** Milliseconds since the relay started. */
  at: number;
  direction: RelayDirection;
  /** 1-based index of the datagram in its direction (0 for a note that concerns no datagram). */
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

const DIRECTIONS = ['toServer', 'toClient'] as const;

/** First bytes of a datagram, quoted when printable, else as hex. */
function preview(b: Uint8Array): string {
  const head = b.subarray(0, 24);
  const printable = head.every((c) => (c >= 0x20 && c < 0x7f) || c === 0x0a);
  const more = b.length > head.length ? '...' : '';
  if (printable) return JSON.stringify(Buffer.from(head).toString('latin1')) + more;
  return Buffer.from(head.subarray(0, 12)).toString('hex').replace(/(..)/g, '$1 ').trim() + (b.length > 12 ? ' ...' : '');
}

/** A datagram's record as timeline events: what was decided when it came, then each release or discard. */
function eventsOf(direction: RelayDirection, r: DatagramRecord, maxQueued: number): RelayEvent[] {
  const { fate } = r;
  const base = { direction, nth: r.nth, size: r.size, preview: r.label };
  const overflow = r.outcomes.some((o) => o.how === 'overflow');
  const delayed = fate.delays.some((d) => d > 0);
  const action: RelayEvent['action'] = fate.drop ? 'drop' : overflow ? 'overflow' : fate.hold ? 'hold' : delayed ? 'delay' : 'pass';
  const note =
    action === 'delay' ? `by ${fate.delays.join(' and ')} ms` : action === 'hold' ? 'until the next one goes' : action === 'overflow' ? `queue full (${maxQueued} waiting)` : undefined;
  const events: RelayEvent[] = [{ ...base, at: r.at, action, copies: Math.max(1, fate.delays.length), corrupted: fate.corrupt !== null, scripted: fate.scripted, note }];
  for (const o of r.outcomes) {
    if (o.how === 'now' || o.how === 'overflow') continue;
    const discard = o.how === 'discarded';
    events.push({ ...base, at: o.at, action: discard ? 'discard' : 'release', copies: o.copies, corrupted: false, scripted: false, note: discard ? 'still waiting at close' : o.how });
  }
  return events;
}

type Peer = { address: string; port: number };

/** A running relay. Create it with `startLossyUdpRelay`. */
export class LossyUdpRelay {
  /** Counters per direction. */
  readonly stats: Record<RelayDirection, LinkCounts>;
  /** Datagrams from neither the client nor the server (dropped). */
  strangers = 0;
  /** The port clients should send to (valid once started). */
  port = 0;
  /** The seed every random decision comes from. */
  readonly seed: number;

  private readonly socket: dgram.Socket;
  private readonly started = performance.now();
  /** Strangers and socket errors: timeline lines that concern no forwarded datagram. */
  private readonly notes: RelayEvent[] = [];
  private readonly links: Record<RelayDirection, ImpairedLink>;
  private readonly server: Peer;
  private client: Peer | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: LossyUdpRelayOptions) {
    for (const k of ['impair', 'toServer', 'toClient'] as const) validateImpairments(k, options[k] ?? {});
    this.seed = options.seed ?? 1;
    const clock: LinkClock = {
      now: () => performance.now() - this.started,
      setTimeout: (callback, ms) => setTimeout(callback, ms),
      clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
    };
    const link = (direction: RelayDirection) =>
      new ImpairedLink({
        seed: this.seed, direction, impair: options[direction] ?? options.impair, script: options.script,
        holdMs: options.holdMs, maxQueued: options.maxQueued, clock, label: preview, forward: (d) => this.send(direction, d),
      });
    this.links = { toServer: link('toServer'), toClient: link('toClient') };
    this.stats = { toServer: this.links.toServer.counts, toClient: this.links.toClient.counts };
    this.server = { address: options.server.host ?? '127.0.0.1', port: options.server.port };
    if (options.client) this.client = { address: options.client.host ?? '127.0.0.1', port: options.client.port };
    this.socket = dgram.createSocket(this.server.address.includes(':') ? 'udp6' : 'udp4');
    this.socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    // A relay never crashes a test: socket errors (a closed peer port) become notes in the transcript.
    this.socket.on('error', (err) => this.note('error', `socket error: ${err.message}`));
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

  /** How many copies are waiting (delayed or held) right now, both ways: one timer each. */
  get queued(): number {
    return this.links.toServer.queued + this.links.toClient.queued;
  }

  /** What happened to each datagram, one record per datagram (the model's transcript). */
  records(direction: RelayDirection): readonly DatagramRecord[] {
    return this.links[direction].records;
  }

  /** Every event so far in time order: each datagram's fate, its releases, strangers and socket errors. */
  transcript(): RelayEvent[] {
    const max = this.options.maxQueued ?? LINK_DEFAULTS.maxQueued;
    const events = [...this.notes, ...DIRECTIONS.flatMap((d) => this.links[d].records.flatMap((r) => eventsOf(d, r, max)))];
    return events.sort((a, b) => a.at - b.at);
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
    const lines = this.transcript().map(line);
    const omitted = this.links.toServer.recordsOmitted + this.links.toClient.recordsOmitted;
    if (omitted) lines.push(`  ... and ${omitted} later datagrams not kept`);
    const header = `  lossy relay 127.0.0.1:${this.port}, seed ${this.seed}; ${this.summary()}`;
    if (lines.length <= maxLines) return [header, ...lines].join('\n');
    const head = Math.floor(maxLines / 4);
    return [header, ...lines.slice(0, head), `  ... ${lines.length - maxLines} lines skipped ...`, ...lines.slice(-(maxLines - head))].join('\n');
  }

  /** One line of counts, e.g. for a failure message. */
  summary(): string {
    return DIRECTIONS.map((d) => describeCounts(this.options.names?.[d] ?? d, this.stats[d])).join('; ');
  }

  /** Discard waiting datagrams, clear every timer and close the socket. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.links.toServer.close();
      this.links.toClient.close();
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
    if (direction) this.links[direction].send(msg);
    else {
      this.strangers++;
      this.note('stranger', `from ${from.address}:${from.port}`, msg);
    }
  }

  private send(direction: RelayDirection, payload: Uint8Array): void {
    const to = direction === 'toServer' ? this.server : this.client;
    if (!to || this.closing) return;
    this.socket.send(payload, to.port, to.address, (err) => {
      if (err) this.note('error', `send to ${to.address}:${to.port} failed: ${err.message}`);
    });
  }

  private classify(from: dgram.RemoteInfo): RelayDirection | undefined {
    const same = (p: Peer) => p.port === from.port && p.address === from.address;
    if (same(this.server)) return this.client ? 'toClient' : undefined;
    this.client ??= { address: from.address, port: from.port };
    return same(this.client) ? 'toServer' : undefined;
  }

  private note(action: 'stranger' | 'error', text: string, payload: Uint8Array = new Uint8Array(0)): void {
    if (this.notes.length >= LINK_DEFAULTS.maxRecords) return;
    this.notes.push({
      at: performance.now() - this.started, direction: 'toServer', nth: 0, size: payload.length, action,
      copies: 1, corrupted: false, scripted: false, preview: preview(payload), note: text,
    });
  }
}

/** Start a relay on 127.0.0.1, port 0; it is closed by the test cleanup (or call `close()` yourself). */
export async function startLossyUdpRelay(options: LossyUdpRelayOptions): Promise<LossyUdpRelay> {
  const relay = new LossyUdpRelay(options);
  onCleanup('lossy UDP relay', () => relay.close());
  return relay.start();
}
