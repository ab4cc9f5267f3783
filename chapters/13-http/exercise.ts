/**
 * Chapter 13 · HTTP/1.1 from scratch: the request parser.
 *
 * `RequestParser` turns the bytes of a connection into whole requests. It is a state machine over
 * bytes: each `push` walks the new bytes through the states below and returns when it needs more.
 * Lines (request line, field lines, chunk sizes) end in CRLF and are found with `indexOf` on bytes; body
 * bytes are counted, never searched. It holds only the line in progress and the body read so far.
 *
 *   request-line ─► header-line ─┬─► (no body) ───────────────────────────────► done
 *                                ├─► body (Content-Length) ───────────────────► done
 *                                └─► chunk-size ─► chunk-data ─► chunk-data-end ┐
 *                                      ▲  └─(size 0)─► trailer-line ─► done     │
 *                                      └────────────────────────────────────────┘
 * Malformed input throws an HttpError carrying its status; the parser is then 'failed' for good.
 */
import { todo } from '../workbook.ts';

/** The sizes a server refuses to go beyond. */
export interface Limits {
  /** Longest request line, CRLF not counted; longer → 414. */
  maxRequestLineBytes: number;
  /** Largest field section: every field line with its CRLF, and the empty line that ends it; larger → 431. */
  maxHeaderBytes: number;
  /** Most field lines in one request (or one trailer section); more → 431. */
  maxHeaderCount: number;
  /** Largest body, after chunked decoding; larger → 413. */
  maxBodyBytes: number;
}

/** The default limits. */
export const LIMITS: Limits = {
  /** RFC 9112 §3: servers should accept request lines of at least 8000 octets; longer → 414 (RFC 9110 §15.5.15). */
  maxRequestLineBytes: 8192,
  /** RFC 6585 §5: 431 Request Header Fields Too Large. */
  maxHeaderBytes: 16_384,
  /** RFC 6585 §5 again: too many fields is the same refusal. */
  maxHeaderCount: 100,
  /** RFC 9110 §15.5.14: 413 Content Too Large. */
  maxBodyBytes: 1_048_576,
};

/** Where the parser is: which kind of bytes it expects next. */
export type ParserState =
  | 'request-line' | 'header-line' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-data-end' | 'trailer-line' | 'failed';

/** What the parser hands the server once a request's head is complete (before its body). */
export interface RequestHead {
  method: string;
  target: string;
  version: '1.0' | '1.1';
  /** Names lower-cased; repeated fields joined with ", " (RFC 9110 §5.3). */
  headers: Record<string, string>;
  /** Whether the connection stays open after the response (RFC 9112 §9.3). */
  keepAlive: boolean;
  /** Whether the client waits for `100 Continue` before sending its body (RFC 9110 §10.1.1). */
  expectContinue: boolean;
}

/** A whole request. */
export interface HttpRequest extends RequestHead {
  body: Uint8Array;
  /** Fields sent after a chunked body, names lower-cased (RFC 9112 §7.1.2). */
  trailers: Record<string, string>;
}

/** The stable codes of malformed requests. */
export type HttpErrorCode =
  | 'ERR_BAD_REQUEST_LINE' | 'ERR_BAD_VERSION' | 'ERR_LINE_TOO_LONG' | 'ERR_BARE_LF' | 'ERR_BAD_HEADER' | 'ERR_OBS_FOLD'
  | 'ERR_SPACE_BEFORE_COLON' | 'ERR_HEADERS_TOO_LARGE' | 'ERR_MISSING_HOST' | 'ERR_DUPLICATE_HOST'
  | 'ERR_BAD_CONTENT_LENGTH' | 'ERR_BOTH_LENGTHS' | 'ERR_BAD_TRANSFER_ENCODING' | 'ERR_BAD_CHUNK' | 'ERR_BODY_TOO_LARGE';

