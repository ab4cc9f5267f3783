// Known mistake "restart-timer-on-every-send": this file is the unchanged solution; the mistake is in exercise.ts.
/**
 * The wire format of our reliable protocol: one segment per UDP datagram, a 13-byte header in
 * front of the payload, a CRC-32 over everything after the checksum field, and 32-bit sequence
 * numbers that wrap around, computed from absolute stream offsets.
 *
 *  0               8               16              24             31
 * +---------------------------------------------------------------+
 * |                      Checksum (CRC-32)                        |  0
 * +---------------------------------------------------------------+
 * |                       Sequence Number                         |  4
 * +---------------------------------------------------------------+
 * |                    Acknowledgment Number                      |  8
 * +---------------+-----------------------------------------------+
 * |     Flags     |  Payload (the rest of the datagram) ...          12, 13
 * +---------------+
 */
import { crc32 } from 'node:zlib';

/** Header bytes in front of the payload: checksum 4, seq 4, ack 4, flags 1. */
export const HEADER_BYTES = 13;
/** Flag bit: the Acknowledgment Number is valid (as TCP's ACK control bit, RFC 9293 §3.1). */
export const FLAG_ACK = 0x01;
/** Flag bit: the stream ends here; the FIN takes one sequence number, after the payload (RFC 9293 §3.4). */
export const FLAG_FIN = 0x02;
/** Most payload bytes in one segment (our MSS, cf. RFC 9293 §3.7.1): a segment then fits a 1500-byte Ethernet frame. */
export const DEFAULT_MSS = 1_000;
/** Default window: how many sequence numbers may be sent and not yet acknowledged (RFC 9293 §3.8.6). */
export const DEFAULT_WINDOW_BYTES = 16_000;
/** How many sequence numbers there are: they are 32 bits wide and wrap (RFC 9293 §3.4). */
export const SEQ_SPACE = 2 ** 32;

/** One segment, decoded. */
export interface Segment {
  /** Sequence number (32 bits) of the first payload byte, or of the FIN when there is no payload; 0 in a pure ACK. */
  seq: number;
  /** Acknowledgment number (32 bits): the next sequence number the receiver expects. Present exactly when the ACK flag is set. */
  ack?: number;
  /** The FIN flag: the stream ends after this segment's payload. */
  fin?: boolean;
  /** The data bytes (may be empty). */
  payload: Uint8Array;
}

/** Error codes of `decodeSegment`. */
export type SegmentErrorCode = 'ERR_SEGMENT_TRUNCATED' | 'ERR_SEGMENT_CHECKSUM';

/** A datagram that is not a segment we can trust: too short, or damaged on the way. */
export class SegmentError extends Error {
  override name = 'SegmentError';

  constructor(
    /** Stable code: tests check this, never the message. */
    readonly code: SegmentErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The checksum of our segments: CRC-32 (the one Ethernet and zip use), from node:zlib. */
export function checksum(bytes: Uint8Array): number {
  return crc32(bytes) >>> 0;
}

/** The datagram for `segment`: header (with its checksum) followed by the payload. */
export function encodeSegment(segment: Segment): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + segment.payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(4, segment.seq >>> 0);
  view.setUint32(8, (segment.ack ?? 0) >>> 0);
  view.setUint8(12, (segment.ack !== undefined ? FLAG_ACK : 0) | (segment.fin ? FLAG_FIN : 0));
  out.set(segment.payload, HEADER_BYTES);
  // The checksum goes in last, over every byte after its own field: header and payload alike.
  view.setUint32(0, checksum(out.subarray(4)));
  return out;
}

/** The segment in `datagram`; throws SegmentError when it is too short or its checksum does not match. */
export function decodeSegment(datagram: Uint8Array): Segment {
  if (datagram.length < HEADER_BYTES) {
    throw new SegmentError('ERR_SEGMENT_TRUNCATED', `a segment has at least ${HEADER_BYTES} bytes, got ${datagram.length}`);
  }
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  // Check before reading any field: a damaged flag or number is worse than no segment at all.
  const expected = view.getUint32(0);
  const actual = checksum(datagram.subarray(4));
  if (expected !== actual) {
    throw new SegmentError('ERR_SEGMENT_CHECKSUM', `checksum 0x${expected.toString(16)} does not match the content (0x${actual.toString(16)})`);
  }
  const flags = view.getUint8(12);
  const segment: Segment = { seq: view.getUint32(4), payload: datagram.slice(HEADER_BYTES) };
  if (flags & FLAG_ACK) segment.ack = view.getUint32(8);
  if (flags & FLAG_FIN) segment.fin = true;
  return segment;
}

/** The 32-bit sequence number of stream offset `offset` (0 = the first byte) in a stream that starts at `isn`. */
export function wrap(offset: number, isn: number): number {
  // `>>> 0` takes the sum modulo 2^32 as an unsigned number, exactly, for any offset below 2^53.
  return (isn + offset) >>> 0;
}

/** The stream offset whose sequence number is `seq` that lies nearest `checkpoint` (an offset this side already knows). */
export function unwrap(seq: number, isn: number, checkpoint: number): number {
  // The short way round the circle from the checkpoint's sequence number to seq: -2^31 .. 2^31 - 1.
  const step = (seq - wrap(checkpoint, isn)) | 0;
  const offset = checkpoint + step;
  // Offsets are never negative: a step back past 0 really means a full turn forward.
  return offset < 0 ? offset + SEQ_SPACE : offset;
}
