/**
 * Chapter 14 · Web services with JSON.
 *
 * The message service as a JSON API over HTTP: a Handler (the shape of chapter 13's) that lists messages
 * page by page, posts one (201 + Location) and gets one by id, answers every error as JSON with its
 * status code, refuses bodies too large (413) or not JSON (415, with a word for SOAP), and speaks
 * JSON-RPC 2.0 at POST /rpc. Ids are decimal strings of a BigInt counter, so that no id is ever a
 * JavaScript number. The node:http adapter and `serve` are in ./server.ts, the typed client in ./client.ts.
 *
 * Read chapters/14-web-services/lesson.md first. Check your work with `npm run workbook -- check 14`.
 */
import { todo } from '../workbook.ts';

/** A whole request, as chapter 13's server hands it over (body read completely). */
export interface HttpRequest {
  method: string;
  /** The request target as sent: '/messages?limit=5'. */
  target: string;
  version: '1.0' | '1.1';
  /** Names lower-cased; repeated fields joined with ", " (RFC 9110 §5.3). */
  headers: Record<string, string>;
  keepAlive: boolean;
  expectContinue: boolean;
  body: Uint8Array;
  trailers: Record<string, string>;
}

/** What a handler answers; the server adds Content-Length (and drops the body of a HEAD). */
export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

