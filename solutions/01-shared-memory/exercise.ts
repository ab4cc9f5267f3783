/**
 * Chapter 01 · Notes in shared memory (reference solution).
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
    // Too large for even an empty ring: "false" would make the sender retry forever.
    if (message.length > this.maxMessageBytes) throw new MessageTooLargeError(message.length, this.maxMessageBytes);
    const write = Atomics.load(this.control, WRITE_SLOT);
    const read = Atomics.load(this.control, READ_SLOT);
    // Free-running counters: their difference is the bytes in use, even after they wrap at 2^32.
    // Equal counters mean empty; a difference of `capacity` means full. No ambiguity.
    const used = (write - read) >>> 0;
    const need = LENGTH_PREFIX_BYTES + message.length;
    if (this.capacity - used < need) return false;
    // Plain writes into the ring, and no allocation: the prefix byte by byte, then the payload.
    writeLength(this.ring, write, message.length);
    copyIn(this.ring, write + LENGTH_PREFIX_BYTES, message);
    // Publish: everything written above is visible to a thread that then loads this counter.
    Atomics.store(this.control, WRITE_SLOT, (write + need) | 0);
    // Wake the receiver, now that the message is visible, but only if it may be asleep. A receiver
    // sleeps on the write counter only after finding the ring empty: its read counter then equals
    // the value it sleeps on, our old `write`. Loaded after publishing, a read counter still behind
    // `write` proves nobody sleeps on it, and Atomics.notify (a trip into the runtime) is skipped.
    // Stryker disable next-line ConditionalExpression: notifying when nobody sleeps is only slower, never wrong
    if (Atomics.load(this.control, READ_SLOT) === write) Atomics.notify(this.control, WRITE_SLOT);
    return true;
  }

  /** Take the oldest message out of the ring, or return undefined when the ring is empty. */
  tryReceive(): Uint8Array | undefined {
    const read = Atomics.load(this.control, READ_SLOT);
    // Acquire: after this load, the bytes the sender wrote before publishing it are visible here.
    const write = Atomics.load(this.control, WRITE_SLOT);
    if (write === read) return undefined;
    // The length is read in place; only the message itself is copied out.
    const length = readLength(this.ring, read);
    // A copy, not a view: once the read counter moves, the sender may overwrite these bytes.
    const message = copyOut(this.ring, read + LENGTH_PREFIX_BYTES, length);
    // Release the space only after copying out, then wake a sender waiting for room. Always: how
    // much room a sleeping sender needs is known only to the sender.
    Atomics.store(this.control, READ_SLOT, (read + LENGTH_PREFIX_BYTES + length) | 0);
    Atomics.notify(this.control, READ_SLOT);
    return message;
  }

  /**
   * Send, waiting up to `timeoutMs` for room. Blocks the thread (Atomics.wait): use it in a
   * Worker. Throws ChannelTimeoutError if the receiver never makes room.
   */
  send(message: Uint8Array, timeoutMs: number): void {
    // The common case first: room now, so no clock to read and nothing to wait for.
    // Stryker disable next-line ConditionalExpression: replacing the condition drops this first try, and the loop sends just the same
    if (!this.trySend(message)) this.#sendWaiting(message, timeoutMs);
  }

  /** send() once the ring was found full: wait for room until the deadline. */
  #sendWaiting(message: Uint8Array, timeoutMs: number): void {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      // Read the counter we will sleep on *before* trying: if the receiver moves it in
      // between, Atomics.wait sees a different value and returns at once (no lost wake-up).
      const seen = Atomics.load(this.control, READ_SLOT);
      if (this.trySend(message)) return;
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw new ChannelTimeoutError('send', timeoutMs);
      Atomics.wait(this.control, READ_SLOT, seen, remaining);
    }
  }

  /**
   * Receive, waiting up to `timeoutMs` for a message. Blocks the thread (Atomics.wait): use it
   * in a Worker. Throws ChannelTimeoutError if nothing arrives in time.
   */
  receive(timeoutMs: number): Uint8Array {
    // The common case first, as in send(): a message already there needs no clock and no wait.
    return this.tryReceive() ?? this.#receiveWaiting(timeoutMs);
  }

  /** receive() once the ring was found empty: wait for a message until the deadline. */
  #receiveWaiting(timeoutMs: number): Uint8Array {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      // Same order as in send(): remember the counter, check, then sleep only if it is unchanged.
      const seen = Atomics.load(this.control, WRITE_SLOT);
      const message = this.tryReceive();
      if (message) return message;
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw new ChannelTimeoutError('receive', timeoutMs);
      Atomics.wait(this.control, WRITE_SLOT, seen, remaining);
    }
  }

  /**
   * Receive without blocking the thread: resolves with the next message, or rejects with
   * ChannelTimeoutError after `timeoutMs`. Works on the main thread (Atomics.waitAsync).
   */
  async receiveAsync(timeoutMs: number): Promise<Uint8Array> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const seen = Atomics.load(this.control, WRITE_SLOT);
      const message = this.tryReceive();
      if (message) return message;
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw new ChannelTimeoutError('receiveAsync', timeoutMs);
      // The same wait as receive(), but it hands back a promise instead of blocking the event loop.
      const result = waitAsync(this.control, WRITE_SLOT, seen, remaining);
      if (result.async) await result.value;
    }
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
  // postMessage clones ordinary memory but shares a SharedArrayBuffer. slice() first makes an
  // ordinary copy of just these bytes (not the whole buffer behind the view), which is then cloned.
  target.postMessage(note.slice());
}

