/**
 * Watching what the code under test leaves behind or throws where nobody listens: the timers it
 * starts, and the exceptions its event handlers throw. Used by the chapters whose servers and
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

/**
 * Run `work` while recording uncaught exceptions instead of letting them crash the test run: an
 * 'error' event that the code under test does not listen for, or a throw in one of its handlers.
 * The test's own listeners are put back afterwards, even when `work` fails.
 */
export async function recordingUncaught<T>(work: (uncaught: unknown[]) => Promise<T>): Promise<T> {
  const uncaught: unknown[] = [];
  const saved = process.listeners('uncaughtException');
  const record = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', record);
  for (const l of saved) process.off('uncaughtException', l);
  const restore = () => {
    process.off('uncaughtException', record);
    for (const l of saved) if (!process.listeners('uncaughtException').includes(l)) process.on('uncaughtException', l);
  };
  onCleanup('uncaught-exception recorder', restore);
  try {
    return await work(uncaught);
  } finally {
    restore();
  }
}
