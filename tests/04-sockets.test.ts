/**
 * Chapter 04 · The socket's lifecycle.
 *
 * Real sockets on loopback (and Unix sockets in the temp directory) against your EchoServer
 * and sendAndReceive. Every await on your code has a 2 s deadline, so a hang is a failed test
 * with a reason, never a stuck run. Failures show the bytes on the wire and an nc command.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'vitest';
import type { Address, EchoServerOptions, FourTuple } from '@impl/04-sockets/exercise.ts';
import { ConnectError, EchoServer, ListenError, LOOPBACK, SocketError, sendAndReceive } from '@impl/04-sockets/exercise.ts';
import {
  DeadlineError,
  Transcript,
  check,
  chunkings,
  connectPath,
  fail,
  forEachChunking,
  listen,
  ncCommand,
  ncSupportsN,
  needPeer,
  onCleanup,
  randomBytes,
  readToEnd,
  receivedUpTo,
  recordedClient,
  seededRandom,
  seeLesson,
  skipWithReason,
  tapSocket,
  testSeed,
  track,
  within,
  writeInPieces,
  eventually,
} from './helpers/index.ts';

const ID = '04-sockets';
/** The deadline for anything your code must do. */
const LIMIT = 2_000;
const lesson = (heading: string) => seeLesson(ID, heading);

// ---------------------------------------------------------------------------------------------
// Small tools of this suite
// ---------------------------------------------------------------------------------------------

/** Start one of your servers; it is closed after the test even when the test failed. */
async function startServer(options?: EchoServerOptions): Promise<{ server: EchoServer; at: Address }> {
  const server = new EchoServer(options);
  closeAfterTest(server);
  const at = await within(server.start(), LIMIT, 'EchoServer.start()', 'Does start() resolve on the "listening" event (the listen() callback)?');
  return { server, at };
}

/** Start one of your servers on TCP; fails with a lesson when start() reports no port. */
async function startTcp(options: EchoServerOptions = {}): Promise<{ server: EchoServer; port: number; host: string }> {
  const { server, at } = await startServer(options);
  check('port' in at && typeof at.port === 'number' && at.port > 0, {
    did: `start() resolved with ${JSON.stringify(at)}`,
    expected: 'a TCP address { host, port } whose port is the real one (1-65535), read with server.address() once listening',
    lesson: lesson('Port 0 and the real port'),
  });
  return { server, port: at.port, host: at.host };
}

function closeAfterTest(server: EchoServer): void {
  onCleanup('your EchoServer', async () => {
    try {
      await server.close();
    } catch {
      // The test that uses this server reports what went wrong; cleanup only tidies up.
    }
  });
}

/** A recorded client; socket errors become transcript notes instead of crashing the test process. */
async function client(port: number): Promise<{ socket: net.Socket; transcript: Transcript }> {
  const c = await recordedClient(port, { out: 'test client', inn: 'your server' });
  noteErrors(c.socket, c.transcript);
  return c;
}

function noteErrors(socket: net.Socket, transcript: Transcript): void {
  socket.on('error', (e: NodeJS.ErrnoException) => transcript.note(`socket error ${e.code ?? e.message}`));
}

/** Send the pieces one by one (see writeInPieces); stop, with a note, once the connection no longer takes writes. */
async function sendPieces(c: { socket: net.Socket; transcript: Transcript }, chunks: Uint8Array[], gapMs = 1): Promise<void> {
  for (const chunk of chunks) {
    if (!c.socket.writable) {
      c.transcript.note('the test stopped sending: the connection no longer takes writes');
      return;
    }
    await within(writeInPieces(c.socket, [chunk], gapMs), LIMIT, 'sending a piece').catch((e: Error) => c.transcript.note(`could not send: ${e.message}`));
  }
}

/** Resolves when the socket has closed (or at once if it already has). */
function closed(socket: net.Socket): Promise<void> {
  return socket.closed ? Promise.resolve() : once(socket, 'close').then(() => undefined);
}

/** Settle a promise on your code into { value } or { error }, with the usual deadline. */
async function settle<T>(work: Promise<T>, what: string, advice = ''): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await within(work, LIMIT, what, advice) };
  } catch (error) {
    return { error };
  }
}

/** How an outcome looks in a message: "rejected with ListenError, code EADDRINUSE" and the like. */
function outcome(r: { value?: unknown; error?: unknown }): string {
  if (r.error === undefined) return `resolved with ${preview(r.value)}`;
  const e = r.error as { name?: string; code?: unknown; message?: string };
  if (r.error instanceof DeadlineError) return `did not settle within ${LIMIT} ms (neither resolved nor rejected)`;
  return `rejected with ${e.name ?? typeof r.error}${e.code !== undefined ? `, code ${String(e.code)}` : ''} ("${e.message}")`;
}

