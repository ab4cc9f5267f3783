/**
 * Chapter 05 · Datagrams without promises.
 * Real UDP sockets on loopback: the learner's echo server and pinger, with a seeded lossy relay
 * between them that drops, delays and duplicates exactly the datagrams a test asks for.
 * Times are relations (this RTT is at least the delay the relay added), never absolute promises.
 * The machinery (sockets, the scripted server, running the pinger, report checks) is in harness.ts.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { describe, it } from 'vitest';
import type { PingField, PingOptions, PingReport } from '@impl/05-datagrams/exercise.ts';
import { MAX_SEQ, PING_DEFAULTS, Pinger, UdpEchoServer, decodePong, encodePing } from '@impl/05-datagrams/exercise.ts';
import { check, closeQuietly, eventually, hexdump, needPeer, onCleanup, pause, replayHint, testSeed, track, until, within } from '../helpers/index.ts';
import {
  SLACK_MS, checkConsistent, checkRangeError, context, describeReport, isClosed, lesson, pendingTimers, resultOf, rttOf, runPinger, runSafely,
  scriptedServer, serverBehindRelay, show, startServer, udpSocket,
} from './harness.ts';

/**
 * The timeout in tests where some ping must time out: long next to a loopback RTT (well under 1 ms)
 * even on a busy machine, short enough for a quick suite. Late pongs are late by construction (the
 * relay holds them past the deadline, and timers fire in deadline order), so only in-time pongs need slack.
 */
const TIMEOUT_MS = 300;
/** The timeout in tests where no ping should time out: generous, and it costs nothing, since every pong ends its wait. */
const NO_LOSS_TIMEOUT_MS = 1_000;

describe('The ping format', () => {
  it('encodes ping 7 as the 6 ASCII bytes "PING 7", in a fresh buffer each time', () => {
    const cases: [number, string][] = [[1, 'PING 1'], [7, 'PING 7'], [10, 'PING 10'], [1234, 'PING 1234'], [MAX_SEQ, `PING ${MAX_SEQ}`]];
    for (const [seq, text] of cases) {
      const got = encodePing(seq);
      check(Buffer.isBuffer(got) && got.equals(Buffer.from(text, 'latin1')), {
        did: `encodePing(${seq}) gave ${Buffer.isBuffer(got) ? `${got.length} bytes: ${JSON.stringify(got.toString('latin1'))}` : String(got)}`,
        expected: `a Buffer with the ${text.length} bytes ${JSON.stringify(text)}: the prefix, the number in decimal, nothing else`,
        lesson: lesson('Sequence numbers match replies'),
      });
    }
    // The caller may reuse what it got: the next call must not hand out the same bytes.
    encodePing(7).fill(0);
    const again = encodePing(7);
    check(again.toString('latin1') === 'PING 7', {
      did: `after the caller zeroed one result, encodePing(7) gave ${JSON.stringify(again.toString('latin1'))}`,
      expected: '"PING 7": a new buffer for every call',
      lesson: lesson('Sequence numbers match replies'),
    });
  });

  it('refuses a sequence number that is not a whole number from 1 to MAX_SEQ with PingRangeError', () => {
    for (const seq of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, MAX_SEQ + 1]) {
      let err: unknown;
      try {
        encodePing(seq);
      } catch (e) {
        err = e;
      }
      checkRangeError(err, 'seq', seq, `encodePing(${seq})`, 'Sequence numbers match replies');
    }
  });

  it('decodes "PING <seq>" back to its number, also from a view into a larger buffer', () => {
    for (const seq of [1, 9, 10, 42, 100, 123_456_789, MAX_SEQ]) {
      const text = `PING ${seq}`;
      const plain = new Uint8Array(Buffer.from(text, 'latin1'));
      // The same bytes in the middle of a larger buffer, framed by digits that must not be read.
      const big = Buffer.from(`99${text}77`, 'latin1');
      const view = big.subarray(2, 2 + text.length);
      const got = [decodePong(encodePing(seq)), decodePong(plain), decodePong(view)];
      check(got.every((g) => g === seq), {
        did: `decodePong gave ${got.map(String).join(', ')} for ${JSON.stringify(text)} (a Buffer from encodePing, a plain Uint8Array, a view at offset 2 of ${JSON.stringify(big.toString('latin1'))})`,
        expected: `${seq} each time: read the view's own bytes, from its index 0 to its length`,
        lesson: lesson('Sequence numbers match replies'),
      });
    }
  });

  it('returns undefined for a pong that is too short, malformed, or out of range', () => {
    const bad: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['"PING" (too short)', Buffer.from('PING')],
      ['"PING " (no number)', Buffer.from('PING ')],
      ['"PING 0"', Buffer.from('PING 0')],
      ['"PING 07" (leading zero)', Buffer.from('PING 07')],
      ['"PING 1000000000" (above MAX_SEQ)', Buffer.from('PING 1000000000')],
      ['"PING 0000000001" (ten digits)', Buffer.from('PING 0000000001')],
      ['"PING -1"', Buffer.from('PING -1')],
      ['"PING +1"', Buffer.from('PING +1')],
      ['"PING 1a"', Buffer.from('PING 1a')],
      ['"PING 1 "', Buffer.from('PING 1 ')],
      ['"PING 1\\n"', Buffer.from('PING 1\n')],
      ['"PING  1" (two spaces)', Buffer.from('PING  1')],
      ['"PING 1/" (0x2f, just below "0")', Buffer.from('PING 1/')],
      ['"PING 1:" (0x3a, just above "9")', Buffer.from('PING 1:')],
      ['"ping 1"', Buffer.from('ping 1')],
      ['"PONG 1"', Buffer.from('PONG 1')],
      ['"XING 1"', Buffer.from('XING 1')],
      ['"PING_1"', Buffer.from('PING_1')],
      ['"PING 1.5"', Buffer.from('PING 1.5')],
      ['"PING 1e3"', Buffer.from('PING 1e3')],
      ['"PING " then 0xb1', Buffer.from([0x50, 0x49, 0x4e, 0x47, 0x20, 0xb1])],
      ['"PING 1" then 0xff', Buffer.from([0x50, 0x49, 0x4e, 0x47, 0x20, 0x31, 0xff])],
      ['"PIN\\xc7 1" (0x47 | 0x80)', Buffer.from([0x50, 0x49, 0x4e, 0xc7, 0x20, 0x31])],
    ];
    const accepted = bad.map(([name, bytes]) => [name, decodePong(bytes)] as const).filter(([, v]) => v !== undefined);
    check(accepted.length === 0, {
      did: `decodePong accepted ${accepted.map(([name, v]) => `${name} as ${String(v)}`).join('; ')}`,
      expected: 'undefined for each: only "PING " and 1 to 9 digits, no leading zero, no other byte, is a pong',
      lesson: lesson('Sequence numbers match replies'),
    });
  });
});

