/**
 * Chapter 10 · A protocol of our own: the wire format of the chat protocol.
 *
 * Messages are JSON objects, one per line (newline-delimited JSON, as IRC sends one command per
 * line). This file holds the protocol's constants, message types and error codes, the line decoder,
 * the message parser and the version choice. The server is in exercise.ts.
 *
 * Read chapters/10-protocol-design/lesson.md first. The constants, types, ProtocolError and
 * encodeMessage are done; LineDecoder, parseMessage and chooseVersion are yours.
 */
import { todo } from '../workbook.ts';

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
  // Your state goes here, as private fields: the bytes received and not handed out yet, and whether a line was too long.

  /** A decoder that refuses lines longer than `maxLineBytes` bytes. */
  constructor(readonly maxLineBytes = MAX_LINE_BYTES) {}

  /** Bytes received and not yet handed out as lines. */
  get bufferedBytes(): number {
    // TODO: the number of bytes pushed and not yet handed out by next() (newlines included).
    return todo(import.meta.url, 'LineDecoder.bufferedBytes');
  }

  /** Take the bytes of a chunk (copied: the caller may reuse its buffer). */
  push(chunk: Uint8Array): void {
    // TODO: keep a copy of the chunk's bytes after those you already hold (the view may sit at an offset in a bigger buffer).
    return todo(import.meta.url, 'LineDecoder.push');
  }

  /** The next complete line, or null; throws ProtocolError TOO_LONG for a line over the limit, and from then on. */
  next(): string | null {
    // TODO: find the first NEWLINE. The line before it (or, without one, everything held) may not exceed maxLineBytes
    // bytes: else throw ProtocolError('TOO_LONG', ...), now and at every later call. Without a newline, return null.
    // Else decode the line's bytes as UTF-8 (only now: a character may have been cut between chunks), drop them and the newline, return it.
    return todo(import.meta.url, 'LineDecoder.next');
  }
}

/** Parse one line into a ClientMessage with exactly its fields; throws ProtocolError (BAD_JSON, UNKNOWN_TYPE, BAD_MESSAGE). */
export function parseMessage(line: string): ClientMessage {
  // TODO: JSON.parse inside try/catch (BAD_JSON), and an object that is not null or an array (BAD_JSON too).
  // A `type` that is not a string: BAD_MESSAGE with field 'type'; one you do not know: UNKNOWN_TYPE.
  // Check each field of the type (NAME_PATTERN for name and room; text a string; versions a non-empty array of
  // integers >= 1): BAD_MESSAGE with the field's name. Return a new object with only the type's fields, in the order of ClientMessage.
  return todo(import.meta.url, 'parseMessage');
}

/** The highest version both sides speak, or null when they share none. */
export function chooseVersion(offered: readonly number[], supported: readonly number[]): number | null {
  // TODO: the largest number that is in both lists, or null.
  return todo(import.meta.url, 'chooseVersion');
}
