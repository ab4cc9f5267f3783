/**
 * Chapter 13 · HTTP/1.1 from scratch.
 *
 * Your parser first, with no network: the request line and the fields, the body (Content-Length and chunked),
 * the limits and every malformed input it must refuse, fed one byte at a time, all at once and in random
 * pieces. Then your server on real sockets: responses, keep-alive and pipelining, refusals on the wire,
 * 100-continue and slow clients, closing, real peers (curl, node:http, fetch), and a seeded slice of fuzzing.
 */
import http from 'node:http';
import net from 'node:net';
import { describe, it } from 'vitest';
import type { HttpRequest, RequestHead } from '@impl/13-http/exercise.ts';
import type { HttpResponse } from '@impl/13-http/server.ts';
import { ERROR_STATUS, HttpError, LIMITS, RequestParser } from '@impl/13-http/exercise.ts';
import {
  check, eventually, forEachChunking, implFile, needPeer, pause, recordingCrashes, testSeed, track, watchTimersOf, within,
} from '../helpers/index.ts';
import {
  Client, LIMIT, LOOPBACK6, bytes, echo, exchange, feed, get, heldHandler, lesson, post, readResponses, run, showError,
  showFed, showReading, showRequest, showResponse, startServer, stateOf,
} from './harness.ts';
import { fuzzCases } from './fuzz.ts';

const TEXT = lesson('HTTP is text over TCP');
const MACHINE = lesson('The parser is a state machine');
const LENGTH = lesson('How long is the body?');
const CHUNKED = lesson('Chunked bodies');
const KEEPALIVE = lesson('Keep-alive and pipelining');
const LIMITS_ = lesson('Limits, and what a server refuses');
const SMUGGLING = lesson('Request smuggling');
const CONTINUE = lesson('Expect: 100-continue');
const HEAD = lesson('HEAD and HTTP/1.0');
const SLOW = lesson('Slow clients');

/** Every chunking of `data` gives one request equal to `want` (its fields checked one by one). */
async function parsesAs(data: Buffer, want: Partial<HttpRequest>, why = TEXT, limits = {}): Promise<void> {
  await forEachChunking(data, (chunks) => {
    const f = feed(chunks, limits);
    const r = f.requests[0];
    const body = r ? Buffer.from(r.body ?? []) : undefined;
    const ok = f.error === undefined && f.requests.length === 1 && r !== undefined &&
      (want.method === undefined || r.method === want.method) &&
      (want.target === undefined || r.target === want.target) &&
      (want.version === undefined || r.version === want.version) &&
      (want.headers === undefined || JSON.stringify(sorted(r.headers)) === JSON.stringify(sorted(want.headers))) &&
      (want.keepAlive === undefined || r.keepAlive === want.keepAlive) &&
      (want.expectContinue === undefined || r.expectContinue === want.expectContinue) &&
      (want.body === undefined || (body !== undefined && body.equals(Buffer.from(want.body)))) &&
      (want.trailers === undefined || JSON.stringify(sorted(r.trailers)) === JSON.stringify(sorted(want.trailers)));
    check(ok, {
      did: `push() ${showFed(f)}`,
      expected: `one request matching ${JSON.stringify({ ...want, body: want.body ? `${want.body.length} bytes (${Buffer.from(want.body).toString('hex')})` : undefined })}`,
      lesson: why,
      extra: `Input: ${JSON.stringify(data.toString('latin1'))}`,
    });
  }, { randomRuns: 3 });
}

function sorted(o: Record<string, string> | undefined): [string, string][] {
  return Object.entries({ ...(o ?? {}) }).sort(([a], [b]) => a.localeCompare(b));
}

/** The status each error code is answered with, as the lesson lists them. */
const STATUS: Record<string, number> = {
  ERR_BAD_REQUEST_LINE: 400, ERR_BAD_VERSION: 505, ERR_LINE_TOO_LONG: 414, ERR_BARE_LF: 400, ERR_BAD_HEADER: 400, ERR_OBS_FOLD: 400,
  ERR_SPACE_BEFORE_COLON: 400, ERR_HEADERS_TOO_LARGE: 431, ERR_MISSING_HOST: 400, ERR_DUPLICATE_HOST: 400,
  ERR_BAD_CONTENT_LENGTH: 400, ERR_BOTH_LENGTHS: 400, ERR_BAD_TRANSFER_ENCODING: 501, ERR_BAD_CHUNK: 400, ERR_BODY_TOO_LARGE: 413,
};

/** Every chunking of `data` makes the parser throw HttpError with one of `codes` (and the code's status). */
async function refuses(data: Buffer, codes: string | string[], why: string, limits = {}): Promise<void> {
  const want = Array.isArray(codes) ? codes : [codes];
  await forEachChunking(data, (chunks) => {
    const f = feed(chunks, limits);
    const e = f.error;
    check(e instanceof HttpError && want.includes(e.code) && e.status === STATUS[e.code] && ERROR_STATUS[e.code] === STATUS[e.code], {
      did: `push() ${showFed(f)}`,
      expected: `an HttpError with code ${want.join(' or ')} (status ${want.map((c) => STATUS[c]).join(' or ')}), and no request`,
      lesson: why,
      extra: `Input: ${JSON.stringify(data.toString('latin1'))}${Object.keys(limits).length ? `, limits ${JSON.stringify(limits)}` : ''}`,
    });
    check(f.requests.length === 0 && stateOf(f.parser) === 'failed', {
      did: `after the error: ${f.requests.length} request(s), state ${JSON.stringify(stateOf(f.parser))}`,
      expected: "no request, and state 'failed'",
      lesson: MACHINE,
    });
  }, { randomRuns: 2 });
}

