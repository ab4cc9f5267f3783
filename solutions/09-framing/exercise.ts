/**
 * Chapter 09 · From byte stream to messages (reference solution): framing.
 *
 * TCP delivers a stream of bytes with no edges in it: one 'data' event may hold half a message,
 * or three. A framing marks where each message ends, so that the receiver can cut the stream
 * back into the messages the sender wrote. Two framings, each with an encoder and a decoder:
 *
 * - length-prefixed: a 4-byte big-endian length, then that many bytes (binary-safe);
 * - line-delimited: UTF-8 text ended by a newline byte (0x0a), as in JSON Lines.
 *
 * The decoders are state machines over bytes. They take chunks of any size, hand out each
 * complete frame as soon as its last byte arrives, and refuse a frame over their limit before
 * they buffer any of it.
 */

/** Bytes in a length prefix: a 32-bit unsigned length in network byte order (big-endian, RFC 1700). */
export const HEADER_BYTES = 4;
/** The largest length a 4-byte header can declare, 2^32 - 1, and so the largest limit either decoder accepts. */
export const LARGEST_LENGTH = 0xffff_ffff;
/** The limit of a length-prefixed frame's body when none is given: 1 MiB. */
export const DEFAULT_MAX_FRAME_SIZE = 1024 * 1024;
/** The limit of a line's bytes (its newline not counted) when none is given: 64 KiB. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;
/** The byte that ends a line: LF, 0x0a (as in JSON Lines). UTF-8 never uses it inside a character (RFC 3629 §3). */
export const NEWLINE = 0x0a;

/** The stable codes of the framing errors. */
export type FramingErrorCode = 'ERR_BAD_LIMIT' | 'ERR_FRAME_TOO_LARGE' | 'ERR_TRUNCATED_FRAME' | 'ERR_INVALID_UTF8' | 'ERR_NEWLINE_IN_LINE';

/** Base class of every framing error. Check `code`, never the message text. */
export class FramingError extends Error {
  override name = 'FramingError';

  constructor(
    /** Stable code, e.g. 'ERR_FRAME_TOO_LARGE'. */
    readonly code: FramingErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A limit that is not a whole number from 0 to LARGEST_LENGTH. */
export class BadLimitError extends FramingError {
  override name = 'BadLimitError';

  constructor(
    /** The rejected limit. */
    readonly limit: number,
  ) {
    super('ERR_BAD_LIMIT', `a limit must be a whole number from 0 to ${LARGEST_LENGTH}, not ${limit}`);
  }
}

/** A frame or line over the limit: refused before its body is buffered. */
export class FrameTooLargeError extends FramingError {
  override name = 'FrameTooLargeError';

  constructor(
    /** A frame's length in bytes (as declared by its header); for a line being decoded, how many of its bytes had arrived (more than `limit`). */
    readonly size: number,
    /** The limit it broke. */
    readonly limit: number,
  ) {
    super('ERR_FRAME_TOO_LARGE', `a frame of ${size} bytes is over the limit of ${limit}`);
  }
}

/** The stream ended in the middle of a frame or line. */
export class TruncatedFrameError extends FramingError {
  override name = 'TruncatedFrameError';

  constructor(
    /** The bytes of the unfinished frame (header included) or line that the decoder held at the end. */
    readonly bufferedBytes: number,
  ) {
    super('ERR_TRUNCATED_FRAME', `the stream ended in the middle of a frame, ${bufferedBytes} bytes into it`);
  }
}

/** A line whose bytes are not valid UTF-8 (RFC 3629). */
export class InvalidUtf8Error extends FramingError {
  override name = 'InvalidUtf8Error';

  constructor() {
    super('ERR_INVALID_UTF8', 'a line is not valid UTF-8');
  }
}

/** A line to encode that contains the delimiter itself. */
export class NewlineInLineError extends FramingError {
  override name = 'NewlineInLineError';

  constructor(
    /** Where the first '\n' is in the text (a string index). */
    readonly index: number,
  ) {
    super('ERR_NEWLINE_IN_LINE', `the text has a newline at index ${index}, so it would arrive as two lines`);
  }
}

/** Where a LengthPrefixDecoder is: reading a header, reading a body, or stopped by an error for good. */
export type DecoderState = 'header' | 'body' | 'failed';

/** Options of a LengthPrefixDecoder. */
export interface FrameDecoderOptions {
  /** The largest body length accepted, in bytes (default DEFAULT_MAX_FRAME_SIZE). */
  maxFrameSize?: number;
}

/** Options of a LineDecoder. */
export interface LineDecoderOptions {
  /** The most bytes a line may have, its newline not counted (default DEFAULT_MAX_LINE_BYTES). */
  maxLineBytes?: number;
}

const utf8 = new TextEncoder();

/** Throw BadLimitError unless `limit` is a whole number from 0 to LARGEST_LENGTH. */
function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0 || limit > LARGEST_LENGTH) throw new BadLimitError(limit);
  return limit;
}

