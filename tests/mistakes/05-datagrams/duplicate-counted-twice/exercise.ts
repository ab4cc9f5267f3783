// Known mistake: a second copy of a pong is counted as another reply (received goes up again), not as a duplicate.
/**
 * Chapter 05 · Datagrams without promises.
 *
 * A UDP echo server, and a pinger that sends numbered pings, matches each pong to its ping by
 * sequence number, gives every ping its own timeout, and reports round-trip times, loss, late
 * replies and duplicates. Read chapters/05-datagrams/lesson.md first.
 */
import dgram from 'node:dgram';

/** The largest payload of one UDP datagram over IPv4: 65535 - 20 (IPv4 header) - 8 (UDP header). RFC 768; RFC 791 §3.1. */
export const MAX_UDP_PAYLOAD = 65_507;

/** Every ping's payload is this prefix followed by its sequence number in decimal: "PING 7". */
export const PING_PREFIX = 'PING ';

/** The largest sequence number a ping may carry (nine decimal digits keep pongs small and parsing simple). */
export const MAX_SEQ = 999_999_999;

/** Defaults, as in the classic UDP pinger lab: ten pings, one a second, each given one second to come back. */
export const PING_DEFAULTS = { host: '127.0.0.1', count: 10, intervalMs: 1_000, timeoutMs: 1_000 } as const;

/** The value a PingRangeError is about: a ping's sequence number, or one of the pinger's options. */
export type PingField = 'seq' | 'count' | 'intervalMs' | 'timeoutMs';

/**
 * A sequence number or a pinger option outside its range: `encodePing` throws it, `run()` rejects with it.
 * It is a RangeError with a stable `code`; check `code` and `field`, never the message.
 */
export class PingRangeError extends RangeError {
  override name = 'PingRangeError';
  /** Stable code; check this, not the message. */
  readonly code = 'ERR_PING_RANGE';

  constructor(
    /** Which value is out of range. */
    readonly field: PingField,
    /** The value that was given. */
    readonly value: unknown,
    /** What would have been accepted, e.g. "a whole number from 1 to 999999999". */
    readonly allowed: string,
  ) {
    super(`${field} = ${String(value)} is out of range: ${allowed}`);
  }
}

/** What to ping, how often, and how long to wait for each pong. */
export interface PingOptions {
  /** The port of the echo server (or of a relay in front of it). */
  port: number;
  /** Its IP address. Default 127.0.0.1. */
  host?: string;
  /** How many pings to send, numbered 1..count. Default 10. */
  count?: number;
  /** Time between one ping and the next, in ms. Default 1000. */
  intervalMs?: number;
  /** How long each ping waits for its own pong, counted from when that ping was sent, in ms. Default 1000. */
  timeoutMs?: number;
}

/** The fate of one ping: its pong came back in time (with the round-trip time), or it timed out. */
export type PingResult = { seq: number; status: 'replied'; rttMs: number } | { seq: number; status: 'timeout' };

/** Everything a run of the pinger saw. */
export interface PingReport {
  /** One result per ping, in sequence-number order (seq 1..count). */
  results: PingResult[];
  /** Pings sent. */
  sent: number;
  /** Pings whose pong came back before their timeout, each counted once. */
  received: number;
  /** Pings that timed out: as far as the pinger can ever know, lost. */
  lost: number;
  /** Pongs that arrived after their ping had timed out (ignored: never credited to any ping). */
  late: number;
  /** Extra copies of a pong whose ping was already answered (ignored). */
  duplicates: number;
  /** Datagrams that were not a pong for any ping we sent (ignored). */
  stray: number;
}

/** The payload of ping number `seq`: "PING <seq>" in ASCII. Throws PingRangeError (field 'seq') unless seq is a whole number 1..MAX_SEQ. */
export function encodePing(seq: number): Buffer {
  // Put the number in the datagram itself: it is the only thing a pong can be matched by.
  if (!Number.isInteger(seq) || seq < 1 || seq > MAX_SEQ) throw new PingRangeError('seq', seq, `a whole number from 1 to ${MAX_SEQ}`);
  return Buffer.from(`${PING_PREFIX}${seq}`, 'latin1');
}

/** The sequence number carried by a pong, or undefined when the datagram is not a well-formed "PING <seq>". */
export function decodePong(payload: Uint8Array): number | undefined {
  // Anyone can send us a datagram: check every byte rather than trust it.
  const prefix = PING_PREFIX.length;
  const digits = payload.length - prefix;
  if (digits < 1 || digits > String(MAX_SEQ).length) return undefined;
  for (let i = 0; i < prefix; i++) if (payload[i] !== PING_PREFIX.charCodeAt(i)) return undefined;
  if (payload[prefix] === 0x30) return undefined; // no leading zero, so each number has exactly one spelling
  let seq = 0;
  for (let i = prefix; i < payload.length; i++) {
    const d = payload[i]! - 0x30;
    if (d < 0 || d > 9) return undefined;
    seq = seq * 10 + d;
  }
  return seq;
}

/** A UDP echo server: every datagram it receives goes straight back to its sender, unchanged. */
export class UdpEchoServer {
  /** The server's socket once `listen()` has resolved (tests look at it). */
  socket: dgram.Socket | undefined;