describe('the parser: request line and fields', () => {
  it('reads a request line and its fields: names lower-cased, values trimmed, repeats joined with ", "', async () => {
    await parsesAs(bytes('GET /notes?x=1 HTTP/1.1\r\nHost: bram.example\r\nAccept:  text/plain \t\r\nX-Tag: a\r\nx-tag:b\r\nEmpty:\r\n\r\n'), {
      method: 'GET',
      target: '/notes?x=1',
      version: '1.1',
      headers: { host: 'bram.example', accept: 'text/plain', 'x-tag': 'a, b', empty: '' },
      keepAlive: true,
      expectContinue: false,
      body: new Uint8Array(0),
    });
  });

  it('reads a request fed one byte at a time, in random pieces and all at once', async () => {
    await parsesAs(post('/notes', 'hello, bram', 'Content-Type: text/plain\r\n'), {
      method: 'POST', target: '/notes', headers: { host: 'test', 'content-length': '11', 'content-type': 'text/plain' }, body: Buffer.from('hello, bram'),
    }, MACHINE);
  });

  it('keeps field bytes 0x80-0xff as one character each (latin1), and accepts any token as a method', async () => {
    await parsesAs(bytes('PURGE-x.1 * HTTP/1.1\r\nHost: h\r\nX-Name: caf\xe9 \xff\r\n\r\n'), {
      method: 'PURGE-x.1', target: '*', headers: { host: 'h', 'x-name': 'caf\xe9 \xff' },
    });
  });

  it('ignores empty lines before a request line', async () => {
    await parsesAs(bytes(`\r\n\r\n${get('/after-blank')}`), { target: '/after-blank' });
  });

  it('keepAlive: HTTP/1.1 unless Connection: close; HTTP/1.0 only with Connection: keep-alive', async () => {
    const cases: [string, boolean][] = [
      ['GET / HTTP/1.1\r\nHost: h\r\n\r\n', true],
      ['GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', false],
      ['GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n', false],
      ['GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n', true],
      ['GET / HTTP/1.0\r\n\r\n', false],
      ['GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n', true],
      ['GET / HTTP/1.0\r\nConnection: foo,keep-alive\r\n\r\n', true],
      ['GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n', false],
    ];
    for (const [text, keepAlive] of cases) await parsesAs(bytes(text), { keepAlive, version: text.includes('1.0') ? '1.0' : '1.1' }, HEAD);
  });

  it('expectContinue: only for HTTP/1.1 with Expect: 100-continue (any case)', async () => {
    const cases: [string, boolean][] = [
      ['POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx', true],
      ['POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx', true],
      ['POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx', false],
      ['POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx', false],
    ];
    for (const [text, expectContinue] of cases) await parsesAs(bytes(text), { expectContinue }, CONTINUE);
  });

  it('hands over each head through onHead before its body has arrived', () => {
    const heads: RequestHead[] = [];
    const parser = new RequestParser({}, { onHead: (h) => heads.push({ ...h, headers: { ...h.headers } }) });
    const head = bytes('POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
    const got = parser.push(head);
    check(got.length === 0 && heads.length === 1 && heads[0]!.target === '/up' && heads[0]!.expectContinue && heads[0]!.headers['content-length'] === '4', {
      did: `after the head alone: push returned ${got.length} request(s), onHead was called ${heads.length} time(s)${heads[0] ? ` with target ${heads[0].target}, expectContinue ${heads[0].expectContinue}` : ''}`,
      expected: 'no request yet, and onHead called once with the head (target /up, expectContinue true): the server needs it to send 100 Continue before the body comes',
      lesson: CONTINUE,
    });
    const done = parser.push(bytes('body'));
    check(done.length === 1 && Buffer.from(done[0]!.body).toString() === 'body' && heads.length === 1, {
      did: `after the body: ${done.length} request(s), onHead called ${heads.length} time(s)`,
      expected: 'the whole request, and no second onHead',
      lesson: CONTINUE,
    });
  });

  it('walks its states step by step, and counts the bytes it holds', () => {
    const parser = new RequestParser();
    const steps: [string, string, number, number, number][] = [
      // [bytes pushed, state after, requests returned, least bufferedBytes, most bufferedBytes]
      ['POST /a HT', 'request-line', 0, 10, 10],
      ['TP/1.1\r\nHost: h\r\nContent-Len', 'header-line', 0, 11, 40],
      ['gth: 6\r\n\r\nabc', 'body', 0, 3, 64],
      ['def', 'request-line', 1, 0, 0],
      ['POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n', 'chunk-size', 0, 0, 64],
      ['5;x=y\r\nab', 'chunk-data', 0, 2, 128],
      ['cde', 'chunk-data-end', 0, 5, 128],
      ['\r', 'chunk-data-end', 0, 5, 128],
      ['\n', 'chunk-size', 0, 5, 128],
      ['0\r\n', 'trailer-line', 0, 5, 128],
      ['T: 1\r\n', 'trailer-line', 0, 5, 128],
      ['\r\nGET', 'request-line', 1, 3, 3],
    ];
    let pushed = '';
    for (const [text, state, n, least, most] of steps) {
      pushed += text;
      let got: HttpRequest[] | undefined;
      let error: unknown;
      try {
        got = parser.push(bytes(text));
      } catch (e) {
        error = e;
      }
      const held = (() => {
        try {
          return parser.bufferedBytes;
        } catch {
          return NaN;
        }
      })();
      check(error === undefined && got?.length === n && stateOf(parser) === state && held >= least && held <= most, {
        did: `after pushing ${JSON.stringify(text)}: ${error !== undefined ? `threw ${showError(error)}` : `${got?.length} request(s)`}, state ${JSON.stringify(stateOf(parser))}, bufferedBytes ${held}`,
        expected: `${n} request(s), state '${state}', bufferedBytes ${least === most ? least : `between ${least} and ${most}`} (the incomplete line and the body so far; 0 once a request is complete)`,
        lesson: MACHINE,
        extra: `Pushed so far: ${JSON.stringify(pushed)}`,
      });
    }
  });

  it('returns two pipelined requests from one chunk, in order, and keeps the start of a third', () => {
    const data = Buffer.concat([bytes(get('/one')), post('/two', 'xy'), bytes('GET /th')]);
    const f = feed([data]);
    check(f.error === undefined && f.requests.map((r) => r.target).join(' ') === '/one /two' && Buffer.from(f.requests[1]!.body).toString() === 'xy', {
      did: `push() ${showFed(f)}`,
      expected: 'two requests, /one then /two (with its body xy), from a single push',
      lesson: KEEPALIVE,
    });
    const rest = f.parser.push(bytes('ird HTTP/1.1\r\nHost: h\r\n\r\n'));
    check(rest.length === 1 && rest[0]!.target === '/third', {
      did: `the rest of the third request gave ${rest.map((r) => r.target).join(', ') || 'nothing'}`,
      expected: 'the third request, /third: the start of it was kept from the first push',
      lesson: MACHINE,
    });
  });

  it('does not keep your buffer: you may reuse it after push', () => {
    const parser = new RequestParser();
    const buffer = Buffer.from('POST /keep HTTP/1.1\r\nHost: h\r\nContent-Length: 8\r\nX-Partial: abc');
    parser.push(buffer);
    buffer.fill(0x21);
    const body = Buffer.from('\r\n\r\nbody');
    parser.push(body);
    body.fill(0x21);
    const done = parser.push(Buffer.from([0x80, 0xff, 0x00, 0x0a]));
    const r = done[0];
    check(r !== undefined && r.headers['x-partial'] === 'abc' && Buffer.from(r.body).equals(Buffer.from([0x62, 0x6f, 0x64, 0x79, 0x80, 0xff, 0x00, 0x0a])), {
      did: `after the caller overwrote its buffers: ${showRequest(r)}`,
      expected: "x-partial 'abc' and the body 62 6f 64 79 80 ff 00 0a: what the parser holds between pushes must be its own copy",
      lesson: MACHINE,
    });
  });

  it('reads a subarray at a non-zero offset of a larger buffer', () => {
    const inner = post('/view', Buffer.from([1, 2, 3, 0xfe]));
    const big = Buffer.concat([Buffer.from('GARBAGE\r\n\r\n'), inner, Buffer.from('\r\nMORE GARBAGE')]);
    const view = new Uint8Array(big.buffer, big.byteOffset + 11, inner.length);
    const f = feed([view]);
    const r = f.requests[0];
    check(f.error === undefined && r?.target === '/view' && Buffer.from(r.body).equals(Buffer.from([1, 2, 3, 0xfe])), {
      did: `push(view) ${showFed(f)}`,
      expected: 'the request /view with body 01 02 03 fe: read from view.byteOffset, for view.length bytes, not from the start of view.buffer',
      lesson: MACHINE,
    });
  });
});

describe('the parser: bodies', () => {
  it('counts the body in bytes, not characters: a multi-byte UTF-8 body is read whole', async () => {
    const body = Buffer.from('é✓ and 🦀', 'utf8');
    await parsesAs(Buffer.concat([post('/utf8', body), bytes(get('/next'))]).subarray(0, post('/utf8', body).length), { body }, LENGTH);
    const f = feed([Buffer.concat([post('/utf8', body), bytes(get('/next'))])]);
    check(f.requests.length === 2 && f.requests[1]!.target === '/next' && Buffer.from(f.requests[0]!.body).equals(body), {
      did: `push() ${showFed(f)}`,
      expected: `the body as its ${body.length} bytes, then the next request /next: Content-Length counts bytes ('é'.length is 1, but it is 2 bytes)`,
      lesson: LENGTH,
    });
  });

  it('reads a binary body with bytes 0x00-0xff', async () => {
    const body = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await parsesAs(post('/bin', body), { body }, LENGTH);
  });

  it('accepts a repeated Content-Length with the same value, and leading zeros', async () => {
    await parsesAs(bytes('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc'), { body: Buffer.from('abc') }, LENGTH);
    await parsesAs(bytes('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc'), { body: Buffer.from('abc') }, LENGTH);
    await parsesAs(bytes('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 003\r\n\r\nabc'), { body: Buffer.from('abc') }, LENGTH);
    await parsesAs(bytes('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n'), { body: new Uint8Array(0) }, LENGTH);
  });

  it('reads chunk sizes in hex, either case, with leading zeros', async () => {
    const data = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff));
    const chunked = Buffer.concat([
      bytes('POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n'),
      bytes('1A\r\n'), data.subarray(0, 26), bytes('\r\n'),
      bytes('1a\r\n'), data.subarray(26, 52), bytes('\r\n'),
      bytes('00F8\r\n'), data.subarray(52, 300), bytes('\r\n'),
      bytes('0\r\n\r\n'),
    ]);
    await parsesAs(chunked, { body: data, trailers: {} }, CHUNKED);
  });

  it('ignores chunk extensions and reads trailers into trailers, not headers', async () => {
    const chunked = bytes('POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n' +
      '4;name=value\r\nWiki\r\n5 ;a;b="q r"\r\npedia\r\n0;last\r\nExpires: never\r\nX-Sum:  abc \r\nx-sum: def\r\nHost: not-a-second-host\r\n\r\n');
    await parsesAs(chunked, {
      headers: { host: 'h', 'transfer-encoding': 'Chunked' },
      body: Buffer.from('Wikipedia'),
      trailers: { expires: 'never', 'x-sum': 'abc, def', host: 'not-a-second-host' },
    }, CHUNKED);
  });

  it('reads a chunked request and then the next request on the connection', () => {
    const f = feed([bytes('POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' + get('/after'))]);
    check(f.requests.length === 2 && Buffer.from(f.requests[0]!.body).toString() === 'abc' && f.requests[1]!.target === '/after', {
      did: `push() ${showFed(f)}`,
      expected: 'the chunked request (body abc), then GET /after',
      lesson: CHUNKED,
    });
  });
});

