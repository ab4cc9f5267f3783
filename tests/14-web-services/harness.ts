/**
 * Chapter 14's own test harness: requests built by hand for your Handler, its answers read back (status,
 * header fields by lower-cased name, JSON), a curl command for each, a raw HTTP/1.1 client that writes a
 * request in timed pieces and records the bytes both ways, your service started on a server and closed
 * after the test, the test's own small servers for the client tests, and the other chapters (13, 11, 12)
 * loaded when they are done.
 */
import http from 'node:http';
import net from 'node:net';
import type { Handler, HttpRequest, HttpResponse } from '@impl/14-web-services/exercise.ts';
import type { Backend, Served } from '@impl/14-web-services/server.ts';
import { serve } from '@impl/14-web-services/server.ts';
import { Transcript, lessonOf, listen, onCleanup, skipWithReason, track, within } from '../helpers/index.ts';

export const ID = '14-web-services';
export const lesson = lessonOf(ID);
/** The deadline for anything your code must do. */
export const LIMIT = 2_000;
/** 2^53 + 1 = 9007199254740993: the first whole number a JavaScript number cannot hold. */
export const BIG = 2n ** 53n + 1n;
/** Text that any byte-level or UTF-16 slip would change: accents, a skin-toned emoji, CJK, a combining mark, a ZWJ family, RTL, U+10FFFF. */
export const UNICODE = 'Grüße, Bram! 👋🏽 漢字 e\u0301 👩‍👩‍👧 שלום \u{10FFFF} \u0000 tab\tand "quotes"';

/** Build a whole request as chapter 13's parser would hand it to your handler. */
export function request(method: string, target: string, o: { headers?: Record<string, string>; body?: string | Uint8Array; json?: unknown } = {}): HttpRequest {
  const headers: Record<string, string> = { host: '127.0.0.1' };
  let body: Uint8Array = new Uint8Array(0);
  if (o.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = Buffer.from(JSON.stringify(o.json));
  }
  if (o.body !== undefined) body = typeof o.body === 'string' ? Buffer.from(o.body) : o.body;
  for (const [k, v] of Object.entries(o.headers ?? {})) headers[k.toLowerCase()] = v;
  if (body.length > 0) headers['content-length'] = String(body.length);
  return { method, target, version: '1.1', headers, keepAlive: true, expectContinue: false, body, trailers: {} };
}

/** An answer, read back: status, header fields by lower-cased name, the body as bytes and text, and its JSON (undefined when it is not JSON). */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  bytes: Buffer;
  text: string;
  json: unknown;
}

/** Read an HttpResponse your handler returned. */
export function readAnswer(r: HttpResponse): Answer {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = String(v);
  const bytes = r.body === undefined ? Buffer.alloc(0) : Buffer.from(typeof r.body === 'string' ? Buffer.from(r.body, 'utf8') : r.body);
  const text = bytes.toString('utf8');
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers, bytes, text, json };
}

/** Call your handler with one request; its answer, read back. */
export async function ask(handler: Handler, req: HttpRequest): Promise<Answer> {
  const r = await within(Promise.resolve(handler(req)), LIMIT, `your handler on ${req.method} ${req.target}`, 'Does every path return (or resolve to) a response?');
  return readAnswer(r);
}

/** The request in one line, for messages. */
export function showRequest(req: HttpRequest): string {
  const type = req.headers['content-type'];
  const body = Buffer.from(req.body).toString('utf8');
  return `${req.method} ${req.target}${type ? ` (Content-Type: ${type})` : ''}${body ? ` with body ${JSON.stringify(body.length > 120 ? `${body.slice(0, 120)}…` : body)}` : ''}`;
}

/** The answer in one line, for messages. */
export function showAnswer(a: Answer): string {
  const fields = Object.entries(a.headers).map(([k, v]) => `${k}: ${v}`).join('; ');
  const text = a.text.length > 300 ? `${a.text.slice(0, 300)}…` : a.text;
  return `${a.status} [${fields}] ${text === '' ? '(no body)' : text}`;
}

