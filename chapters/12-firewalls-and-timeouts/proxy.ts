/**
 * Chapter 12 · When the port goes dark: a filtering TCP proxy.
 *
 * It stands in front of one real server and asks a Firewall (./exercise.ts) about every connection
 * that arrives: 'accept' pipes it to the server, both ways; 'reject' resets it at once, so the client
 * fails fast with ECONNRESET; 'drop' holds it open in silence, so the client waits for its own timeout.
 */
import net from 'node:net';
import { todo } from '../workbook.ts';
import type { Firewall } from './exercise.ts';

/** The IPv4 loopback address: the proxy listens here unless told otherwise (RFC 1122 §3.2.1.3). */
export const LOOPBACK = '127.0.0.1';

/** A TCP endpoint. */
export interface Endpoint {
  host: string;
  port: number;
}

/** How to make a proxy. */
export interface ProxyOptions {
  /** Decides on every connection. */
  firewall: Firewall;
  /** The real server behind the proxy. */
  target: Endpoint;
  /** Where the proxy listens. Default LOOPBACK. */
  host?: string;
  /** Port to listen on. Default 0 (any free port). */
  port?: number;
}

/** What the proxy did so far: connections by verdict, and how many are open now (held or piped). */
export interface ProxyStats {
  accept: number;
  reject: number;
  drop: number;
  open: number;
}

/** A TCP proxy that enforces a Firewall's verdicts on the connections it receives. */
export class FilteringProxy {
  /** How this proxy was asked to work. */
  readonly options: ProxyOptions;

  // Your state goes here, as private fields: the net.Server, every socket you hold (client and upstream sides),
  // the counts of verdicts, and how many connections are open.

  /** Create a proxy; nothing listens until start(). */
  constructor(options: ProxyOptions) {
    this.options = options;
  }

  /** Listen; resolves with the address actually bound (the real port when port 0 was asked). */
  async start(): Promise<Endpoint> {
    // TODO: net.createServer (think about allowHalfOpen: the client ends its request and still waits for the reply),
    // listen on host ?? LOOPBACK and port ?? 0, resolve with server.address() as { host, port }, or reject with the
    // server's 'error' if it comes before 'listening'. For each connection, listen for 'error' on its socket, then
    // firewall.check({ direction: 'in', source: remote address and port, destination: target host and port })
    // (if check throws, treat it as 'reject'), and: 'reject': socket.resetAndDestroy(); 'drop': keep it open, read
    // and discard, answer nothing, never end it; 'accept': net.connect to the target (half-open too) and pipe both
    // ways; a target error resets the client, a client error destroys the target side.
    // Count every verdict, count a held or piped connection open until its 'close', then firewall.forget(packet).
    return todo(import.meta.url, 'FilteringProxy.start');
  }

  /** Verdicts so far, and open connections now. */
  stats(): ProxyStats {
    // TODO: { accept, reject, drop, open }.
    return todo(import.meta.url, 'FilteringProxy.stats');
  }

  /** Stop listening and end every connection (held or piped); resolves once all are closed. Safe twice. */
  async close(): Promise<void> {
    // TODO: server.close(), destroy every socket you hold, resolve when the server and all of them have closed.
    // Before start(), or when already closed, there is nothing to do.
    return todo(import.meta.url, 'FilteringProxy.close');
  }
}
