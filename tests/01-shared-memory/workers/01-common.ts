/**
 * Shared by the chapter 01 suite and its Worker / child-process entries: the 10 MB traffic
 * pattern (so both sides know exactly which bytes message #i must hold) and error reports
 * that survive postMessage (the suite shows them with `reported` in ../harness.ts).
 */
import { randomBytes, randomInt, seededRandom } from '../../helpers/random.ts';

/** How much data the two-thread test moves. */
export const TRAFFIC_BYTES = 10 * 1024 * 1024;
/** The largest message in that traffic. */
export const TRAFFIC_MAX_MESSAGE = 16 * 1024;

/** A reproducible stream of messages: sizes from a seed, bytes from a seeded pattern. */
export interface Traffic {
  /** Size of message #i; zero-length messages included. */
  sizes: number[];
  /** Total payload bytes. */
  totalBytes: number;
  /** The exact bytes of message #i: its number in the first 4 bytes (as far as they go), then pattern. */
  message(i: number): Uint8Array;
}

/** The traffic for `seed`. Both the producer Worker and the test build it, and must agree byte for byte. */
export function traffic(seed: number, totalBytes = TRAFFIC_BYTES, maxMessage = TRAFFIC_MAX_MESSAGE): Traffic {
  const rand = seededRandom(seed);
  const sizes: number[] = [];
  let total = 0;
  while (total < totalBytes) {
    // Every 64th message is empty: a length prefix of 0 must work too.
    const n = sizes.length % 64 === 7 ? 0 : randomInt(rand, 1, maxMessage);
    sizes.push(n);
    total += n;
  }
  const pattern = randomBytes(seededRandom(seed ^ 0x5eed5), 65_536 + maxMessage);
  return {
    sizes,
    totalBytes: total,
    message(i) {
      const n = sizes[i] ?? 0;
      const start = (i * 4_099) % 65_536;
      const m = pattern.slice(start, start + n);
      for (let b = 0; b < 4 && b < n; b++) m[b] = (i >>> (8 * b)) & 0xff;
      return m;
    },
  };
}

/** What the forked child process writes into its copy of the ring. */
export const CHILD_NOTE = 'Bram (child process): got it, writing back';

/** An error, flattened so that it can cross postMessage or process IPC. */
export interface ErrorReport {
  name: string;
  code?: string;
  message: string;
  /** ChannelTimeoutError's documented fields: the method that gave up, and the timeout it was given. */
  operation?: string;
  timeoutMs?: number;
}

/** Flatten an error for postMessage. */
export function reportError(err: unknown): ErrorReport {
  const e = err as { name?: unknown; code?: unknown; message?: unknown; operation?: unknown; timeoutMs?: unknown };
  return {
    name: typeof e?.name === 'string' ? e.name : typeof err,
    code: typeof e?.code === 'string' ? e.code : undefined,
    message: typeof e?.message === 'string' ? e.message : String(err),
    operation: typeof e?.operation === 'string' ? e.operation : undefined,
    timeoutMs: typeof e?.timeoutMs === 'number' ? e.timeoutMs : undefined,
  };
}