/** The 4-byte header and the body of one frame. The length is the body's size in bytes, not in characters. */
export function encodeFrame(payload: Uint8Array | string, maxFrameSize = DEFAULT_MAX_FRAME_SIZE): Uint8Array {
  checkLimit(maxFrameSize);
  // Count bytes: '😀'.length is 2, but it takes 4 bytes in UTF-8.
  const body = typeof payload === 'string' ? utf8.encode(payload) : payload;
  if (body.length > maxFrameSize) throw new FrameTooLargeError(body.length, maxFrameSize);
  const frame = new Uint8Array(HEADER_BYTES + body.length);
  // DataView writes big-endian unless told otherwise: network byte order.
  new DataView(frame.buffer).setUint32(0, body.length);
  // set() copies the view's own bytes, wherever it sits in its ArrayBuffer.
  frame.set(body, HEADER_BYTES);
  return frame;
}

/** One line: the text's UTF-8 bytes, then a newline. */
export function encodeLine(text: string, maxLineBytes = DEFAULT_MAX_LINE_BYTES): Uint8Array {
  checkLimit(maxLineBytes);
  // A newline inside the text would cut it in two at the other end: refuse rather than corrupt.
  const index = text.indexOf('\n');
  if (index !== -1) throw new NewlineInLineError(index);
  const body = utf8.encode(text);
  if (body.length > maxLineBytes) throw new FrameTooLargeError(body.length, maxLineBytes);
  const line = new Uint8Array(body.length + 1);
  line.set(body);
  line[body.length] = NEWLINE;
  return line;
}