describe('The UDP echo server', () => {
  it('echoes datagrams of 0, 1, 5, 256, 1472 and 9000 bytes, any byte values, back as exactly those datagrams', async () => {
    const { port } = await startServer();
    // Binary on purpose: bytes 0x80-0xff do not survive a trip through a UTF-8 string.
    const pattern = (n: number, step: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * step + 0x80) & 0xff));
    const sent = [Buffer.alloc(0), Buffer.from([0xff]), Buffer.from('hello'), pattern(256, 1), pattern(1472, 7), pattern(9000, 13)];
    // A compact transcript: one line per datagram and only its first 16 bytes, since some are 9000 bytes long.
    const t0 = performance.now();
    const lines: string[] = [];
    const log = (who: string, d: Buffer) =>
      lines.push(`  +${(performance.now() - t0).toFixed(1).padStart(6)} ms  ${who}, ${d.length} bytes\n${hexdump(d, '               ', 16)}`);
    const client = track(dgram.createSocket('udp4'), 'test UDP client');
    const got: Buffer[] = [];
    client.on('message', (msg) => {
      got.push(msg);
      log('your echo server -> test client', msg);
    });
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
    for (const d of sent) {
      log('test client -> your echo server', d);
      client.send(d, port, '127.0.0.1');
    }
    await eventually(() => got.length >= sent.length, 2_000);
    await pause(30); // room for any extra datagram to show up
    // Loopback keeps order in practice, but UDP does not promise it: compare as a set, sorted by size.
    const bySize = (a: Buffer, b: Buffer) => a.length - b.length;
    const same = got.length === sent.length && [...got].sort(bySize).every((g, i) => g.equals(sent[i]!));
    check(same, {
      did: `got ${got.length} datagrams back, of ${got.map((g) => g.length).join(', ') || 'no'} bytes`,
      expected: `${sent.length} datagrams of ${sent.map((s) => s.length).join(', ')} bytes, each the same bytes as one that was sent: one datagram in, one datagram out, the empty one included`,
      lesson: lesson('Boundaries are kept'),
      extra: `Datagrams on the wire (first 16 bytes of each):\n${lines.join('\n')}`,
      reproduce: `printf 'hello' | nc -u -w1 127.0.0.1 ${port}`,
    });
  });

  it('answers two clients at once, each at its own address and port', async () => {
    const { port } = await startServer();
    const [a, b] = [await udpSocket('udp4', 'test client A'), await udpSocket('udp4', 'test client B')];
    const got = { a: [] as string[], b: [] as string[] };
    a.on('message', (m) => got.a.push(m.toString('hex')));
    b.on('message', (m) => got.b.push(m.toString('hex')));
    const fromA = [Buffer.from('A1'), Buffer.from([0xa2, 0xff]), Buffer.from('A3')];
    const fromB = [Buffer.from('B1'), Buffer.from([0xb2, 0x80]), Buffer.from('B3')];
    for (let i = 0; i < 3; i++) {
      a.send(fromA[i]!, port, '127.0.0.1');
      b.send(fromB[i]!, port, '127.0.0.1');
    }
    await eventually(() => got.a.length >= 3 && got.b.length >= 3, 2_000);
    await pause(20); // room for a datagram sent to the wrong client
    const same = (x: string[], y: Buffer[]) => x.length === y.length && [...x].sort().join() === y.map((d) => d.toString('hex')).sort().join();
    check(same(got.a, fromA) && same(got.b, fromB), {
      did: `client A got back [${got.a.join(', ')}], client B got back [${got.b.join(', ')}] (hex)`,
      expected: `A gets exactly its own [${fromA.map((d) => d.toString('hex')).join(', ')}] and B its own [${fromB.map((d) => d.toString('hex')).join(', ')}]: answer each datagram at the address and port in its own rinfo`,
      lesson: lesson('Boundaries are kept'),
    });
  });

  it('serves IPv6: bound to ::1, it echoes a binary datagram to a udp6 client', async () => {
    const server = new UdpEchoServer('::1');
    onCleanup('your UDP echo server', () => closeQuietly(server.socket));
    const port = await within(server.listen(0), 2_000, "new UdpEchoServer('::1').listen(0)", "An IPv6 address needs a 'udp6' socket.");
    const family = server.socket?.address().family;
    check(family === 'IPv6', {
      did: `the server's socket is bound as ${String(family)}`,
      expected: "an IPv6 socket bound to ::1: createSocket('udp6') for an address with a colon in it",
      lesson: lesson('Sending and receiving with node:dgram'),
    });
    const client = await udpSocket('udp6', 'test udp6 client');
    const sent = Buffer.from([0x00, 0x7f, 0x80, 0xc3, 0x28, 0xff]);
    let got: { msg: Buffer; from: dgram.RemoteInfo } | undefined;
    client.on('message', (msg, from) => (got ??= { msg, from }));
    client.send(sent, port, '::1');
    await eventually(() => got !== undefined, 2_000);
    check(got?.msg.equals(sent) && got.from.address === '::1' && got.from.port === port, {
      did: got ? `got ${got.msg.toString('hex')} from [${got.from.address}]:${got.from.port}` : 'got nothing back',
      expected: `${sent.toString('hex')} back from [::1]:${port}`,
      lesson: lesson('Sending and receiving with node:dgram'),
      reproduce: `nc -6 -u ::1 ${port}`,
    });
  });

  it('binds the port it is given, and by default port 0 (any free port) on 127.0.0.1', async () => {
    // Find a free port, release it, and ask the server for exactly that one.
    const probe = await udpSocket('udp4', 'port probe');
    const wanted = probe.address().port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const server = new UdpEchoServer();
    onCleanup('your UDP echo server', () => closeQuietly(server.socket));
    const port = await within(server.listen(wanted), 2_000, `UdpEchoServer.listen(${wanted})`);
    const bound = server.socket?.address().port;
    check(port === wanted && bound === wanted, {
      did: `listen(${wanted}) resolved with ${String(port)}; the socket is bound to port ${String(bound)}`,
      expected: `port ${wanted}, the one asked for, both resolved and bound`,
      lesson: lesson('Sending and receiving with node:dgram'),
    });
    const other = new UdpEchoServer();
    onCleanup('your second UDP echo server', () => closeQuietly(other.socket));
    const any = await within(other.listen(), 2_000, 'UdpEchoServer.listen() with no port');
    const where = other.socket?.address();
    check(Number.isInteger(any) && any > 0 && any === where?.port && where.address === '127.0.0.1', {
      did: `new UdpEchoServer().listen() resolved with ${String(any)}; its socket is bound to ${where ? `${where.address}:${where.port}` : 'nothing'}`,
      expected: 'with no host and no port given, bind port 0 on 127.0.0.1 (loopback only) and resolve with the port the operating system picked',
      lesson: lesson('The exercise'),
    });
  });

  it('rejects listen() with the bind error when the port is already taken', async () => {
    const holder = await udpSocket('udp4', 'the socket holding the port');
    const taken = holder.address().port;
    const server = new UdpEchoServer();
    onCleanup('your UDP echo server', () => closeQuietly(server.socket));
    let outcome: { port?: number; err?: unknown };
    try {
      outcome = { port: await within(server.listen(taken), 2_000, `UdpEchoServer.listen(${taken}) on a taken port`, 'Listen for the socket\'s \'error\' event while binding, and reject with it.') };
    } catch (err) {
      outcome = { err };
    }
    const e = outcome.err as NodeJS.ErrnoException | undefined;
    check(e?.code === 'EADDRINUSE' && e.syscall === 'bind', {
      did: 'err' in outcome ? `listen(${taken}) rejected with ${JSON.stringify({ name: e?.name, code: e?.code, syscall: e?.syscall })}` : `listen(${taken}) resolved with ${String(outcome.port)}`,
      expected: `listen(${taken}) rejects with the bind error itself: code 'EADDRINUSE', syscall 'bind'`,
      lesson: lesson('Sending and receiving with node:dgram'),
    });
  });

  it("keeps echoing after its socket reports an 'error'", async () => {
    const { server, port } = await startServer();
    const socket = server.socket!;
    const boom = Object.assign(new Error('send failed (simulated by the test)'), { code: 'EPERM', syscall: 'send' });
    let thrown: unknown;
    try {
      socket.emit('error', boom);
      socket.emit('error', boom); // twice: a one-time listener left over from bind() is not enough
    } catch (err) {
      thrown = err;
    }
    check(thrown === undefined, {
      did: "the 'error' event found no listener, so it was thrown (in a real server: the process crashes)",
      expected: "an 'error' listener on the socket for as long as it is open; a failed send concerns one datagram only",
      lesson: lesson('Closing the sockets'),
    });
    const client = await udpSocket('udp4', 'test client');
    let got: Buffer | undefined;
    client.on('message', (m) => (got = m));
    client.send(Buffer.from('still there?'), port, '127.0.0.1');
    await eventually(() => got !== undefined, 1_000);
    check(got?.toString() === 'still there?', {
      did: got ? `got back ${JSON.stringify(got.toString())}` : "got nothing back after the socket's 'error' event",
      expected: 'the server keeps echoing: an error on one send does not stop it',
      lesson: lesson('Closing the sockets'),
    });
  });

  it('close() resolves before listen() and when called a second time', async () => {
    const never = new UdpEchoServer();
    await within(never.close(), 1_000, 'close() before listen()', 'With no socket there is nothing to close: resolve.');
    const { server } = await startServer();
    await within(server.close(), 1_000, 'UdpEchoServer.close()', 'It should resolve in the callback of socket.close().');
    await within(server.close(), 1_000, 'a second UdpEchoServer.close()', 'The socket is already closed: resolve (socket.close() would throw).');
    check(server.socket !== undefined && isClosed(server.socket), {
      did: "the server's socket is still open after close()",
      expected: 'close() closes the socket',
      lesson: lesson('Closing the sockets'),
    });
  });

  it('answers a real peer, nc -u, with the same line', async (ctx) => {
    const nc = needPeer(ctx, 'nc');
    const { port } = await startServer();
    const child = track(spawn(nc, ['-u', '127.0.0.1', String(port)], { stdio: ['pipe', 'pipe', 'pipe'] }), 'nc -u');
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const line = 'Dear Bram, wish you were here. Ada\n';
    child.stdin.write(line);
    const echoed = await eventually(() => out.includes(line), 2_000);
    check(echoed, {
      did: `nc -u printed ${JSON.stringify(out)}${err ? ` (stderr: ${JSON.stringify(err)})` : ''}`,
      expected: `nc sends the line as one datagram and prints the echo: ${JSON.stringify(line)}`,
      lesson: lesson('Sending and receiving with node:dgram'),
      reproduce: `nc -u 127.0.0.1 ${port}   (type a line, see it come back; Ctrl-C to quit)`,
    });
  });
});

