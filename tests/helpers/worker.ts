/** Real worker_threads running TypeScript files, tracked for cleanup. */
import { Worker } from 'node:worker_threads';
import { track } from './cleanup.ts';

const bootstrap = new URL('./ts-worker-entry.mjs', import.meta.url);

/**
 * Start a Worker that runs the TypeScript file `entry` (absolute path) with `data` as workerData.
 * The worker is terminated after the test, even if the learner's code inside it is stuck.
 */
export function startTsWorker(entry: string, data: Record<string, unknown> = {}): Worker {
  return track(new Worker(bootstrap, { workerData: { ...data, __entry: entry } }), `worker ${entry.split('/').pop()}`);
}
