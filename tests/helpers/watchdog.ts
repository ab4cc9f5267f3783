/** Starts the watchdog thread (see watchdog-worker.mjs) and feeds it a heartbeat and the current test name. */
import { Worker } from 'node:worker_threads';

const TEXT_SLOT = 2048;

/** Start watching this process. Returns hooks to call when a test starts and ends. */
export function startWatchdog(limitMs: number) {
  const shared = new SharedArrayBuffer(32 + 2 * TEXT_SLOT);
  const clock = new Float64Array(shared, 0, 2);
  const meta = new Int32Array(shared, 16, 4);
  const text = new Uint8Array(shared, 32);
  const encoder = new TextEncoder();
  clock[0] = Date.now();
  const beat = setInterval(() => {
    clock[0] = Date.now();
  }, 100);
  beat.unref();
  const worker = new Worker(new URL('./watchdog-worker.mjs', import.meta.url), {
    workerData: { shared, limitMs, pid: process.pid, hangDir: process.env.WORKBOOK_HANG_DIR ?? '' },
  });
  worker.unref();

  const put = (s: string, at: number) => {
    const bytes = encoder.encode(s).subarray(0, TEXT_SLOT);
    text.set(bytes, at);
    return bytes.length;
  };
  return {
    /** A test (full name) in `file` is starting. */
    enter(file: string, test: string) {
      Atomics.store(meta, 2, put(file, TEXT_SLOT));
      Atomics.store(meta, 1, put(test, 0));
      clock[0] = Date.now();
    },
    /** The current test is over. */
    leave() {
      Atomics.store(meta, 1, 0);
    },
  };
}
