/**
 * Deadlines turn "the learner's code never answered" into a clear failure in seconds,
 * instead of a test that hangs until the runner gives up.
 */

/** Raised when code under test did not finish in time. */
export class DeadlineError extends Error {
  readonly code = 'ERR_DEADLINE';
  override name = 'DeadlineError';
}

/**
 * Resolve with `work`, or reject with a DeadlineError after `ms`.
 * `what` names the operation ("receive()", "the echo of 5 bytes"); `advice` says what usually causes it.
 */
export async function within<T>(work: Promise<T> | T, ms: number, what: string, advice = ''): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DeadlineError(`${what} did not finish within ${ms} ms.${advice ? ` ${advice}` : ''}`)),
      ms,
    );
  });
  try {
    return await Promise.race([Promise.resolve(work), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolve after `ms` of real time. Only for measuring or pacing, never to wait for a server to start. */
export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Poll `condition` every few ms until it holds; reject with a DeadlineError naming `what` after `ms`.
 * Only for state the kernel or the code under test changes asynchronously (a handle closing, a
 * counter reaching a value), never to wait for a server to start: await 'listening' for that.
 */
export async function until(condition: () => boolean, ms: number, what: string, advice = ''): Promise<void> {
  if (!(await eventually(condition, ms))) throw new DeadlineError(`${what} did not happen within ${ms} ms.${advice ? ` ${advice}` : ''}`);
}

/** Poll `condition` every few ms for at most `ms`; resolve with whether it came to hold. Same uses as `until`. */
export async function eventually(condition: () => boolean, ms = 1_000): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await pause(2);
  }
  return true;
}

/** Settle `work` into `{ value }` or `{ error }` (a DeadlineError when it did not settle within `ms`). */
export async function settle<T>(work: Promise<T>, ms: number, what: string, advice = ''): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await within(work, ms, what, advice) };
  } catch (error) {
    return { error };
  }
}