/** A handler sees one whole request and returns its response: it plugs into chapter 13's HttpServer. */
export type Handler = (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;

/** The Content-Type of every JSON response: JSON is UTF-8 between systems (RFC 8259 §8.1). */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
/** The one media type this service reads (RFC 8259 §11). */
export const JSON_MEDIA_TYPE = 'application/json';
/** Largest request body the service reads, by default: beyond it, 413 Content Too Large (RFC 9110 §15.5.14). */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
/** Messages in a page when the client does not say. */
export const DEFAULT_PAGE_SIZE = 20;
/** Most messages in one page, by default; a larger `limit` is a bad query. */
export const MAX_PAGE_SIZE = 100;
/** The methods each resource allows, as its 405 answer's Allow field lists them (RFC 9110 §10.2.1). */
export const ALLOW = { messages: 'GET, HEAD, POST', message: 'GET, HEAD', rpc: 'POST' } as const;

/** A stored message. `id` is a decimal string: never a number, so ids beyond 2^53 survive. */
export interface Message {
  id: string;
  author: string;
  text: string;
  /** When it was posted, as an ISO 8601 string (Date.prototype.toISOString). */
  createdAt: string;
}

/** What a client sends to post a message. */
export interface NewMessage {
  author: string;
  text: string;
}

/** One page of the list: `next` is the `after` of the following page, null on the last page. */
export interface Page {
  messages: Message[];
  next: string | null;
}

/** Which page to list. */
export interface ListQuery {
  limit: number;
  /** Only messages with a larger id; none: from the first. */
  after?: string;
}

/** The stable codes of the service's errors, in the body `{ "error": { "code", "message", ... } }`. */
export type ApiErrorCode =
  | 'ERR_NOT_FOUND' // 404
  | 'ERR_METHOD_NOT_ALLOWED' // 405
  | 'ERR_BODY_TOO_LARGE' // 413
  | 'ERR_UNSUPPORTED_MEDIA_TYPE' // 415
  | 'ERR_SOAP_NOT_SUPPORTED' // 415, for a SOAP envelope
  | 'ERR_BAD_JSON' // 400: not UTF-8, or not JSON
  | 'ERR_INVALID_BODY' // 400: JSON, but not an object
  | 'ERR_INVALID_FIELD' // 400: a member missing, of the wrong type, empty, or unknown; `field` names it
  | 'ERR_BAD_QUERY' // 400: limit or after malformed; `field` names it
  | 'ERR_INTERNAL'; // 500

/** A request the service refuses: its status, its code, and what goes into the JSON error besides. */
export class ApiError extends Error {
  override name = 'ApiError';

  constructor(
    /** The HTTP status of the answer. */
    readonly status: number,
    /** Stable code: check this, never the message. */
    readonly code: ApiErrorCode,
    message: string,
    /** More members of the JSON error object: `field`, `accept`, `example`. */
    readonly details: Record<string, unknown> = {},
    /** More response header fields: `Allow` for a 405. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The JSON-RPC 2.0 error codes (§5.1), and the service's own (outside the reserved -32768..-32000). */
export const RpcErrorCodes = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** messages.get of an id that does not exist. */
  NOT_FOUND: 404,
} as const;

/** Options of the service. */
export interface ServiceOptions {
  /** Largest body read, in bytes. Default DEFAULT_MAX_BODY_BYTES. */
  maxBodyBytes?: number;
  /** The id of the first message. Default 1n. */
  firstId?: bigint;
  /** Messages per page when the query has no limit. Default DEFAULT_PAGE_SIZE. */
  pageSize?: number;
  /** Largest limit a query may ask. Default MAX_PAGE_SIZE. */
  maxPageSize?: number;
  /** Milliseconds since 1970 for createdAt. Default Date.now. */
  clock?: () => number;
}

/** A response whose body is `value` as JSON (Given). */
export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': JSON_CONTENT_TYPE, ...headers }, body: JSON.stringify(value) };
}

/** The JSON answer to an ApiError: `{ "error": { "code", "message", ...details } }` (Given). */
export function errorResponse(error: ApiError): HttpResponse {
  return jsonResponse(error.status, { error: { code: error.code, message: error.message, ...error.details } }, error.headers);
}

/** The messages, in id order, with ids from a BigInt counter. */
export class MessageStore {
  // Your state goes here, as private fields: the messages in id order, a Map from id to message, the next id
  // (a bigint), and the clock.

  /** An empty store whose first message gets `firstId` (default 1n). */
  constructor(options: { firstId?: bigint; clock?: () => number } = {}) {
    // TODO: keep firstId ?? 1n as the next id, and clock ?? Date.now.
    todo(import.meta.url, 'MessageStore constructor');
  }

  /** How many messages it holds. */
  get size(): number {
    // TODO: the number of messages stored.
    return todo(import.meta.url, 'MessageStore.size');
  }

  /** Store a new message with the next id. */
  post(input: NewMessage): Message {
    // TODO: id = String(next id), then count up (a bigint: never a Number); createdAt = new Date(clock()).toISOString().
    return todo(import.meta.url, 'MessageStore.post');
  }

  /** The message with exactly this id, or undefined. */
  get(id: string): Message | undefined {
    // TODO: look the id up as the string it is.
    return todo(import.meta.url, 'MessageStore.get');
  }

  /** Up to `limit` messages with ids greater than `after`, oldest first, and the cursor of the next page. */
  list(query: ListQuery): Page {
    // TODO: the messages whose id (compared as BigInt) is greater than `after` (all when it is missing), at most
    // `limit` of them; next = the last one's id when more messages follow this page, else null.
    return todo(import.meta.url, 'MessageStore.list');
  }
}

/** The checks before a body is parsed: at most `maxBytes` (else 413), and sent as JSON in UTF-8 (else 415). Throws ApiError. */
export function checkBody(request: HttpRequest, maxBytes: number): void {
  // TODO: body.byteLength > maxBytes: ApiError(413, 'ERR_BODY_TOO_LARGE'). The Content-Type's media type (before
  // any ';', trimmed, case-insensitive) must be application/json, and a charset parameter, if any, utf-8
  // (case-insensitive); otherwise ApiError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', ..., { accept: JSON_MEDIA_TYPE }).
  return todo(import.meta.url, 'checkBody');
}

/** The whole body decoded once as UTF-8 and parsed as JSON; ApiError 400 ERR_BAD_JSON when it is neither. */
export function decodeJson(body: Uint8Array): unknown {
  // TODO: new TextDecoder('utf-8', { fatal: true }).decode(body), then JSON.parse; either failing:
  // ApiError(400, 'ERR_BAD_JSON').
  return todo(import.meta.url, 'decodeJson');
}

/** A JSON value checked as a NewMessage: an object with exactly `author` and `text`, each a string with more than whitespace. */
export function validateNewMessage(value: unknown): NewMessage {
  // TODO: not a plain object (null, an array, a string ...): ApiError(400, 'ERR_INVALID_BODY'). author, then text:
  // not a string, or only whitespace: ApiError(400, 'ERR_INVALID_FIELD', ..., { field }). Any other member:
  // ApiError(400, 'ERR_INVALID_FIELD', ..., { field: its name }).
  return todo(import.meta.url, 'validateNewMessage');
}

/** The list query of `?limit=&after=`: limit an integer 1..maxPageSize (default pageSize), after a decimal id. */
export function parseListQuery(search: URLSearchParams, pageSize = DEFAULT_PAGE_SIZE, maxPageSize = MAX_PAGE_SIZE): ListQuery {
  // TODO: limit: digits only, 1 to maxPageSize, else ApiError(400, 'ERR_BAD_QUERY', ..., { field: 'limit' });
  // missing: pageSize. after: /^(0|[1-9][0-9]*)$/, else the same error with field 'after'; missing: no after.
  return todo(import.meta.url, 'parseListQuery');
}

/**
 * Answer a JSON-RPC 2.0 payload (already parsed): one call, or a batch (an array). Returns the response
 * (an object, or an array for a batch), or undefined when there is nothing to answer (notifications only).
 */
export function handleRpc(store: MessageStore, payload: unknown, options: ServiceOptions = {}): object | undefined {
  // TODO: a request is an object with jsonrpc '2.0', a string method, params (if any) an object or array, id (if
  // any) a string, number or null; anything else: an INVALID_REQUEST error with id null. Methods (own ones only):
  // messages.post {author, text}, messages.get {id: a string}, messages.list {limit?, after?}; params by name
  // (an object). Bad params: INVALID_PARAMS with data { field }; no such message: NOT_FOUND; unknown method:
  // METHOD_NOT_FOUND; any other failure: INTERNAL_ERROR. A call without an id (a notification) runs and gets no
  // answer. A batch: the answers of its calls in an array, notifications left out; an empty batch: one
  // INVALID_REQUEST (not an array); nothing to answer: undefined.
  return todo(import.meta.url, 'handleRpc');
}

/** The message service: routes, status codes, JSON errors, and JSON-RPC at /rpc. */
export function messageService(options: ServiceOptions = {}): Handler {
  // TODO: one MessageStore for the service. For each request (catch ApiError into errorResponse(err); any
  // other error into a 500 ERR_INTERNAL):
  //   POST with a SOAP envelope (application/soap+xml, or text/xml with a SOAPAction field), whatever the path:
  //     415 ERR_SOAP_NOT_SUPPORTED, with accept: JSON_MEDIA_TYPE and an `example` { method, path, body } that works;
  //   /messages: GET or HEAD: 200 and a Page; POST: checkBody, decodeJson, validateNewMessage, 201 with
  //     Location: /messages/<id> (an Idempotency-Key seen before replays the first answer); else 405 + Allow;
  //   /messages/<id>: GET or HEAD: 200 or 404; else 405 + Allow;
  //   /rpc: POST: checkBody; a body that is not JSON: 200 with a PARSE_ERROR (id null); else handleRpc:
  //     200 with its answer, or 204 and no body when there is none; else 405 + Allow;
  //   any other path: 404 ERR_NOT_FOUND.
  return todo(import.meta.url, 'messageService');
}
