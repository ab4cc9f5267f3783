/**
 * Chapter 04 · The socket's lifecycle.
 *
 * An echo server on `node:net` that listens on TCP or on a Unix domain socket path, tracks
 * its open connections by 4-tuple, survives half-close, and closes cleanly; and a client that
 * connects, sends, half-closes and collects the whole reply.
 *
 * Read chapters/04-sockets/lesson.md first. Check your work with `npm run workbook -- check 04`.
 * Try it by hand: `npx tsx chapters/04-sockets/exercise.ts` and talk to it with nc.
 */
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { todo } from '../workbook.ts';

/** The IPv4 loopback address: reachable from this machine only (RFC 1122 §3.2.1.3). */
export const LOOPBACK = '127.0.0.1';
/** Port 0 asks the operating system for any free (ephemeral) port. */
export const ANY_PORT = 0;
/** The byte that ends a line (ASCII LF): the server echoes a line once this arrives. */
export const NEWLINE = 0x0a;
/** How long close() lets a peer answer our FIN before it destroys the connection. */
export const DEFAULT_CLOSE_GRACE_MS = 1_000;
/** How long the client waits in silence (connecting or reading) before it gives up. */
export const DEFAULT_CLIENT_TIMEOUT_MS = 5_000;

/** A TCP endpoint: an IP address and a port. */
export interface TcpAddress {
  host: string;
  port: number;
}

/** A Unix domain socket: a path in the file system. */
export interface UnixAddress {
  path: string;
}

/** Where a server listens or a client connects. */
export type Address = TcpAddress | UnixAddress;

/** The four values that name one TCP connection, seen from one of its ends. */
export interface FourTuple {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

/** One open connection, as the server tracks it. */
export interface ConnectionInfo {
  /** Unique among the open connections: the 4-tuple for TCP, a counter for a Unix socket. */
  key: string;
  /** The 4-tuple; null over a Unix domain socket, whose ends are files, not ports. */
  tuple: FourTuple | null;
}

/** How an EchoServer listens: on a TCP port and host (defaults: any port, loopback), or on a Unix socket path. */
export type EchoServerOptions =
  | { port?: number; host?: string; closeGraceMs?: number }
  | { path: string; closeGraceMs?: number };

/** Options of sendAndReceive. */
export interface SendOptions {
  /** Give up after this many milliseconds without progress (default DEFAULT_CLIENT_TIMEOUT_MS); 0 means never, as in socket.setTimeout. */
  timeoutMs?: number;
}

/** Operating-system error codes this chapter meets; any other code passes through as a string. */
export type SocketErrorCode =
  | 'ECONNREFUSED'
  | 'EADDRINUSE'
  | 'EACCES'
  | 'ENOENT'
  | 'ECONNRESET'
  | 'EPIPE'
  | 'ETIMEDOUT'
  | (string & {});

/**
 * A socket operation failed. `code` is the operating system's name for why: check it, not the message.
 * sendAndReceive rejects with this class itself when the connection breaks after it was made
 * (ECONNRESET, or ETIMEDOUT when the server goes silent).
 */
export class SocketError extends Error {
  override name = 'SocketError';