describe('Matching pongs to pings', () => {
  it('matches replies that arrive out of order by sequence number', async () => {
    // Pong 1 is held 90 ms, so it arrives after pongs 2 and 3 (pings go 30 ms apart).
    const delay = 90;
    const relay = await serverBehindRelay({ script: [{ direction: 'toClient', nth: 1, action: 'delay', ms: delay }] });
    const { report } = await runPinger({ port: relay.port, count: 3, intervalMs: 30, timeoutMs: NO_LOSS_TIMEOUT_MS }, relay);
    const [r1, r2, r3] = [rttOf(report, 1), rttOf(report, 2), rttOf(report, 3)];
    check(r1 !== undefined && r2 !== undefined && r3 !== undefined && r1 >= delay - SLACK_MS && r1 > r2 && r1 > r3, () => ({
      did: `ping 1: ${show(r1)}, ping 2: ${show(r2)}, ping 3: ${show(r3)}`,
      expected: `all three replied, and ping 1's RTT at least ${delay} ms (the relay held its pong that long) while pings 2 and 3 are quick. A pinger that credits each pong to the oldest waiting ping gives ping 1 the RTT of pong 2 instead: read the sequence number inside the pong`,
      ...context(report, relay, 'Sequence numbers match replies'),
    }));
    checkConsistent(report, 3, relay, NO_LOSS_TIMEOUT_MS);
  });

  it('counts a duplicate reply once', async () => {
    const relay = await serverBehindRelay({ script: [{ direction: 'toClient', nth: 2, action: 'duplicate' }] });
    const { report } = await runPinger({ port: relay.port, count: 3, intervalMs: 30, timeoutMs: NO_LOSS_TIMEOUT_MS }, relay);
    const repliedTo2 = report.results.filter((x) => x.seq === 2 && x.status === 'replied').length;
    check(report.received === 3 && report.duplicates === 1 && report.lost === 0 && repliedTo2 === 1, () => ({
      did: `received ${report.received}, duplicates ${report.duplicates}, lost ${report.lost}, ${repliedTo2} replied result(s) for ping 2`,
      expected: 'received 3 (one per ping), duplicates 1, lost 0: the second copy of pong 2 is counted as a duplicate and changes nothing else',
      ...context(report, relay, 'Late replies and duplicates'),
    }));
    checkConsistent(report, 3, relay, NO_LOSS_TIMEOUT_MS);
  });

  it('ignores a late reply: it is credited neither to its own ping nor to a later one', async () => {
    // Pings go 100 ms apart. Pong 1 is held 320 ms: it comes back 20 ms after ping 1 timed out,
    // while ping 3 (sent at 200 ms, its pong held 150 ms) is still waiting for its own pong.
    const lateBy = TIMEOUT_MS + 20;
    const pong3 = 150;
    const relay = await serverBehindRelay({
      script: [
        { direction: 'toClient', nth: 1, action: 'delay', ms: lateBy },
        { direction: 'toClient', nth: 3, action: 'delay', ms: pong3 },
      ],
    });
    const { report } = await runPinger({ port: relay.port, count: 3, intervalMs: 100, timeoutMs: TIMEOUT_MS }, relay);
    const p1 = resultOf(report, 1);
    const r3 = rttOf(report, 3);
    check(p1?.status === 'timeout', () => ({
      did: `ping 1 is ${p1?.status === 'replied' ? `"replied" with an RTT of ${show(p1.rttMs)}` : JSON.stringify(p1)}`,
      expected: `ping 1 timed out: its pong arrived ${lateBy} ms after it was sent, past its ${TIMEOUT_MS} ms timeout. Once a ping has timed out, the verdict is final; a pong that shows up later is counted as late and credited to nobody`,
      ...context(report, relay, 'Late replies and duplicates'),
    }));
    check(r3 !== undefined && r3 >= pong3 - SLACK_MS, () => ({
      did: `ping 3: ${show(r3)}`,
      expected: `ping 3 replied with an RTT of at least ${pong3} ms (the relay held its pong that long). A shorter RTT means the late pong 1, which arrived while ping 3 was waiting, was credited to ping 3`,
      ...context(report, relay, 'Late replies and duplicates'),
    }));
    check(report.late === 1 && report.received === 2 && report.lost === 1, () => ({
      did: `late ${report.late}, received ${report.received}, lost ${report.lost}`,
      expected: 'late 1 (pong 1), received 2, lost 1 (ping 1)',
      ...context(report, relay, 'Late replies and duplicates'),
    }));
    checkConsistent(report, 3, relay, TIMEOUT_MS);
  });
  it('counts garbage, too-short pongs and pongs for pings never sent as stray, and credits nothing to them', async () => {
    // The test's own server answers ping 1 with junk first, then with the real pong; pings 2 and 3 get plain echoes.
    const junk = ['hello', '', 'PING', 'PING ', 'PING 0', 'PING 01', 'PING 99', 'PING 3', Buffer.from([0x50, 0x49, 0x4e, 0x47, 0x20, 0xb1])];
    const server = await scriptedServer((seq, msg) => (seq === 1 ? [...junk, msg] : [msg]));
    const { report } = await runPinger({ port: server.port, count: 3, intervalMs: 100, timeoutMs: NO_LOSS_TIMEOUT_MS });
    const extra = `What the test's server sent (ping 3 had not been sent when "PING 3" came back):\n${server.log.join('\n')}`;
    check(report.stray === junk.length && report.received === 3 && report.lost === 0 && report.late === 0 && report.duplicates === 0, () => ({
      did: `stray ${report.stray}, received ${report.received}, lost ${report.lost}, late ${report.late}, duplicates ${report.duplicates}`,
      expected: `stray ${junk.length} (every datagram before the real pong 1: not a pong, or a pong for a ping not sent), received 3, nothing lost, late or duplicated`,
      ...context(report, undefined, 'Sequence numbers match replies', extra),
    }));
    checkConsistent(report, 3, undefined, NO_LOSS_TIMEOUT_MS);
  });

  it('pings over IPv6 when its host is ::1 (here with intervalMs 0: back to back)', async () => {
    const server = await scriptedServer((_seq, msg) => [msg], 'udp6');
    const { report, pinger } = await runPinger({ port: server.port, host: '::1', count: 2, intervalMs: 0, timeoutMs: NO_LOSS_TIMEOUT_MS });
    check(report.received === 2 && server.seen.join() === '1,2', () => ({
      did: `the server at [::1]:${server.port} saw pings [${server.seen.join(', ')}]; received ${report.received}`,
      expected: "pings 1 and 2 reach [::1] and both pongs count: an IPv6 host needs a 'udp6' socket",
      ...context(report, undefined, 'Sending and receiving with node:dgram'),
    }));
    check(pinger.socket !== undefined, {
      did: 'pinger.socket is undefined after run()',
      expected: 'run() keeps its socket in this.socket',
      lesson: lesson('The exercise'),
    });
    checkConsistent(report, 2, undefined, NO_LOSS_TIMEOUT_MS);
  });
});