function preview(v: unknown): string {
  if (Buffer.isBuffer(v)) return `${v.length} bytes ${show(v)}`;
  return JSON.stringify(v) ?? String(v);
}

/** Bytes as a quoted string, for messages. */
function show(b: Uint8Array | string): string {
  return JSON.stringify(typeof b === 'string' ? b : Buffer.from(b).toString('latin1'));
}

/** Connect with a raw socket: 'connected', or the error code (ECONNREFUSED, ...). */
async function probe(host: string, port: number, ms = 1_000): Promise<string> {
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

/** A port where nothing listens now: bind port 0, note the port, close. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The socket and server handles this process holds (compared with a snapshot, so the runner's own pipes cancel out). */
function socketHandles(): string[] {
  return process.getActiveResourcesInfo().filter((r) => /^(TCP|Pipe)/.test(r));
}

let unixCount = 0;
/** A fresh Unix socket path in the temp directory, removed after the test. */
function unixPath(): string {
  const p = path.join(os.tmpdir(), `workbook-04-${process.pid}-${++unixCount}.sock`);
  rmSync(p, { force: true });
  onCleanup(`socket file ${p}`, () => rmSync(p, { force: true }));
  return p;
}

const RUN_BY_HAND = 'npx tsx chapters/04-sockets/exercise.ts';
/** "Try it by hand": run the learner's server in one terminal, nc in another. */
function byHand(bytes: Uint8Array | string): string {
  return `\n  terminal 1: ${RUN_BY_HAND} 4004\n  terminal 2: ${ncCommand(bytes, 4004)}`;
}
function byHandUnix(bytes: Uint8Array | string): string {
  return `\n  terminal 1: ${RUN_BY_HAND} /tmp/echo.sock\n  terminal 2: ${ncCommand(bytes, 4004).replace(`nc -N ${LOOPBACK} 4004`, 'nc -N -U /tmp/echo.sock')}`;
}

/** Run an external program with `input` on stdin; resolves when it exits (tracked, 2 s deadline). */
async function runPeer(cmd: string, args: string[], input: string): Promise<{ stdout: Buffer; stderr: string; code: number | null }> {
  const child = track(spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] }), `${path.basename(cmd)} ${args.join(' ')}`);
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  child.stdin.on('error', () => {});
  const exited = once(child, 'exit') as Promise<[number | null]>;
  child.stdin.end(input);
  const [code] = await within(exited, LIMIT, `${path.basename(cmd)} ${args.join(' ')}`, 'It exits once your server ends its side (FIN).');
  return { stdout: Buffer.concat(out), stderr, code };
}

function tupleText(t: FourTuple | null): string {
  return t ? `local ${t.localAddress}:${t.localPort}, remote ${t.remoteAddress}:${t.remotePort}` : 'null';
}

// ---------------------------------------------------------------------------------------------

describe('listening on a port', () => {
  it('starts on port 0 and reports the real port the operating system picked', async () => {
    const { port } = await startTcp({ port: 0 });
    const r = await probe(LOOPBACK, port);
    check(r === 'connected', {
      did: `start() reported port ${port}, but connecting to ${LOOPBACK}:${port} gave ${r}`,
      expected: 'the port start() reports is where the server really listens: read it with server.address() after "listening", not from the options',
      lesson: lesson('Port 0 and the real port'),
    });
  });

  it('two servers on port 0 at the same time both start, on different real ports', async () => {
    const a = new EchoServer({ port: 0 });
    const b = new EchoServer();
    closeAfterTest(a);
    closeAfterTest(b);
    const [ra, rb] = await Promise.all([settle(a.start(), 'the first start()'), settle(b.start(), 'the second start()')]);
    check(ra.error === undefined && rb.error === undefined, {
      did: `first server: start() ${outcome(ra)}; second server: start() ${outcome(rb)}`,
      expected:
        'both start: port 0 means "any free port", so each gets its own. A fixed port, or `port || 4004` (which turns 0 into 4004), makes the second one fail with EADDRINUSE; use `port ?? 0`',
      lesson: lesson('Port 0 and the real port'),
    });
    const pa = (ra.value as { port?: number }).port;
    const pb = (rb.value as { port?: number }).port;
    check(typeof pa === 'number' && typeof pb === 'number' && pa > 0 && pb > 0 && pa !== pb, {
      did: `the servers reported ports ${pa} and ${pb}`,
      expected: 'two different real ports, both above 0',
      lesson: lesson('Port 0 and the real port'),
    });
  });

  it('binds loopback (127.0.0.1) by default, out of reach of other machines', async () => {
    const { host, port } = await startTcp();
    check(host === LOOPBACK, {
      did: `with no host given, start() reported host ${JSON.stringify(host)}`,
      expected: `"${LOOPBACK}": without a host, server.listen() binds every interface ("::" or "0.0.0.0"), so default to LOOPBACK yourself`,
      lesson: lesson('Loopback or every interface'),
    });
    // The truth test: an address of this machine that is not 127.0.0.1 must not reach the server.
    const outside = [
      ...Object.values(os.networkInterfaces())
        .flat()
        .filter((i) => i && i.family === 'IPv4' && !i.internal)
        .map((i) => i!.address)
        .slice(0, 1),
      ...(process.platform === 'linux' ? ['127.0.0.2'] : []),
    ];
    for (const addr of outside) {
      const r = await probe(addr, port);
      check(r !== 'connected', {
        did: `a connection to ${addr}:${port}, an address of this machine other than 127.0.0.1, was accepted`,
        expected: `refused: a server bound to ${LOOPBACK} only answers on ${LOOPBACK}; one bound to 0.0.0.0 or "::" answers on every interface, including the ones other machines can reach`,
        lesson: lesson('Loopback or every interface'),
        reproduce: `${RUN_BY_HAND} 4004, then: ss -ltn 'sport = :4004'  (look for 127.0.0.1:4004, not 0.0.0.0:4004 or *:4004)`,
      });
    }
  });

  it('a second listener on a port in use rejects with EADDRINUSE', async () => {
    const taken = await listen(net.createServer());
    const server = new EchoServer({ port: taken });
    closeAfterTest(server);
    const r = await settle(server.start(), 'start() on a port already in use', 'listen() reports a taken port with an "error" event, not "listening".');
    check(r.error instanceof ListenError && r.error.code === 'EADDRINUSE', {
      did: `port ${taken} already had a listener; start() on it ${outcome(r)}`,
      expected: "a rejection with ListenError whose code is 'EADDRINUSE': listen for the server's 'error' event until 'listening' and wrap the error, keeping its code",
      lesson: lesson('Errors have codes'),
      reproduce: `nc -l ${LOOPBACK} 4004 & ${RUN_BY_HAND} 4004`,
    });
  });
});

