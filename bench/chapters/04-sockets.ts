/**
 * Chapter 04: the echo server under load. N keep-alive connections each send a 32-byte line and
 * wait for its echo before sending the next (a closed loop), for a fixed time. Measured: requests
 * a second and the 99th percentile of the round-trip time, for the learner's EchoServer, the
 * reference, and the least an echo can be on `node:net`: `socket.pipe(socket)`.
 * The server runs in its own process, so it has a core to itself; the load comes from the trial.
 */
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Exercise from '../../solutions/04-sockets/exercise.ts';
import { defineBenchmark, fmt } from '../framework.ts';

const CONNECTIONS = [1, 16, 64];
const LINE = Buffer.from('ping from the benchmark 0123456\n');
const TIMING = { normal: { warmMs: 200, measureMs: 1_000 }, quick: { warmMs: 50, measureMs: 150 } };

/** The 99th percentile (nearest rank). */
function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)] ?? NaN;
}

/** Open `n` connections, keep each busy with one line at a time; count the echoes of the measured window. */
async function load(port: number, n: number, warmMs: number, measureMs: number): Promise<{ rate: number; p99: number }> {
  const sockets = await Promise.all(
    Array.from({ length: n }, async () => {
      const s = net.connect({ host: '127.0.0.1', port, noDelay: true });
      s.on('error', () => {});
      await once(s, 'connect');
      return s;
    }),
  );
  const latencies: number[] = [];
  let recording = false;
  let running = true;
  let failure: Error | undefined;
  try {
    for (const s of sockets) {
      let got = 0;
      let sentAt = 0;
      const send = () => {
        sentAt = performance.now();
        s.write(LINE);
      };
      s.on('data', (d: Buffer) => {
        got += d.length;
        if (got > LINE.length) failure ??= new Error(`the server sent ${got} bytes for one ${LINE.length}-byte line`);
        if (got < LINE.length) return;
        got = 0;
        if (recording) latencies.push(performance.now() - sentAt);
        if (running) send();
      });
      s.on('close', () => running && (failure ??= new Error('the server closed a connection in the middle of the run')));
      send();
    }
    await new Promise((r) => setTimeout(r, warmMs));
    recording = true;
    const started = performance.now();
    await new Promise((r) => setTimeout(r, measureMs));
    recording = false;
    const elapsed = performance.now() - started;
    running = false;
    if (failure) throw failure;
    if (latencies.length === 0) throw new Error(`no echo came back in ${measureMs} ms over ${n} connection(s)`);
    return { rate: (latencies.length / elapsed) * 1000, p99: p99(latencies) };
  } finally {
    running = false;
    for (const s of sockets) s.destroy();
  }
}

export default defineBenchmark({
  chapter: '04-sockets',
  title: 'Echo server: requests/s over keep-alive connections',
  labels: { learner: 'your EchoServer', reference: 'reference EchoServer', baseline: 'socket.pipe(socket)' },
  points: CONNECTIONS.map((c) => ({ key: String(c), label: `${c} conn`, x: c })),
  axis: 'connections',
  metrics: [
    { key: 'rate', label: 'requests/s', better: 'higher', format: fmt.si },
    { key: 'p99', label: 'p99 latency', better: 'lower', format: fmt.ms },
  ],
  primary: 'rate',
  headline: '16',
  chart: { kind: 'points', metric: 'rate', xLabel: 'Connections, each with one line in flight', xScale: 'log' },
  rounds: { normal: 3, quick: 1 },
  trialTimeoutMs: { normal: 60_000, quick: 20_000 },
  notes: [
    `Each connection sends a ${LINE.length}-byte line and waits for its echo before the next (a closed loop); ${TIMING.normal.measureMs} ms measured after ${TIMING.normal.warmMs} ms of warm-up, at each number of connections. The server runs in its own process.`,
    "An echo server does almost nothing per line, so this measures the cost of your 'data' handler: splitting at newlines, concatenating, copying. Lesson 04, \"Measure it\", says what to look for.",
  ],
  helpers: {
    async serve([subject, dir], ready) {
      if (subject === 'baseline') {
        const server = net.createServer((s) => {
          s.on('error', () => {});
          s.pipe(s);
        });
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        ready((server.address() as net.AddressInfo).port);
      } else {
        const { EchoServer } = (await import(pathToFileURL(path.join(dir!, 'exercise.ts')).href)) as typeof Exercise;
        const address = await new EchoServer({ port: 0, host: '127.0.0.1' }).start();
        if (!('port' in address)) throw new Error(`start() resolved with ${JSON.stringify(address)}, not a TCP address`);
        ready(address.port);
      }
      await new Promise(() => {});
    },
  },
  async trial(ctx) {
    const timing = ctx.quick ? TIMING.quick : TIMING.normal;
    const server = await ctx.startHelper('serve', [ctx.subject, ctx.dir]);
    try {
      const rate: Record<string, number[]> = {};
      const tail: Record<string, number[]> = {};
      for (const n of CONNECTIONS) {
        const r = await load(server.ready as number, n, timing.warmMs, timing.measureMs);
        rate[String(n)] = [r.rate];
        tail[String(n)] = [r.p99];
      }
      return { samples: { rate, p99: tail } };
    } finally {
      await server.stop();
    }
  },
});
