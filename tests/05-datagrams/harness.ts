/**
 * Chapter 05's own test harness: test-owned UDP sockets and a scripted echo server, the learner's
 * server and pinger started under cleanup (the pinger bounded in time, with the relay's transcript on
 * failure), and the checks every ping report must pass. Nothing here is a model answer.
 */
import dgram from 'node:dgram';
import type { PingField, PingOptions, PingReport, PingResult } from '@impl/05-datagrams/exercise.ts';
import { PingRangeError, Pinger, UdpEchoServer } from '@impl/05-datagrams/exercise.ts';
import type { Explanation } from '../helpers/index.ts';
import { DeadlineError, check, closeQuietly, fail, lessonOf, onCleanup, track, within } from '../helpers/index.ts';
import type { LossyUdpRelay, LossyUdpRelayOptions } from '../helpers/lossy-udp-relay.ts';
import { startLossyUdpRelay } from '../helpers/lossy-udp-relay.ts';

const ID = '05-datagrams';
export const lesson = lessonOf(ID);
/** Slack for timer granularity when comparing an RTT with a delay or a timeout. */
export const SLACK_MS = 3;

/** Timers (setTimeout, setInterval) pending in this process right now, as Node lists them. */
export const pendingTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** A test-owned UDP socket on loopback (IPv4 or IPv6), closed by the cleanup. */
export async function udpSocket(family: 'udp4' | 'udp6' = 'udp4', label = 'test UDP socket'): Promise<dgram.Socket> {
  const socket = track(dgram.createSocket(family), label);
  await new Promise<void>((resolve) => socket.bind(0, family === 'udp6' ? '::1' : '127.0.0.1', resolve));
  return socket;
}

/**
 * A stand-in echo server run by the test: for each datagram it receives, `answer` says what to send
 * back (the seq is parsed when the datagram is a well-formed ping). It keeps a log for failure messages.
 */
export async function scriptedServer(
  answer: (seq: number | undefined, msg: Buffer) => (Buffer | string)[],
  family: 'udp4' | 'udp6' = 'udp4',
): Promise<{ port: number; seen: number[]; seenAt: number[]; log: string[] }> {
  const socket = await udpSocket(family, 'test echo server');
  const seen: number[] = [];
  /** performance.now() when each ping in `seen` arrived. */
  const seenAt: number[] = [];
  const log: string[] = [];
  const t0 = performance.now();
  const at = () => `+${(performance.now() - t0).toFixed(1).padStart(7)} ms`;
  socket.on('message', (msg, from) => {
    const m = /^PING ([1-9]\d*)$/.exec(msg.toString('latin1'));
    const seq = m ? Number(m[1]) : undefined;
    if (seq !== undefined) (seen.push(seq), seenAt.push(performance.now()));
    log.push(`  ${at()}  pinger -> server  ${JSON.stringify(msg.toString('latin1'))}`);
    for (const d of answer(seq, msg)) {
      const bytes = typeof d === 'string' ? Buffer.from(d, 'latin1') : d;
      log.push(`  ${at()}  server -> pinger  ${JSON.stringify(bytes.toString('latin1'))}`);
      socket.send(bytes, from.port, from.address);
    }
  });
  return { port: socket.address().port, seen, seenAt, log };
}

/** Call `run()` so that a synchronous throw becomes a rejection too: both ways of failing are allowed. */
export function runSafely(pinger: Pinger): Promise<PingReport> {
  return (async () => pinger.run())();
}

/** Check an error by class, code and documented fields, never by message. */
export function checkRangeError(err: unknown, field: PingField, value: unknown, call: string, heading: string): void {
  const e = err as Partial<PingRangeError> | undefined;
  check(err instanceof PingRangeError && err instanceof RangeError && e?.name === 'PingRangeError' && e?.code === 'ERR_PING_RANGE' && e.field === field && Object.is(e.value, value), {
    did: `${call} ${err === undefined ? 'did not fail' : `failed with ${(err as Error)?.name ?? typeof err} ${JSON.stringify({ code: e?.code, field: e?.field, value: String(e?.value) })}`}`,
    expected: `a PingRangeError (a RangeError) with code 'ERR_PING_RANGE', field '${field}' and value ${String(value)}`,
    lesson: lesson(heading),
  });
}

/** Start the learner's echo server on port 0. Cleanup closes its socket even if close() is unfinished. */
export async function startServer(): Promise<{ server: UdpEchoServer; port: number }> {
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
    lesson: lesson('Sending and receiving with node:dgram'),
  });
  return { server, port };
}

/** The learner's echo server with a lossy relay in front of it; pings and pongs are labelled in its transcript. */
export async function serverBehindRelay(options: Omit<LossyUdpRelayOptions, 'server'>): Promise<LossyUdpRelay> {
  const { port } = await startServer();
  return startLossyUdpRelay({ seed: 1, names: { toServer: 'ping', toClient: 'pong' }, ...options, server: { port } });
}

