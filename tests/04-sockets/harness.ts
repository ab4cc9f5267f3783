/**
 * Chapter 04's own test harness: your servers started and closed for each test, recorded
 * clients, settled outcomes in words, the handles and timers a process still holds, and the
 * test's own servers (an echo server, Unix socket paths). Child processes: processes.ts.
 */
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Address, EchoServerOptions, FourTuple } from '@impl/04-sockets/exercise.ts';
import { EchoServer, LOOPBACK } from '@impl/04-sockets/exercise.ts';
import {
  DeadlineError,
  Transcript,
  check,
  implFile,
  lessonOf,
  listen,
  ncCommand,
  onCleanup,
  pause,
  recordedClient,
  thrown,
  track,
  within,
  writeInPieces,
  settle as settleWithin,
  watchTimersOf,
  handles,
} from '../helpers/index.ts';

export const ID = '04-sockets';
/** The deadline for anything your code must do. */
export const LIMIT = 2_000;
/** The IPv6 loopback address. */
export const LOOPBACK6 = '::1';
export const lesson = lessonOf(ID);

/** Start one of your servers; it is closed after the test even when the test failed. */
export async function startServer(options?: EchoServerOptions): Promise<{ server: EchoServer; at: Address }> {
  const server = new EchoServer(options);
  closeAfterTest(server);
  const at = await within(server.start(), LIMIT, 'EchoServer.start()', 'Does start() resolve on the "listening" event (the listen() callback)?');
  return { server, at };
}

/** Start one of your servers on TCP; fails with a lesson when start() reports no port. */
export async function startTcp(options: EchoServerOptions = {}): Promise<{ server: EchoServer; port: number; host: string }> {
  const { server, at } = await startServer(options);
  check('port' in at && typeof at.port === 'number' && at.port > 0, {
    did: `start() resolved with ${JSON.stringify(at)}`,
    expected: 'a TCP address { host, port } whose port is the real one (1-65535), read with server.address() once listening',
    lesson: lesson('Port 0 and the real port'),
  });
  return { server, port: at.port, host: at.host };
}

/** Close one of your servers after the test, whatever happened; what went wrong is the test's to report. */
export function closeAfterTest(server: EchoServer): void {
  onCleanup('your EchoServer', async () => {
    try {
      await server.close();
    } catch {
      // The test that uses this server reports what went wrong; cleanup only tidies up.
    }
  });
}

/** A recorded client; socket errors become transcript notes instead of crashing the test process. */
export async function client(port: number, host = LOOPBACK): Promise<{ socket: net.Socket; transcript: Transcript }> {
  const c = await recordedClient(port, { out: 'test client', inn: 'your server' }, host);
  noteErrors(c.socket, c.transcript);
  return c;
}

/** Socket errors become notes in the transcript. */
export function noteErrors(socket: net.Socket, transcript: Transcript): void {
  socket.on('error', (e: NodeJS.ErrnoException) => transcript.note(`socket error ${e.code ?? e.message}`));
}

/** Send the pieces one by one (see writeInPieces); stop, with a note, once the connection no longer takes writes. */
export async function sendPieces(c: { socket: net.Socket; transcript: Transcript }, chunks: Uint8Array[], gapMs = 1): Promise<void> {
  for (const chunk of chunks) {
    if (!c.socket.writable) {
      c.transcript.note('the test stopped sending: the connection no longer takes writes');
      return;
    }
    await within(writeInPieces(c.socket, [chunk], gapMs), LIMIT, 'sending a piece').catch((e: Error) => c.transcript.note(`could not send: ${e.message}`));
  }
}

/** Resolves when the socket has closed (or at once if it already has). */
export function closed(socket: net.Socket): Promise<void> {
  return socket.closed ? Promise.resolve() : once(socket, 'close').then(() => undefined);
}

/** Settle a promise on your code into { value } or { error }, with the usual deadline. */
export function settle<T>(work: Promise<T>, what: string, advice = ''): Promise<{ value?: T; error?: unknown }> {
  return settleWithin(work, LIMIT, what, advice);
}

/** How an outcome looks in a message: "rejected with ListenError [EADDRINUSE]: ..." and the like. */
export function outcome(r: { value?: unknown; error?: unknown }): string {
  if (r.error === undefined) return `resolved with ${preview(r.value)}`;
  if (r.error instanceof DeadlineError) return `did not settle within ${LIMIT} ms (neither resolved nor rejected)`;
  return `rejected with ${thrown(r.error)}`;
}

