/**
 * Chapter 14 · Web services with JSON.
 *
 * Your service as a Handler first, called directly with requests built by hand: resources and methods,
 * status codes and JSON errors, content types (and SOAP), large ids and Unicode, pagination, idempotency,
 * JSON-RPC. Then your node:http adapter on real sockets (the whole body first, bounded), the service on
 * your chapter-13 server, your typed fetch client against the test's own servers, and last the peers:
 * curl, and the chapter-11 client against chapter 12's firewall, where only the web port gets through.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'vitest';
import type { Handler, HttpRequest } from '@impl/14-web-services/exercise.ts';
import { ALLOW, DEFAULT_MAX_BODY_BYTES, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, RpcErrorCodes, messageService } from '@impl/14-web-services/exercise.ts';
import { BodyTooLargeError, readBody, serve } from '@impl/14-web-services/server.ts';
import { BadResponseError, ClientError, HttpStatusError, MessagesClient, NetworkError, RpcCallError, TimeoutError } from '@impl/14-web-services/client.ts';
import { check, closedPort, fc, forAllSync, forEachChunking, implFile, needPeer, onCleanup, recordingCrashes, settle, skipWithReason, thrown, watchTimersOf, within } from '../helpers/index.ts';
import {
  BIG, LIMIT, UNICODE, allowed, ask, curlOf, errorOf, fakeServer, isJsonUtf8, lesson, rawExchange, rawRequest, replyJson, request, showAnswer,
  showRequest, skipUnfinished, start, unfinished, wireJson,
} from './harness.ts';
import type { Answer } from './harness.ts';

const RESOURCES = lesson('Resources and methods');
const STATUS = lesson('Status codes');
const TYPES = lesson('Content types and validation');
const SOAP = lesson('SOAP, WSDL, and why JSON won');
const WHOLE_BODY = lesson('Reading the whole body');
const NUMBERS = lesson('Large integers in JSON');
const IDEMPOTENCY = lesson('Idempotency');
const PAGES = lesson('Pagination');
const RPC = lesson('JSON-RPC over HTTP');
const CLIENT = lesson('A typed client with timeouts');
const CHOOSING = lesson("Chapter 13's server or node:http");
const FIREWALLS = lesson('Why HTTP gets through firewalls');

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const clock = () => T0;

/** POST a message to your handler; the answer. */
const post = (h: Handler, value: unknown, headers: Record<string, string> = {}) => ask(h, request('POST', '/messages', { json: value, headers }));
/** A JSON-RPC payload POSTed to /rpc. */
const rpc = (h: Handler, payload: unknown) => ask(h, request('POST', '/rpc', { json: payload }));
/** A request and your answer, for messages. */
const exchange = (req: HttpRequest, a: Answer) => `${showRequest(req)}\n               answered ${showAnswer(a)}`;

/** Check a JSON error answer: its status, its code, a JSON content type, and (when given) its field. */
function expectError(req: HttpRequest, a: Answer, status: number, code: string, where: string, more: { field?: string } = {}): void {
  const e = errorOf(a);
  check(a.status === status && e?.code === code && typeof e?.message === 'string' && isJsonUtf8(a.headers['content-type']) && (more.field === undefined || e?.field === more.field), {
    did: exchange(req, a),
    expected: `${status} with Content-Type application/json; charset=utf-8 and a body {"error": {"code": "${code}", "message": "..."${more.field === undefined ? '' : `, "field": "${more.field}"`}}}`,
    lesson: where,
    reproduce: curlOf(req),
  });
}

/** Post `n` messages "m1".."mn"; their ids. */
async function postMany(h: Handler, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 1; i <= n; i++) {
    const a = await post(h, { author: 'Ada', text: `m${i}` });
    check(a.status === 201, { did: `POST /messages answered ${showAnswer(a)}`, expected: '201 Created', lesson: RESOURCES });
    ids.push((a.json as { id: string }).id);
  }
  return ids;
}

/** GET a page; its answer and the page. */
async function page(h: Handler, query: string): Promise<{ a: Answer; texts: string[]; next: unknown; req: HttpRequest }> {
  const req = request('GET', `/messages${query}`);
  const a = await ask(h, req);
  const p = a.json as { messages?: { text: string }[]; next?: unknown } | undefined;
  return { a, req, texts: (p?.messages ?? []).map((m) => m.text), next: p?.next };
}