/** A curl command that sends this request to a running service (`npm run workbook -- serve 14` is not needed: any server on 8080 with your service). */
export function curlOf(req: HttpRequest, base = 'http://127.0.0.1:8080'): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const parts = ['curl -i'];
  if (req.method !== 'GET') parts.push(`-X ${req.method}`);
  for (const [k, v] of Object.entries(req.headers)) if (k !== 'host' && k !== 'content-length') parts.push(`-H ${q(`${k}: ${v}`)}`);
  if (req.body.length > 0) parts.push(`--data-binary ${q(Buffer.from(req.body).toString('utf8').slice(0, 200))}`);
  parts.push(q(`${base}${req.target}`));
  return parts.join(' ');
}

/** The `error` object of a JSON error answer, or undefined. */
export function errorOf(a: Answer): { code?: unknown; message?: unknown; [k: string]: unknown } | undefined {
  const e = (a.json as { error?: unknown } | undefined)?.error;
  return typeof e === 'object' && e !== null ? (e as Record<string, unknown>) : undefined;
}

/** Whether a Content-Type says JSON in UTF-8: application/json with charset utf-8 (any case, any spacing). */
export function isJsonUtf8(contentType: string | undefined | null): boolean {
  if (!contentType) return false;
  const [type, ...params] = contentType.split(';').map((s) => s.trim().toLowerCase());
  return type === 'application/json' && params.some((p) => p.replace(/\s/g, '') === 'charset=utf-8' || p.replace(/\s/g, '') === 'charset="utf-8"');
}

/** The methods an Allow field lists, as a sorted set. */
export function allowed(a: Answer | { headers: Record<string, string> }): string[] {
  return [...new Set((a.headers.allow ?? '').split(',').map((m) => m.trim()).filter(Boolean))].sort();
}

/** Run your service on a server (your serve()); closed after the test. */
export async function start(handler: Handler, on: Backend = 'node:http', o: { host?: string; maxBodyBytes?: number } = {}): Promise<Served> {
  const served = await within(serve(handler, { on, ...o }), LIMIT, `serve(handler, { on: '${on}' })`, 'Does serve() resolve once the server listens?');
  onCleanup(`your server (${on})`, () => within(served.close(), 1_500, 'close()').catch(() => {}));
  return served;
}

/** A response as it came over the wire. */
export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Parse one HTTP/1.1 response from `bytes` when it is complete (by Content-Length; no length: until the end). */
export function parseWire(bytes: Buffer, ended: boolean): WireResponse | undefined {
  // An interim answer (100 Continue) comes before the real one: skip it.
  while (/^HTTP\/1\.[01] 1\d\d /.test(bytes.subarray(0, 13).toString('latin1')) && bytes.indexOf('\r\n\r\n') >= 0) bytes = bytes.subarray(bytes.indexOf('\r\n\r\n') + 4);
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    const k = l.slice(0, i).trim().toLowerCase();
    headers[k] = headers[k] === undefined ? l.slice(i + 1).trim() : `${headers[k]}, ${l.slice(i + 1).trim()}`;
  }
  const rest = bytes.subarray(end + 4);
  if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const eol = rest.indexOf('\r\n', at);
      if (eol < 0) return undefined;
      const size = parseInt(rest.subarray(at, eol).toString('latin1'), 16);
      if (size === 0) return { status, headers, body: Buffer.concat(parts) };
      if (rest.length < eol + 2 + size + 2) return undefined;
      parts.push(rest.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
  }
  const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  if (length === undefined) return ended ? { status, headers, body: rest } : undefined;
  return rest.length >= length ? { status, headers, body: rest.subarray(0, length) } : undefined;
}

/** What a raw client saw: the response (if a whole one came), whether the server ended the connection, and the transcript. */
export interface RawResult {
  response: WireResponse | undefined;
  ended: boolean;
  transcript: Transcript;
}