describe('connections and the 4-tuple', () => {
  it('two clients share the server port but have different remote ports, and the server tracks both 4-tuples', async () => {
    const { server, port } = await startTcp();
    const a = await client(port);
    const b = await client(port);
    // accept() happens a moment after the client's connect(): give the server that moment.
    await eventually(() => server.connections().length >= 2);
    const tracked = server.connections();
    // The server's view of a connection is the client's view mirrored.
    const expected: FourTuple[] = [a, b].map(({ socket }) => ({
      localAddress: socket.remoteAddress!,
      localPort: socket.remotePort!,
      remoteAddress: socket.localAddress!,
      remotePort: socket.localPort!,
    }));
    const table = [
      `  client A: ${expected[0]!.remoteAddress}:${expected[0]!.remotePort} -> ${expected[0]!.localAddress}:${expected[0]!.localPort}`,
      `  client B: ${expected[1]!.remoteAddress}:${expected[1]!.remotePort} -> ${expected[1]!.localAddress}:${expected[1]!.localPort}`,
      `  your server tracks ${tracked.length}: ${tracked.map((c) => `\n    ${c.key} (${tupleText(c.tuple)})`).join('') || '(nothing)'}`,
    ].join('\n');
    check(expected[0]!.localPort === port && expected[1]!.localPort === port && expected[0]!.remotePort !== expected[1]!.remotePort, {
      did: `unexpected client ports\n${table}`,
      expected: `both clients reach port ${port}, each from its own ephemeral port`,
      lesson: lesson('The 4-tuple'),
    });
    const same = (x: FourTuple | null, y: FourTuple) =>
      !!x && x.localAddress === y.localAddress && x.localPort === y.localPort && x.remoteAddress === y.remoteAddress && x.remotePort === y.remotePort;
    const found = expected.map((t) => tracked.some((c) => same(c.tuple, t)));
    const mirrored = (t: FourTuple): FourTuple => ({ localAddress: t.remoteAddress, localPort: t.remotePort, remoteAddress: t.localAddress, remotePort: t.localPort });
    const swapped = expected.every((t) => tracked.some((c) => same(c.tuple, mirrored(t))));
    check(tracked.length === 2 && found.every(Boolean) && tracked[0]!.key !== tracked[1]!.key, {
      did: `two clients are connected, and connections() says:\n${table}`,
      expected: `exactly these two 4-tuples, with different keys: local ${LOOPBACK}:${port} for both, remote port ${expected[0]!.remotePort} and ${expected[1]!.remotePort}. Read them from the accepted socket (localAddress, localPort, remoteAddress, remotePort) when it arrives`,
      lesson: lesson('The 4-tuple'),
      extra: swapped ? 'Hint:          your tuples are the clients\' view: local and remote are swapped. On the server, local is the server\'s own end.' : undefined,
    });
  });

  it('forgets a connection once it has closed', async () => {
    const { server, port } = await startTcp();
    const a = await client(port);
    const b = await client(port);
    const [portA, portB] = [a.socket.localPort!, b.socket.localPort!];
    await eventually(() => server.connections().length >= 2);
    a.socket.end();
    a.transcript.note('client A hung up (end)');
    await within(closed(a.socket), LIMIT, 'client A closing after its end()', 'Your server should end its side when the client ends: see "Half-close".');
    const forgot = await eventually(() => server.connections().length === 1);
    const left = server.connections();
    const isB = (t: FourTuple | null | undefined) => !!t && (t.remotePort === portB || t.localPort === portB);
    check(forgot && isB(left[0]?.tuple), {
      did: `client A (port ${portA}) closed, client B (port ${portB}) is still connected; connections() lists ${left.length}: ${left.map((c) => c.key).join(' | ') || '(nothing)'}`,
      expected: "only client B: remove a connection from your map on the socket's 'close' event, with the key computed when it was accepted",
      lesson: lesson('The 4-tuple'),
      transcript: a.transcript,
    });
  });
});

