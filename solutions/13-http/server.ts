/**
 * Chapter 13 · HTTP/1.1 from scratch: the server, on node:net.
 *
 * One `Connection` per socket: it feeds the parser, calls the handler for each whole request, and writes
 * the responses back in request order (a queue of slots, one per request), whatever order the handlers
 * finish in. It keeps the connection open between requests (keep-alive), refuses malformed input with
 * its status and a close, and bounds every wait: the head of a request (slowloris), the idle time
 * between requests, and how many responses it will owe a pipelining client before it stops reading.
 */
import net from 'node:net';
import type { HttpRequest, Limits, RequestHead } from './exercise.ts';
import { HttpError, RequestParser } from './exercise.ts';

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

/** Reason phrases (RFC 9110 §15); the phrase is optional on the wire, so unknown codes get none. */
const REASONS: Record<number, string> = {
  100: 'Continue', 200: 'OK', 201: 'Created', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found',
  304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 408: 'Request Timeout', 411: 'Length Required', 413: 'Content Too Large',
  414: 'URI Too Long', 415: 'Unsupported Media Type', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable', 505: 'HTTP Version Not Supported',
};

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
/** Fields the server writes itself: a handler's own would contradict the framing. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection']);
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE_RE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** An HTTP/1.1 server on node:net. */
export class HttpServer {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  private readonly options: ServerOptions;
  private closed: Promise<void> | undefined;

  constructor(private readonly handler: Handler, options: Partial<ServerOptions> = {}) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
    // Half-open: a client may send its requests and FIN before it reads the answers (`nc -N`).
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => {
      // Stryker disable next-line ArrowFunction: a closed connection left in the set only gets a no-op shutdown (a leak no test can see)
      const connection = new Connection(socket, this.handler, this.options, () => this.connections.delete(connection));
      this.connections.add(connection);
    });
  }

  /** Listen on `port` (0: any free port) of `host`; resolves with the real address. */
  listen(port = 0, host = '127.0.0.1'): Promise<{ port: number; host: string }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address() as net.AddressInfo;
        resolve({ port: address.port, host: address.address });
      });
    });
  }

  /** Stop listening, close idle connections at once, let the others finish the responses they owe. */
  close(): Promise<void> {
    this.closed ??= new Promise((resolve) => {
      this.server.close(() => resolve()); // called once every connection has closed
      for (const connection of this.connections) connection.shutdown();
    });
    return this.closed;
  }
}

/** One response owed, in request order. */
interface Slot {
  /** The request's head; none for a refusal of bytes that never made a head. */
  head?: RequestHead;
  /** `100 Continue`, when the client waits for it. */
  interim?: Buffer;
  response?: HttpResponse;
  /** Close the connection after this response. */
  close: boolean;
}

const INTERNAL_ERROR: HttpResponse = { status: 500, headers: { 'content-type': 'text/plain' }, body: '500 Internal Server Error\n' };

