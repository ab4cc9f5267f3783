/**
 * The fuzz runner: sends each input to a live server over a real TCP connection of its own, many
 * connections in flight at once, and classifies what came back (tests/fuzz/responses.ts).
 *
 * A connection is one input: the client writes its pieces, half-closes (or, for 'hold' inputs,
 * keeps its side open so only the server's timeouts can end it), and reads until the server
 * closes. Outcomes:
 *   answered     well-formed responses, then the close
 *   clean-close  no bytes, then the close
 *   reset        no bytes, then a reset (RST): the client got no status at all
 *   malformed    bytes that are not a sequence of well-formed HTTP/1.1 responses
 *   hang         no close within the deadline (the server's own timeouts plus slack)
 *   crash        the server process died, stopped accepting, or stopped answering pings while this input was in flight
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { type FuzzInput, fuzzInput, writesOf } from './generator.ts';
import { type Check, checkResponses } from './responses.ts';

export type OutcomeKind = Check['verdict'] | 'hang' | 'crash';

/** What one input got. */
export interface Outcome {
  kind: OutcomeKind;
  statuses: number[];
  problem?: string;
  /** The bytes received, for the report. */
  received: Buffer;
  ms: number;
}

/** The server under test, wherever it runs. */
export interface ServerHost {
  readonly port: number;
  /** Bumped on every restart: an input that began on an older one is a crash suspect, not an outcome. */
  readonly generation: number;
  /** Why the server is down (and since when), or undefined while it is up. */
  down(): string | undefined;
  /** Start it again after a crash. */
  restart(): Promise<void>;
  /** Mark it down (e.g. it refuses connections while its process is up). */
  fail(why: string): void;
  /** TCP sockets the server process still holds, when it can tell. */
  openSockets?(): Promise<number>;
  /** Close the server; resolves with how long close() took, or rejects past the timeout. */
  close(timeoutMs: number): Promise<number>;
  /** Stop it for good. */
  dispose(): Promise<void>;
  /** Anything the server printed on stderr (warnings), trimmed to the last few KiB. */
  stderr(): string;
}

/** The server timeouts every fuzz run uses: low, so truncated and held requests resolve quickly. */
export const FUZZ_SERVER_OPTIONS = { headersTimeoutMs: 500, idleTimeoutMs: 300 };

/** How long an input may take before it counts as a hang: the server's own timeouts, plus slack for a loaded machine. */
export const deadlineFor = (o = FUZZ_SERVER_OPTIONS, slackMs = 2_500) => o.headersTimeoutMs + o.idleTimeoutMs + slackMs;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Send one input on a fresh connection and classify what came back. */
export async function sendOne(port: number, input: FuzzInput, deadlineMs: number): Promise<Outcome> {
  const started = performance.now();
  const chunks: Buffer[] = [];
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
  let reset = false;
  let refused: string | undefined;
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNREFUSED') refused = err.message;
    else reset = true; // ECONNRESET, EPIPE: the server reset the connection.
  });
  // (Not events.once: it rejects on 'error', and a reset is an outcome here, not a failure of the fuzzer.)
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    socket.destroy();
  }, deadlineMs);
  try {
    await Promise.race([new Promise((resolve) => socket.once('connect', resolve)), closed]);
    const writes = writesOf(input);
    for (let i = 0; i < writes.length && !socket.destroyed; i++) {
      socket.write(writes[i]!);
      // Let each piece leave as a segment of its own: a timer tick, or the next turn of the loop.
      if (i < writes.length - 1) await (i % 2 ? pause(1) : new Promise((r) => setImmediate(r)));
    }
    if (input.ending === 'half-close' && !socket.destroyed) socket.end();
    await closed;
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
  const received = Buffer.concat(chunks);
  const ms = performance.now() - started;
  if (refused !== undefined) return { kind: 'crash', statuses: [], problem: `the server refused the connection: ${refused}`, received, ms };
  if (timedOut) {
    const check = checkResponses(received, 'fin');
    const got = received.length === 0 ? 'nothing' : `${received.length} bytes (statuses ${check.statuses.join(', ') || 'none'})`;
    return { kind: 'hang', statuses: check.statuses, problem: `no close within ${deadlineMs} ms; received ${got}`, received, ms };
  }
  const check = checkResponses(received, reset ? 'reset' : 'fin');
  return { kind: check.verdict, statuses: check.statuses, problem: check.problem, received, ms };
}

// ---------------------------------------------------------------------------------------------
// Where the server runs.

const childFile = fileURLToPath(new URL('./server-child.ts', import.meta.url));

