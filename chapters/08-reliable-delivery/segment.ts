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
import { todo } from '../workbook.ts';

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
  // TODO: write seq, ack (0 when absent), flags and payload big-endian, then the checksum of bytes 4..end into bytes 0..3.
  // The payload may be a view into a larger buffer: copy only its own bytes.
  return todo(import.meta.url, 'encodeSegment');
}

/** The segment in `datagram`; throws SegmentError when it is too short or its checksum does not match. */
export function decodeSegment(datagram: Uint8Array): Segment {
  // TODO: refuse fewer than HEADER_BYTES (ERR_SEGMENT_TRUNCATED), then a checksum that does not match
  // (ERR_SEGMENT_CHECKSUM); only then read the fields. `ack` is present only when FLAG_ACK is set.
  // `datagram` may be a view into a larger buffer: read it at its own byteOffset, never from buffer start.
  return todo(import.meta.url, 'decodeSegment');
}

/** The 32-bit sequence number of stream offset `offset` (0 = the first byte) in a stream that starts at `isn`. */
export function wrap(offset: number, isn: number): number {
  // TODO: (isn + offset) modulo 2^32, as an unsigned number.
  return todo(import.meta.url, 'wrap');
}

/** The stream offset whose sequence number is `seq` that lies nearest `checkpoint` (an offset this side already knows). */
export function unwrap(seq: number, isn: number, checkpoint: number): number {
  // TODO: step from wrap(checkpoint, isn) to seq the short way round the circle; an offset is never negative.
  return todo(import.meta.url, 'unwrap');
}
