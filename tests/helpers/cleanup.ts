/**
 * The cleanup registry: everything a test opens (sockets, servers, workers, child processes,
 * timers, learner objects) is registered here and closed after the test, even when it failed.
 * tests/helpers/setup.ts runs `runCleanups()` after every test.
 */
import type { ChildProcess } from 'node:child_process';
import type { Socket as UdpSocket } from 'node:dgram';
import { Server, Socket } from 'node:net';
import { Worker } from 'node:worker_threads';

type Closer = () => unknown;
const closers: { label: string; close: Closer }[] = [];

/** How long one cleanup step may take before it is abandoned (and reported). */
const STEP_LIMIT_MS = 1_500;

/** Register any cleanup function. Runs in reverse order of registration. */
export function onCleanup(label: string, close: Closer): void {
  closers.push({ label, close });
}

/** Register a resource; the registry knows how to close sockets, servers, workers, processes and timers. */
export function track<T>(resource: T, label = describe(resource)): T {
  onCleanup(label, () => closeAny(resource));
  return resource;
}

function describe(r: unknown): string {
  return (r as object)?.constructor?.name ?? typeof r;
}

async function closeAny(r: unknown): Promise<void> {
  if (r instanceof Worker) {
    await r.terminate();
  } else if (r instanceof Server) {
    // Also end connections the server accepted: server.close() alone waits for them.
    const conns = serverConnections.get(r);
    conns?.forEach((s) => s.destroy());
    if (r.listening) await new Promise<void>((res) => r.close(() => res()));
  } else if (r instanceof Socket) {
    r.destroy();
  } else if (isChild(r)) {
    if (r.exitCode === null && r.signalCode === null) r.kill('SIGKILL');
  } else if (isUdp(r)) {
    try {
      r.close();
    } catch {
      /* already closed */
    }
  } else if (isTimer(r)) {
    clearTimeout(r);
    clearInterval(r);
  } else if (r && typeof (r as { close?: unknown }).close === 'function') {
    await (r as { close: () => unknown }).close();
  } else if (r && typeof (r as { destroy?: unknown }).destroy === 'function') {
    (r as { destroy: () => unknown }).destroy();
  }
}

const isChild = (r: unknown): r is ChildProcess =>
  !!r && typeof (r as ChildProcess).kill === 'function' && 'pid' in (r as object) && 'exitCode' in (r as object);
const isUdp = (r: unknown): r is UdpSocket =>
  !!r && typeof (r as UdpSocket).send === 'function' && typeof (r as UdpSocket).addMembership === 'function';
const isTimer = (r: unknown): r is NodeJS.Timeout =>
  !!r && typeof (r as NodeJS.Timeout).hasRef === 'function' && typeof (r as NodeJS.Timeout).refresh === 'function';

const serverConnections = new WeakMap<Server, Set<Socket>>();

/** Remember a server's accepted connections so cleanup can end them. Called by `listen` in net.ts. */
export function watchConnections(server: Server): void {
  if (serverConnections.has(server)) return;
  const set = new Set<Socket>();
  serverConnections.set(server, set);
  server.on('connection', (s: Socket) => {
    set.add(s);
    s.on('close', () => set.delete(s));
  });
}

/**
 * Close everything registered, newest first. Each step is bounded in time, so a learner's
 * `close()` that never resolves cannot hang the runner. Returns the steps that failed or timed out.
 */
export async function runCleanups(): Promise<string[]> {
  const problems: string[] = [];
  while (closers.length) {
    const { label, close } = closers.pop()!;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(close),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`closing ${label} took over ${STEP_LIMIT_MS} ms`)), STEP_LIMIT_MS);
        }),
      ]);
    } catch (err) {
      problems.push(`${label}: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
  return problems;
}

/** Close a socket or server now, ignoring "already closed": for teardown paths that must not throw. */
export function closeQuietly(thing: { close(): unknown } | undefined): void {
  try {
    thing?.close();
  } catch {
    /* already closed */
  }
}
