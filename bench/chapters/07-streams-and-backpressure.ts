/**
 * Chapter 07: what a relay holds while it moves a large transfer to a consumer that keeps
 * stopping. The producer writes as fast as its socket takes bytes; every 8 MiB the consumer stops
 * reading until the producer is blocked. Measured: throughput, the most the relay held (sampled
 * every millisecond from its sockets' readableLength + writableLength and its own
 * stats().buffered), and those bytes over time, against Node's own `pipeline()` both ways.
 */
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type * as Relay from '../../solutions/07-streams-and-backpressure/relay.ts';
import { defineBenchmark, fmt } from '../framework.ts';

const MiB = 1024 * 1024;
const HWM = 64 * 1024;
const CHUNK = 64 * 1024;
const TOTAL = { normal: 32 * MiB, quick: 16 * MiB };
const PAUSE_EVERY = 4 * MiB;
const BLOCKED_MS = 15;
/** A pause ends after this long even if the producer never blocks (the kernel's buffers took it all). */
const GIVE_UP_MS = 200;
const MAX_POINTS = 300;

type RelayFn = (a: net.Socket, b: net.Socket) => { stats(): { buffered: number } };
const held = (s: net.Socket) => s.readableLength + s.writableLength;

/** Node's own backpressure: pipeline() each way. */
const pipelineRelay: RelayFn = (a, b) => {
  pipeline(a, b, () => {});
  pipeline(b, a, () => {});
  return { stats: () => ({ buffered: held(a) + held(b) }) };
};

async function pair(clientHwm?: number, serverHwm?: number): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer({ allowHalfOpen: true, ...(serverHwm ? { highWaterMark: serverHwm } : {}) });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const { port } = server.address() as net.AddressInfo;
  const client = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true, ...(clientHwm ? { highWaterMark: clientHwm } : {}) });
  await once(client, 'connect');
  const [s] = await accepted;
  server.close();
  return [client, s];
}

/** At most `max` points: the largest y of each run of neighbours, so peaks survive. */
function thin(points: [number, number][], max: number): [number, number][] {
  if (points.length <= max) return points;
  const size = Math.ceil(points.length / max);
  const out: [number, number][] = [];
  for (let i = 0; i < points.length; i += size) {
    const bucket = points.slice(i, i + size);
    out.push(bucket.reduce((a, p) => (p[1] > a[1] ? p : a)));
  }
  return out;
}

/** Move `total` bytes producer -> a -> relay -> b -> consumer; returns time, peak, and the samples. */
async function transfer(relay: RelayFn, total: number) {
  const [producer, a] = await pair(undefined, HWM);
  const [b, consumer] = await pair(HWM);
  for (const s of [producer, a, b, consumer]) s.on('error', () => {});
  const r = relay(a, b);
  const chunk = Buffer.alloc(CHUNK, 0x5a);
  let sent = 0;
  let received = 0;
  let blockedSince: number | undefined;
  let peak = 0;
  const series: [number, number][] = [];
  const t0 = performance.now();
  const sample = () => {
    const now = Math.max(held(a) + held(b), r.stats().buffered);
    peak = Math.max(peak, now);
    return now;
  };
  const sampler = setInterval(() => series.push([performance.now() - t0, sample()]), 1);
  let nextPause = PAUSE_EVERY;
  consumer.on('data', (d: Buffer) => {
    received += d.length;
    sample();
    if (received < nextPause || received >= total) return;
    nextPause += PAUSE_EVERY;
    consumer.pause();
    const since = performance.now();
    const poll = setInterval(() => {
      const now = performance.now();
      if ((blockedSince !== undefined && now - blockedSince >= BLOCKED_MS) || now - since > GIVE_UP_MS) {
        clearInterval(poll);
        consumer.resume();
      }
    }, 2);
  });
  const ended = once(consumer, 'end');
  try {
    while (sent < total) {
      sent += CHUNK;
      if (!producer.write(chunk)) {
        blockedSince = performance.now();
        await once(producer, 'drain');
        blockedSince = undefined;
      }
    }
    producer.end();
    await ended;
    if (received !== total) throw new Error(`the consumer received ${received} of ${total} bytes`);
    return { ms: performance.now() - t0, peak, series };
  } finally {
    clearInterval(sampler);
    for (const s of [producer, a, b, consumer]) s.destroy();
  }
}

export default defineBenchmark({
  chapter: '07-streams-and-backpressure',
  title: 'Relay: bytes held while moving a transfer to a stop-and-go consumer',
  labels: { learner: 'your relay', reference: 'reference relay', baseline: 'pipeline()' },
  points: [{ key: 'transfer', label: 'transfer', x: 1 }],
  axis: 'run',
  metrics: [
    { key: 'throughput', label: 'MiB/s', better: 'higher', format: fmt.si },
    { key: 'peak', label: 'held at most', better: 'lower', format: fmt.bytes },
  ],
  primary: 'peak',
  headline: 'transfer',
  chart: {
    kind: 'series',
    xLabel: 'Time since the first byte',
    yLabel: 'Held by the relay',
    formatX: (ms) => fmt.ms(ms),
    formatY: (kib) => `${kib} KiB`,
  },
  rounds: { normal: 3, quick: 1 },
  trialTimeoutMs: { normal: 60_000, quick: 20_000 },
  notes: [
    `${TOTAL.normal / MiB} MiB (${TOTAL.quick / MiB} MiB with --quick) through each relay. The consumer stops every ${PAUSE_EVERY / MiB} MiB until the producer is blocked; sockets' highWaterMark ${HWM / 1024} KiB. The suite's bound is 1 MiB held.`,
    'A relay that respects write() holds about the same as pipeline(): its sockets\' buffers, and nothing of its own. One that ignores it climbs with every pause. Lesson 07, "Measure it", shows the chart.',
  ],
  async trial(ctx) {
    const total = ctx.quick ? TOTAL.quick : TOTAL.normal;
    const relay: RelayFn =
      ctx.subject === 'baseline' ? pipelineRelay : ((await import(pathToFileURL(path.join(ctx.dir, 'relay.ts')).href)) as typeof Relay).relay;
    // One unmeasured transfer first, so the measured one does not pay for the JIT's warm-up.
    await transfer(relay, Math.min(total, 8 * MiB));
    const t = await transfer(relay, total);
    return {
      samples: { throughput: { transfer: [total / MiB / (t.ms / 1000)] }, peak: { transfer: [t.peak] } },
      // In KiB, so that the axis ticks fall on round numbers of KiB.
      series: thin(t.series, MAX_POINTS).map(([x, y]) => [x, y / 1024]),
    };
  },
});
