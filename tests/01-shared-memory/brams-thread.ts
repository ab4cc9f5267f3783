/**
 * Bram's thread: one Worker (workers/01-thread.ts) that runs blocking calls of the learner's Channel,
 * so that the test thread stays free to send, receive and watch the clock.
 */
import { Worker } from 'node:worker_threads';
import { beforeAll } from 'vitest';
import type { Channel } from '@impl/01-shared-memory/exercise.ts';
import { check, fail, onCleanup, pause, within } from '../helpers/index.ts';
import { implPath, lesson, reported, show, workerEntry } from './harness.ts';
import type { ErrorReport } from './workers/01-common.ts';

/** The harness's TypeScript Worker bootstrap (what startTsWorker uses), for the one Worker this file keeps between tests. */
const tsWorkerBootstrap = new URL('../helpers/ts-worker-entry.mjs', import.meta.url);

/** A reply from Bram's thread (workers/01-thread.ts). */
export interface Reply {
  id: number;
  ok: boolean;
  /** 'load' when the implementation could not be imported at all. */
  stage?: 'load';
  message?: Uint8Array;
  error?: ErrorReport;
  /** For the 10 MB transfer: the message it was sending when it failed, how many it sent, their SHA-256. */
  index?: number;
  count?: number;
  digest?: string;
  elapsedMs: number;
}

/**
 * One Worker that runs blocking calls of your Channel, one at a time, shared by the tests of the
 * suite because a TypeScript Worker takes a few hundred ms to start. It is retired (terminated) after
 * any test whose call did not finish, so a stuck call never leaks into the next test, and after the last test.
 */
class SecondThread {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  /** Send one request; resolves with its reply, rejects if the Worker dies. */
  request(req: Record<string, unknown>, retireIfUnfinished = true): Promise<Reply> {
    const worker = this.ensure();
    const id = this.nextId++;
    let done = false;
    const reply = new Promise<Reply>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    reply.then(
      () => (done = true),
      () => (done = true),
    );
    if (retireIfUnfinished) {
      onCleanup("Bram's thread", async () => {
        if (!done) await this.retire();
      });
    }
    worker.postMessage({ ...req, id, implPath: implPath() });
    return reply;
  }

  /**
   * Start the Worker and load your code in it ahead of the tests that need it, so their deadlines
   * do not include a TypeScript Worker's start-up (much longer on a busy machine). Never fails:
   * if loading goes wrong, the tests themselves report it.
   */
  async warmUp(ms: number): Promise<void> {
    try {
      await within(this.request({ kind: 'ping' }, false), ms, "starting Bram's thread");
    } catch {
      await this.retire();
    }
  }

  /** Terminate the Worker (even in the middle of Atomics.wait); the next request starts a new one. */
  async retire(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(tsWorkerBootstrap, { workerData: { __entry: workerEntry('01-thread.ts') } });
    worker.on('message', (r: Reply) => {
      const w = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      if (r.stage === 'load') w?.reject(new Error(`A Worker could not import ${implPath()}: ${reported(r.error)}`));
      else w?.resolve(r);
    });
    const failAll = (err: Error) => {
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
      if (this.worker === worker) this.worker = undefined;
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`Bram's thread (a Worker) stopped, exit code ${code}`)));
    this.worker = worker;
    return worker;
  }
}

/** Bram's thread, shared by the suite. */
export const bram = new SecondThread();

/** For the describe blocks that use Bram's thread: start it (and load your code in it) before their tests. */
export const warmUpBram = () => beforeAll(() => bram.warmUp(6_000));

/** Atomics.waitAsync, typed locally (the project's TypeScript lib is ES2023). */
type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (a: Int32Array, i: number, v: number, ms: number) =>
  (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, ms: number): WaitAsyncResult }).waitAsync(a, i, v, ms);

/**
 * Run one blocking receive() or send() of your Channel in Bram's thread.
 * `asleep()` resolves once that thread has called Atomics.wait; `report()` gives the call's outcome.
 */
export function blockingCall(op: 'receive' | 'send', ch: Channel, timeoutMs: number, message?: Uint8Array) {
  const probe = new Int32Array(new SharedArrayBuffer(4));
  const outcome = bram.request({ kind: op, buffer: ch.buffer, probe: probe.buffer, timeoutMs, message });
  outcome.catch(() => {});
  const call = op === 'receive' ? `receive(${timeoutMs})` : `send(${show(message)}, ${timeoutMs})`;
  return {
    call,
    /** Wait until the Worker's call is asleep in Atomics.wait. Fails if it returns or spins instead. */
    async asleep(situation: string): Promise<void> {
      const slept = waitAsync(probe, 0, 0, 4_000);
      const sleeping = slept.async ? slept.value.then(() => Atomics.load(probe, 0) > 0) : Promise.resolve(true);
      const first = await within(
        Promise.race([sleeping.then((s) => ({ slept: s })), outcome.then((r) => ({ report: r }))]),
        5_000,
        `the Worker's ${call}`,
      );
      if ('report' in first) {
        const r = first.report;
        fail({
          did: `${call} in a Worker, called ${situation}, did not wait: it ${r.ok ? `returned ${show(r.message)}` : `threw ${reported(r.error)}`}`,
          expected: `${call} sleeps in Atomics.wait until the other side moves the counter, or its timeout runs out`,
          lesson: lesson('Atomics: load, store, wait, notify'),
        });
      }
      check(first.slept, {
        did: `${call} in a Worker, called ${situation}, neither returned nor called Atomics.wait within 4 s`,
        expected: 'a waiting thread sleeps in Atomics.wait; a loop that checks again and again burns a whole CPU core',
        lesson: lesson('Atomics: load, store, wait, notify'),
      });
      // The probe is bumped just before the real Atomics.wait; give the thread a moment to get into it.
      await pause(30);
    },
    /** The call's outcome, or a DeadlineError after `ms`. */
    report: (ms: number, advice: string) => within(outcome, ms, `the Worker's ${call}`, advice),
  };
}
