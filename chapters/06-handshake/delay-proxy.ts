/**
 * A TCP proxy that makes loopback behave like a slow path, to measure what a handshake costs.
 *
 * The model: the proxy stands where the client's SYN would start its journey. The path to the
 * server has a one-way delay d. A new connection first pays one round trip (SYN out, SYN-ACK
 * back) before any byte is relayed; after that every chunk, and the end of each stream, takes
 * d to cross in its direction. It runs on real time, because it carries real sockets.
 */
import type net from 'node:net';
import { todo } from '../workbook.ts';

/** Where the proxy relays to, and how slow the path is that it pretends to be. */
export interface DelayProxyOptions {
  /** The real server behind the proxy; `host` may be IPv4 or IPv6 (`::1`), and defaults to loopback. */
  target: { host?: string; port: number };
  /** One-way delay d in ms: a round trip through the proxy costs 2d. */
  delayMs: number;
}

/**
 * A server (not yet listening) that relays each connection to `target` over a path with
 * `delayMs` of one-way delay, charging a new connection one round trip before it relays.
 */
export function createDelayProxy(options: DelayProxyOptions): net.Server {
  // TODO: for each client, wait 2 * delayMs (the far leg's SYN and SYN-ACK) before relaying a
  // single byte; then carry every chunk (bytes, not text) and each stream's end, delayed by
  // delayMs, both ways; pass a reset on as a destroy, after delayMs too. When write() returns false,
  // pause the reading side until 'drain' (one listener per pause). If the client's socket closes
  // during the wait, clear the timer and never dial the target.
  return todo(import.meta.url, 'createDelayProxy');
}