/** Run the learner's pinger, bounded in time: a run that never ends fails with the relay's transcript. */
export async function runPinger(options: PingOptions, relay?: LossyUdpRelay, hint = ''): Promise<{ report: PingReport; pinger: Pinger }> {
  const pinger = new Pinger(options);
  onCleanup('your pinger', () => closeQuietly(pinger.socket));
  const count = options.count ?? 10;
  const budget = (count - 1) * (options.intervalMs ?? 1_000) + (options.timeoutMs ?? 1_000) + 1_500;
  // The relay's own delay timers are not the pinger's: count them apart.
  const timersBefore = pendingTimers() - (relay?.queued ?? 0);
  try {
    const report = await within(runSafely(pinger), budget, 'Pinger.run()');
    const leftover = pendingTimers() - (relay?.queued ?? 0) - timersBefore;
    check(report && Array.isArray(report.results), {
      did: `run() resolved with ${JSON.stringify(report)}`,
      expected: 'a PingReport: { results, sent, received, lost, late, duplicates, stray }',
      lesson: lesson('The exercise'),
    });
    check(leftover <= 0, () => ({
      did: `${leftover} timer(s) of your pinger were still pending when run() resolved`,
      expected: "no timer left: clear each ping's timer when its pong arrives, and every timer still set when the run ends (the next ping's, the waiting pings')",
      ...context(report, relay, 'Closing the sockets'),
    }));
    check(pinger.socket === undefined || isClosed(pinger.socket), () => ({
      did: "the pinger's socket was still open when run() resolved",
      expected: 'run() closes its socket, then resolves',
      ...context(report, relay, 'Closing the sockets'),
    }));
    return { report, pinger };
  } catch (err) {
    if (!(err instanceof DeadlineError)) throw err;
    fail({
      did: `run() had not finished ${budget} ms after it started, for ${count} pings ${options.intervalMs} ms apart with a ${options.timeoutMs} ms timeout.`,
      expected:
        'run() ends once every ping has its pong or its timeout: at most (count - 1) x interval + timeout. A pong that was dropped never comes, so only a timer can end the wait.',
      lesson: lesson('Timeouts: the only way to hear silence'),
      extra: [hint, relay ? `What the relay did (pings go to the server, pongs come back):\n${relay.render()}` : ''].filter(Boolean).join('\n') || undefined,
    });
  }
}

/** The report as a learner would want to read it in a failure message. */
export function describeReport(r: PingReport): string {
  const lines = [
    `Your pinger's report: sent ${r.sent}, received ${r.received}, lost ${r.lost}, late ${r.late}, duplicates ${r.duplicates}, stray ${r.stray}`,
  ];
  for (const x of r.results ?? []) {
    lines.push(`  ping ${x?.seq}: ${x?.status === 'replied' ? `replied, RTT ${Number(x.rttMs).toFixed(1)} ms` : x?.status}`);
  }
  return lines.join('\n');
}

/** Everything a failure message about a pinger run needs, besides what happened and what was expected. */
export function context(report: PingReport, relay: LossyUdpRelay | undefined, heading: string, extra = ''): Omit<Explanation, 'did' | 'expected'> {
  return {
    lesson: lesson(heading),
    extra: [extra, describeReport(report), relay ? `What the relay did (pings go to the server, pongs come back):\n${relay.render()}` : '']
      .filter(Boolean)
      .join('\n'),
  };
}

export const resultOf = (r: PingReport, seq: number): PingResult | undefined => r.results.find((x) => x.seq === seq);
export const rttOf = (r: PingReport, seq: number): number | undefined => {
  const x = resultOf(r, seq);
  return x?.status === 'replied' ? x.rttMs : undefined;
};
export const show = (rtt: number | undefined) => (rtt === undefined ? 'no RTT (not replied)' : `${rtt.toFixed(1)} ms`);

/** Checks every report must pass: one result per ping, and counters that agree with the results. */
export function checkConsistent(report: PingReport, count: number, relay: LossyUdpRelay | undefined, timeoutMs?: number): void {
  const badRtt = report.results.filter(
    (x) => x.status === 'replied' && !(Number.isFinite(x.rttMs) && x.rttMs >= 0 && (timeoutMs === undefined || x.rttMs <= timeoutMs + SLACK_MS)),
  );
  check(badRtt.length === 0, () => ({
    did: `impossible RTTs: ${badRtt.map((x) => `ping ${x.seq}: ${String((x as { rttMs: unknown }).rttMs)} ms`).join(', ')}`,
    expected: `every replied ping has an RTT in ms, from 0 up to its timeout${timeoutMs === undefined ? '' : ` (${timeoutMs} ms)`}: the time from sending it to receiving its own pong, on a monotonic clock`,
    ...context(report, relay, 'Measuring round-trip time'),
  }));
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
export function isClosed(socket: dgram.Socket): boolean {
  try {
    socket.address();
    return false;
  } catch (err) {
    return (err as { code?: string }).code === 'ERR_SOCKET_DGRAM_NOT_RUNNING';
  }
}
