/**
 * Chapter 09: how fast a length-prefix decoder turns a stream into frames, by frame size, fed in
 * 64 KiB chunks as a socket delivers them. The learner's and the reference LengthPrefixDecoder,
 * against a naive decoder that joins every chunk to what it holds with Buffer.concat and cuts
 * frames with subarray (the baseline), and against a plain copy of the same bytes (the ceiling:
 * what any decoder that hands out copies must at least do). Every frame is checked on arrival.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Exercise from '../../solutions/09-framing/exercise.ts';
import { defineBenchmark, fmt } from '../framework.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZES = [64, KiB, 64 * KiB, MiB];
/** Bytes a socket hands to a 'data' handler at a time, at most (Node reads 64 KiB). */
const CHUNK = 64 * KiB;
/** Bytes of frames per run, at every size. */
const TOTAL = { normal: 32 * MiB, quick: 4 * MiB };
/** Timed samples per size in each trial, after an untimed warm-up. */
const TIMED_RUNS = 3;
/**
 * The least time one sample covers, in whole passes over the stream. One pass over 32 MiB takes a few
 * milliseconds at these speeds: too short to time alone, when one garbage collection can double it.
 */
const SAMPLE_MS = { normal: 250, quick: 40 };

/** What every subject offers: take a chunk, call back with each frame (or, for the ceiling, each copy). */
interface Decoder {
  push(chunk: Uint8Array): void;
}