/** Read a 4-byte big-endian unsigned length at `at`. */
function readLength(bytes: Uint8Array, at: number): number {
  // `>>> 0` keeps it unsigned: `0x80 << 24` alone is a negative number, which would pass any limit check.
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/**
 * Cuts a stream of length-prefixed frames back into frames. Feed it chunks with `push` as they
 * arrive; it calls `onFrame` once per complete frame, in order, with a copy the caller owns.
 */
export class LengthPrefixDecoder {
  /** The largest body length accepted, in bytes. */
  readonly maxFrameSize: number;
  readonly #onFrame: (frame: Uint8Array) => void;
  #state: DecoderState = 'header';
  /** The header bytes read so far (a header may arrive split across chunks). */
  readonly #header = new Uint8Array(HEADER_BYTES);
  #headerFilled = 0;
  /** The declared length of the frame being read. */
  #length = 0;
  /** The body being filled, allocated once its length has passed the limit check. */
  #body: Uint8Array | undefined;
  #bodyFilled = 0;
  #error: FramingError | undefined;

  /** A decoder that calls `onFrame` with each whole frame's body. Throws BadLimitError for a bad `maxFrameSize`. */
  constructor(onFrame: (frame: Uint8Array) => void, options: FrameDecoderOptions = {}) {
    this.maxFrameSize = checkLimit(options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE);
    this.#onFrame = onFrame;
  }

  /** 'header' (between frames or inside a header), 'body' (inside a body) or 'failed' (after an error). */
  get state(): DecoderState {
    return this.#state;
  }

  /** The bytes of the frame in progress taken in so far, header included; 0 between frames. */
  get bufferedBytes(): number {
    return this.#state === 'body' ? HEADER_BYTES + this.#bodyFilled : this.#headerFilled;
  }

  /**
   * Take the next chunk of the stream (any size, even empty); call `onFrame` for every frame it
   * completes. The caller may reuse `chunk` once this returns. Throws FrameTooLargeError; after
   * any error, every call throws that same error again.
   */
  push(chunk: Uint8Array): void {
    this.#throwIfFailed();
    let at = 0;
    // Each step consumes what the current state needs from the chunk; the loop ends when the chunk is used up.
    while (at < chunk.length) {
      at = this.#state === 'header' ? this.#readHeader(chunk, at) : this.#readBody(chunk, at);
    }
  }

  /** The stream has ended. Throws TruncatedFrameError if it ended inside a frame (bufferedBytes > 0). */
  end(): void {
    this.#throwIfFailed();
    // A peer that hangs up in the middle of a frame sent a broken message, not a short one.
    if (this.bufferedBytes > 0) this.#fail(new TruncatedFrameError(this.bufferedBytes));
  }

  #readHeader(chunk: Uint8Array, at: number): number {
    // Stryker disable next-line BlockStatement: a fast path; with an empty block the general path below reads the same header.
    if (this.#headerFilled === 0 && chunk.length - at >= HEADER_BYTES) {
      // The whole header is in this chunk: read it in place.
      this.#onLength(readLength(chunk, at));
      return at + HEADER_BYTES;
    }
    const n = Math.min(HEADER_BYTES - this.#headerFilled, chunk.length - at);
    this.#header.set(chunk.subarray(at, at + n), this.#headerFilled);
    this.#headerFilled += n;
    if (this.#headerFilled === HEADER_BYTES) {
      this.#headerFilled = 0;
      this.#onLength(readLength(this.#header, 0));
    }
    return at + n;
  }

  #onLength(length: number): void {
    // The limit is checked on the declared length, before a single byte of the body is kept.
    if (length > this.maxFrameSize) this.#fail(new FrameTooLargeError(length, this.maxFrameSize));
    if (length === 0) {
      // A zero-length frame is complete as soon as its header is.
      this.#onFrame(new Uint8Array(0));
      return;
    }
    this.#length = length;
    this.#state = 'body';
  }

  #readBody(chunk: Uint8Array, at: number): number {
    const need = this.#length - this.#bodyFilled;
    const available = chunk.length - at;
    // Stryker disable next-line BlockStatement: a fast path; with an empty block the general path below delivers the same bytes.
    if (this.#body === undefined && available >= need) {
      // The whole body is in this chunk: copy it out once. (A copy, not a view: the caller may reuse its chunk.)
      // Buffer.from copies a small frame into Node's shared 8 KiB pool: one allocation per pool, not one
      // per frame, which is what a frame of ~1 KiB costs most. Buffer is a Uint8Array.
      this.#deliver(Buffer.from(chunk.subarray(at, at + need)));
      return at + need;
    }
    // The body spans chunks: fill one buffer of the declared length, so every byte is copied once.
    // allocUnsafe skips zeroing it (every byte is written before the frame is delivered) and uses the pool when small.
    this.#body ??= Buffer.allocUnsafe(this.#length);
    const n = Math.min(need, available);
    this.#body.set(chunk.subarray(at, at + n), this.#bodyFilled);
    this.#bodyFilled += n;
    if (this.#bodyFilled === this.#length) this.#deliver(this.#body);
    return at + n;
  }

  #deliver(frame: Uint8Array): void {
    // Back to 'header' before calling out, so the decoder is consistent even if onFrame throws.
    this.#state = 'header';
    this.#body = undefined;
    this.#bodyFilled = 0;
    this.#onFrame(frame);
  }

  #fail(error: FramingError): never {
    // A length-prefixed stream cannot find the next frame after a bad one: stop for good and drop what is held.
    this.#state = 'failed';
    this.#error = error;
    this.#headerFilled = 0;
    this.#body = undefined;
    throw error;
  }

  #throwIfFailed(): void {
    if (this.#error) throw this.#error;
  }
}