describe('resources and methods', () => {
  it('POST /messages creates a message: 201, Location, and the message as JSON', async () => {
    const h = messageService({ clock });
    const req = request('POST', '/messages', { json: { author: 'Ada', text: 'Hello, Bram' } });
    const a = await ask(h, req);
    const location = a.headers.location;
    const path = location === undefined ? undefined : new URL(location, 'http://127.0.0.1').pathname;
    const m = a.json as Record<string, unknown>;
    check(a.status === 201 && path === '/messages/1' && isJsonUtf8(a.headers['content-type']), {
      did: exchange(req, a),
      expected: '201 Created, a Location field pointing at /messages/1 (the new resource), and Content-Type application/json; charset=utf-8',
      lesson: RESOURCES,
      reproduce: curlOf(req),
    });
    check(m?.id === '1' && m.author === 'Ada' && m.text === 'Hello, Bram' && m.createdAt === new Date(T0).toISOString() && Object.keys(m).length === 4, {
      did: `the body was ${a.text}`,
      expected: `the message: {"id":"1","author":"Ada","text":"Hello, Bram","createdAt":"${new Date(T0).toISOString()}"} (id a string, createdAt the clock's time as toISOString())`,
      lesson: RESOURCES,
    });
  });

  it('GET /messages/<id> answers the message; an id that does not exist is a 404 with a JSON error', async () => {
    const h = messageService({ clock });
    const [id] = await postMany(h, 2);
    for (const target of [`/messages/${id}`, `/messages/${id}?fields=all`]) {
      const req = request('GET', target);
      const a = await ask(h, req);
      check(a.status === 200 && isJsonUtf8(a.headers['content-type']) && (a.json as { id?: unknown; text?: unknown })?.id === '1' && (a.json as { text?: unknown }).text === 'm1', {
        did: exchange(req, a),
        expected: '200 with the message {"id":"1","author":"Ada","text":"m1",...} (a query string does not change the resource)',
        lesson: RESOURCES,
        reproduce: curlOf(req),
      });
    }
    for (const target of ['/messages/3', '/messages/0', '/messages/abc', '/messages/99999999999999999999999']) {
      const req = request('GET', target);
      expectError(req, await ask(h, req), 404, 'ERR_NOT_FOUND', RESOURCES);
    }
  });

  it('GET /messages lists what was posted, oldest first', async () => {
    const h = messageService({ clock });
    const empty = await page(h, '');
    check(empty.a.status === 200 && Array.isArray((empty.a.json as { messages?: unknown })?.messages) && empty.texts.length === 0 && empty.next === null, {
      did: exchange(empty.req, empty.a),
      expected: '200 with {"messages": [], "next": null} before anything was posted',
      lesson: PAGES,
    });
    await postMany(h, 3);
    const { a, req, texts, next } = await page(h, '');
    check(a.status === 200 && isJsonUtf8(a.headers['content-type']) && texts.join() === 'm1,m2,m3' && next === null, {
      did: exchange(req, a),
      expected: '200 with {"messages": [m1, m2, m3], "next": null}: every message, oldest first',
      lesson: RESOURCES,
    });
  });

  it('an unknown path is a 404 with a JSON error', async () => {
    const h = messageService();
    await postMany(h, 1);
    for (const [method, target] of [['GET', '/'], ['GET', '/message'], ['GET', '/messages/1/replies'], ['GET', '/api/messages/1'], ['GET', '/MESSAGES'], ['POST', '/rpc/x'], ['GET', '*'], ['POST', '/nothing']]) {
      const req = request(method!, target!, method === 'POST' ? { json: { author: 'Ada', text: 'x' } } : {});
      expectError(req, await ask(h, req), 404, 'ERR_NOT_FOUND', RESOURCES);
    }
  });

  it('405 names the allowed methods in Allow', async () => {
    const h = messageService();
    await postMany(h, 1);
    const cases: [string, string, readonly string[]][] = [
      ['PUT', '/messages', ['GET', 'HEAD', 'POST']],
      ['DELETE', '/messages', ['GET', 'HEAD', 'POST']],
      ['PATCH', '/messages', ['GET', 'HEAD', 'POST']],
      ['POST', '/messages/1', ['GET', 'HEAD']],
      ['DELETE', '/messages/1', ['GET', 'HEAD']],
      ['GET', '/rpc', ['POST']],
      ['PUT', '/rpc', ['POST']],
    ];
    for (const [method, target, allow] of cases) {
      const req = request(method, target, method === 'GET' ? {} : { json: { author: 'Ada', text: 'x' } });
      const a = await ask(h, req);
      expectError(req, a, 405, 'ERR_METHOD_NOT_ALLOWED', STATUS);
      check(allowed(a).join() === [...allow].sort().join(), {
        did: `${exchange(req, a)}\n               Allow: ${a.headers.allow ?? '(none)'}`,
        expected: `405 with Allow: ${allow.join(', ')} (RFC 9110 §15.5.6: a 405 MUST say which methods the resource supports)`,
        lesson: STATUS,
        reproduce: curlOf(req),
      });
    }
    check(ALLOW.messages.length > 0, { did: 'ALLOW is empty', expected: 'the constants as given', lesson: STATUS });
  });

  it('HEAD is answered like GET', async () => {
    const h = messageService();
    await postMany(h, 1);
    for (const [target, status] of [['/messages', 200], ['/messages/1', 200], ['/messages/2', 404]] as const) {
      const req = request('HEAD', target);
      const a = await ask(h, req);
      check(a.status === status && isJsonUtf8(a.headers['content-type']), {
        did: exchange(req, a),
        expected: `${status} with the Content-Type a GET would have (the server leaves out the body of a HEAD)`,
        lesson: RESOURCES,
      });
    }
  });

  it('a request that fails several checks gets the first: path, then method, then the body', async () => {
    const h = messageService();
    const cases: [HttpRequest, number, string][] = [
      [request('POST', '/nothing', { body: '{oops', headers: { 'content-type': 'text/plain' } }), 404, 'ERR_NOT_FOUND'],
      [request('DELETE', '/messages', { body: '{oops', headers: { 'content-type': 'text/plain' } }), 405, 'ERR_METHOD_NOT_ALLOWED'],
      [request('POST', '/messages', { body: '{oops', headers: { 'content-type': 'text/plain' } }), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
      [request('POST', '/messages', { body: '[1]', headers: { 'content-type': 'application/json' } }), 400, 'ERR_INVALID_BODY'],
    ];
    for (const [req, status, code] of cases) expectError(req, await ask(h, req), status, code, STATUS);
  });
});

describe('status codes and JSON errors', () => {
  it('bad JSON gives 400 with a JSON error', async () => {
    const h = messageService();
    for (const body of ['{', '{"author":"Ada","text":"x",}', '', "{'author':'Ada'}", 'undefined', '{"author":"Ada" "text":"x"}', 'NaN']) {
      const req = request('POST', '/messages', { body, headers: { 'content-type': 'application/json' } });
      expectError(req, await ask(h, req), 400, 'ERR_BAD_JSON', STATUS);
    }
    const list = await page(h, '');
    check(list.texts.length === 0, { did: `after the bad requests, GET /messages answered ${showAnswer(list.a)}`, expected: 'no message stored', lesson: STATUS });
  });

  it('bytes that are not UTF-8 give 400, never a U+FFFD in a stored message', async () => {
    const h = messageService();
    const emoji = Buffer.from('👋');
    const bodies = [
      Buffer.concat([Buffer.from('{"author":"Ada","text":"a'), Buffer.from([0xff]), Buffer.from('"}')]),
      Buffer.concat([Buffer.from('{"author":"Ada","text":"a'), Buffer.from([0x80]), Buffer.from('"}')]),
      Buffer.concat([Buffer.from('{"author":"Ada","text":"a'), emoji.subarray(0, 2), Buffer.from('"}')]),
      Buffer.concat([Buffer.from('{"author":"Ada","text":"a'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]),
    ];
    for (const body of bodies) {
      const req = request('POST', '/messages', { body, headers: { 'content-type': 'application/json' } });
      expectError(req, await ask(h, req), 400, 'ERR_BAD_JSON', TYPES);
    }
    const list = await page(h, '');
    check(list.texts.length === 0, { did: `GET /messages answered ${showAnswer(list.a)}`, expected: 'no message stored: bytes that are not UTF-8 are refused, not repaired with U+FFFD', lesson: TYPES });
  });

  it('JSON that is not an object gives 400 ERR_INVALID_BODY', async () => {
    const h = messageService();
    for (const body of ['[]', '"Hello"', '42', 'null', 'true', '[{"author":"Ada","text":"x"}]']) {
      const req = request('POST', '/messages', { body, headers: { 'content-type': 'application/json' } });
      expectError(req, await ask(h, req), 400, 'ERR_INVALID_BODY', TYPES);
    }
  });

  it('each field is checked and named: missing, not a string, empty, only whitespace, unknown', async () => {
    const h = messageService();
    const cases: [unknown, string][] = [
      [{ text: 'x' }, 'author'],
      [{ author: 'Ada' }, 'text'],
      [{}, 'author'],
      [{ author: 42, text: 'x' }, 'author'],
      [{ author: 'Ada', text: ['x'] }, 'text'],
      [{ author: 'Ada', text: null }, 'text'],
      [{ author: '', text: 'x' }, 'author'],
      [{ author: 'Ada', text: '' }, 'text'],
      [{ author: ' \t\n', text: 'x' }, 'author'],
      [{ author: 'Ada', text: '\u00a0\u2003 ' }, 'text'],
      [{ author: 'Ada', text: 'x', txt: 'typo' }, 'txt'],
      [{ author: 'Ada', text: 'x', id: '7' }, 'id'],
    ];
    for (const [value, field] of cases) {
      const req = request('POST', '/messages', { json: value });
      expectError(req, await ask(h, req), 400, 'ERR_INVALID_FIELD', TYPES, { field });
    }
    const ok = await post(h, { author: ' Ada ', text: ' padded ' });
    check(ok.status === 201 && (ok.json as { author?: unknown })?.author === ' Ada ', {
      did: `POST {"author":" Ada ","text":" padded "} answered ${showAnswer(ok)}`,
      expected: '201, and the strings stored as they were sent (whitespace around text is not an error, only whitespace alone is)',
      lesson: TYPES,
    });
  });

  it('a wrong content type gives 415', async () => {
    const h = messageService();
    const body = JSON.stringify({ author: 'Ada', text: 'x' });
    for (const target of ['/messages', '/rpc']) {
      for (const type of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonp', 'text/json', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/json; charset=utf-16']) {
        const req = request('POST', target, { body, headers: type === undefined ? {} : { 'content-type': type } });
        const a = await ask(h, req);
        expectError(req, a, 415, 'ERR_UNSUPPORTED_MEDIA_TYPE', TYPES);
        check(errorOf(a)?.accept === 'application/json', { did: exchange(req, a), expected: 'the 415 error names what to send: "accept": "application/json"', lesson: TYPES });
      }
    }
    for (const type of ['application/json', 'Application/JSON', 'application/json;charset=UTF-8', 'application/json ; charset=utf-8']) {
      const req = request('POST', '/messages', { body, headers: { 'content-type': type } });
      const a = await ask(h, req);
      check(a.status === 201, { did: exchange(req, a), expected: `201: "${type}" is JSON in UTF-8 (media types and charset names are case-insensitive)`, lesson: TYPES, reproduce: curlOf(req) });
    }
  });

  it('413 for a body over the service limit, counted in bytes', async () => {
    const h = messageService({ maxBodyBytes: 100 });
    const exact = (n: number) => {
      const base = JSON.stringify({ author: 'Ada', text: '' });
      return `${JSON.stringify({ author: 'Ada', text: 'x'.repeat(n - base.length) })}`;
    };
    for (const [body, status] of [[exact(100), 201], [exact(101), 413]] as const) {
      const req = request('POST', '/messages', { body, headers: { 'content-type': 'application/json' } });
      const a = await ask(h, req);
      if (status === 413) {
        expectError(req, a, 413, 'ERR_BODY_TOO_LARGE', STATUS);
        check(errorOf(a)?.limit === 100, { did: exchange(req, a), expected: 'the 413 error says the limit: "limit": 100', lesson: STATUS });
      }
      else check(a.status === 201, { did: exchange(req, a), expected: '201: a body of exactly maxBodyBytes (100) is allowed', lesson: STATUS });
    }
    // 20 emoji: 41 UTF-16 code units of text, but 80 bytes of it: the body is 110 bytes.
    const emoji = JSON.stringify({ author: 'Ada', text: '😀'.repeat(20) });
    const req = request('POST', '/messages', { body: emoji, headers: { 'content-type': 'application/json' } });
    expectError(req, await ask(h, req), 413, 'ERR_BODY_TOO_LARGE', STATUS);
    const rpcReq = request('POST', '/rpc', { body: exact(101), headers: { 'content-type': 'application/json' } });
    expectError(rpcReq, await ask(h, rpcReq), 413, 'ERR_BODY_TOO_LARGE', STATUS);
    const d = messageService();
    const big = (n: number) => `{"author":"Ada","text":"x"}${' '.repeat(n - 27)}`;
    for (const [n, status] of [[DEFAULT_MAX_BODY_BYTES, 201], [DEFAULT_MAX_BODY_BYTES + 1, 413]] as const) {
      const r = request('POST', '/messages', { body: big(n), headers: { 'content-type': 'application/json' } });
      const a = await ask(d, r);
      check(a.status === status, { did: `a body of ${n} bytes: ${a.status}`, expected: `${status}: the default limit is DEFAULT_MAX_BODY_BYTES (${DEFAULT_MAX_BODY_BYTES}) bytes`, lesson: STATUS });
    }
  });

  it('every JSON answer says application/json; charset=utf-8, errors included', async () => {
    const h = messageService();
    await postMany(h, 1);
    const reqs = [
      request('GET', '/messages'),
      request('GET', '/messages/1'),
      request('POST', '/messages', { json: { author: 'Bram', text: 'y' } }),
      request('GET', '/messages/9'),
      request('DELETE', '/messages'),
      request('POST', '/messages', { json: { author: 1 } }),
      request('POST', '/messages', { body: 'x', headers: { 'content-type': 'text/plain' } }),
      request('GET', '/messages?limit=0'),
      request('POST', '/rpc', { json: { jsonrpc: '2.0', id: 1, method: 'messages.get', params: { id: '1' } } }),
      request('POST', '/rpc', { body: '{', headers: { 'content-type': 'application/json' } }),
    ];
    for (const req of reqs) {
      const a = await ask(h, req);
      check(isJsonUtf8(a.headers['content-type']) && a.json !== undefined, {
        did: exchange(req, a),
        expected: 'Content-Type: application/json; charset=utf-8 and a JSON body, on success and on error alike',
        lesson: TYPES,
      });
    }
  });

  it('a failure inside the service is a JSON 500 that tells nothing of it', async () => {
    const h = messageService({
      clock: () => {
        throw new Error('clock broke: secret-42');
      },
    });
    const req = request('POST', '/messages', { json: { author: 'Ada', text: 'x' } });
    const a = await ask(h, req);
    expectError(req, a, 500, 'ERR_INTERNAL', STATUS);
    check(!a.text.includes('secret-42'), { did: exchange(req, a), expected: 'nothing of the internal error in the answer', lesson: STATUS });
  });
});

describe('SOAP, and content types', () => {
  const envelope12 = '<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><m:postMessage xmlns:m="urn:wb"><m:author>Ada</m:author><m:text>Hello</m:text></m:postMessage></env:Body></env:Envelope>';
  const envelope11 = envelope12.replace('http://www.w3.org/2003/05/soap-envelope', 'http://schemas.xmlsoap.org/soap/envelope/');

  it('a SOAP envelope gets a 415 that names application/json, with an example that works', async () => {
    const h = messageService();
    const cases = [
      request('POST', '/messages', { body: envelope12, headers: { 'content-type': 'application/soap+xml; charset=utf-8; action="urn:wb#postMessage"' } }),
      request('POST', '/messages', { body: envelope11, headers: { 'content-type': 'text/xml; charset=utf-8', SOAPAction: '"urn:wb#postMessage"' } }),
      request('POST', '/MessageService.asmx', { body: envelope11, headers: { 'content-type': 'text/xml', soapaction: '' } }),
      request('POST', '/rpc', { body: envelope12, headers: { 'content-type': 'Application/SOAP+XML' } }),
    ];
    for (const req of cases) {
      const a = await ask(h, req);
      expectError(req, a, 415, 'ERR_SOAP_NOT_SUPPORTED', SOAP);
      const e = errorOf(a)!;
      const example = e.example as { method?: unknown; path?: unknown; body?: unknown } | undefined;
      check(e.accept === 'application/json' && typeof example?.method === 'string' && typeof example.path === 'string' && example.body !== undefined, {
        did: exchange(req, a),
        expected: 'the error says "accept": "application/json" and shows "example": {"method": "POST", "path": "/messages", "body": {...}}, a JSON request that does what the envelope wanted',
        lesson: SOAP,
        reproduce: curlOf(req),
      });
      const follow = request(example.method as string, example.path as string, { json: example.body });
      const f = await ask(h, follow);
      check(f.status >= 200 && f.status < 300, { did: `following the example: ${exchange(follow, f)}`, expected: 'a 2xx: the example must be a request the service accepts', lesson: SOAP });
    }
    for (const req of [
      request('POST', '/messages', { json: { author: 'Ada', text: 'json' }, headers: { SOAPAction: '"x"' } }),
      request('GET', '/messages', { headers: { 'content-type': 'application/soap+xml' } }),
    ]) {
      const a = await ask(h, req);
      check(a.status === 201 || a.status === 200, { did: exchange(req, a), expected: 'a 2xx: JSON with a stray SOAPAction field is still JSON, and a GET carries no envelope', lesson: SOAP });
    }
    const xml = request('POST', '/messages', { body: '<note>hi</note>', headers: { 'content-type': 'text/xml' } });
    expectError(xml, await ask(h, xml), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE', SOAP);
  });
});

describe('large integers and Unicode', () => {
  it('ids beyond 2^53 survive', async () => {
    const h = messageService({ firstId: BIG });
    const ids = await postMany(h, 3);
    const want = [BIG, BIG + 1n, BIG + 2n].map(String);
    check(ids.join() === want.join(), {
      did: `three posts got the ids ${JSON.stringify(ids)}`,
      expected: `${JSON.stringify(want)}: a BigInt counter, written as a decimal string (as a Number, 2^53 + 1 becomes 2^53, and 2^53 + 1 + 1 is 2^53 again)`,
      lesson: NUMBERS,
    });
    for (const [i, id] of want.entries()) {
      const req = request('GET', `/messages/${id}`);
      const a = await ask(h, req);
      check(a.status === 200 && (a.json as { text?: unknown })?.text === `m${i + 1}` && /"id"\s*:\s*"\d+"/.test(a.text), {
        did: exchange(req, a),
        expected: `200 with m${i + 1}, its id a JSON string ("id":"${id}"), never a JSON number`,
        lesson: NUMBERS,
        reproduce: curlOf(req),
      });
    }
    const after = await page(h, `?after=${want[0]}`);
    check(after.texts.join() === 'm2,m3', {
      did: `GET /messages?after=${want[0]} answered ${showAnswer(after.a)}`,
      expected: 'm2 and m3: ids compared as BigInt (as Numbers, 9007199254740993 and 9007199254740992 are the same)',
      lesson: NUMBERS,
    });
  });

  it('Unicode survives byte-exact: emoji, CJK, combining marks, NUL', async () => {
    const h = messageService();
    const req = request('POST', '/messages', { json: { author: 'Ådå 🐍', text: UNICODE } });
    const a = await ask(h, req);
    const got = await ask(h, request('GET', '/messages/1'));
    const m = got.json as { author?: string; text?: string } | undefined;
    check(a.status === 201 && m?.text === UNICODE && m.author === 'Ådå 🐍' && Buffer.from(m.text).equals(Buffer.from(UNICODE)), {
      did: `posted ${JSON.stringify(UNICODE)}, read back ${JSON.stringify(m?.text)}`,
      expected: 'the same code points, in the same order: no normalisation (e + U+0301 stays two code points), no replacement characters',
      lesson: TYPES,
    });
  });

  it('any string survives the round trip (seeded)', async () => {
    const h = messageService();
    const texts: string[] = [];
    forAllSync(fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), (s) => texts.push(`x${s}`), { numRuns: 60 });
    for (const text of texts) {
      const a = await post(h, { author: 'Ada', text });
      const id = (a.json as { id?: string })?.id;
      const back = id === undefined ? undefined : await ask(h, request('GET', `/messages/${id}`));
      check((back?.json as { text?: unknown })?.text === text, {
        did: `posted ${JSON.stringify(text)}: ${showAnswer(a)}; read back ${back ? showAnswer(back) : 'nothing'}`,
        expected: 'the same string',
        lesson: TYPES,
      });
    }
  });
});

describe('pagination', () => {
  it('pages through every message with limit and next, each exactly once', async () => {
    const h = messageService();
    const ids = await postMany(h, 7);
    const seen: string[] = [];
    let query = '?limit=3';
    const nexts: unknown[] = [];
    for (let round = 0; round < 5; round++) {
      const p = await page(h, query);
      seen.push(...p.texts);
      nexts.push(p.next);
      if (p.next === null || typeof p.next !== 'string') break;
      query = `?limit=3&after=${p.next}`;
    }
    check(seen.join() === 'm1,m2,m3,m4,m5,m6,m7' && nexts.join() === `${ids[2]},${ids[5]},` && nexts.at(-1) === null, {
      did: `following next from ?limit=3 gave the texts ${JSON.stringify(seen)} with next ${JSON.stringify(nexts)}`,
      expected: `m1..m7 once each, in three pages, with next ${JSON.stringify([ids[2], ids[5], null])}: the last id of a page, and null on the last`,
      lesson: PAGES,
    });
  });

  it('next is null on the last page, also when that page is exactly full', async () => {
    const h = messageService();
    await postMany(h, 6);
    const first = await page(h, '?limit=3');
    const second = await page(h, `?limit=3&after=${String(first.next)}`);
    const all = await page(h, '?limit=6');
    check(first.next === '3' && second.texts.join() === 'm4,m5,m6' && second.next === null && all.next === null, {
      did: `?limit=3 gave next ${JSON.stringify(first.next)}; the next page ${JSON.stringify(second.texts)} with next ${JSON.stringify(second.next)}; ?limit=6 next ${JSON.stringify(all.next)}`,
      expected: 'next "3", then m4..m6 with next null, and null for ?limit=6: a page that holds the last message says there is no more',
      lesson: PAGES,
    });
    const beyond = await page(h, '?after=6');
    const zero = await page(h, '?after=0&limit=2');
    check(beyond.a.status === 200 && beyond.texts.length === 0 && beyond.next === null && zero.texts.join() === 'm1,m2', {
      did: `?after=6: ${showAnswer(beyond.a)}; ?after=0&limit=2: ${showAnswer(zero.a)}`,
      expected: 'an empty page with next null after the last id, and m1, m2 after 0',
      lesson: PAGES,
    });
  });

  it('uses the default page size and honours the options', async () => {
    const h = messageService();
    await postMany(h, DEFAULT_PAGE_SIZE + 5);
    const p = await page(h, '');
    check(p.texts.length === DEFAULT_PAGE_SIZE && p.next === String(DEFAULT_PAGE_SIZE), {
      did: `GET /messages with ${DEFAULT_PAGE_SIZE + 5} messages gave ${p.texts.length}, next ${JSON.stringify(p.next)}`,
      expected: `${DEFAULT_PAGE_SIZE} (DEFAULT_PAGE_SIZE) and next "${DEFAULT_PAGE_SIZE}"`,
      lesson: PAGES,
    });
    const max = await page(h, `?limit=${MAX_PAGE_SIZE}`);
    check(max.a.status === 200 && max.texts.length === DEFAULT_PAGE_SIZE + 5, { did: `?limit=${MAX_PAGE_SIZE}: ${showAnswer(max.a)}`, expected: `200 with all ${DEFAULT_PAGE_SIZE + 5}`, lesson: PAGES });
    const o = messageService({ pageSize: 2, maxPageSize: 3 });
    await postMany(o, 5);
    const two = await page(o, '');
    const three = await page(o, '?limit=3');
    const four = await page(o, '?limit=4');
    check(two.texts.length === 2 && three.texts.length === 3 && four.a.status === 400, {
      did: `with { pageSize: 2, maxPageSize: 3 }: no limit gave ${two.texts.length}, limit=3 gave ${three.texts.length}, limit=4 answered ${showAnswer(four.a)}`,
      expected: '2, 3, and a 400 for limit=4',
      lesson: PAGES,
    });
  });

  it('a bad limit or after gives 400 ERR_BAD_QUERY naming the parameter', async () => {
    const h = messageService();
    await postMany(h, 2);
    const cases: [string, string][] = [
      ['limit=0', 'limit'], ['limit=-1', 'limit'], ['limit=abc', 'limit'], ['limit=1.5', 'limit'], ['limit=', 'limit'], ['limit=1e1', 'limit'],
      [`limit=${MAX_PAGE_SIZE + 1}`, 'limit'], ['limit=%205', 'limit'], ['limit=0x10', 'limit'],
      ['after=abc', 'after'], ['after=-1', 'after'], ['after=1.0', 'after'], ['after=', 'after'], ['after=0x1', 'after'], ['after=1e3', 'after'], ['after=%201', 'after'],
    ];
    for (const [q, field] of cases) {
      const req = request('GET', `/messages?${q}`);
      expectError(req, await ask(h, req), 400, 'ERR_BAD_QUERY', PAGES, { field });
    }
  });
});

describe('idempotency', () => {
  it('a POST retried with the same Idempotency-Key posts once and gets the same answer', async () => {
    const h = messageService();
    const first = await post(h, { author: 'Ada', text: 'once' }, { 'Idempotency-Key': 'k-1' });
    const retry = await post(h, { author: 'Ada', text: 'once' }, { 'Idempotency-Key': 'k-1' });
    const other = await post(h, { author: 'Ada', text: 'twice' }, { 'Idempotency-Key': 'k-2' });
    const list = await page(h, '');
    check(first.status === 201 && retry.status === first.status && retry.text === first.text && retry.headers.location === first.headers.location && list.texts.join() === 'once,twice' && (other.json as { id?: unknown })?.id === '2', {
      did: `first ${showAnswer(first)}\n               retry ${showAnswer(retry)}\n               then the list held ${JSON.stringify(list.texts)}`,
      expected: 'the retry answered exactly as the first (same status, Location and body), one message stored for k-1, and a new one (id "2") for k-2',
      lesson: IDEMPOTENCY,
    });
  });

  it('without a key, two POSTs are two messages, and GETs change nothing', async () => {
    const h = messageService();
    await post(h, { author: 'Ada', text: 'same' });
    for (let i = 0; i < 3; i++) {
      await ask(h, request('GET', '/messages'));
      await ask(h, request('GET', '/messages/1'));
    }
    const second = await post(h, { author: 'Ada', text: 'same' });
    const list = await page(h, '');
    check((second.json as { id?: unknown })?.id === '2' && list.texts.length === 2, {
      did: `the second POST answered ${showAnswer(second)}; the list then held ${list.texts.length}`,
      expected: 'id "2" and two messages: POST is not idempotent, GET is safe',
      lesson: IDEMPOTENCY,
    });
  });
});

describe('JSON-RPC over HTTP', () => {
  type Reply = { jsonrpc?: unknown; id?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown; data?: { field?: unknown } } };

  it('a call answers its result in a 200, with its own id', async () => {
    const h = messageService({ clock, firstId: BIG });
    const payloads = [
      { jsonrpc: '2.0', id: 'a1', method: 'messages.post', params: { author: 'Ada', text: 'via rpc' } },
      { jsonrpc: '2.0', id: 7, method: 'messages.get', params: { id: String(BIG) } },
      { jsonrpc: '2.0', id: 8, method: 'messages.list', params: { limit: 1 } },
      { jsonrpc: '2.0', id: 9, method: 'messages.list' },
      { jsonrpc: '2.0', id: 10, method: 'messages.list', params: { after: String(BIG) } },
      { jsonrpc: '2.0', id: null, method: 'messages.list', params: { after: String(BIG) } },
    ];
    const message = { id: String(BIG), author: 'Ada', text: 'via rpc', createdAt: new Date(T0).toISOString() };
    const results = [message, message, { messages: [message], next: null }, { messages: [message], next: null }, { messages: [], next: null }, { messages: [], next: null }];
    for (const [i, p] of payloads.entries()) {
      const req = request('POST', '/rpc', { json: p });
      const a = await ask(h, req);
      const r = a.json as Reply | undefined;
      check(a.status === 200 && isJsonUtf8(a.headers['content-type']) && r?.jsonrpc === '2.0' && r.id === p.id && JSON.stringify(r.result) === JSON.stringify(results[i]) && !('error' in r), {
        did: exchange(req, a),
        expected: `200 with {"jsonrpc":"2.0","id":${JSON.stringify(p.id)},"result":${JSON.stringify(results[i])}}`,
        lesson: RPC,
        reproduce: curlOf(req),
      });
    }
  });

  it('errors come in a 200 with the spec codes and the service\'s own', async () => {
    const h = messageService();
    await postMany(h, 1);
    const cases: [unknown, number, unknown, unknown?][] = [
      [{ jsonrpc: '2.0', id: 1, method: 'messages.delete' }, RpcErrorCodes.METHOD_NOT_FOUND, 1],
      [{ jsonrpc: '2.0', id: 2, method: 'toString' }, RpcErrorCodes.METHOD_NOT_FOUND, 2],
      [{ jsonrpc: '2.0', id: 3, method: 'constructor', params: {} }, RpcErrorCodes.METHOD_NOT_FOUND, 3],
      [{ jsonrpc: '2.0', id: 4, method: 'messages.get', params: {} }, RpcErrorCodes.INVALID_PARAMS, 4, 'id'],
      [{ jsonrpc: '2.0', id: 5, method: 'messages.post', params: { author: '', text: 'x' } }, RpcErrorCodes.INVALID_PARAMS, 5, 'author'],
      [{ jsonrpc: '2.0', id: 6, method: 'messages.post', params: ['Ada', 'x'] }, RpcErrorCodes.INVALID_PARAMS, 6],
      [{ jsonrpc: '2.0', id: 7, method: 'messages.list', params: { limit: 0 } }, RpcErrorCodes.INVALID_PARAMS, 7, 'limit'],
      [{ jsonrpc: '2.0', id: 8, method: 'messages.list', params: { limit: '5' } }, RpcErrorCodes.INVALID_PARAMS, 8, 'limit'],
      [{ jsonrpc: '2.0', id: 9, method: 'messages.list', params: { after: 5 } }, RpcErrorCodes.INVALID_PARAMS, 9, 'after'],
      [{ jsonrpc: '2.0', id: 10, method: 'messages.list', params: { after: 'x' } }, RpcErrorCodes.INVALID_PARAMS, 10, 'after'],
      [{ jsonrpc: '2.0', id: 11, method: 'messages.get', params: { id: '99' } }, RpcErrorCodes.NOT_FOUND, 11],
      [{ jsonrpc: '2.0', method: 1, params: 'bar' }, RpcErrorCodes.INVALID_REQUEST, null],
      [{ jsonrpc: '1.0', id: 12, method: 'messages.list' }, RpcErrorCodes.INVALID_REQUEST, null],
      [{ id: 13, method: 'messages.list' }, RpcErrorCodes.INVALID_REQUEST, null],
      [{ jsonrpc: '2.0', id: 14, method: 'messages.list', params: 'bar' }, RpcErrorCodes.INVALID_REQUEST, null],
      [{ jsonrpc: '2.0', id: { x: 1 }, method: 'messages.list' }, RpcErrorCodes.INVALID_REQUEST, null],
      [{ jsonrpc: '2.0', id: 20, method: 5 }, RpcErrorCodes.INVALID_REQUEST, null],
      [{ jsonrpc: '2.0', id: 21, method: 'messages.list', params: null }, RpcErrorCodes.INVALID_REQUEST, null],
      ['messages.list', RpcErrorCodes.INVALID_REQUEST, null],
    ];
    for (const [payload, code, id, field] of cases) {
      const req = request('POST', '/rpc', { json: payload });
      const a = await ask(h, req);
      const r = a.json as Reply | undefined;
      check(a.status === 200 && r?.jsonrpc === '2.0' && r.id === id && r.error?.code === code && typeof r.error.message === 'string' && !('result' in r) && (field === undefined || r.error.data?.field === field), {
        did: exchange(req, a),
        expected: `200 with {"jsonrpc":"2.0","id":${JSON.stringify(id)},"error":{"code":${code},"message":"..."${field === undefined ? '' : `,"data":{"field":"${field}"}`}}}: JSON-RPC errors travel in a 200`,
        lesson: RPC,
        reproduce: curlOf(req),
      });
    }
  });

  it('bad JSON is a -32700 parse error with id null, in a 200', async () => {
    const h = messageService();
    for (const body of ['{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]', '', Buffer.from([0x7b, 0xff, 0x7d])]) {
      const req = request('POST', '/rpc', { body, headers: { 'content-type': 'application/json' } });
      const a = await ask(h, req);
      const r = a.json as Reply | undefined;
      check(a.status === 200 && r?.jsonrpc === '2.0' && r.id === null && r.error?.code === RpcErrorCodes.PARSE_ERROR, {
        did: exchange(req, a),
        expected: '200 with {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}',
        lesson: RPC,
        reproduce: curlOf(req),
      });
    }
  });

  it('a notification gets no answer: 204', async () => {
    const h = messageService();
    for (const payload of [
      { jsonrpc: '2.0', method: 'messages.post', params: { author: 'Ada', text: 'quietly' } },
      { jsonrpc: '2.0', method: 'no.such.method' },
      { jsonrpc: '2.0', method: 'messages.post', params: { author: '' } },
    ]) {
      const req = request('POST', '/rpc', { json: payload });
      const a = await ask(h, req);
      check(a.status === 204 && a.bytes.length === 0, {
        did: exchange(req, a),
        expected: '204 No Content and no body: a request without an id is a notification, and nobody waits for its answer, not even for its error',
        lesson: RPC,
        reproduce: curlOf(req),
      });
    }
    const list = await page(h, '');
    check(list.texts.join() === 'quietly', { did: `after the notifications, the list held ${JSON.stringify(list.texts)}`, expected: '["quietly"]: a notification still does its work', lesson: RPC });
  });

  it('a batch answers each call by id, leaves out notifications, and an empty batch is one Invalid Request', async () => {
    const h = messageService();
    const batch = [
      { jsonrpc: '2.0', id: 1, method: 'messages.post', params: { author: 'Ada', text: 'in a batch' } },
      { jsonrpc: '2.0', method: 'messages.post', params: { author: 'Bram', text: 'notified' } },
      { jsonrpc: '2.0', id: 'two', method: 'messages.get', params: { id: '999' } },
      1,
      { jsonrpc: '2.0', id: 3, method: 'nope' },
    ];
    const req = request('POST', '/rpc', { json: batch });
    const a = await ask(h, req);
    const arr = a.json as Reply[] | undefined;
    const by = (id: unknown) => (Array.isArray(arr) ? arr.filter((r) => r?.id === id) : []);
    const ok =
      a.status === 200 && Array.isArray(arr) && arr.length === 4 &&
      by(1).length === 1 && (by(1)[0]!.result as { text?: unknown })?.text === 'in a batch' &&
      by('two').length === 1 && by('two')[0]!.error?.code === RpcErrorCodes.NOT_FOUND &&
      by(null).length === 1 && by(null)[0]!.error?.code === RpcErrorCodes.INVALID_REQUEST &&
      by(3).length === 1 && by(3)[0]!.error?.code === RpcErrorCodes.METHOD_NOT_FOUND;
    check(ok, {
      did: exchange(req, a),
      expected: '200 with an array of 4 answers, in any order: id 1 its result, id "two" a 404 error, id null an Invalid Request (for the element 1), id 3 Method not found; nothing for the notification',
      lesson: RPC,
      reproduce: curlOf(req),
    });
    const empty = request('POST', '/rpc', { json: [] });
    const e = await ask(h, empty);
    const er = e.json as Reply | undefined;
    check(e.status === 200 && !Array.isArray(er) && er?.id === null && er.error?.code === RpcErrorCodes.INVALID_REQUEST, {
      did: exchange(empty, e),
      expected: '200 with one object (not an array): {"jsonrpc":"2.0","id":null,"error":{"code":-32600,...}}',
      lesson: RPC,
    });
    const three = await rpc(h, [1, 2, 3]);
    check(Array.isArray(three.json) && (three.json as Reply[]).length === 3 && (three.json as Reply[]).every((r) => r.error?.code === RpcErrorCodes.INVALID_REQUEST && r.id === null), {
      did: `[1,2,3] answered ${showAnswer(three)}`,
      expected: 'an array of three Invalid Request errors, id null',
      lesson: RPC,
    });
    const quiet = request('POST', '/rpc', { json: [{ jsonrpc: '2.0', method: 'messages.list' }, { jsonrpc: '2.0', method: 'messages.post', params: { author: 'A', text: 'b' } }] });
    const q = await ask(h, quiet);
    check(q.status === 204 && q.bytes.length === 0, { did: exchange(quiet, q), expected: '204 and no body: a batch of notifications only has nothing to answer', lesson: RPC });
    const list = await page(h, '');
    check(list.texts.join() === 'in a batch,notified,b', { did: `the list held ${JSON.stringify(list.texts)}`, expected: 'the three posted messages, the notified ones included', lesson: RPC });
  });

  it('a number where an id belongs is refused: it may already have lost digits', async () => {
    const h = messageService({ firstId: BIG });
    await postMany(h, 2);
    const body = `{"jsonrpc":"2.0","id":1,"method":"messages.get","params":{"id":${BIG + 1n}}}`;
    const req = request('POST', '/rpc', { body, headers: { 'content-type': 'application/json' } });
    const a = await ask(h, req);
    const r = a.json as Reply | undefined;
    check(r?.error?.code === RpcErrorCodes.INVALID_PARAMS && r.error.data?.field === 'id', {
      did: exchange(req, a),
      expected: `an INVALID_PARAMS error with data {"field":"id"}: JSON.parse reads ${BIG + 1n} as ${Number(BIG + 1n)}, a different message's id`,
      lesson: NUMBERS,
      reproduce: curlOf(req),
    });
  });

  it('JSON-RPC and the resources share one store', async () => {
    const h = messageService();
    const r = await rpc(h, { jsonrpc: '2.0', id: 1, method: 'messages.post', params: { author: 'Ada', text: 'both doors' } });
    const id = ((r.json as Reply)?.result as { id?: unknown })?.id;
    const got = await ask(h, request('GET', `/messages/${String(id)}`));
    const posted = await post(h, { author: 'Bram', text: 'rest' });
    const viaRpc = await rpc(h, { jsonrpc: '2.0', id: 2, method: 'messages.get', params: { id: (posted.json as { id?: unknown })?.id } });
    check(got.status === 200 && ((viaRpc.json as Reply)?.result as { text?: unknown })?.text === 'rest', {
      did: `GET of the RPC-posted message: ${showAnswer(got)}; messages.get of the REST-posted one: ${showAnswer(viaRpc)}`,
      expected: 'each door sees what the other posted',
      lesson: RPC,
    });
  });

  it('a failure inside a method is -32603 Internal error, with none of its details', async () => {
    const h = messageService({
      clock: () => {
        throw new Error('clock broke: secret-43');
      },
    });
    const a = await rpc(h, { jsonrpc: '2.0', id: 5, method: 'messages.post', params: { author: 'Ada', text: 'x' } });
    const r = a.json as Reply | undefined;
    check(a.status === 200 && r?.id === 5 && r.error?.code === RpcErrorCodes.INTERNAL_ERROR && !a.text.includes('secret-43'), {
      did: `answered ${showAnswer(a)}`,
      expected: '200 with {"jsonrpc":"2.0","id":5,"error":{"code":-32603,...}} and nothing of the internal error',
      lesson: RPC,
    });
  });
});

