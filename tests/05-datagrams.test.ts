/**
 * Chapter 05 · Datagrams without promises.
 * Real UDP sockets on loopback: the learner's echo server and pinger, with a seeded lossy relay
 * between them that drops, delays and duplicates exactly the datagrams a test asks for.
 * Times are relations (this RTT is at least the delay the relay added), never absolute promises.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { describe, it } from 'vitest';
import type { PingOptions, PingReport, PingResult } from '@impl/05-datagrams/exercise.ts';
import { Pinger, UdpEchoServer } from '@impl/05-datagrams/exercise.ts';
import type { Explanation } from './helpers/index.ts';
import { DeadlineError, check, eventually, fail, hexdump, needPeer, onCleanup, pause, replayHint, seeLesson, testSeed, track, within } from './helpers/index.ts';
import type { LossyUdpRelay, LossyUdpRelayOptions } from './helpers/lossy-udp-relay.ts';
import { startLossyUdpRelay } from './helpers/lossy-udp-relay.ts';

const ID = '05-datagrams';
/**
 * The timeout in tests where some ping must time out: long next to a loopback RTT (well under 1 ms)
 * even on a busy machine, short enough for a quick suite. Late pongs are late by construction (the
 * relay holds them past the deadline, and timers fire in deadline order), so only in-time pongs need slack.
 */
const TIMEOUT_MS = 300;
/** The timeout in tests where no ping should time out: generous, and it costs nothing, since every pong ends its wait. */
const NO_LOSS_TIMEOUT_MS = 1_000;
/** Slack for timer granularity when comparing an RTT with a delay or a timeout. */
const SLACK_MS = 3;

// ---------------------------------------------------------------- helpers

function closeQuietly(socket: dgram.Socket | undefined): void {
  try {
    socket?.close();
  } catch {
    /* already closed */
  }
}

/** Start the learner's echo server on port 0. Cleanup closes its socket even if close() is unfinished. */
async function startServer(): Promise<{ server: UdpEchoServer; port: number }> {
  const server = new UdpEchoServer();
  onCleanup('your UDP echo server', () => closeQuietly(server.socket));
  const port = await within(
    server.listen(0),
    2_000,
    'UdpEchoServer.listen(0)',
    'It should resolve once the socket is bound (the bind() callback or the "listening" event).',
  );
  check(Number.isInteger(port) && port > 0, {
    did: `listen(0) resolved with ${String(port)}`,
    expected: 'the port the operating system actually picked (a number above 0, from socket.address().port)',
    lesson: seeLesson(ID, 'Sending and receiving with node:dgram'),
  });
  return { server, port };
}

/** The learner's echo server with a lossy relay in front of it; pings and pongs are labelled in its transcript. */
async function serverBehindRelay(options: Omit<LossyUdpRelayOptions, 'server'>): Promise<LossyUdpRelay> {
  const { port } = await startServer();
  return startLossyUdpRelay({ seed: 1, names: { toServer: 'ping', toClient: 'pong' }, ...options, server: { port } });
}

/** Run the learner's pinger, bounded in time: a run that never ends fails with the relay's transcript. */
async function runPinger(options: PingOptions, relay?: LossyUdpRelay, hint = ''): Promise<{ report: PingReport; pinger: Pinger }> {
  const pinger = new Pinger(options);
  onCleanup('your pinger', () => closeQuietly(pinger.socket));
  const count = options.count ?? 10;
  const budget = (count - 1) * (options.intervalMs ?? 1_000) + (options.timeoutMs ?? 1_000) + 1_500;
  try {
    const report = await within(pinger.run(), budget, 'Pinger.run()');
    check(report && Array.isArray(report.results), {
      did: `run() resolved with ${JSON.stringify(report)}`,
      expected: 'a PingReport: { results, sent, received, lost, late, duplicates, stray }',
      lesson: seeLesson(ID, 'The exercise'),
    });
    return { report, pinger };
  } catch (err) {
    if (!(err instanceof DeadlineError)) throw err;
    fail({
      did: `run() had not finished ${budget} ms after it started, for ${count} pings ${options.intervalMs} ms apart with a ${options.timeoutMs} ms timeout.`,
      expected:
        'run() ends once every ping has its pong or its timeout: at most (count - 1) x interval + timeout. A pong that was dropped never comes, so only a timer can end the wait.',
      lesson: seeLesson(ID, 'Timeouts: the only way to hear silence'),
      extra: [hint, relay ? `What the relay did (pings go to the server, pongs come back):\n${relay.render()}` : ''].filter(Boolean).join('\n') || undefined,
    });
  }
}

