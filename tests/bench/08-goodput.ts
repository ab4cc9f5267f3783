/**
 * Chapter 08 measurement: goodput of the sliding-window protocol over the simulated channel at
 * 0%, 5% and 20% loss (both ways), as a fraction of the lossless run.
 *
 *   npx tsx tests/bench/08-goodput.ts                              the reference solution
 *   WORKBOOK_IMPL=chapters npx tsx tests/bench/08-goodput.ts       your own sender and receiver
 *
 * Every run moves the same 256 KiB with the same window over the same path, on a fake clock, so
 * the figures are simulated time, identical on any machine. Goodput is bytes delivered divided by
 * the time until the FIN is acknowledged; each row is the median of several seeds. Two columns:
 * the 200 ms minimum RTO the suite uses (as Linux does), and RFC 6298's 1 s minimum.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as SenderModule from '../../chapters/08-reliable-delivery/exercise.ts';
import type * as ReceiverModule from '../../chapters/08-reliable-delivery/receiver.ts';
import { chapterDir, resolveImpl } from '../../engine/impl.ts';
import { FakeClock } from '../helpers/clock.ts';
import { SimChannel } from '../helpers/sim-channel.ts';

const ID = '08-reliable-delivery';
const BYTES = 256 * 1024;
const MSS = 1_000;
const WINDOW = 32_000;
const ONE_WAY_MS = 25;
const SEEDS = 21;
const LOSSES = [0, 0.05, 0.2];
const MIN_RTOS = [200, 1_000];

const impl = resolveImpl(process.env.WORKBOOK_IMPL ?? 'solutions');
const dir = chapterDir(impl, ID);
const load = <T,>(file: string) => import(pathToFileURL(path.join(dir, file)).href) as Promise<T>;
const { Sender } = await load<typeof SenderModule>('exercise.ts');
const { Receiver } = await load<typeof ReceiverModule>('receiver.ts');

/** A deterministic byte pattern (the bytes do not matter here, only that they arrive). */
const data = Uint8Array.from({ length: BYTES }, (_, i) => (i * 2654435761) >>> 24);

interface Result {
  /** Simulated ms until the sender was done. */
  ms: number;
  timeouts: number;
}

/** One transfer over a channel that loses `loss` of the datagrams each way; throws if it goes wrong. */
function transfer(seed: number, loss: number, minRto: number): Result {
  const clock = new FakeClock();
  const isn = (seed * 0x9e3779b1) >>> 0;
  const impair = { loss, delayMs: ONE_WAY_MS };
  const parts: Uint8Array[] = [];
  let sender!: SenderModule.Sender;
  let receiver!: ReceiverModule.Receiver;
  const toReceiver = new SimChannel({ clock, seed, name: 'data', impair, deliver: (d) => receiver.receive(d) });
  const toSender = new SimChannel({ clock, seed, name: 'ack', impair, deliver: (d) => sender.receive(d) });
  receiver = new Receiver({ isn, windowBytes: WINDOW, transmit: (d) => toSender.send(d), deliver: (b) => parts.push(Uint8Array.from(b)) });
  sender = new Sender({ clock, isn, mss: MSS, windowBytes: WINDOW, rto: { minRto }, transmit: (d) => toReceiver.send(d) });
  sender.write(data);
  sender.end();
  while (!sender.done) {
    const next = clock.nextAt();
    if (next === undefined || next > 24 * 3_600_000) throw new Error(`seed ${seed}, loss ${loss}: the transfer stalled at ${clock.now()} ms`);
    clock.advance(next - clock.now());
  }
  if (!Buffer.concat(parts).equals(Buffer.from(data))) throw new Error(`seed ${seed}, loss ${loss}: the bytes delivered differ from the bytes sent`);
  return { ms: clock.now(), timeouts: sender.stats.timeouts };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const kbps = (ms: number) => BYTES / 1024 / (ms / 1000);

const started = performance.now();
const rows = LOSSES.map((loss) =>
  MIN_RTOS.map((minRto) => {
    const runs = Array.from({ length: SEEDS }, (_, i) => transfer(i + 1, loss, minRto));
    return { ms: median(runs.map((r) => r.ms)), timeouts: median(runs.map((r) => r.timeouts)) };
  }),
);

const pad = (s: string, n: number) => s.padStart(n);
const cell = (time: string, goodput: string, fraction: string, timeouts: string) => `${pad(time, 9)}${pad(goodput, 13)}${pad(fraction, 8)}${pad(timeouts, 10)}`;
const width = cell('', '', '', '').length;
console.log(`Goodput of ${impl.label === 'solutions' ? 'the reference solution' : impl.label} over the simulated channel`);
console.log(`${BYTES / 1024} KiB, MSS ${MSS} B, window ${WINDOW} B, one-way delay ${ONE_WAY_MS} ms (RTT ${2 * ONE_WAY_MS} ms), loss both ways; median of ${SEEDS} seeds\n`);
console.log(`${'loss'.padEnd(6)}|${MIN_RTOS.map((m) => ` minRto ${m} ms`.padEnd(width)).join(' |')}`);
console.log(`${''.padEnd(6)}|${MIN_RTOS.map(() => cell('time', 'goodput', 'vs 0%', 'timeouts')).join(' |')}`);
rows.forEach((row, i) => {
  const cells = row.map((r, j) => cell(`${(r.ms / 1000).toFixed(2)} s`, `${kbps(r.ms).toFixed(0)} KiB/s`, `${((rows[0]![j]!.ms / r.ms) * 100).toFixed(0)}%`, String(r.timeouts)));
  console.log(`${`${LOSSES[i]! * 100}%`.padEnd(6)}|${cells.join(' |')}`);
});
console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s of real time for ${LOSSES.length * MIN_RTOS.length * SEEDS} simulated transfers)`);