/** A Readable that hands out `chunks` (copies), one per read. */
const streamOf = (chunks: Uint8Array[]) => Readable.from(chunks.map((c) => Buffer.from(c)), { objectMode: false });

describe('the node:http adapter: the whole body first', () => {
  const body = Buffer.concat([Buffer.from(JSON.stringify({ author: 'Ada 🐍', text: UNICODE })), Buffer.from([0x80, 0xbf, 0xc3, 0xff])]);

  it('readBody returns every byte however the body is cut', async () => {
    await forEachChunking(body, async (chunks, label) => {
      const r = await settle(readBody(streamOf(chunks), 1 << 20), LIMIT, 'readBody()', 'Does it resolve on the stream\'s end?');
      const got = r.value === undefined ? undefined : Buffer.from(r.value);
      check(got?.equals(body), {
        did: `with the body delivered ${label}, readBody ${r.error ? `threw ${thrown(r.error)}` : `returned ${got?.length} bytes`}${got && !got.equals(body) ? `: ${JSON.stringify(got.toString('utf8').slice(0, 80))}` : ''}`,
        expected: `all ${body.length} bytes, exactly: keep the Buffers, Buffer.concat them once at the end, never decode a chunk alone`,
        lesson: WHOLE_BODY,
      });
    });
    const exact = await settle(readBody(streamOf([Buffer.alloc(600), Buffer.alloc(400)]), 1000), LIMIT, 'readBody()');
    check(exact.value?.length === 1000, { did: `a body of exactly the cap (1000 bytes): ${exact.error ? `threw ${thrown(exact.error)}` : `${exact.value?.length} bytes`}`, expected: '1000 bytes: the cap itself is allowed', lesson: WHOLE_BODY });
  });

  it('readBody rejects with ERR_BODY_TOO_LARGE as soon as the cap is passed, without waiting for the end', async () => {
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled++;
        // Bounded: a reader that never stops is failed by the check below, long before this ends.
        this.push(pulled > 20_000 ? null : Buffer.alloc(1024, 0x61));
      },
    });
    const r = await settle(readBody(endless, 10_000), LIMIT, 'readBody() of an endless body', 'Do you count the bytes as they arrive and reject once past the cap?');
    check(r.error instanceof BodyTooLargeError && (r.error as BodyTooLargeError).code === 'ERR_BODY_TOO_LARGE' && (r.error as BodyTooLargeError).limit === 10_000 && pulled < 200, {
      did: `readBody(an endless body, 10000) ${r.error ? `threw ${thrown(r.error)}` : `returned ${r.value?.length} bytes`} after the stream handed out ${pulled} KiB`,
      expected: 'a BodyTooLargeError (code ERR_BODY_TOO_LARGE, limit 10000) once a little more than 10000 bytes arrived, not after reading the rest',
      lesson: WHOLE_BODY,
    });
    endless.destroy();
  });

  it('readBody rejects when the stream fails or closes before its end', async () => {
    const failing = new Readable({ read() {} });
    failing.push(Buffer.from('{"author":'));
    const r = readBody(failing, 1000);
    setTimeout(() => failing.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), 10);
    const s = await settle(r, LIMIT, 'readBody() of a stream that fails', 'Do you listen for error (and close)?');
    const closing = new Readable({ read() {} });
    closing.push(Buffer.from('{"author":'));
    const r2 = readBody(closing, 1000);
    setTimeout(() => closing.destroy(), 10);
    const s2 = await settle(r2, LIMIT, 'readBody() of a stream that closes before its end', 'Do you listen for close?');
    check(s.error !== undefined && !(s.error as { name?: string }).name?.includes('Deadline') && s2.error !== undefined && !(s2.error as { name?: string }).name?.includes('Deadline'), {
      did: `a stream that failed: ${s.error ? thrown(s.error) : 'resolved'}; a stream destroyed before its end: ${s2.error ? thrown(s2.error) : 'resolved'}`,
      expected: 'both reject: half a body is no body',
      lesson: WHOLE_BODY,
    });
  });

  it('a body that arrives in two pieces is read whole before parsing', async () => {
    const served = await start(messageService());
    const json = Buffer.from(JSON.stringify({ author: 'Ada', text: 'in two pieces' }));
    for (const cut of [1, Math.floor(json.length / 2), json.length - 1]) {
      const { head } = rawRequest('POST', '/messages', { 'Content-Type': 'application/json' }, json);
      const r = await rawExchange(served.port, [Buffer.concat([head, json.subarray(0, cut)]), json.subarray(cut)], { gapMs: 40 });
      const m = wireJson(r.response) as { text?: unknown } | undefined;
      check(r.response?.status === 201 && m?.text === 'in two pieces', {
        did: `the body came in two TCP segments 40 ms apart (cut after byte ${cut}); your server answered ${r.response ? `${r.response.status} ${r.response.body.toString('utf8')}` : 'nothing whole'}`,
        expected: '201 and the message: the handler runs after the whole body is in (its "end"), never on the first chunk',
        lesson: WHOLE_BODY,
        transcript: r.transcript,
      });
    }
  });

  it('a character split across two TCP segments survives', async () => {
    const served = await start(messageService());
    const text = 'split 👋🏽 here 漢';
    const json = Buffer.from(JSON.stringify({ author: 'Ada', text }));
    const at = json.indexOf(Buffer.from('👋'));
    for (const cut of [at + 1, at + 2, at + 3, json.indexOf(Buffer.from('漢')) + 1]) {
      const { head } = rawRequest('POST', '/messages', { 'Content-Type': 'application/json; charset=utf-8' }, json);
      const r = await rawExchange(served.port, [Buffer.concat([head, json.subarray(0, cut)]), json.subarray(cut)], { gapMs: 40 });
      const m = wireJson(r.response) as { text?: unknown } | undefined;
      check(r.response?.status === 201 && m?.text === text, {
        did: `the body was cut inside a multi-byte character (after byte ${cut}); your server answered ${r.response ? `${r.response.status} ${r.response.body.toString('utf8')}` : 'nothing whole'}`,
        expected: `201 with the text ${JSON.stringify(text)}: join the Buffers, then decode once (a chunk turned into a string alone ends in half a character, which becomes U+FFFD)`,
        lesson: WHOLE_BODY,
        transcript: r.transcript,
      });
    }
  });

  it('hands your handler the request as chapter 13 would, and writes its response back', async () => {
    const seen: HttpRequest[] = [];
    const binary = Buffer.from([0x00, 0x80, 0xff, 0xc3, 0x28, 0x0a]);
    const served = await start((req) => {
      seen.push(req);
      return { status: 207, headers: { 'x-answer': 'yes', 'content-type': 'text/plain; charset=utf-8' }, body: req.method === 'PUT' ? binary : 'héllo ✓' };
    });
    const { head } = rawRequest('PUT', '/x/y?z=1&w=%20', { 'X-Tag': 'a', 'x-TAG': 'b', 'Content-Type': 'application/octet-stream' }, binary);
    const r = await rawExchange(served.port, [head, binary]);
    const req = seen[0];
    check(req?.method === 'PUT' && req.target === '/x/y?z=1&w=%20' && req.version === '1.1' && req.headers['x-tag'] === 'a, b' && req.headers['content-type'] === 'application/octet-stream' && req.keepAlive === true && req.expectContinue === false && Buffer.from(req.body).equals(binary) && req.trailers !== undefined, {
      did: `your adapter handed the handler ${req ? JSON.stringify({ ...req, body: Buffer.from(req.body).toString('hex') }) : 'nothing'}`,
      expected: `method "PUT", target "/x/y?z=1&w=%20", version "1.1", headers with lower-cased names ("x-tag": "a, b"), keepAlive true, expectContinue false, body the bytes ${binary.toString('hex')}`,
      lesson: CHOOSING,
      transcript: r.transcript,
    });
    check(r.response?.status === 207 && r.response.headers['x-answer'] === 'yes' && r.response.body.equals(binary) && r.response.headers.connection?.toLowerCase() !== 'close' && !r.ended, {
      did: `the client received ${r.response ? `${r.response.status} ${JSON.stringify(r.response.headers)} ${r.response.body.toString('hex')}` : 'nothing whole'}`,
      expected: `207, x-answer: yes, and the bytes ${binary.toString('hex')}, and the connection left open for the next request (keep-alive)`,
      lesson: CHOOSING,
      transcript: r.transcript,
    });
    const v10 = rawRequest('GET', '/old', { Connection: 'keep-alive' });
    const r10 = await rawExchange(served.port, [Buffer.from(v10.head.toString('latin1').replace('HTTP/1.1', 'HTTP/1.0'), 'latin1')]);
    const chunked = await rawExchange(served.port, [
      'POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
      '3\r\nabc\r\n0\r\nX-Sum: 3\r\n\r\n',
    ]);
    const plain10 = await rawExchange(served.port, ['GET /plain HTTP/1.0\r\nHost: x\r\n\r\n']);
    const tokens = await rawExchange(served.port, ['GET /tokens HTTP/1.1\r\nHost: x\r\nConnection: x-foo, close\r\n\r\n']);
    const [, , , p10, tok] = seen;
    check(plain10.response !== undefined && tokens.response !== undefined && p10?.keepAlive === false && tok?.keepAlive === false, {
      did: `HTTP/1.0 without Connection: keepAlive ${p10?.keepAlive}; HTTP/1.1 with "Connection: x-foo, close": keepAlive ${tok?.keepAlive}`,
      expected: 'false and false: 1.0 closes unless it asks for keep-alive, and "close" counts as one token of a list',
      lesson: WHOLE_BODY,
    });
    const [old, withTrailer] = [seen[1], seen[2]];
    check(old?.version === '1.0' && old.keepAlive === true && withTrailer?.keepAlive === false && withTrailer.expectContinue === true && Buffer.from(withTrailer.body).toString() === 'abc' && withTrailer.trailers['x-sum'] === '3' && r10.response?.body.toString('utf8') === 'héllo ✓' && chunked.response?.status === 207, {
      did: `an HTTP/1.0 keep-alive GET became ${JSON.stringify(old && { version: old.version, keepAlive: old.keepAlive })}; a chunked POST with a trailer, Expect: 100-continue and Connection: close became ${JSON.stringify(withTrailer && { keepAlive: withTrailer.keepAlive, expectContinue: withTrailer.expectContinue, body: Buffer.from(withTrailer.body).toString(), trailers: withTrailer.trailers })}; the string body came back as ${JSON.stringify(r10.response?.body.toString('utf8'))}`,
      expected: 'version "1.0" with keepAlive true; keepAlive false, expectContinue true, body "abc", trailers { "x-sum": "3" }; and "héllo ✓" in UTF-8',
      lesson: CHOOSING,
    });
  });

  it('the adapter refuses a body over its cap while it is still arriving', async () => {
    let calls = 0;
    const service = messageService({ maxBodyBytes: 1 << 20 });
    const served = await start((req) => {
      calls++;
      return service(req);
    }, 'node:http', { maxBodyBytes: 64 * 1024 });
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    const head = 'POST /messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const pieces = [head, ...Array.from({ length: 16 }, () => Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]))];
    const r = await rawExchange(served.port, pieces, { gapMs: 5, untilClose: true });
    const e413 = (wireJson(r.response) as { error?: { code?: unknown; limit?: unknown } })?.error;
    check(r.response?.status === 413 && calls === 0 && e413?.code === 'ERR_BODY_TOO_LARGE' && e413.limit === 64 * 1024 && r.ended, {
      did: `a chunked body of 256 KiB that never ends, to a server with maxBodyBytes 64 KiB: ${r.response ? `${r.response.status} ${r.response.body.toString('utf8')}` : 'no whole answer'}; the handler ran ${calls} time(s); the connection ${r.ended ? 'ended' : 'stayed open'}`,
      expected: 'a JSON 413 (ERR_BODY_TOO_LARGE, limit 65536) while the body was still arriving, the handler never called, and the connection ended (Connection: close)',
      lesson: WHOLE_BODY,
      transcript: r.transcript,
    });
    const declared = rawRequest('POST', '/messages', { 'Content-Type': 'application/json', 'Content-Length': String(10 * 1024 * 1024) });
    const r2 = await rawExchange(served.port, [declared.head, Buffer.alloc(1024, 0x20)], { untilClose: true });
    check(r2.response?.status === 413 && calls === 0 && r2.ended, {
      did: `Content-Length: 10 MiB with 1 KiB sent: ${r2.response ? r2.response.status : 'no whole answer'}, handler called ${calls} time(s), connection ${r2.ended ? 'ended' : 'still open'}`,
      expected: 'a 413 without waiting for 10 MiB that will never come, and the connection ended',
      lesson: WHOLE_BODY,
      transcript: r2.transcript,
    });
    const prefix = '{"author":"Ada","text":"exactly the cap"}';
    const json = Buffer.from(`${prefix}${' '.repeat(64 * 1024 - prefix.length)}`);
    const exact = rawRequest('POST', '/messages', { 'Content-Type': 'application/json' }, json);
    const r3 = await rawExchange(served.port, [exact.head, json]);
    check(r3.response?.status === 201, { did: `a declared Content-Length of exactly the cap (${json.length}): ${r3.response?.status ?? 'no whole answer'}`, expected: '201: the cap itself is allowed', lesson: WHOLE_BODY, transcript: r3.transcript });
    const fine = await fetch(`${served.url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ author: 'Ada', text: 'x'.repeat(60 * 1024) }) });
    check(fine.status === 201, { did: `then a 60 KiB body: ${fine.status}`, expected: '201: under the cap, and the server still serves', lesson: WHOLE_BODY });
  });

  it('a handler that throws is a JSON 500, and the server goes on', async () => {
    const served = await start((req) => {
      if (req.target === '/async') return Promise.reject(new Error('secret-44'));
      throw new Error('secret-44');
    });
    for (const path of ['/sync', '/async', '/sync']) {
      const res = await within(fetch(`${served.url}${path}`), LIMIT, `GET ${path}`);
      const text = await res.text();
      check(res.status === 500 && isJsonUtf8(res.headers.get('content-type')) && JSON.parse(text)?.error?.code === 'ERR_INTERNAL' && !text.includes('secret-44'), {
        did: `a handler that throws: ${res.status} ${res.headers.get('content-type')} ${text}`,
        expected: '500 with a JSON error ERR_INTERNAL, nothing of the exception, and the next request served the same way',
        lesson: STATUS,
      });
    }
  });

  it('a client that goes away mid-body crashes nothing', async () => {
    let calls = 0;
    const served = await start(() => {
      calls++;
      return { status: 204 };
    });
    await recordingCrashes(async (crashes) => {
      const { head } = rawRequest('POST', '/messages', { 'Content-Type': 'application/json', 'Content-Length': '1000' });
      const r = await rawExchange(served.port, [head, '{"author":'], { waitMs: 50 });
      r.transcript.note('test client resets the connection');
      await new Promise((res) => setTimeout(res, 50));
      const after = await within(fetch(`${served.url}/after`), LIMIT, 'a request after the reset');
      check(crashes.length === 0 && after.status === 204 && calls === 1, {
        did: `crashes: ${crashes.map(thrown).join('; ') || 'none'}; the next request got ${after.status}; handler calls: ${calls}`,
        expected: 'no crash, the handler never called for the half body, and the next request served',
        lesson: WHOLE_BODY,
      });
    });
  });

  it('listens on ::1 too, and its url brackets the address; close() stops it', async () => {
    const wanted = await closedPort('::1');
    const served = await within(serve(messageService(), { on: 'node:http', host: '::1', port: wanted }), LIMIT, "serve(..., { host: '::1', port })");
    onCleanup('your server on ::1', () => within(served.close(), 1_500, 'close()').catch(() => {}));
    check(served.url === `http://[::1]:${served.port}` && served.host === '::1' && served.port === wanted, { did: `url ${served.url}, host ${served.host}, port ${served.port}`, expected: `http://[::1]:${wanted}, host ::1, and the port asked for (${wanted})`, lesson: CHOOSING });
    const res = await within(fetch(`${served.url}/messages`), LIMIT, 'GET over ::1');
    check(res.status === 200, { did: `GET ${served.url}/messages: ${res.status}`, expected: '200', lesson: CHOOSING });
    await res.text();
    await within(served.close(), LIMIT, 'close() after a keep-alive request', 'Does close() resolve once the server has closed?');
    const after = await settle(fetch(`${served.url}/messages`), LIMIT, 'GET after close()');
    check(after.error !== undefined, { did: `after close(), a GET ${after.error ? `failed: ${thrown(after.error)}` : `got ${after.value?.status}`}`, expected: 'connection refused: nothing listens any more', lesson: CHOOSING });
  });
});

