/**
 * Chapter 09's own test harness: the test's own encoders (so decoder tests never depend on
 * yours), a rig that drives one of your decoders and logs every call for failure messages, and
 * real TCP peers that write a stream one byte at a time or all coalesced.
 */
import { once } from 'node:events';
import net from 'node:net';
import { LengthPrefixDecoder, LineDecoder } from '@impl/09-framing/exercise.ts';
import type { FrameDecoderOptions, LineDecoderOptions } from '@impl/09-framing/exercise.ts';
import { check, connect, hexBytes, lessonOf, listen, thrown, track, within } from '../helpers/index.ts';

export const ID = '09-framing';
export const lesson = lessonOf(ID);
/** The deadline for anything that goes over a socket. */
export const LIMIT = 3_000;

const encoder = new TextEncoder();

/** A string's UTF-8 bytes. */
export const utf8 = (s: string): Uint8Array => encoder.encode(s);

/** Bytes from numbers. */
export const bytesOf = (...xs: number[]): Uint8Array => Uint8Array.from(xs);

/** Bytes i, i+1, ... (mod 256), n of them. */
export const seq = (start: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);

/** Join byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A 4-byte big-endian header for `length` (the test's own, written with DataView). */
export function header(length: number): Uint8Array {
  const h = new Uint8Array(4);
  new DataView(h.buffer).setUint32(0, length);
  return h;
}

/** The test's own length-prefix encoding of some bodies, one after another. */
export function frameBytes(...bodies: (Uint8Array | string)[]): Uint8Array {
  return concat(bodies.flatMap((b) => {
    const body = typeof b === 'string' ? utf8(b) : b;
    return [header(body.length), body];
  }));
}

/** The test's own line encoding: each line's UTF-8 bytes and a newline. */
export function lineBytes(...lines: string[]): Uint8Array {
  return utf8(lines.map((l) => `${l}\n`).join(''));
}

/** Equal bytes. */
export function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Equal lists of frames. */
export function sameFrames(a: Uint8Array[], b: Uint8Array[]): boolean {
  return a.length === b.length && a.every((f, i) => same(f, b[i]!));
}

/** Frames in a message: "[00 01] [] [ff fe ... (300 bytes)]". */
export function showFrames(frames: Uint8Array[], max = 8): string {
  if (frames.length === 0) return 'no frames';
  const shown = frames.slice(0, max).map((f) => `[${f.length === 0 ? '' : hexBytes(f, 12)}]`);
  return `${frames.length} frame(s): ${shown.join(' ')}${frames.length > max ? ' ...' : ''}`;
}

/** Lines in a message, as JSON strings. */
export function showLines(lines: string[], max = 8): string {
  if (lines.length === 0) return 'no lines';
  const shown = lines.slice(0, max).map((l) => JSON.stringify(l.length > 40 ? `${l.slice(0, 40)}...` : l));
  return `${lines.length} line(s): ${shown.join(' ')}${lines.length > max ? ' ...' : ''}`;
}

/** What the decoder did with one call. */
type Outcome = { error?: unknown };

/**
 * One of your decoders, driven by a test: every call, what it delivered and the decoder's
 * bufferedBytes (and state) afterwards go into a log that failure messages print.
 */
export class Rig<T> {
  /** Everything delivered so far, in order. */
  readonly out: T[] = [];
  /** The first error a call threw, if any. */
  error: unknown;
  readonly #log: string[] = [];

  constructor(
    readonly decoder: { push(chunk: Uint8Array): void; end(): void; readonly bufferedBytes: number },
    readonly show: (items: T[]) => string,
  ) {}

  /** Push a chunk; returns what it threw (undefined if nothing). */
  push(chunk: Uint8Array): unknown {
    return this.#call(`push(${chunk.length} bytes: ${hexBytes(chunk, 16)})`, () => this.decoder.push(chunk)).error;
  }

  /** Push each chunk in turn, stopping at the first error, then end() unless told not to. Returns the first error. */
  run(chunks: Uint8Array[], o: { end?: boolean } = {}): unknown {
    for (const c of chunks) {
      const e = this.push(c);
      if (e !== undefined) return e;
    }
    return o.end === false ? undefined : this.end();
  }

  /** End the stream; returns what it threw. */
  end(): unknown {
    return this.#call('end()', () => this.decoder.end()).error;
  }

  /** The decoder's bufferedBytes now (a call, so that TypeScript never narrows it between two reads). */
  held(): number {
    return this.decoder.bufferedBytes;
  }

  /** The decoder's state, for a LengthPrefixDecoder. */
  get state(): string | undefined {
    return (this.decoder as { state?: string }).state;
  }

  /** The calls so far, one per line. */
  get script(): string {
    return this.#log.map((l) => `  ${l}`).join('\n');
  }

