/**
 * Chapter 01 · Notes in shared memory. This is your file: work through every `// TODO:`.
 * The lesson (chapters/01-shared-memory/lesson.md) explains each idea. Check your work with
 *   npm run workbook -- check 01       (or: npx vitest run tests/01-shared-memory/)
 *
 * A channel of length-prefixed messages inside a SharedArrayBuffer: a ring buffer for exactly
 * one sending thread and one receiving thread (SPSC). Both threads build a `Channel` on the same
 * buffer; the sender only moves the write counter, the receiver only moves the read counter.
 *
 * Layout of the buffer (fixed: the other thread, and the tests, rely on it):
 *
 *   byte 0             4             8                                   8 + capacity
 *        | write count | read count  | ring: capacity bytes of messages ... |
 *          Int32 slot 0  Int32 slot 1
 *
 * The counters are free-running: the total number of bytes ever written and ever read, wrapping
 * at 2^32. A counter's position in the ring is `counter & (capacity - 1)`.
 * Each message in the ring is a 4-byte little-endian length, then that many bytes.
 */
import { todo } from '../workbook.ts';

/** Bytes of the length prefix in front of every message (an unsigned 32-bit little-endian integer). */
export const LENGTH_PREFIX_BYTES = 4;
/** Int32 slot of the control block that holds the write counter: bytes ever written, wrapping at 2^32. */
export const WRITE_SLOT = 0;
/** Int32 slot of the control block that holds the read counter: bytes ever read, wrapping at 2^32. */
export const READ_SLOT = 1;
/** Bytes of the control block at the start of the buffer; the ring's bytes follow it. */
export const CONTROL_BYTES = 8;
/** The smallest ring: room for a length prefix and a few bytes. */
export const MIN_CAPACITY = 8;
/** The largest ring (2^30 bytes), so that `write - read` always fits in 32 bits. */
export const MAX_CAPACITY = 2 ** 30;

/** The stable codes of the channel's errors. */
export type ChannelErrorCode = 'ERR_MESSAGE_TOO_LARGE' | 'ERR_CHANNEL_TIMEOUT' | 'ERR_BAD_CAPACITY';

/** Base class of every error the channel throws. Check `code`, never the message text. */
export class ChannelError extends Error {
  override name = 'ChannelError';

