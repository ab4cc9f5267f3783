/**
 * Chapter 04 · The socket's lifecycle.
 *
 * Real sockets on loopback (and Unix sockets in the temp directory) against your EchoServer
 * and sendAndReceive. Every await on your code has a 2 s deadline (LIMIT), so a hang is a failed
 * test with a reason, never a stuck run. Failures show the bytes on the wire and an nc command.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'vitest';
import type { FourTuple } from '@impl/04-sockets/exercise.ts';
import { ConnectError, EchoServer, ListenError, LOOPBACK, SocketError, echoLines, fourTupleOf, sendAndReceive } from '@impl/04-sockets/exercise.ts';
import {
  DeadlineError, Transcript, check, chunkings, connect, connectPath, eventually, fail, forEachChunking, implFile, listen,
  ncSupportsN, needPeer, onCleanup, pause, readToEnd, receivedUpTo, skipWithReason, tapSocket, testSeed, track, within,
  writeInPieces,
} from '../helpers/index.ts';
import {
  ID, LIMIT, LOOPBACK6, RUN_BY_HAND, byHand, byHandUnix, client, closeAfterTest, closed, closedPort, extraHandles, keepsCause,
  lesson, noteErrors, outcome, probe, recordingUncaught, sendPieces, settle, settledHandles, show, startServer, startTcp,
  stopTestServer, testEchoServer, tupleText, unixPath, watchYourTimers, whereOf,
} from './harness.ts';
import { importOnly, runByHandOnBusyPath, runByHandOnce, runPeer } from './processes.ts';

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
    check(r.error instanceof ListenError && r.error.code === 'EADDRINUSE' && r.error.where === whereOf({ host: LOOPBACK, port: taken }) && keepsCause(r.error), {
      did: `port ${taken} already had a listener; start() on it ${outcome(r)}${r.error instanceof ListenError ? `, where ${JSON.stringify(r.error.where)}` : ''}`,
      expected: `a rejection with ListenError whose code is 'EADDRINUSE' and whose where is "${whereOf({ host: LOOPBACK, port: taken })}" (describeAddress of the address asked for), and Node's error as its cause: listen for the server's 'error' event until 'listening' and wrap the error, keeping its code ({ cause: err })`,
      lesson: lesson('Errors have codes'),
      reproduce: `nc -l ${LOOPBACK} 4004 & ${RUN_BY_HAND} 4004`,
    });
  });

  it('listens on IPv6 loopback (::1) when asked, and tracks and echoes a connection over it', async () => {
    const { server, at } = await startServer({ host: LOOPBACK6 });
    check('port' in at && at.host === LOOPBACK6 && at.port > 0, {
      did: `start() with { host: '::1' } resolved with ${JSON.stringify(at)}`,
      expected: "{ host: '::1', port: <the real port> }: listen on the host you were given, and report server.address().address and .port",
      lesson: lesson('Loopback or every interface'),
    });
    const c = await client(at.port, LOOPBACK6);
    await eventually(() => server.connections().length >= 1);
    const tracked = server.connections();
    const key = `[::1]:${at.port} <-> [::1]:${c.socket.localPort}`;
    const t = tracked[0]?.tuple;
    check(tracked.length === 1 && tracked[0]!.key === key && t?.localAddress === LOOPBACK6 && t.localPort === at.port && t.remoteAddress === LOOPBACK6 && t.remotePort === c.socket.localPort, {
      did: `one client is connected over ::1; connections() lists ${JSON.stringify(tracked)}`,
      expected: `one connection keyed ${JSON.stringify(key)} (tupleKey puts IPv6 addresses in brackets), with tuple local ::1:${at.port}, remote ::1:${c.socket.localPort}`,
      lesson: lesson('The 4-tuple'),
    });
    const text = Buffer.from('Ada: over IPv6 \xe9\xff\nAda: bye', 'latin1');
    c.socket.end(text);
    await readToEnd(c.socket, LIMIT).catch(() => c.transcript.note(`no FIN from your server within ${LIMIT} ms`));
    check(c.transcript.receivedBytes().equals(text), {
      did: `sent ${show(text)} over ::1 and half-closed; got back ${show(c.transcript.receivedBytes())}`,
      expected: 'the same echo as over IPv4: once listening, the address family changes nothing',
      lesson: lesson('Loopback or every interface'),
      transcript: c.transcript,
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
    const keys = expected.map((t) => `${t.localAddress}:${t.localPort} <-> ${t.remoteAddress}:${t.remotePort}`);
    check(same(tracked[0]!.tuple, expected[0]!) && same(tracked[1]!.tuple, expected[1]!) && tracked[0]!.key === keys[0] && tracked[1]!.key === keys[1], {
      did: `client A connected first, then client B; connections() lists keys ${JSON.stringify(tracked.map((c) => c.key))}`,
      expected: `${JSON.stringify(keys)}: in the order they were accepted (a Map keeps insertion order), each keyed by tupleKey(fourTupleOf(socket))`,
      lesson: lesson('The 4-tuple'),
    });
  });

  it('fourTupleOf reads the four values from this end of a connection, and gives null for a Unix socket or a closed one', async () => {
    const accepted: net.Socket[] = [];
    const server = net.createServer((s) => {
      s.on('error', () => {});
      accepted.push(s);
    });
    const port = await listen(server);
    const c = await connect(port);
    c.on('error', () => {});
    await eventually(() => accepted.length >= 1);
    const view = (s: net.Socket): FourTuple => ({ localAddress: s.localAddress!, localPort: s.localPort!, remoteAddress: s.remoteAddress!, remotePort: s.remotePort! });
    const text = (t: unknown) => JSON.stringify(t, ['localAddress', 'localPort', 'remoteAddress', 'remotePort']);
    const exact = (got: unknown, want: FourTuple) => text(got) === text(want) && Object.keys(got as object).length === 4;
    for (const [who, socket] of [['the client', c], ['the accepted socket', accepted[0]!]] as const) {
      const got = fourTupleOf(socket);
      check(exact(got, view(socket)), {
        did: `fourTupleOf(${who}) returned ${JSON.stringify(got)}`,
        expected: `${text(view(socket))}: the socket's own localAddress, localPort, remoteAddress, remotePort (local is this end)`,
        lesson: lesson('The 4-tuple'),
      });
    }
    const p = unixPath();
    const unixAccepted: net.Socket[] = [];
    const unixServer = track(net.createServer((s) => unixAccepted.push(s)), 'test Unix server');
    unixServer.listen(p);
    await within(once(unixServer, 'listening'), LIMIT, 'the test Unix server listening');
    const u = await connectPath(p);
    await eventually(() => unixAccepted.length >= 1);
    for (const [who, socket] of [['a Unix socket client', u], ['an accepted Unix socket', unixAccepted[0]!]] as const) {
      const got = fourTupleOf(socket);
      check(got === null, {
        did: `fourTupleOf(${who}) returned ${JSON.stringify(got)}`,
        expected: 'null: over a Unix socket Node leaves the addresses and ports undefined',
        lesson: lesson('Unix domain sockets'),
      });
    }
    unixAccepted.forEach((s) => s.destroy());
    // A closed TCP socket still remembers its peer (Node caches it) but no longer knows its own end.
    void c.remoteAddress;
    c.destroy();
    await within(closed(c), LIMIT, 'the test client closing');
    const gone = fourTupleOf(c);
    check(gone === null, {
      did: `on a closed socket (local address ${c.localAddress}, remote ${c.remoteAddress}:${c.remotePort}), fourTupleOf returned ${JSON.stringify(gone)}`,
      expected: 'null: a FourTuple needs all four values; return null as soon as any of them is undefined',
      lesson: lesson('The 4-tuple'),
    });
    const full = { localAddress: LOOPBACK, localPort: 4004, remoteAddress: LOOPBACK, remotePort: 53122 };
    for (const missing of Object.keys(full) as (keyof FourTuple)[]) {
      const half = { ...full, [missing]: undefined } as unknown as net.Socket;
      const got = fourTupleOf(half);
      check(got === null, {
        did: `for a socket whose ${missing} is undefined (the others set), fourTupleOf returned ${JSON.stringify(got)}`,
        expected: 'null: a FourTuple needs all four values',
        lesson: lesson('The 4-tuple'),
      });
    }
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
    // Bytes 0x80-0xff (invalid as UTF-8 on their own) and a few control bytes, newlines among them, none at the end;
    // then the first two bytes of a three-byte UTF-8 character, cut off at the very end.
    const high = Array.from({ length: 128 }, (_, i) => 0x80 + i);
    const bytes = Uint8Array.from([0x00, 0x0d, 0x0a, ...high.slice(0, 64), 0x0a, 0x7f, ...high.slice(64), 0x0a, 0x1b, 0xe2, 0x82]);
    await forEachChunking(bytes, async (chunks) => {
      const { socket, transcript } = await client(port);
      await sendPieces({ socket, transcript }, chunks, 0);
      socket.end();
      transcript.note('test client half-closed (end)');
      await readToEnd(socket, LIMIT).catch(() => transcript.note(`no FIN from your server within ${LIMIT} ms`));
      const got = transcript.receivedBytes();
      check(got.equals(bytes), {
        did: `sent ${bytes.length} bytes of binary data (0x00-0xff) and half-closed; got back ${got.length} bytes${got.length === bytes.length ? ' that differ' : ''}`,
        expected: `the same ${bytes.length} bytes: keep Buffers as Buffers (no setEncoding, no toString) and split only at the newline byte 0x0a`,
        lesson: lesson('Bytes arrive in pieces'),
        transcript,
        reproduce: byHand(bytes),
      });
    });
  });
});

describe('errors and ending, on the server side', () => {
  it('echoLines writes nothing once our side has ended: bytes and a FIN that arrive later are dropped, without an error', async () => {
    const errors: string[] = [];
    const thrown: unknown[] = [];
    let ours: net.Socket | undefined;
    // A test server that runs your echoLines, then ends its own side at once, as close() does.
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      ours = s;
      // This socket is the test's own: its 'error' events are what this test checks.
      s.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? e.message));
      try {
        echoLines(s);
      } catch (err) {
        thrown.push(err);
      }
      s.end();
    });
    const port = await listen(server);
    const c = await client(port);
    const late = 'Ada: one more line\nAda: and an unfinished one';
    c.socket.write(late);
    await eventually(() => c.socket.readableEnded, LIMIT);
    c.socket.end();
    c.transcript.note('test client half-closed (end) after the FIN of the test server');
    await readToEnd(c.socket, LIMIT).catch(() => c.transcript.note('no FIN within the deadline'));
    await within(ours ? closed(ours) : Promise.resolve(), LIMIT, 'the connection closing').catch(() => {});
    check(thrown.length === 0 && errors.length === 0 && c.transcript.receivedBytes().length === 0, {
      did: thrown.length
        ? `echoLines threw ${String(thrown[0])}`
        : `our side had ended (end()) before ${show(late)} and the client's FIN arrived; your echoLines ${errors.length ? `made the socket emit 'error' ${errors.join(', ')}` : `sent ${show(c.transcript.receivedBytes())}`}`,
      expected: "nothing sent and no error: once end() has been called, socket.writable is false; check it before write() and end(), and drop what still arrives",
      lesson: lesson('Half-close'),
      transcript: c.transcript,
    });
  });

  it('echoLines never writes beyond the last newline received, and echoes everything by its FIN', async () => {
    const pieces = ['Ada: hel', 'lo\nAda: how', ' are you?\nBram: fi', 'ne\nthanks', ', and \xff', '\n', 'you?'].map((p) => Buffer.from(p, 'latin1'));
    const bytes = Buffer.concat(pieces);
    const problems: string[] = [];
    const thrown: unknown[] = [];
    let written = Buffer.alloc(0);
    let received = Buffer.alloc(0);
    let ours: net.Socket | undefined;
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      ours = s;
      s.on('error', () => {});
      // Record what your echoLines hands to write() and end(), whatever pieces it chooses.
      const write = s.write.bind(s) as (chunk: Uint8Array, ...rest: unknown[]) => boolean;
      s.write = ((chunk: Uint8Array, ...rest: unknown[]) => {
        written = Buffer.concat([written, Buffer.from(chunk)]);
        return write(chunk, ...rest);
      }) as typeof s.write;
      try {
        echoLines(s);
      } catch (err) {
        thrown.push(err);
      }
      // Registered after yours, so it runs once your 'data' handler has seen the same chunk.
      s.on('data', (d: Buffer) => {
        received = Buffer.concat([received, d]);
        const owed = received.subarray(0, received.lastIndexOf(0x0a) + 1);
        // (Written later than this is allowed here; the tests over the network check "as soon as".)
        if (written.length > owed.length || !owed.subarray(0, written.length).equals(written)) {
          problems.push(`after ${show(received)} had arrived, echoLines had written ${show(written)}, beyond the complete lines ${show(owed)}`);
        }
      });
    });
    const port = await listen(server);
    const c = await client(port);
    await sendPieces(c, pieces, 5);
    c.socket.end();
    await readToEnd(c.socket, LIMIT).catch(() => c.transcript.note(`no FIN within ${LIMIT} ms`));
    await within(ours ? closed(ours) : Promise.resolve(), LIMIT, 'the connection closing').catch(() => {});
    check(thrown.length === 0 && problems.length === 0 && c.transcript.receivedBytes().equals(bytes), {
      did: thrown.length ? `echoLines threw ${String(thrown[0])}` : problems[0] ?? `in all, the client got back ${show(c.transcript.receivedBytes())}`,
      expected: `never more than the complete lines received so far (no half lines before their newline); after the FIN, the rest: ${show(bytes)} in all`,
      lesson: lesson('Bytes arrive in pieces'),
      transcript: c.transcript,
    });
  });

  it('a client that resets its connection does not take the server down, and the server keeps serving', async () => {
    const { server, port } = await startTcp();
    await recordingUncaught(async (uncaught) => {
      const a = await client(port);
      a.socket.write('Ada: hello\n');
      await receivedUpTo(a, 11);
      await eventually(() => server.connections().length >= 1);
      a.socket.resetAndDestroy();
      a.transcript.note('test client reset the connection (RST)');
      const forgot = await eventually(() => server.connections().length === 0, LIMIT);
      const b = await client(port);
      b.socket.end('Bram: still there?\n');
      await readToEnd(b.socket, LIMIT).catch(() => b.transcript.note('no FIN within the deadline'));
      check(uncaught.length === 0, {
        did: `after a client reset its connection, your server threw ${String(uncaught[0])} (nobody listened for the socket's 'error' event)`,
        expected: "no crash: listen for 'error' on every accepted socket (the reset arrives there as ECONNRESET); 'close' follows, so your bookkeeping still runs",
        lesson: lesson('Errors have codes'),
        transcript: a.transcript,
      });
      check(forgot && b.transcript.receivedBytes().equals(Buffer.from('Bram: still there?\n')), {
        did: `after the reset, connections() lists ${server.connections().length}; the next client got back ${show(b.transcript.receivedBytes())}`,
        expected: 'the reset connection forgotten (its socket still emits \'close\') and the next client echoed as usual',
        lesson: lesson('Errors have codes'),
        transcript: b.transcript,
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
    const before = await settledHandles();
    const timers = watchYourTimers();
    // A long grace period: a grace timer that close() forgets to clear is still there right after it resolves.
    const { server, port } = await startTcp({ closeGraceMs: 5_000 });
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
    const left = () => [...extraHandles(before), ...timers.pending()];
    const clean = await eventually(() => left().length === 0, 300);
    check(clean, {
      did: `after close() resolved and both clients closed, this process still holds [${left().join(', ')}] that it did not hold before the server started`,
      expected:
        "nothing of the server left: the listening socket (TCPServerWrap) and every accepted socket (TCPSocketWrap) closed, and the grace timer (Timeout) cleared with clearTimeout once every connection has closed. Anything left keeps a Node program from exiting",
      lesson: lesson('Closing a server'),
    });
    const after = await probe(LOOPBACK, port);
    check(after === 'ECONNREFUSED', {
      did: `after close(), connecting to ${LOOPBACK}:${port} gave ${after}`,
      expected: 'ECONNREFUSED: nothing listens there any more',
      lesson: lesson('Closing a server'),
    });
  });

  it('close() echoes no unfinished line: the client gets its complete lines, then the FIN', async () => {
    const { server, port } = await startTcp();
    const c = await client(port);
    c.socket.write('Ada: one\nAda: unfini');
    await receivedUpTo(c, 9);
    const r = await settle(server.close(), 'close()');
    await readToEnd(c.socket, LIMIT).catch(() => c.transcript.note(`no FIN from your server within ${LIMIT} ms`));
    check(r.error === undefined && c.transcript.receivedBytes().equals(Buffer.from('Ada: one\n')), {
      did: `the client sent "Ada: one\\nAda: unfini" and waited for the first line; close() ${outcome(r)}, and the client got ${show(c.transcript.receivedBytes())} in all`,
      expected: '"Ada: one\\n" and then the FIN: close() hangs up with end() and echoes no unfinished line (only the client\'s own FIN makes the rest owed)',
      lesson: lesson('Closing a server'),
      transcript: c.transcript,
    });
  });

  it('close() hangs up politely: after its FIN the client may still send, until its own FIN, without a reset', async () => {
    // The default grace period (DEFAULT_CLOSE_GRACE_MS, 1 s): the client's last words take a few ms.
    const { server, port } = await startTcp();
    // allowHalfOpen: this client keeps its side open after the server's FIN, and says its last words.
    const socket = track(net.connect({ host: LOOPBACK, port, allowHalfOpen: true }), 'half-open client');
    const transcript = new Transcript({ out: 'test client', inn: 'your server' });
    tapSocket(socket, transcript);
    let failure = '';
    socket.on('error', (e: NodeJS.ErrnoException) => {
      failure = e.code ?? e.message;
      transcript.note(`socket error ${failure}`);
    });
    await within(once(socket, 'connect'), LIMIT, 'connecting');
    await eventually(() => server.connections().length >= 1);
    const closing = settle(server.close(), 'close() while the client still has something to say');
    const sawFin = await eventually(() => socket.readableEnded, LIMIT);
    transcript.note(sawFin ? 'your server half-closed (FIN); the client keeps sending' : 'no FIN from your server');
    for (const words of ['Ada: wait,\n', 'Ada: one more thing\n', 'Ada: bye']) {
      if (!socket.writable || failure) break;
      transcript.sent(words);
      socket.write(words);
      await pause(15);
    }
    socket.end();
    transcript.note('test client half-closed (end)');
    const r = await closing;
    await within(closed(socket), LIMIT, 'the client closing').catch(() => {});
    check(sawFin && failure === '' && r.error === undefined && transcript.receivedBytes().length === 0, {
      did: `close() ${outcome(r)}; the client ${sawFin ? 'saw your FIN' : 'never saw your FIN'}, sent three more pieces${failure ? ` and got ${failure}` : ''}${transcript.receivedBytes().length ? `, and received ${show(transcript.receivedBytes())}` : ''}`,
      expected:
        "a FIN (end()), then nothing: our side is done, but the connection still reads (and drops) what the client sends until the client's own FIN. destroy() at once would answer those bytes with a reset (EPIPE / ECONNRESET at the client)",
      lesson: lesson('Half-close'),
      transcript,
    });
  });

  it('close() before start(), and a second close(), simply resolve', async () => {
    const never = new EchoServer();
    const r0 = await settle(never.close(), 'close() on a server that never started');
    const { server } = await startTcp();
    const [r1, r2] = await Promise.all([settle(server.close(), 'close()'), settle(server.close(), 'a second close() at the same time')]);
    const r3 = await settle(server.close(), 'a third close(), after the others');
    check([r0, r1, r2, r3].every((r) => r.error === undefined), {
      did: `close() before start() ${outcome(r0)}; close() ${outcome(r1)}; a second close() at the same time ${outcome(r2)}; a third one after them ${outcome(r3)}`,
      expected: 'all four resolve: with nothing listening there is nothing to do (server.close() on a closed server would fail with ERR_SERVER_NOT_RUNNING)',
      lesson: lesson('Closing a server'),
    });
  });
});

describe('the client', () => {
  it('sendAndReceive sends everything, half-closes, and collects the whole reply, even when it arrives in pieces', async () => {
    const transcript = new Transcript({ out: 'test server', inn: 'your client' });
    // Binary bytes too (0x80-0xff, and a UTF-8 character split between two pieces): a reply is bytes, not text.
    const reply = [Buffer.from('Bram heard: \xe2', 'latin1'), Buffer.from('\x82\xacAda: one\nAda: two, \x80\xff', 'latin1'), Buffer.from('without a newline. Bye!')];
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
    check(r.error instanceof ConnectError && r.error.code === 'ECONNREFUSED' && r.error.where === whereOf({ host: LOOPBACK, port }) && keepsCause(r.error), {
      did: `nothing listens on ${LOOPBACK}:${port}; sendAndReceive() ${outcome(r)}${r.error instanceof SocketError ? `, where ${JSON.stringify(r.error.where)}` : ''}`,
      expected: `a rejection with ConnectError whose code is 'ECONNREFUSED' and whose where is "${LOOPBACK}:${port}" (the socket's 'error' event before 'connect'; keep err.code, describeAddress(to), and err itself as the cause)`,
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
    const where = whereOf({ host: LOOPBACK, port });
    check(r.error instanceof SocketError && !(r.error instanceof ConnectError) && (r.error.code === 'ECONNRESET' || r.error.code === 'EPIPE') && r.error.where === where && keepsCause(r.error), {
      did: `the server accepted, read, then answered with a reset (RST) instead of a FIN; sendAndReceive() ${outcome(r)}${r.error instanceof SocketError ? `, where ${JSON.stringify(r.error.where)}` : ''}`,
      expected: `a rejection with SocketError itself (not ConnectError: the connection was made), code 'ECONNRESET', where "${where}", Node's error as its cause: a reset is not the end of a reply. Resolve on 'end' only, never on 'close'`,
      lesson: lesson('Half-close'),
    });
  });

  it('gives up with ETIMEDOUT when the server accepts but never answers', async () => {
    // allowHalfOpen: this server neither answers nor closes after the client's FIN.
    const server = net.createServer({ allowHalfOpen: true }, (s) => s.on('error', () => {}));
    const port = await listen(server);
    const r = await settle(sendAndReceive({ host: LOOPBACK, port }, Buffer.from('anyone?\n'), { timeoutMs: 150 }), 'sendAndReceive() with timeoutMs 150');
    const where = whereOf({ host: LOOPBACK, port });
    check(r.error instanceof SocketError && !(r.error instanceof ConnectError) && r.error.code === 'ETIMEDOUT' && r.error.where === where, {
      did: `the server accepted but never answered; with timeoutMs 150, sendAndReceive() ${outcome(r)}${r.error instanceof SocketError ? `, where ${JSON.stringify(r.error.where)}` : ''}`,
      expected: `a rejection with SocketError itself (not ConnectError: the connection was made), code 'ETIMEDOUT', where "${where}", after about 150 ms: socket.setTimeout(ms, ...) then destroy the socket`,
      lesson: lesson('Errors have codes'),
    });
  });

  it('sends exactly the bytes of the view it was given, even when the caller reuses its buffer at once', async () => {
    const echo = await testEchoServer();
    const request = Buffer.from('Ada: a view \x80\xfe\xff\nin a larger buffer', 'latin1');
    const backing = new Uint8Array(request.length + 40).fill(0x23);
    backing.set(request, 24);
    const view = backing.subarray(24, 24 + request.length); // byteOffset 24, not the whole ArrayBuffer
    const pending = settle(sendAndReceive({ host: LOOPBACK, port: echo.port }, view), 'sendAndReceive() of a subarray');
    backing.fill(0x21); // the caller reuses its buffer as soon as the call returns
    const r = await pending;
    check(echo.received().equals(request) && Buffer.isBuffer(r.value) && r.value.equals(request), {
      did: `called with a ${view.length}-byte subarray (offset 24 in a ${backing.length}-byte buffer) that the caller overwrote right after the call; the server received ${show(echo.received())}, and sendAndReceive() ${outcome(r)}`,
      expected: `${show(request)} both ways: send exactly the view's bytes (Buffer.from(bytes) copies just them; bytes.buffer is the whole backing store), copied at the call, since they leave only after 'connect'`,
      lesson: lesson('The exercise'),
    });
  });

  it('works over IPv6 (::1) too, and a refused ::1 port rejects with ECONNREFUSED where [::1]:port', async () => {
    const echo = await testEchoServer(LOOPBACK6);
    const request = Buffer.from('Ada: over IPv6\nBram: \xff', 'latin1');
    const r = await settle(sendAndReceive({ host: LOOPBACK6, port: echo.port }, request), 'sendAndReceive() to [::1]');
    check(Buffer.isBuffer(r.value) && r.value.equals(request), {
      did: `sendAndReceive({ host: '::1', port: ${echo.port} }) ${outcome(r)}`,
      expected: `the echo ${show(request)}: pass the host on to net.connect as it is`,
      lesson: lesson('Loopback or every interface'),
    });
    const s = net.createServer();
    const port = await listen(s, 0, LOOPBACK6);
    await new Promise<void>((done) => s.close(() => done()));
    const m = await settle(sendAndReceive({ host: LOOPBACK6, port }, request), 'sendAndReceive() to a closed ::1 port');
    check(m.error instanceof ConnectError && m.error.code === 'ECONNREFUSED' && m.error.where === `[::1]:${port}`, {
      did: `nothing listens on [::1]:${port}; sendAndReceive() ${outcome(m)}${m.error instanceof SocketError ? `, where ${JSON.stringify(m.error.where)}` : ''}`,
      expected: `a rejection with ConnectError, code 'ECONNREFUSED', where "[::1]:${port}" (describeAddress puts an IPv6 address in brackets)`,
      lesson: lesson('Errors have codes'),
    });
  });

  it('times out on silence, not on total time: a slow reply that keeps coming is collected whole', async () => {
    const pieces = Array.from({ length: 16 }, (_, i) => Buffer.from([0x61 + i, 0xf0 + (i % 16)]));
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      // After the client's FIN: one small piece every 40 ms, about 600 ms in all, then our FIN.
      s.on('end', () => void writeInPieces(s, pieces, 40).then(() => s.end(), () => {}));
      s.resume();
    });
    const port = await listen(server);
    const r = await settle(sendAndReceive({ host: LOOPBACK, port }, Buffer.from('slowly, please\n'), { timeoutMs: 300 }), 'sendAndReceive() with timeoutMs 300 and a slow reply');
    const expected = Buffer.concat(pieces);
    check(Buffer.isBuffer(r.value) && r.value.equals(expected), {
      did: `the reply came as ${pieces.length} pieces 40 ms apart (about 600 ms in all, never 300 ms of silence); with timeoutMs 300, sendAndReceive() ${outcome(r)}`,
      expected: `${show(expected)}: timeoutMs is the longest silence allowed, not a deadline for the whole call. socket.setTimeout restarts on every bit of progress; a plain setTimeout does not`,
      lesson: lesson('The exercise'),
    });
  });

  it('timeoutMs 0 means no timeout: a reply that takes a moment still arrives', async () => {
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      s.on('end', () => void pause(60).then(() => s.end('Bram: here, after a moment\n')));
      s.resume();
    });
    const port = await listen(server);
    const r = await settle(sendAndReceive({ host: LOOPBACK, port }, Buffer.from('Ada: no hurry\n'), { timeoutMs: 0 }), 'sendAndReceive() with timeoutMs 0');
    check(Buffer.isBuffer(r.value) && r.value.equals(Buffer.from('Bram: here, after a moment\n')), {
      did: `the server answered after about 60 ms; with timeoutMs 0, sendAndReceive() ${outcome(r)}`,
      expected: '"Bram: here, after a moment\\n": 0 turns the timeout off, as socket.setTimeout(0) does (a plain setTimeout(..., 0) would fire at once)',
      lesson: lesson('The exercise'),
    });
  });

  it('leaves no socket or timer behind once it has resolved or rejected', async () => {
    const echo = await testEchoServer();
    const silentSockets = new Set<net.Socket>();
    const silent = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      silentSockets.add(s);
      s.on('close', () => silentSockets.delete(s));
    });
    const silentPort = await listen(silent);
    const refused = await closedPort();
    const before = await settledHandles();
    const timers = watchYourTimers();
    const outcomes = [
      await settle(sendAndReceive({ host: LOOPBACK, port: echo.port }, Buffer.from('Ada: hi\n')), 'sendAndReceive() to an echo server'),
      await settle(sendAndReceive({ host: LOOPBACK, port: refused }, Buffer.from('Ada: hi\n')), 'sendAndReceive() to a closed port'),
      await settle(sendAndReceive({ host: LOOPBACK, port: silentPort }, Buffer.from('Ada: hi\n'), { timeoutMs: 100 }), 'sendAndReceive() to a silent server'),
    ];
    // The silent test server keeps its own end open (it never answers): those sockets are the test's, not yours.
    const yours = () => {
      const extra = extraHandles(before);
      for (let i = 0; i < silentSockets.size; i++) extra.splice(extra.indexOf('TCPSocketWrap'), extra.includes('TCPSocketWrap') ? 1 : 0);
      return [...extra, ...timers.pending()];
    };
    const clean = await eventually(() => yours().length === 0, 500);
    check(clean, {
      did: `sendAndReceive() ${outcomes.map(outcome).join('; then ')}. Afterwards this process still holds [${yours().join(', ')}] that are yours`,
      expected: "nothing left: the client's socket closed however the call ended (destroy() it on timeout), and any timer of yours cleared. A leftover keeps a Node program from exiting",
      lesson: lesson('Closing a server'),
    });
    await echo.stop();
    await stopTestServer(silent, silentSockets);
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

  it('tells two connections over the same path apart, and close() ends both', async () => {
    const p = unixPath();
    const { server } = await startServer({ path: p });
    const transcript = new Transcript({ out: 'test clients', inn: 'your server' });
    const a = tapSocket(await connectPath(p), transcript);
    const b = tapSocket(await connectPath(p), transcript);
    noteErrors(a, transcript);
    noteErrors(b, transcript);
    await eventually(() => server.connections().length >= 2);
    const tracked = server.connections();
    check(tracked.length === 2 && tracked[0]!.key !== tracked[1]!.key && tracked.every((c) => c.tuple === null), {
      did: `two clients are connected over ${p}; connections() lists ${JSON.stringify(tracked)}`,
      expected: 'two entries with different keys, both with tuple null: without ports there is no 4-tuple, so number the connections (a counter) to keep them apart',
      lesson: lesson('Unix domain sockets'),
    });
    const r = await settle(server.close(), 'close() with two Unix socket clients');
    const ended = await settle(Promise.all([closed(a), closed(b)]), 'both clients closing after close()');
    check(r.error === undefined && ended.error === undefined && server.connections().length === 0, {
      did: `close() ${outcome(r)}; the clients ${ended.error ? 'did not both close' : 'both closed'}; connections() then lists ${server.connections().length}`,
      expected: 'close() ends both connections and resolves: every tracked connection, not just the last one under a shared key',
      lesson: lesson('Closing a server'),
      transcript,
    });
  });

  it('a second server on the same path rejects with EADDRINUSE, and the first keeps working', async () => {
    const p = unixPath();
    await startServer({ path: p });
    const second = new EchoServer({ path: p });
    closeAfterTest(second);
    const r = await settle(second.start(), 'start() on a path that is in use');
    check(r.error instanceof ListenError && r.error.code === 'EADDRINUSE' && r.error.where === `unix:${p}`, {
      did: `a server already listens on ${p}; a second start() on it ${outcome(r)}${r.error instanceof ListenError ? `, where ${JSON.stringify(r.error.where)}` : ''}`,
      expected: `a rejection with ListenError, code 'EADDRINUSE', where "unix:${p}": a socket path is taken like a port is`,
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
    check(m.error instanceof ConnectError && m.error.code === 'ENOENT' && m.error.where === `unix:${missing}`, {
      did: `no file at ${missing}; sendAndReceive() ${outcome(m)}${m.error instanceof SocketError ? `, where ${JSON.stringify(m.error.where)}` : ''}`,
      expected: `a rejection with ConnectError, code 'ENOENT' (no such file), where "unix:${missing}": the Unix socket cousin of ECONNREFUSED`,
      lesson: lesson('Errors have codes'),
    });
  });
});

describe('real peers', () => {
  it('nc sends lines, half-closes with -N, and gets every byte back', async (ctx) => {
    const nc = needPeer(ctx, 'nc');
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
    const nc = needPeer(ctx, 'nc');
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
    const curl = needPeer(ctx, 'curl');
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
    const firstEcho = new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        transcript.received(d);
        out = Buffer.concat([out, d]);
        resolve();
      });
    });
    transcript.sent(lines);
    child.stdin.write(lines);
    // curl in telnet mode prints the first piece that arrives at once, and later pieces only when its input
    // changes: so while connected, only "something came back" is certain, however your server splits its writes.
    await within(firstEcho, LIMIT, 'the first echo to curl').catch(() => {});
    check(out.length > 0 && Buffer.from(lines).subarray(0, out.length).equals(out), {
      did: `curl sent two complete lines and stayed connected (it never half-closes); it got back ${show(out)}${stderr ? ` (curl said ${JSON.stringify(stderr.trim())})` : ''}`,
      expected: `the echo (${show(lines)}, in one piece or more) while the connection is still open: echo each line as its newline arrives, without waiting for a FIN that never comes`,
      lesson: lesson('Bytes arrive in pieces'),
      transcript,
      reproduce: `${RUN_BY_HAND} 4004, then: curl -N telnet://${LOOPBACK}:4004 and type lines`,
    });
    // Only the server can end this call. When curl's input ends too, it prints what is left and exits.
    const closing = settle(server.close(), 'close() while curl is connected');
    child.stdin.end();
    const [r, exit] = await Promise.all([closing, settle(exited, 'curl exiting after your server hung up')]);
    check(r.error === undefined && exit.error === undefined, {
      did: `close() ${outcome(r)}; curl ${exit.error ? 'never exited' : `exited with code ${(exit.value as [number | null])[0]}`}`,
      expected: 'close() ends the live connection, and curl exits when it sees the FIN',
      lesson: lesson('Closing a server'),
      transcript,
    });
    check(out.equals(Buffer.from(lines)), {
      did: `by the time it exited, curl had printed ${show(out)}`,
      expected: `${show(lines)}: every line it sent, each once`,
      lesson: lesson('Bytes arrive in pieces'),
      transcript,
    });
  });

  it('runs by hand (npx tsx exercise.ts <port or path>): serves, reports a taken path, exits on Ctrl-C; importing it starts nothing', async () => {
    const file = implFile(ID, 'exercise.ts');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'workbook-04-'));
    onCleanup(`temp dir ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    const busy = unixPath();
    const taken = track(net.createServer(), 'test server on a socket path');
    taken.listen(busy);
    await within(once(taken, 'listening'), LIMIT, 'a test server listening on a socket path');
    // A free port by number; and a socket path (relative to the working directory) that starts and ends with
    // digits: only an argument made of digits alone is a port. All at once: starting TypeScript takes most of the time.
    const port = String(await closedPort());
    await Promise.all([runByHandOnce(file, dir, port), runByHandOnce(file, dir, '7-by-hand-7'), runByHandOnBusyPath(file, busy), importOnly(file, dir)]);
  });
});
