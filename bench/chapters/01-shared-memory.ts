/**
 * Chapter 01: how many messages a second go from a Worker to the main thread, by message size,
 * through the ring (the learner's and the reference) and through postMessage on a MessagePort
 * (the Worker's parentPort), which copies every message. Every message is checked on arrival.
 */
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type * as Exercise from '../../solutions/01-shared-memory/exercise.ts';
import { defineBenchmark, fmt } from '../framework.ts';

const SIZES = [16, 64, 1024, 16384];
/** Messages per run at each size. */
const COUNT: Record<number, number> = { 16: 100_000, 64: 100_000, 1024: 40_000, 16384: 8_000 };
const QUICK_DIVISOR = 20;
/** Timed runs per size in each trial, after one untimed run. */
const TIMED_RUNS = 3;
const CAPACITY = 2 ** 18;
const WAIT_MS = 10_000;

const self = fileURLToPath(import.meta.url);
const bootstrap = path.join(path.dirname(self), '..', 'ts-worker.mjs');

type Mode = 'ring' | 'port';
interface SenderData {
  entry: string;
  role: '01-sender';
  mode: Mode;
  file: string;
  buffer?: SharedArrayBuffer;
}

/** The Worker's side: send what the main thread asks for, as fast as it can. */
async function sender(data: SenderData): Promise<void> {
  const port = parentPort!;
  const channel = data.mode === 'ring' ? new ((await import(pathToFileURL(data.file).href)) as typeof Exercise).Channel(data.buffer!) : undefined;
  port.on('message', ({ size, count }: { size: number; count: number }) => {
    const message = new Uint8Array(size).fill(0x5a);
    for (let i = 0; i < count; i++) {
      message[0] = i & 0xff;
      if (channel) channel.send(message, WAIT_MS);
      else port.postMessage(message);
    }
  });
  port.postMessage('ready');
}

if (!isMainThread && (workerData as SenderData | undefined)?.role === '01-sender') await sender(workerData as SenderData);

function check(message: Uint8Array | undefined, i: number, size: number): void {
  if (!message || message.length !== size || message[0] !== (i & 0xff) || message[size - 1] !== (size === 1 ? i & 0xff : 0x5a)) {
    throw new Error(`message #${i} of ${size} B arrived wrong (${message ? `${message.length} B starting ${message[0]}` : 'nothing'}); run the chapter's tests: npm run workbook -- check 01`);
  }
}

export default defineBenchmark({
  chapter: '01-shared-memory',
  title: 'Worker to main thread: the ring vs postMessage on a MessagePort',
  labels: { learner: 'your ring', reference: 'reference ring', baseline: 'MessagePort' },
  points: SIZES.map((s) => ({ key: String(s), label: fmt.bytes(s), x: s })),
  axis: 'size',
  metrics: [{ key: 'rate', label: 'messages/s', better: 'higher', format: fmt.si }],
  primary: 'rate',
  headline: '64',
  chart: { kind: 'points', metric: 'rate', xLabel: 'Message size', xScale: 'log', yScale: 'log' },
  rounds: { normal: 5, quick: 1 },
  trialTimeoutMs: { normal: 60_000, quick: 20_000 },
  notes: [
    `Each run sends ${COUNT[64]!.toLocaleString('en')} messages of 16 or 64 B (fewer of the larger sizes) from a Worker; the main thread receives them with receive() (the ring) or a 'message' listener (the port). Each trial makes one untimed run per size, then ${TIMED_RUNS} timed ones, each a sample.`,
    'Small messages show the per-message costs: notify, allocation, the trip through the runtime. At 16 KiB both spend their time copying bytes. Lesson 01, "Making it fast", explains the difference.',
  ],
  async trial(ctx) {
    const mode: Mode = ctx.subject === 'baseline' ? 'port' : 'ring';
    const file = path.join(ctx.dir, 'exercise.ts');
    const channel = mode === 'ring' ? ((await import(pathToFileURL(file).href)) as typeof Exercise).Channel.create(CAPACITY) : undefined;
    const data: SenderData = { entry: self, role: '01-sender', mode, file, buffer: channel?.buffer };
    const worker = new Worker(bootstrap, { workerData: data, execArgv: [] });
    worker.on('error', () => {});
    try {
      await once(worker, 'message');
      /** Have the Worker send `count` messages of `size` bytes; resolves with the ms until the last one arrived. */
      const run = async (size: number, count: number): Promise<number> => {
        const started = performance.now();
        if (channel) {
          worker.postMessage({ size, count });
          for (let i = 0; i < count; i++) check(channel.receive(WAIT_MS), i, size);
          return performance.now() - started;
        }
        let i = 0;
        const all = new Promise<void>((resolve, reject) => {
          const onMessage = (m: Uint8Array) => {
            try {
              check(m, i, size);
            } catch (err) {
              worker.off('message', onMessage);
              reject(err as Error);
            }
            if (++i === count) {
              worker.off('message', onMessage);
              resolve();
            }
          };
          worker.on('message', onMessage);
        });
        worker.postMessage({ size, count });
        await all;
        return performance.now() - started;
      };
      const samples: Record<string, number[]> = {};
      for (const size of SIZES) {
        const count = Math.ceil(COUNT[size]! / (ctx.quick ? QUICK_DIVISOR : 1));
        // One untimed run lets the JIT and the heap settle; then several timed ones, each a sample.
        await run(size, count);
        samples[String(size)] = [];
        for (let i = 0; i < TIMED_RUNS; i++) samples[String(size)]!.push((count / (await run(size, count))) * 1000);
      }
      return { samples: { rate: samples } };
    } finally {
      await worker.terminate();
    }
  },
});