/** A resolved value in a message: bytes as a quoted string, anything else as JSON. */
function preview(v: unknown): string {
  if (Buffer.isBuffer(v)) return `${v.length} bytes ${show(v)}`;
  return JSON.stringify(v) ?? String(v);
}

/** Bytes as a quoted string, for messages. */
export function show(b: Uint8Array | string): string {
  return JSON.stringify(typeof b === 'string' ? b : Buffer.from(b).toString('latin1'));
}

/** Connect with a raw socket: 'connected', or the error code (ECONNREFUSED, ...). */
export async function probe(host: string, port: number, ms = 1_000): Promise<string> {
  const socket = track(net.connect({ host, port }), `probe to ${host}:${port}`);
  try {
    await within(once(socket, 'connect'), ms, `connecting to ${host}:${port}`);
    return 'connected';
  } catch (err) {
    return err instanceof DeadlineError ? 'no answer' : String((err as NodeJS.ErrnoException).code);
  } finally {
    socket.destroy();
  }
}

export { closedPort } from '../helpers/index.ts';

export { extraHandles, handles } from '../helpers/index.ts';

/** The timers your exercise.ts starts from now on, and those still armed (see watchTimersOf). */
export function watchYourTimers(): { pending: () => string[] } {
  return watchTimersOf(implFile(ID, 'exercise.ts'));
}

/** handles(), once it has stopped changing for 30 ms: sockets closed by the previous step take a moment to go. */
export async function settledHandles(): Promise<string[]> {
  let last = handles().join();
  let sameSince = performance.now();
  for (const end = performance.now() + 500; performance.now() < end && performance.now() - sameSince < 30; ) {
    await pause(3);
    const now = handles().join();
    if (now !== last) [last, sameSince] = [now, performance.now()];
  }
  return handles();
}


/** Whether `e` keeps Node's original error as its `cause`, with the same code. */
export function keepsCause(e: unknown): boolean {
  const cause = (e as { cause?: unknown }).cause as { code?: unknown } | undefined;
  return cause instanceof Error && cause.code === (e as { code?: unknown }).code;
}

/** The address as the error's `where` must write it ("127.0.0.1:4004", "[::1]:4004", "unix:/tmp/x.sock"), spelled out here. */
export function whereOf(a: Address): string {
  if ('path' in a) return `unix:${a.path}`;
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export { recordingUncaught } from '../helpers/index.ts';

/** A test echo server of our own (not yours): echoes everything after the client's FIN. Records what it received. */
export async function testEchoServer(host = LOOPBACK): Promise<{ port: number; received: () => Buffer; stop: () => Promise<void> }> {
  const got: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    const mine: Buffer[] = [];
    s.on('data', (d: Buffer) => (got.push(d), mine.push(d)));
    s.on('end', () => s.end(Buffer.concat(mine)));
  });
  const port = await listen(server, 0, host);
  const stop = () => stopTestServer(server, sockets);
  return { port, received: () => Buffer.concat(got), stop };
}

/** Close one of the test's own servers and destroy the sockets it accepted. */
export async function stopTestServer(server: net.Server, sockets: Set<net.Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  await Promise.all([...sockets].map(closed));
  if (server.listening) await within(new Promise<void>((done) => server.close(() => done())), LIMIT, 'closing a test server');
}

let unixCount = 0;
/** A fresh Unix socket path in the temp directory, removed after the test. */
export function unixPath(): string {
  const p = path.join(os.tmpdir(), `workbook-04-${process.pid}-${++unixCount}.sock`);
  rmSync(p, { force: true });
  onCleanup(`socket file ${p}`, () => rmSync(p, { force: true }));
  return p;
}

export const RUN_BY_HAND = 'npx tsx chapters/04-sockets/exercise.ts';
/** "Try it by hand": run the learner's server in one terminal, nc in another. */
export function byHand(bytes: Uint8Array | string): string {
  return `\n  terminal 1: ${RUN_BY_HAND} 4004\n  terminal 2: ${ncCommand(bytes, 4004)}`;
}
/** "Try it by hand" over the Unix socket /tmp/echo.sock. */
export function byHandUnix(bytes: Uint8Array | string): string {
  return `\n  terminal 1: ${RUN_BY_HAND} /tmp/echo.sock\n  terminal 2: ${ncCommand(bytes, 4004).replace(`nc -N ${LOOPBACK} 4004`, 'nc -N -U /tmp/echo.sock')}`;
}

/** A 4-tuple in words, for messages. */
export function tupleText(t: FourTuple | null): string {
  return t ? `local ${t.localAddress}:${t.localPort}, remote ${t.remoteAddress}:${t.remotePort}` : 'null';
}