describe('the parser: limits and malformed input', () => {
  it('refuses a bad request line with 400, and an unknown version with 505', async () => {
    for (const line of ['GET  / HTTP/1.1', 'GET /HTTP/1.1', ' GET / HTTP/1.1', 'G(T / HTTP/1.1', 'GET / HTTP/1.1 x', 'GET /a\x7f HTTP/1.1', 'GET /\xe9 HTTP/1.1', 'GET / http/1.1', 'GET / HTTP/1.10', 'GET', '/ HTTP/1.1', ' / HTTP/1.1', 'GET HTTP/1.1', 'GET  HTTP/1.1', 'GET / XHTTP/1.1']) {
      await refuses(bytes(`${line}\r\nHost: h\r\n\r\n`), 'ERR_BAD_REQUEST_LINE', TEXT);
    }
    for (const version of ['HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9']) await refuses(bytes(`GET / ${version}\r\nHost: h\r\n\r\n`), 'ERR_BAD_VERSION', TEXT);
  });

  it('refuses a line that ends in a bare LF', async () => {
    await refuses(bytes('GET / HTTP/1.1\nHost: h\r\n\r\n'), 'ERR_BARE_LF', TEXT);
    await refuses(bytes('GET / HTTP/1.1\r\nHost: h\n\r\n'), 'ERR_BARE_LF', TEXT);
    await refuses(bytes('GET / HTTP/1.1\r\nHost: h\r\n\n'), 'ERR_BARE_LF', TEXT);
  });

  it('refuses whitespace between a field name and its colon', async () => {
    await refuses(bytes('GET / HTTP/1.1\r\nHost : h\r\n\r\n'), 'ERR_SPACE_BEFORE_COLON', SMUGGLING);
    await refuses(bytes('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n'), 'ERR_SPACE_BEFORE_COLON', SMUGGLING);
  });

  it('refuses malformed field lines and folded (obs-fold) lines', async () => {
    for (const line of ['Host h', ': empty-name', 'Ho(st: h', 'X-A: a\x00b', 'X-A: a\rb', 'X-A: a\x7f', 'X-A: \x1b[31m']) {
      await refuses(bytes(`GET / HTTP/1.1\r\nHost: h\r\n${line}\r\n\r\n`), 'ERR_BAD_HEADER', TEXT);
    }
    await refuses(bytes('GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n'), 'ERR_OBS_FOLD', SMUGGLING);
    await refuses(bytes('GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n\tb\r\n\r\n'), 'ERR_OBS_FOLD', SMUGGLING);
    await refuses(bytes('GET / HTTP/1.1\r\n Host: h\r\n\r\n'), 'ERR_OBS_FOLD', SMUGGLING);
    await parsesAs(bytes('GET / HTTP/1.1\r\nHost: h\r\nX-A: a\tb\r\n\r\n'), { headers: { host: 'h', 'x-a': 'a\tb' } });
  });

  it('refuses an HTTP/1.1 request without Host, or with two', async () => {
    await refuses(bytes('GET / HTTP/1.1\r\nAccept: */*\r\n\r\n'), 'ERR_MISSING_HOST', TEXT);
    await refuses(bytes('GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n'), 'ERR_DUPLICATE_HOST', SMUGGLING);
    await parsesAs(bytes('GET / HTTP/1.0\r\n\r\n'), { version: '1.0', headers: {} }, HEAD);
  });

  it('refuses a bad Content-Length with 400', async () => {
    for (const value of ['abc', '-1', '+3', '3.0', '0x3', '', '3 4', '3, 4', '3,']) {
      await refuses(bytes(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${value}\r\n\r\nabcd`), 'ERR_BAD_CONTENT_LENGTH', LENGTH);
    }
    await refuses(bytes('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'), 'ERR_BAD_CONTENT_LENGTH', SMUGGLING);
  });

  it('refuses Transfer-Encoding together with Content-Length', async () => {
    await refuses(bytes('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'), 'ERR_BOTH_LENGTHS', SMUGGLING);
    await refuses(bytes('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n'), 'ERR_BOTH_LENGTHS', SMUGGLING);
  });

  it('refuses a transfer coding other than chunked with 501', async () => {
    for (const te of ['gzip', 'gzip, chunked', 'chunked, chunked', 'identity', '']) {
      await refuses(bytes(`POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ${te}\r\n\r\n0\r\n\r\n`), 'ERR_BAD_TRANSFER_ENCODING', CHUNKED);
    }
  });

  it('refuses malformed chunks', async () => {
    const head = 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n';
    for (const rest of ['G\r\n', '\r\n', '-1\r\n', '0x5\r\nabcde\r\n', '5 5\r\nabcde\r\n', '5;\x00\r\nabcde\r\n', '5\r\nabcdeXY\r\n0\r\n\r\n', '5\r\nabcdeXY0\r\n\r\n']) {
      await refuses(bytes(head + rest), 'ERR_BAD_CHUNK', CHUNKED);
    }
    await refuses(bytes(`${head}5\r\nabcde\n0\r\n\r\n`), ['ERR_BAD_CHUNK', 'ERR_BARE_LF'], CHUNKED);
    await refuses(bytes(`${head}5\n`), ['ERR_BAD_CHUNK', 'ERR_BARE_LF'], CHUNKED);
  });

  it('refuses a request line over maxRequestLineBytes with 414, and accepts one of exactly that size', async () => {
    const limits = { maxRequestLineBytes: 40 };
    const line = (n: number) => `GET /${'a'.repeat(n - 'GET / HTTP/1.1'.length)} HTTP/1.1`;
    check(line(40).length === 40, { did: 'harness', expected: 'a 40-byte line' });
    const ok = feed([bytes(`${line(40)}\r\nHost: h\r\n\r\n`)], limits);
    check(ok.requests.length === 1, { did: `a request line of exactly 40 bytes: push() ${showFed(ok)}`, expected: 'the request: the limit counts the line without its CRLF, and a line at the limit is fine', lesson: LIMITS_ });
    await refuses(bytes(`${line(41)}\r\nHost: h\r\n\r\n`), 'ERR_LINE_TOO_LONG', LIMITS_, limits);
    await parsesAs(bytes(`${line(40)}\r\nHost: h\r\n\r\n`), { target: line(40).slice(4, -9) }, LIMITS_, limits);
    // A chunk size line is held to the same limit, and refused as a bad chunk.
    const chunked = 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n';
    await refuses(bytes(`${chunked}5;ext=${'e'.repeat(40)}\r\nabcde\r\n0\r\n\r\n`), 'ERR_BAD_CHUNK', CHUNKED, limits);
  });

  it('refuses a field section over maxHeaderBytes with 431, and accepts one of exactly that size', async () => {
    // The section: each field line with its CRLF, and the empty line. 'Host: h\r\n' (9) + pad line + '\r\n' (2).
    const limits = { maxHeaderBytes: 64 };
    const withSection = (size: number) => bytes(`GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ${'p'.repeat(size - 9 - 2 - 'X-Pad: \r\n'.length)}\r\n\r\n`);
    const ok = feed([withSection(64)], limits);
    check(ok.requests.length === 1, { did: `a field section of exactly 64 bytes: push() ${showFed(ok)}`, expected: 'the request: the section (field lines with their CRLFs, and the empty line) may be exactly maxHeaderBytes', lesson: LIMITS_ });
    await refuses(withSection(65), 'ERR_HEADERS_TOO_LARGE', LIMITS_, limits);
    await parsesAs(withSection(64), { method: 'GET' }, LIMITS_, limits);
    // The trailer section has a budget of its own, with the same limit.
    const trailers = (size: number) => bytes(`POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Pad: ${'t'.repeat(size - 2 - 'X-Pad: \r\n'.length)}\r\n\r\n`);
    const okTrailers = feed([trailers(64)], limits);
    check(okTrailers.requests.length === 1, { did: `a trailer section of exactly 64 bytes: push() ${showFed(okTrailers)}`, expected: 'the request', lesson: LIMITS_ });
    await refuses(trailers(65), 'ERR_HEADERS_TOO_LARGE', LIMITS_, limits);
  });

  it('refuses more than maxHeaderCount fields with 431', async () => {
    const limits = { maxHeaderCount: 3 };
    const ok = feed([bytes('GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n')], limits);
    check(ok.requests.length === 1, { did: `3 fields with maxHeaderCount 3: push() ${showFed(ok)}`, expected: 'the request', lesson: LIMITS_ });
    await refuses(bytes('GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n'), 'ERR_HEADERS_TOO_LARGE', LIMITS_, limits);
    await refuses(bytes('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n'), 'ERR_HEADERS_TOO_LARGE', LIMITS_, limits);
  });

  it('refuses an endless line before its end arrives, holding no more than the limit', () => {
    for (const [limits, start, code] of [
      [{ maxRequestLineBytes: 100 }, 'GET /', 'ERR_LINE_TOO_LONG'],
      [{ maxHeaderBytes: 100 }, 'GET / HTTP/1.1\r\nX-Endless: ', 'ERR_HEADERS_TOO_LARGE'],
      [{ maxHeaderBytes: 100 }, 'GET / HTTP/1.1\r\nHost: h\r\n', 'ERR_HEADERS_TOO_LARGE'],
    ] as const) {
      const parser = new RequestParser(limits);
      let error: unknown;
      let pushed = 0;
      let most = 0;
      try {
        parser.push(bytes(start));
        pushed = start.length;
        // 'X: aaaa…' lines with no end (or, for the third case, ever more short fields).
        for (let i = 0; i < 300 && error === undefined; i++) {
          parser.push(bytes(code === 'ERR_HEADERS_TOO_LARGE' && start.endsWith('\r\n') ? 'F: 1\r\n' : 'a'));
          pushed++;
          most = Math.max(most, parser.bufferedBytes);
        }
      } catch (e) {
        error = e;
      }
      check(error instanceof HttpError && error.code === code && most <= 110, {
        did: `${error === undefined ? 'nothing was refused' : `threw ${showError(error)}`} after about ${pushed} pushes; bufferedBytes reached ${most}`,
        expected: `${code} as soon as the bytes held prove the line or section too long (limits ${JSON.stringify(limits)}), without waiting for its end: a client that never sends CRLF must not make you buffer without bound`,
        lesson: LIMITS_,
      });
    }
  });

  it('refuses a body over maxBodyBytes with 413: Content-Length before any body byte, chunked as it grows', async () => {
    const limits = { maxBodyBytes: 10 };
    const ok = feed([post('/', '0123456789')], limits);
    check(ok.requests.length === 1, { did: `a 10-byte body with maxBodyBytes 10: push() ${showFed(ok)}`, expected: 'the request', lesson: LIMITS_ });
    await refuses(bytes('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n'), 'ERR_BODY_TOO_LARGE', LIMITS_, limits);
    await refuses(bytes('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n'), 'ERR_BODY_TOO_LARGE', LIMITS_, limits);
    const chunked = 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n';
    const okc = feed([bytes(`${chunked}5\r\nabcde\r\n5\r\nfghij\r\n0\r\n\r\n`)], limits);
    check(okc.requests.length === 1, { did: `a chunked body of 10 bytes with maxBodyBytes 10: push() ${showFed(okc)}`, expected: 'the request', lesson: LIMITS_ });
    await refuses(bytes(`${chunked}5\r\nabcde\r\n6\r\n`), 'ERR_BODY_TOO_LARGE', LIMITS_, limits);
    await refuses(bytes(`${chunked}B\r\n`), 'ERR_BODY_TOO_LARGE', LIMITS_, limits);
    await refuses(bytes(`${chunked}FFFFFFFFFFFFFFFFFFFFFFFF\r\n`), 'ERR_BODY_TOO_LARGE', LIMITS_, limits);
  });

  it('uses the documented default limits', () => {
    const line = `GET /${'a'.repeat(LIMITS.maxRequestLineBytes - 'GET / HTTP/1.1'.length)} HTTP/1.1\r\nHost: h\r\n\r\n`;
    const ok = feed([bytes(line)]);
    const long = feed([bytes(line.replace('GET /', 'GET /a'))]);
    const big = feed([bytes(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${LIMITS.maxBodyBytes + 1}\r\n\r\n`)]);
    const many = feed([bytes(`GET / HTTP/1.1\r\nHost: h\r\n${'A: 1\r\n'.repeat(LIMITS.maxHeaderCount)}\r\n`)]);
    const large = feed([bytes(`GET / HTTP/1.1\r\nHost: h\r\nX: ${'x'.repeat(LIMITS.maxHeaderBytes)}\r\n\r\n`)]);
    check(LIMITS.maxRequestLineBytes === 8192 && LIMITS.maxHeaderBytes === 16_384 && LIMITS.maxHeaderCount === 100 && LIMITS.maxBodyBytes === 1_048_576 &&
      ok.requests.length === 1 && (long.error as HttpError)?.code === 'ERR_LINE_TOO_LONG' && (big.error as HttpError)?.code === 'ERR_BODY_TOO_LARGE' &&
      (many.error as HttpError)?.code === 'ERR_HEADERS_TOO_LARGE' && (large.error as HttpError)?.code === 'ERR_HEADERS_TOO_LARGE', {
      did: `with no limits given: a line of 8192 bytes ${showFed(ok)}; one byte longer ${showFed(long)}; Content-Length 1048577 ${showFed(big)}; 101 fields ${showFed(many)}; a 16 KiB field ${showFed(large)}`,
      expected: 'LIMITS as documented (8192, 16384, 100, 1048576) and applied when the constructor gets no limits',
      lesson: LIMITS_,
    });
  });

  it('stays failed after an error: every later push throws the same code', () => {
    const parser = new RequestParser();
    let first: unknown;
    let second: unknown;
    try {
      parser.push(bytes('GET / HTTP/1.1\r\nHost : h\r\n\r\n'));
    } catch (e) {
      first = e;
    }
    try {
      parser.push(bytes(get('/fine')));
    } catch (e) {
      second = e;
    }
    check(first instanceof HttpError && second instanceof HttpError && second.code === first.code && stateOf(parser) === 'failed', {
      did: `first push ${first === undefined ? 'returned' : `threw ${showError(first)}`}, second push ${second === undefined ? 'returned' : `threw ${showError(second)}`}, state ${JSON.stringify(stateOf(parser))}`,
      expected: "both throw HttpError ERR_SPACE_BEFORE_COLON and the state is 'failed': after a framing error nothing on this connection can be trusted",
      lesson: MACHINE,
    });
  });
});