/** The report as a learner would want to read it in a failure message. */
function describeReport(r: PingReport): string {
  const lines = [
    `Your pinger's report: sent ${r.sent}, received ${r.received}, lost ${r.lost}, late ${r.late}, duplicates ${r.duplicates}, stray ${r.stray}`,
  ];
  for (const x of r.results ?? []) {
    lines.push(`  ping ${x?.seq}: ${x?.status === 'replied' ? `replied, RTT ${Number(x.rttMs).toFixed(1)} ms` : x?.status}`);
  }
  return lines.join('\n');
}

/** Everything a failure message about a pinger run needs, besides what happened and what was expected. */
function context(report: PingReport, relay: LossyUdpRelay | undefined, heading: string, extra = ''): Omit<Explanation, 'did' | 'expected'> {
  return {
    lesson: seeLesson(ID, heading),
    extra: [extra, describeReport(report), relay ? `What the relay did (pings go to the server, pongs come back):\n${relay.render()}` : '']
      .filter(Boolean)
      .join('\n'),
  };
}

const resultOf = (r: PingReport, seq: number): PingResult | undefined => r.results.find((x) => x.seq === seq);
const rttOf = (r: PingReport, seq: number): number | undefined => {
  const x = resultOf(r, seq);
  return x?.status === 'replied' ? x.rttMs : undefined;
};
const show = (rtt: number | undefined) => (rtt === undefined ? 'no RTT (not replied)' : `${rtt.toFixed(1)} ms`);

/** Checks every report must pass: one result per ping, and counters that agree with the results. */
function checkConsistent(report: PingReport, count: number, relay: LossyUdpRelay | undefined): void {
  const seqs = report.results.map((x) => x.seq);
  const replied = report.results.filter((x) => x.status === 'replied').length;
  const timedOut = report.results.filter((x) => x.status === 'timeout').length;
  check(
    report.sent === count &&
      seqs.length === count &&
      seqs.every((s, i) => s === i + 1) &&
      report.received === replied &&
      report.lost === timedOut &&
      replied + timedOut === count,
    () => ({
      did: `the report does not add up: sent ${report.sent}, results for pings [${seqs.join(', ')}], received ${report.received} (${replied} results replied), lost ${report.lost} (${timedOut} results timed out)`,
      expected: `sent ${count}; exactly one result per ping, in order 1..${count}; received = replied results, lost = timed-out results`,
      ...context(report, relay, 'The exercise'),
    }),
  );
}

/** True when `socket` is closed: node:dgram then refuses address() with ERR_SOCKET_DGRAM_NOT_RUNNING. */
function isClosed(socket: dgram.Socket): boolean {
  try {
    socket.address();
    return false;
  } catch (err) {
    return (err as { code?: string }).code === 'ERR_SOCKET_DGRAM_NOT_RUNNING';
  }
}

// ---------------------------------------------------------------- tests

describe('The UDP echo server', () => {
  it('echoes datagrams of 0, 1, 5, 1472 and 9000 bytes back as exactly those datagrams', async () => {
    const { port } = await startServer();
    const fill = (n: number, c: number) => Buffer.alloc(n, c);
    const sent = [Buffer.alloc(0), Buffer.from('A'), Buffer.from('hello'), fill(1472, 0x61), fill(9000, 0x62)];
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
      lesson: seeLesson(ID, 'Boundaries are kept'),
      extra: `Datagrams on the wire (first 16 bytes of each):\n${lines.join('\n')}`,
      reproduce: `printf 'hello' | nc -u -w1 127.0.0.1 ${port}`,
    });
  });

  it('answers a real peer, nc -u, with the same line', async (ctx) => {
    const nc = needPeer(ctx, 'nc', 'apt-get install netcat-openbsd');
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
      lesson: seeLesson(ID, 'Sending and receiving with node:dgram'),
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
    checkConsistent(report, 3, relay);
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
    checkConsistent(report, 3, relay);
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
    checkConsistent(report, 3, relay);
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
    checkConsistent(report, count, relay);
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
    checkConsistent(report, 3, relay);
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
      lesson: seeLesson(ID, 'Closing the sockets'),
    });
    await within(server.close(), 1_000, 'UdpEchoServer.close()', 'It should resolve in the callback of socket.close().');
    check(server.socket !== undefined && isClosed(server.socket), {
      did: server.socket === undefined ? 'server.socket is undefined' : "the server's socket is still open after close() resolved",
      expected: 'close() closes the socket (a closed dgram socket throws ERR_SOCKET_DGRAM_NOT_RUNNING on address())',
      lesson: seeLesson(ID, 'Closing the sockets'),
    });
  });
});
