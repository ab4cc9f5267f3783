/**
 * Chapter 14 · Web services with JSON: putting the service on a server.
 *
 * `serve(handler, { on })` runs a Handler on one of two servers: 'node:http', through the adapter in
 * this file (read the whole body, bounded, into one buffer; then call the handler; then write its
 * response), or 'chapter-13', the HTTP/1.1 server you wrote in chapter 13, loaded from ../13-http/server.ts.
 */
import http from 'node:http';
import type { Readable } from 'node:stream';
import type { Handler } from './exercise.ts';
import { todo } from '../workbook.ts';

/** Where a server listens unless told otherwise: the IPv4 loopback address. */
export const DEFAULT_HOST = '127.0.0.1';
/** The adapter's own cap on a body it buffers, by default (chapter 13's LIMITS.maxBodyBytes is the same). */
export const DEFAULT_SERVER_MAX_BODY_BYTES = 1_048_576;

/** Which server runs the handler. */
export type Backend = 'node:http' | 'chapter-13';

/** How to serve. */
export interface ServeOptions {
  on: Backend;
  /** Default DEFAULT_HOST. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** A larger body is refused with 413 before the handler runs. Default DEFAULT_SERVER_MAX_BODY_BYTES. */
  maxBodyBytes?: number;
}

/** A running server. */
export interface Served {
  /** 'http://127.0.0.1:41234' or 'http://[::1]:41234': no path, no trailing slash. */
  url: string;
  host: string;
  port: number;
  /** Stop listening and close idle connections; resolves once the server is closed. */
  close(): Promise<void>;
}

/** A body grew past the cap while it was being read. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
  /** Stable code: check this, never the message. */
  readonly code = 'ERR_BODY_TOO_LARGE';

  constructor(
    /** The cap, in bytes. */
    readonly limit: number,
  ) {
    super(`the body is larger than ${limit} bytes`);
  }
}

/**
 * Read a whole body: every chunk until 'end', joined once. Rejects with BodyTooLargeError as soon as more than
 * `maxBytes` have arrived (without waiting for the end, and without destroying the stream, so that the caller
 * can still answer), and with the stream's error when it fails or closes before its end.
 */
export function readBody(stream: Readable, maxBytes: number): Promise<Uint8Array> {
  // TODO: on 'data', add the chunk's length to a count; past maxBytes, stop listening, pause() the stream and reject
  // with BodyTooLargeError; else keep the chunk (a Buffer: never turn chunks into strings one by one). On 'end':
  // Buffer.concat once. On 'error', or 'close' before 'end': reject. Never parse or decode anything here.
  return todo(import.meta.url, 'readBody');
}

/** Run `handler` on node:http or on your chapter-13 server; resolves once it listens. */
export function serve(handler: Handler, options: ServeOptions): Promise<Served> {
  // TODO: host ?? DEFAULT_HOST, port ?? 0, maxBodyBytes ?? DEFAULT_SERVER_MAX_BODY_BYTES.
  // 'node:http': http.createServer; for each request: a Content-Length over the cap, or readBody failing with
  //   BodyTooLargeError, gets a JSON 413 with Connection: close (other readBody failures: the client is gone, do
  //   nothing); else turn it into an HttpRequest (method, target = req.url, version, header names lower-cased with
  //   repeats joined by ", " from req.rawHeaders, keepAlive, expectContinue, body, trailers), await the handler
  //   (a throw: a JSON 500 ERR_INTERNAL), and write status, headers and body with res.writeHead and res.end.
  // 'chapter-13': const { HttpServer } = await import(new URL('../13-http/server.ts', import.meta.url).href);
  //   new HttpServer(handler, { limits: { maxBodyBytes } }), then listen(port, host).
  // Resolve with { url: 'http://host:port' (IPv6 in brackets), host, port, close }.
  return todo(import.meta.url, 'serve');
}