describe('on your chapter-13 server', () => {
  it('the service plugs into your chapter-13 HttpServer as it is', async (ctx) => {
    const handler = messageService({ firstId: BIG });
    let mod: typeof import('@impl/13-http/server.ts');
    try {
      mod = await import('@impl/13-http/server.ts');
    } catch (err) {
      return skipWithReason(ctx, `chapter 13's server could not be loaded (${thrown(err)})`);
    }
    let server: InstanceType<typeof mod.HttpServer>;
    let port: number;
    try {
      server = new mod.HttpServer(handler);
      port = (await within(server.listen(0, '127.0.0.1'), LIMIT, "chapter 13's HttpServer.listen()")).port;
    } catch (err) {
      if (unfinished(err, '13-http')) return skipUnfinished(ctx, '13 (http)');
      throw err;
    }
    const base = `http://127.0.0.1:${port}`;
    try {
      const client = new MessagesClient(base, { timeoutMs: LIMIT });
      const m = await within(client.post({ author: 'Ada', text: UNICODE }), LIMIT, 'POST through chapter 13');
      const got = await within(client.get(m.id), LIMIT, 'GET through chapter 13');
      const soap = await within(fetch(`${base}/messages`, { method: 'POST', headers: { 'content-type': 'application/soap+xml' }, body: '<env:Envelope/>' }), LIMIT, 'SOAP through chapter 13');
      const soapCode = (await soap.json())?.error?.code;
      const bad = await within(fetch(`${base}/messages`, { method: 'DELETE' }), LIMIT, 'DELETE through chapter 13');
      await bad.text();
      check(m.id === String(BIG) && got.text === UNICODE && soap.status === 415 && soapCode === 'ERR_SOAP_NOT_SUPPORTED' && bad.status === 405 && (bad.headers.get('allow') ?? '').includes('POST'), {
        did: `on chapter 13's HttpServer: POST gave id ${m.id}, GET gave ${JSON.stringify(got.text)}, SOAP ${soap.status} ${soapCode}, DELETE ${bad.status} Allow: ${bad.headers.get('allow')}`,
        expected: `id "${BIG}", the text unchanged, SOAP 415 ERR_SOAP_NOT_SUPPORTED, and 405 with Allow: the same service, on the server you wrote`,
        lesson: CHOOSING,
      });
    } finally {
      await within(server.close(), LIMIT, "chapter 13's close()").catch(() => {});
    }
  });

  it("serve(handler, { on: 'chapter-13' }) loads your chapter 13 from beside this chapter", async (ctx) => {
    const handler = messageService();
    // Count the listens of chapter 13's HttpServer, to see that serve() really runs on it.
    let listens = 0;
    let restore = () => {};
    try {
      const proto = (await import('@impl/13-http/server.ts')).HttpServer.prototype as { listen: (...a: unknown[]) => unknown };
      const original = proto.listen;
      proto.listen = function (this: unknown, ...a: unknown[]) {
        listens++;
        return original.apply(this, a);
      };
      restore = () => (proto.listen = original);
      onCleanup('HttpServer.listen spy', restore);
    } catch {
      // No chapter 13 to spy on: serve() below says why.
    }
    let served;
    try {
      served = await within(serve(handler, { on: 'chapter-13', maxBodyBytes: 1000 }), LIMIT, "serve(handler, { on: 'chapter-13' })");
    } catch (err) {
      if (unfinished(err, '13-http')) return skipUnfinished(ctx, '13 (http)');
      const msg = String((err as Error)?.message ?? err);
      if (!existsSync(path.join(path.dirname(implFile('14-web-services', 'server.ts')), '..', '13-http', 'server.ts'))) {
        return skipWithReason(ctx, `this implementation has no 13-http folder beside its 14-web-services (${msg.slice(0, 120)})`);
      }
      throw err;
    }
    try {
      const res = await within(fetch(`${served.url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ author: 'Ada', text: 'on 13' }) }), LIMIT, 'POST');
      const list = await within(fetch(`${served.url}/messages`), LIMIT, 'GET');
      const page = (await list.json()) as { messages?: { text?: string }[] };
      const big = await within(fetch(`${served.url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ author: 'Ada', text: 'x'.repeat(2000) }) }), LIMIT, 'POST of 2000 bytes');
      await big.arrayBuffer().catch(() => {});
      check(res.status === 201 && served.url === `http://127.0.0.1:${served.port}` && page.messages?.[0]?.text === 'on 13' && listens === 1 && big.status === 413, {
        did: `POST ${res.status}, then the list ${JSON.stringify(page)}, at ${served.url}; chapter 13's HttpServer.listen() was called ${listens} time(s); a body of 2000 bytes with maxBodyBytes 1000: ${big.status}`,
        expected: `201, the message listed, at http://127.0.0.1:${served.port}, on chapter 13's HttpServer (listen() called once), whose limits got maxBodyBytes (413)`,
        lesson: CHOOSING,
      });
    } finally {
      await within(served.close(), LIMIT, 'close()').catch(() => {});
      restore();
    }
    const after = await settle(fetch(`${served.url}/messages`), LIMIT, 'GET after close()');
    check(after.error !== undefined, { did: `after close(), a GET ${after.error ? 'failed' : `got ${after.value?.status}`}`, expected: 'connection refused: close() closes chapter 13\'s server', lesson: CHOOSING });
  });
});

