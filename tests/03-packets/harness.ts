/**
 * Chapter 03's own test harness: fixtures, the test's own checksum arithmetic (to build inputs),
 * failure messages that name the header field at a byte offset, and the typed-error and
 * buffer-window checks that many tests share. Nothing here is a model answer.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as P from '@impl/03-packets/exercise.ts';
import { check, fail, hexBytes, hexNumber, hexdump, lessonOf, thrown } from '../helpers/index.ts';

export const ID = '03-packets';
export const lesson = lessonOf(ID);

// ---------------------------------------------------------------------------------------------
// Bytes and fixtures
// ---------------------------------------------------------------------------------------------

/** Bytes from "45 00 00 29 ..." (spaces optional). */
export function bytes(hexText: string): Uint8Array {
  const digits = hexText.replace(/\s+/g, '');
  return Uint8Array.from(digits.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/** A hex fixture from fixtures/<name>.hex: `#` lines are notes (how it was captured), the rest is hex bytes. */
export function fixture(name: string): Uint8Array {
  const file = fileURLToPath(new URL(`./fixtures/${name}.hex`, import.meta.url));
  const hexText = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join(' ');
  return bytes(hexText);
}

export const text = (s: string) => new TextEncoder().encode(s);
export const none = new Uint8Array(0);

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// ---------------------------------------------------------------------------------------------
// The test's own checksum arithmetic, to build inputs (one fold per word: not a model answer)
// ---------------------------------------------------------------------------------------------

/** The one's complement sum of `data`, continuing from `initial`. */
export function referenceSum(data: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i < data.length; i += 2) {
    sum += (data[i]! << 8) | (data[i + 1] ?? 0);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return sum;
}

/** The pseudo-header bytes: source, destination, zero, protocol, length. */
export function pseudoBytes(source: string, destination: string, protocol: number, length: number): Uint8Array {
  const quad = (a: string) => a.split('.').map(Number);
  return Uint8Array.from([...quad(source), ...quad(destination), 0, protocol, length >> 8, length & 0xff]);
}

/** Copy an IPv4 header region and recompute its checksum, so only the field a test changed is wrong. */
export function withFreshIpChecksum(packet: Uint8Array, headerBytes = 20): Uint8Array {
  const out = packet.slice();
  out[10] = 0;
  out[11] = 0;
  const c = ~referenceSum(out.subarray(0, headerBytes)) & 0xffff;
  out[10] = c >> 8;
  out[11] = c & 0xff;
  return out;
}

/** A copy of a TCP segment with bytes 16..17 set to the checksum the test computes itself. */
export function withTcpChecksum(segment: Uint8Array, { source, destination }: P.AddressPair): Uint8Array {
  const out = segment.slice();
  out[16] = 0;
  out[17] = 0;
  const c = ~referenceSum(out, referenceSum(pseudoBytes(source, destination, 6, out.length))) & 0xffff;
  out[16] = c >> 8;
  out[17] = c & 0xff;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Values, fields and outcomes in words
// ---------------------------------------------------------------------------------------------

/** Bytes as an indented hex dump on lines of their own. */
export const dump = (b: Uint8Array) => `\n${hexdump(b, '    ')}`;

export function formatValue(v: unknown): string {
  if (v instanceof Uint8Array) return `${v.length} bytes: ${hexBytes(v)}`;
  if (typeof v === 'number') return Number.isInteger(v) && v > 9 ? `${v} (${hexNumber(v, v > 0xffff ? 8 : 4)})` : String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

/** A random case for a failure message: "ttl 3, source "0.0.0.0", options 0 bytes: (no bytes), ...". */
export function showCase(c: object): string {
  return Object.entries(c)
    .map(([k, v]) => (v !== null && typeof v === 'object' && !(v instanceof Uint8Array) ? `${k} { ${showCase(v)} }` : `${k} ${formatValue(v)}`))
    .join(', ');
}

/** "  ttl: expected 64, got 0" for every field of `expected` that `actual` gets wrong. */
export function fieldDifferences(expected: object, actual: unknown): string[] {
  const got = (actual ?? {}) as Record<string, unknown>;
  return Object.entries(expected).flatMap(([k, want]) => {
    const have = got[k];
    const ok = want instanceof Uint8Array ? have instanceof Uint8Array && sameBytes(want, have) : want === have;
    return ok ? [] : [`  ${k}: expected ${formatValue(want)}, got ${formatValue(have)}`];
  });
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Run `fn` and keep what it returned or threw. */
export function attempt<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** "threw ChecksumError [ERR_BAD_CHECKSUM] (layer udp): ...". */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return `threw a non-Error: ${String(e)}`;
  const layer = (e as { layer?: unknown }).layer;
  return `threw ${thrown(e)}${layer !== undefined ? ` (layer ${String(layer)})` : ''}`;
}

export function describeOutcome(o: Outcome<unknown>): string {
  if (!o.ok) return describeError(o.error);
  const json = JSON.stringify(o.value, (_k, v: unknown) => (v instanceof Uint8Array ? `<${hexBytes(v)}>` : v));
  return `returned ${json && json.length > 400 ? `${json.slice(0, 400)}...` : json}`;
}

// ---------------------------------------------------------------------------------------------
// Header layouts: which field a byte offset belongs to
// ---------------------------------------------------------------------------------------------

/** Byte ranges of the headers, so a failure can name the field at an offset. */
export type Layout = [start: number, end: number, name: string][];
export const IPV4_LAYOUT: Layout = [
  [0, 1, 'IPv4 Version + IHL'], [1, 2, 'IPv4 DSCP + ECN'], [2, 4, 'IPv4 Total Length'], [4, 6, 'IPv4 Identification'],
  [6, 8, 'IPv4 Flags + Fragment Offset'], [8, 9, 'IPv4 TTL'], [9, 10, 'IPv4 Protocol'], [10, 12, 'IPv4 Header Checksum'],
  [12, 16, 'IPv4 Source Address'], [16, 20, 'IPv4 Destination Address'],
];
export const UDP_LAYOUT: Layout = [[0, 2, 'UDP Source Port'], [2, 4, 'UDP Destination Port'], [4, 6, 'UDP Length'], [6, 8, 'UDP Checksum']];
export const TCP_LAYOUT: Layout = [
  [0, 2, 'TCP Source Port'], [2, 4, 'TCP Destination Port'], [4, 8, 'TCP Sequence Number'], [8, 12, 'TCP Acknowledgment Number'],
  [12, 13, 'TCP Data Offset + reserved'], [13, 14, 'TCP control bits (flags)'], [14, 16, 'TCP Window'], [16, 18, 'TCP Checksum'],
  [18, 20, 'TCP Urgent Pointer'],
];
const shift = (layout: Layout, by: number): Layout => layout.map(([s, e, n]) => [s + by, e + by, n]);
export const UDP_IN_IP: Layout = [...IPV4_LAYOUT, ...shift(UDP_LAYOUT, 20)];
export const TCP_IN_IP: Layout = [...IPV4_LAYOUT, ...shift(TCP_LAYOUT, 20)];

export function fieldAt(layout: Layout, offset: number, optionsEnd = 0): string {
  const hit = layout.find(([s, e]) => offset >= s && offset < e);
  if (hit) return `${hit[2]} (byte ${offset})`;
  return offset < optionsEnd ? `options (byte ${offset})` : `payload (byte ${offset})`;
}

/** "they differ first at byte 2 (IPv4 Total Length)" plus both dumps. */
export function compareBytes(expected: Uint8Array, actual: Uint8Array, layout: Layout, optionsEnd = 0): string {
  let i = 0;
  while (i < expected.length && i < actual.length && expected[i] === actual[i]) i++;
  const where = i < expected.length || i < actual.length ? fieldAt(layout, i, optionsEnd) : 'nowhere';
  const field = layout.find(([s, e]) => i >= s && i < e);
  const swapped =
    field !== undefined &&
    field[1] - field[0] > 1 &&
    sameBytes(actual.subarray(field[0], field[1]), expected.subarray(field[0], field[1]).slice().reverse());
  return [
    `they first differ at ${where}.${swapped ? ` Its bytes are in reverse order: ${hexBytes(actual.subarray(field![0], field![1]))} instead of ${hexBytes(expected.subarray(field![0], field![1]))}, the value written little-endian.` : ''}`,
    `  expected (${expected.length} bytes):${dump(expected)}`,
    `  yours    (${actual.length} bytes):${dump(actual)}`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Typed errors, and calls that must work
// ---------------------------------------------------------------------------------------------

const isPacketError = (e: unknown, code: P.PacketErrorCode, layer?: P.Layer): boolean =>
  e instanceof P.PacketError && e.code === code && (layer === undefined || e.layer === layer);

/** The error class the lesson's table names for each code. */
const ERROR_CLASS: Record<P.PacketErrorCode, { name: string; cls: new (...args: never[]) => P.PacketError }> = {
  ERR_PACKET_TRUNCATED: { name: 'TruncatedPacketError', cls: P.TruncatedPacketError },
  ERR_BAD_CHECKSUM: { name: 'ChecksumError', cls: P.ChecksumError },
  ERR_BAD_VERSION: { name: 'BadVersionError', cls: P.BadVersionError },
  ERR_BAD_HEADER_LENGTH: { name: 'BadHeaderLengthError', cls: P.BadHeaderLengthError },
  ERR_WRONG_PROTOCOL: { name: 'WrongProtocolError', cls: P.WrongProtocolError },
  ERR_FIELD_RANGE: { name: 'FieldRangeError', cls: P.FieldRangeError },
};

/** Run `fn` and require the typed error for this code (and layer, and documented fields). */
export function expectPacketError(
  fn: () => unknown,
  want: { code: P.PacketErrorCode; layer?: P.Layer; fields?: Record<string, unknown> },
  ctx: { call: string; input: Uint8Array | string; heading: string; why: string },
): void {
  const o = attempt(fn);
  const { name, cls } = ERROR_CLASS[want.code];
  const wrongFields = !o.ok && want.fields ? fieldDifferences(want.fields, o.error) : [];
  if (!o.ok && isPacketError(o.error, want.code, want.layer) && o.error instanceof cls && wrongFields.length === 0) return;
  const fieldsText = want.fields ? `, with ${Object.entries(want.fields).map(([k, v]) => `${k} ${formatValue(v)}`).join(', ')}` : '';
  fail({
    did: `${ctx.call} ${describeOutcome(o)}${wrongFields.length ? `\n  its fields:\n${wrongFields.join('\n')}` : ''}\n  input:${typeof ctx.input === 'string' ? ` ${ctx.input}` : dump(ctx.input)}`,
    expected: `a ${name} (code ${want.code}${want.layer ? `, layer '${want.layer}'` : ''}${fieldsText}): ${ctx.why}`,
    lesson: lesson(ctx.heading),
  });
}

/** Run `fn`; on a throw, fail with a message that says which call threw on which bytes. */
export function mustWork<T>(fn: () => T, call: string, input: Uint8Array, heading: string, why: string): T {
  const o = attempt(fn);
  if (o.ok) return o.value;
  return fail({ did: `${call} ${describeError(o.error)}\n  input:${dump(input)}`, expected: why, lesson: lesson(heading) });
}

// ---------------------------------------------------------------------------------------------
// Corrupted bytes
// ---------------------------------------------------------------------------------------------

/** The fixed XOR masks tried on every byte: each single-bit flip, and all eight bits. */
export const FLIPS = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff];

/** What one corruption check needs: the packet, how to decode it, and how to name a byte and the reason. */
export interface CorruptionCase {
  packet: Uint8Array;
  /** "decodeIPv4 + decodeTcp" */
  call: string;
  decode: (packet: Uint8Array) => unknown;
  /** The field at byte `at`, in words. */
  fieldAt: (at: number) => string;
  /** Why a PacketError is due when byte `at` changed. */
  expected: (at: number) => string;
}

/** A copy of the packet with byte `at` XORed with `flip`; fails unless decoding it throws a PacketError. */
export function checkCorruptionCaught(c: CorruptionCase, at: number, flip: number): void {
  const bad = c.packet.slice();
  bad[at]! ^= flip;
  const o = attempt(() => c.decode(bad));
  if (!o.ok && o.error instanceof P.PacketError) return;
  fail({
    did: `with byte ${at} (${c.fieldAt(at)}) changed from ${hexNumber(c.packet[at]!, 2)} to ${hexNumber(bad[at]!, 2)}, ${c.call} ${describeOutcome(o)}`,
    expected: c.expected(at),
    lesson: lesson('Trust nothing: truncated and corrupted packets'),
    extra: `corrupted packet:${dump(bad)}`,
  });
}

// ---------------------------------------------------------------------------------------------
// Windows: data at an odd offset inside a larger buffer
// ---------------------------------------------------------------------------------------------

/** Where a window starts in its larger buffer. */
export const WINDOW_AT = 37;

/** `data` copied into a larger buffer at an odd offset, with 0xee filler on both sides. */
export function inWindow(data: Uint8Array): { big: Uint8Array; window: Uint8Array } {
  const big = new Uint8Array(WINDOW_AT + data.length + 19).fill(0xee);
  big.set(data, WINDOW_AT);
  return { big, window: big.subarray(WINDOW_AT, WINDOW_AT + data.length) };
}

/** Where `payload` sits, for a failure message. */
function whereIs(payload: Uint8Array, input: Uint8Array): string {
  return payload.buffer === input.buffer
    ? `a view at byte ${payload.byteOffset - input.byteOffset} of the input`
    : 'a copy (its own ArrayBuffer)';
}

/** What a decoder must read from `data` placed in a window of a larger buffer. */
export interface WindowCase {
  name: string;
  decode: (bytes: Uint8Array) => { header: object; payload: Uint8Array };
  data: Uint8Array;
  header: object;
  payload: Uint8Array;
  /** The same, in words, for the failure message. */
  expected: string;
  /** Where the payload starts in `data`, and how to say so. */
  payloadAt: number;
  payloadExpected: string;
}

/** A decoder given a window at an odd offset of a larger buffer reads it as a fresh copy, leaves it alone, and returns the payload as a view into it. */
export function checkDecodesInWindow(c: WindowCase): void {
  const { big, window } = inWindow(c.data);
  const before = big.slice();
  const o = attempt(() => c.decode(window));
  const wrong = o.ok ? fieldDifferences(c.header, o.value.header) : [];
  check(o.ok && wrong.length === 0 && sameBytes(o.value.payload, c.payload), () => ({
    did: `${c.name}(bytes) where bytes is a window at byteOffset ${WINDOW_AT} of a buffer filled with 0xee ${o.ok ? `read:\n${wrong.join('\n') || `  the payload ${hexBytes(o.value.payload)}`}` : describeError(o.error)}`,
    expected: `the same as for a fresh copy: ${c.expected}`,
    lesson: lesson('Bytes, words and byte order'),
  }));
  const payload = o.value.payload;
  check(sameBytes(big, before), {
    did: `${c.name} changed the bytes it was given:${dump(window)}`,
    expected: 'the input left as it was: verify by summing the header with its checksum field in place, and read the fields without writing',
    lesson: lesson('Why a correct header checks to zero'),
  });
  check(payload.buffer === big.buffer && payload.byteOffset === window.byteOffset + c.payloadAt, {
    did: `${c.name} returned the payload as ${whereIs(payload, window)}`,
    expected: c.payloadExpected,
    lesson: lesson('The exercise'),
  });
}