describe('echo, pieces and half-close', () => {
  it('echoes each line as soon as its newline arrives, before the client hangs up', async () => {
    const { port } = await startTcp();
    const { socket, transcript } = await client(port);
    let sent = 0;
    for (const line of ['Ada: hello, Bram?\n', 'Ada: can you hear me?\n']) {
      socket.write(line);
      const got = (await receivedUpTo({ socket, transcript }, (sent += line.length), 1_500)).subarray(sent - line.length);
      check(got.equals(Buffer.from(line)), {
        did: `sent ${show(line)} and kept the connection open; got back ${show(got)} within 1.5 s`,
        expected: `${show(line)} right away: write back every complete line as soon as its newline arrives, without waiting for the client to finish`,
        lesson: lesson('Bytes arrive in pieces'),
        transcript,
        reproduce: `nc ${LOOPBACK} 4004 (interactive: each line you type comes back) after ${RUN_BY_HAND} 4004`,
      });
    }
  });

  it('keeps the connection open after the first piece: echoes a conversation whose lines arrive in pieces', async () => {
    const { port } = await startTcp();
    const { socket, transcript } = await client(port);
    const lines = ['Ada: hello\n', 'Bram: hi, Ada. Go on.\n', 'Ada: shall we hang up now?\n'];
    // Each line is sent a different way; the next is sent only after the echo of the previous one.
    let sent = 0;
    for (const [i, line] of lines.entries()) {
      const { label, chunks } = chunkings(Buffer.from(line), testSeed())[i]!;
      transcript.note(`line ${i + 1} sent ${label}, ${chunks.length} piece(s)`);
      await sendPieces({ socket, transcript }, chunks, 1);
      sent += line.length;
      const got = (await receivedUpTo({ socket, transcript }, sent)).subarray(sent - line.length);
      check(got.equals(Buffer.from(line)), {
        did: `line ${i + 1} of ${lines.length} went out ${label} (${chunks.length} pieces); your server sent back ${show(got)}${socket.readableEnded ? ' and then ended the connection' : ''}`,
        expected: `${show(line)}, and the connection still open for the next line. One 'data' event is whatever bytes have arrived so far, not a whole message: never end() or stop reading because one arrived`,
        lesson: lesson('Bytes arrive in pieces'),
        transcript,
        reproduce: byHand(lines.join('')),
      });
    }
  });

  it('a client that half-closes still receives its echo, including the unfinished last line', async () => {
    const { port } = await startTcp();
    const { socket, transcript } = await client(port);
    const text = 'Ada: are you there?\nAda: this last line has no newline';
    socket.write(text);
    socket.end();
    transcript.note('test client half-closed (end): FIN sent, still reading');
    try {
      await readToEnd(socket, LIMIT);
    } catch (err) {
      if (!(err instanceof DeadlineError)) throw err;
      fail({
        did: `after the client's FIN, your server sent back ${show(transcript.receivedBytes())} but never ended its side within ${LIMIT} ms`,
        expected: "on the socket's 'end' event (the client's FIN), echo whatever is left and call end() so the client sees your FIN too",
        lesson: lesson('Half-close'),
        transcript,
        reproduce: byHand(text),
      });
    }
    const got = transcript.receivedBytes();
    check(got.equals(Buffer.from(text)), {
      did: `the client sent ${Buffer.byteLength(text)} bytes and half-closed; your server sent ${got.length} bytes (${show(got)}) and then its FIN`,
      expected: `all ${Buffer.byteLength(text)} bytes back, the unfinished last line ${show('Ada: this last line has no newline')} too: it is owed when the client's FIN arrives. Handle 'end' (and create the server with allowHalfOpen: true, so Node does not end your side for you)`,
      lesson: lesson('Half-close'),
      transcript,
      reproduce: byHand(text),
    });
  });

  it('treats data as bytes: binary input comes back unchanged, however it is split', async () => {
    const { port } = await startTcp();
    const bytes = randomBytes(seededRandom(testSeed()), 48);
    bytes[7] = 0x0a; // at least two newlines, and no newline at the end
    bytes[29] = 0x0a;
    bytes[47] = 0xff;
    await forEachChunking(bytes, async (chunks) => {
      const { socket, transcript } = await client(port);
      await sendPieces({ socket, transcript }, chunks, 0);
      socket.end();
      transcript.note('test client half-closed (end)');
      await readToEnd(socket, LIMIT).catch(() => transcript.note(`no FIN from your server within ${LIMIT} ms`));
      const got = transcript.receivedBytes();
      check(got.equals(bytes), {
        did: `sent 48 bytes of binary data and half-closed; got back ${got.length} bytes${got.length === 48 ? ' that differ' : ''}`,
        expected: 'the same 48 bytes: keep Buffers as Buffers (no setEncoding, no toString) and split only at the newline byte 0x0a',
        lesson: lesson('Bytes arrive in pieces'),
        transcript,
        reproduce: byHand(bytes),
      });
    });
  });
});

