/**
 * Chapter 13's own test harness: requests as bytes, your parser driven chunk by chunk, your server started
 * under cleanup with a handler that echoes what it saw, a raw client that records both directions, and the
 * test's own reader of HTTP responses (written here again, on purpose: it does not trust your server).
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import type { HttpRequest, Limits, ParserState } from '@impl/13-http/exercise.ts';
import { HttpError, RequestParser } from '@impl/13-http/exercise.ts';
import type { Handler, HttpResponse, ServerOptions } from '@impl/13-http/server.ts';
import { HttpServer } from '@impl/13-http/server.ts';
import {
  DeadlineError, Transcript, hexBytes, lessonOf, ncCommand, onCleanup, tapSocket, thrown, track, within,
} from '../helpers/index.ts';

export const ID = '13-http';
export const lesson = lessonOf(ID);
/** The deadline for anything your code must do. */
export const LIMIT = 2_000;
export const LOOPBACK = '127.0.0.1';
export const LOOPBACK6 = '::1';

/** Text as bytes, one byte per character (the head of a request is latin1). */
export const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

/** A GET request with a Host field and any extra field lines. */
export function get(target = '/', extra = ''): string {
  return `GET ${target} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`;
}

/** A POST with a Content-Length body. */
export function post(target: string, body: Buffer | string, extra = ''): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([bytes(`POST ${target} HTTP/1.1\r\nHost: test\r\nContent-Length: ${b.length}\r\n${extra}\r\n`), b]);
}

/** A request in words, for messages: method, target, version, fields, body. */
export function showRequest(r: HttpRequest | undefined): string {
  if (!r) return 'no request';
  const body = Buffer.from(r.body ?? []);
  return `{ method: ${JSON.stringify(r.method)}, target: ${JSON.stringify(r.target)}, version: ${JSON.stringify(r.version)}, headers: ${JSON.stringify({ ...r.headers })}, keepAlive: ${r.keepAlive}, expectContinue: ${r.expectContinue}, body: ${body.length} bytes (${hexBytes(body, 24)}), trailers: ${JSON.stringify({ ...r.trailers })} }`;
}

/** What feeding chunks to a parser gave: the requests, or the error thrown (and after which chunk). */
export interface Fed {
  requests: HttpRequest[];
  error?: unknown;
  /** The parser, to look at its state afterwards. */
  parser: RequestParser;
}

/** A new parser fed `chunks` in order; stops at the first throw. */
export function feed(chunks: Uint8Array[], limits: Partial<Limits> = {}, onHead?: (head: unknown) => void): Fed {
  const parser = new RequestParser(limits, onHead ? { onHead } : {});
  const requests: HttpRequest[] = [];
  for (const c of chunks) {
    try {
      requests.push(...parser.push(c));
    } catch (error) {
      return { requests, error, parser };
    }
  }
  return { requests, parser };
}

/** An error in words: class, code, status. */
export function showError(e: unknown): string {
  if (e instanceof HttpError) return `HttpError ${e.code} (status ${e.status})`;
  return thrown(e);
}

/** What a feed gave, in words. */
export function showFed(f: Fed): string {
  const rs = `${f.requests.length} request(s)${f.requests.length ? `: ${f.requests.map(showRequest).join('; ')}` : ''}`;
  return f.error !== undefined ? `threw ${showError(f.error)} after ${rs}` : `returned ${rs}`;
}

/** The state of a parser, or what reading it threw. */
export function stateOf(p: RequestParser): ParserState | string {
  try {
    return p.state;
  } catch (e) {
    return `(state threw ${thrown(e)})`;
  }
}

// ───────────────────────────── the server under test ─────────────────────────────

/** The echo handler: answers 200 with what it saw in fields, and the request body as the response body. */
export const echo: Handler = (r) => ({
  status: 200,
  headers: {
    'x-method': r.method,
    'x-target': r.target,
    'x-version': r.version,
    'x-body-length': String(r.body.length),
    'x-trailers': JSON.stringify({ ...r.trailers }),
    'x-host': r.headers.host ?? '',
  },
  body: r.body,
});