describe('the typed client', () => {
  it('lists, posts and gets with fetch, ids kept as strings', async () => {
    const served = await start(messageService({ firstId: BIG }));
    const client = new MessagesClient(served.url, { timeoutMs: LIMIT });
    const a = await within(client.post({ author: 'Ada', text: UNICODE }), LIMIT, 'client.post()');
    const b = await within(client.post({ author: 'Bram', text: 'second' }), LIMIT, 'client.post()');
    const got = await within(client.get(String(BIG + 1n)), LIMIT, 'client.get()');
    const p1 = await within(client.list({ limit: 1 }), LIMIT, 'client.list()');
    const p2 = await within(client.list({ limit: 1, after: p1.next ?? undefined }), LIMIT, 'client.list()');
    const all = await within(client.list(), LIMIT, 'client.list()');
    check(a.id === String(BIG) && b.id === String(BIG + 1n) && got.text === 'second' && got.id === String(BIG + 1n) && a.text === UNICODE && p1.messages[0]?.id === String(BIG) && p1.next === String(BIG) && p2.messages[0]?.id === String(BIG + 1n) && p2.next === null && all.messages.length === 2, {
      did: `post → ${JSON.stringify(a.id)} and ${JSON.stringify(b.id)}; get → ${JSON.stringify(got)}; list({limit:1}) → ${JSON.stringify(p1)}; the next page → ${JSON.stringify(p2)}`,
      expected: `ids "${BIG}" and "${BIG + 1n}" as strings all the way, the text unchanged, and two pages of one`,
      lesson: CLIENT,
    });
    const fake = await fakeServer((req, res) => replyJson(res, req.method === 'POST' ? 201 : 200, req.url?.startsWith('/messages?') || req.url === '/messages' ? { messages: [], next: null } : { id: '1', author: 'a', text: 'b', createdAt: '' }));
    const c2 = new MessagesClient(fake.url, { timeoutMs: LIMIT });
    await within(c2.list({ limit: 2, after: String(BIG) }), LIMIT, 'list');
    await within(c2.list(), LIMIT, 'list');
    await within(c2.get('a/b?c'), LIMIT, 'get');
    await within(c2.post({ author: 'Ada', text: 'é' }, { idempotencyKey: 'key-1' }), LIMIT, 'post');
    await within(c2.post({ author: 'Ada', text: 'é' }), LIMIT, 'post');
    const [l1, l2, g, p, p0] = fake.requests;
    const q = new URL(l1?.url ?? '/', 'http://x').searchParams;
    check(l1?.method === 'GET' && new URL(l1.url, 'http://x').pathname === '/messages' && q.get('limit') === '2' && q.get('after') === String(BIG) && l2?.url === '/messages' && g?.url === '/messages/a%2Fb%3Fc' && p?.method === 'POST' && p.url === '/messages' && isJsonUtf8(p.headers['content-type'] as string) && p.body.toString('utf8') === JSON.stringify({ author: 'Ada', text: 'é' }) && p.headers['idempotency-key'] === 'key-1' && p0?.headers['idempotency-key'] === undefined, {
      did: `your client sent: ${fake.requests.map((r) => `${r.method} ${r.url} [content-type: ${r.headers['content-type']}, idempotency-key: ${r.headers['idempotency-key']}] ${r.body.toString('utf8')}`).join(' | ')}`,
      expected: `GET /messages?limit=2&after=${BIG}, GET /messages (no empty query), GET /messages/a%2Fb%3Fc (the id encoded), POST /messages with Content-Type application/json; charset=utf-8, the JSON body, and Idempotency-Key only when given`,
      lesson: CLIENT,
    });
  });

  it('maps each failure to its own error class', async () => {
    const fake = await fakeServer((req, res) => {
      if (req.url === '/messages/404') return replyJson(res, 404, { error: { code: 'ERR_NOT_FOUND', message: 'no' } });
      if (req.url === '/messages/503') {
        res.writeHead(503, { 'content-type': 'text/html' });
        return res.end('<h1>Service Unavailable</h1>');
      }
      if (req.url === '/messages/html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end('<h1>hi</h1>');
      }
      if (req.url === '/messages/plain') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.end('{"id":"1"}');
      }
      if (req.url === '/messages/spaced') return replyJson(res, 200, { id: '1' }, 'Application/JSON ; charset=utf-8');
      if (req.url === '/messages/500') return replyJson(res, 500, { oops: true });
      if (req.url === '/messages/400') return replyJson(res, 400, { error: { code: 42 } });
      if (req.url === '/messages/broken') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"id":');
      }
      if (req.url === '/messages/reset') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"id":"1",');
        return setTimeout(() => res.socket?.resetAndDestroy(), 20);
      }
      return replyJson(res, 200, {});
    });
    const client = new MessagesClient(fake.url, { timeoutMs: LIMIT });
    const refused = new MessagesClient(`http://127.0.0.1:${await closedPort()}`, { timeoutMs: LIMIT });
    const cases: [string, () => Promise<unknown>, new (...a: never[]) => ClientError, string, (e: ClientError) => boolean][] = [
      ['a 404 with a JSON error', () => client.get('404'), HttpStatusError, 'ERR_HTTP_STATUS', (e) => (e as HttpStatusError).status === 404 && (e as HttpStatusError).serverCode === 'ERR_NOT_FOUND' && e.method === 'GET' && e.url === `${fake.url}/messages/404`],
      ['a 503 with an HTML page', () => client.get('503'), HttpStatusError, 'ERR_HTTP_STATUS', (e) => (e as HttpStatusError).status === 503 && (e as HttpStatusError).serverCode === undefined],
      ['a 200 with HTML', () => client.get('html'), BadResponseError, 'ERR_BAD_RESPONSE', (e) => (e as BadResponseError).status === 200],
      ['a 200 with broken JSON', () => client.get('broken'), BadResponseError, 'ERR_BAD_RESPONSE', () => true],
      ['a 200 with JSON text sent as text/plain', () => client.get('plain'), BadResponseError, 'ERR_BAD_RESPONSE', () => true],
      ['a 500 whose JSON body is no error object', () => client.get('500'), HttpStatusError, 'ERR_HTTP_STATUS', (e) => (e as HttpStatusError).status === 500 && (e as HttpStatusError).serverCode === undefined],
      ['a 400 whose error code is not a string', () => client.get('400'), HttpStatusError, 'ERR_HTTP_STATUS', (e) => (e as HttpStatusError).status === 400 && (e as HttpStatusError).serverCode === undefined],
      ['a connection reset in the middle of the body', () => client.get('reset'), NetworkError, 'ERR_NETWORK', (e) => e.cause !== undefined],
      ['a refused connection', () => refused.list(), NetworkError, 'ERR_NETWORK', (e) => e.method === 'GET'],
    ];
    const spaced = await settle(client.get('spaced'), LIMIT, "client.get() of 'Application/JSON ; charset=utf-8'");
    check((spaced.value as { id?: unknown } | undefined)?.id === '1', { did: `Content-Type "Application/JSON ; charset=utf-8": ${spaced.error ? `threw ${thrown(spaced.error)}` : JSON.stringify(spaced.value)}`, expected: 'the value: the media type is the part before ";", trimmed, in any case', lesson: CLIENT });
    for (const [what, call, cls, code, fields] of cases) {
      const r = await settle(call(), LIMIT, what);
      const e = r.error as ClientError;
      check(e instanceof cls && e instanceof ClientError && e.code === code && fields(e), {
        did: `${what}: ${r.error ? `threw ${thrown(r.error)} ${JSON.stringify({ code: e?.code, status: (e as HttpStatusError)?.status, serverCode: (e as HttpStatusError)?.serverCode, method: e?.method, url: e?.url })}` : `resolved ${JSON.stringify(r.value)}`}`,
        expected: `a ${cls.name} (code ${code}) with its documented fields: each kind of failure its own class, so that callers can tell "the server said no" from "nobody answered" from "the answer made no sense"`,
        lesson: CLIENT,
      });
    }
  });

  it('the client times out, also when the body stalls after the headers', async () => {
    const fake = await fakeServer((req, res) => {
      if (req.url === '/messages/silent') return;
      if (req.url === '/messages/stall') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        return res.write('{"id":');
      }
      replyJson(res, 200, { id: '1', author: 'a', text: 'b', createdAt: '' });
    });
    const timers = watchTimersOf(implFile('14-web-services', 'client.ts'));
    const client = new MessagesClient(fake.url, { timeoutMs: 150 });
    for (const which of ['silent', 'stall']) {
      const t = performance.now();
      const r = await settle(client.get(which), LIMIT, `client.get('${which}') with timeoutMs 150`, 'Does every call carry a signal: AbortSignal.timeout(timeoutMs)?');
      const took = performance.now() - t;
      const e = r.error as TimeoutError;
      check(e instanceof TimeoutError && e.code === 'ERR_TIMEOUT' && e.ms === 150 && took >= 130 && took < 1_500, {
        did: `a server that ${which === 'silent' ? 'never answers' : 'sends the headers and part of the body, then nothing'}: ${r.error ? `threw ${thrown(r.error)}` : 'resolved'} after ${took.toFixed(0)} ms`,
        expected: 'a TimeoutError (code ERR_TIMEOUT, ms 150) after about 150 ms: one deadline for the whole call, headers and body',
        lesson: CLIENT,
      });
    }
    const fast = await settle(client.get('fast'), LIMIT, 'client.get() of a fast answer');
    check(fast.value !== undefined && timers.pending().length === 0, {
      did: `a fast answer: ${fast.error ? `threw ${thrown(fast.error)}` : 'resolved'}; timers of yours still armed: ${timers.pending().join(', ') || 'none'}`,
      expected: 'the answer, and no timer left behind to fire later for nothing',
      lesson: CLIENT,
    });
  });

  it('rpc() and notify() speak JSON-RPC: ids match, errors are RpcCallError, notifications carry no id', async () => {
    let mode = 'ok';
    const fake = await fakeServer((req, res, body) => {
      const call = JSON.parse(body.toString('utf8') || 'null') as { id?: unknown };
      if (!('id' in (call ?? {}))) {
        res.writeHead(204);
        return res.end();
      }
      if (mode === 'ok') return replyJson(res, 200, { jsonrpc: '2.0', id: call.id, result: { echoed: call } });
      if (mode === 'error') return replyJson(res, 200, { jsonrpc: '2.0', id: call.id, error: { code: -32601, message: 'Method not found', data: { method: 'x' } } });
      if (mode === 'wrong-id') return replyJson(res, 200, { jsonrpc: '2.0', id: 'not-yours', result: 1 });
      if (mode === 'string') return replyJson(res, 200, 'hello');
      if (mode === 'null') return replyJson(res, 200, null);
      if (mode === 'old') return replyJson(res, 200, { jsonrpc: '1.0', id: call.id, result: 1 });
      if (mode === 'no-code') return replyJson(res, 200, { jsonrpc: '2.0', id: call.id, error: { message: 'x' } });
      if (mode === 'neither') return replyJson(res, 200, { jsonrpc: '2.0', id: call.id });
      replyJson(res, 415, { error: { code: 'ERR_UNSUPPORTED_MEDIA_TYPE', message: 'no' } });
    });
    const client = new MessagesClient(fake.url, { timeoutMs: LIMIT });
    const r1 = (await within(client.rpc('messages.get', { id: String(BIG) }), LIMIT, 'client.rpc()')) as { echoed?: { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown } };
    const r2 = (await within(client.rpc('messages.list'), LIMIT, 'client.rpc()')) as { echoed?: { id?: unknown } };
    await within(client.notify('messages.post', { author: 'Ada', text: 'n' }), LIMIT, 'client.notify()');
    const sent = fake.requests.map((r) => JSON.parse(r.body.toString('utf8')) as Record<string, unknown>);
    check(r1?.echoed?.jsonrpc === '2.0' && r1.echoed.method === 'messages.get' && JSON.stringify(r1.echoed.params) === JSON.stringify({ id: String(BIG) }) && r1.echoed.id !== undefined && r2?.echoed?.id !== r1.echoed.id && fake.requests.every((r) => r.method === 'POST' && r.url === '/rpc' && isJsonUtf8(r.headers['content-type'] as string)) && !('id' in (sent[2] ?? {})) && sent[2]?.method === 'messages.post' && JSON.stringify(sent[2]?.params) === JSON.stringify({ author: 'Ada', text: 'n' }), {
      did: `your client sent ${fake.requests.map((r) => `${r.method} ${r.url} ${r.body.toString('utf8')}`).join(' | ')}`,
      expected: 'POST /rpc with {"jsonrpc":"2.0","id":<a new id each call>,"method":...,"params":...} as application/json, the result returned, and a notification without an id member',
      lesson: RPC,
    });
    const outcomes: [string, string, (e: unknown) => boolean][] = [
      ['error', 'an RpcCallError (code ERR_RPC) with rpcCode -32601 and the data', (e) => e instanceof RpcCallError && e.code === 'ERR_RPC' && e.rpcCode === -32601 && JSON.stringify(e.data) === '{"method":"x"}'],
      ['wrong-id', 'a BadResponseError: an answer to some other call is no answer to this one', (e) => e instanceof BadResponseError],
      ...['string', 'null', 'old', 'no-code', 'neither'].map((m): [string, string, (e: unknown) => boolean] => [m, 'a BadResponseError: that is no JSON-RPC 2.0 response (an object with "jsonrpc": "2.0", your id, and a result or an error with a numeric code)', (e) => e instanceof BadResponseError]),
      ['http', 'an HttpStatusError 415: an HTTP refusal stays an HTTP error', (e) => e instanceof HttpStatusError && e.status === 415],
    ];
    for (const [m, expected, ok] of outcomes) {
      mode = m;
      const r = await settle(client.rpc('x'), LIMIT, 'client.rpc()');
      check(ok(r.error), { did: `server answering "${m}": ${r.error ? `threw ${thrown(r.error)}` : `resolved ${JSON.stringify(r.value)}`}`, expected, lesson: CLIENT });
    }
  });
});