describe('closing', () => {
  it('close() ends every live connection, even an idle one, and resolves', async () => {
    const { server, port } = await startTcp();
    const idle = await client(port);
    const talking = await client(port);
    talking.socket.write('Bram: I was just saying');
    await eventually(() => server.connections().length >= 2);
    const hungUp = (c: { socket: net.Socket }) =>
      new Promise<void>((resolve) => {
        if (c.socket.readableEnded || c.socket.closed) return resolve();
        c.socket.once('end', resolve);
        c.socket.once('close', resolve);
      });
    const both = Promise.all([hungUp(idle), hungUp(talking)]);
    const r = await settle(server.close(), 'close()', 'server.close() alone only stops accepting: it waits for every open connection.');
    check(r.error === undefined, {
      did: `with two clients connected (one idle, one in the middle of a line), close() ${outcome(r)}`,
      expected:
        'close() resolves within a moment: stop accepting with server.close(), and also end() every tracked connection (then destroy() the ones that linger), because server.close() waits for all of them',
      lesson: lesson('Closing a server'),
      transcript: talking.transcript,
    });
    const ended = await settle(both, 'both clients seeing your server hang up');
    check(ended.error === undefined && server.connections().length === 0, {
      did: `close() resolved, but ${ended.error ? 'a client never saw your server hang up (no FIN, no close)' : `connections() still lists ${server.connections().length}`}`,
      expected: 'every client sees its connection end, and connections() is empty',
      lesson: lesson('Closing a server'),
      transcript: idle.transcript,
    });
  });

  it('close() hangs up on a peer that ignores its FIN once the grace period is over', async () => {
    const { server, port } = await startTcp({ closeGraceMs: 100 });
    // allowHalfOpen: this peer does not answer the server's FIN with its own.
    const stubborn = track(net.connect({ host: LOOPBACK, port, allowHalfOpen: true }), 'stubborn client');
    stubborn.on('error', () => {});
    await within(once(stubborn, 'connect'), LIMIT, 'connecting');
    await eventually(() => server.connections().length >= 1);
    const r = await settle(server.close(), 'close() with a peer that never sends its FIN');
    check(r.error === undefined && server.connections().length === 0, {
      did: `with closeGraceMs 100 and a client that keeps its side open, close() ${outcome(r)}${r.error ? '' : `, connections() lists ${server.connections().length}`}`,
      expected: "close() resolves shortly after the grace period: end() asks politely, and a timer destroy()s whatever is still open after closeGraceMs (clear that timer when you are done)",
      lesson: lesson('Closing a server'),
    });
  });

  it('close() leaves no open handle behind, and the port then refuses connections', async () => {
    const before = socketHandles();
    const { server, port } = await startTcp();
    const a = await client(port);
    const b = await client(port);
    a.socket.write('Ada: bye\n');
    await receivedUpTo(a, 9);
    await eventually(() => server.connections().length >= 2);
    const r = await settle(server.close(), 'close()');
    check(r.error === undefined, {
      did: `close() ${outcome(r)}`,
      expected: 'close() resolves once the listening socket and every connection are closed',
      lesson: lesson('Closing a server'),
    });
    await within(Promise.all([closed(a.socket), closed(b.socket)]), LIMIT, 'the test clients closing after your server hung up').catch(() => {});
    const clean = await eventually(() => socketHandles().length <= before.length);
    check(clean, {
      did: `after close() resolved, this process still holds socket handles: [${socketHandles().join(', ')}] (before the server started: [${before.join(', ')}])`,
      expected: 'none of the server\'s handles left: the listening socket closed and every accepted socket closed. A handle left open keeps a Node program from exiting',
      lesson: lesson('Closing a server'),
    });
    const after = await probe(LOOPBACK, port);
    check(after === 'ECONNREFUSED', {
      did: `after close(), connecting to ${LOOPBACK}:${port} gave ${after}`,
      expected: 'ECONNREFUSED: nothing listens there any more',
      lesson: lesson('Closing a server'),
    });
  });
});