describe('the server: responses', () => {
  it('answers with a status line, Date, Content-Length and the body', async () => {
    const { port } = await startServer(() => ({ status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'héllo ✓' }));
    const { client, reading } = await exchange(port, bytes(get('/')));
    const r = reading.responses[0];
    const body = Buffer.from('héllo ✓', 'utf8');
    const date = Date.parse(r?.headers.date ?? '');
    check(r?.status === 200 && r.reason === 'OK' && r.body.equals(body) && r.headers['content-length'] === String(body.length) &&
      r.headers['content-type'] === 'text/plain; charset=utf-8' && Math.abs(date - Date.now()) < 300_000, {
      did: `your server sent ${showReading(reading)}: ${showResponse(r)}`,
      expected: `HTTP/1.1 200 OK, a Date field with the current time, Content-Type as the handler gave it, Content-Length: ${body.length} (the UTF-8 bytes of the string, not its ${'héllo ✓'.length} characters) and the body`,
      lesson: TEXT,
      transcript: client.transcript,
      reproduce: client.reproduce(get('/')),
    });
  });

  it('hands the handler the request, its body bytes intact, and sends back bytes from a subarray', async () => {
    const big = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 13) & 0xff));
    const { port } = await startServer((r) => ({ status: 201, headers: { 'x-got': `${r.method} ${r.target} ${Buffer.from(r.body).toString('hex')}` }, body: big.subarray(5, 261) }));
    const body = Buffer.from([0x00, 0x7f, 0x80, 0xc3, 0xa9, 0xff]);
    const data = post('/up?x=1', body);
    const { client, reading } = await exchange(port, data);
    const r = reading.responses[0];
    check(r?.status === 201 && r.headers['x-got'] === `POST /up?x=1 ${body.toString('hex')}` && r.body.equals(big.subarray(5, 261)), {
      did: `your server sent ${showResponse(r)}`,
      expected: `201 Created, x-got "POST /up?x=1 007f80c3a9ff" (the handler saw the body bytes), and exactly the 256 bytes of the subarray as the body`,
      lesson: TEXT,
      transcript: client.transcript,
      reproduce: client.reproduce(data),
    });
  });

  it('answers HEAD with the head of a GET and no body', async () => {
    const { port } = await startServer((r) => ({ status: 200, body: r.target === '/bin' ? new Uint8Array([1, 2, 0xff]) : 'twelve bytes' }));
    const data = bytes(`HEAD / HTTP/1.1\r\nHost: h\r\n\r\nHEAD /bin HTTP/1.1\r\nHost: h\r\n\r\n${get('/then')}`);
    const { client, reading } = await exchange(port, data, 3, ['HEAD', 'HEAD', 'GET']);
    const [head, bin, then] = reading.responses;
    check(reading.error === undefined && head?.headers['content-length'] === '12' && head.body.length === 0 && bin?.headers['content-length'] === '3' && then?.status === 200 && then.body.toString() === 'twelve bytes' && readResponses(client.received(), ['HEAD', 'HEAD', 'GET']).rest.length === 0, {
      did: `your server sent ${showReading(reading)}`,
      expected: 'for HEAD: 200 with Content-Length: 12 (what the GET would get) and no body, the same for a body of bytes (Content-Length: 3); then the GET answered normally on the same connection (a body after HEAD would be read as the next response)',
      lesson: HEAD,
      transcript: client.transcript,
      reproduce: client.reproduce(data),
    });
  });

  it('sends no body with 204 and 304', async () => {
    const { port } = await startServer((r) => ({ status: r.target === '/204' ? 204 : r.target === '/304' ? 304 : 200, body: 'ignored' }));
    const data = bytes(get('/204') + get('/304') + get('/200'));
    const { client, reading } = await exchange(port, data, 3);
    const [a, b, c] = reading.responses;
    check(reading.error === undefined && a?.status === 204 && a.headers['content-length'] === undefined && b?.status === 304 && c?.body.toString() === 'ignored', {
      did: `your server sent ${showReading(reading)}`,
      expected: '204 with no body and no Content-Length, 304 with no body, then the 200 with its body: RFC 9110 §6.4.1',
      lesson: TEXT,
      transcript: client.transcript,
    });
  });

  it('answers 500 when the handler throws or rejects, and the connection goes on', async () => {
    const { port } = await startServer(async (r) => {
      if (r.target === '/throw') throw new Error('handler bug');
      if (r.target === '/reject') return Promise.reject(new Error('async bug'));
      return { status: 200, body: 'fine' };
    });
    const throwing = (r: HttpRequest) => {
      if (r.target === '/sync') throw new Error('sync bug');
      return echo(r);
    };
    const { port: port2 } = await startServer(throwing);
    for (const [p, target] of [[port, '/throw'], [port, '/reject'], [port2, '/sync']] as const) {
      const data = bytes(get(target) + get('/ok'));
      const { client, reading } = await exchange(p, data, 2);
      check(reading.responses[0]?.status === 500 && reading.responses[0].headers['content-type']?.startsWith('text/plain') && reading.responses[1]?.status === 200 && !client.ended, {
        did: `for ${target}: your server sent ${showReading(reading)}${client.ended ? ', and closed the connection' : ''}`,
        expected: '500 (with a short text/plain body), then 200 for the next request on the same connection: a bug in one handler must not take down the connection or the server',
        lesson: lesson('The exercise'),
        transcript: client.transcript,
      });
    }
  });

  it('sends 500 instead of a response whose fields would forge others (CR LF in a value)', async () => {
    const { port } = await startServer((r): HttpResponse => r.target === '/inject'
      ? { status: 200, headers: { 'x-user': 'ada\r\nSet-Cookie: admin=1' }, body: 'x' }
      : { status: 200, headers: { 'bad name': 'x' }, body: 'y' });
    const data = bytes(get('/inject') + get('/name'));
    const { client, reading } = await exchange(port, data, 2);
    const text = client.received().toString('latin1');
    check(reading.responses[0]?.status === 500 && reading.responses[1]?.status === 500 && !/set-cookie/i.test(text) && !text.includes('bad name'), {
      did: `your server sent ${showReading(reading)}`,
      expected: '500 for both (a field value with CR LF, a field name with a space), and neither Set-Cookie nor "bad name" on the wire: response splitting',
      lesson: SMUGGLING,
      transcript: client.transcript,
    });
  });

  it('answers 500 when the handler returns something that is not a response', async () => {
    const answers: Record<string, unknown> = {
      '/undefined': undefined, '/null': null, '/text': 'OK', '/199': { status: 199 }, '/600': { status: 600 }, '/fraction': { status: 200.5 },
      '/number-body': { status: 200, body: 42 }, '/599': { status: 599, body: 'edge' }, '/200': { status: 200 },
    };
    const { port } = await startServer((r) => answers[r.target] as HttpResponse);
    const targets = Object.keys(answers);
    const { client, reading } = await exchange(port, bytes(targets.map((t) => get(t)).join('')), targets.length);
    const got = reading.responses.map((r) => `${r.status}:${r.body.length}`).join(' ');
    check(got === '500:26 500:26 500:26 500:26 500:26 500:26 500:26 599:4 200:0', {
      did: `for ${targets.join(' ')} your server sent ${got || showReading(reading)}`,
      expected: '500 (with its 26-byte text body) for undefined, null, a string, status 199, 600 or 200.5, and a body that is neither string nor bytes; then 599 with its body, and 200 with an empty body (Content-Length: 0) for { status: 200 }',
      lesson: lesson('The exercise'),
      transcript: client.transcript,
    });
  });

  it('writes Content-Length itself: a handler\'s own framing fields are not sent', async () => {
    const { port } = await startServer(() => ({ status: 200, headers: { 'Content-Length': '999', 'transfer-encoding': 'chunked' }, body: 'abc' }));
    const { client, reading } = await exchange(port, bytes(get('/') + get('/')), 2);
    const r = reading.responses[0];
    check(reading.responses.length === 2 && r?.headers['content-length'] === '3' && r.headers['transfer-encoding'] === undefined && r.names.filter((n) => n === 'content-length').length === 1, {
      did: `your server sent ${showReading(reading)}: ${showResponse(r)}`,
      expected: 'one Content-Length: 3 and no Transfer-Encoding: the server frames the body, whatever the handler claims',
      lesson: LENGTH,
      transcript: client.transcript,
    });
  });

  it('listens on IPv6 loopback too', async (ctx) => {
    let started;
    try {
      started = await startServer(echo, {}, LOOPBACK6);
    } catch (e) {
      if (String((e as Error).message).includes('EADDRNOTAVAIL')) ctx.skip('no IPv6 loopback on this machine');
      throw e;
    }
    const client = await Client.open(started.port, LOOPBACK6);
    client.send(get('/six'));
    const reading = await client.responses(1);
    check(reading.responses[0]?.headers['x-target'] === '/six', {
      did: `over [::1]: ${showReading(reading)}`,
      expected: 'the request answered: listen(0, "::1") binds the IPv6 loopback',
      lesson: lesson('The exercise'),
      transcript: client.transcript,
    });
  });
});

