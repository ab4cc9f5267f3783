/**
 * Chapter 12 · When the port goes dark: a client that knows how long to wait, and when to try again.
 *
 * `callOnce` makes one request/reply exchange over TCP with a connect timeout, an idle timeout and an
 * overall deadline, and says why it failed: refused (someone answered no), timed out (silence), or
 * reset mid-reply. `withRetries` tries again, for idempotent calls only, after capped exponential
 * backoff with full jitter, on an injected clock and random source; after N tries it gives up.
 */
import net from 'node:net';
import { todo } from '../workbook.ts';

/** The clock the retry loop sleeps on; tests pass a fake one. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** How long a connect may take before we call the destination silent. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
/** How long an open connection may stay without a byte either way before we give up on it. */
export const DEFAULT_IDLE_TIMEOUT_MS = 10_000;

/** Opens a TCP connection; `net.connect` unless a test or a tunnel provides another. */
export type Dial = (port: number, host: string) => net.Socket;

/** One request/reply exchange: connect, send `request`, half-close, read the reply until the server's FIN. */
export interface CallOptions {
  host: string;
  port: number;
  /** The bytes to send, as they are at the call (the caller may reuse its buffer at once). */
  request: Uint8Array;
  /** Most ms from the dial to 'connect'. Default DEFAULT_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /** Most ms without a byte in either direction once connected. Default DEFAULT_IDLE_TIMEOUT_MS. */
  idleTimeoutMs?: number;
  /** Most ms for the whole call, however busy the connection; none when left out. */
  deadlineMs?: number;
  /** Opens the connection. Default: `(port, host) => net.connect({ port, host })`. */
  dial?: Dial;
}

/** Which wait ran out: the connect, the silence of an open connection, or the whole call's deadline. */
export type TimeoutPhase = 'connect' | 'idle' | 'deadline';

/** The stable codes of the client's errors. */
export type CallErrorCode = 'ERR_REFUSED' | 'ERR_TIMEOUT' | 'ERR_RESET';

/** A call failed on the network. `code` says how; `host` and `port` say where. */
export class CallError extends Error {
  override name = 'CallError';

  constructor(
    /** Stable code: check this, never the message. */
    readonly code: CallErrorCode,
    /** Where the call went. */
    readonly host: string,
    readonly port: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Somebody said no, fast: ECONNREFUSED (an RST to our SYN), or a reset before the first byte of the reply. */
export class RefusedError extends CallError {
  override name = 'RefusedError';

  constructor(host: string, port: number, options?: ErrorOptions) {
    super('ERR_REFUSED', host, port, `refused by ${host}:${port}`, options);
  }
}

/** Silence: nothing came back in time. `phase` says which wait ran out, `ms` how long it was. */
export class TimeoutError extends CallError {
  override name = 'TimeoutError';

  constructor(
    host: string,
    port: number,
    /** Which wait ran out. */
    readonly phase: TimeoutPhase,
    /** Its length in ms. */
    readonly ms: number,
  ) {
    super('ERR_TIMEOUT', host, port, `no answer from ${host}:${port} (${phase} timeout, ${ms} ms)`);
  }
}

/** The connection broke after the reply had begun: part of an answer is no answer. */
export class ResetError extends CallError {
  override name = 'ResetError';

  constructor(host: string, port: number, options?: ErrorOptions) {
    super('ERR_RESET', host, port, `connection to ${host}:${port} reset mid-reply`, options);
  }
}

/** withRetries stopped after `attempts` tries; `errors` holds each try's error, in order (the last is also `cause`). */
export class GaveUpError extends Error {
  override name = 'GaveUpError';
  /** Stable code: check this, never the message. */
  readonly code = 'ERR_GAVE_UP';

  constructor(
    /** How many tries were made. */
    readonly attempts: number,
    /** The error of each try, first to last. */
    readonly errors: readonly CallError[],
  ) {
    super(`gave up after ${attempts} tries`, { cause: errors.at(-1) });
  }
}

/** One exchange, no retry. Resolves with the whole reply; rejects with RefusedError, TimeoutError or ResetError. */
export function callOnce(options: CallOptions): Promise<Buffer> {
  // TODO: copy the request now. Open the socket with options.dial ?? net.connect, and socket.setTimeout(connect timeout);
  // on 'connect': switch to the idle timeout and end(request). Collect 'data' until 'end', then resolve with it joined.
  // On 'timeout': TimeoutError with the phase ('connect' before 'connect', 'idle' after) and that timeout's ms.
  // deadlineMs (when given): a timer for the whole call, TimeoutError 'deadline'. On 'error': RefusedError for
  // ECONNREFUSED, and for ECONNRESET or EPIPE before the first byte of the reply; ResetError after it (cause: the error).
  // However it settles: clear your timer and destroy() the socket.
  return todo(import.meta.url, 'callOnce');
}

/** How retries space out: the first retry waits up to `baseMs`, each next one up to twice as long, never more than `capMs`. */
export interface Backoff {
  baseMs: number;
  capMs: number;
}

/** Options of withRetries. */
export interface RetryOptions extends Backoff {
  /** Most tries in all, the first included (at least 1). */
  attempts: number;
  /** Whether doing the call twice is as good as doing it once; a call that is not is tried only once. */
  idempotent: boolean;
  /** The clock the waits between tries run on. */
  clock: Clock;
  /** Uniform random numbers in [0, 1): Math.random, or a seeded source in tests. */
  random: () => number;
}

/**
 * The wait before retry number `retry` (0 for the first retry): full jitter, a uniform random time between
 * 0 and min(capMs, baseMs * 2 ** retry).
 */
export function backoffDelay(retry: number, backoff: Backoff, random: () => number): number {
  // TODO: the ceiling is baseMs * 2 ** retry, capped at capMs; the delay is random() times the ceiling.
  return todo(import.meta.url, 'backoffDelay');
}

/**
 * Run `attempt(1)`, and on a CallError try again (attempt(2), ...) after backoffDelay(0), backoffDelay(1), ...
 * on the clock, up to `attempts` tries; then reject with GaveUpError. A call that is not idempotent is tried
 * once and its error passed on as it is; an error that is not a CallError is passed on at once.
 */
export async function withRetries<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  // TODO: loop n = 1, 2, ...: return what attempt(n) resolves with. On an error: pass it on unless it is a CallError
  // of an idempotent call; keep it; after the last try reject with GaveUpError(n, errors); else wait
  // backoffDelay(n - 1, ...) with options.clock.setTimeout and go round again.
  return todo(import.meta.url, 'withRetries');
}
