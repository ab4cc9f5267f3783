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

/** A decimal id as the service writes them: digits, no sign, no leading zero. */
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** The messages, in id order, with ids from a BigInt counter. */
export class MessageStore {
  // Ids only ever grow, so the array stays sorted by id and a page is found by binary search.
  readonly #messages: Message[] = [];
  readonly #byId = new Map<string, Message>();
  #nextId: bigint;
  readonly #clock: () => number;

  /** An empty store whose first message gets `firstId` (default 1n). */
  constructor(options: { firstId?: bigint; clock?: () => number } = {}) {
    this.#nextId = options.firstId ?? 1n;
    this.#clock = options.clock ?? Date.now;
  }

  /** How many messages it holds. */
  get size(): number {
    return this.#messages.length;
  }

  /** Store a new message with the next id. */
  post(input: NewMessage): Message {
    // BigInt, then a string: a Number counter would stop counting by one at 2^53.
    const id = String(this.#nextId++);
    const message: Message = { id, author: input.author, text: input.text, createdAt: new Date(this.#clock()).toISOString() };
    this.#messages.push(message);
    this.#byId.set(id, message);
    return message;
  }

  /** The message with exactly this id, or undefined. */
  get(id: string): Message | undefined {
    return this.#byId.get(id);
  }

  /** Up to `limit` messages with ids greater than `after`, oldest first, and the cursor of the next page. */
  list(query: ListQuery): Page {
    const start = query.after === undefined ? 0 : this.#firstAfter(BigInt(query.after));
    const messages = this.#messages.slice(start, start + query.limit);
    // A page that ends before the last message says where the next one starts; the last page says null.
    const more = start + messages.length < this.#messages.length;
    return { messages, next: more ? messages.at(-1)!.id : null };
  }

  /** Index of the first message whose id is greater than `after`. */
  #firstAfter(after: bigint): number {
    let lo = 0;
    let hi = this.#messages.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (BigInt(this.#messages[mid]!.id) <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** `type/subtype` (lower-cased) and its parameters (names lower-cased), or undefined when there is no header. */
function mediaType(header: string | undefined): { type: string; params: Map<string, string> } | undefined {
  if (header === undefined) return undefined;
  const [type, ...rest] = header.split(';');
  const params = new Map<string, string>();
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim());
  }
  return { type: type!.trim().toLowerCase(), params };
}

/** SOAP 1.2 says application/soap+xml; SOAP 1.1 says text/xml with a SOAPAction field. */
function isSoap(headers: Record<string, string>): boolean {
  const type = mediaType(headers['content-type'])?.type;
  return type === 'application/soap+xml' || (type === 'text/xml' && 'soapaction' in headers);
}

/** The checks before a body is parsed: at most `maxBytes` (else 413), and sent as JSON in UTF-8 (else 415). Throws ApiError. */
export function checkBody(request: HttpRequest, maxBytes: number): void {
  // Bytes, not characters: the limit protects memory, and one emoji is four bytes.
  if (request.body.byteLength > maxBytes) {
    throw new ApiError(413, 'ERR_BODY_TOO_LARGE', `the body is ${request.body.byteLength} bytes; at most ${maxBytes} are read`, { limit: maxBytes });
  }
  const media = mediaType(request.headers['content-type']);
  const charset = media?.params.get('charset')?.toLowerCase();
  if (media?.type !== JSON_MEDIA_TYPE || (charset !== undefined && charset !== 'utf-8')) {
    throw new ApiError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', `send the body as ${JSON_CONTENT_TYPE}`, { accept: JSON_MEDIA_TYPE });
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The whole body decoded once as UTF-8 and parsed as JSON; ApiError 400 ERR_BAD_JSON when it is neither. */
export function decodeJson(body: Uint8Array): unknown {
  try {
    // fatal: a byte that is not UTF-8 is an error, not a silent U+FFFD in the stored text.
    return JSON.parse(strictUtf8.decode(body));
  } catch {
    throw new ApiError(400, 'ERR_BAD_JSON', 'the body is not JSON in UTF-8');
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON value checked as a NewMessage: an object with exactly `author` and `text`, each a string with more than whitespace. */
export function validateNewMessage(value: unknown): NewMessage {
  if (!isObject(value)) throw new ApiError(400, 'ERR_INVALID_BODY', 'the body must be a JSON object: {"author": "...", "text": "..."}');
  for (const field of ['author', 'text'] as const) {
    const v = value[field];
    if (typeof v !== 'string' || v.trim() === '') {
      throw new ApiError(400, 'ERR_INVALID_FIELD', `"${field}" must be a string that is not empty`, { field });
    }
  }
  // A typo such as "txt" is refused, not silently dropped.
  const unknown = Object.keys(value).find((k) => k !== 'author' && k !== 'text');
  if (unknown !== undefined) throw new ApiError(400, 'ERR_INVALID_FIELD', `unknown member "${unknown}"`, { field: unknown });
  return { author: value.author as string, text: value.text as string };
}

/** The list query of `?limit=&after=`: limit an integer 1..maxPageSize (default pageSize), after a decimal id. */
export function parseListQuery(search: URLSearchParams, pageSize = DEFAULT_PAGE_SIZE, maxPageSize = MAX_PAGE_SIZE): ListQuery {
  const query: ListQuery = { limit: pageSize };
  const limit = search.get('limit');
  if (limit !== null) {
    // Digits only: Number('') is 0, Number('1e2') is 100 and Number(' 5') is 5, none of them a limit anyone wrote.
    const n = /^[0-9]+$/.test(limit) ? Number(limit) : NaN;
    if (!(n >= 1 && n <= maxPageSize)) throw new ApiError(400, 'ERR_BAD_QUERY', `limit must be a whole number from 1 to ${maxPageSize}`, { field: 'limit' });
    query.limit = n;
  }
  const after = search.get('after');
  if (after !== null) {
    if (!DECIMAL.test(after)) throw new ApiError(400, 'ERR_BAD_QUERY', 'after must be a message id (decimal digits)', { field: 'after' });
    query.after = after;
  }
  return query;
}

/** A JSON-RPC method failed: its code, and the message and data of the error object. */
class RpcFault extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

type RpcId = string | number | null;
type RpcMethod = (store: MessageStore, params: Record<string, unknown>, options: ServiceOptions) => unknown;

/** Params by name only; an ApiError from validation becomes INVALID_PARAMS with its field. */
function named(params: unknown): Record<string, unknown> {
  if (params === undefined) return {};
  if (!isObject(params)) throw new RpcFault(RpcErrorCodes.INVALID_PARAMS, 'params must be an object (by name)');
  return params;
}

const rpcMethods: Record<string, RpcMethod> = {
  'messages.post': (store, params) => store.post(validateNewMessage(params)),
  'messages.get': (store, params) => {
    // A number id may already have lost digits in JSON.parse: only a string is an id.
    if (typeof params.id !== 'string') throw new RpcFault(RpcErrorCodes.INVALID_PARAMS, 'id must be a string', { field: 'id' });
    const message = store.get(params.id);
    if (!message) throw new RpcFault(RpcErrorCodes.NOT_FOUND, 'no such message', { id: params.id });
    return message;
  },
  'messages.list': (store, params, options) => {
    const { limit, after } = params;
    if (limit !== undefined && typeof limit !== 'number') throw new RpcFault(RpcErrorCodes.INVALID_PARAMS, 'limit must be a number', { field: 'limit' });
    if (after !== undefined && typeof after !== 'string') throw new RpcFault(RpcErrorCodes.INVALID_PARAMS, 'after must be a string', { field: 'after' });
    // The same rules as the query string, so both doors to the list agree.
    const search = new URLSearchParams();
    if (limit !== undefined) search.set('limit', String(limit));
    if (after !== undefined) search.set('after', after);
    return store.list(parseListQuery(search, options.pageSize, options.maxPageSize));
  },
};

/** Whether `value` is a valid JSON-RPC 2.0 request object (§4). */
function isRequest(value: unknown): value is { jsonrpc: '2.0'; method: string; params?: unknown; id?: RpcId } {
  if (!isObject(value) || value.jsonrpc !== '2.0' || typeof value.method !== 'string') return false;
  if ('params' in value && (typeof value.params !== 'object' || value.params === null)) return false;
  return !('id' in value) || value.id === null || typeof value.id === 'string' || typeof value.id === 'number';
}

/** Answer one call: its response, or undefined for a notification (a request without an id). */
function answerOne(store: MessageStore, call: unknown, options: ServiceOptions): object | undefined {
  if (!isRequest(call)) return { jsonrpc: '2.0', id: null, error: { code: RpcErrorCodes.INVALID_REQUEST, message: 'Invalid Request' } };
  const { method, params } = call;
  let outcome: { result: unknown } | { error: { code: number; message: string; data?: unknown } };
  try {
    // Own properties only: 'toString' and 'constructor' are not methods of this service.
    if (!Object.hasOwn(rpcMethods, method)) throw new RpcFault(RpcErrorCodes.METHOD_NOT_FOUND, 'Method not found', { method });
    outcome = { result: rpcMethods[method]!(store, named(params), options) };
  } catch (err) {
    // An undefined `data` is left out by JSON.stringify.
    if (err instanceof RpcFault) outcome = { error: { code: err.code, message: err.message, data: err.data } };
    else if (err instanceof ApiError) outcome = { error: { code: RpcErrorCodes.INVALID_PARAMS, message: err.message, data: err.details } };
    else outcome = { error: { code: RpcErrorCodes.INTERNAL_ERROR, message: 'Internal error' } };
  }
  // A notification has done its work; nobody waits for an answer (§4.1).
  if (!('id' in call)) return undefined;
  return { jsonrpc: '2.0', id: call.id, ...outcome };
}

/**
 * Answer a JSON-RPC 2.0 payload (already parsed): one call, or a batch (an array). Returns the response
 * (an object, or an array for a batch), or undefined when there is nothing to answer (notifications only).
 */
export function handleRpc(store: MessageStore, payload: unknown, options: ServiceOptions = {}): object | undefined {
  if (!Array.isArray(payload)) return answerOne(store, payload, options);
  // An empty batch is itself an invalid request: one error object, not an empty array (§6).
  if (payload.length === 0) return answerOne(store, payload, options);
  const answers = payload.map((call) => answerOne(store, call, options)).filter((a) => a !== undefined);
  return answers.length > 0 ? answers : undefined;
}

/** A SOAP request gets pointed at the JSON door, with a request it could send instead. */
function soapError(): ApiError {
  return new ApiError(415, 'ERR_SOAP_NOT_SUPPORTED', `no envelopes here: POST ${JSON_MEDIA_TYPE} to /messages, e.g. {"author":"Ada","text":"Hello, Bram"}`, {
    accept: JSON_MEDIA_TYPE,
    example: { method: 'POST', path: '/messages', body: { author: 'Ada', text: 'Hello, Bram' } },
  });
}

/** The target as a URL: origin-form ('/messages?limit=5') or absolute-form ('http://host/messages'); undefined otherwise. */
function parseTarget(target: string): URL | undefined {
  // Never new URL(target, base): '//x' would read as a host named x.
  const full = target.startsWith('/') ? `http://service.invalid${target}` : target;
  return URL.canParse(full) ? new URL(full) : undefined;
}

const notAllowed = (allow: string) => new ApiError(405, 'ERR_METHOD_NOT_ALLOWED', `allowed here: ${allow}`, {}, { allow });
const isRead = (method: string) => method === 'GET' || method === 'HEAD';

/** The message service: routes, status codes, JSON errors, and JSON-RPC at /rpc. */
export function messageService(options: ServiceOptions = {}): Handler {
  const store = new MessageStore(options);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  // The first answer to each Idempotency-Key, replayed for a retry of the same POST.
  const replies = new Map<string, HttpResponse>();

  const route = (request: HttpRequest): HttpResponse => {
    const { method, headers } = request;
    // A SOAP envelope gets its helpful 415 wherever it was posted: that is the one thing it needs to hear.
    if (method === 'POST' && isSoap(headers)) throw soapError();
    const url = parseTarget(request.target);
    // '*' (OPTIONS) or a target no URL parser reads: no resource of ours.
    if (!url) throw new ApiError(404, 'ERR_NOT_FOUND', `nothing at ${request.target}`);
    const path = url.pathname;

    if (path === '/messages') {
      if (isRead(method)) return jsonResponse(200, store.list(parseListQuery(url.searchParams, options.pageSize, options.maxPageSize)));
      if (method !== 'POST') throw notAllowed(ALLOW.messages);
      checkBody(request, maxBodyBytes);
      const input = validateNewMessage(decodeJson(request.body));
      const key = headers['idempotency-key'];
      // Stryker disable next-line ConditionalExpression: no answer is ever stored under an undefined key (see below)
      const replay = key === undefined ? undefined : replies.get(key);
      if (replay) return replay;
      const message = store.post(input);
      const created = jsonResponse(201, message, { location: `/messages/${message.id}` });
      // Stryker disable next-line ConditionalExpression: an answer stored under undefined is never looked up (see above)
      if (key !== undefined) replies.set(key, created);
      return created;
    }

    const one = /^\/messages\/([^/]+)$/.exec(path);
    if (one) {
      if (!isRead(method)) throw notAllowed(ALLOW.message);
      const message = store.get(one[1]!);
      if (!message) throw new ApiError(404, 'ERR_NOT_FOUND', `no message ${one[1]}`);
      return jsonResponse(200, message);
    }

    if (path === '/rpc') {
      if (method !== 'POST') throw notAllowed(ALLOW.rpc);
      checkBody(request, maxBodyBytes);
      let payload: unknown;
      try {
        payload = decodeJson(request.body);
      } catch {
        // JSON-RPC reports its own parse error, in a 200 like every other JSON-RPC answer.
        return jsonResponse(200, { jsonrpc: '2.0', id: null, error: { code: RpcErrorCodes.PARSE_ERROR, message: 'Parse error' } });
      }
      const answer = handleRpc(store, payload, options);
      return answer === undefined ? { status: 204 } : jsonResponse(200, answer);
    }

    throw new ApiError(404, 'ERR_NOT_FOUND', `nothing at ${path}`);
  };

  return (request) => {
    try {
      return route(request);
    } catch (err) {
      if (err instanceof ApiError) return errorResponse(err);
      // A bug or a broken dependency: a JSON 500, and no detail of it leaks to the client.
      return errorResponse(new ApiError(500, 'ERR_INTERNAL', 'internal error'));
    }
  };
}