describe('Loss, timeouts and closing', () => {
  it('counts lost pings through a seeded lossy relay, giving up on each at its timeout', async () => {
    const seed = testSeed();
    const count = 8;
    // A quarter of the datagrams vanish each way, at random but replayably; pong 2 always does.
    const relay = await serverBehindRelay({ seed, impair: { loss: 0.25 }, script: [{ direction: 'toClient', nth: 2, action: 'drop' }] });
    const { report } = await runPinger({ port: relay.port, count, intervalMs: 10, timeoutMs: TIMEOUT_MS }, relay, replayHint(seed));
    const dropped = relay
      .transcript()
      .filter((e) => e.action === 'drop')
      .map((e) => Number(/PING (\d+)/.exec(e.preview)?.[1]))
      .sort((a, b) => a - b);
    const timedOut = report.results.filter((x) => x.status === 'timeout').map((x) => x.seq);
    check(
      report.lost === dropped.length && timedOut.join() === dropped.join() && report.received === count - dropped.length,
      () => ({
        did: `lost ${report.lost}, received ${report.received}; pings that timed out: [${timedOut.join(', ')}]`,
        expected: `lost ${dropped.length}, received ${count - dropped.length}: the relay dropped the ping or the pong of pings [${dropped.join(', ')}], and each of those must time out (and nothing else)`,
        ...context(report, relay, 'Timeouts: the only way to hear silence', replayHint(seed)),
      }),
    );
    check(report.late === 0 && report.duplicates === 0, () => ({
      did: `late ${report.late}, duplicates ${report.duplicates}`,
      expected: 'no late pongs and no duplicates: this relay only drops',
      ...context(report, relay, 'Late replies and duplicates', replayHint(seed)),
    }));
    checkConsistent(report, count, relay, TIMEOUT_MS);
  });

  it('gives each ping its own timeout, counted from when that ping was sent', async () => {
    // Pings go 50 ms apart with a 300 ms timeout. Pong 1 is held 350 ms: too late for ping 1.
    // Pong 3 is held 60 ms: in time for ping 3 (sent at 100 ms, due by 400 ms).
    const relay = await serverBehindRelay({
      script: [
        { direction: 'toClient', nth: 1, action: 'delay', ms: TIMEOUT_MS + 50 },
        { direction: 'toClient', nth: 3, action: 'delay', ms: 60 },
      ],
    });
    const { report } = await runPinger({ port: relay.port, count: 3, intervalMs: 50, timeoutMs: TIMEOUT_MS }, relay);
    const p1 = resultOf(report, 1);
    const r3 = rttOf(report, 3);
    const tooSlow = report.results.filter((x) => x.status === 'replied' && x.rttMs > TIMEOUT_MS + SLACK_MS);
    check(p1?.status === 'timeout' && tooSlow.length === 0, () => ({
      did: `ping 1 is ${p1?.status === 'replied' ? `"replied" after ${show(p1.rttMs)}` : JSON.stringify(p1)}${tooSlow.length ? `; credited RTTs above the ${TIMEOUT_MS} ms timeout: ${tooSlow.map((x) => `ping ${x.seq}`).join(', ')}` : ''}`,
      expected: `ping 1 timed out ${TIMEOUT_MS} ms after it was sent, before its pong (held ${TIMEOUT_MS + 50} ms) came back. One timer shared by all pings, restarted at each send, gives early pings more than their timeout`,
      ...context(report, relay, 'Timeouts: the only way to hear silence'),
    }));
    check(r3 !== undefined && r3 >= 60 - SLACK_MS, () => ({
      did: `ping 3: ${show(r3)}`,
      expected: `ping 3 replied after about 60 ms: its pong was in time, because ping 3's own deadline is ${TIMEOUT_MS} ms after ping 3 was sent, not after ping 1`,
      ...context(report, relay, 'Timeouts: the only way to hear silence'),
    }));
    checkConsistent(report, 3, relay, TIMEOUT_MS);
  });

  it('counts exactly the pings whose ping or pong went missing, and a corrupted pong as stray', async () => {
    // Fixed, not random: ping 2 is dropped on the way out, the 2nd pong (ping 3's) on the way back,
    // and the 3rd pong (ping 4's) is corrupted into "PING 9", a ping never sent.
    const relay = await serverBehindRelay({
      script: [
        { direction: 'toServer', nth: 2, action: 'drop' },
        { direction: 'toClient', nth: 2, action: 'drop' },
        { direction: 'toClient', nth: 3, action: 'corrupt', offset: 5, xor: 0x34 ^ 0x39 },
      ],
    });
    const { report } = await runPinger({ port: relay.port, count: 5, intervalMs: 10, timeoutMs: TIMEOUT_MS }, relay);
    const timedOut = report.results.filter((x) => x.status === 'timeout').map((x) => x.seq);
    check(timedOut.join() === '2,3,4' && report.lost === 3 && report.received === 2 && report.stray === 1, () => ({
      did: `pings that timed out: [${timedOut.join(', ')}]; lost ${report.lost}, received ${report.received}, stray ${report.stray}`,
      expected: 'pings 2, 3 and 4 time out (lost 3), pings 1 and 5 replied (received 2), and the corrupted pong "PING 9" is stray 1',
      ...context(report, relay, 'Timeouts: the only way to hear silence'),
    }));
    checkConsistent(report, 5, relay, TIMEOUT_MS);
  });

  it('sends a ping every intervalMs, whether or not pongs come back', async () => {
    // A server that never answers: a pinger that waits for each pong (or timeout) before the next ping is stop-and-wait, not a pinger.
    const server = await scriptedServer(() => []);
    const intervalMs = 20;
    const started = performance.now();
    const { report } = await runPinger({ port: server.port, count: 3, intervalMs, timeoutMs: TIMEOUT_MS });
    const [t1, t2, t3] = server.seenAt;
    const gap = t2 !== undefined && t1 !== undefined ? t2 - t1 : undefined;
    const third = t3 === undefined ? undefined : t3 - started;
    check(server.seen.join() === '1,2,3' && gap !== undefined && gap < TIMEOUT_MS && third !== undefined && third >= 2 * intervalMs - SLACK_MS, () => ({
      did: `the server saw pings [${server.seen.join(', ')}]; ping 2 came ${gap === undefined ? '-' : gap.toFixed(1)} ms after ping 1, ping 3 ${third === undefined ? '-' : third.toFixed(1)} ms after run() started`,
      expected: `pings 1, 2, 3 going out ${intervalMs} ms apart: ping 2 long before ping 1's ${TIMEOUT_MS} ms timeout (do not wait for a pong), and ping 3 no sooner than ${2 * intervalMs} ms after the start (do not send them all at once)`,
      ...context(report, undefined, 'Timeouts: the only way to hear silence'),
    }));
    check(report.lost === 3 && report.received === 0, () => ({
      did: `lost ${report.lost}, received ${report.received}`,
      expected: 'lost 3: no pong ever came',
      ...context(report, undefined, 'Timeouts: the only way to hear silence'),
    }));
    checkConsistent(report, 3, undefined, TIMEOUT_MS);
  });

  it('ends as soon as the last pong is in, without waiting out the timeout', async () => {
    const { port } = await startServer();
    const timeoutMs = 6_000;
    const pinger = new Pinger({ port, count: 2, intervalMs: 20, timeoutMs });
    onCleanup('your pinger', () => closeQuietly(pinger.socket));
    const started = performance.now();
    const report = await within(
      runSafely(pinger),
      2_500,
      `run() with 2 pings 20 ms apart and a ${timeoutMs} ms timeout, both answered at once by the echo server`,
      'Resolve as soon as every ping has its pong or its timeout; a ping that has its pong waits for nothing.',
    );
    check(report.received === 2, () => ({
      did: `received ${report.received} after ${(performance.now() - started).toFixed(0)} ms`,
      expected: 'both pongs, well before the timeout',
      ...context(report, undefined, 'Closing the sockets'),
    }));
  });

  it('keeps an answered ping answered when its timeout comes round, and leaves no timer running after run()', async () => {
    // Ping 1 is answered at once; its timeout (at 300 ms) would fire between ping 2 (200 ms) and ping 3 (400 ms).
    // runPinger counts the pending timers before run() and after it resolved.
    const { port } = await startServer();
    const { report } = await runPinger({ port, count: 3, intervalMs: 200, timeoutMs: TIMEOUT_MS });
    const wrong = report.results.filter((x) => x.status !== 'replied').map((x) => x.seq);
    check(wrong.length === 0 && report.received === 3 && report.lost === 0, () => ({
      did: `pings [${wrong.join(', ')}] are not "replied" (received ${report.received}, lost ${report.lost}), though the echo server answered each at once`,
      expected: "all three replied: a ping's timer is cleared when its pong arrives, so it can never turn an answered ping into a lost one",
      ...context(report, undefined, 'Closing the sockets'),
    }));
    checkConsistent(report, 3, undefined, TIMEOUT_MS);
  });

  it('rejects a bad option with PingRangeError, leaving no socket open', async () => {
    const bad: [PingField, Partial<PingOptions>][] = [
      ['count', { count: -1 }],
      ['count', { count: 1.5 }],
      ['count', { count: Number.NaN }],
      ['count', { count: MAX_SEQ + 1 }],
      ['intervalMs', { intervalMs: -1 }],
      ['intervalMs', { intervalMs: Number.NaN }],
      ['timeoutMs', { timeoutMs: 0 }],
      ['timeoutMs', { timeoutMs: -5 }],
      ['timeoutMs', { timeoutMs: Number.NaN }],
    ];
    for (const [field, opts] of bad) {
      // A long interval: a pinger that wrongly starts anyway sends one ping, not a stream of them after the test.
      const options: PingOptions = { port: 9, count: 1, intervalMs: 60_000, timeoutMs: 100, ...opts };
      const pinger = new Pinger(options);
      onCleanup('your pinger', () => closeQuietly(pinger.socket));
      let err: unknown;
      try {
        await within(runSafely(pinger), 1_000, `run() with ${JSON.stringify(opts)}`, 'Check the options first and reject at once.');
      } catch (e) {
        err = e;
      }
      const call = `run() with { ${field}: ${String(opts[field as keyof PingOptions])} }`;
      checkRangeError(err, field, opts[field as keyof PingOptions], call, 'Closing the sockets');
      check(pinger.socket === undefined || isClosed(pinger.socket), {
        did: `${call} rejected but left its socket open`,
        expected: 'check the options before opening a socket (or close it before rejecting)',
        lesson: lesson('Closing the sockets'),
      });
    }
  });

  it('with count 0, sends nothing and resolves an empty report', async () => {
    const server = await scriptedServer((_seq, msg) => [msg]);
    const { report } = await runPinger({ port: server.port, count: 0, intervalMs: 10, timeoutMs: 100 });
    const counters = [report.sent, report.received, report.lost, report.late, report.duplicates, report.stray];
    check(report.results.length === 0 && counters.every((c) => c === 0) && server.seen.length === 0, () => ({
      did: `the server saw [${server.seen.join(', ')}]; ${describeReport(report)}`,
      expected: 'no ping sent, no result, every counter 0',
      lesson: lesson('Closing the sockets'),
    }));
  });

  it('uses the defaults: 10 pings to 127.0.0.1, each given PING_DEFAULTS.timeoutMs', async () => {
    const server = await scriptedServer((_seq, msg) => [msg]);
    const { report } = await runPinger({ port: server.port, intervalMs: 5 });
    check(report.sent === PING_DEFAULTS.count && report.received === PING_DEFAULTS.count && server.seen.length === PING_DEFAULTS.count, () => ({
      did: `sent ${report.sent}, received ${report.received}; the server at 127.0.0.1 saw ${server.seen.length} pings`,
      expected: `${PING_DEFAULTS.count} pings sent to 127.0.0.1 and answered: count, host and timeoutMs default to PING_DEFAULTS`,
      ...context(report, undefined, 'The exercise'),
    }));
    checkConsistent(report, PING_DEFAULTS.count, undefined, PING_DEFAULTS.timeoutMs);
  });

  it("stops when its socket fails: rejects with the socket's error, clears its timers and closes the socket", async () => {
    // A server that never answers: pings wait, each with a pending timer, and more pings are due.
    const server = await scriptedServer(() => []);
    const pinger = new Pinger({ port: server.port, count: 5, intervalMs: 100, timeoutMs: 5_000 });
    onCleanup('your pinger', () => closeQuietly(pinger.socket));
    const timersBefore = pendingTimers();
    const running = runSafely(pinger);
    running.catch(() => {}); // judged below
    await until(() => server.seen.length >= 2, 2_000, 'pings 1 and 2 reaching the server');
    const boom = Object.assign(new Error('socket failed (simulated by the test)'), { code: 'ENETDOWN' });
    let thrown: unknown;
    try {
      pinger.socket?.emit('error', boom);
    } catch (e) {
      thrown = e;
    }
    let outcome: { report?: PingReport; err?: unknown };
    try {
      outcome = { report: await within(running, 1_000, "run() after its socket's 'error'", 'Reject with the error once the socket fails.') };
    } catch (err) {
      outcome = { err };
    }
    const leftover = pendingTimers() - timersBefore;
    check(thrown === undefined && outcome.err === boom, {
      did:
        thrown !== undefined
          ? "the socket's 'error' event found no listener and was thrown"
          : 'report' in outcome
            ? `run() resolved with ${JSON.stringify(outcome.report)}`
            : `run() rejected with ${String(outcome.err)}`,
      expected: "run() rejects with the very error the socket reported (its code: 'ENETDOWN')",
      lesson: lesson('Closing the sockets'),
    });
    check(pinger.socket !== undefined && isClosed(pinger.socket) && leftover <= 0, {
      did: `after rejecting, the socket is ${pinger.socket && isClosed(pinger.socket) ? 'closed' : 'still open'} and ${leftover} timer(s) of the pinger are still pending`,
      expected: "the socket closed and no timer left: not the next ping's, not the waiting pings'",
      lesson: lesson('Closing the sockets'),
    });
  });

  it("closes the pinger's and the server's sockets at the end", async () => {
    const { server, port } = await startServer();
    const { report, pinger } = await runPinger({ port, count: 2, intervalMs: 20, timeoutMs: NO_LOSS_TIMEOUT_MS });
    check(report.received === 2, () => ({
      did: `received ${report.received} of 2 pongs straight from the echo server`,
      expected: 'both pongs',
      ...context(report, undefined, 'The exercise'),
    }));
    check(pinger.socket !== undefined && isClosed(pinger.socket), {
      did: pinger.socket === undefined ? 'pinger.socket is undefined after run()' : "the pinger's socket is still open after run() resolved",
      expected: 'run() keeps its socket in this.socket and closes it before resolving (a closed dgram socket throws ERR_SOCKET_DGRAM_NOT_RUNNING on address())',
      lesson: lesson('Closing the sockets'),
    });
    await within(server.close(), 1_000, 'UdpEchoServer.close()', 'It should resolve in the callback of socket.close().');
    check(server.socket !== undefined && isClosed(server.socket), {
      did: server.socket === undefined ? 'server.socket is undefined' : "the server's socket is still open after close() resolved",
      expected: 'close() closes the socket (a closed dgram socket throws ERR_SOCKET_DGRAM_NOT_RUNNING on address())',
      lesson: lesson('Closing the sockets'),
    });
  });
});