describe('the client', () => {
  it('sendAndReceive sends everything, half-closes, and collects the whole reply, even when it arrives in pieces', async () => {
    const transcript = new Transcript({ out: 'test server', inn: 'your client' });
    const reply = [Buffer.from('Bram heard: '), Buffer.from('Ada: one\nAda: two, '), Buffer.from('without a newline. Bye!')];
    let sawFin = false;
    // A test server that answers only after the client's FIN, in three separate pieces.
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      s.on('data', (d: Buffer) => transcript.received(d));
      s.on('end', async () => {
        sawFin = true;
        transcript.note('your client half-closed (FIN)');
        for (const piece of reply) transcript.sent(piece);
        await writeInPieces(s, reply, 2).catch(() => {});
        s.end();
      });
    });
    const port = await listen(server);
    const request = Buffer.from('Ada: one\nAda: two, without a newline');
    const r = await settle(sendAndReceive({ host: LOOPBACK, port }, request), 'sendAndReceive()');
    if (r.error instanceof DeadlineError && !sawFin) {
      fail({
        did: 'sendAndReceive() never half-closed, and this server answers only after the FIN, so both sides waited for each other',
        expected: 'write the bytes, then end(): the FIN says "that was everything", and the socket can still read the reply',
        lesson: lesson('Half-close'),
        transcript,
      });
    }
    const expected = Buffer.concat(reply);
    check(Buffer.isBuffer(r.value) && r.value.equals(expected), {
      did: `the reply came in ${reply.length} pieces, then the server's FIN; sendAndReceive() ${outcome(r)}`,
      expected: `${show(expected)}: collect every 'data' chunk and resolve on 'end' (the server's FIN), not on the first 'data'`,
      lesson: lesson('Bytes arrive in pieces'),
      transcript,
    });
    check(transcript.receivedBytes().equals(request), {
      did: `the server received ${show(transcript.receivedBytes())}`,
      expected: `exactly the bytes passed in, ${show(request)}`,
      lesson: lesson('Half-close'),
      transcript,
    });
  });

  it('connecting to a closed port rejects with ECONNREFUSED', async () => {
    const port = await closedPort();
    const r = await settle(sendAndReceive({ host: LOOPBACK, port }, Buffer.from('hello?\n')), 'sendAndReceive() to a closed port');
    check(r.error instanceof ConnectError && r.error.code === 'ECONNREFUSED', {
      did: `nothing listens on ${LOOPBACK}:${port}; sendAndReceive() ${outcome(r)}`,
      expected: "a rejection with ConnectError whose code is 'ECONNREFUSED' (the socket's 'error' event before 'connect'; keep err.code)",
      lesson: lesson('Errors have codes'),
      reproduce: `nc -vz ${LOOPBACK} ${port}   (prints "Connection refused")`,
    });
  });

  it('a connection reset by the server rejects with ECONNRESET instead of resolving', async () => {
    const server = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.resetAndDestroy());
    });
    const port = await listen(server);
    const r = await settle(sendAndReceive({ host: LOOPBACK, port }, Buffer.from('Ada: hello?\n')), 'sendAndReceive() against a server that resets');
    check(r.error instanceof SocketError && (r.error.code === 'ECONNRESET' || r.error.code === 'EPIPE'), {
      did: `the server answered with a reset (RST) instead of a FIN; sendAndReceive() ${outcome(r)}`,
      expected: "a rejection with SocketError, code 'ECONNRESET': a reset is not the end of a reply. Resolve on 'end' only, never on 'close'",
      lesson: lesson('Half-close'),
    });
  });

  it('gives up with ETIMEDOUT when the server accepts but never answers', async () => {
    // allowHalfOpen: this server neither answers nor closes after the client's FIN.
    const server = net.createServer({ allowHalfOpen: true }, (s) => s.on('error', () => {}));
    const port = await listen(server);
    const r = await settle(sendAndReceive({ host: LOOPBACK, port }, Buffer.from('anyone?\n'), { timeoutMs: 150 }), 'sendAndReceive() with timeoutMs 150');
    check(r.error instanceof SocketError && r.error.code === 'ETIMEDOUT', {
      did: `the server never answered; with timeoutMs 150, sendAndReceive() ${outcome(r)}`,
      expected: "a rejection with SocketError, code 'ETIMEDOUT', after about 150 ms: socket.setTimeout(ms, ...) then destroy the socket",
      lesson: lesson('Errors have codes'),
    });
  });
});

