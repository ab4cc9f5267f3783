/**
 * Chapter 05 · Datagrams without promises.
 *
 * A UDP echo server, and a pinger that sends numbered pings, matches each pong to its ping by
 * sequence number, gives every ping its own timeout, and reports round-trip times, loss, late
 * replies and duplicates. Read chapters/05-datagrams/lesson.md first.
 */
import dgram from 'node:dgram';
import { todo } from '../workbook.ts';

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
  // TODO: throw PingRangeError('seq', ...) for a seq that is not a whole number 1..MAX_SEQ; else return a new Buffer with "PING <seq>" in ASCII.
  return todo(import.meta.url, 'encodePing');
}

/** The sequence number carried by a pong, or undefined when the datagram is not a well-formed "PING <seq>". */
export function decodePong(payload: Uint8Array): number | undefined {
  // TODO: return <seq> from a payload that is exactly "PING <seq>" (1..MAX_SEQ, no leading zero), else undefined.
  return todo(import.meta.url, 'decodePong');
}

/** A UDP echo server: every datagram it receives goes straight back to its sender, unchanged. */
export class UdpEchoServer {
  /** The server's socket once `listen()` has resolved (tests look at it). */
  socket: dgram.Socket | undefined;

  /** `host` is the address to bind: loopback unless you mean to serve other machines. */
  constructor(readonly host = '127.0.0.1') {}

  /** Bind `port` (0 = any free port) and resolve with the port actually bound; reject with the bind error (e.g. EADDRINUSE). */
  async listen(port = 0): Promise<number> {
    // TODO: create a UDP socket ('udp6' if this.host is IPv6) in this.socket, send every datagram back to its sender,
    // bind `port` on this.host and resolve with the bound port (reject if binding fails). After that, an 'error' must not stop the server.
    return todo(import.meta.url, 'UdpEchoServer.listen');
  }

  /** Stop serving: close the socket and resolve once it is closed. Resolves too when there is nothing (left) to close. */
  close(): Promise<void> {
    // TODO: close this.socket and resolve once it is closed; before listen() or a second time, just resolve.
    return todo(import.meta.url, 'UdpEchoServer.close');
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
    // TODO: check the options (count 0..MAX_SEQ whole, intervalMs >= 0, timeoutMs > 0; else reject with PingRangeError);
    // open a UDP socket (this.socket; 'udp6' for an IPv6 host); send ping 1..count every intervalMs, each with its own timeoutMs timer;
    // match pongs by the seq inside them; count late, duplicate and stray datagrams; once all are answered or timed out,
    // clear every timer, close the socket and resolve with the report. On a socket 'error': clean up the same way and reject with it.
    return todo(import.meta.url, 'Pinger.run');
  }
}