  #call(what: string, fn: () => void): Outcome {
    const before = this.out.length;
    let error: unknown;
    try {
      fn();
    } catch (e) {
      error = e;
      this.error ??= e;
    }
    const delivered = this.out.slice(before);
    const after = [`delivered ${this.show(delivered)}`];
    if (error !== undefined) after.push(`threw ${thrown(error)}`);
    after.push(`then ${this.state === undefined ? '' : `state '${this.state}', `}bufferedBytes ${safe(() => this.decoder.bufferedBytes)}`);
    this.#log.push(`${what} -> ${after.join(', ')}`);
    return { error };
  }
}

function safe(fn: () => unknown): string {
  try {
    return String(fn());
  } catch (e) {
    return `(threw ${thrown(e)})`;
  }
}

/** A rig around your LengthPrefixDecoder. */
export function frameRig(options?: FrameDecoderOptions): Rig<Uint8Array> {
  let rig: Rig<Uint8Array> | undefined;
  const decoder = new LengthPrefixDecoder((frame) => rig!.out.push(frame), options);
  rig = new Rig<Uint8Array>(decoder, (fs) => showFrames(fs));
  return rig;
}

/** A rig around your LineDecoder. */
export function lineRig(options?: LineDecoderOptions): Rig<string> {
  let rig: Rig<string> | undefined;
  const decoder = new LineDecoder((line) => rig!.out.push(line), options);
  rig = new Rig<string>(decoder, (ls) => showLines(ls));
  return rig;
}

/** Fail with a teaching message that includes the rig's calls so far. */
export function checkRig<T>(cond: unknown, rig: Rig<T>, did: string, expected: string, heading: string): asserts cond {
  check(cond, { did, expected, lesson: lesson(heading), extra: `Your decoder's calls, in order:\n${rig.script}` });
}

/** The error a call throws, or undefined. */
export function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Every way to cut `bytes` into two pieces (at every byte boundary). */
export function everyCut(bytes: Uint8Array): { label: string; chunks: Uint8Array[] }[] {
  return Array.from({ length: bytes.length - 1 }, (_, i) => ({
    label: `cut in two after byte ${i + 1}`,
    chunks: [bytes.subarray(0, i + 1), bytes.subarray(i + 1)],
  }));
}

/** `bytes` as a view at a non-zero offset inside a larger Buffer (as a socket hands them out), with junk around it. */
export function bufferView(bytes: Uint8Array, offset = 7): Buffer {
  const big = Buffer.alloc(offset + bytes.length + 5, 0xee);
  big.set(bytes, offset);
  return big.subarray(offset, offset + bytes.length);
}

// ----------------------------------------------------------------------------------- real sockets

/** What the receiving end of a socket saw: the chunk sizes 'data' gave it, and its decoder's outcome. */
export interface Received<T> {
  out: T[];
  chunks: number[];
  error: unknown;
}

/** How the test's peer writes the stream. */
export type Writer = 'one byte at a time' | 'coalesced';

/**
 * Send `bytes` from a real `node:net` peer to a test server that feeds every 'data' chunk to a
 * fresh decoder (made by `makeRig`) and calls end() on the peer's FIN.
 */
export async function overSocket<T>(bytes: Uint8Array, writer: Writer, makeRig: () => Rig<T>): Promise<Received<T> & { rig: Rig<T> }> {
  const rig = makeRig();
  const chunks: number[] = [];
  const server = net.createServer();
  const port = await listen(server);
  const received = new Promise<void>((resolve) => {
    server.once('connection', (socket) => {
      track(socket, 'the test server side');
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk.length);
        if (rig.error === undefined) rig.push(chunk);
      });
      socket.on('end', () => {
        if (rig.error === undefined) rig.end();
        resolve();
      });
      socket.on('error', () => resolve());
    });
  });
  const peer = await connect(port);
  peer.setNoDelay(true);
  if (writer === 'one byte at a time') {
    for (let i = 0; i < bytes.length; i++) {
      await new Promise<void>((resolve, reject) => peer.write(bytes.subarray(i, i + 1), (e) => (e ? reject(e) : resolve())));
      // Let the event loop poll between writes, so the server reads while the peer is still writing.
      await new Promise((r) => setImmediate(r));
    }
  } else {
    // Many writes, corked: Node hands them to the kernel as one, and the reader gets few, large chunks.
    peer.cork();
    for (let at = 0; at < bytes.length; at += 5) peer.write(bytes.subarray(at, at + 5));
    peer.uncork();
  }
  peer.end();
  await within(received, LIMIT, `the test server receiving ${bytes.length} bytes written ${writer}`);
  await within(once(peer, 'close'), LIMIT, 'the peer closing').catch(() => undefined);
  return { out: rig.out, chunks, error: rig.error, rig };
}

/** "127 chunks (1, 1, 2, ...)" */
export function showChunks(chunks: number[]): string {
  return `${chunks.length} chunk(s) of ${chunks.slice(0, 12).join(', ')}${chunks.length > 12 ? ', ...' : ''} bytes`;
}
