/**
 * The seeded chunker: re-splits a byte stream the ways a network may deliver it.
 * TCP keeps the bytes in order but not the boundaries, so protocol code must give the
 * same answer whether the bytes come one at a time, in random pieces, or all at once.
 */
import { randomInt, seededRandom, testSeed } from './random.ts';
import { replayHint } from './replay.ts';

/** One way of cutting a stream into chunks. */
export interface Chunking {
  /** Learner-facing description, e.g. "one byte at a time". */
  label: string;
  chunks: Uint8Array[];
}

/** Cut `bytes` at the given offsets. */
export function splitAt(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (const cut of [...offsets].sort((a, b) => a - b)) {
    if (cut > start && cut < bytes.length) {
      out.push(bytes.subarray(start, cut));
      start = cut;
    }
  }
  out.push(bytes.subarray(start));
  return out;
}

/** Random cuts of `bytes`, reproducible from `seed`. */
export function randomSplit(bytes: Uint8Array, seed: number, maxPiece = 17): Uint8Array[] {
  const rand = seededRandom(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = randomInt(rand, 1, Math.max(1, maxPiece));
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out.length ? out : [bytes];
}

/** The three standard chunkings: every byte alone, random pieces (seeded), and everything in one chunk. */
export function chunkings(bytes: Uint8Array, seed = testSeed()): Chunking[] {
  return [
    { label: 'one byte at a time', chunks: Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)) },
    { label: `random pieces (${replayHint(seed)})`, chunks: randomSplit(bytes, seed) },
    { label: 'all in one chunk', chunks: [bytes] },
  ];
}

/**
 * Run `fn` once per chunking. A failure is rethrown with the chunking (and seed) named,
 * so the learner knows which delivery pattern broke their code.
 */
export async function forEachChunking(
  bytes: Uint8Array,
  fn: (chunks: Uint8Array[], label: string) => unknown,
  seed = testSeed(),
): Promise<void> {
  for (const { label, chunks } of chunkings(bytes, seed)) {
    try {
      await fn(chunks, label);
    } catch (err) {
      if (err instanceof Error) err.message = `[input delivered ${label}, ${chunks.length} chunk(s)]\n${err.message}`;
      throw err;
    }
  }
}
