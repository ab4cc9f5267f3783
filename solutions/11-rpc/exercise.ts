/**
 * Chapter 11 · Calling across the wire.
 *
 * Remote procedure calls over one TCP connection, in JSON-RPC 2.0 messages carried in length-prefixed
 * frames (framing.ts, given). Each end of a connection is an RpcConnection: it calls the other end's
 * methods (many calls in flight at once, each matched to its reply by id, each with its own timeout) and
 * answers the other end's calls, so a server can call back the client in the middle of the client's call.
 *
 * Read chapters/11-rpc/lesson.md first. Check your work with `npm run workbook -- check 11`.
 */
import net from 'node:net';
import { FrameReader, encodeFrame } from './framing.ts';

/** The `jsonrpc` member every message carries (JSON-RPC 2.0 §4, §5). */
export const JSONRPC_VERSION = '2.0';
/** The version of this chapter's own protocol, exchanged in the hello. */
export const PROTOCOL_VERSION = 1;
/** The hello method, answered by every connection; names starting "rpc." are reserved (JSON-RPC 2.0 §4). */
export const HELLO_METHOD = 'rpc.hello';

/** The error codes JSON-RPC 2.0 reserves (§5.1); application errors use codes outside -32768..-32000. */
export const ErrorCodes = {
  /** The bytes were not JSON (or not UTF-8). */
  PARSE_ERROR: -32700,
  /** JSON, but not a valid request or response. */
  INVALID_REQUEST: -32600,
  /** No such method on this end. */
  METHOD_NOT_FOUND: -32601,
  /** The method refused its params (a handler throws MethodError with this code). */
  INVALID_PARAMS: -32602,
  /** The handler failed in a way it did not describe: a bug on the answering side. */
  INTERNAL_ERROR: -32603,
} as const;

/** How long a call waits for its reply unless told otherwise (ms). */
export const DEFAULT_CALL_TIMEOUT_MS = 5_000;
/** How long connect() waits for the connection and the hello reply together (ms). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
/** The IPv4 loopback address, where servers listen unless told otherwise. */
export const LOOPBACK = '127.0.0.1';

/** A request id: JSON-RPC allows a number or a string. */
export type Id = number | string;
/** Params by position or by name (JSON-RPC 2.0 §4.2). */
export type Params = unknown[] | Record<string, unknown>;

/** A call: "run `method` with `params` and answer with this `id`". */
export interface Request {
  jsonrpc: '2.0';
  id: Id;
  method: string;
  params?: Params;
}

/** The error member of a failed response. */
export interface ErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** A reply that carries a result. `id` is null only in replies to messages whose id could not be read. */
export interface SuccessResponse {
  jsonrpc: '2.0';
  id: Id | null;
  result: unknown;
}

/** A reply that carries an error. */
export interface ErrorResponse {
  jsonrpc: '2.0';
  id: Id | null;
  error: ErrorObject;
}

/** Any message of this protocol. */
export type Message = Request | SuccessResponse | ErrorResponse;

/** Timers, as the connection sees them: the real ones by default, a fake clock's in tests. */
export interface Clock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock: the global timers. */
export const realClock: Clock = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** What a handler learns about the call it answers; `connection` lets it call the caller back. */
export interface CallContext {
  /** The connection the call came in on. */
  connection: RpcConnection;
  /** The method called. */
  method: string;
  /** The caller's id for this call. */
  id: Id;
}

/** A method this end offers: gets the params (undefined if none), returns the result or a promise of it. */
export type Handler = (params: unknown, context: CallContext) => unknown;
/** The methods an end offers, by name. */
export type Methods = Record<string, Handler>;

/** Options of one call. */
export interface CallOptions {
  /** Reject with CallTimeoutError after this many ms without a reply; 0 means no timeout. Default: the connection's. */
  timeoutMs?: number;
}

/** Options of an RpcConnection (and of connect() and RpcServer, which make them). */
export interface ConnectionOptions {
  /** The methods this end answers (the client's are its callbacks). */
  methods?: Methods;
  /** The clock for timeouts. Default realClock. */
  clock?: Clock;
  /** Timeout of calls that do not set their own. Default DEFAULT_CALL_TIMEOUT_MS. */
  callTimeoutMs?: number;
}

