/**
 * Chapter 11 · Given: length-prefixed framing (nothing to do in this file).
 *
 * TCP delivers a stream of bytes, not messages (chapter 09 builds this from scratch). Every message
 * of this chapter travels as one frame: a 4-byte big-endian length, then that many bytes of payload.
 *
 *   +--------+--------+--------+--------+------------------------------+
 *   |        payload length (uint32 BE)  |  payload: UTF-8 JSON, length |
 *   +--------+--------+--------+--------+------------------------------+
 *
 * `encodeFrame` adds the header; a `FrameReader` takes chunks as they arrive, cut anywhere, and gives
 * back whole frames. A header that announces more than the reader's limit is refused before any of
 * its payload is buffered: after that the stream cannot be trusted, so close the connection.
 */

/** Bytes in a frame's header: the payload length as an unsigned 32-bit big-endian number. */
export const FRAME_HEADER_BYTES = 4;

/** The largest payload a FrameReader accepts by default (1 MiB): a limit is a defence, not a suggestion. */
export const MAX_FRAME_BYTES = 1024 * 1024;

/** A header announced a payload larger than the reader's limit. The connection must be closed. */
export class FrameTooLargeError extends Error {
  override name = 'FrameTooLargeError';
  /** Stable code; check this, not the message. */
  readonly code = 'ERR_FRAME_TOO_LARGE';

  constructor(
    /** The length the header announced. */
    readonly length: number,
    /** The reader's limit. */
    readonly limit: number,
  ) {
    super(`a frame of ${length} bytes is over the limit of ${limit}`);
  }
}

/** One frame: the header, then a copy of `payload`. */
export function encodeFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/** Turns chunks of a byte stream, cut anywhere, into whole frame payloads. */
export class FrameReader {
  /** Received bytes not yet returned, in the pieces they came in (joined once a frame is whole). */
  #pieces: Buffer[] = [];
  #buffered = 0;
  /** The payload length of the frame being read, once its header is in; undefined while waiting for a header. */
  #length: number | undefined;

  /** `maxBytes`: the largest payload accepted. */
  constructor(readonly maxBytes = MAX_FRAME_BYTES) {}

  /** Take one chunk; return the payloads of every frame it completes, oldest first. Throws FrameTooLargeError. */
  push(chunk: Uint8Array): Buffer[] {
    // A copy: the caller may reuse its buffer as soon as push() returns.
    this.#pieces.push(Buffer.from(chunk));
    this.#buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.#length === undefined) {
        if (this.#buffered < FRAME_HEADER_BYTES) break;
        const length = this.#take(FRAME_HEADER_BYTES).readUInt32BE(0);
        // Refuse before buffering: waiting for 4 GiB that a peer announced is how memory runs out.
        if (length > this.maxBytes) throw new FrameTooLargeError(length, this.maxBytes);
        this.#length = length;
      }
      if (this.#buffered < this.#length) break;
      frames.push(this.#take(this.#length));
      this.#length = undefined;
    }
    return frames;
  }

  /** Remove the first `n` buffered bytes and return them (fresh memory, not the caller's chunk). */
  #take(n: number): Buffer {
    // Join the pieces once, only when there are several: many small frames often share one chunk.
    if (this.#pieces.length > 1) this.#pieces = [Buffer.concat(this.#pieces, this.#buffered)];
    const all = this.#pieces[0]!;
    this.#pieces = [all.subarray(n)];
    this.#buffered -= n;
    return all.subarray(0, n);
  }
}
