/**
 * Chapter 10 · A protocol of our own (reference solution): the wire format of the chat protocol.
 *
 * Messages are JSON objects, one per line (newline-delimited JSON, as IRC sends one command per
 * line). This file holds the protocol's constants, message types and error codes, the line decoder,
 * the message parser and the version choice. The server is in exercise.ts.
 */

/** The byte that ends every message (ASCII LF), as IRC ends its lines (RFC 2812 §2.3). */
export const NEWLINE = 0x0a;
/** The longest line, in bytes, not counting its NEWLINE; a longer one closes the connection. IRC allows 512 (RFC 2812 §2.3). */
export const MAX_LINE_BYTES = 16_384;
/** The protocol versions this server speaks unless told otherwise. */
export const SUPPORTED_VERSIONS: readonly number[] = [1];
/** What a name or a room looks like: 1 to 32 letters, digits, '_' or '-'. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** A message from a client, as parseMessage returns it: only these fields, nothing else. */
export type ClientMessage =
  | { type: 'hello'; versions: number[]; name: string }
  | { type: 'join'; room: string }
  | { type: 'say'; room: string; text: string }
  | { type: 'leave'; room: string };

/** A message from the server. */
export type ServerMessage =
  | { type: 'welcome'; version: number; name: string }
  | { type: 'joined'; room: string; name: string }
  | { type: 'said'; room: string; from: string; text: string; seq: number }
  | { type: 'left'; room: string; name: string }
  | { type: 'error'; code: ErrorCode; message: string };

/** Every error the protocol has, by its stable code. */
export type ErrorCode =
  | 'BAD_JSON'
  | 'BAD_MESSAGE'
  | 'UNKNOWN_TYPE'
  | 'OUT_OF_ORDER'
  | 'NAME_TAKEN'
  | 'NOT_IN_ROOM'
  | 'UNSUPPORTED_VERSION'
  | 'TOO_LONG';

/** The errors after which the server ends the connection; after any other, it stays open. */
export const CLOSING_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['UNSUPPORTED_VERSION', 'TOO_LONG']);

/** A message broke the protocol. `code` says how; `field` names the bad field of a BAD_MESSAGE. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';

  constructor(
    /** The protocol's error code, sent to the client in an error message. */
    readonly code: ErrorCode,
    message: string,
    /** For BAD_MESSAGE: the field that is missing or has the wrong type ('type', 'room', 'text', 'name', 'versions'). */
    readonly field?: string,
  ) {
    super(message);
  }
}

/** One server message as its line on the wire: JSON, then NEWLINE (JSON.stringify never writes a raw newline). */
export function encodeMessage(message: ServerMessage): Buffer {
  return Buffer.from(`${JSON.stringify(message)}\n`);
}

/**
 * Cuts a byte stream into lines. push() takes bytes as they arrive; next() hands out one complete
 * line at a time (decoded as UTF-8, without its NEWLINE), or null until one is complete.
 */
export class LineDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  private failed = false;

  /** A decoder that refuses lines longer than `maxLineBytes` bytes. */
  constructor(readonly maxLineBytes = MAX_LINE_BYTES) {}

  /** Bytes received and not yet handed out as lines. */
  get bufferedBytes(): number {
    return this.buffer.length;
  }

  /** Take the bytes of a chunk (copied: the caller may reuse its buffer). */
  push(chunk: Uint8Array): void {
    // Buffer.concat copies, so neither our bytes nor the caller's depend on each other afterwards.
    this.buffer = Buffer.concat([this.buffer, chunk]);
  }

  /** The next complete line, or null; throws ProtocolError TOO_LONG for a line over the limit, and from then on. */
  next(): string | null {
    if (this.failed) throw tooLong(this.maxLineBytes);
    const end = this.buffer.indexOf(NEWLINE);
    // Without a newline, the limit can already be broken; with one, the line itself must fit.
    const length = end === -1 ? this.buffer.length : end;
    if (length > this.maxLineBytes) {
      this.failed = true;
      this.buffer = Buffer.alloc(0);
      throw tooLong(this.maxLineBytes);
    }
    if (end === -1) return null;
    // Decode only whole lines: a UTF-8 character split across chunks is whole by now.
    const line = this.buffer.toString('utf8', 0, end);
    this.buffer = this.buffer.subarray(end + 1);
    return line;
  }
}

function tooLong(limit: number): ProtocolError {
  return new ProtocolError('TOO_LONG', `a line is longer than ${limit} bytes`);
}

/** Parse one line into a ClientMessage with exactly its fields; throws ProtocolError (BAD_JSON, UNKNOWN_TYPE, BAD_MESSAGE). */
export function parseMessage(line: string): ClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ProtocolError('BAD_JSON', 'the line is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('BAD_JSON', 'a message is a JSON object');
  }
  const m = value as Record<string, unknown>;
  if (typeof m.type !== 'string') throw badField('type');
  switch (m.type) {
    case 'hello':
      return { type: 'hello', versions: versionsOf(m.versions), name: nameOf(m, 'name') };
    case 'join':
      return { type: 'join', room: nameOf(m, 'room') };
    case 'leave':
      return { type: 'leave', room: nameOf(m, 'room') };
    case 'say':
      // Pick the fields we know: anything else the client sent, a `from` above all, is dropped here.
      return { type: 'say', room: nameOf(m, 'room'), text: textOf(m.text) };
    default:
      throw new ProtocolError('UNKNOWN_TYPE', `unknown message type ${JSON.stringify(m.type)}`);
  }
}

function badField(field: string): ProtocolError {
  return new ProtocolError('BAD_MESSAGE', `missing or malformed field "${field}"`, field);
}

function nameOf(m: Record<string, unknown>, field: 'name' | 'room'): string {
  const v = m[field];
  if (typeof v !== 'string' || !NAME_PATTERN.test(v)) throw badField(field);
  return v;
}

function textOf(v: unknown): string {
  if (typeof v !== 'string') throw badField('text');
  return v;
}

function versionsOf(v: unknown): number[] {
  const ok = Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x) && (x as number) >= 1);
  if (!ok) throw badField('versions');
  return [...(v as number[])];
}

/** The highest version both sides speak, or null when they share none. */
export function chooseVersion(offered: readonly number[], supported: readonly number[]): number | null {
  const common = offered.filter((v) => supported.includes(v));
  return common.length === 0 ? null : Math.max(...common);
}