/** Your HttpServer with `handler`, listening on loopback port 0; closed after the test. */
export async function startServer(
  handler: Handler = echo,
  options: Partial<ServerOptions> = {},
  host = LOOPBACK,
): Promise<{ server: HttpServer; port: number; host: string }> {
  const server = new HttpServer(handler, options);
  onCleanup('your HttpServer', () => server.close());
  const address = await within(server.listen(0, host), LIMIT, 'HttpServer.listen(0)', 'Does listen() resolve once the net.Server is listening?');
  return { server, port: address.port, host };
}

/** A response as the test read it off the wire. */
export interface WireResponse {
  status: number;
  reason: string;
  /** Field names lower-cased; repeats joined with ", ". */
  headers: Record<string, string>;
  /** Every field name as sent, in order, lower-cased (to see duplicates). */
  names: string[];
  body: Buffer;
}

/** What the test's reader made of the bytes a server sent. */
export interface Reading {
  /** Interim (1xx) responses, in order, with the index of the final response they came before. */
  interim: { status: number; before: number }[];
  responses: WireResponse[];
  /** Not a valid response: what was wrong. */
  error?: string;
  /** Bytes after the last whole response. */
  rest: Buffer;
}

/**
 * Read responses out of `data`. `methods` are the methods of the requests in order (a response to HEAD has
 * no body whatever its Content-Length says). A response without Content-Length (other than 1xx, 204, 304)
 * is an error here: the server always knows the length of what it sends.
 */
