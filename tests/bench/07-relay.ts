/**
 * Chapter 07 measurement: what a relay holds while it moves 100 MiB to a consumer that keeps stopping.
 *
 *   npx tsx tests/bench/07-relay.ts                          your relay (chapters/), next to two references
 *   WORKBOOK_IMPL=solutions npx tsx tests/bench/07-relay.ts   the reference solution
 *
 * The same scenario as the suite's load test, without its bound: the producer writes as fast as
 * its socket takes bytes, the consumer stops reading every 10 MiB until the producer is blocked.
 * For each relay it prints the time, the most it held (sampled every millisecond from its sockets'
 * readableLength + writableLength and its own stats().buffered), and the growth of the process's
 * buffer memory. The references are `pipe` both ways, and a relay that ignores write()'s return value.
 */
import { once } from 'node:events';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { implFile } from '../helpers/impl.ts';

const MiB = 1024 * 1024;
const HWM = 64 * 1024;
const CHUNK = 64 * 1024;
const TOTAL = 100 * MiB;
const PAUSE_EVERY = 10 * MiB;
const BLOCKED_MS = 15;
const MAX_GAP = 32 * MiB;

type RelayFn = (a: net.Socket, b: net.Socket) => { stats(): { buffered: number } };
const held = (s: net.Socket) => s.readableLength + s.writableLength;

/** `pipe` both ways: Node's own backpressure. */
const pipeRelay: RelayFn = (a, b) => {
  a.pipe(b);
  b.pipe(a);
  return { stats: () => ({ buffered: held(a) + held(b) }) };
};

/** Writes every chunk at once and ignores write()'s return value: the leak of this chapter. */
const leakyRelay: RelayFn = (a, b) => {
  a.on('data', (d: Buffer) => b.write(d));
  b.on('data', (d: Buffer) => a.write(d));
  a.on('end', () => b.end());
  b.on('end', () => a.end());
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

async function measure(name: string, relay: RelayFn, print = true): Promise<void> {
  const [producer, a] = await pair(undefined, HWM);
  const [b, consumer] = await pair(HWM);
  for (const s of [producer, a, b, consumer]) s.on('error', () => {});
  const r = relay(a, b);
  const chunk = Buffer.alloc(CHUNK, 0x5a);
  let sent = 0;
  let received = 0;
  let blockedSince: number | undefined;
  let max = 0;
  let maxExternal = 0;
  const external0 = process.memoryUsage().arrayBuffers;
  const sample = () => (max = Math.max(max, held(a) + held(b), r.stats().buffered));
  const sampler = setInterval(() => {
    sample();
    maxExternal = Math.max(maxExternal, process.memoryUsage().arrayBuffers - external0);
  }, 1);
  const t0 = performance.now();
  let nextPause = PAUSE_EVERY;
  consumer.on('data', (d: Buffer) => {
    received += d.length;
    sample();
    if (received < nextPause) return;
    nextPause += PAUSE_EVERY;
    consumer.pause();
    const since = performance.now();
    const poll = setInterval(() => {
      const now = performance.now();
      if ((blockedSince !== undefined && now - blockedSince >= BLOCKED_MS) || sent - received >= MAX_GAP || now - since > 1_000) {
        clearInterval(poll);
        consumer.resume();
      }
    }, 2);
  });
  const ended = once(consumer, 'end');
  while (sent < TOTAL) {
    sent += CHUNK;
    if (!producer.write(chunk)) {
      blockedSince = performance.now();
      await once(producer, 'drain');
      blockedSince = undefined;
    }
  }
  producer.end();
  await ended;
  const ms = performance.now() - t0;
  clearInterval(sampler);
  for (const s of [producer, a, b, consumer]) s.destroy();
  const mib = (n: number) => `${(n / MiB).toFixed(2)} MiB`;
  if (print) console.log(
    `${name.padEnd(24)} ${(ms / 1000).toFixed(2)} s  ${((TOTAL / MiB / ms) * 1000).toFixed(0).padStart(4)} MiB/s  held at most ${mib(max).padStart(10)}  buffer memory +${mib(maxExternal)}`,
  );
}

const file = implFile('07-streams-and-backpressure', 'relay.ts');
const mod = (await import(pathToFileURL(file).href)) as { relay: RelayFn };
console.log(`Moving ${TOTAL / MiB} MiB through each relay (highWaterMark ${HWM / 1024} KiB); the suite's bound is 1 MiB.\n`);
// One unmeasured transfer first, so the first relay measured does not pay for JIT warm-up.
await measure('warm-up', pipeRelay, false);
try {
  await measure(`relay (${process.env.WORKBOOK_IMPL ?? 'chapters'})`, mod.relay);
} catch (err) {
  console.log(`relay (${process.env.WORKBOOK_IMPL ?? 'chapters'}): ${(err as Error).message}`);
}
await measure('pipe both ways', pipeRelay);
await measure('ignores write() = false', leakyRelay);
process.exit(0);
