/**
 * Property tests on fast-check (https://fast-check.dev): random cases drawn from arbitraries,
 * seeded and replayable, and shrunk on failure to the smallest case that still fails, so a learner
 * reads "fails for ::1:0:0:0:0:1" rather than a 200-character random input.
 *
 * The seed is the process's test seed (WORKBOOK_SEED, see random.ts). A failure message ends with
 * the exact replay command, including fast-check's path to the shrunk case (WORKBOOK_FC_PATH).
 * A learner's pass never depends on the seed: every rule also has a fixed case in the suite.
 */
import fc from 'fast-check';
import { testSeed } from './random.ts';
import { replayHint } from './replay.ts';

export { fc };

/** Options of `forAll` / `forAllSync`. */
export interface PropertyOptions<T> {
  /** How many random cases to try (fast-check's default is 100). */
  numRuns?: number;
  /** The failing case in words, for the message (default: fast-check's own rendering). */
  show?: (value: T) => string;
  /** Skip shrinking (for properties whose every run is slow, such as a real network round trip). */
  noShrink?: boolean;
}

const pathFromEnv = () => process.env.WORKBOOK_FC_PATH || undefined;

function failure<T>(details: fc.RunDetails<[T]>, seed: number, o: PropertyOptions<T>): Error {
  const value = details.counterexample?.[0] as T;
  const shown = o.show ? o.show(value) : fc.stringify(value);
  const cause = details.errorInstance;
  const base = cause instanceof Error ? cause : new Error(String(cause ?? 'the property does not hold'));
  const shrunk = details.numShrinks > 0 ? ` (fast-check shrank a random case ${details.numShrinks} times to this one)` : '';
  base.message = `${base.message}\n\nFails for: ${shown}${shrunk}\n${replayHint(seed, details.counterexamplePath ?? undefined)}`;
  return base;
}

function parameters(seed: number, o: PropertyOptions<unknown>) {
  const path = pathFromEnv();
  return { seed, path, numRuns: o.numRuns, endOnFailure: o.noShrink ?? false };
}

/** Check an asynchronous (or synchronous) `check` on random cases from `arb`; throws the shrunk failure. */
export async function forAll<T>(arb: fc.Arbitrary<T>, check: (value: T) => unknown, o: PropertyOptions<T> = {}): Promise<void> {
  const seed = testSeed();
  const details = await fc.check(
    fc.asyncProperty(arb, async (v) => {
      await check(v);
    }),
    parameters(seed, o as PropertyOptions<unknown>),
  );
  if (details.failed) throw failure(details as fc.RunDetails<[T]>, seed, o);
}

/** `forAll` for a synchronous `check`: runs faster, for pure functions and many cases. */
export function forAllSync<T>(arb: fc.Arbitrary<T>, check: (value: T) => unknown, o: PropertyOptions<T> = {}): void {
  const seed = testSeed();
  const details = fc.check(
    fc.property(arb, (v) => {
      check(v);
    }),
    parameters(seed, o as PropertyOptions<unknown>),
  );
  if (details.failed) throw failure(details as fc.RunDetails<[T]>, seed, o);
}