export function readResponses(data: Buffer, methods: string[] = []): Reading {
  const out: Reading = { interim: [], responses: [], rest: Buffer.alloc(0) };
  let at = 0;
  while (at < data.length) {
    const end = data.indexOf('\r\n\r\n', at, 'latin1');
    if (end === -1) break;
    const lines = data.toString('latin1', at, end).split('\r\n');
    const m = /^HTTP\/1\.[01] ([1-5]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/.exec(lines[0]!);
    if (!m) {
      out.error = `not a status line: ${JSON.stringify(lines[0])}`;
      return out;
    }
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    const names: string[] = [];
    for (const line of lines.slice(1)) {
      const f = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/.exec(line);
      if (!f) {
        out.error = `not a field line: ${JSON.stringify(line)}`;
        return out;
      }
      const name = f[1]!.toLowerCase();
      names.push(name);
      headers[name] = headers[name] === undefined ? f[2]! : `${headers[name]}, ${f[2]}`;
    }
    if (status < 200) {
      out.interim.push({ status, before: out.responses.length });
      at = end + 4;
      continue;
    }
    const method = methods[out.responses.length] ?? 'GET';
    let length = 0;
    if (method !== 'HEAD' && status !== 204 && status !== 304) {
      const cl = headers['content-length'];
      if (cl === undefined || !/^\d+$/.test(cl)) {
        out.error = `response ${out.responses.length + 1} (${status}) has no valid Content-Length: ${JSON.stringify(cl)}`;
        return out;
      }
      length = Number(cl);
    }
    if (data.length < end + 4 + length) break;
    out.responses.push({ status, reason: m[2] ?? '', headers, names, body: data.subarray(end + 4, end + 4 + length) });
    at = end + 4 + length;
  }
  out.rest = data.subarray(at);
  return out;
}

/** A raw TCP client that records both directions; reads responses with the test's own reader. */
export class Client {
  readonly transcript = new Transcript({ out: 'test client', inn: 'your server' });
  /** When the server's FIN or the close arrived (ms since performance's origin), or undefined. */
  endedAt: number | undefined;
  readonly openedAt = performance.now();
  private waiters = new Set<() => void>();

  private constructor(readonly socket: net.Socket, readonly port: number, readonly host: string) {
    tapSocket(socket, this.transcript);
    socket.on('error', (e) => this.transcript.note(`socket error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    const wake = () => this.waiters.forEach((w) => w());
    socket.on('data', wake);
    const ended = () => {
      this.endedAt ??= performance.now();
      wake();
    };
    socket.on('end', ended);
    socket.on('close', ended);
  }

  /** A connected client to `port`. */
  static async open(port: number, host = LOOPBACK): Promise<Client> {
    const socket = track(net.connect({ port, host }), `test client to ${host}:${port}`);
    socket.setNoDelay(true);
    await within(new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject)), LIMIT, `connecting to ${host}:${port}`);
    return new Client(socket, port, host);
  }

  /** Everything received so far. */
  received(): Buffer {
    return this.transcript.receivedBytes();
  }

  /** Whether the server has ended or closed the connection. */
  get ended(): boolean {
    return this.endedAt !== undefined;
  }

  send(data: Uint8Array | string): void {
    this.socket.write(typeof data === 'string' ? bytes(data) : data);
  }

  /** Wait until `done(reading)` holds, or the server ends, or `ms` passes; returns the reading. */
  async until(done: (r: Reading) => boolean, methods: string[] = [], ms = LIMIT): Promise<Reading> {
    const read = () => readResponses(this.received(), methods);
    if (done(read()) || this.ended) return read();
    let wake = () => {};
    const settled = new Promise<void>((resolve) => {
      wake = () => {
        if (this.ended || done(read())) resolve();
      };
      this.waiters.add(wake);
    });
    try {
      await within(settled, ms, 'waiting for the server');
    } catch (e) {
      if (!(e instanceof DeadlineError)) throw e;
    } finally {
      this.waiters.delete(wake);
    }
    return read();
  }

  /** Wait for `n` final responses (or an error in them, or the server's end). */
  responses(n: number, methods: string[] = [], ms = LIMIT): Promise<Reading> {
    return this.until((r) => r.responses.length >= n || r.error !== undefined, methods, ms);
  }

  /** Wait until the server ends the connection; whether it did within `ms`. */
  async closes(ms = LIMIT): Promise<boolean> {
    await this.until(() => false, [], ms);
    return this.ended;
  }

  /** A command that sends the same bytes by hand. */
  reproduce(data: Uint8Array | string): string {
    return ncCommand(typeof data === 'string' ? bytes(data) : data, this.port, this.host);
  }
}

/** One exchange: connect, send `data` (in `chunks` if given), wait for `n` responses or the end. */
export async function exchange(port: number, data: Buffer, n = 1, methods: string[] = [], chunks?: Uint8Array[]): Promise<{ client: Client; reading: Reading }> {
  const client = await Client.open(port);
  for (const c of chunks ?? [data]) client.send(c);
  const reading = await client.responses(n, methods);
  return { client, reading };
}

/** A response in words, for messages. */
export function showResponse(r: WireResponse | undefined): string {
  if (!r) return 'no response';
  return `${r.status} with fields ${JSON.stringify(r.headers)} and a body of ${r.body.length} bytes (${hexBytes(r.body, 24)})`;
}

/** What the reader saw, in words. */
export function showReading(r: Reading): string {
  const parts = [`${r.responses.length} response(s)`];
  if (r.responses.length) parts.push(r.responses.map((x) => x.status).join(', '));
  if (r.interim.length) parts.push(`interim ${r.interim.map((i) => i.status).join(', ')}`);
  if (r.error) parts.push(`unreadable: ${r.error}`);
  if (r.rest.length) parts.push(`${r.rest.length} bytes left over`);
  return parts.join('; ');
}

/** A handler whose answers the test releases by hand, each request's in any order. */
export function heldHandler(): { handler: Handler; seen: HttpRequest[]; release: (i: number, response?: HttpResponse) => void; releaseAll: () => void } {
  const seen: HttpRequest[] = [];
  const resolvers: ((r: HttpResponse) => void)[] = [];
  const handler: Handler = (r) => {
    seen.push(r);
    return new Promise<HttpResponse>((resolve) => resolvers.push(resolve));
  };
  const release = (i: number, response?: HttpResponse) => resolvers[i]?.(response ?? { status: 200, body: seen[i]!.target });
  return { handler, seen, release, releaseAll: () => resolvers.forEach((_, i) => release(i)) };
}

/** Run a program to its end; its stdout, stderr and exit code (killed after `ms`). */
export function run(program: string, args: string[], input?: Buffer, ms = 5_000): Promise<{ stdout: Buffer; stderr: string; code: number | null }> {
  const child = track(spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] }), `${program} ${args.join(' ')}`);
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.on('error', () => {});
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out), stderr: err, code });
    });
  });
}