/** Options of connect(). */
export interface ConnectOptions extends ConnectionOptions {
  /** Give up when the connection and the hello reply are not done in this many ms. Default DEFAULT_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
}

/** Where and how an RpcServer listens. */
export interface ListenOptions {
  /** Default LOOPBACK. */
  host?: string;
  /** 0 (the default) asks the operating system for any free port. */
  port?: number;
  /** Passed to server.listen: do not share the handle with cluster workers. */
  exclusive?: boolean;
  /** Passed to server.listen: SO_REUSEPORT, several listeners on one port (Node >= 22.12 / 23.1, Linux and BSDs). */
  reusePort?: boolean;
}

/** A TCP address: host and port. */
export interface Address {
  host: string;
  port: number;
}

/** Every error of this chapter: check `code`, never the message. */
export class RpcError extends Error {
  override name = 'RpcError';

  constructor(
    /** Stable code, e.g. 'ERR_RPC_TIMEOUT'. */
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The other end answered a call with an error: its code, message and data, as it sent them. */
export class RemoteError extends RpcError {
  override name = 'RemoteError';

  constructor(
    /** The method that was called. */
    readonly method: string,
    /** The error's `code` on the wire (a JSON-RPC code, or the application's own). */
    readonly remoteCode: number,
    /** The error's `message` on the wire. */
    readonly remoteMessage: string,
    /** The error's `data` on the wire, if any. */
    readonly data?: unknown,
  ) {
    super('ERR_RPC_REMOTE', `${method} failed remotely: ${remoteCode} ${remoteMessage}`);
  }
}

/** No reply came within the call's timeout. The call is over: a reply that comes later is ignored. */
export class CallTimeoutError extends RpcError {
  override name = 'CallTimeoutError';

  constructor(
    /** The method that was called. */
    readonly method: string,
    /** The timeout that ran out, in ms. */
    readonly timeoutMs: number,
  ) {
    super('ERR_RPC_TIMEOUT', `${method} got no reply within ${timeoutMs} ms`);
  }
}

/** The connection died (the peer closed or reset it, or sent a frame over the limit) before the call's reply came. */
export class ConnectionLostError extends RpcError {
  override name = 'ConnectionLostError';

  constructor(
    /** The method that was called. */
    readonly method: string,
    options?: ErrorOptions,
  ) {
    super('ERR_RPC_CONNECTION_LOST', `the connection was lost before ${method} got its reply`, options);
  }
}

/** This end closed the connection (close()) before the call's reply came, or the call came after close(). */
export class ClosedError extends RpcError {
  override name = 'ClosedError';

  constructor(
    /** The method that was called. */
    readonly method: string,
  ) {
    super('ERR_RPC_CLOSED', `the connection was closed before ${method} got its reply`);
  }
}

/** connect() failed: `code` is the kernel's ('ECONNREFUSED'), 'ETIMEDOUT', or the code of the RpcError that ended the hello. */
export class ConnectError extends RpcError {
  override name = 'ConnectError';

  constructor(
    code: string,
    /** The address, as describeAddress writes it. */
    readonly where: string,
    options?: ErrorOptions,
  ) {
    super(code, `could not connect to ${where}: ${code}`, options);
  }
}

/** listen() failed: `code` is the kernel's, e.g. 'EADDRINUSE'. */
export class ListenError extends RpcError {
  override name = 'ListenError';

  constructor(
    code: string,
    /** The address asked for, as describeAddress writes it. */
    readonly where: string,
    options?: ErrorOptions,
  ) {
    super(code, `could not listen on ${where}: ${code}`, options);
  }
}

/** A message that is not valid: `rpcCode` is PARSE_ERROR (not UTF-8 JSON) or INVALID_REQUEST (JSON of the wrong shape). */
export class ProtocolError extends RpcError {
  override name = 'ProtocolError';

  constructor(
    /** ErrorCodes.PARSE_ERROR or ErrorCodes.INVALID_REQUEST: the code of the error reply it earns. */
    readonly rpcCode: number,
    message: string,
  ) {
    super('ERR_RPC_PROTOCOL', message);
  }
}

/** Thrown by a handler to answer its call with this error code, message and data. */
export class MethodError extends Error {
  override name = 'MethodError';

  constructor(
    /** The error code to send (ErrorCodes.INVALID_PARAMS, or the application's own). */
    readonly rpcCode: number,
    message: string,
    /** Anything JSON can encode, sent as the error's data. */
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** "127.0.0.1:4004" or "[::1]:4004". */
export function describeAddress(a: Address): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** The `code` of a Node.js system error ('ECONNREFUSED', ...), or 'EUNKNOWN'. */
export function errorCode(err: unknown): string {
  return (err as { code?: string }).code ?? 'EUNKNOWN';
}

/** One message as one frame: JSON, UTF-8, behind the length header. */
export function encodeMessage(message: Message): Buffer {
  return encodeFrame(Buffer.from(JSON.stringify(message), 'utf8'));
}

/** Strict: a byte sequence that is not UTF-8 is an error, not a replacement character. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is Id => typeof v === 'string' || typeof v === 'number';

/**
 * Read one frame's payload as a message. Throws ProtocolError with PARSE_ERROR (not UTF-8, not JSON) or
 * INVALID_REQUEST (JSON of the wrong shape).
 */
export function parseMessage(payload: Uint8Array): Message {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(payload));
  } catch {
    throw new ProtocolError(ErrorCodes.PARSE_ERROR, 'not UTF-8 JSON');
  }
  const invalid = (why: string) => new ProtocolError(ErrorCodes.INVALID_REQUEST, why);
  // Batches (arrays) are JSON-RPC too, but not part of this chapter's protocol.
  if (!isObject(value) || value.jsonrpc !== JSONRPC_VERSION) throw invalid('not a JSON-RPC 2.0 object');
  if ('method' in value) {
    if (typeof value.method !== 'string') throw invalid('method is not a string');
    // Every request here expects a reply: no notifications, so the id is required.
    if (!isId(value.id)) throw invalid('a request needs a number or string id');
    if ('params' in value && !Array.isArray(value.params) && !isObject(value.params)) throw invalid('params must be an array or an object');
    return value as unknown as Request;
  }
  if (!(value.id === null || isId(value.id))) throw invalid('a response needs an id (or null)');
  // Exactly one of result and error: a reply is a success or a failure, never both, never neither.
  if ('result' in value === 'error' in value) throw invalid('a response has exactly one of result and error');
  if ('error' in value) {
    const e = value.error;
    if (!isObject(e) || !Number.isInteger(e.code) || typeof e.message !== 'string') throw invalid('error needs an integer code and a string message');
  }
  return value as unknown as SuccessResponse | ErrorResponse;
}

/** A call waiting for its reply: how to settle it, and its timer. */
interface PendingCall {
  method: string;
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
  timer: unknown;
}

/** One end of an RPC conversation over one socket: calls out, answers in. */
export class RpcConnection {
  readonly #socket: net.Socket;
  readonly #methods: Methods;
  readonly #clock: Clock;
  readonly #callTimeoutMs: number;
  readonly #reader = new FrameReader();
  /** Calls sent and not yet answered, by id. Every way a call ends removes its entry. */
  readonly #pending = new Map<Id, PendingCall>();
  #nextId = 1;
  /** Why new calls fail at once: set when the connection ends. */
  #ended: ((method: string) => Error) | undefined;
  readonly #closed: Promise<void>;

  /** Wrap a connected socket (the client's, or one a server accepted). */
  constructor(socket: net.Socket, options: ConnectionOptions = {}) {
    this.#socket = socket;
    this.#methods = options.methods ?? {};
    this.#clock = options.clock ?? realClock;
    this.#callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    // A reset arrives as 'error'; unheard, it would crash the process. 'close' follows and does the work.
    socket.on('error', () => {});
    this.#closed = new Promise((resolve) => socket.once('close', resolve)).then(() => this.#lost());
  }

  /** Calls sent and still waiting for their reply (or their timeout). */
  get pending(): number {
    return this.#pending.size;
  }

  /** Call `method` on the other end; resolves with its result, rejects with an RpcError. */
  call(method: string, params?: Params, options: CallOptions = {}): Promise<unknown> {
    if (this.#ended) return Promise.reject(this.#ended(method));
    // A fresh id for every call, never reused: a late reply to an old call can then never answer a new one.
    // Stryker disable next-line UpdateOperator: counting down gives ids that never repeat just as well
    const id = this.#nextId++;
    // Without params, JSON.stringify leaves the member out (undefined is not JSON).
    const request: Request = { jsonrpc: JSONRPC_VERSION, id, method, params };
    let frame: Buffer;
    try {
      // Encode before taking a table entry: params JSON cannot encode (a BigInt, a cycle) leave nothing behind.
      frame = encodeMessage(request);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.#callTimeoutMs;
      // One timer per call, armed once: other traffic never moves this call's deadline.
      const timer = timeoutMs > 0 ? this.#clock.setTimeout(() => this.#settle(id, new CallTimeoutError(method, timeoutMs)), timeoutMs) : undefined;
      this.#pending.set(id, { method, resolve, reject, timer });
      this.#socket.write(frame);
    });
  }

  /** Hang up: reject every pending call with ClosedError, close the socket; resolves once it is closed. */
  close(): Promise<void> {
    if (!this.#ended) {
      this.#end((method) => new ClosedError(method));
      // Send what is queued (a last reply), then close at once, without waiting for the peer's FIN.
      this.#socket.destroySoon();
    }
    return this.#closed;
  }

  /** End the connection for good: every pending call and every later call fails with `why`. */
  #end(why: (method: string) => Error): void {
    this.#ended = why;
    for (const id of [...this.#pending.keys()]) this.#settle(id, why(this.#pending.get(id)!.method));
  }

  /** The socket closed: whatever is still pending will never get a reply. */
  #lost(): void {
    if (!this.#ended) this.#end((method) => new ConnectionLostError(method));
  }

  /** Finish one pending call: take its entry out, stop its timer, settle its promise. */
  #settle(id: Id | null, outcome: { result: unknown } | Error): void {
    // A reply to a call that already timed out (or an id we never sent, or null): nothing waits for it.
    const call = this.#pending.get(id as Id);
    if (!call) return;
    this.#pending.delete(id as Id);
    this.#clock.clearTimeout(call.timer);
    if (outcome instanceof Error) call.reject(outcome);
    else call.resolve(outcome.result);
  }

  #onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.#reader.push(chunk);
    } catch (err) {
      // A frame over the limit: the stream cannot be trusted any more, so drop the connection.
      this.#socket.destroy(err as Error);
      return;
    }
    for (const frame of frames) this.#onFrame(frame);
  }

