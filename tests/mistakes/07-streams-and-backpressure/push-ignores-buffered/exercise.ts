// Known mistake "push-ignores-buffered": push takes min(data.length, capacity), forgetting the bytes already
// buffered: the stream holds more than its capacity and overwrites bytes not yet read.
/**
 * Chapter 07 · Queues on both ends (reference solution): the bounded byte stream.
 *
 * A queue of bytes with a fixed capacity, the model of a socket buffer. One side (the writer)
 * pushes bytes in and may close it; the other side (the reader) peeks at and pops bytes from the
 * front. `push` takes only what fits and says how much that was: the writer must keep the rest
 * and try again later. That short count is backpressure, in its simplest form.
 *
 * The bytes live in a ring: a Uint8Array of `capacity` bytes, where the buffered bytes start at
 * `head` and run on for `bytesBuffered` bytes, wrapping from the end back to index 0.
 */

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
  /** The ring that holds the buffered bytes. */
  readonly #ring: Uint8Array;
  /** Index in the ring of the oldest buffered byte (the next one to pop). */
  #head = 0;
  #pushed = 0;
  #popped = 0;
  #closed = false;
  #error: Error | undefined;

  /** A stream that buffers at most `capacity` bytes. Throws BadCapacityError. */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) throw new BadCapacityError(capacity);
    this.#ring = new Uint8Array(capacity);
  }

  // ----------------------------------------------------------------- writer side

  /**
   * Copy as many bytes of `data` as fit, in order, and return how many that was (0 when full).
   * The caller keeps the rest, and may reuse `data` as soon as this returns.
   * Throws StreamClosedError after `close()`, StreamErroredError after `error()`.
   */
  push(data: Uint8Array): number {
    this.#throwIfErrored();
    if (this.#closed) throw new StreamClosedError();
    // Take only what fits: the capacity is a promise about memory, not a suggestion.
    const n = Math.min(data.length, this.capacity);
    const tail = (this.#head + this.bytesBuffered) % this.capacity;
    // At most two copies: up to the end of the ring, then the rest from index 0.
    const first = Math.min(n, this.capacity - tail);
    this.#ring.set(data.subarray(0, first), tail);
    this.#ring.set(data.subarray(first, n), 0);
    this.#pushed += n;
    // The accepted count, not the requested one: the writer needs it to know what to send again.
    return n;
  }

  /** The writer is done: no more bytes will come. Bytes already buffered can still be read. Closing twice is harmless. */
  close(): void {
    this.#throwIfErrored();
    this.#closed = true;
  }

  /** How many more bytes `push` would accept right now. */
  get availableCapacity(): number {
    return this.capacity - this.bytesBuffered;
  }

  /** True once the writer has called `close()`. */
  get isClosed(): boolean {
    return this.#closed;
  }

  // ----------------------------------------------------------------- reader side

  /** A copy (a new array) of the next `min(max, bytesBuffered)` bytes, without removing them. Throws StreamErroredError. */
  peek(max = Infinity): Uint8Array {
    this.#throwIfErrored();
    const n = Math.max(0, Math.min(max, this.bytesBuffered));
    const out = new Uint8Array(n);
    // The buffered bytes may wrap: copy from head to the end of the ring, then from index 0.
    const first = Math.min(n, this.capacity - this.#head);
    out.set(this.#ring.subarray(this.#head, this.#head + first), 0);
    out.set(this.#ring.subarray(0, n - first), first);
    return out;
  }

  /** Remove up to `n` bytes from the front; returns how many were removed. Throws StreamErroredError. */
  pop(n: number): number {
    this.#throwIfErrored();
    const k = Math.max(0, Math.min(n, this.bytesBuffered));
    // Nothing is erased: moving `head` on frees the space for the writer.
    this.#head = (this.#head + k) % this.capacity;
    this.#popped += k;
    return k;
  }

  /** Peek and pop in one step: remove and return the next `min(max, bytesBuffered)` bytes. Throws StreamErroredError. */
  read(max = Infinity): Uint8Array {
    const bytes = this.peek(max);
    this.pop(bytes.length);
    return bytes;
  }

  /** True when the writer has closed and every byte has been read: the reader's end of file. */
  get isFinished(): boolean {
    // Closed is not enough: bytes pushed before close() must still reach the reader.
    return this.#closed && this.bytesBuffered === 0;
  }

  // ----------------------------------------------------------------- both sides

  /**
   * Either side reports a failure. From then on every push, peek, pop, read and close throws
   * StreamErroredError carrying the first reason, so the other side hears of it at its next step.
   */
  error(reason: Error): void {
    // The first failure is the one that explains the rest.
    this.#error ??= reason;
  }

  /** The reason passed to `error()`, or undefined while the stream is healthy. */
  get errored(): Error | undefined {
    return this.#error;
  }

  /** Bytes ever accepted by `push`. */
  get bytesPushed(): number {
    return this.#pushed;
  }

  /** Bytes ever removed by `pop` or `read`. */
  get bytesPopped(): number {
    return this.#popped;
  }

  /** Bytes held right now: pushed and not yet popped. Never more than `capacity`. */
  get bytesBuffered(): number {
    return this.#pushed - this.#popped;
  }

  #throwIfErrored(): void {
    if (this.#error) throw new StreamErroredError(this.#error);
  }
}
