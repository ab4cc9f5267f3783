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

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;
const EMPTY = new Uint8Array(0);

/** tchar of RFC 9110 §5.6.2, as a lookup table: methods and field names are tokens. */
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN[c.charCodeAt(0)] = 1;

const isBlank = (c: number | undefined) => c === SP || c === HT;

/** Parses the requests of one connection, as their bytes arrive. */
export class RequestParser {
  private readonly limits: Limits;
  private current: ParserState = 'request-line';
  private failure: unknown;
  /** The pieces of an incomplete line (copies: the caller may reuse its buffers). */
  private line: Buffer[] = [];
  private lineBytes = 0;
  /** The request whose head is being read or whose body is arriving. */
  private request: HttpRequest | undefined;
  /** Bytes and field lines of the current field section (headers, then trailers). */
  private sectionBytes = 0;
  private fieldCount = 0;
  private hosts = 0;
  private body: Buffer[] = [];
  private bodyBytes = 0;
  /** Bytes still to come of the body, of the current chunk, or of the CRLF after a chunk. */
  private remaining = 0;

  constructor(limits: Partial<Limits> = {}, private readonly events: ParserEvents = {}) {
    this.limits = { ...LIMITS, ...limits };
  }

  /** Where the parser is. */
  get state(): ParserState {
    return this.current;
  }

  /** Bytes held that are not yet part of a completed request: the line in progress and the body so far. */
  get bufferedBytes(): number {
    return this.lineBytes + this.bodyBytes;
  }

  /** Feed bytes; returns every request they complete. Throws HttpError on malformed input, then for good. */
  push(bytes: Uint8Array): HttpRequest[] {
    if (this.failure) throw this.failure;
    const input = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const done: HttpRequest[] = [];
    try {
      let at = 0;
      while (at < input.length) {
        if (this.current === 'body' || this.current === 'chunk-data') {
          at = this.readData(input, at, done);
        } else if (this.current === 'chunk-data-end') {
          at = this.readChunkEnd(input, at);
        } else {
          const lf = input.indexOf(LF, at);
          if (lf === -1) {
            this.holdPartialLine(input.subarray(at));
            break; // the rest of the line is still on its way
          }
          const line = this.takeLine(input.subarray(at, lf + 1));
          at = lf + 1;
          this.onLine(line, done);
        }
      }
    } catch (err) {
      // After a framing error nothing more on this connection can be read with confidence.
      this.failure = err;
      this.current = 'failed';
      throw err;
    }
    return done;
  }

  /** Bytes a line may have in this state, CRLF included. */
  private lineLimit(): number {
    if (this.current === 'header-line' || this.current === 'trailer-line') return this.limits.maxHeaderBytes - this.sectionBytes;
    return this.limits.maxRequestLineBytes + 2;
  }

  private tooLong(): HttpError {
    if (this.current === 'request-line') return new HttpError('ERR_LINE_TOO_LONG', 'request line too long');
    if (this.current === 'chunk-size') return new HttpError('ERR_BAD_CHUNK', 'chunk size line too long');
    return new HttpError('ERR_HEADERS_TOO_LARGE', 'field section too large');
  }

  private holdPartialLine(rest: Buffer): void {
    this.line.push(Buffer.from(rest)); // a copy: never keep the caller's buffer
    this.lineBytes += rest.length;
    // Already longer than a whole line may be, and its LF still to come: refuse it now, before it grows.
    // Stryker disable next-line EqualityOperator: at exactly the limit the LF still to come makes it too long anyway
    if (this.lineBytes > this.lineLimit()) throw this.tooLong();
  }

  /** A complete line (ending in LF) without its CRLF. */
  private takeLine(end: Buffer): Buffer {
    // Stryker disable next-line ConditionalExpression: a shortcut; concat of one piece gives the same bytes
    const line = this.lineBytes === 0 ? end : Buffer.concat([...this.line, end]);
    this.line = [];
    this.lineBytes = 0;
    if (line.length > this.lineLimit()) throw this.tooLong();
    if (line[line.length - 2] !== CR) throw new HttpError('ERR_BARE_LF', 'a line ended in LF without CR');
    this.sectionBytes += line.length; // counts for the field sections; reset where each one starts
    return line.subarray(0, line.length - 2);
  }

