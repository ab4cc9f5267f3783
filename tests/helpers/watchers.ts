/**
 * Watching what the code under test leaves behind or throws where nobody listens: the timers it
 * starts, the sockets it holds, and the exceptions its event handlers throw. Used by the chapters whose servers and
 * clients run on real timers and sockets.
 */
import { onCleanup } from './cleanup.ts';

/**
 * Watch the timers that `file` (the learner's module) starts with setTimeout/setInterval from now on,
 * on the real clock. `pending()` lists those still armed and holding the process (not fired, not
 * cleared, not unref'd); `started()` counts them all. (Counting 'Timeout' in getActiveResourcesInfo
 * would also count the test runner's own short-lived timers.)
 */
export function watchTimersOf(file: string): { pending: () => string[]; started: () => number } {
  const started: { timer: NodeJS.Timeout; what: string }[] = [];
  const g = globalThis as unknown as Record<'setTimeout' | 'setInterval', (...args: unknown[]) => NodeJS.Timeout>;
  const originals = { setTimeout: g.setTimeout, setInterval: g.setInterval };
  for (const name of ['setTimeout', 'setInterval'] as const) {
    const original = originals[name];
    g[name] = function (this: unknown, ...args: unknown[]) {
      const timer = original.apply(this, args);
      const stack = new Error().stack ?? '';
      if (stack.includes(file)) started.push({ timer, what: `a ${name}(..., ${String(args[1])}) of yours` });
      return timer;
    } as (typeof g)[typeof name];
  }
  onCleanup('timer watcher', () => Object.assign(g, originals));
  return {
    pending: () => started.filter(({ timer }) => !(timer as unknown as { _destroyed: boolean })._destroyed && timer.hasRef()).map((t) => t.what),
    started: () => started.length,
  };
}

/** The process events that would crash a test run: a throw nobody catches, a rejection nobody handles. */
export type CrashEvent = 'uncaughtException' | 'unhandledRejection';

/**
 * Run `work` with this process's handlers of `events` swapped for one that records instead of letting the
 * test run crash: an 'error' event that the code under test does not listen for, a throw in one of its
 * handlers, or (with 'unhandledRejection') a rejected promise nobody handles. The test's own listeners
 * are put back afterwards, even when `work` fails.
 */
export async function recordingCrashes<T>(work: (crashes: unknown[]) => Promise<T>, events: readonly CrashEvent[] = ['uncaughtException', 'unhandledRejection']): Promise<T> {
  const crashes: unknown[] = [];
  type Listener = (...a: unknown[]) => void;
  const proc = process as unknown as { on(e: string, l: Listener): void; off(e: string, l: Listener): void; listeners(e: string): Listener[] };
  const saved = events.map((e) => proc.listeners(e));
  const record = (err: unknown) => crashes.push(err);
  events.forEach((e, i) => {
    for (const l of saved[i]!) proc.off(e, l);
    proc.on(e, record);
  });
  const restore = () =>
    events.forEach((e, i) => {
      proc.off(e, record);
      for (const l of saved[i]!) if (!proc.listeners(e).includes(l)) proc.on(e, l);
    });
  onCleanup('crash recorder', restore);
  try {
    return await work(crashes);
  } finally {
    restore();
  }
}

/** recordingCrashes for uncaught exceptions only (rejections still fail the test as usual). */
export function recordingUncaught<T>(work: (uncaught: unknown[]) => Promise<T>): Promise<T> {
  return recordingCrashes(work, ['uncaughtException']);
}

/** The socket and server handles this process holds (compared with a snapshot, so the runner's own pipes cancel out). */
export function handles(): string[] {
  return process.getActiveResourcesInfo().filter((r) => /^(TCP|Pipe)/.test(r));
}

/** What `now` holds beyond `before`, kind by kind: e.g. ["TCPSocketWrap"]. */
export function extraHandles(before: string[], now = handles()): string[] {
  const left = [...before];
  return now.filter((h) => {
    const i = left.indexOf(h);
    if (i === -1) return true;
    left.splice(i, 1);
    return false;
  });
}