/** The baseline: the decoder of many a first attempt. One concat per chunk, frames as views. */
class ConcatDecoder implements Decoder {
  #held: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (frame: Uint8Array) => void) {}
  push(chunk: Uint8Array): void {
    this.#held = Buffer.concat([this.#held, chunk]);
    while (this.#held.length >= 4) {
      const length = this.#held.readUInt32BE(0);
      if (this.#held.length < 4 + length) return;
      this.onFrame(this.#held.subarray(4, 4 + length));
      this.#held = this.#held.subarray(4 + length);
    }
  }
}

/** The ceiling: every byte copied once into memory of its own, and nothing else. */
class PlainCopy implements Decoder {
  copied = 0;
  push(chunk: Uint8Array): void {
    this.copied += new Uint8Array(chunk).length;
  }
}

/** `total` bytes of frames of `size` bytes, each marked with its number (mod 256) at both ends, cut into chunks. */
function stream(size: number, total: number): { chunks: Buffer[]; frames: number; bytes: number } {
  const frames = Math.max(1, Math.floor(total / (size + 4)));
  const bytes = Buffer.alloc(frames * (size + 4), 0x5a);
  for (let i = 0, at = 0; i < frames; i++, at += size + 4) {
    bytes.writeUInt32BE(size, at);
    bytes[at + 4] = i & 0xff;
    bytes[at + 3 + size] = i & 0xff;
  }
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += CHUNK) chunks.push(bytes.subarray(at, at + CHUNK));
  return { chunks, frames, bytes: bytes.length };
}

/** Decode the stream once; resolves with the ms it took. Throws when a frame arrived wrong or one is missing. */
function run(make: (onFrame: (frame: Uint8Array) => void) => Decoder, s: ReturnType<typeof stream>, size: number, ceiling: boolean): number {
  let n = 0;
  let wrong: string | undefined;
  const onFrame = (frame: Uint8Array) => {
    if (wrong === undefined && (frame.length !== size || frame[0] !== (n & 0xff) || frame[size - 1] !== (n & 0xff))) {
      wrong = `frame #${n} of ${size} B arrived as ${frame.length} B starting ${frame[0]}`;
    }
    n++;
  };
  const decoder = make(onFrame);
  const started = performance.now();
  for (const chunk of s.chunks) decoder.push(chunk);
  const ms = performance.now() - started;
  if (ceiling) {
    if ((decoder as PlainCopy).copied !== s.bytes) throw new Error(`the copy moved ${(decoder as PlainCopy).copied} of ${s.bytes} bytes`);
    return ms;
  }
  if (wrong !== undefined || n !== s.frames) {
    throw new Error(`${wrong ?? `${n} of ${s.frames} frames arrived`}; run the chapter's tests: npm run workbook -- check 09`);
  }
  return ms;
}

export default defineBenchmark({
  chapter: '09-framing',
  title: 'Length-prefix decoding in 64 KiB chunks: the decoder vs Buffer.concat, and a plain copy',
  labels: { learner: 'your decoder', reference: 'reference decoder', baseline: 'Buffer.concat', ceiling: 'plain copy' },
  points: SIZES.map((s) => ({ key: String(s), label: fmt.bytes(s), x: s })),
  axis: 'frame size',
  metrics: [
    { key: 'throughput', label: 'throughput', better: 'higher', format: (v) => `${fmt.si(v)}B/s` },
    { key: 'frames', label: 'frames/s', better: 'higher', format: fmt.si },
  ],
  primary: 'throughput',
  headline: String(64 * KiB),
  chart: { kind: 'points', metric: 'throughput', xLabel: 'Frame size', xScale: 'log', yScale: 'log' },
  rounds: { normal: 5, quick: 1 },
  trialTimeoutMs: { normal: 120_000, quick: 30_000 },
  notes: [
    `Each run decodes ${TOTAL.normal / MiB} MiB of frames (${TOTAL.quick / MiB} MiB with --quick), header included, handed over in ${CHUNK / KiB} KiB chunks as a socket's 'data' events deliver them, so frames of 64 KiB and more span chunks. Each trial warms up at each size, then takes ${TIMED_RUNS} samples, each at least ${SAMPLE_MS.normal} ms of whole passes over the stream. frames/s for the plain copy counts the frames its bytes hold.`,
    'The plain copy copies every byte once into new memory: the least a decoder that hands out copies must do. Buffer.concat copies what it holds again with every chunk, which is cheap while frames are small and grows with the square of a frame that spans many chunks; its frames are views, not copies. Lesson 09, "Measure it", reads the figures.',
  ],
  async trial(ctx) {
    const total = ctx.quick ? TOTAL.quick : TOTAL.normal;
    const ceiling = ctx.subject === 'ceiling';
    let make: (onFrame: (frame: Uint8Array) => void) => Decoder;
    if (ceiling) make = () => new PlainCopy();
    else if (ctx.subject === 'baseline') make = (onFrame) => new ConcatDecoder(onFrame);
    else {
      const { LengthPrefixDecoder } = (await import(pathToFileURL(path.join(ctx.dir, 'exercise.ts')).href)) as typeof Exercise;
      make = (onFrame) => new LengthPrefixDecoder(onFrame, { maxFrameSize: MiB });
    }
    const throughput: Record<string, number[]> = {};
    const frames: Record<string, number[]> = {};
    // Largest frames first: the small ones leave hundreds of thousands of dead frames for the
    // garbage collector, which would otherwise still be sweeping them while a later size is timed.
    for (const size of [...SIZES].reverse()) {
      const s = stream(size, total);
      const sampleMs = ctx.quick ? SAMPLE_MS.quick : SAMPLE_MS.normal;
      /** Pass over the stream until at least `least` ms have gone by: how many passes, in how long. */
      const passes = (least: number) => {
        let ms = 0;
        let n = 0;
        while (ms < least) {
          ms += run(make, s, size, ceiling);
          n++;
        }
        return { n, seconds: ms / 1000 };
      };
      // An untimed warm-up lets the JIT and the heap settle; then several timed samples.
      passes(sampleMs / 2);
      throughput[String(size)] = [];
      frames[String(size)] = [];
      for (let i = 0; i < TIMED_RUNS; i++) {
        const { n, seconds } = passes(sampleMs);
        throughput[String(size)]!.push((n * s.bytes) / seconds);
        frames[String(size)]!.push((n * s.frames) / seconds);
      }
    }
    return { samples: { throughput, frames } };
  },
});