describe('keep-alive and pipelining', () => {
  it('keeps the connection open between requests', async () => {
    const { port } = await startServer();
    const client = await Client.open(port);
    client.send(get('/first'));
    const one = await client.responses(1);
    await pause(50);
    const openAfterFirst = !client.ended;
    client.send(get('/second'));
    const two = await client.responses(2);
    check(openAfterFirst && two.responses[1]?.headers['x-target'] === '/second' && one.responses[0]?.headers.connection !== 'close', {
      did: `after the first response the connection was ${openAfterFirst ? 'open' : 'closed'}; ${showReading(two)}`,
      expected: 'HTTP/1.1 keeps the connection: the second request on it is answered too',
      lesson: KEEPALIVE,
      transcript: client.transcript,
    });
  });

  it('answers pipelined requests in order even when handlers finish out of order', async () => {
    const held = heldHandler();
    const { port } = await startServer(held.handler);
    const data = bytes(get('/slow') + get('/fast') + get('/mid'));
    const client = await Client.open(port);
    client.send(data);
    await within((async () => { while (held.seen.length < 3) await pause(2); })(), LIMIT, 'the three handlers being called', 'Are pipelined requests handed to the handler as they are parsed?');
    held.release(1);
    held.release(2);
    await pause(30);
    const early = readResponses(client.received()).responses.length;
    held.release(0);
    const reading = await client.responses(3);
    check(early === 0 && reading.responses.map((r) => r.body.toString()).join(' ') === '/slow /fast /mid', {
      did: `${early} response(s) went out before the first handler finished; then ${showReading(reading)}: ${reading.responses.map((r) => r.body.toString()).join(' ')}`,
      expected: 'nothing until /slow is done, then /slow /fast /mid: a client matches responses to requests only by their order',
      lesson: KEEPALIVE,
      transcript: client.transcript,
      reproduce: client.reproduce(data),
    });
  });

  it('answers many pipelined requests, split anywhere, in order', async () => {
    const { port } = await startServer();
    const requests = Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? post(`/p${i}`, `body ${i} é`) : bytes(get(`/g${i}`))));
    const data = Buffer.concat(requests);
    await forEachChunking(data, async (chunks) => {
      const { client, reading } = await exchange(port, data, 20, [], chunks);
      const targets = reading.responses.map((r) => r.headers['x-target']);
      const want = requests.map((_, i) => (i % 3 === 0 ? `/p${i}` : `/g${i}`));
      check(targets.join(' ') === want.join(' ') && reading.responses.every((r, i) => (i % 3 === 0 ? r.body.toString() === `body ${i} é` : r.body.length === 0)), {
        did: `your server answered ${targets.join(' ')}`,
        expected: want.join(' '),
        lesson: KEEPALIVE,
        transcript: client.transcript,
      });
      client.socket.destroy();
    }, { randomRuns: 2 });
  });

  it('stops reading while many responses are owed, then catches up', async () => {
    const held = heldHandler();
    const { port } = await startServer(held.handler);
    const client = await Client.open(port);
    const pad = 'x'.repeat(2_000);
    const total = 120;
    for (let i = 0; i < total; i++) client.send(get(`/${i}`, `X-Pad: ${pad}\r\n`));
    // Wait until the server has read all it is going to read: the count stays put for 100 ms.
    let last = -1;
    for (let waited = 0; waited < 2_000 && (held.seen.length !== last || waited < 100); waited += 100) {
      last = held.seen.length;
      await pause(100);
    }
    const calledWhileHeld = held.seen.length;
    check(calledWhileHeld >= 1 && calledWhileHeld <= 80, {
      did: `with no handler finished, your server had read and started ${calledWhileHeld} of ${total} pipelined requests (each about 2 KB)`,
      expected: 'it stops reading once a bounded number of responses is owed (16 in the lesson): otherwise a client that pipelines without reading makes the server hold everything',
      lesson: KEEPALIVE,
    });
    for (let round = 0; round < 50 && held.seen.length < total; round++) {
      held.releaseAll();
      await pause(10);
    }
    held.releaseAll();
    const reading = await client.responses(total);
    check(reading.responses.length === total && reading.responses.every((r, i) => r.body.toString() === `/${i}`), {
      did: `after the handlers finished: ${reading.responses.length} responses${reading.responses.length ? `, the first ${reading.responses.slice(0, 3).map((r) => r.body.toString()).join(' ')}` : ''}`,
      expected: `all ${total}, in order: reading resumes as the responses go out`,
      lesson: KEEPALIVE,
    });
  });

  it('stops reading while the client does not read its responses, and resumes when it does', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 0x62);
    let calls = 0;
    const { port } = await startServer(() => {
      calls++;
      return { status: 200, body: big };
    });
    // A plain socket that counts bytes (a transcript of 8 MB would be slow to search).
    const socket = track(net.connect({ port, host: '127.0.0.1' }), 'client that reads late');
    socket.on('error', () => {});
    const parts: Buffer[] = [];
    let received = 0;
    socket.pause();
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      received += d.length;
    });
    socket.write(bytes(get('/1')));
    await pause(100);
    socket.write(bytes(get('/2') + get('/3')));
    await pause(100);
    const whilePaused = calls;
    socket.resume();
    await eventually(() => received >= 3 * big.length, 4_000);
    const reading = readResponses(Buffer.concat(parts));
    check(whilePaused < 3 && reading.responses.length === 3 && reading.responses.every((r) => r.body.length === big.length), {
      did: `while the client read nothing, your handler was called ${whilePaused} time(s); after it read: ${showReading(reading)}`,
      expected: 'fewer than 3 calls while the 4 MB responses could not go out (stop reading while socket.writableNeedDrain), then all 3 responses once the client reads (resume on drain)',
      lesson: KEEPALIVE,
    });
  });

  it('closes after a response to Connection: close, and reads nothing after that request', async () => {
    const seen: string[] = [];
    const { port } = await startServer(async (r) => {
      seen.push(r.target);
      if (r.target === '/slow-bye') await pause(50);
      return echo(r);
    });
    const data = bytes(get('/bye', 'Connection: close\r\n') + get('/never'));
    const { client, reading } = await exchange(port, data, 2);
    const closed = await client.closes();
    // The same, with the next request arriving in a later write, while the closing response is still being made.
    const later = await Client.open(port);
    later.send(get('/slow-bye', 'Connection: close\r\n'));
    await pause(10);
    later.send(get('/never-either'));
    const laterReading = await later.responses(2);
    check(reading.responses.length === 1 && reading.responses[0]!.headers.connection === 'close' && closed &&
      laterReading.responses.length === 1 && seen.join(' ') === '/bye /slow-bye', {
      did: `your server sent ${showReading(reading)} and ${closed ? 'closed' : 'did not close'} the connection; with the next request in a later write: ${showReading(laterReading)}; your handler saw ${seen.join(' ')}`,
      expected: 'one response, with Connection: close, then the end of the connection; the handler never sees /never or /never-either: nothing after that request is read (RFC 9112 §9.6)',
      lesson: KEEPALIVE,
      transcript: client.transcript,
      reproduce: client.reproduce(data),
    });
  });

  it('closes after answering HTTP/1.0, and keeps HTTP/1.0 with Connection: keep-alive open', async () => {
    const { port } = await startServer();
    const plain = await exchange(port, bytes('GET /old HTTP/1.0\r\n\r\n'));
    const plainClosed = await plain.client.closes();
    check(plain.reading.responses[0]?.status === 200 && plain.reading.responses[0].headers.connection === 'close' && plainClosed, {
      did: `for HTTP/1.0: ${showReading(plain.reading)}, connection ${plainClosed ? 'closed' : 'left open'}`,
      expected: '200 with Connection: close, then the end of the connection: HTTP/1.0 closes by default',
      lesson: HEAD,
      transcript: plain.client.transcript,
    });
    const kept = await exchange(port, bytes('GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'));
    await pause(50);
    kept.client.send('GET /again HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const again = await kept.client.responses(2);
    check(kept.reading.responses[0]?.headers.connection?.toLowerCase() === 'keep-alive' && again.responses[1]?.headers['x-target'] === '/again', {
      did: `for HTTP/1.0 with keep-alive: ${showReading(again)}, Connection: ${kept.reading.responses[0]?.headers.connection}`,
      expected: 'Connection: keep-alive in the response (a 1.0 client needs it to know), and the next request answered on the same connection',
      lesson: HEAD,
      transcript: kept.client.transcript,
    });
  });

  it('answers every whole request after the client half-closes, then closes', async () => {
    const { port } = await startServer(async (r) => {
      await pause(20);
      return echo(r);
    });
    const client = await Client.open(port);
    const data = bytes(get('/a') + get('/b') + 'GET /incomplete HTT');
    client.socket.end(data);
    const reading = await client.responses(2);
    const closed = await client.closes();
    check(reading.responses.map((r) => r.headers['x-target']).join(' ') === '/a /b' && closed, {
      did: `after the client's FIN: ${showReading(reading)}, connection ${closed ? 'closed' : 'left open'}`,
      expected: 'both whole requests answered after the FIN (allowHalfOpen), then the server closes: `printf ... | nc -N` works',
      lesson: KEEPALIVE,
      transcript: client.transcript,
      reproduce: client.reproduce(data),
    });
  });

  it('closes an idle kept-alive connection quietly after idleTimeoutMs', async () => {
    const { port } = await startServer(echo, { idleTimeoutMs: 200 });
    const client = await Client.open(port);
    client.send(get('/'));
    await client.responses(1);
    const answeredAt = performance.now();
    const closed = await client.closes(1_500);
    const after = (client.endedAt ?? NaN) - answeredAt;
    const extra = readResponses(client.received()).rest.length;
    check(closed && after >= 150 && extra === 0, {
      did: closed ? `closed ${after.toFixed(0)} ms after the response, with ${extra} bytes after it` : 'the idle connection was still open 1.5 s after the response',
      expected: 'closed about 200 ms (idleTimeoutMs) after the last response, with no bytes sent: an idle keep-alive connection costs a socket',
      lesson: SLOW,
      transcript: client.transcript,
    });
    const silent = await Client.open(port);
    check(await silent.closes(1_500), { did: 'a connection that never sent a byte was still open 1.5 s later', expected: 'closed after idleTimeoutMs', lesson: SLOW });
  });
});