/** The server in a child process of its own: a crash ends the child, not the fuzzer. */
export async function childHost(serverFile: string, options: Record<string, unknown> = FUZZ_SERVER_OPTIONS): Promise<ServerHost> {
  let child: ChildProcess;
  let port = 0;
  let generation = 0;
  let downSince: string | undefined;
  let err = '';
  let lastPong = performance.now();
  let heartbeat: NodeJS.Timeout | undefined;
  let expectingExit = false;

  const start = async () => {
    expectingExit = false;
    child = fork(childFile, [JSON.stringify({ serverFile, options })], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const keep = (d: Buffer) => (err = (err + d.toString()).slice(-8192));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const exited = once(child, 'exit');
    const [m] = (await Promise.race([
      once(child, 'message'),
      exited.then(([code, signal]) => {
        throw new Error(`the server process exited (${signal ?? `code ${code}`}) before it listened:\n${err}`);
      }),
    ])) as [{ ready?: number }];
    if (typeof m?.ready !== 'number') throw new Error(`the server process sent ${JSON.stringify(m)} instead of its port`);
    // Up again: a new port and generation, and only now no longer down (a refusal seen while it
    // started belongs to the old one).
    port = m.ready;
    generation++;
    downSince = undefined;
    lastPong = performance.now();
    child.on('message', (msg) => {
      if (msg === 'pong') lastPong = performance.now();
    });
    child.on('exit', (code, signal) => {
      if (!expectingExit) downSince ??= `the server process exited (${signal ?? `code ${code}`})${err.trim() ? `:\n${err.trim().split('\n').slice(-12).join('\n')}` : ''}`;
    });
    clearInterval(heartbeat);
    heartbeat = setInterval(() => {
      if (downSince) return;
      if (performance.now() - lastPong > 3_000) {
        downSince = 'the server stopped answering (its event loop was blocked for more than 3 s: a loop that never ends?)';
        expectingExit = true;
        child.kill('SIGKILL');
        return;
      }
      if (child.connected) child.send('ping');
    }, 250);
    heartbeat.unref();
  };
  const stop = async () => {
    clearInterval(heartbeat);
    if (child.exitCode !== null || child.signalCode !== null) return;
    expectingExit = true;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  await start();
  const ask = <T>(what: string, pick: (m: unknown) => T | undefined, timeoutMs: number) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off('message', on);
        reject(new Error(`no answer to "${what}" within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (m: unknown) => {
        const v = pick(m);
        if (v === undefined) return;
        clearTimeout(timer);
        child.off('message', on);
        resolve(v);
      };
      child.on('message', on);
      child.send(what);
    });
  return {
    get port() {
      return port;
    },
    get generation() {
      return generation;
    },
    down: () => downSince,
    fail(why) {
      downSince ??= why;
    },
    async restart() {
      await stop();
      await start();
    },
    openSockets: () => ask('sockets', (m) => (m as { sockets?: number })?.sockets, 5_000),
    close: (timeoutMs) => ask('close', (m) => (m as { closed?: number })?.closed, timeoutMs),
    dispose: stop,
    stderr: () => err.trim(),
  };
}

/** The server in this process (for the vitest slice): a crash is the test runner's uncaught error. */
export async function inProcessHost(
  make: () => { listen(port?: number, host?: string): Promise<{ port: number }>; close(): Promise<void> },
): Promise<ServerHost> {
  const server = make();
  const { port } = await server.listen(0, '127.0.0.1');
  return {
    port,
    generation: 1,
    down: () => undefined,
    fail(why) {
      throw new Error(why);
    },
    restart: async () => {
      throw new Error('an in-process server cannot be restarted');
    },
    async close(timeoutMs) {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([server.close(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`close() did not resolve within ${timeoutMs} ms`)), timeoutMs)))]);
      clearTimeout(timer);
      return performance.now() - started;
    },
    dispose: async () => {},
    stderr: () => '',
  };
}

// ---------------------------------------------------------------------------------------------
// The run.

export interface RunOptions {
  seed: number;
  /** Input indexes to run (default 0..count-1). */
  indexes: Iterable<number>;
  /** Connections in flight at once. */
  concurrency: number;
  deadlineMs: number;
  host: ServerHost;
  onProgress?(done: number, summary: Summary): void;
  /** Called with every input that did not pass, as soon as it is known. */
  onFailure?(input: FuzzInput, outcome: Outcome): void;
}

/** A crash, with the inputs that were in flight when it happened. */
export interface Crash {
  why: string;
  /** Indexes of the inputs in flight then. */
  suspects: number[];
  /** The input that crashes the server when sent alone, once replayed (undefined: none did alone). */
  culprit?: number;
}

export interface Summary {
  inputs: number;
  counts: Record<OutcomeKind, number>;
  /** Status code -> how many responses had it ('close' for connections closed with no reply). */
  statuses: Record<string, number>;
  crashes: Crash[];
  /** Inputs that failed (crash culprits, hangs, malformed replies, resets), by index. */
  failures: { index: number; kind: OutcomeKind; problem?: string }[];
  ms: number;
}

export const FAILING: OutcomeKind[] = ['crash', 'hang', 'malformed', 'reset'];

/** Run the inputs against the server; never throws for what the server does. */
export async function runFuzz(o: RunOptions): Promise<Summary> {
  const summary: Summary = {
    inputs: 0,
    counts: { answered: 0, 'clean-close': 0, reset: 0, malformed: 0, hang: 0, crash: 0 },
    statuses: {},
    crashes: [],
    failures: [],
    ms: 0,
  };
  const started = performance.now();
  const iterator = o.indexes[Symbol.iterator]();
  const inFlight = new Map<number, number>(); // index -> the server generation it began on
  const crashOf = new Map<number, Crash>(); // generation -> its crash
  let restarting: Promise<void> | undefined;

  /** The server of generation `gen` went down: note the crash and its suspects, start it again (once). */
  const handleDown = (gen: number, index: number): Promise<void> => {
    let crash = crashOf.get(gen);
    if (!crash) {
      crash = { why: o.host.down() ?? 'the server went down', suspects: [...inFlight].filter(([, g]) => g === gen).map(([i]) => i) };
      crashOf.set(gen, crash);
      summary.crashes.push(crash);
      summary.counts.crash++;
      if (o.host.generation === gen) restarting = o.host.restart().finally(() => (restarting = undefined));
    }
    if (!crash.suspects.includes(index)) crash.suspects.push(index);
    return restarting ?? Promise.resolve();
  };

  const record = (input: FuzzInput, outcome: Outcome) => {
    summary.inputs++;
    summary.counts[outcome.kind]++;
    for (const s of outcome.statuses) summary.statuses[s] = (summary.statuses[s] ?? 0) + 1;
    if (outcome.kind === 'clean-close') summary.statuses.close = (summary.statuses.close ?? 0) + 1;
    if (FAILING.includes(outcome.kind)) {
      summary.failures.push({ index: input.index, kind: outcome.kind, problem: outcome.problem });
      o.onFailure?.(input, outcome);
    }
    if (summary.inputs % 1000 === 0) o.onProgress?.(summary.inputs, summary);
  };

  const worker = async () => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) {
      const index = next.value;
      const input = fuzzInput(o.seed, index);
      while (restarting) await restarting;
      const gen = o.host.generation;
      inFlight.set(index, gen);
      const outcome = await sendOne(o.host.port, input, o.deadlineMs);
      // A server that dies resets its connections a moment before its exit is heard here: before a
      // failure is counted against this input, give the news time to arrive.
      if (FAILING.includes(outcome.kind) && !o.host.down() && o.host.generation === gen) await pause(300);
      if (outcome.kind === 'crash' && !o.host.down() && o.host.generation === gen) {
        // Refused while the process is up: give its exit (or the heartbeat) a moment to be heard.
        await pause(500);
        if (!o.host.down() && o.host.generation === gen) o.host.fail('the server stopped accepting connections (refused) while its process was up');
      }
      if (o.host.down() || o.host.generation !== gen) {
        // In flight when the server went down: a suspect, replayed alone after the run.
        summary.inputs++;
        await handleDown(gen, index);
        inFlight.delete(index);
        continue;
      }
      inFlight.delete(index);
      record(input, outcome);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));

  // Replay each crash's suspects alone, each on a server of its own, to find the input that does it.
  for (const crash of summary.crashes) {
    for (const index of crash.suspects) {
      if (o.host.down()) await o.host.restart();
      const input = fuzzInput(o.seed, index);
      const gen = o.host.generation;
      const outcome = await sendOne(o.host.port, input, o.deadlineMs);
      await pause(150);
      if (o.host.down() || o.host.generation !== gen || outcome.kind === 'crash') {
        crash.culprit = index;
        const problem = o.host.down() ?? outcome.problem ?? crash.why;
        summary.failures.push({ index, kind: 'crash', problem });
        o.onFailure?.(input, { ...outcome, kind: 'crash', problem });
        await o.host.restart();
        break;
      }
    }
  }
  summary.ms = performance.now() - started;
  return summary;
}
