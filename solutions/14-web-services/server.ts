/**
 * Chapter 14 · Web services with JSON: putting the service on a server.
 *
 * `serve(handler, { on })` runs a Handler on one of two servers: 'node:http', through the adapter in
 * this file (read the whole body, bounded, into one buffer; then call the handler; then write its
 * response), or 'chapter-13', the HTTP/1.1 server you wrote in chapter 13, loaded from ../13-http/server.ts.
 */
import http from 'node:http';
import type net from 'node:net';
import type { Readable } from 'node:stream';
import type { Handler, HttpRequest, HttpResponse } from './exercise.ts';
import { ApiError, errorResponse } from './exercise.ts';

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
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      stream.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // Stop reading here: what has not come yet is never buffered.
        stop();
        stream.pause();
        reject(new BodyTooLargeError(maxBytes));
        return;
      }
      // Bytes, kept as bytes: a character cut in two by the network is whole again after concat.
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      stop();
      reject(err);
    };
    const onClose = () => onError(new Error('the stream closed before its end'));
    stream.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** Header fields from node's raw list: names lower-cased, repeated fields joined with ", " (RFC 9110 §5.3). */
function fields(raw: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    out[name] = Object.hasOwn(out, name) ? `${out[name]}, ${raw[i + 1]}` : raw[i + 1]!;
  }
  return out;
}

/** node's IncomingMessage and its body, in the shape of chapter 13's HttpRequest. */
function toHttpRequest(req: http.IncomingMessage, body: Uint8Array): HttpRequest {
  const headers = fields(req.rawHeaders);
  const version = req.httpVersion === '1.0' ? '1.0' : '1.1';
  const connection = (headers.connection ?? '').toLowerCase().split(',').map((t) => t.trim());
  return {
    method: req.method!,
    target: req.url!,
    version,
    headers,
    keepAlive: version === '1.1' ? !connection.includes('close') : connection.includes('keep-alive'),
    expectContinue: (headers.expect ?? '').toLowerCase() === '100-continue',
    body,
    trailers: fields(req.rawTrailers),
  };
}

/** Write a handler's response; node adds Content-Length and leaves out the body of a HEAD. */
function send(res: http.ServerResponse, response: HttpResponse, close = false): void {
  const headers = { ...response.headers, ...(close ? { connection: 'close' } : {}) };
  res.writeHead(response.status, headers);
  res.end(response.body);
}

/** The node:http adapter: each request read whole (at most maxBodyBytes), then handed to `handler`. */
function adapter(handler: Handler, maxBodyBytes: number) {
  return async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const tooLarge = () =>
      // Connection: close, so that node ends the connection instead of reading a body nobody wants.
      send(res, errorResponse(new ApiError(413, 'ERR_BODY_TOO_LARGE', `at most ${maxBodyBytes} bytes`, { limit: maxBodyBytes })), true);
    // A declared length over the cap is refused before a byte of the body is read.
    if (Number(req.headers['content-length']) > maxBodyBytes) return tooLarge();
    let body: Uint8Array;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) tooLarge();
      // Otherwise the client went away mid-body: nobody is left to answer.
      return;
    }
    let response: HttpResponse;
    try {
      response = await handler(toHttpRequest(req, body));
    } catch {
      // The handler's failure is ours: a 500, and nothing of it leaks.
      response = errorResponse(new ApiError(500, 'ERR_INTERNAL', 'internal error'));
    }
    send(res, response);
  };
}

/** http://host:port, with brackets around an IPv6 address (RFC 3986 §3.2.2). */
const urlOf = (host: string, port: number) => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

async function onNodeHttp(handler: Handler, host: string, port: number, maxBodyBytes: number): Promise<Served> {
  const server = http.createServer(adapter(handler, maxBodyBytes));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as net.AddressInfo;
  return {
    url: urlOf(host, bound.port),
    host,
    port: bound.port,
    // Since Node 19, close() also closes idle keep-alive connections; busy ones end after their response.
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The shape of chapter 13's server module that this file uses. */
interface Chapter13 {
  HttpServer: new (
    handler: Handler,
    options?: { limits?: { maxBodyBytes?: number } },
  ) => { listen(port?: number, host?: string): Promise<{ port: number; host: string }>; close(): Promise<void> };
}

/** Your chapter 13, beside this chapter's folder. */
const CHAPTER_13 = new URL('../13-http/server.ts', import.meta.url).href;

async function onChapter13(handler: Handler, host: string, port: number, maxBodyBytes: number): Promise<Served> {
  // Loaded only when asked for, so that node:http works before chapter 13 is done.
  const { HttpServer } = (await import(CHAPTER_13)) as Chapter13;
  const server = new HttpServer(handler, { limits: { maxBodyBytes } });
  const bound = await server.listen(port, host);
  return { url: urlOf(host, bound.port), host, port: bound.port, close: () => server.close() };
}

/** Run `handler` on node:http or on your chapter-13 server; resolves once it listens. */
export function serve(handler: Handler, options: ServeOptions): Promise<Served> {
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? 0;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_SERVER_MAX_BODY_BYTES;
  return options.on === 'chapter-13' ? onChapter13(handler, host, port, maxBodyBytes) : onNodeHttp(handler, host, port, maxBodyBytes);
}
