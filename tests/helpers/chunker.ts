/**
 * The chunker: re-splits a byte stream the ways a network may deliver it. TCP keeps the bytes in
 * order but not the boundaries, so protocol code must give the same answer whether the bytes come
 * one at a time, in random pieces, or all at once.
 *
 * The random pieces come from a fast-check arbitrary (`pieces`), so they are seeded, replayable,
 * and shrink on failure towards the fewest cuts that still break the code under test.
 */
import { fc, forAll } from './property.ts';
import { testSeed } from './random.ts';

/** One way of cutting a stream into chunks. */
export interface Chunking {
  /** Learner-facing description, e.g. "one byte at a time". */
  label: string;
  chunks: Uint8Array[];
}

/** Cut `bytes` into pieces of the given sizes; whatever is left after the last size is one more piece. */
export function cutInto(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const n of sizes) {
    if (at >= bytes.length) break;
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  if (at < bytes.length || out.length === 0) out.push(bytes.subarray(at));
  return out;
}

/** "3 + 1 + 16 bytes" */
export const describePieces = (chunks: Uint8Array[]) => `${chunks.map((c) => c.length).join(' + ')} bytes`;

/**
 * Random ways to cut `bytes` into pieces of 1..maxPiece bytes. Shrinks towards fewer cuts
 * (the empty list of sizes is "all in one chunk").
 */
export function pieces(bytes: Uint8Array, maxPiece = 17): fc.Arbitrary<Uint8Array[]> {
  return fc
    .array(fc.integer({ min: 1, max: Math.max(1, maxPiece) }), { maxLength: bytes.length })
    .map((sizes) => cutInto(bytes, sizes), (chunks) => {
      // Lets fast-check shrink a value it did not generate itself (needed for replays of a path).
      if (!Array.isArray(chunks)) throw new Error('not a list of chunks');
      return (chunks as Uint8Array[]).slice(0, -1).map((c) => c.length);
    });
}

/** The three standard chunkings: every byte alone, random pieces (from `seed`), and everything in one chunk. */
export function chunkings(bytes: Uint8Array, seed = testSeed()): Chunking[] {
  const [random] = fc.sample(pieces(bytes), { seed, numRuns: 1 });
  return [
    { label: 'one byte at a time', chunks: Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)) },
    { label: `random pieces (seed ${seed}: ${describePieces(random!)})`, chunks: random! },
    { label: 'all in one chunk', chunks: [bytes] },
  ];
}

/**
 * Run `fn` on the bytes one at a time, all in one chunk, then on `randomRuns` random cuts (a
 * fast-check property: a failure shrinks to the fewest cuts and prints its replay command). A failure
 * is rethrown with the chunking named, so the learner knows which delivery pattern broke their code.
 */
export async function forEachChunking(
  bytes: Uint8Array,
  fn: (chunks: Uint8Array[], label: string) => unknown,
  o: { randomRuns?: number } = {},
): Promise<void> {
  const attempt = async (chunks: Uint8Array[], label: string) => {
    try {
      await fn(chunks, label);
    } catch (err) {
      if (err instanceof Error) err.message = `[input delivered ${label}, ${chunks.length} chunk(s)]\n${err.message}`;
      throw err;
    }
  };
  await attempt(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)), 'one byte at a time');
  await attempt([bytes], 'all in one chunk');
  await forAll(pieces(bytes), (chunks) => attempt(chunks, `in random pieces of ${describePieces(chunks)}`), {
    numRuns: o.randomRuns ?? 5,
    show: describePieces,
  });
}
