/**
 * The wire, as chapter 08's lesson draws it: the suite's own encoder and decoder (never the learner's),
 * its own wrap and unwrap, and the byte-stream comparisons the failure messages use.
 */
import { crc32 } from 'node:zlib';
import { hexNumber } from '../helpers/index.ts';

export const HEADER = 13;
const ACK_BIT = 0x01;
const FIN_BIT = 0x02;
export const TWO32 = 2 ** 32;
export const none = new Uint8Array(0);

/** A segment as the suite reads it off the wire. */
export interface Wire {
  seq: number;
  ack?: number;
  fin: boolean;
  payload: Uint8Array;
}

/** Bytes of a segment, built by the suite (not by your encoder). */
export function wire(s: { seq: number; ack?: number; fin?: boolean; payload?: Uint8Array }): Uint8Array {
  const payload = s.payload ?? none;
  const out = new Uint8Array(HEADER + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(4, s.seq >>> 0);
  view.setUint32(8, (s.ack ?? 0) >>> 0);
  view.setUint8(12, (s.ack !== undefined ? ACK_BIT : 0) | (s.fin ? FIN_BIT : 0));
  out.set(payload, HEADER);
  view.setUint32(0, crc32(out.subarray(4)));
  return out;
}

/** Read a datagram the way the lesson says; a string says why it is not a valid segment. */
export function readWire(d: Uint8Array): Wire | string {
  if (!(d instanceof Uint8Array)) return `not bytes at all (${typeof d})`;
  if (d.length < HEADER) return `only ${d.length} bytes, less than the ${HEADER}-byte header`;
  const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const sum = crc32(d.subarray(4)) >>> 0;
  if (view.getUint32(0) !== sum) {
    return `its checksum field holds ${hexNumber(view.getUint32(0))} but the CRC-32 of bytes 4..${d.length - 1} is ${hexNumber(sum)}`;
  }
  const flags = view.getUint8(12);
  return {
    seq: view.getUint32(4),
    ack: flags & ACK_BIT ? view.getUint32(8) : undefined,
    fin: (flags & FIN_BIT) !== 0,
    payload: d.slice(HEADER),
  };
}

/** The suite's own wrap: a stream offset as a 32-bit sequence number. */
export const wrapRef = (offset: number, isn: number) => (isn + offset) >>> 0;

/** The suite's own unwrap: the offset that wraps to `seq` and is nearest `checkpoint`. */
export function unwrapRef(seq: number, isn: number, checkpoint: number): number {
  const offset = checkpoint + ((seq - wrapRef(checkpoint, isn)) | 0);
  return offset < 0 ? offset + TWO32 : offset;
}

/** A recognisable stream: byte i is a function of i, so a misplaced byte shows. */
export function stream(length: number, salt = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 131 + (i >> 8) * 7 + salt) & 0xff);
}

const hexByte = (b: number | undefined) => (b === undefined ? 'nothing' : hexNumber(b, 2));

/** "" when equal, else where and how `got` first differs from `want`. */
export function firstDifference(want: Uint8Array, got: Uint8Array): string {
  const n = Math.min(want.length, got.length);
  for (let i = 0; i < n; i++) {
    if (want[i] !== got[i]) return `the first wrong byte is at offset ${i}: expected ${hexByte(want[i])}, got ${hexByte(got[i])}`;
  }
  if (got.length < want.length) return `the stream stops after ${got.length} of ${want.length} bytes (offset ${got.length} onwards never arrived)`;
  if (got.length > want.length) return `${got.length - want.length} extra bytes arrived after the last one (offset ${want.length} onwards): something was delivered twice`;
  return '';
}

/** "0..100", "200..250+FIN", "FIN@250": how scripts write a data segment, in stream offsets. */
export function rangeText(start: number, end: number, fin: boolean): string {
  if (start === end && fin) return `FIN@${start}`;
  return `${start}..${end}${fin ? '+FIN' : ''}`;
}
