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
import { todo } from '../workbook.ts';

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

/**
 * Read one frame's payload as a message. Throws ProtocolError with PARSE_ERROR (not UTF-8, not JSON) or
 * INVALID_REQUEST (JSON of the wrong shape).
 */
export function parseMessage(payload: Uint8Array): Message {
  // TODO: decode strictly (new TextDecoder('utf-8', { fatal: true })) and JSON.parse, else PARSE_ERROR; then check the shape, else INVALID_REQUEST:
  // an object (not an array) with jsonrpc "2.0"; a request has a string method, a number or string id, and params absent, an array or an object;
  // a response has an id (number, string or null) and exactly one of result and error; an error has an integer code and a string message.
  return todo(import.meta.url, 'parseMessage');
}

/** One end of an RPC conversation over one socket: calls out, answers in. */
export class RpcConnection {
  // Your state goes here, as private fields: the socket, the methods, the clock, the default call timeout, a FrameReader
  // (framing.ts), the table of pending calls (a Map from id to what settles the call: resolve, reject, its timer, its method)
  // and the next id.

  /** Wrap a connected socket (the client's, or one a server accepted). */
  constructor(socket: net.Socket, options: ConnectionOptions = {}) {
    // TODO: keep the socket and the options (defaults: no methods, realClock, DEFAULT_CALL_TIMEOUT_MS). Feed every 'data' chunk to a
    // FrameReader (on FrameTooLargeError, destroy the socket) and handle each whole frame: a bad one gets an error reply with id null
    // and the connection goes on; a request is answered without waiting for earlier ones (HELLO_METHOD with { version: PROTOCOL_VERSION },
    // an own method's result with undefined as null, a MethodError as its error, an unknown method as METHOD_NOT_FOUND, anything else
    // as INTERNAL_ERROR); a response settles the pending call with its id, and an unknown id is ignored. Listen for 'error'.
    // On 'close', reject every pending call with ConnectionLostError.
    return todo(import.meta.url, 'RpcConnection constructor');
  }

  /** Calls sent and still waiting for their reply (or their timeout). */
  get pending(): number {
    // TODO: the number of entries in the pending-call table.
    return todo(import.meta.url, 'RpcConnection.pending');
  }

  /** Call `method` on the other end; resolves with its result, rejects with an RpcError. */
  call(method: string, params?: Params, options: CallOptions = {}): Promise<unknown> {
    // TODO: once the connection has ended, reject at once (ClosedError after close(), else ConnectionLostError). Take a fresh id (never
    // reused), encode the request (a failure to encode rejects, leaving nothing behind), add the pending entry with its own timer
    // (timeoutMs ?? the connection's; 0 = none) on the clock, and write the frame. The timer rejects with CallTimeoutError and removes the entry.
    return todo(import.meta.url, 'RpcConnection.call');
  }

  /** Hang up: reject every pending call with ClosedError, close the socket; resolves once it is closed. */
  close(): Promise<void> {
    // TODO: reject every pending call with ClosedError (clearing its timer), make later calls fail with ClosedError too,
    // close the socket (socket.destroySoon() sends what is queued first) and resolve on its 'close'. Safe to call twice.
    return todo(import.meta.url, 'RpcConnection.close');
  }
}

/**
 * Connect to an RpcServer and say hello; resolves with the connection once the hello is answered.
 * Rejects with ConnectError: the kernel's code, 'ETIMEDOUT' after connectTimeoutMs, or the hello's failure code.
 */
export function connect(to: Address, options: ConnectOptions = {}): Promise<RpcConnection> {
  // TODO: net.connect, wrap the socket in an RpcConnection (with options.methods: the client's callbacks), and call HELLO_METHOD with
  // { version: PROTOCOL_VERSION }. Start one timer on the clock for connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS that covers both the
  // TCP connect and the hello. Reject with ConnectError(code, describeAddress(to), { cause }) and destroy the socket on a socket
  // 'error' (its code), on the timer ('ETIMEDOUT'), or when the hello fails (the RpcError's code). Clear the timer either way.
  return todo(import.meta.url, 'connect');
}

/** Serves `methods` to every client that connects; each connection can call its client back. */
export class RpcServer {
  // Your state goes here, as private fields: the methods, the options, the net.Server once listening, the open connections.

  /** A server offering `methods`; `options.clock` and `options.callTimeoutMs` apply to its calls back to clients. */
  constructor(methods: Methods, options: Omit<ConnectionOptions, 'methods'> = {}) {
    // TODO: keep the methods and the options for the connections you will accept.
    return todo(import.meta.url, 'RpcServer constructor');
  }

  /** Connections open now (a connection leaves once its socket has closed). */
  get connectionCount(): number {
    // TODO: how many accepted connections have not closed yet.
    return todo(import.meta.url, 'RpcServer.connectionCount');
  }

  /** Listen; resolves with the address really bound (the real port when port 0 was asked). Rejects with ListenError. */
  async listen(options: ListenOptions = {}): Promise<Address> {
    // TODO: net.createServer that wraps each accepted socket in an RpcConnection with this server's methods and options, and forgets it on
    // 'close'. Listen on host ?? LOOPBACK, port ?? 0, passing exclusive and reusePort on; an 'error' before 'listening' rejects with
    // ListenError(its code, describeAddress of the address asked for, { cause }). Resolve with server.address()'s address and port.
    return todo(import.meta.url, 'RpcServer.listen');
  }

  /** Stop accepting, close every connection (their pending calls reject with ClosedError); resolves when all is closed. */
  async close(): Promise<void> {
    // TODO: server.close() (if listening), close() every open connection, and resolve once all of them are done. Safe before listen() and twice.
    return todo(import.meta.url, 'RpcServer.close');
  }
}
