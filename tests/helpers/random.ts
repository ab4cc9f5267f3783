/** Seeded randomness, so that every "random" test can be replayed exactly. */

/** A small, fast, seeded PRNG (mulberry32). Returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [min, max] from a PRNG. */
export function randomInt(rand: () => number, min: number, max: number): number {
  return min + Math.floor(rand() * (max - min + 1));
}

/** Random bytes from a PRNG. */
export function randomBytes(rand: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

let processSeed: number | undefined;

/**
 * The seed for this test process: WORKBOOK_SEED when set (to replay a failure),
 * otherwise a fresh one. Failure messages print it.
 */
export function testSeed(): number {
  if (processSeed === undefined) {
    const fromEnv = process.env.WORKBOOK_SEED;
    processSeed = fromEnv && /^\d+$/.test(fromEnv) ? Number(fromEnv) : Math.floor(Math.random() * 2 ** 31);
  }
  return processSeed;
}
