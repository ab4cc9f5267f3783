/**
 * Chapter 08: goodput of the sliding-window protocol over the simulated channel, by loss rate
 * (the same rate both ways), against the lossless run. Every transfer moves the same 256 KiB with
 * the same window over the same path on a fake clock, so the figures are simulated time: the same
 * on any machine. Goodput is bytes delivered over the time until the FIN is acknowledged; each
 * point is the median over several seeds (different loss patterns), with their min and max.
 * The baseline is the reference over a lossless channel: the ceiling every curve starts from.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as SenderModule from '../../solutions/08-reliable-delivery/exercise.ts';
import type * as ReceiverModule from '../../solutions/08-reliable-delivery/receiver.ts';
import { FakeClock } from '../../tests/helpers/clock.ts';
import { SimChannel } from '../../tests/helpers/sim-channel.ts';
import { defineBenchmark, fmt } from '../framework.ts';

const BYTES = 256 * 1024;
const MSS = 1_000;
const WINDOW = 32_000;
const ONE_WAY_MS = 25;
const MIN_RTO_MS = 200;
const LOSSES = [0, 0.05, 0.1, 0.2, 0.3];
const SEEDS = { normal: 15, quick: 3 };
/** Simulated time after which a transfer counts as stalled. */
const STALL_MS = 24 * 3_600_000;

/** A deterministic byte pattern (the bytes do not matter here, only that they arrive intact). */
const data = Uint8Array.from({ length: BYTES }, (_, i) => (i * 2654435761) >>> 24);

/** One transfer; returns the goodput in bytes per simulated second, or throws if it goes wrong. */
function transfer(mods: { Sender: typeof SenderModule.Sender; Receiver: typeof ReceiverModule.Receiver }, seed: number, loss: number): number {
  const clock = new FakeClock();
  const isn = (seed * 0x9e3779b1) >>> 0;
  const impair = { loss, delayMs: ONE_WAY_MS };
  const parts: Uint8Array[] = [];
  let sender!: SenderModule.Sender;
  let receiver!: ReceiverModule.Receiver;
  const toReceiver = new SimChannel({ clock, seed, name: 'data', impair, deliver: (d) => receiver.receive(d) });
  const toSender = new SimChannel({ clock, seed, name: 'ack', impair, deliver: (d) => sender.receive(d) });
  receiver = new mods.Receiver({ isn, windowBytes: WINDOW, transmit: (d) => toSender.send(d), deliver: (b) => parts.push(Uint8Array.from(b)) });
  sender = new mods.Sender({ clock, isn, mss: MSS, windowBytes: WINDOW, rto: { minRto: MIN_RTO_MS }, transmit: (d) => toReceiver.send(d) });
  sender.write(data);
  sender.end();
  while (!sender.done) {
    const next = clock.nextAt();
    if (next === undefined || next > STALL_MS) throw new Error(`seed ${seed}, loss ${loss * 100}%: the transfer stalled at ${clock.now()} ms of simulated time`);
    clock.advance(next - clock.now());
  }
  if (!Buffer.concat(parts).equals(Buffer.from(data))) throw new Error(`seed ${seed}, loss ${loss * 100}%: the bytes delivered differ from the bytes sent`);
  return BYTES / (clock.now() / 1000);
}

export default defineBenchmark({
  chapter: '08-reliable-delivery',
  title: 'Sliding window: goodput by loss rate, against the lossless run',
  labels: { learner: 'your protocol', reference: 'reference protocol', baseline: 'lossless run' },
  points: LOSSES.map((l) => ({ key: String(l), label: `${l * 100}%`, x: l * 100 })),
  axis: 'loss',
  metrics: [{ key: 'goodput', label: 'goodput (simulated time)', better: 'higher', format: (v) => `${fmt.bytes(v)}/s` }],
  primary: 'goodput',
  headline: '0.05',
  chart: { kind: 'points', metric: 'goodput', xLabel: 'Datagrams lost each way (%)', xScale: 'linear', yScale: 'log' },
  rounds: { normal: 1, quick: 1 },
  trialTimeoutMs: { normal: 120_000, quick: 30_000 },
  notes: [
    `${BYTES / 1024} KiB, MSS ${MSS} B, window ${WINDOW} B, one-way delay ${ONE_WAY_MS} ms, minimum RTO ${MIN_RTO_MS} ms; ${SEEDS.normal} seeds at each loss rate (${SEEDS.quick} with --quick). Simulated time: the same on every machine.`,
    'Each lost segment costs a whole timeout, and a window with several holes waits for several. Lesson 08, "Measure it", explains the shape of the curve.',
  ],
  async trial(ctx) {
    const load = <T>(file: string) => import(pathToFileURL(path.join(ctx.dir, file)).href) as Promise<T>;
    const { Sender } = await load<typeof SenderModule>('exercise.ts');
    const { Receiver } = await load<typeof ReceiverModule>('receiver.ts');
    const seeds = Array.from({ length: ctx.quick ? SEEDS.quick : SEEDS.normal }, (_, i) => i + 1);
    const goodput: Record<string, number[]> = {};
    // The baseline is one curve at the lossless level: the reference over a channel that loses nothing.
    const lossless = ctx.subject === 'baseline' ? seeds.map((seed) => transfer({ Sender, Receiver }, seed, 0)) : undefined;
    for (const loss of LOSSES) goodput[String(loss)] = lossless ?? seeds.map((seed) => transfer({ Sender, Receiver }, seed, loss));
    return { samples: { goodput } };
  },
});