describe('Unix domain sockets', () => {
  it('the same server works over a Unix socket path, and close() removes the file', async () => {
    const p = unixPath();
    const { server, at } = await startServer({ path: p });
    check('path' in at && at.path === p && existsSync(p) && statSync(p).isSocket(), {
      did: `start() with { path: ${JSON.stringify(p)} } resolved with ${JSON.stringify(at)}; the path is ${existsSync(p) ? (statSync(p).isSocket() ? 'a socket' : 'not a socket') : 'missing'}`,
      expected: `{ path: ${JSON.stringify(p)} }, and a socket file at that path: server.listen({ path }) instead of { host, port }`,
      lesson: lesson('Unix domain sockets'),
    });
    const transcript = new Transcript({ out: 'test client', inn: 'your server' });
    const socket = tapSocket(await connectPath(p), transcript);
    noteErrors(socket, transcript);
    const text = 'Ada: same server,\nAda: no port at all';
    socket.write(text);
    await eventually(() => server.connections().length >= 1);
    const tracked = server.connections();
    check(tracked.length === 1 && tracked[0]!.tuple === null, {
      did: `one client is connected over the path; connections() lists ${JSON.stringify(tracked)}`,
      expected: 'one connection, with tuple null: a Unix socket has no addresses or ports (fourTupleOf returns null), so key it another way, e.g. with a counter',
      lesson: lesson('Unix domain sockets'),
    });
    socket.end();
    await readToEnd(socket, LIMIT).catch(() => transcript.note(`no FIN from your server within ${LIMIT} ms`));
    check(transcript.receivedBytes().equals(Buffer.from(text)), {
      did: `sent ${show(text)} over ${p} and half-closed; got back ${show(transcript.receivedBytes())}`,
      expected: 'the same echo as over TCP: once listening, a Unix socket connection is a net.Socket like any other',
      lesson: lesson('Unix domain sockets'),
      transcript,
      reproduce: byHandUnix(text),
    });
    const r = await settle(server.close(), 'close() of the Unix socket server');
    check(r.error === undefined && !existsSync(p), {
      did: `close() ${outcome(r)}; the socket file ${existsSync(p) ? 'is still there' : 'is gone'}`,
      expected: 'close() resolves and the file is gone: Node unlinks the path when the listening socket is closed with server.close()',
      lesson: lesson('Unix domain sockets'),
    });
  });

  it('a second server on the same path rejects with EADDRINUSE, and the first keeps working', async () => {
    const p = unixPath();
    await startServer({ path: p });
    const second = new EchoServer({ path: p });
    closeAfterTest(second);
    const r = await settle(second.start(), 'start() on a path that is in use');
    check(r.error instanceof ListenError && r.error.code === 'EADDRINUSE', {
      did: `a server already listens on ${p}; a second start() on it ${outcome(r)}`,
      expected: "a rejection with ListenError, code 'EADDRINUSE': a socket path is taken like a port is",
      lesson: lesson('Unix domain sockets'),
    });
    const transcript = new Transcript({ out: 'test client', inn: 'your first server' });
    const socket = tapSocket(await connectPath(p), transcript);
    noteErrors(socket, transcript);
    socket.end('still there?\n');
    await readToEnd(socket, LIMIT).catch(() => transcript.note('no FIN within the deadline'));
    check(transcript.receivedBytes().equals(Buffer.from('still there?\n')), {
      did: `after the second server failed, the first one answered ${show(transcript.receivedBytes())}`,
      expected: 'the first server untouched: never delete a socket file that a live server is using',
      lesson: lesson('Unix domain sockets'),
      transcript,
    });
  });

  it('sendAndReceive reaches a Unix socket path, and a path where nothing listens rejects with ENOENT', async () => {
    const p = unixPath();
    await startServer({ path: p });
    const request = Buffer.from('Ada: over a path\nBram: heard you');
    const r = await settle(sendAndReceive({ path: p }, request), 'sendAndReceive() over a Unix socket');
    check(Buffer.isBuffer(r.value) && r.value.equals(request), {
      did: `sendAndReceive({ path }) ${outcome(r)}`,
      expected: `the echo ${show(request)}: net.connect({ path }) instead of { host, port }`,
      lesson: lesson('Unix domain sockets'),
      reproduce: byHandUnix(request),
    });
    const missing = `${p}.missing`;
    const m = await settle(sendAndReceive({ path: missing }, request), 'sendAndReceive() to a missing path');
    check(m.error instanceof ConnectError && m.error.code === 'ENOENT', {
      did: `no file at ${missing}; sendAndReceive() ${outcome(m)}`,
      expected: "a rejection with ConnectError, code 'ENOENT' (no such file): the Unix socket cousin of ECONNREFUSED",
      lesson: lesson('Errors have codes'),
    });
  });
});