/** One client connection. */
class Connection {
  private readonly parser: RequestParser;
  /** Every response owed, oldest first. */
  private readonly queue: Slot[] = [];
  /** The slots whose request has a head but not yet its whole body. */
  private readonly awaiting: Slot[] = [];
  /** No more requests are read: a close is decided, or the client has sent its FIN. */
  private done = false;
  private headersTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly handler: Handler,
    private readonly options: ServerOptions,
    onClose: () => void,
  ) {
    this.parser = new RequestParser(options.limits, { onHead: (head) => this.onHead(head) });
    // Stryker disable next-line BooleanLiteral: Nagle's algorithm only delays small writes; no outcome changes
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('drain', () => this.updateFlow());
    socket.on('error', () => {}); // a reset client: 'close' follows and cleans up
    socket.on('close', () => {
      clearTimeout(this.headersTimer);
      clearTimeout(this.idleTimer);
      clearTimeout(this.lingerTimer);
      onClose();
    });
    this.updateTimers();
  }

  /** close() of the server: an idle connection closes now, a busy one after the responses it owes. */
  shutdown(): void {
    for (const slot of this.awaiting) slot.close = true; // a body still arriving: read it, answer, then close
    if (this.awaiting.length === 0) this.done = true;
    if (this.queue.length === 0) this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.done) return; // once a close is decided, input is dropped (lingering close)
    let requests: HttpRequest[];
    try {
      requests = this.parser.push(chunk);
    } catch (err) {
      this.refuse(err instanceof HttpError ? err.status : 400);
      return;
    }
    for (const request of requests) {
      const slot = this.awaiting.shift()!;
      void this.respond(slot, request);
      // RFC 9112 §9.6: nothing after a request that closes the connection is read.
      if (slot.close) this.done = true;
      if (this.done) break;
    }
    this.updateTimers();
    this.updateFlow();
  }

  private onHead(head: RequestHead): void {
    const slot: Slot = { head, close: !head.keepAlive };
    // The client waits for a go-ahead before its body: give it, in turn after the responses owed before.
    if (head.expectContinue) slot.interim = CONTINUE;
    this.awaiting.push(slot);
    this.queue.push(slot);
    this.flush();
  }

  private async respond(slot: Slot, request: HttpRequest): Promise<void> {
    let response: unknown;
    try {
      response = await this.handler(request);
    } catch {
      // A bug in the handler: answered with 500 below, and the connection goes on.
    }
    // Neither a throw nor a malformed response is sent; a CR or LF in a field would forge others.
    slot.response = validResponse(response) ? response : INTERNAL_ERROR;
    this.flush();
    this.updateTimers();
    this.updateFlow();
  }

  /** Malformed input: its status with `Connection: close`, in turn after the responses owed; then close. */
  private refuse(status: number): void {
    // Stryker disable next-line BooleanLiteral: the refusal closes the connection anyway; until it is sent, more input only makes the failed parser refuse again
    this.done = true;
    // The request being read (and any after it in the same chunk) gives way to the refusal.
    const reading = this.awaiting[0];
    if (reading) this.queue.length = this.queue.indexOf(reading);
    this.awaiting.length = 0;
    const body = `${status} ${REASONS[status]}\n`;
    // Stryker disable next-line BooleanLiteral: done is set, so the last response owed closes in any case
    this.queue.push({ head: reading?.head, response: { status, headers: { 'content-type': 'text/plain' }, body }, close: true });
    this.flush();
    this.updateTimers();
  }

  /** Write every response that is ready, in order; stop at the first still being worked on. */
  private flush(): void {
    // Stryker disable next-line ConditionalExpression,LogicalOperator: a write after the end only emits an ignored error
    if (this.socket.writableEnded || this.socket.destroyed) return;
    this.socket.cork();
    while (this.queue.length > 0) {
      const slot = this.queue[0]!;
      if (slot.interim) {
        this.socket.write(slot.interim);
        slot.interim = undefined;
      }
      if (!slot.response) break;
      this.queue.shift();
      const close = slot.close || (this.done && this.queue.length === 0);
      this.socket.write(serialize(slot.response, slot.head, close));
      if (close) {
        this.end();
        break;
      }
    }
    this.socket.uncork();
  }

  /** Our FIN; then read and drop the client's bytes for a while, so that it sees our answer, not a reset. */
  private end(): void {
    this.queue.length = 0;
    this.socket.end();
    this.socket.resume();
    this.lingerTimer ??= setTimeout(() => this.socket.destroy(), LINGER_MS);
  }

  /** The client's FIN: answer the whole requests it sent, then close. */
  private onEnd(): void {
    this.done = true;
    for (const slot of this.awaiting.splice(0)) this.queue.splice(this.queue.indexOf(slot), 1); // never completed
    if (this.queue.length === 0) this.end();
    this.updateTimers();
  }

  /** The head deadline runs while a head is arriving; the idle deadline while nothing is owed or arriving. */
  private updateTimers(): void {
    const state = this.parser.state;
    const inHead = state === 'header-line' || (state === 'request-line' && this.parser.bufferedBytes > 0);
    if (inHead) {
      this.headersTimer ??= setTimeout(() => this.refuse(408), this.options.headersTimeoutMs);
    } else {
      clearTimeout(this.headersTimer);
      this.headersTimer = undefined;
    }
    if (!inHead && this.queue.length === 0) { // a body arriving has its slot in the queue already
      this.idleTimer ??= setTimeout(() => this.socket.destroy(), this.options.idleTimeoutMs);
    } else {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
  }

  /** Stop reading while too many responses are owed or the client does not read ours. */
  private updateFlow(): void {
    // Stryker disable next-line ConditionalExpression: once done, end() has resumed reading for the lingering close and emptied the queue
    if (this.done) return;
    // Stryker disable next-line EqualityOperator: the bound is a choice; 16 or 17 owed changes nothing a client sees
    if (this.queue.length >= MAX_OWED_RESPONSES || this.socket.writableNeedDrain) this.socket.pause();
    else this.socket.resume();
  }
}

/** Status line, fields, empty line and body, as one buffer. */
function serialize(response: HttpResponse, head: RequestHead | undefined, close: boolean): Buffer {
  const { status, headers = {}, body = '' } = response;
  let text = `HTTP/1.1 ${status} ${REASONS[status] ?? ''}\r\nDate: ${new Date().toUTCString()}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (!FRAMING.has(name.toLowerCase())) text += `${name}: ${value}\r\n`;
  }
  // RFC 9110 §6.4.1, §8.6: 204 and 304 have no body; a 204 no Content-Length either.
  const noBody = status === 204 || status === 304;
  // Stryker disable next-line ConditionalExpression: byteLength of bytes is their length
  const length = noBody ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (status !== 204) text += `Content-Length: ${length}\r\n`;
  text += close ? 'Connection: close\r\n\r\n' : 'Connection: keep-alive\r\n\r\n';
  // HEAD: the head a GET would get, its Content-Length included, and no body (RFC 9110 §9.3.2).
  const sent = head?.method === 'HEAD' ? 0 : length;
  const headLength = Buffer.byteLength(text, 'latin1');
  const out = Buffer.allocUnsafe(headLength + sent);
  out.write(text, 'latin1');
  if (sent > 0) {
    if (typeof body === 'string') out.write(body, headLength, 'utf8');
    else out.set(body, headLength);
  }
  return out;
}

/** A final status, token field names, values without CR, LF or NUL, a string or bytes as body. */
function validResponse(value: unknown): value is HttpResponse {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as HttpResponse;
  if (!Number.isInteger(r.status) || r.status < 200 || r.status > 599) return false;
  if (r.body !== undefined && typeof r.body !== 'string' && !(r.body instanceof Uint8Array)) return false;
  return Object.entries(r.headers ?? {}).every(([name, value]) => TOKEN_RE.test(name) && FIELD_VALUE_RE.test(String(value)));
}
