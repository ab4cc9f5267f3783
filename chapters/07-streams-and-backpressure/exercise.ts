/**
 * Chapter 07 · Queues on both ends: the bounded byte stream.
 *
 * A queue of bytes with a fixed capacity, the model of a socket buffer. One side (the writer)
 * pushes bytes in and may close it; the other side (the reader) peeks at and pops bytes from the
 * front. `push` takes only what fits and says how much that was: the writer must keep the rest
 * and try again later. That short count is backpressure, in its simplest form.
 *
 * Read chapters/07-streams-and-backpressure/lesson.md first. Run the tests with
 *   npm run workbook -- check 07
 */
import { todo } from '../workbook.ts';

/** The largest capacity a ByteStream accepts: 1 GiB. A bound is the point; this one is generous. */
export const MAX_CAPACITY = 2 ** 30;

/** The stable codes of the byte stream's errors. */
export type ByteStreamErrorCode = 'ERR_BAD_CAPACITY' | 'ERR_STREAM_CLOSED' | 'ERR_STREAM_ERRORED';

/** Base class of every error a ByteStream throws. Check `code`, never the message text. */
export class ByteStreamError extends Error {
  override name = 'ByteStreamError';

  constructor(
    /** Stable code, e.g. 'ERR_STREAM_CLOSED'. */
    readonly code: ByteStreamErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A capacity that is not a whole number from 1 to MAX_CAPACITY. */
export class BadCapacityError extends ByteStreamError {
  override name = 'BadCapacityError';

  constructor(
    /** The rejected capacity. */
    readonly capacity: number,
  ) {
    super('ERR_BAD_CAPACITY', `capacity must be a whole number from 1 to ${MAX_CAPACITY}, not ${capacity}`);
  }
}

/** A push after the writer closed the stream: there is no "after the end". */
export class StreamClosedError extends ByteStreamError {
  override name = 'StreamClosedError';

  constructor() {
    super('ERR_STREAM_CLOSED', 'push after close: the writer already ended this stream');
  }
}

/** Any use of a stream after one side called `error()`. `reason` is what that side passed. */
export class StreamErroredError extends ByteStreamError {
  override name = 'StreamErroredError';

  constructor(
    /** The error one side reported with `error(reason)`. */
    readonly reason: Error,
  ) {
    super('ERR_STREAM_ERRORED', `the stream has failed: ${reason.message}`);
  }
}

/** A bounded in-memory stream of bytes: a writer side, a reader side, and a fixed capacity between them. */
export class ByteStream {
  // Your state goes here, as private fields (#name): the bytes, where the buffered ones start,
  // the counters, and whether the stream is closed or has failed.

  /** A stream that buffers at most `capacity` bytes. Throws BadCapacityError. */
  constructor(readonly capacity: number) {
    // TODO: refuse a capacity that is not a whole number from 1 to MAX_CAPACITY, then allocate the storage.
    todo(import.meta.url, 'ByteStream constructor');
  }

  // ----------------------------------------------------------------- writer side

  /**
   * Copy as many bytes of `data` as fit, in order, and return how many that was (0 when full).
   * The caller keeps the rest, and may reuse `data` as soon as this returns.
   * Throws StreamClosedError after `close()`, StreamErroredError after `error()`.
   */
  push(data: Uint8Array): number {
    // TODO: copy min(data.length, availableCapacity) bytes of the view `data` in after the buffered ones; return that count.
    return todo(import.meta.url, 'ByteStream.push');
  }

  /** The writer is done: no more bytes will come. Bytes already buffered can still be read. Closing twice is harmless. */
  close(): void {
    // TODO: remember that the writer has finished (and refuse if the stream has failed).
    return todo(import.meta.url, 'ByteStream.close');
  }

  /** How many more bytes `push` would accept right now. */
  get availableCapacity(): number {
    // TODO: the room left.
    return todo(import.meta.url, 'ByteStream.availableCapacity');
  }

  /** True once the writer has called `close()`. */
  get isClosed(): boolean {
    // TODO: has the writer closed?
    return todo(import.meta.url, 'ByteStream.isClosed');
  }

  // ----------------------------------------------------------------- reader side

  /** A copy (a new array) of the next `min(max, bytesBuffered)` bytes, without removing them. Throws StreamErroredError. */
  peek(max = Infinity): Uint8Array {
    // TODO: copy the oldest bytes out into a new array (they may wrap around the end of your storage).
    return todo(import.meta.url, 'ByteStream.peek');
  }

  /** Remove up to `n` bytes from the front; returns how many were removed. Throws StreamErroredError. */
  pop(n: number): number {
    // TODO: move past min(n, bytesBuffered) bytes and count them.
    return todo(import.meta.url, 'ByteStream.pop');
  }

  /** Peek and pop in one step: remove and return the next `min(max, bytesBuffered)` bytes. Throws StreamErroredError. */
  read(max = Infinity): Uint8Array {
    // TODO: peek, then pop what you peeked.
    return todo(import.meta.url, 'ByteStream.read');
  }

  /** True when the writer has closed and every byte has been read: the reader's end of file. */
  get isFinished(): boolean {
    // TODO: closed, and nothing left to read.
    return todo(import.meta.url, 'ByteStream.isFinished');
  }

  // ----------------------------------------------------------------- both sides

  /**
   * Either side reports a failure. From then on every push, peek, pop, read and close throws
   * StreamErroredError carrying the first reason, so the other side hears of it at its next step.
   */
  error(reason: Error): void {
    // TODO: keep the first reason; every later operation must throw StreamErroredError(reason).
    return todo(import.meta.url, 'ByteStream.error');
  }

  /** The reason passed to `error()`, or undefined while the stream is healthy. */
  get errored(): Error | undefined {
    // TODO: the first reason, if any.
    return todo(import.meta.url, 'ByteStream.errored');
  }

  /** Bytes ever accepted by `push`. */
  get bytesPushed(): number {
    // TODO: a running total.
    return todo(import.meta.url, 'ByteStream.bytesPushed');
  }

  /** Bytes ever removed by `pop` or `read`. */
  get bytesPopped(): number {
    // TODO: a running total.
    return todo(import.meta.url, 'ByteStream.bytesPopped');
  }

  /** Bytes held right now: pushed and not yet popped. Never more than `capacity`. */
  get bytesBuffered(): number {
    // TODO: pushed minus popped.
    return todo(import.meta.url, 'ByteStream.bytesBuffered');
  }
}