  private onLine(line: Buffer, done: HttpRequest[]): void {
    switch (this.current) {
      case 'request-line':
        // RFC 9112 §2.2: ignore empty lines before a request (some clients send a CRLF after a body).
        if (line.length > 0) this.startRequest(line);
        return;
      case 'header-line':
        if (line.length > 0) this.addField(line, this.request!.headers);
        else this.endHead(done);
        return;
      case 'chunk-size':
        this.startChunk(line);
        return;
      default: // 'trailer-line'
        if (line.length > 0) this.addField(line, this.request!.trailers);
        else this.finish(done);
    }
  }

  /** method SP request-target SP HTTP-version (RFC 9112 §3), single spaces only. */
  private startRequest(line: Buffer): void {
    const first = line.indexOf(SP);
    const last = line.lastIndexOf(SP);
    if (first <= 0 || last === first) throw new HttpError('ERR_BAD_REQUEST_LINE', 'expected: method SP target SP version');
    for (let i = 0; i < first; i++) if (!TOKEN[line[i]]) throw new HttpError('ERR_BAD_REQUEST_LINE', 'the method is not a token');
    // The target: visible ASCII only, so no space, no control byte (RFC 9112 §3.2).
    for (let i = first + 1; i < last; i++) {
      const c = line[i];
      if (c <= SP || c >= 0x7f) throw new HttpError('ERR_BAD_REQUEST_LINE', 'bad byte in the request target');
    }
    if (last === first + 1) throw new HttpError('ERR_BAD_REQUEST_LINE', 'empty request target');
    const version = line.toString('latin1', last + 1);
    if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') {
      if (/^HTTP\/\d\.\d$/.test(version)) throw new HttpError('ERR_BAD_VERSION', `unsupported version ${version}`);
      throw new HttpError('ERR_BAD_REQUEST_LINE', 'malformed HTTP version');
    }
    this.request = {
      method: line.toString('latin1', 0, first),
      target: line.toString('latin1', first + 1, last),
      version: version === 'HTTP/1.1' ? '1.1' : '1.0',
      headers: Object.create(null) as Record<string, string>, // no prototype: a field named __proto__ is just a field
      // Stryker disable next-line BooleanLiteral: set by endHead before anyone sees the request
      keepAlive: false,
      // Stryker disable next-line BooleanLiteral: set by endHead before anyone sees the request
      expectContinue: false,
      body: EMPTY,
      trailers: Object.create(null) as Record<string, string>,
    };
    this.sectionBytes = 0;
    this.fieldCount = 0;
    this.hosts = 0;
    this.current = 'header-line';
  }

  /** field-name ":" OWS field-value OWS (RFC 9112 §5). */
  private addField(line: Buffer, into: Record<string, string>): void {
    if (isBlank(line[0])) throw new HttpError('ERR_OBS_FOLD', 'a field line starts with whitespace (obs-fold)');
    if (++this.fieldCount > this.limits.maxHeaderCount) throw new HttpError('ERR_HEADERS_TOO_LARGE', 'too many fields');
    const colon = line.indexOf(COLON);
    if (colon <= 0) throw new HttpError('ERR_BAD_HEADER', 'a field line without a name and colon');
    // Whitespace here lets two parsers disagree on the name: refuse it (a smuggling vector).
    if (isBlank(line[colon - 1])) throw new HttpError('ERR_SPACE_BEFORE_COLON', 'whitespace between field name and colon');
    for (let i = 0; i < colon; i++) if (!TOKEN[line[i]]) throw new HttpError('ERR_BAD_HEADER', 'the field name is not a token');
    let start = colon + 1;
    let end = line.length;
    while (isBlank(line[start])) start++;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: an all-blank value gives end < start, and toString(start, end) is '' too
    while (end > start && isBlank(line[end - 1])) end--;
    for (const c of line.subarray(start, end)) {
      if ((c < SP && c !== HT) || c === 0x7f) throw new HttpError('ERR_BAD_HEADER', 'a control byte in a field value');
    }
    const name = line.toString('latin1', 0, colon).toLowerCase();
    const value = line.toString('latin1', start, end);
    if (name === 'host' && into === this.request!.headers && ++this.hosts > 1) {
      throw new HttpError('ERR_DUPLICATE_HOST', 'more than one Host field');
    }
    const before = into[name];
    into[name] = before === undefined ? value : `${before}, ${value}`;
  }

  /** The empty line: decide how long the body is (RFC 9112 §6.3), then hand the head over. */
  private endHead(done: HttpRequest[]): void {
    const request = this.request!;
    const { headers, version } = request;
    if (version === '1.1' && this.hosts === 0) throw new HttpError('ERR_MISSING_HOST', 'HTTP/1.1 requires a Host field');
    const te = headers['transfer-encoding'];
    const cl = headers['content-length'];
    if (te !== undefined && cl !== undefined) throw new HttpError('ERR_BOTH_LENGTHS', 'both Transfer-Encoding and Content-Length');
    let next: ParserState = 'request-line';
    if (te !== undefined) {
      // The only coding we implement is chunked, applied once.
      if (te.toLowerCase() !== 'chunked') throw new HttpError('ERR_BAD_TRANSFER_ENCODING', `unsupported transfer coding ${te}`);
      next = 'chunk-size';
    } else if (cl !== undefined) {
      this.remaining = contentLength(cl);
      if (this.remaining > this.limits.maxBodyBytes) throw new HttpError('ERR_BODY_TOO_LARGE', 'Content-Length over the limit');
      if (this.remaining > 0) next = 'body';
    }
    const tokens = (headers.connection ?? '').toLowerCase().split(',').map((t) => t.trim());
    request.keepAlive = !tokens.includes('close') && (version === '1.1' || tokens.includes('keep-alive'));
    // RFC 9110 §10.1.1: a 1.0 client cannot know 100 Continue, so its expectation is ignored.
    request.expectContinue = version === '1.1' && headers.expect?.toLowerCase() === '100-continue';
    this.current = next; // set first: a server's onHead can ask `state` whether a body follows
    this.events.onHead?.(request);
    if (next === 'request-line') this.finish(done);
  }

  /** chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1); extensions are allowed and ignored. */
  private startChunk(line: Buffer): void {
    const m = /^([0-9A-Fa-f]+)[ \t]*(?:;[^\x00-\x08\x0a-\x1f\x7f]*)?$/.exec(line.toString('latin1'));
    if (!m) throw new HttpError('ERR_BAD_CHUNK', 'malformed chunk size line');
    const size = parseInt(m[1], 16); // hex, either case; a huge size becomes a huge float, still over the limit
    if (size === 0) {
      this.sectionBytes = 0; // the trailer section gets its own budget
      this.fieldCount = 0;
      this.current = 'trailer-line';
    } else if (this.bodyBytes + size > this.limits.maxBodyBytes) {
      throw new HttpError('ERR_BODY_TOO_LARGE', 'chunked body over the limit');
    } else {
      this.remaining = size;
      this.current = 'chunk-data';
    }
  }

  /** Body bytes: counted, copied, never searched. */
  private readData(input: Buffer, at: number, done: HttpRequest[]): number {
    const n = Math.min(this.remaining, input.length - at);
    this.body.push(Buffer.from(input.subarray(at, at + n)));
    this.bodyBytes += n;
    this.remaining -= n;
    if (this.remaining === 0) {
      if (this.current === 'body') this.finish(done);
      else {
        this.current = 'chunk-data-end';
        this.remaining = 2;
      }
    }
    return at + n;
  }

  /** Exactly CR then LF after a chunk's data. */
  private readChunkEnd(input: Buffer, at: number): number {
    if (input[at] !== (this.remaining === 2 ? CR : LF)) throw new HttpError('ERR_BAD_CHUNK', 'chunk data not followed by CRLF');
    if (--this.remaining === 0) this.current = 'chunk-size';
    return at + 1;
  }

  private finish(done: HttpRequest[]): void {
    const request = this.request!;
    // Stryker disable next-line ConditionalExpression: a shortcut that saves a copy; concat of one piece gives the same bytes
    request.body = this.body.length === 1 ? this.body[0] : Buffer.concat(this.body, this.bodyBytes);
    done.push(request);
    this.request = undefined;
    this.body = [];
    this.bodyBytes = 0;
    this.current = 'request-line';
  }
}

/** Content-Length: digits only; a repeated field must repeat the same value (RFC 9112 §6.3). */
function contentLength(value: string): number {
  let length = -1;
  for (const part of value.split(',')) {
    const digits = part.trim();
    if (!/^[0-9]+$/.test(digits)) throw new HttpError('ERR_BAD_CONTENT_LENGTH', `bad Content-Length ${value}`);
    const n = Number(digits);
    if (length !== -1 && n !== length) throw new HttpError('ERR_BAD_CONTENT_LENGTH', `differing Content-Length values ${value}`);
    length = n;
  }
  return length;
}