  /** `host` is the address to bind: loopback unless you mean to serve other machines. */
  constructor(readonly host = '127.0.0.1') {}

  /** Bind `port` (0 = any free port) and resolve with the port actually bound; reject with the bind error (e.g. EADDRINUSE). */
  async listen(port = 0): Promise<number> {
    const socket = dgram.createSocket(this.host.includes(':') ? 'udp6' : 'udp4');
    this.socket = socket;
    // One datagram in, the same datagram out: no connection, no stream, so no framing to undo.
    socket.on('message', (msg, from) => socket.send(msg, from.port, from.address));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, this.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // After binding, a send error (say, a client that is gone) concerns one datagram, not the server.
    socket.on('error', () => {});
    return socket.address().port;
  }

  /** Stop serving: close the socket and resolve once it is closed. Resolves too when there is nothing (left) to close. */
  close(): Promise<void> {
    const socket = this.socket;
    if (!socket) return Promise.resolve();
    return new Promise<void>((resolve) => {
      try {
        socket.close(resolve);
      } catch {
        resolve(); // already closed: closing twice is not an error for the caller
      }
    });
  }
}

/** Sends numbered pings to an echo server and measures what comes back. */
export class Pinger {
  /** The pinger's socket once `run()` has started (tests check that it is closed at the end). */
  socket: dgram.Socket | undefined;

  constructor(readonly options: PingOptions) {}

  /**
   * Send the pings, wait until each is answered or timed out, clear every timer, close the socket, and report.
   * Rejects with PingRangeError for a bad option (before opening anything), and with the socket's error if it fails.
   */
  run(): Promise<PingReport> {
    const { port, host, count, intervalMs, timeoutMs } = { ...PING_DEFAULTS, ...this.options };
    // Refuse nonsense before opening anything, so a bad call leaves nothing to clean up.
    if (!Number.isInteger(count) || count < 0 || count > MAX_SEQ) return Promise.reject(new PingRangeError('count', count, `a whole number from 0 to ${MAX_SEQ}`));
    if (!(intervalMs >= 0)) return Promise.reject(new PingRangeError('intervalMs', intervalMs, 'a number of ms, 0 or more'));
    if (!(timeoutMs > 0)) return Promise.reject(new PingRangeError('timeoutMs', timeoutMs, 'a number of ms above 0'));
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    this.socket = socket;
    // What became of each ping, by seq: filled in when its pong arrives or its timer fires.
    const results = new Map<number, PingResult>();
    const report: Omit<PingReport, 'results'> = { sent: 0, received: 0, lost: 0, late: 0, duplicates: 0, stray: 0 };
    // The pings still waiting for their pong, by seq; each has its own timer.
    const waiting = new Map<number, { sentAt: number; timer: NodeJS.Timeout }>();
    // When each ping left, kept for the whole run so any pong can be timed.
    const sentAt = new Map<number, number>();
    let nextPing: NodeJS.Timeout | undefined;

    return new Promise<PingReport>((resolve, reject) => {
      const stop = () => {
        clearTimeout(nextPing);
        for (const w of waiting.values()) clearTimeout(w.timer);
        waiting.clear();
        socket.close();
      };
      const finishIfDone = () => {
        // Done when every ping is sent and none is still waiting: each one replied or timed out.
        if (report.sent < count || waiting.size > 0) return;
        stop();
        resolve({ ...report, results: [...results.values()].sort((a, b) => a.seq - b.seq) });
      };

      const onPong = (msg: Buffer) => {
        const seq = decodePong(msg);
        const ping = seq === undefined ? undefined : waiting.get(seq);
        if (seq !== undefined && ping) {
          // Matched by the number it carries, not by when it arrived.
          clearTimeout(ping.timer);
          waiting.delete(seq);
          results.set(seq, { seq, status: 'replied', rttMs: performance.now() - ping.sentAt });
          report.received++;
          finishIfDone();
          return;
        }
        // Not waited for: a copy of an answered pong, a pong that missed its deadline, or junk.
        const earlier = seq === undefined ? undefined : results.get(seq);
        if (seq !== undefined && earlier?.status === 'replied') {
          // Another pong for this ping: count it and keep the newest RTT.
          results.set(seq, { seq, status: 'replied', rttMs: performance.now() - sentAt.get(seq)! });
          report.received++;
        }
        else if (earlier?.status === 'timeout') report.late++;
        else report.stray++;
      };

      const timeOut = (seq: number) => {
        // Silence is the only signal UDP gives: past its deadline, the ping counts as lost for good.
        waiting.delete(seq);
        results.set(seq, { seq, status: 'timeout' });
        report.lost++;
        finishIfDone();
      };

      const sendPing = () => {
        const seq = ++report.sent;
        // One timer per ping, started when that ping leaves: each gets exactly timeoutMs.
        sentAt.set(seq, performance.now());
        waiting.set(seq, { sentAt: performance.now(), timer: setTimeout(() => timeOut(seq), timeoutMs) });
        // A ping that cannot be sent is simply lost; its timer will say so.
        socket.send(encodePing(seq), port, host, () => {});
        if (report.sent < count) nextPing = setTimeout(sendPing, intervalMs);
      };

      socket.on('message', onPong);
      socket.on('error', (err) => {
        stop();
        reject(err);
      });
      if (count > 0) sendPing();
      else finishIfDone();
    });
  }
}
