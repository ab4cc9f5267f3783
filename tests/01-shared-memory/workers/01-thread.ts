/**
 * Worker entry for chapter 01: "Bram's thread", a second thread that runs blocking calls of the
 * learner's Channel, so that the test thread stays free to send, receive and watch the clock.
 * One such Worker serves the tests of the file one call at a time (starting a TypeScript Worker
 * is slow); the test retires it whenever a call does not finish.
 *
 * Requests (postMessage), one at a time:
 *   { id, kind: 'ping', implPath }                                  load the implementation, reply
 *   { id, kind: 'receive', implPath, buffer, probe, timeoutMs }
 *   { id, kind: 'send', implPath, buffer, probe, timeoutMs, message }   (message may be a view at an offset;
 *                                                                   after send() returns, its whole buffer is overwritten)
 *   { id, kind: 'produce', implPath, buffer, seed, timeoutMs }   the 10 MB traffic of 01-common.ts
 * Replies: { id, ok: true, message?, elapsedMs, digest?, count? } or { id, ok: false, error, index?, elapsedMs },
 * or { id, ok: false, stage: 'load', error } when the implementation file could not even be imported.
 *
 * Atomics.wait is wrapped to count calls in `probe[0]`, so the test knows when this thread has
 * gone to sleep and only then sends: a send that came before the sleep would hide a missing notify.
 */
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type * as Impl from '@impl/01-shared-memory/exercise.ts';
import { reportError, traffic } from './01-common.ts';

type Request =
  | { id: number; kind: 'ping'; implPath: string }
  | { id: number; kind: 'receive'; implPath: string; buffer: SharedArrayBuffer; probe: SharedArrayBuffer; timeoutMs: number }
  | { id: number; kind: 'send'; implPath: string; buffer: SharedArrayBuffer; probe: SharedArrayBuffer; timeoutMs: number; message: Uint8Array }
  | { id: number; kind: 'produce'; implPath: string; buffer: SharedArrayBuffer; seed: number; timeoutMs: number };

let probe: Int32Array | undefined;
const realWait = Atomics.wait;
Atomics.wait = ((array: Int32Array, index: number, value: number, timeout?: number) => {
  if (probe) {
    Atomics.add(probe, 0, 1);
    Atomics.notify(probe, 0);
  }
  return realWait(array, index, value, timeout);
}) as typeof Atomics.wait;

const modules = new Map<string, Promise<typeof Impl>>();
const load = (implPath: string) => {
  if (!modules.has(implPath)) modules.set(implPath, import(implPath) as Promise<typeof Impl>);
  return modules.get(implPath)!;
};

parentPort!.on('message', async (req: Request) => {
  let started = performance.now();
  let index = -1;
  let Channel: typeof Impl.Channel;
  try {
    ({ Channel } = await load(req.implPath));
  } catch (err) {
    parentPort!.postMessage({ id: req.id, ok: false, stage: 'load', error: reportError(err), index, elapsedMs: 0 });
    return;
  }
  if (req.kind === 'ping') {
    parentPort!.postMessage({ id: req.id, ok: true, elapsedMs: 0 });
    return;
  }
  try {
    const channel = new Channel(req.buffer);
    probe = 'probe' in req ? new Int32Array(req.probe) : undefined;
    started = performance.now();
    if (req.kind === 'receive') {
      const message = channel.receive(req.timeoutMs);
      parentPort!.postMessage({ id: req.id, ok: true, message, elapsedMs: performance.now() - started });
    } else if (req.kind === 'send') {
      channel.send(req.message, req.timeoutMs);
      const elapsedMs = performance.now() - started;
      // The caller reuses its buffer at once, as a real sender would: what was sent must already be in the ring.
      new Uint8Array(req.message.buffer).fill(0xee);
      parentPort!.postMessage({ id: req.id, ok: true, elapsedMs });
    } else {
      const plan = traffic(req.seed);
      const hash = createHash('sha256');
      const prefix = Buffer.alloc(4);
      for (index = 0; index < plan.sizes.length; index++) {
        const message = plan.message(index);
        prefix.writeUInt32LE(message.length);
        hash.update(prefix).update(message);
        channel.send(message, req.timeoutMs);
      }
      const digest = hash.digest('hex');
      parentPort!.postMessage({ id: req.id, ok: true, count: plan.sizes.length, digest, elapsedMs: performance.now() - started });
    }
  } catch (err) {
    parentPort!.postMessage({ id: req.id, ok: false, error: reportError(err), index, elapsedMs: performance.now() - started });
  } finally {
    probe = undefined;
  }
});