/** The status each code is answered with. */
export const ERROR_STATUS: Record<HttpErrorCode, number> = {
  ERR_BAD_REQUEST_LINE: 400,
  ERR_BAD_VERSION: 505, // RFC 9110 §15.6.6
  ERR_LINE_TOO_LONG: 414, // RFC 9110 §15.5.15
  ERR_BARE_LF: 400, // RFC 9112 §2.2: we accept only CRLF
  ERR_BAD_HEADER: 400,
  ERR_OBS_FOLD: 400, // RFC 9112 §5.2
  ERR_SPACE_BEFORE_COLON: 400, // RFC 9112 §5.1
  ERR_HEADERS_TOO_LARGE: 431, // RFC 6585 §5
  ERR_MISSING_HOST: 400, // RFC 9112 §3.2
  ERR_DUPLICATE_HOST: 400, // RFC 9112 §3.2
  ERR_BAD_CONTENT_LENGTH: 400, // RFC 9112 §6.3
  ERR_BOTH_LENGTHS: 400, // RFC 9112 §6.3: a smuggling attempt
  ERR_BAD_TRANSFER_ENCODING: 501, // RFC 9112 §6.1: a coding we do not implement
  ERR_BAD_CHUNK: 400, // RFC 9112 §7.1
  ERR_BODY_TOO_LARGE: 413, // RFC 9110 §15.5.14
};

/** A malformed or refused request: `code` says what was wrong, `status` what to answer. */
export class HttpError extends Error {
  override name = 'HttpError';
  /** The response status for this error. */
  readonly status: number;

  constructor(
    /** Stable code: check this, never the message. */
    readonly code: HttpErrorCode,
    message: string,
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }
}

/** What the parser tells its owner as it goes. */
export interface ParserEvents {
  /** A request's head is complete and valid; `state` already says what comes next ('request-line': no body). */
  onHead?(head: RequestHead): void;
}

/** Parses the requests of one connection, as their bytes arrive. */
export class RequestParser {
  private readonly limits: Limits;

  // Your state goes here, as private fields: the state, the pieces of an incomplete line and their size, the
  // request whose head or body is in progress, the bytes and field count of the current field section, how
  // many Host fields it had, the body pieces so far and their size, and how many bytes of the body, of the
  // current chunk or of the CRLF after a chunk are still to come.

  /** A parser with LIMITS, overridden by `limits`; `events.onHead` hears of each head once it is complete. */
  constructor(limits: Partial<Limits> = {}, private readonly events: ParserEvents = {}) {
    this.limits = { ...LIMITS, ...limits };
  }

  /** Where the parser is. */
  get state(): ParserState {
    // TODO: the current state; 'request-line' before the first byte and after each whole request.
    return todo(import.meta.url, 'RequestParser.state');
  }

  /** Bytes held that are not yet part of a completed request: the line in progress and the body so far. */
  get bufferedBytes(): number {
    // TODO: the size of the incomplete line you hold, plus the body bytes of the request in progress.
    return todo(import.meta.url, 'RequestParser.bufferedBytes');
  }

  /** Feed bytes; returns every request they complete. Throws HttpError on malformed input, then for good. */
  push(bytes: Uint8Array): HttpRequest[] {
    // TODO: a loop over the new bytes that returns when it needs more, one step per state:
    // - line states (request-line, header-line, chunk-size, trailer-line): find the LF with indexOf on the bytes;
    //   none yet: keep a COPY of the rest and return (refuse at once a line already over its limit); found: the
    //   line must end in CRLF (else ERR_BARE_LF) and fit its limit (request line: maxRequestLineBytes, CRLF not
    //   counted, else 414; field section: maxHeaderBytes in all, CRLFs and the final empty line counted, else 431).
    // - request-line: skip empty lines; method SP target SP HTTP/1.1 or HTTP/1.0 (other HTTP/d.d: 505).
    // - header-line: name ":" OWS value OWS; no whitespace before the colon, none at the start of a line
    //   (obs-fold), name a token, no control bytes in the value, at most maxHeaderCount lines, one Host.
    //   The empty line ends the head: Host on 1.1; never both Transfer-Encoding and Content-Length;
    //   Transfer-Encoding must be exactly chunked (else 501); Content-Length digits only (repeats must agree),
    //   at most maxBodyBytes (else 413); keepAlive and expectContinue; call events.onHead, then read the body.
    // - body: Content-Length bytes, counted, copied. chunk-size: hex size (either case) [; extensions ignored];
    //   0 goes to the trailers. chunk-data, then exactly CRLF (chunk-data-end). trailer-line: fields until the
    //   empty line, into `trailers`.
    // On an HttpError: state 'failed', and every later push throws the same error. Never keep `bytes` itself.
    return todo(import.meta.url, 'RequestParser.push');
  }
}
