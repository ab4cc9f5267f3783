/**
 * Chapter 14 · Web services with JSON: a typed client.
 *
 * `MessagesClient` calls the service with fetch, one deadline per call (AbortSignal.timeout covers the
 * headers and the body alike), and turns every way a call can fail into an error class with a stable
 * code: the server said no (HttpStatusError, with its status and the server's own error code), nobody
 * answered in time (TimeoutError), the network failed (NetworkError), the answer was not what the
 * service sends (BadResponseError), or a JSON-RPC call came back with an error (RpcCallError).
 */
import type { Message, NewMessage, Page } from './exercise.ts';
import { todo } from '../workbook.ts';

/** How long a call may take, from sending the request to the last byte of the answer, unless told otherwise. */
export const DEFAULT_TIMEOUT_MS = 5_000;

/** The stable codes of the client's errors. */
export type ClientErrorCode = 'ERR_HTTP_STATUS' | 'ERR_TIMEOUT' | 'ERR_NETWORK' | 'ERR_BAD_RESPONSE' | 'ERR_RPC';

/** Every error of the client: `code` says which kind; `method` and `url` say which call. */
export class ClientError extends Error {
  override name = 'ClientError';

  constructor(
    /** Stable code: check this, never the message. */
    readonly code: ClientErrorCode,
    /** The HTTP method of the call. */
    readonly method: string,
    /** The whole URL of the call. */
    readonly url: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The server answered with a status that is not 2xx. */
export class HttpStatusError extends ClientError {
  override name = 'HttpStatusError';

  constructor(
    method: string,
    url: string,
    /** The HTTP status. */
    readonly status: number,
    /** The `error.code` of the server's JSON error body, when it sent one. */
    readonly serverCode: string | undefined,
    /** The parsed JSON body, when there was one. */
    readonly body: unknown,
  ) {
    super('ERR_HTTP_STATUS', method, url, `${method} ${url}: ${status}${serverCode ? ` ${serverCode}` : ''}`);
  }
}

/** The whole call (headers and body) took longer than `ms`. */
export class TimeoutError extends ClientError {
  override name = 'TimeoutError';

  constructor(
    method: string,
    url: string,
    /** The deadline that passed. */
    readonly ms: number,
  ) {
    super('ERR_TIMEOUT', method, url, `${method} ${url}: no whole answer within ${ms} ms`);
  }
}

/** The call failed below HTTP: refused, reset, unreachable. `cause` holds fetch's error. */
export class NetworkError extends ClientError {
  override name = 'NetworkError';

  constructor(method: string, url: string, options?: ErrorOptions) {
    super('ERR_NETWORK', method, url, `${method} ${url}: network error`, options);
  }
}

/** A 2xx answer that is not what the service sends: not JSON, or not a JSON-RPC response to this call. */
export class BadResponseError extends ClientError {
  override name = 'BadResponseError';

  constructor(
    method: string,
    url: string,
    /** The HTTP status it came with. */
    readonly status: number,
  ) {
    super('ERR_BAD_RESPONSE', method, url, `${method} ${url}: the answer (${status}) is not what this service sends`);
  }
}

/** A JSON-RPC call answered with an error object. */
export class RpcCallError extends ClientError {
  override name = 'RpcCallError';

  constructor(
    url: string,
    /** The error object's code: -32601, -32602, 404, ... */
    readonly rpcCode: number,
    message: string,
    /** The error object's data, if any. */
    readonly data: unknown,
  ) {
    super('ERR_RPC', 'POST', url, message);
  }
}

/** Options of the client. */
export interface ClientOptions {
  /** Deadline of each call. Default DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number;
}

/** A typed client of the message service. */
export class MessagesClient {
  /** The service's base URL, e.g. 'http://127.0.0.1:41234'. */
  readonly baseUrl: string;
  /** Deadline of each call, in ms. */
  readonly timeoutMs: number;

  // Your state goes here, as private fields: the next JSON-RPC id.

  /** A client of the service at `baseUrl`. */
  constructor(baseUrl: string, options: ClientOptions = {}) {
    this.baseUrl = baseUrl;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** One page of messages (GET /messages?limit=&after=). */
  list(query: { limit?: number; after?: string } = {}): Promise<Page> {
    // TODO: GET /messages, with limit and after in the query string only when given.
    return todo(import.meta.url, 'MessagesClient.list');
  }

  /** Post a message (POST /messages); the same idempotencyKey on a retry never posts it twice. */
  post(message: NewMessage, options: { idempotencyKey?: string } = {}): Promise<Message> {
    // TODO: POST /messages with the message as JSON (and an Idempotency-Key field when given); the created message.
    return todo(import.meta.url, 'MessagesClient.post');
  }

  /** One message by id (GET /messages/<id>); the id stays a string, whatever its size. */
  get(id: string): Promise<Message> {
    // TODO: GET /messages/<encodeURIComponent(id)>.
    return todo(import.meta.url, 'MessagesClient.get');
  }

  /** A JSON-RPC call at POST /rpc: its result, or RpcCallError with the error object's code and data. */
  rpc(method: string, params?: object): Promise<unknown> {
    // TODO: POST /rpc { jsonrpc: '2.0', id: a new id, method, params }. The answer must be an object with jsonrpc
    // '2.0' and your id (else BadResponseError): its result, or RpcCallError(code, message, data) for its error.
    return todo(import.meta.url, 'MessagesClient.rpc');
  }

  /** A JSON-RPC notification: no id, no answer expected (the service says 204). */
  notify(method: string, params?: object): Promise<void> {
    // TODO: POST /rpc { jsonrpc: '2.0', method, params } without an id; resolve once the 2xx answer is in.
    return todo(import.meta.url, 'MessagesClient.notify');
  }

  // TODO (for every call above): one fetch with signal: AbortSignal.timeout(timeoutMs), and read the body under the
  // same signal. Its rejection: TimeoutError when the error's name is 'TimeoutError', else NetworkError (cause: the
  // error). A status that is not 2xx: HttpStatusError(status, the JSON body's error.code if any). A 2xx answer that
  // is not JSON (by Content-Type, or by JSON.parse), except a 204: BadResponseError.
}