/**
 * Post `note` through shared memory: copy it once into a new SharedArrayBuffer, post that, and
 * return the sender's view of it. Both sides then see the same bytes, changes included.
 */
export function postShared(target: PostTarget, note: Uint8Array): Uint8Array {
  const shared = new Uint8Array(new SharedArrayBuffer(note.length));
  shared.set(note);
  // Posting a view of a SharedArrayBuffer sends a reference to the same memory, not a copy.
  target.postMessage(shared);
  return shared;
}

/** Copy `bytes` into the ring at counter position `at`, splitting the copy where the ring ends. */
function copyIn(ring: Uint8Array, at: number, bytes: Uint8Array): void {
  // capacity is a power of two, so masking maps any 32-bit counter (even a negative one) to a position.
  const start = at & (ring.length - 1);
  const room = ring.length - start;
  // Usually the bytes fit before the end: one set(), and no views to make.
  if (bytes.length <= room) return ring.set(bytes, start);
  ring.set(bytes.subarray(0, room), start);
  // Whatever did not fit before the end wraps around to the front.
  ring.set(bytes.subarray(room), 0);
}

/** Copy `length` bytes out of the ring from counter position `at` into a new array, joining the two pieces. */
function copyOut(ring: Uint8Array, at: number, length: number): Uint8Array {
  const start = at & (ring.length - 1);
  const end = start + length;
  // Usually the message is in one piece: slice() copies it into a new array of its own in one step.
  // Stryker disable next-line EqualityOperator: a message that ends exactly at the end is joined from the same bytes and an empty second piece
  if (end <= ring.length) return ring.slice(start, end);
  const out = new Uint8Array(length);
  out.set(ring.subarray(start), 0);
  // The rest continues at the front of the ring.
  out.set(ring.subarray(0, end - ring.length), ring.length - start);
  return out;
}

/**
 * Write the 4-byte little-endian length prefix of a `length`-byte message at counter position `at`,
 * byte by byte and in place: no array to allocate, and each byte's position wraps on its own.
 */
function writeLength(ring: Uint8Array, at: number, length: number): void {
  const mask = ring.length - 1;
  // A Uint8Array keeps the lowest 8 bits of what is stored in it.
  ring[at & mask] = length;
  ring[(at + 1) & mask] = length >>> 8;
  ring[(at + 2) & mask] = length >>> 16;
  ring[(at + 3) & mask] = length >>> 24;
}

/** Read the 4-byte little-endian length prefix at counter position `at`, in place. */
function readLength(ring: Uint8Array, at: number): number {
  const mask = ring.length - 1;
  return (ring[at & mask]! | (ring[(at + 1) & mask]! << 8) | (ring[(at + 2) & mask]! << 16) | (ring[(at + 3) & mask]! << 24)) >>> 0;
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
