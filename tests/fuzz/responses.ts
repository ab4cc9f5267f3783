/**
 * What the fuzz server answers, and the check that every answer is well-formed HTTP/1.1.
 *
 * The handler is tiny and its replies are predictable, so the checker can tell a reply the handler
 * made (marked `X-Fuzz-Method`) from one the server made on its own (an error status) and hold
 * each to its rules. What a client may receive on one connection is a sequence of responses, each
 * `HTTP/1.1 NNN reason`, well-formed fields, and a body of exactly its Content-Length (none for
 * 1xx, none for a HEAD), nothing after one that said `Connection: close`, then the close.
 * RFC 9112 §4 (status line), §5 (fields), §6.3 (message body length); RFC 9110 §9.3.2 (HEAD).
 */

/** The request as the handler sees it: the fields of chapter 13's HttpRequest that it reads. */
export interface FuzzRequest {
  method: string;
  target: string;
  body: Uint8Array;
}

/** The response shape of chapter 13's Handler. */
export interface FuzzResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

/** The body the handler answers a request with: method and body size, so a mixed-up reply shows. */
export const replyBody = (method: string, bodyLength: number) => `fuzz ${method} ${bodyLength}\n`;

/**
 * The handler the fuzz server runs. `/throw...` throws (the server must answer 500), `/slow...`
 * answers after a timer, so pipelined replies finish out of order; anything else answers at once.
 */
export async function fuzzHandler(request: FuzzRequest): Promise<FuzzResponse> {
  if (request.target.startsWith('/throw')) throw new Error('the fuzz handler throws on /throw, on purpose');
  if (request.target.startsWith('/slow')) await new Promise((r) => setTimeout(r, 3));
  return { status: 200, headers: { 'content-type': 'text/plain', 'x-fuzz-method': request.method }, body: replyBody(request.method, request.body.length) };
}

/** How a connection ended, from the client's side. */
export type Ending = 'fin' | 'reset';

/** The verdict on what one connection received. */
export interface Check {
  /** 'answered': one or more well-formed responses; 'clean-close': no bytes, then FIN. */
  verdict: 'answered' | 'clean-close' | 'reset' | 'malformed';
  /** Status codes, in order (100 included). */
  statuses: number[];
  /** What was wrong, for 'malformed'. */
  problem?: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** field-value: VCHAR, SP, HTAB, obs-text; no other control characters (RFC 9110 §5.5). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const STATUS_LINE = /^HTTP\/1\.1 ([1-5]\d\d) [\t\x20-\x7e\x80-\xff]*$/;

interface Head {
  status: number;
  headers: Map<string, string[]>;
  /** Offset just past the blank line. */
  end: number;
}

type Parsed = { head: Head } | { problem: string };

function parseHead(text: string, at: number): Parsed {
  const end = text.indexOf('\r\n\r\n', at);
  if (end < 0) {
    const shown = JSON.stringify(text.slice(at, at + 60));
    return { problem: `a response was cut off before the end of its head: ${shown}${text.length - at > 60 ? '...' : ''}` };
  }
  const lines = text.slice(at, end).split('\r\n');
  const statusLine = lines[0]!;
  const m = STATUS_LINE.exec(statusLine);
  if (!m) return { problem: `not an HTTP/1.1 status line: ${JSON.stringify(statusLine.slice(0, 80))}` };
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon);
    if (!TOKEN.test(name)) return { problem: `status ${m[1]}: a header line that is not "name: value": ${JSON.stringify(line.slice(0, 80))}` };
    const value = line.slice(colon + 1).trim();
    if (!FIELD_VALUE.test(value) || value.includes('\r') || value.includes('\n')) {
      return { problem: `status ${m[1]}: header ${name} carries control characters: ${JSON.stringify(value.slice(0, 80))}` };
    }
    const key = name.toLowerCase();
    headers.set(key, [...(headers.get(key) ?? []), value]);
  }
  return { head: { status: Number(m[1]), headers, end: end + 4 } };
}

/**
 * Check everything one connection received. `text` is the bytes as latin1 (one char per byte).
 * Replies the server made itself (errors) may come with or without a body when the request was a
 * HEAD, which the checker cannot know for a mangled request: both readings are tried.
 */