  constructor(
    /** Stable error code, e.g. 'ECONNRESET'. */
    readonly code: SocketErrorCode,
    /** The address involved, as describeAddress writes it. */
    readonly where: string,
    options?: ErrorOptions,
  ) {
    super(`${code} on ${where}`, options);
  }
}

/** Listening failed: the port or path is taken (EADDRINUSE) or not ours to use (EACCES). */
export class ListenError extends SocketError {
  override name = 'ListenError';
}

/** Connecting failed, before 'connect': nobody listens there (ECONNREFUSED, or ENOENT for a path), or no answer to the dial in time (ETIMEDOUT). */
export class ConnectError extends SocketError {
  override name = 'ConnectError';
}

/** The `code` of a Node.js system error ('ECONNREFUSED', ...), or 'EUNKNOWN'. */
export function errorCode(err: unknown): SocketErrorCode {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

/** "127.0.0.1:4004", "[::1]:4004" or "unix:/tmp/echo.sock", for messages and keys. */
export function describeAddress(a: Address): string {
  if ('path' in a) return `unix:${a.path}`;
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** "127.0.0.1:4004 <-> 127.0.0.1:53122": a 4-tuple as a Map key. */
export function tupleKey(t: FourTuple): string {
  return `${describeAddress({ host: t.localAddress, port: t.localPort })} <-> ${describeAddress({ host: t.remoteAddress, port: t.remotePort })}`;
}

/** The connection's 4-tuple as seen from this end, or null for a Unix domain socket. */
export function fourTupleOf(socket: net.Socket): FourTuple | null {
  // TODO: read localAddress/localPort/remoteAddress/remotePort from the socket; null when they are undefined (a Unix socket).
  return todo(import.meta.url, 'fourTupleOf');
}

/**
 * The conversation on one accepted connection: echo each complete line as soon as its newline
 * arrives; when the peer half-closes, echo the unfinished rest, then end our side too.
 * Once our side has ended (close() hung up first), it writes nothing: what still arrives is dropped.
 */
export function echoLines(socket: net.Socket): void {
  // TODO: on 'data', look for the last NEWLINE in the new chunk only: write back the pending pieces plus the chunk up to it
  // (joined once), and keep the rest as pending pieces. On 'end', echo the pending rest and end() our side.
  // Once our side has ended (close() hung up: socket.writable is false), write nothing: drop what still arrives.
  return todo(import.meta.url, 'echoLines');
}

/** An echo server on a TCP port or a Unix socket path that knows its open connections. */
export class EchoServer {
  /** How this server was asked to listen. */
  readonly options: EchoServerOptions;

  // Your state goes here, as private fields: the net.Server once listening, and a
  // Map from connection key (tupleKey) to the accepted socket and its ConnectionInfo.

  /** Create a server; nothing listens until start(). */
  constructor(options: EchoServerOptions = {}) {
    this.options = options;
  }

  /**
   * Listen; resolves with the address actually bound, as an Address: `{ host, port }` with the real port
   * (when port 0 was asked), or `{ path }` for a Unix socket. Rejects with ListenError keeping the kernel's code.
   */
  async start(): Promise<Address> {
    // TODO: create a net.Server (think about allowHalfOpen), listen on the path or on host ?? LOOPBACK and port ?? ANY_PORT,
    // reject with a ListenError (its code, describeAddress of the address asked for, { cause: err }) if 'error' comes before 'listening'.
    // For each accepted socket: track it by its 4-tuple until its 'close', listen for its 'error' (or one reset
    // crashes the whole server), and run echoLines on it. Resolve with server.address() turned into an Address:
    // { host: info.address, port: info.port } for an AddressInfo, { path } when it is a string.
    return todo(import.meta.url, 'EchoServer.start');
  }

  /** The open connections, in the order they were accepted; a connection leaves the list on its socket's 'close'. */
  connections(): ConnectionInfo[] {
    // TODO: list the ConnectionInfo of every connection that has not closed yet.
    return todo(import.meta.url, 'EchoServer.connections');
  }

  /**
   * Stop listening and end every open connection; resolves once the listening socket and every connection
   * are closed. An unfinished line is not echoed. Safe to call twice, and before start().
   */
  async close(): Promise<void> {
    // TODO: stop accepting (server.close), end() every open connection, destroy() the ones still open after
    // options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS, and resolve once server.close() has called back and every socket has closed.
    // Clear the grace timer when done. Before start(), or when already closed, there is nothing to do.
    return todo(import.meta.url, 'EchoServer.close');
  }
}

/**
 * Connect, send `bytes` (as they were at the call: the caller may reuse its buffer at once), half-close,
 * and resolve with everything the server sent until its FIN. Once it settles, nothing of it stays open.
 */
export function sendAndReceive(to: Address, bytes: Uint8Array, options: SendOptions = {}): Promise<Buffer> {
  // TODO: copy the bytes now; net.connect to the path or host/port; on 'connect' send the copy and end(); collect 'data'
  // until 'end' and resolve with them joined. Reject with ConnectError (before 'connect') or SocketError (after), with
  // the error's code, describeAddress(to) and { cause: err }. Time out with code ETIMEDOUT after timeoutMs without progress (socket.setTimeout).
  return todo(import.meta.url, 'sendAndReceive');
}

/** `npx tsx chapters/04-sockets/exercise.ts [port | socket path]`: run the server by hand. */
async function runByHand(arg = '4004'): Promise<void> {
  const server = new EchoServer(/^\d+$/.test(arg) ? { port: Number(arg) } : { path: arg });
  const at = await server.start();
  const nc = 'path' in at ? `nc -N -U ${at.path}` : `nc -N ${at.host} ${at.port}`;
  console.log(`Echo server on ${describeAddress(at)}. In another terminal: printf 'hello\\nworld' | ${nc}`);
  console.log('Ctrl-C calls close(); if the process does not exit then, something is still open.');
  process.once('SIGINT', () => void server.close().then(() => console.log('closed')));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runByHand(process.argv[2]).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
