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
import { JSON_CONTENT_TYPE, JSON_MEDIA_TYPE } from './exercise.ts';

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

/** What one exchange brought back: the status and the JSON value (undefined for an empty body). */
interface Answer {
  status: number;
  value: unknown;
}

const isJson = (contentType: string | null) => (contentType ?? '').split(';')[0]!.trim().toLowerCase() === JSON_MEDIA_TYPE;

/** A typed client of the message service. */
export class MessagesClient {
  /** The service's base URL, e.g. 'http://127.0.0.1:41234'. */
  readonly baseUrl: string;
  /** Deadline of each call, in ms. */
  readonly timeoutMs: number;
  #nextRpcId = 1;

  /** A client of the service at `baseUrl`. */
  constructor(baseUrl: string, options: ClientOptions = {}) {
    this.baseUrl = baseUrl;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** One page of messages (GET /messages?limit=&after=). */
  async list(query: { limit?: number; after?: string } = {}): Promise<Page> {
    const search = new URLSearchParams();
    if (query.limit !== undefined) search.set('limit', String(query.limit));
    if (query.after !== undefined) search.set('after', query.after);
    const qs = String(search);
    return (await this.#exchange('GET', qs ? `/messages?${qs}` : '/messages')).value as Page;
  }

  /** Post a message (POST /messages); the same idempotencyKey on a retry never posts it twice. */
  async post(message: NewMessage, options: { idempotencyKey?: string } = {}): Promise<Message> {
    const headers: Record<string, string> = options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey };
    return (await this.#exchange('POST', '/messages', message, headers)).value as Message;
  }

  /** One message by id (GET /messages/<id>); the id stays a string, whatever its size. */
  async get(id: string): Promise<Message> {
    return (await this.#exchange('GET', `/messages/${encodeURIComponent(id)}`)).value as Message;
  }

  /** A JSON-RPC call at POST /rpc: its result, or RpcCallError with the error object's code and data. */
  async rpc(method: string, params?: object): Promise<unknown> {
    const id = this.#nextRpcId++;
    const url = this.#url('/rpc');
    // JSON.stringify leaves out `params` when it is undefined.
    const { status, value } = await this.#exchange('POST', '/rpc', { jsonrpc: '2.0', id, method, params });
    const reply = value as { jsonrpc?: unknown; id?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } } | undefined;
    if (typeof reply !== 'object' || reply === null || reply.jsonrpc !== '2.0' || reply.id !== id) throw new BadResponseError('POST', url, status);
    if ('result' in reply) return reply.result;
    const error = reply.error;
    if (typeof error?.code !== 'number') throw new BadResponseError('POST', url, status);
    throw new RpcCallError(url, error.code, String(error.message), error.data);
  }

  /** A JSON-RPC notification: no id, no answer expected (the service says 204). */
  async notify(method: string, params?: object): Promise<void> {
    await this.#exchange('POST', '/rpc', { jsonrpc: '2.0', method, params });
  }

  #url(path: string): string {
    return new URL(path, this.baseUrl).href;
  }

  /** One HTTP exchange under one deadline, every failure mapped to its class. */
  async #exchange(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const url = this.#url(path);
    let response: Response;
    let text: string;
    try {
      // One signal for the whole call: it also aborts reading a body that stalls after the headers.
      const signal = AbortSignal.timeout(this.timeoutMs);
      response = await fetch(url, {
        method,
        // Stryker disable next-line ConditionalExpression: a Content-Type on a request without a body is harmless, and the lesson allows it
        headers: { accept: JSON_MEDIA_TYPE, ...(body === undefined ? {} : { 'content-type': JSON_CONTENT_TYPE }), ...headers },
        // Stryker disable next-line ConditionalExpression: JSON.stringify(undefined) is undefined too
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      text = await response.text();
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw new TimeoutError(method, url, this.timeoutMs);
      throw new NetworkError(method, url, { cause: err });
    }
    const { status } = response;
    let value: unknown;
    let parsed = false;
    if (isJson(response.headers.get('content-type'))) {
      try {
        value = JSON.parse(text);
        parsed = true;
      } catch {
        // Left unparsed: a non-2xx answer is still an HttpStatusError, a 2xx one a BadResponseError.
      }
    }
    if (!response.ok) {
      const code = (value as { error?: { code?: unknown } } | undefined)?.error?.code;
      throw new HttpStatusError(method, url, status, typeof code === 'string' ? code : undefined, value);
    }
    // Only 204 may come without a body; anything else must be JSON.
    if (!parsed && status !== 204) throw new BadResponseError(method, url, status);
    return { status, value };
  }
}
