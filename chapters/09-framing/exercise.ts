/**
 * Chapter 09 · From byte stream to messages: framing.
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
 *
 * Read chapters/09-framing/lesson.md first. Check your work with `npm run workbook -- check 09`.
 */
import { todo } from '../workbook.ts';

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

/** The 4-byte header and the body of one frame. The length is the body's size in bytes, not in characters. */
export function encodeFrame(payload: Uint8Array | string, maxFrameSize = DEFAULT_MAX_FRAME_SIZE): Uint8Array {
  // TODO: refuse a bad limit (BadLimitError) and a body over it (FrameTooLargeError); then a big-endian length in bytes, then a copy of the body.
  return todo(import.meta.url, 'encodeFrame');
}

/** One line: the text's UTF-8 bytes, then a newline. */
export function encodeLine(text: string, maxLineBytes = DEFAULT_MAX_LINE_BYTES): Uint8Array {
  // TODO: refuse a bad limit, a text with '\n' in it (NewlineInLineError) and one over the limit in bytes; then the UTF-8 bytes and NEWLINE.
  return todo(import.meta.url, 'encodeLine');
}

/**
 * Cuts a stream of length-prefixed frames back into frames. Feed it chunks with `push` as they
 * arrive; it calls `onFrame` once per complete frame, in order, with a copy the caller owns.
 */
export class LengthPrefixDecoder {
  /** The largest body length accepted, in bytes. */
  readonly maxFrameSize: number;
  // Your state goes here, as private fields (#name): the state, the header bytes read so far,
  // the declared length, the body bytes so far, and the error that stopped the decoder.

  /** A decoder that calls `onFrame` with each whole frame's body. Throws BadLimitError for a bad `maxFrameSize`. */
  constructor(onFrame: (frame: Uint8Array) => void, options: FrameDecoderOptions = {}) {
    // TODO: check the limit (default DEFAULT_MAX_FRAME_SIZE) and keep it and onFrame.
    this.maxFrameSize = todo(import.meta.url, 'LengthPrefixDecoder constructor');
  }

  /** 'header' (between frames or inside a header), 'body' (inside a body) or 'failed' (after an error). */
  get state(): DecoderState {
    // TODO: the state you are in.
    return todo(import.meta.url, 'LengthPrefixDecoder.state');
  }

  /** The bytes of the frame in progress taken in so far, header included; 0 between frames. */
  get bufferedBytes(): number {
    // TODO: header bytes read so far, or HEADER_BYTES plus the body bytes so far.
    return todo(import.meta.url, 'LengthPrefixDecoder.bufferedBytes');
  }

  /**
   * Take the next chunk of the stream (any size, even empty); call `onFrame` for every frame it
   * completes. The caller may reuse `chunk` once this returns. Throws FrameTooLargeError; after
   * any error, every call throws that same error again.
   */
  push(chunk: Uint8Array): void {
    // TODO: loop over the chunk: fill the header, check its length against the limit, fill the body, deliver a copy; repeat.
    return todo(import.meta.url, 'LengthPrefixDecoder.push');
  }

  /** The stream has ended. Throws TruncatedFrameError if it ended inside a frame (bufferedBytes > 0). */
  end(): void {
    // TODO: a stream that ends inside a frame is an error, not a short frame.
    return todo(import.meta.url, 'LengthPrefixDecoder.end');
  }
}

/**
 * Cuts a stream of newline-ended UTF-8 lines back into strings. Feed it chunks with `push`; it
 * calls `onLine` once per complete line, in order, without its newline.
 */
export class LineDecoder {
  /** The most bytes a line may have, its newline not counted. */
  readonly maxLineBytes: number;
  // Your state goes here, as private fields (#name): the bytes of the unfinished line, their
  // count, and the error that stopped the decoder.

  /** A decoder that calls `onLine` with each whole line. Throws BadLimitError for a bad `maxLineBytes`. */
  constructor(onLine: (line: string) => void, options: LineDecoderOptions = {}) {
    // TODO: check the limit (default DEFAULT_MAX_LINE_BYTES) and keep it and onLine.
    this.maxLineBytes = todo(import.meta.url, 'LineDecoder constructor');
  }

  /** The bytes of the unfinished line held so far; 0 between lines. */
  get bufferedBytes(): number {
    // TODO: the size of the unfinished line.
    return todo(import.meta.url, 'LineDecoder.bufferedBytes');
  }

  /**
   * Take the next chunk of the stream; call `onLine` for every line it completes. The caller may
   * reuse `chunk` once this returns. Throws FrameTooLargeError, InvalidUtf8Error; after any
   * error, every call throws that same error again.
   */
  push(chunk: Uint8Array): void {
    // TODO: find each newline byte; refuse a line over the limit before keeping it; decode whole lines (never a piece) as UTF-8.
    return todo(import.meta.url, 'LineDecoder.push');
  }

  /** The stream has ended. Throws TruncatedFrameError if it ended inside a line (bufferedBytes > 0). */
  end(): void {
    // TODO: text after the last newline was cut off: an error.
    return todo(import.meta.url, 'LineDecoder.end');
  }
}
