// KNOWN MISTAKE (client-stops-at-first-data): sendAndReceive resolves with the first 'data' chunk instead of waiting for the server's FIN.
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
  // Stryker disable next-line OptionalChaining: every error this chapter passes in is an Error object, never null or undefined
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
  const { localAddress, localPort, remoteAddress, remotePort } = socket;
  // A Unix domain socket has no addresses or ports: Node leaves them undefined.
  if (localAddress === undefined || localPort === undefined || remoteAddress === undefined || remotePort === undefined) {
    return null;
  }
  return { localAddress, localPort, remoteAddress, remotePort };
}

/**
 * The conversation on one accepted connection: echo each complete line as soon as its newline
 * arrives; when the peer half-closes, echo the unfinished rest, then end our side too.
 * Once our side has ended (close() hung up first), it writes nothing: what still arrives is dropped.
 */
export function echoLines(socket: net.Socket): void {
  // The bytes after the last newline, as they came: pieces kept, joined once when their line completes.
  // Gluing every chunk onto one growing buffer and rescanning it would make a long line cost quadratic time.
  let pending: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => {
    // A 'data' event is whatever bytes have arrived, not a message. Only the new bytes can hold a new newline.
    const cut = chunk.lastIndexOf(NEWLINE) + 1;
    if (cut === 0) {
      pending.push(chunk);
      return;
    }
    const lines = Buffer.concat([...pending, chunk.subarray(0, cut)]);
    // What follows the newline (a view, maybe empty) starts the next line.
    pending = [chunk.subarray(cut)];
    // Once close() has ended our side, we may not write: what arrives now is read and dropped.
    if (socket.writable) socket.write(lines);
  });
  socket.on('end', () => {
    // The peer's FIN: it has finished sending but still listens. Echo the unfinished rest, then send our own FIN.
    // (If close() has already ended our side, there is nothing left to say: the connection now closes.)
    if (socket.writable) socket.end(Buffer.concat(pending));
  });
}

/** An echo server on a TCP port or a Unix socket path that knows its open connections. */
export class EchoServer {
  /** How this server was asked to listen. */
  readonly options: EchoServerOptions;

  #server: net.Server | undefined;
  readonly #open = new Map<string, { socket: net.Socket; info: ConnectionInfo }>();
  #unixCount = 0;

  /** Create a server; nothing listens until start(). */
  constructor(options: EchoServerOptions = {}) {
    this.options = options;
  }

  /**
   * Listen; resolves with the address actually bound, as an Address: `{ host, port }` with the real port
   * (when port 0 was asked), or `{ path }` for a Unix socket. Rejects with ListenError keeping the kernel's code.
   */
  async start(): Promise<Address> {
    // allowHalfOpen: the peer's FIN ends only its direction; we decide when ours ends (echoLines).
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: echoLines ends our side synchronously in 'end', before Node's automatic end() would
    const server = net.createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket));
    const o = this.options;
    // `??`, not `||`: port 0 is a real request ("any free port"), not a missing value.
    const wanted: Address = 'path' in o ? { path: o.path } : { host: o.host ?? LOOPBACK, port: o.port ?? ANY_PORT };
    await new Promise<void>((resolve, reject) => {
      // Before 'listening', an 'error' means listen() failed (EADDRINUSE, EACCES): wrap it with its code.
      const onError = (err: Error) => reject(new ListenError(errorCode(err), describeAddress(wanted), { cause: err }));
      server.once('error', onError);
      server.listen('path' in wanted ? { path: wanted.path } : { host: wanted.host, port: wanted.port }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    this.#server = server;
    // Ask the kernel what it bound: with port 0 only it knows the real port.
    const bound = server.address() as net.AddressInfo | string;
    return typeof bound === 'string' ? { path: bound } : { host: bound.address, port: bound.port };
  }

  /** The open connections, in the order they were accepted; a connection leaves the list on its socket's 'close'. */
  connections(): ConnectionInfo[] {
    return [...this.#open.values()].map((c) => c.info);
  }

  /**
   * Stop listening and end every open connection; resolves once the listening socket and every connection
   * are closed. An unfinished line is not echoed. Safe to call twice, and before start().
   */
  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    // server.close() only stops accepting: its callback waits until every accepted connection has closed...
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    const sockets = [...this.#open.values()].map((c) => c.socket);
    // ...so hang up on each one politely: a FIN after any echo still queued...
    for (const socket of sockets) socket.end();
    // ...and hard, after a grace period, on a peer that never answers our FIN.
    const grace = setTimeout(() => sockets.forEach((s) => s.destroy()), this.options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
    try {
      // And each socket's own 'close': the server's callback can run a moment before them.
      await Promise.all([stopped, ...sockets.map((s) => new Promise((resolve) => (s.closed ? resolve(s) : s.once('close', resolve))))]);
    } finally {
      clearTimeout(grace);
    }
  }

  #accept(socket: net.Socket): void {
    // Read the 4-tuple now: it names this connection among all others on the same server port.
    const tuple = fourTupleOf(socket);
    // Stryker disable next-line UpdateOperator: counting down gives keys that never repeat just as well
    const key = tuple ? tupleKey(tuple) : `unix #${++this.#unixCount}`;
    this.#open.set(key, { socket, info: { key, tuple } });
    socket.once('close', () => this.#open.delete(key));
    // A peer that resets the connection emits 'error'; unheard, it would crash the server. 'close' follows.
    socket.on('error', () => {});
    echoLines(socket);
  }
}

/**
 * Connect, send `bytes` (as they were at the call: the caller may reuse its buffer at once), half-close,
 * and resolve with everything the server sent until its FIN. Once it settles, nothing of it stays open.
 */
export function sendAndReceive(to: Address, bytes: Uint8Array, options: SendOptions = {}): Promise<Buffer> {
  const where = describeAddress(to);
  // Our own copy, taken now: the bytes leave only after 'connect', and the caller may reuse its buffer meanwhile.
  const request = Buffer.from(bytes);
  return new Promise<Buffer>((resolve, reject) => {
    const socket = 'path' in to ? net.connect({ path: to.path }) : net.connect({ host: to.host, port: to.port });
    const reply: Buffer[] = [];
    let connected = false;
    // An idle timer, not a deadline: it restarts whenever bytes move, in either phase.
    socket.setTimeout(options.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS, () => {
      socket.destroy(Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' }));
    });
    socket.once('connect', () => {
      connected = true;
      // Send it all, then FIN ("that was everything"); our read side stays open for the reply.
      socket.end(request);
    });
    // MISTAKE: the first chunk is taken for the whole reply.
    socket.once('data', (chunk: Buffer) => resolve(chunk));
    socket.once('end', () => resolve(Buffer.concat(reply)));
    socket.once('error', (err) => {
      const code = errorCode(err);
      reject(connected ? new SocketError(code, where, { cause: err }) : new ConnectError(code, where, { cause: err }));
    });
  });
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