/**
 * Open a raw TCP connection, write `pieces` one by one with `gapMs` between them (each its own TCP segment),
 * then wait up to `waitMs` for a whole response. With `untilClose`, keep waiting for the server to end the connection.
 */
export async function rawExchange(port: number, pieces: (string | Uint8Array)[], o: { gapMs?: number; waitMs?: number; host?: string; untilClose?: boolean } = {}): Promise<RawResult> {
  const transcript = new Transcript({ out: 'test client', inn: 'your server' });
  const socket = track(net.connect({ port, host: o.host ?? '127.0.0.1' }), 'raw HTTP client');
  socket.setNoDelay(true);
  const received: Buffer[] = [];
  let ended = false;
  let response: WireResponse | undefined;
  let wake = () => {};
  const recheck = () => {
    response ??= parseWire(Buffer.concat(received), ended);
    if ((response && !o.untilClose) || ended) wake();
  };
  socket.on('data', (d: Buffer) => {
    received.push(d);
    transcript.received(d);
    recheck();
  });
  const finish = (why: string) => {
    if (ended) return;
    transcript.note(why);
    ended = true;
    recheck();
  };
  socket.on('end', () => finish('your server ended the connection (FIN)'));
  socket.on('error', (e: NodeJS.ErrnoException) => finish(`socket error ${e.code}`));
  socket.on('close', () => finish('connection closed'));
  const done = new Promise<void>((resolve) => (wake = resolve));
  await within(new Promise((r) => socket.once('connect', r)), LIMIT, `connecting to port ${port}`);
  for (const [i, p] of pieces.entries()) {
    if (ended) break;
    if (i > 0) await new Promise((r) => setTimeout(r, o.gapMs ?? 30));
    const bytes = typeof p === 'string' ? Buffer.from(p) : p;
    transcript.sent(bytes);
    socket.write(bytes);
  }
  const waitMs = o.waitMs ?? LIMIT;
  await Promise.race([done, new Promise((r) => setTimeout(r, waitMs))]);
  if (!response && !ended) transcript.note(`no whole response within ${waitMs} ms`);
  return { response, ended, transcript };
}

/** A request's bytes: request line, Host, the given fields, Content-Length, blank line, body. */
export function rawRequest(method: string, target: string, headers: Record<string, string>, body: Buffer = Buffer.alloc(0)): { head: Buffer; body: Buffer } {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-length' || k.toLowerCase() === 'transfer-encoding')) lines.push(`Content-Length: ${body.length}`);
  return { head: Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body };
}

/** JSON of a wire response's body, or undefined. */
export function wireJson(r: WireResponse | undefined): unknown {
  try {
    return r ? JSON.parse(r.body.toString('utf8')) : undefined;
  } catch {
    return undefined;
  }
}

/** A test server for the client tests: node:http with the test's own handler; its base URL. Closed after the test. */
export async function fakeServer(onRequest: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void): Promise<{ url: string; requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer }[] }> {
  const requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      onRequest(req, res, body);
    });
  });
  const port = await listen(server);
  onCleanup('fake server connections', () => server.closeAllConnections());
  return { url: `http://127.0.0.1:${port}`, requests };
}

/** Answer with JSON. */
export function replyJson(res: http.ServerResponse, status: number, value: unknown, type = 'application/json; charset=utf-8'): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'content-type': type, 'content-length': body.length });
  res.end(body);
}

/** Whether an error is a NotImplementedError from the chapter named (its file path contains `chapterId`). */
export function unfinished(err: unknown, chapterId: string): boolean {
  const e = err as { code?: unknown; file?: unknown };
  return e?.code === 'ERR_NOT_IMPLEMENTED' && typeof e.file === 'string' && e.file.includes(chapterId);
}

/** Skip, with the reason printed, because another chapter is not done yet. */
export function skipUnfinished(ctx: { skip: (note?: string) => never }, chapter: string): never {
  return skipWithReason(ctx, `chapter ${chapter} is not finished yet (it throws NotImplementedError); finish it first, then run this chapter again`);
}