/**
 * Cuts a stream of newline-ended UTF-8 lines back into strings. Feed it chunks with `push`; it
 * calls `onLine` once per complete line, in order, without its newline.
 */
export class LineDecoder {
  /** The most bytes a line may have, its newline not counted. */
  readonly maxLineBytes: number;
  readonly #onLine: (line: string) => void;
  /** Copies of the pieces of the unfinished line, and their total size. */
  #pieces: Uint8Array[] = [];
  #buffered = 0;
  #error: FramingError | undefined;
  // fatal: refuse invalid UTF-8 instead of replacing it; ignoreBOM: a line's bytes come out as they were sent.
  readonly #text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  /** A decoder that calls `onLine` with each whole line. Throws BadLimitError for a bad `maxLineBytes`. */
  constructor(onLine: (line: string) => void, options: LineDecoderOptions = {}) {
    this.maxLineBytes = checkLimit(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.#onLine = onLine;
  }

  /** The bytes of the unfinished line held so far; 0 between lines. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /**
   * Take the next chunk of the stream; call `onLine` for every line it completes. The caller may
   * reuse `chunk` once this returns. Throws FrameTooLargeError, InvalidUtf8Error; after any
   * error, every call throws that same error again.
   */
  push(chunk: Uint8Array): void {
    this.#throwIfFailed();
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline;
      // Check before keeping anything: a line over the limit is refused without buffering past it.
      const size = this.#buffered + (end - start);
      if (size > this.maxLineBytes) this.#fail(new FrameTooLargeError(size, this.maxLineBytes));
      if (newline === -1) {
        // No newline yet: keep a copy of the piece (Buffer's slice() would be a view) and wait for more input.
        this.#pieces.push(new Uint8Array(chunk.subarray(start)));
        this.#buffered = size;
        return;
      }
      this.#deliver(this.#lineEndingWith(chunk.subarray(start, newline)));
      start = newline + 1;
    }
  }

  /** The stream has ended. Throws TruncatedFrameError if it ended inside a line (bufferedBytes > 0). */
  end(): void {
    this.#throwIfFailed();
    // A line is only complete with its newline: text after the last one was cut off.
    if (this.#buffered > 0) this.#fail(new TruncatedFrameError(this.#buffered));
  }

  /** The whole line: the pieces kept so far, then `last`. */
  #lineEndingWith(last: Uint8Array): Uint8Array {
    if (this.#pieces.length === 0) return last;
    const line = new Uint8Array(this.#buffered + last.length);
    let at = 0;
    for (const piece of [...this.#pieces, last]) {
      line.set(piece, at);
      at += piece.length;
    }
    this.#pieces = [];
    this.#buffered = 0;
    return line;
  }

  #deliver(bytes: Uint8Array): void {
    let line: string;
    try {
      // Decode whole lines only, so a character split across chunks is already back in one piece.
      line = this.#text.decode(bytes);
    } catch {
      this.#fail(new InvalidUtf8Error());
    }
    this.#onLine(line);
  }

  #fail(error: FramingError): never {
    this.#error = error;
    // Stryker disable next-line ArrayDeclaration: a failed decoder never reads its pieces again; this only frees them.
    this.#pieces = [];
    this.#buffered = 0;
    throw error;
  }

  #throwIfFailed(): void {
    if (this.#error) throw this.#error;
  }
}