describe('peers: fetch, curl, and the firewall', () => {
  it('curl posts a message and reads it back, byte for byte, and hears the SOAP joke', async (ctx) => {
    const served = await start(messageService({ firstId: BIG }));
    const curl = needPeer(ctx, 'curl');
    const run = (args: string[]) =>
      new Promise<string>((resolve, reject) => execFile(curl, ['-sS', '-i', '--max-time', '3', ...args], { encoding: 'utf8', timeout: 4_000 }, (err, out) => (err ? reject(err) : resolve(out))));
    const body = JSON.stringify({ author: 'Ada', text: UNICODE.replace('\u0000', '') });
    const created = await within(run(['-H', 'Content-Type: application/json', '--data-binary', body, `${served.url}/messages`]), 5_000, 'curl POST');
    const read = await within(run([`${served.url}/messages/${BIG}`]), 5_000, 'curl GET');
    const soap = await within(run(['-H', 'Content-Type: text/xml; charset=utf-8', '-H', 'SOAPAction: "urn:wb#postMessage"', '--data-binary', '<soap:Envelope/>', `${served.url}/messages`]), 5_000, 'curl SOAP');
    const bodyOf = (out: string) => JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4)) as { text?: string; error?: { code?: string; accept?: string } };
    check(/^HTTP\/1\.1 201/.test(created) && /^HTTP\/1\.1 200/.test(read) && bodyOf(read).text === UNICODE.replace('\u0000', '') && /^HTTP\/1\.1 415/.test(soap) && bodyOf(soap).error?.accept === 'application/json', {
      did: `curl saw:\n${created}\n\n${read}\n\n${soap}`,
      expected: '201, then 200 with the same text, then a 415 naming application/json',
      lesson: SOAP,
      reproduce: `curl -i -H 'Content-Type: application/json' --data-binary '{"author":"Ada","text":"hi"}' ${served.url}/messages`,
    });
  });

  it('through the chapter-12 firewall: the odd RPC port is dropped, JSON-RPC over HTTP gets through', async (ctx) => {
    const handler = messageService();
    const served = await start(handler);
    const ch11 = await import('@impl/11-rpc/exercise.ts');
    const ch12 = await import('@impl/12-firewalls-and-timeouts/exercise.ts');
    const px = await import('@impl/12-firewalls-and-timeouts/proxy.ts');
    let rpcServer: InstanceType<typeof ch11.RpcServer>;
    let oddPort: number;
    let webPort: number;
    const proxies: InstanceType<typeof px.FilteringProxy>[] = [];
    try {
      rpcServer = new ch11.RpcServer({ 'messages.list': () => ({ messages: [], next: null }) });
      const at = await within(rpcServer.listen(), LIMIT, "chapter 11's RpcServer.listen()");
      const firewall = new ch12.Firewall({ rules: [{ action: 'accept', direction: 'in', port: served.port, comment: 'the web service' }], defaultAction: 'drop' });
      for (const port of [at.port, served.port]) {
        const proxy = new px.FilteringProxy({ firewall, target: { host: '127.0.0.1', port } });
        proxies.push(proxy);
        (port === at.port ? (p: number) => (oddPort = p) : (p: number) => (webPort = p))((await within(proxy.start(), LIMIT, "chapter 12's FilteringProxy.start()")).port);
      }
    } catch (err) {
      if (unfinished(err, '11-rpc')) return skipUnfinished(ctx, '11 (rpc)');
      if (unfinished(err, '12-firewalls')) return skipUnfinished(ctx, '12 (firewalls-and-timeouts)');
      throw err;
    } finally {
      for (const p of proxies) onCleanup("chapter 12's proxy", () => within(p.close(), LIMIT, 'proxy close').catch(() => {}));
      onCleanup("chapter 11's server", () => within(Promise.resolve(rpcServer?.close()), LIMIT, 'rpc server close').catch(() => {}));
    }
    const odd = await settle(ch11.connect({ host: '127.0.0.1', port: oddPort! }, { connectTimeoutMs: 300 }), LIMIT, "chapter 11's connect() through the firewall");
    if (odd.value) await odd.value.close();
    const web = new MessagesClient(`http://127.0.0.1:${webPort!}`, { timeoutMs: LIMIT });
    const posted = await settle(web.rpc('messages.post', { author: 'Ada', text: 'through the firewall' }), LIMIT, 'JSON-RPC over HTTP through the firewall');
    const listed = await settle(web.list(), LIMIT, 'GET /messages through the firewall');
    check((odd.error as { code?: unknown })?.code === 'ETIMEDOUT' && (posted.value as { text?: unknown })?.text === 'through the firewall' && listed.value?.messages.length === 1 && proxies.every((p) => p.stats().accept + p.stats().drop >= 1), {
      did: `chapter 11's client to the odd port: ${odd.error ? thrown(odd.error) : 'connected'}; JSON-RPC over HTTP: ${posted.error ? thrown(posted.error) : JSON.stringify(posted.value)}; the list: ${listed.error ? thrown(listed.error) : JSON.stringify(listed.value)}`,
      expected: "the odd port dropped (chapter 11's connect times out: ETIMEDOUT), while the same kind of call as JSON-RPC over HTTP, to the one port the firewall accepts, works",
      lesson: FIREWALLS,
    });
  });
});