/** Malformed requests on the wire: [what, bytes, status]. */
const MALFORMED: [string, string, number][] = [
  ['both length headers', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['a bad Content-Length', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\nx', 400],
  ['whitespace before the colon', 'GET / HTTP/1.1\r\nHost : h\r\n\r\n', 400],
  ['no Host', 'GET / HTTP/1.1\r\n\r\n', 400],
  ['a bare LF', 'GET / HTTP/1.1\nHost: h\n\n', 400],
  ['an obs-fold line', 'GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n', 400],
  ['a bad chunk size', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
  ['an unknown transfer coding', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
  ['an unknown version', 'GET / HTTP/2.0\r\nHost: h\r\n\r\n', 505],
  ['a body over the limit', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2000\r\n\r\n', 413],
  ['a request line over the limit', `GET /${'a'.repeat(600)} HTTP/1.1\r\nHost: h\r\n\r\n`, 414],
  ['a field section over the limit', `GET / HTTP/1.1\r\nHost: h\r\nX: ${'b'.repeat(600)}\r\n\r\n`, 431],
  ['garbage', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n', 400],
];
const WIRE_LIMITS = { maxRequestLineBytes: 512, maxHeaderBytes: 512, maxBodyBytes: 1_000 };

describe('refusals on the wire', () => {
  it('answers each malformed request with its status and Connection: close, closes, and keeps serving others', async () => {
    await recordingCrashes(async (crashes) => {
      const { port } = await startServer(echo, { limits: WIRE_LIMITS });
      for (const [what, text, status] of MALFORMED) {
        const { client, reading } = await exchange(port, bytes(text));
        const closed = await client.closes();
        const r = reading.responses[0];
        check(r?.status === status && r.headers.connection === 'close' && closed && reading.responses.length === 1 && r.headers['content-type']?.startsWith('text/plain') && r.body.length > 0, {
          did: `for ${what}: ${showReading(reading)}${r ? ` (Connection: ${r.headers.connection}, Content-Type: ${r.headers['content-type']})` : ''}; connection ${closed ? 'closed' : 'left open'}`,
          expected: `${status} with Connection: close and a short text/plain body, then the end of the connection`,
          lesson: LIMITS_,
          transcript: client.transcript,
          reproduce: client.reproduce(text),
        });
        const healthy = await exchange(port, bytes(get('/still-here')));
        check(healthy.reading.responses[0]?.headers['x-target'] === '/still-here', {
          did: `after ${what}, a new client got ${showReading(healthy.reading)}`,
          expected: 'a normal answer: one bad client must not harm the server',
          lesson: LIMITS_,
          transcript: healthy.client.transcript,
        });
      }
      check(crashes.length === 0, { did: `uncaught: ${crashes.map(String).join('; ')}`, expected: 'no exception out of a socket event', lesson: LIMITS_ });
    });
  });

  it('refuses a bad request after answering the good ones before it', async () => {
    const held = heldHandler();
    const { port } = await startServer(held.handler);
    const client = await Client.open(port);
    const data = bytes(`${get('/good')}GET / HTTP/1.1\r\nHost : h\r\n\r\n`);
    client.send(bytes(get('/good')));
    await within((async () => { while (held.seen.length < 1) await pause(2); })(), LIMIT, 'the handler being called');
    client.send(bytes('GET / HTTP/1.1\r\nHost : h\r\n\r\n'));
    await pause(30);
    held.release(0);
    const reading = await client.responses(2);
    check(reading.responses.map((r) => r.status).join(' ') === '200 400' && await client.closes(), {
      did: `your server sent ${showReading(reading)}`,
      expected: '200 for /good (its handler finished last), then 400 with Connection: close, then the end: the refusal waits its turn',
      lesson: KEEPALIVE,
      transcript: client.transcript,
      reproduce: client.reproduce(data),
    });
  });

  it('refuses a body over the limit before it arrives, and the client sees the 413', async () => {
    const { port } = await startServer(echo, { limits: { maxBodyBytes: 100_000 } });
    const client = await Client.open(port);
    client.send(bytes('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10000000\r\n\r\n'));
    const big = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 8 && !client.ended; i++) {
      client.socket.write(big);
      await pause(2);
    }
    const reading = await client.responses(1);
    check(reading.responses[0]?.status === 413 && await client.closes(), {
      did: `while the client kept sending its 10 MB body: ${showReading(reading)}`,
      expected: '413 as soon as the head was read, then the end of the connection; the client still gets the response (keep reading what it sends for a moment after your FIN)',
      lesson: LIMITS_,
    });
  });

  it('survives clients that reset mid-request', async () => {
    await recordingCrashes(async (crashes) => {
      const { port } = await startServer(async (r) => {
        await pause(30);
        return echo(r);
      });
      for (const data of [bytes('GET / HTTP/1.1\r\nHo'), post('/', 'x'.repeat(100)).subarray(0, 80), bytes(get('/'))]) {
        const c = await Client.open(port);
        c.send(data);
        await pause(5);
        c.socket.resetAndDestroy();
      }
      await pause(60);
      const { reading } = await exchange(port, bytes(get('/after-resets')));
      check(reading.responses[0]?.headers['x-target'] === '/after-resets' && crashes.length === 0, {
        did: `after three clients reset: ${showReading(reading)}; uncaught: ${crashes.map(String).join('; ') || 'none'}`,
        expected: 'the server still answers, and nothing was thrown out of a socket event (listen for error on every socket)',
        lesson: lesson('The exercise'),
      });
    });
  });
});

describe('expect 100-continue and slow clients', () => {
  it('sends 100 Continue before reading the body', async () => {
    const { port } = await startServer();
    const client = await Client.open(port);
    const head = 'POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n';
    client.send(head);
    const first = await client.until((r) => r.interim.length > 0 || r.responses.length > 0 || r.error !== undefined);
    check(first.interim[0]?.status === 100 && first.responses.length === 0, {
      did: `after the head alone, your server sent ${showReading(first)}`,
      expected: 'HTTP/1.1 100 Continue and nothing else: the client waits for it before sending its body',
      lesson: CONTINUE,
      transcript: client.transcript,
      reproduce: `curl -v -H 'Expect: 100-continue' --expect100-timeout 10 --data-binary hello http://127.0.0.1:${port}/up`,
    });
    client.send('hello');
    const reading = await client.responses(1);
    check(reading.responses[0]?.status === 200 && reading.responses[0].body.toString() === 'hello' && reading.interim.length === 1, {
      did: `after the body: ${showReading(reading)}`,
      expected: 'one 100 Continue, then 200 with the body echoed',
      lesson: CONTINUE,
      transcript: client.transcript,
    });
  });

  it('answers a refused request with its final status and no 100 Continue', async () => {
    const { port } = await startServer(echo, { limits: { maxBodyBytes: 10 } });
    const data = 'POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n';
    const { client, reading } = await exchange(port, bytes(data));
    check(reading.interim.length === 0 && reading.responses[0]?.status === 413, {
      did: `your server sent ${showReading(reading)}`,
      expected: '413 at once, with no 100 Continue before it: inviting a body you will refuse wastes it',
      lesson: CONTINUE,
      transcript: client.transcript,
      reproduce: client.reproduce(data),
    });
  });

  it('sends no 100 Continue to HTTP/1.0', async () => {
    const { port } = await startServer();
    const client = await Client.open(port);
    client.send('POST /old HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n');
    await pause(100);
    client.send('hi');
    const reading = await client.responses(1);
    check(reading.interim.length === 0 && reading.responses[0]?.body.toString() === 'hi', {
      did: `your server sent ${showReading(reading)}`,
      expected: 'no 100 Continue (a 1.0 client does not know it), then 200 with the body',
      lesson: CONTINUE,
      transcript: client.transcript,
    });
  });

  it('cuts off a slow-headers (slowloris) client at headersTimeoutMs with 408', async () => {
    const { port } = await startServer(echo, { headersTimeoutMs: 300 });
    const client = await Client.open(port);
    const head = bytes(`GET /slow HTTP/1.1\r\nHost: h\r\nX-Drip: ${'d'.repeat(40)}\r\n\r\n`);
    const start = performance.now();
    client.send(head.subarray(0, 20)); // the request line at once, then the fields one byte at a time
    let sent = 20;
    const other = Client.open(port);
    for (; sent < head.length && !client.ended && performance.now() - start < 1_500; sent++) {
      client.send(head.subarray(sent, sent + 1));
      await pause(100);
    }
    const closed = await client.closes(1_500);
    const at = (client.endedAt ?? NaN) - start;
    const reading = readResponses(client.received());
    check(closed && at >= 250 && at <= 1_300 && reading.responses[0]?.status === 408, {
      did: `a client sending one byte of its head every 100 ms: ${closed ? `cut off ${at.toFixed(0)} ms after its first byte` : 'never cut off'}, after ${sent} bytes; ${showReading(reading)}`,
      expected: '408 and the end of the connection about 300 ms (headersTimeoutMs) after the first byte: the deadline is for the whole head, so a byte now and then does not reset it',
      lesson: SLOW,
      transcript: client.transcript,
    });
    const o = await other;
    o.send(get('/fast'));
    const fast = await o.responses(1);
    check(fast.responses[0]?.status === 200, { did: `another client meanwhile: ${showReading(fast)}`, expected: '200: the slow client blocks nobody', lesson: SLOW });
  });

  it('puts no head deadline or idle timeout on a slow body or a slow handler', async () => {
    const { port } = await startServer(async (r) => {
      if (r.target === '/slow-handler') await pause(300);
      return echo(r);
    }, { headersTimeoutMs: 150, idleTimeoutMs: 150 });
    const client = await Client.open(port);
    client.send('POST /slow-body HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n');
    for (const c of 'drip') {
      await pause(90);
      client.send(c);
    }
    client.send(get('/slow-handler'));
    const reading = await client.responses(2);
    check(reading.responses.map((r) => r.status).join(' ') === '200 200' && reading.responses[0]!.body.toString() === 'drip', {
      did: `a body sent over 360 ms, then a handler that takes 300 ms (headersTimeoutMs and idleTimeoutMs 150): ${showReading(reading)}`,
      expected: 'both answered: the head deadline covers the head only, and a connection with a request in progress or a response owed is not idle',
      lesson: SLOW,
      transcript: client.transcript,
    });
  });

  it('holds a head that arrives in pieces to the head deadline, not to the idle timeout', async () => {
    const { port } = await startServer(echo, { headersTimeoutMs: 2_000, idleTimeoutMs: 150 });
    const client = await Client.open(port);
    const head = get('/pieces');
    for (let i = 0; i < head.length; i += 8) {
      client.send(head.slice(i, i + 8));
      await pause(60);
    }
    const reading = await client.responses(1);
    check(reading.responses[0]?.status === 200, {
      did: `a head sent in 8-byte pieces 60 ms apart (about ${Math.ceil(head.length / 8) * 60} ms in all, idleTimeoutMs 150): ${showReading(reading)}${client.ended ? ', connection closed' : ''}`,
      expected: '200: while a head is arriving the head deadline applies, and the connection is not idle',
      lesson: SLOW,
      transcript: client.transcript,
    });
  });

  it('clears the head deadline once the head is complete, however it arrived', async () => {
    const { port } = await startServer(echo, { headersTimeoutMs: 150, idleTimeoutMs: 2_000 });
    const client = await Client.open(port);
    const head = get('/in-three');
    client.send(head.slice(0, 5));
    await pause(10);
    client.send(head.slice(5, 20));
    await pause(10);
    client.send(head.slice(20));
    await client.responses(1);
    await pause(300);
    client.send(get('/later'));
    const reading = await client.responses(2);
    check(reading.responses.map((r) => r.status).join(' ') === '200 200', {
      did: `a head in three pieces, then 300 ms of quiet keep-alive (headersTimeoutMs 150), then another request: ${showReading(reading)}${client.ended ? ', connection closed' : ''}`,
      expected: '200, then 200: no 408 on a quiet connection, and no deadline left running from an earlier head',
      lesson: SLOW,
      transcript: client.transcript,
    });
  });

  it('starts the head deadline at the first byte of the request line', async () => {
    const { port } = await startServer(echo, { headersTimeoutMs: 200 });
    const client = await Client.open(port);
    const line = 'GET /a-very-slow-request-line HTTP/1.1\r\n';
    const start = performance.now();
    for (let i = 0; i < line.length && !client.ended && performance.now() - start < 1_500; i++) {
      client.send(line[i]!);
      await pause(50);
    }
    const closed = await client.closes(1_000);
    const at = (client.endedAt ?? NaN) - start;
    check(closed && at <= 1_000 && readResponses(client.received()).responses[0]?.status === 408, {
      did: `a client sending its request line one byte every 50 ms: ${closed ? `cut off after ${at.toFixed(0)} ms` : 'never cut off'}; ${showReading(readResponses(client.received()))}`,
      expected: '408 and the end about 200 ms (headersTimeoutMs) after the first byte: the request line is part of the head',
      lesson: SLOW,
      transcript: client.transcript,
    });
  });

  it('gives each request on a connection its own head deadline', async () => {
    const { port } = await startServer(echo, { headersTimeoutMs: 300 });
    const client = await Client.open(port);
    for (let i = 0; i < 2; i++) {
      await pause(200);
      client.send(get(`/${i}`));
    }
    const reading = await client.responses(2);
    check(reading.responses.length === 2 && reading.responses.every((r) => r.status === 200), {
      did: `two quick requests 200 and 400 ms after connecting (headersTimeoutMs 300): ${showReading(reading)}`,
      expected: 'two 200s: the head deadline starts at each request\'s first byte, not at the connection\'s start',
      lesson: SLOW,
      transcript: client.transcript,
    });
  });
});

describe('closing', () => {
  it('close() closes idle connections, lets an in-flight response finish, and leaves no timer', async () => {
    const timers = watchTimersOf(implFile('13-http', 'server.ts'));
    const { server, port } = await startServer(async (r) => {
      if (r.target === '/slow') await pause(150);
      return echo(r);
    });
    const idle = await Client.open(port);
    idle.send(get('/'));
    await idle.responses(1);
    const busy = await Client.open(port);
    busy.socket.on('end', () => {}); // this client keeps its side open after the server's FIN: the server must drop it itself
    (busy.socket as unknown as { allowHalfOpen: boolean }).allowHalfOpen = true;
    busy.send(get('/slow'));
    const uploading = await Client.open(port);
    uploading.send('POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nhal');
    await pause(30);
    const closing = server.close();
    await pause(30);
    uploading.send('f!!');
    const upload = await uploading.responses(1);
    const idleClosed = await idle.closes(500);
    const reading = await busy.responses(1);
    const busyClosed = await busy.closes(1_000);
    const resolved = await within(closing.then(() => true), 2_500, 'HttpServer.close()', 'Does it resolve once every connection has closed?').catch(() => false);
    let refused = false;
    await Client.open(port).catch(() => (refused = true));
    await pause(20);
    const pending = timers.pending();
    check(idleClosed && reading.responses[0]?.headers['x-target'] === '/slow' && busyClosed && upload.responses[0]?.body.toString() === 'half!!' && resolved && refused && pending.length === 0, {
      did: `idle connection ${idleClosed ? 'closed' : 'left open'}; the in-flight request got ${showReading(reading)}, then ${busyClosed ? 'closed' : 'stayed open'}; the upload whose body was still arriving got ${showReading(upload)}; close() ${resolved ? 'resolved' : 'did not resolve'}; a new connection was ${refused ? 'refused' : 'accepted'}; timers still armed: ${pending.join(', ') || 'none'}`,
      expected: 'the idle one closed at once; /slow answered, then the end; the upload finished and answered; close() resolved (a client that keeps its side open is dropped after a short linger); no new connections; no timer left behind',
      lesson: lesson('The exercise'),
    });
  });
});

describe('real peers', () => {
  it('curl: GET, a chunked upload with 100-continue, and two requests on one connection', async (ctx) => {
    const curl = needPeer(ctx, 'curl');
    const { port } = await startServer();
    const base = `http://127.0.0.1:${port}`;
    const one = await run(curl, ['-sS', '-D', '-', `${base}/curl`]);
    check(/^HTTP\/1\.1 200/.test(one.stdout.toString()) && one.stdout.toString().includes('x-target: /curl'), {
      did: `curl -sS -D - ${base}/curl printed ${JSON.stringify(one.stdout.toString().slice(0, 300))} ${one.stderr}`,
      expected: 'HTTP/1.1 200 and x-target: /curl',
      lesson: TEXT,
      reproduce: `curl -v ${base}/curl`,
    });
    const body = Buffer.from(Array.from({ length: 3000 }, (_, i) => i & 0xff));
    const started = performance.now();
    const up = await run(curl, ['-sS', '--expect100-timeout', '5', '-H', 'Expect: 100-continue', '-H', 'Transfer-Encoding: chunked', '--data-binary', '@-', `${base}/up`], body, 4_000);
    check(up.code === 0 && up.stdout.equals(body) && performance.now() - started < 3_500, {
      did: `curl chunked upload with Expect: 100-continue exited ${up.code} after ${(performance.now() - started).toFixed(0)} ms with ${up.stdout.length} bytes back (${up.stderr.trim()})`,
      expected: 'the 3000 bytes echoed at once: 100 Continue sent, the chunked body decoded',
      lesson: CONTINUE,
      reproduce: `head -c 3000 /dev/urandom | curl -v -H 'Expect: 100-continue' -H 'Transfer-Encoding: chunked' --data-binary @- ${base}/up`,
    });
    const two = await run(curl, ['-sS', '-o', '/dev/null', '-o', '/dev/null', '-w', '%{num_connects}\\n', `${base}/a`, `${base}/b`]);
    check(two.stdout.toString().trim().split('\n').join(' ') === '1 0', {
      did: `curl fetching two URLs made ${two.stdout.toString().trim().split('\n').join(' then ')} new connection(s)`,
      expected: '1 then 0: the second request reused the kept-alive connection',
      lesson: KEEPALIVE,
      reproduce: `curl -v ${base}/a ${base}/b   (look for "Re-using existing connection")`,
    });
    const head = await run(curl, ['-sS', '-I', `${base}/head`], undefined, 3_000);
    check(head.code === 0 && /content-length: 0/i.test(head.stdout.toString()), {
      did: `curl -I exited ${head.code}: ${JSON.stringify(head.stdout.toString())}`,
      expected: 'a HEAD answered with the head only (the echo body is empty, so Content-Length: 0)',
      lesson: HEAD,
    });
  });

  it('node:http with a keep-alive agent reuses one connection', async () => {
    const { port } = await startServer();
    const agent = track(new http.Agent({ keepAlive: true, maxSockets: 1 }), 'keep-alive agent');
    const ask = (path: string, body?: string) => within(new Promise<{ status: number; body: string; reused: boolean; local: number }>((resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', path, agent, method: body ? 'POST' : 'GET' }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d) => (text += d)).on('end', () => resolve({ status: res.statusCode!, body: text, reused: req.reusedSocket, local: req.socket!.localPort! }));
      });
      req.on('error', reject);
      req.end(body);
    }), LIMIT, `node:http request ${path}`);
    const a = await ask('/a', 'first é');
    const b = await ask('/b', 'second');
    const c = await ask('/c');
    check(a.body === 'first é' && b.body === 'second' && c.status === 200 && b.reused && c.reused && a.local === c.local, {
      did: `node:http got ${a.status} ${JSON.stringify(a.body)}, ${b.status} ${JSON.stringify(b.body)}, ${c.status}; reused: ${b.reused}, ${c.reused}; local ports ${a.local}, ${b.local}, ${c.local}`,
      expected: 'the echoes, all over one kept-alive connection (reusedSocket true, the same local port)',
      lesson: KEEPALIVE,
    });
  });

  it('fetch: GET and POST', async () => {
    const { port } = await startServer();
    const r1 = await within(fetch(`http://127.0.0.1:${port}/fetch?q=1`), LIMIT, 'fetch GET');
    const r2 = await within(fetch(`http://127.0.0.1:${port}/post`, { method: 'POST', body: new Uint8Array([0, 1, 0xfe, 0xff]) }), LIMIT, 'fetch POST');
    const b2 = Buffer.from(await r2.arrayBuffer());
    check(r1.status === 200 && r1.headers.get('x-target') === '/fetch?q=1' && b2.equals(Buffer.from([0, 1, 0xfe, 0xff])), {
      did: `fetch got ${r1.status} (x-target ${r1.headers.get('x-target')}), then ${r2.status} with ${b2.toString('hex')}`,
      expected: '200 with x-target /fetch?q=1, then the 4 bytes 0001feff echoed',
      lesson: TEXT,
    });
  });
});

describe('robustness', () => {
  it('answers ~200 seeded mutated requests with a well-formed status line or a clean close', async () => {
    await recordingCrashes(async (crashes) => {
      const { port } = await startServer(echo, { limits: WIRE_LIMITS, headersTimeoutMs: 400 });
      const seed = testSeed();
      const cases = fuzzCases(seed, 200);
      const bad: string[] = [];
      const one = async (data: Buffer, i: number) => {
        const client = await Client.open(port);
        client.socket.end(data);
        const closed = await client.closes(1_500);
        const received = client.received();
        const reading = readResponses(received, []);
        const wellFormed = received.length === 0 || (/^HTTP\/1\.1 \d{3} /.test(received.toString('latin1', 0, 13)) && reading.error === undefined);
        if (!closed || !wellFormed) bad.push(`case ${i}: ${closed ? '' : 'no close within 1.5 s; '}${wellFormed ? '' : `reply ${JSON.stringify(received.toString('latin1', 0, 80))}; `}input ${JSON.stringify(data.toString('latin1').slice(0, 120))}`);
        client.socket.destroy();
      };
      for (let i = 0; i < cases.length; i += 25) await Promise.all(cases.slice(i, i + 25).map((c, j) => one(c, i + j)));
      const { reading } = await exchange(port, bytes(get('/alive')));
      check(bad.length === 0 && crashes.length === 0 && reading.responses[0]?.status === 200, {
        did: `${bad.length} of ${cases.length} inputs went wrong${bad.length ? `:\n  ${bad.slice(0, 5).join('\n  ')}` : ''}; uncaught: ${crashes.map(String).join('; ') || 'none'}; afterwards: ${showReading(reading)}`,
        expected: 'every reply a well-formed response (or nothing) and a close, nothing thrown, and the server still answering',
        lesson: LIMITS_,
        extra: `Seed ${seed}: replay with WORKBOOK_SEED=${seed} npx vitest run tests/13-http/`,
      });
    });
  });
});
