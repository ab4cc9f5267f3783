/**
 * Real sockets on loopback for tests: listen on port 0 and await 'listening' (never sleep
 * for a server), connect and await 'connect', read with deadlines. Everything is tracked
 * by the cleanup registry.
 */
import { once } from 'node:events';
import net from 'node:net';
import { track, watchConnections } from './cleanup.ts';
import { DeadlineError, within } from './deadline.ts';
import { Transcript, tapSocket } from './transcript.ts';

/** Listen on `port` (0 = any free port) on loopback; resolves with the real port. */
export async function listen(server: net.Server, port = 0, host = '127.0.0.1'): Promise<number> {
  track(server, 'test server');
  watchConnections(server);
  server.listen(port, host);
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

/** A port where nothing listens now: bind port 0 on `host`, note the port, close. */
export async function closedPort(host = '127.0.0.1'): Promise<number> {
  const s = net.createServer();
  const port = await listen(s, 0, host);
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * A connected TCP client (tracked). Rejects with the socket error (ECONNREFUSED, ...).
 * `options` go to net.connect (allowHalfOpen, highWaterMark, ...).
 */
export async function connect(
  port: number,
  host = '127.0.0.1',
  ms = 2_000,
  options: Omit<net.NetConnectOpts, 'port' | 'host' | 'path'> = {},
): Promise<net.Socket> {
  const socket = track(net.connect({ ...options, port, host } as net.NetConnectOpts), `client to ${host}:${port}`);
  await within(once(socket, 'connect'), ms, `connecting to ${host}:${port}`);
  return socket;
}

/** A connected client over a Unix domain socket path (tracked). */
export async function connectPath(socketPath: string, ms = 2_000): Promise<net.Socket> {
  const socket = track(net.connect({ path: socketPath }), `client to ${socketPath}`);
  await within(once(socket, 'connect'), ms, `connecting to ${socketPath}`);
  return socket;
}

/** A client whose traffic is recorded into a transcript, for teaching failure messages. */
export async function recordedClient(
  port: number,
  names = { out: 'test client', inn: 'your server' },
  host = '127.0.0.1',
): Promise<{ socket: net.Socket; transcript: Transcript }> {
  const transcript = new Transcript(names);
  const socket = await connect(port, host);
  tapSocket(socket, transcript);
  return { socket, transcript };
}

/** Read until at least `n` bytes have arrived (or the peer ends, or the deadline passes). */
export async function readBytes(socket: net.Socket, n: number, ms = 2_000): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  const done = new Promise<void>((resolve) => {
    const onData = (d: Buffer) => {
      parts.push(d);
      got += d.length;
      if (got >= n) finish();
    };
    const finish = () => {
      socket.off('data', onData);
      socket.off('end', finish);
      socket.off('close', finish);
      resolve();
    };
    socket.on('data', onData);
    socket.on('end', finish);
    socket.on('close', finish);
  });
  try {
    await within(done, ms, `waiting for ${n} bytes`);
  } catch (err) {
    if (!(err instanceof DeadlineError)) throw err;
  }
  return Buffer.concat(parts);
}

/**
 * Wait until a recorded client has received at least `total` bytes in all (counting bytes that
 * arrived before this call, which readBytes would miss), or the peer ends, or the deadline passes.
 * Returns everything received so far.
 */
export async function receivedUpTo(
  client: { socket: net.Socket; transcript: Transcript },
  total: number,
  ms = 2_000,
): Promise<Buffer> {
  const { socket, transcript } = client;
  const done = () => transcript.receivedBytes().length >= total || socket.readableEnded || socket.destroyed;
  if (!done()) {
    let recheck = () => {};
    const arrived = new Promise<void>((resolve) => {
      recheck = () => {
        if (done()) resolve();
      };
      socket.on('data', recheck).on('end', recheck).on('close', recheck);
    });
    await within(arrived, ms, `waiting for ${total} bytes`).catch((err) => {
      if (!(err instanceof DeadlineError)) throw err;
    });
    socket.off('data', recheck).off('end', recheck).off('close', recheck);
  }
  return transcript.receivedBytes();
}

/** Read everything until the peer ends the stream; rejects with DeadlineError if it never does. */
export async function readToEnd(socket: net.Socket, ms = 2_000): Promise<Buffer> {
  const parts: Buffer[] = [];
  socket.on('data', (d: Buffer) => parts.push(d));
  await within(
    new Promise<void>((resolve) => {
      if (socket.readableEnded || socket.destroyed) return resolve();
      socket.once('end', resolve);
      socket.once('close', resolve);
    }),
    ms,
    'waiting for the other side to end the stream',
  );
  return Buffer.concat(parts);
}

/** Write pieces one by one, letting each leave as its own TCP segment (no coalescing). */
export async function writeInPieces(socket: net.Socket, chunks: Uint8Array[], gapMs = 1): Promise<void> {
  socket.setNoDelay(true);
  for (const c of chunks) {
    if (!socket.write(c)) await once(socket, 'drain');
    await new Promise((r) => setTimeout(r, gapMs));
  }
}
