/**
 * Start the vitest host before the rest of the CLI loads: loading vitest is the slowest step of a
 * check, and it can overlap with loading the CLI itself. The host waits for its configuration
 * (ChapterRunner sends it). Unused, it does not keep the process alive.
 */
import { Worker } from 'node:worker_threads';

let early: Worker | undefined;
let failed = false;

/** A new vitest host thread, without tsx's loader (see host.mjs). */
export function startHost(): Worker {
  return new Worker(new URL('./host.mjs', import.meta.url), { execArgv: [] });
}

/** Start a host now, for a ChapterRunner created later. */
export function prestartHost(): void {
  if (early) return;
  early = startHost();
  early.unref();
  // Until a runner takes it, an error only marks it as unusable (the runner then starts a fresh
  // host, which reports the error properly).
  early.once('error', () => (failed = true));
  early.once('exit', () => (failed = true));
}

/** The host started early, if any and healthy (then it is the caller's); otherwise undefined. */
export function takeHost(): Worker | undefined {
  const w = early;
  early = undefined;
  if (!w || failed) return undefined;
  w.ref();
  return w;
}