export function checkResponses(bytes: Uint8Array, ending: Ending): Check {
  if (bytes.length === 0) return { verdict: ending === 'fin' ? 'clean-close' : 'reset', statuses: [] };
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const result = parseFrom(text, 0, [], 0);
  if ('problem' in result) return { verdict: 'malformed', statuses: result.statuses, problem: result.problem };
  return { verdict: 'answered', statuses: result.statuses };
}

type Walk = { statuses: number[] } | { statuses: number[]; problem: string };

function parseFrom(text: string, at: number, statuses: number[], depth: number): Walk {
  if (at === text.length) return { statuses };
  if (depth > 64) return { statuses, problem: 'more than 64 responses on one connection' };
  const parsed = parseHead(text, at);
  if ('problem' in parsed) return { statuses, problem: parsed.problem };
  const { head } = parsed;
  const here = [...statuses, head.status];
  const h = (name: string) => head.headers.get(name) ?? [];
  if (head.status < 200) {
    if (head.status !== 100) return { statuses: here, problem: `an interim ${head.status} response; only 100 Continue is expected` };
    if (h('content-length').length || h('transfer-encoding').length) return { statuses: here, problem: '100 Continue with a body length' };
    return parseFrom(text, head.end, here, depth + 1);
  }
  if (h('transfer-encoding').length) return { statuses: here, problem: `status ${head.status} with Transfer-Encoding: the server sends Content-Length` };
  const lengths = h('content-length');
  if (lengths.length !== 1) return { statuses: here, problem: `status ${head.status} with ${lengths.length} Content-Length headers (${lengths.join(' | ')}); exactly one is expected` };
  if (!/^\d{1,15}$/.test(lengths[0]!)) return { statuses: here, problem: `status ${head.status}: Content-Length ${JSON.stringify(lengths[0])} is not a number` };
  const length = Number(lengths[0]);
  const closes = h('connection').some((v) => v.toLowerCase().split(',').some((t) => t.trim() === 'close'));
  const method = h('x-fuzz-method')[0];
  if (head.status >= 400 && head.status !== 500 && !closes) {
    return { statuses: here, problem: `error status ${head.status} without Connection: close (a refused request closes the connection)` };
  }
  const next = (bodyEnd: number): Walk => {
    if (closes && bodyEnd !== text.length) {
      return { statuses: here, problem: `${text.length - bodyEnd} more bytes after a ${head.status} response that said Connection: close: ${JSON.stringify(text.slice(bodyEnd, bodyEnd + 40))}` };
    }
    return parseFrom(text, bodyEnd, here, depth + 1);
  };
  if (method !== undefined) {
    // A reply of the fuzz handler: its body is known exactly (and absent for HEAD).
    if (head.status !== 200) return { statuses: here, problem: `the handler's reply came with status ${head.status}, not 200` };
    const expected = /^fuzz (\S+) (\d+)\n$/;
    if (method === 'HEAD') {
      // The length the GET would have had: "fuzz HEAD <n>\n", no body.
      if (length < replyBody('HEAD', 0).length) return { statuses: here, problem: `HEAD reply with Content-Length ${length}, not the GET's` };
      return next(head.end);
    }
    if (text.length - head.end < length) return { statuses: here, problem: `a ${length}-byte body was cut off after ${text.length - head.end} bytes` };
    const body = text.slice(head.end, head.end + length);
    const m = expected.exec(body);
    if (!m || m[1] !== method) return { statuses: here, problem: `the handler's body arrived as ${JSON.stringify(body.slice(0, 60))} for method ${method}` };
    return next(head.end + length);
  }
  // A reply the server made itself: with its body, or (after a HEAD) without.
  const withBody: Walk =
    text.length - head.end >= length ? next(head.end + length) : { statuses: here, problem: `a ${length}-byte body of a ${head.status} response was cut off after ${text.length - head.end} bytes` };
  if (!('problem' in withBody) || length === 0) return withBody;
  const rest = text.slice(head.end);
  if (rest.length === 0 || rest.startsWith('HTTP/1.1 ')) {
    const without = next(head.end);
    if (!('problem' in without)) return without;
  }
  return withBody;
}