  constructor(
    /** Stable code, e.g. 'ERR_CHANNEL_TIMEOUT'. */
    readonly code: ChannelErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A message that could never fit, not even in an empty ring. Waiting would not help. */
export class MessageTooLargeError extends ChannelError {
  override name = 'MessageTooLargeError';

  constructor(
    /** Length of the rejected message in bytes. */
    readonly size: number,
    /** The channel's `maxMessageBytes`. */
    readonly limit: number,
  ) {
    super('ERR_MESSAGE_TOO_LARGE', `a ${size}-byte message cannot fit: this channel carries at most ${limit} bytes per message`);
  }
}

/** A blocking or async operation ran out of time: nothing arrived, or no room was made. */
export class ChannelTimeoutError extends ChannelError {
  override name = 'ChannelTimeoutError';

  constructor(
    /** The method that gave up, e.g. 'receive'. */
    readonly operation: 'send' | 'receive' | 'receiveAsync',
    /** The timeout it was given, in milliseconds. */
    readonly timeoutMs: number,
  ) {
    super('ERR_CHANNEL_TIMEOUT', `${operation}() gave up after ${timeoutMs} ms`);
  }
}

/** One end of a channel. Make one with `Channel.create`, then attach the other thread with `new Channel(buffer)`. */
export class Channel {
  /** The shared memory. Post it to the other thread (postMessage or workerData); it is shared, not copied. */
  readonly buffer: SharedArrayBuffer;
  /** Bytes the ring holds, length prefixes included (a power of two). */
  readonly capacity: number;
  /** The largest message that can ever fit: `capacity - LENGTH_PREFIX_BYTES`. */
  readonly maxMessageBytes: number;
  /** The two shared counters, `control[WRITE_SLOT]` and `control[READ_SLOT]`. Use Atomics on them. */
  readonly control: Int32Array;
  /** The ring's bytes, shared too. */
  readonly ring: Uint8Array;

  /** A new, empty channel whose ring holds `capacity` bytes (a power of two, 8 to 2^30). */
  static create(capacity: number): Channel {
    checkCapacity(capacity);
    // A new SharedArrayBuffer is all zeros: write == read == 0, an empty ring.
    return new Channel(new SharedArrayBuffer(CONTROL_BYTES + capacity));
  }

  /** Attach to an existing channel's buffer, for example in a Worker. Nothing is reset. */
  constructor(buffer: SharedArrayBuffer) {
    const capacity = buffer.byteLength - CONTROL_BYTES;
    checkCapacity(capacity);
    this.buffer = buffer;
    this.capacity = capacity;
    this.maxMessageBytes = capacity - LENGTH_PREFIX_BYTES;
    this.control = new Int32Array(buffer, 0, 2);
    this.ring = new Uint8Array(buffer, CONTROL_BYTES, capacity);
  }

  /**
   * Put one message in the ring if it fits now. Returns false when the ring is too full (try
   * again later); throws MessageTooLargeError when the message could never fit.
   */
  trySend(message: Uint8Array): boolean {
    // TODO: append the length prefix and the message to the ring, or report why not.
    //   Never fits (> maxMessageBytes): throw MessageTooLargeError. No room now: return false.
    //   Otherwise: copy in prefix and bytes, then publish the write counter, then notify. In that order.
    //   `message` may be a view at an offset of a larger buffer: copy exactly the bytes it covers.
    return todo(import.meta.url, 'Channel.trySend');
  }

  /** Take the oldest message out of the ring, or return undefined when the ring is empty. */
  tryReceive(): Uint8Array | undefined {
    // TODO: take the oldest message out of the ring, or return undefined when it is empty.
    //   Copy the message out (into a new array of its own) first, then publish the read counter, then notify a waiting sender.
    return todo(import.meta.url, 'Channel.tryReceive');
  }

  /**
   * Send, waiting up to `timeoutMs` for room. Blocks the thread (Atomics.wait): use it in a
   * Worker. Throws ChannelTimeoutError if the receiver never makes room.
   */
  send(message: Uint8Array, timeoutMs: number): void {
    // TODO: trySend in a loop, sleeping on the read counter (Atomics.wait) while the ring is full.
    //   Load the counter before trying; sleep only for the time left until the deadline; when it has
    //   passed, throw ChannelTimeoutError('send', timeoutMs). A timeout of 0 still tries once.
    return todo(import.meta.url, 'Channel.send');
  }

  /**
   * Receive, waiting up to `timeoutMs` for a message. Blocks the thread (Atomics.wait): use it
   * in a Worker. Throws ChannelTimeoutError if nothing arrives in time.
   */
  receive(timeoutMs: number): Uint8Array {
    // TODO: tryReceive in a loop, sleeping on the write counter (Atomics.wait) while the ring is empty.
    //   Load the counter before trying; sleep only for the time left until the deadline; when it has
    //   passed, throw ChannelTimeoutError('receive', timeoutMs). A timeout of 0 still tries once.
    return todo(import.meta.url, 'Channel.receive');
  }

  /**
   * Receive without blocking the thread: resolves with the next message, or rejects with
   * ChannelTimeoutError after `timeoutMs`. Works on the main thread (Atomics.waitAsync).
   */
  receiveAsync(timeoutMs: number): Promise<Uint8Array> {
    // TODO: receive() without blocking: sleep with waitAsync (at the end of this file) and await its promise.
    //   Tip: make this an `async` method; it must never block, and rejects with ChannelTimeoutError('receiveAsync', timeoutMs).
    return todo(import.meta.url, 'Channel.receiveAsync');
  }
}

/** Something a message can be posted to: a Worker, a MessagePort, or a worker's `parentPort`. */
export interface PostTarget {
  postMessage(value: unknown): void;
}

/**
 * Post `note` so that the receiver gets bytes of its own: later changes on either side stay
 * private. This must hold even when `note` is a view into shared memory.
 */
export function postCopy(target: PostTarget, note: Uint8Array): void {
  // TODO: post the note so that the receiver gets a copy, even when `note` lives in a SharedArrayBuffer.
  return todo(import.meta.url, 'postCopy');
}

/**
 * Post `note` through shared memory: copy it once into a new SharedArrayBuffer, post that, and
 * return the sender's view of it. Both sides then see the same bytes, changes included.
 */
export function postShared(target: PostTarget, note: Uint8Array): Uint8Array {
  // TODO: copy the note into a new SharedArrayBuffer, post a view of it, and return that same view.
  return todo(import.meta.url, 'postShared');
}

/** Copy `bytes` into the ring at counter position `at`, splitting the copy where the ring ends. */
function copyIn(ring: Uint8Array, at: number, bytes: Uint8Array): void {
  // TODO: write `bytes` starting at position `at & (ring.length - 1)`; what does not fit before the end goes to the front.
  return todo(import.meta.url, 'copyIn');
}

/** Copy `length` bytes out of the ring from counter position `at` into a new array, joining the two pieces. */
function copyOut(ring: Uint8Array, at: number, length: number): Uint8Array {
  // TODO: read `length` bytes from position `at & (ring.length - 1)` into a new array; wrap to the front at the end.
  return todo(import.meta.url, 'copyOut');
}

/** The 4-byte little-endian length prefix for a message of `length` bytes. */
function encodeLength(length: number): Uint8Array {
  return Uint8Array.of(length & 0xff, (length >>> 8) & 0xff, (length >>> 16) & 0xff, length >>> 24);
}

/** Read a 4-byte little-endian length prefix. */
function decodeLength(prefix: Uint8Array): number {
  return (prefix[0]! | (prefix[1]! << 8) | (prefix[2]! << 16) | (prefix[3]! << 24)) >>> 0;
}

/** Throw ERR_BAD_CAPACITY unless `capacity` is a power of two in [MIN_CAPACITY, MAX_CAPACITY]. */
function checkCapacity(capacity: number): void {
  const inRange = Number.isInteger(capacity) && capacity >= MIN_CAPACITY && capacity <= MAX_CAPACITY;
  // In range means positive, so a power of two is a number with exactly one bit set.
  if (!inRange || (capacity & (capacity - 1)) !== 0) {
    throw new ChannelError('ERR_BAD_CAPACITY', `ring capacity must be a power of two from ${MIN_CAPACITY} to ${MAX_CAPACITY}, not ${capacity}`);
  }
}

/** What Atomics.waitAsync returns: an immediate answer, or a promise of one. */
type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };

/** Atomics.waitAsync (ES2024, Node 16+). This project's TypeScript library is ES2023, so its type is declared here. */
function waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): WaitAsyncResult {
  return (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): WaitAsyncResult }).waitAsync(array, index, value, timeoutMs);
}
