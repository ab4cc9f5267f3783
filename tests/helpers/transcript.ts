/**
 * Wire transcripts: what went each way, when, as hex + ASCII.
 * Failure messages of protocol tests include one, so a learner sees the actual bytes.
 */
import type net from 'node:net';
import type { Socket } from 'node:net';

/** Render bytes as a hex dump: offset, 16 hex bytes, printable ASCII. */
export function hexdump(bytes: Uint8Array, indent = '', maxBytes = 256): string {
  const lines: string[] = [];
  const shown = bytes.subarray(0, maxBytes);
  for (let off = 0; off < shown.length; off += 16) {
    const row = shown.subarray(off, off + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${indent}${off.toString(16).padStart(4, '0')}  ${hex.padEnd(47)}  |${ascii}|`);
  }
  if (bytes.length > maxBytes) lines.push(`${indent}... ${bytes.length - maxBytes} more bytes`);
  if (bytes.length === 0) lines.push(`${indent}(0 bytes)`);
  return lines.join('\n');
}

type Entry = { at: number; dir: 'out' | 'in' | 'note'; bytes?: Uint8Array; text?: string };

/** A record of one conversation, in both directions, with timing. */
export class Transcript {
  private readonly start = performance.now();
  private readonly entries: Entry[] = [];

  /** `out` is what the test sent; `inn` is what the code under test sent back. */
  constructor(readonly names: { out: string; inn: string } = { out: 'test', inn: 'your code' }) {}

  /** Record bytes sent by the test. */
  sent(bytes: Uint8Array | string): void {
    this.entries.push({ at: performance.now() - this.start, dir: 'out', bytes: toBytes(bytes) });
  }

  /** Record bytes received from the code under test. */
  received(bytes: Uint8Array | string): void {
    this.entries.push({ at: performance.now() - this.start, dir: 'in', bytes: toBytes(bytes) });
  }

  /** Record an event without bytes, e.g. "test half-closed (end)". */
  note(text: string): void {
    this.entries.push({ at: performance.now() - this.start, dir: 'note', text });
  }

  /** All bytes received so far, joined. */
  receivedBytes(): Buffer {
    return Buffer.concat(this.entries.filter((e) => e.dir === 'in').map((e) => e.bytes!));
  }

  /** The transcript as text for a failure message. */
  render(): string {
    if (this.entries.length === 0) return '  (nothing was sent or received)';
    return this.entries
      .map((e) => {
        const t = `+${e.at.toFixed(1).padStart(7)} ms`;
        if (e.dir === 'note') return `  ${t}  ** ${e.text}`;
        const who = e.dir === 'out' ? `${this.names.out} -> ${this.names.inn}` : `${this.names.inn} -> ${this.names.out}`;
        return `  ${t}  ${who}, ${e.bytes!.length} bytes\n${hexdump(e.bytes!, '               ')}`;
      })
      .join('\n');
  }
}

function toBytes(b: Uint8Array | string): Uint8Array {
  return typeof b === 'string' ? Buffer.from(b) : Uint8Array.from(b);
}

/**
 * Record everything a client socket sends and receives into `transcript`.
 * Call before the first write.
 */
export function tapSocket(socket: Socket, transcript: Transcript): Socket {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' || chunk instanceof Uint8Array) transcript.sent(chunk);
    return write(chunk, ...rest);
  }) as Socket['write'];
  // end(chunk) sends its last bytes without going through write(), so record them here too.
  const end = socket.end.bind(socket) as (...args: unknown[]) => net.Socket;
  socket.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' || chunk instanceof Uint8Array) transcript.sent(chunk);
    transcript.note(`${transcript.names.out} half-closed (end)`);
    return end(chunk, ...rest);
  }) as net.Socket['end'];
  socket.on('data', (d: Buffer) => transcript.received(d));
  socket.on('end', () => transcript.note(`${transcript.names.inn} ended its side (FIN)`));
  socket.on('close', () => transcript.note('socket closed'));
  return socket;
}

/** A shell command that sends the same bytes by hand with nc, for "try it yourself". */
export function ncCommand(bytes: Uint8Array | string, port: number, host = '127.0.0.1'): string {
  const b = toBytes(bytes);
  const escaped = Array.from(b, (c) =>
    c >= 0x20 && c < 0x7f && c !== 0x27 && c !== 0x5c && c !== 0x25 ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`,
  ).join('');
  return `printf '${escaped}' | nc -N ${host} ${port}`;
}
