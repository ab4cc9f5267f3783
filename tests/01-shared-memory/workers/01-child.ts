/**
 * Child-process entry for chapter 01 (started with child_process.fork, not as a Worker).
 * It receives a copy of the parent's ring memory over IPC (a SharedArrayBuffer cannot cross
 * a process boundary), attaches the learner's Channel to its own copy, takes the message it finds
 * and sends one back, into its own memory. It reports what it saw.
 */
import type * as Impl from '@impl/01-shared-memory/exercise.ts';
import { CHILD_NOTE, reportError } from './01-common.ts';

process.once('message', async (m: { implPath: string; memory: Uint8Array }) => {
  try {
    const { Channel } = (await import(m.implPath)) as typeof Impl;
    const memory = new SharedArrayBuffer(m.memory.length);
    new Uint8Array(memory).set(m.memory);
    const ring = new Channel(memory);
    const received = ring.tryReceive();
    const sent = ring.trySend(new TextEncoder().encode(CHILD_NOTE));
    process.send!({ ok: true, pid: process.pid, received: received ? Array.from(received) : null, sent });
  } catch (err) {
    process.send!({ ok: false, pid: process.pid, error: reportError(err) });
  }
  process.disconnect();
});