  #onFrame(frame: Buffer): void {
    let message: Message;
    try {
      message = parseMessage(frame);
    } catch (err) {
      // Answer bad input with the protocol's error, and keep the connection: the next frame may be fine.
      const { rpcCode, message } = err as ProtocolError;
      this.#reply(null, { error: { code: rpcCode, message } });
      return;
    }
    if ('method' in message) void this.#answer(message);
    // Match by id, never by order: the other end answers in whatever order its work finishes.
    else this.#settle(message.id, 'error' in message ? this.#remoteError(message) : { result: message.result });
  }

  #remoteError(reply: ErrorResponse): RemoteError {
    const { code, message, data } = reply.error;
    // An error reply nobody waits for (id null, or a late one) is dropped by #settle: its method does not matter.
    return new RemoteError(this.#pending.get(reply.id!)?.method ?? '', code, message, data);
  }

  /** Run the handler for one request and send its reply. Never throws: every failure becomes an error reply. */
  async #answer(request: Request): Promise<void> {
    let outcome: { result: unknown } | { error: ErrorObject };
    try {
      // JSON has no undefined: { result: undefined } would vanish from the message, so nothing is sent as null.
      outcome = { result: (await this.#run(request)) ?? null };
    } catch (err) {
      outcome = { error: errorObjectOf(err) };
    }
    this.#reply(request.id, outcome);
  }

  /** The result of one request: the hello, or the handler's (which may throw MethodError). */
  #run({ method, params, id }: Request): unknown {
    if (method === HELLO_METHOD) return { version: PROTOCOL_VERSION };
    // Own properties only: "toString" or "__proto__" must not reach Object.prototype.
    if (!Object.hasOwn(this.#methods, method)) throw new MethodError(ErrorCodes.METHOD_NOT_FOUND, 'Method not found');
    return this.#methods[method]!(params, { connection: this, method, id });
  }

  /** Send one reply; a result JSON cannot encode (a BigInt, a cycle) becomes an Internal error instead. */
  #reply(id: Id | null, outcome: { result: unknown } | { error: ErrorObject }): void {
    let frame: Buffer;
    try {
      frame = encodeMessage({ jsonrpc: JSONRPC_VERSION, id, ...outcome } as Message);
    } catch {
      frame = encodeMessage({ jsonrpc: JSONRPC_VERSION, id, error: errorObjectOf(undefined) });
    }
    // A handler may finish after the connection ended: then this write goes nowhere, harmlessly (a destroyed
    // socket ignores it; one that is ending emits an 'error', which the connection already listens for).
    this.#socket.write(frame);
  }
}

/** The error member for what a handler threw: a MethodError as it says, anything else as an Internal error. */
function errorObjectOf(err: unknown): ErrorObject {
  if (err instanceof MethodError) return { code: err.rpcCode, message: err.message, data: err.data };
  // Anything else is a bug on this end; its details stay here.
  return { code: ErrorCodes.INTERNAL_ERROR, message: 'Internal error' };
}

/**
 * Connect to an RpcServer and say hello; resolves with the connection once the hello is answered.
 * Rejects with ConnectError: the kernel's code, 'ETIMEDOUT' after connectTimeoutMs, or the hello's failure code.
 */
export function connect(to: Address, options: ConnectOptions = {}): Promise<RpcConnection> {
  const where = describeAddress(to);
  const clock = options.clock ?? realClock;
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const socket = net.connect({ host: to.host, port: to.port });
  const connection = new RpcConnection(socket, options);
  return new Promise((resolve, reject) => {
    const fail = (err: ConnectError) => {
      clock.clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    // One deadline for the whole of connecting: a peer that accepts but never answers the hello is as dead as one that never accepts.
    const timer = clock.setTimeout(() => fail(new ConnectError('ETIMEDOUT', where)), timeoutMs);
    // The kernel's reason (ECONNREFUSED, ...) for a connection that was never made.
    const onError = (err: Error) => fail(new ConnectError(errorCode(err), where, { cause: err }));
    socket.once('error', onError);
    connection.call(HELLO_METHOD, { version: PROTOCOL_VERSION }, { timeoutMs: 0 }).then(
      () => {
        clock.clearTimeout(timer);
        socket.off('error', onError);
        resolve(connection);
      },
      (err: RpcError) => fail(new ConnectError(err.code, where, { cause: err })),
    );
  });
}

/** Serves `methods` to every client that connects; each connection can call its client back. */
export class RpcServer {
  readonly #methods: Methods;
  readonly #options: ConnectionOptions;
  #server: net.Server | undefined;
  readonly #connections = new Set<RpcConnection>();

  /** A server offering `methods`; `options.clock` and `options.callTimeoutMs` apply to its calls back to clients. */
  constructor(methods: Methods, options: Omit<ConnectionOptions, 'methods'> = {}) {
    this.#methods = methods;
    this.#options = options;
  }

  /** Connections open now (a connection leaves once its socket has closed). */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Listen; resolves with the address really bound (the real port when port 0 was asked). Rejects with ListenError. */
  async listen(options: ListenOptions = {}): Promise<Address> {
    const host = options.host ?? LOOPBACK;
    const wanted = { host, port: options.port ?? 0 };
    const server = net.createServer((socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      // Before 'listening', an 'error' is listen() failing: keep the kernel's code (EADDRINUSE, EACCES).
      server.once('error', (err) => reject(new ListenError(errorCode(err), describeAddress(wanted), { cause: err })));
      const listenOptions = { ...wanted, exclusive: options.exclusive, reusePort: options.reusePort } as net.ListenOptions;
      server.listen(listenOptions, () => resolve());
    });
    this.#server = server;
    // Only the kernel knows which port "any free port" turned out to be.
    const bound = server.address() as net.AddressInfo;
    return { host: bound.address, port: bound.port };
  }

  /** Stop accepting, close every connection (their pending calls reject with ClosedError); resolves when all is closed. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    const stopped = server ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined;
    await Promise.all([...[...this.#connections].map((c) => c.close()), stopped]);
  }

  #accept(socket: net.Socket): void {
    const connection = new RpcConnection(socket, { ...this.#options, methods: this.#methods });
    this.#connections.add(connection);
    socket.once('close', () => this.#connections.delete(connection));
  }
}