describe('real peers', () => {
  it('nc sends lines, half-closes with -N, and gets every byte back', async (ctx) => {
    const nc = needPeer(ctx, 'nc', 'apt-get install netcat-openbsd');
    if (!ncSupportsN(nc)) skipWithReason(ctx, 'this nc has no -N (half-close on end of input); install netcat-openbsd');
    const { port } = await startTcp();
    const input = 'Ada: hello from nc\nAda: and a last line without newline';
    const transcript = new Transcript({ out: 'nc', inn: 'your server' });
    transcript.sent(input);
    let res: Awaited<ReturnType<typeof runPeer>>;
    try {
      res = await runPeer(nc, ['-N', LOOPBACK, String(port)], input);
    } catch (err) {
      if (!(err instanceof DeadlineError)) throw err;
      fail({
        did: `nc sent its input and half-closed (-N), then waited ${LIMIT} ms for your server to end its side`,
        expected: "on 'end', echo the rest and end() your side: nc exits when it sees your FIN",
        lesson: lesson('Half-close'),
        transcript,
        reproduce: byHand(input),
      });
    }
    transcript.received(res.stdout);
    check(res.stdout.equals(Buffer.from(input)), {
      did: `nc got back ${show(res.stdout)} (exit code ${res.code}${res.stderr ? `, stderr ${JSON.stringify(res.stderr.trim())}` : ''})`,
      expected: `everything it sent, ${show(input)}`,
      lesson: lesson('Half-close'),
      transcript,
      reproduce: byHand(input),
    });
  });

  it('nc -U does the same over the Unix socket', async (ctx) => {
    const nc = needPeer(ctx, 'nc', 'apt-get install netcat-openbsd');
    if (!ncSupportsN(nc)) skipWithReason(ctx, 'this nc has no -N (half-close on end of input); install netcat-openbsd');
    const p = unixPath();
    await startServer({ path: p });
    const input = 'Ada: hello over a path\nAda: bye';
    const transcript = new Transcript({ out: 'nc -U', inn: 'your server' });
    transcript.sent(input);
    const res = await runPeer(nc, ['-N', '-U', p], input).catch((err: unknown) => {
      if (err instanceof DeadlineError) {
        fail({ did: 'nc -U never exited: your server did not end its side after the FIN', expected: 'the echo, then your FIN', lesson: lesson('Half-close'), transcript, reproduce: byHandUnix(input) });
      }
      throw err;
    });
    transcript.received(res.stdout);
    check(res.stdout.equals(Buffer.from(input)), {
      did: `nc -U got back ${show(res.stdout)} (exit code ${res.code})`,
      expected: `everything it sent, ${show(input)}`,
      lesson: lesson('Unix domain sockets'),
      transcript,
      reproduce: byHandUnix(input),
    });
  });

  it('curl telnet:// (which never half-closes) gets each line back, and close() hangs up on it', async (ctx) => {
    const curl = needPeer(ctx, 'curl', 'apt-get install curl');
    const { server, port } = await startTcp();
    const lines = 'Ada: hello from curl\nAda: still here\n';
    const transcript = new Transcript({ out: 'curl', inn: 'your server' });
    // -N: no output buffering, so the echo shows up while curl is still connected.
    const child = track(spawn(curl, ['-sS', '-N', `telnet://${LOOPBACK}:${port}`], { stdio: ['pipe', 'pipe', 'pipe'] }), 'curl telnet://');
    child.stdin.on('error', () => {});
    const exited = once(child, 'exit') as Promise<[number | null]>;
    let out = Buffer.alloc(0);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const echoed = new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        transcript.received(d);
        out = Buffer.concat([out, d]);
        if (out.length >= lines.length) resolve();
      });
    });
    transcript.sent(lines);
    child.stdin.write(lines);
    await within(echoed, LIMIT, 'the echo of two complete lines to curl').catch(() => {});
    check(out.equals(Buffer.from(lines)), {
      did: `curl sent two complete lines and stayed connected; it got back ${show(out)}${stderr ? ` (curl said ${JSON.stringify(stderr.trim())})` : ''}`,
      expected: `${show(lines)} while the connection is still open: echo each line as its newline arrives`,
      lesson: lesson('Bytes arrive in pieces'),
      transcript,
      reproduce: `${RUN_BY_HAND} 4004, then: curl -N telnet://${LOOPBACK}:4004 and type lines`,
    });
    // curl's telnet mode does not send a FIN at the end of its input: only the server can end this call.
    const closing = settle(server.close(), 'close() while curl is connected');
    child.stdin.end();
    const [r, exit] = await Promise.all([closing, settle(exited, 'curl exiting after your server hung up')]);
    check(r.error === undefined && exit.error === undefined, {
      did: `close() ${outcome(r)}; curl ${exit.error ? 'never exited' : `exited with code ${(exit.value as [number | null])[0]}`}`,
      expected: 'close() ends the live connection, and curl exits when it sees the FIN',
      lesson: lesson('Closing a server'),
      transcript,
    });
  });
});
