/**
 * Chapter 13 · HTTP/1.1 from scratch: the server, on node:net.
 *
 * One `Connection` per socket: it feeds the parser, calls the handler for each whole request, and writes
 * the responses back in request order (a queue of slots, one per request), whatever order the handlers
 * finish in. It keeps the connection open between requests (keep-alive), refuses malformed input with
 * its status and a close, and bounds every wait: the head of a request (slowloris), the idle time
 * between requests, and how many responses it will owe a pipelining client before it stops reading.
 */
import type { HttpRequest, Limits } from './exercise.ts';
import { todo } from '../workbook.ts';

/** What a handler answers. */
export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  /** A string goes out as UTF-8. */
  body?: string | Uint8Array;
}

/** A handler sees one whole request (body read completely) and returns its response. */
export type Handler = (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;

/** How the server bounds its clients. */
export interface ServerOptions {
  /** The parser's limits (see LIMITS). */
  limits: Partial<Limits>;
  /** Most ms from a request's first byte to the end of its head; then 408 and close (slowloris). */
  headersTimeoutMs: number;
  /** Most ms a kept-alive connection may sit with no request; then it is closed quietly. */
  idleTimeoutMs: number;
}

/** The defaults. */
export const DEFAULT_OPTIONS: ServerOptions = { limits: {}, headersTimeoutMs: 10_000, idleTimeoutMs: 5_000 };

/** Most responses owed to one connection before the server stops reading from it. */
export const MAX_OWED_RESPONSES = 16;
/** How long a refused connection may keep sending after our FIN before we drop it (a lingering close). */
export const LINGER_MS = 1_000;

/** An HTTP/1.1 server on node:net (nothing from node:http). */
export class HttpServer {
  private readonly options: ServerOptions;

  // Your state goes here, as private fields: the net.Server and the connections it holds. Each connection
  // needs its own RequestParser, a queue of the responses it owes (in request order), its timers, and whether
  // it is closing. A small class per connection keeps this readable.

  /** A server that answers every request with `handler`; nothing listens until listen(). */
  constructor(private readonly handler: Handler, options: Partial<ServerOptions> = {}) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
  }

  /** Listen on `port` (0: any free port) of `host`; resolves with the real address. */
  listen(port = 0, host = '127.0.0.1'): Promise<{ port: number; host: string }> {
    // TODO: net.createServer({ allowHalfOpen: true }) (a client may send its FIN before reading the answers), then
    // listen and resolve with the bound { port, host }, or reject on a listen error. For each connection:
    // - 'error' → ignore ('close' follows); feed every 'data' chunk to a RequestParser with options.limits;
    //   an HttpError → its status with Connection: close and a short text/plain body, after the responses owed
    //   before it, then end().
    // - onHead: reserve the request's place in the queue; Expect: 100-continue → 'HTTP/1.1 100 Continue\r\n\r\n'
    //   (in turn). Each whole request → the handler; a throw, or anything that is not a valid response (status an
    //   integer 200-599, token field names, values without CR/LF/controls, body a string or bytes) → 500 with a
    //   text/plain body. Write the responses in request order: status line, Date, the handler's fields (not its
    //   Content-Length, Transfer-Encoding or Connection), Content-Length (UTF-8 bytes of a string; none for 204),
    //   Connection: close or keep-alive, and the body (none for HEAD, 204 or 304).
    // - keepAlive false → close after that response, read nothing more. Client FIN → answer, then close.
    // - headersTimeoutMs from a head's first byte to its end → 408 and close; idleTimeoutMs with nothing owed or
    //   arriving → close quietly; stop reading while MAX_OWED_RESPONSES are owed or the socket needs 'drain'.
    // - After your FIN, keep reading and dropping input for up to LINGER_MS, then destroy.
    return todo(import.meta.url, 'HttpServer.listen');
  }

  /** Stop listening, close idle connections at once, let the others finish the responses they owe. */
  close(): Promise<void> {
    // TODO: server.close(); destroy connections that owe nothing; the others close after their last response (a
    // request whose body is still arriving is read and answered first).
    // Resolve when every connection has closed; a second call returns the same promise; leave no timer behind.
    return todo(import.meta.url, 'HttpServer.close');
  }
}
