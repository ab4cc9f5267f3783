/**
 * Chapter 10 · A protocol of our own: a chat server with rooms.
 *
 * Clients speak the protocol of protocol.ts over TCP: hello (with version negotiation), join, say,
 * leave. The server names every sender itself, broadcasts to rooms in one order for all members,
 * answers broken messages with an error message instead of crashing, drops a client that stops
 * reading before its queue passes a bound, and takes a few messages from each client in turn.
 *
 * Read chapters/10-protocol-design/lesson.md first, and do protocol.ts before this file.
 * Check your work with `npm run workbook -- check 10`. Try it by hand: `npx tsx chapters/10-protocol-design/exercise.ts` and nc.
 */
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { todo } from '../workbook.ts';
// What the server needs from protocol.ts (your LineDecoder, parseMessage and chooseVersion among them).
import type { ClientMessage, ServerMessage } from './protocol.ts';
import { CLOSING_ERRORS, LineDecoder, ProtocolError, SUPPORTED_VERSIONS, chooseVersion, encodeMessage, parseMessage } from './protocol.ts';

/** The IPv4 loopback address: reachable from this machine only. */
export const LOOPBACK = '127.0.0.1';
/** Bytes the server may hold for one client that does not read, before it drops that client. */
export const MAX_BUFFERED_BYTES = 256 * 1024;
/** Messages the server handles from one client before it lets every other client have a turn. */
export const MESSAGES_PER_TURN = 16;

/** How a ChatServer listens and what it allows. */
export interface ChatServerOptions {
  /** Default LOOPBACK; '::1' works too. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** The versions this server speaks (default SUPPORTED_VERSIONS). */
  versions?: readonly number[];
  /** Drop a client once the bytes waiting for it pass this (default MAX_BUFFERED_BYTES). */
  maxBufferedBytes?: number;
  /** Handle at most this many messages of one client per turn (default MESSAGES_PER_TURN). */
  messagesPerTurn?: number;
}

/** One connected client, as stats() shows it. */
export interface ClientStats {
  /** The name from its hello; null before it. */
  name: string | null;
  /** The rooms it is in, in the order it joined them. */
  rooms: string[];
  /** Bytes written to it that still wait in the server's memory (its socket's writableLength). */
  bufferedBytes: number;
}

/** What the server holds right now. */
export interface ServerStats {
  /** The open connections, in the order they were accepted. */
  clients: ClientStats[];
  /** How many clients were dropped so far for not reading. */
  dropped: number;
}

/** A chat server with rooms, speaking the protocol of protocol.ts. */
export class ChatServer {
  /** How this server was asked to listen. */
  readonly options: ChatServerOptions;

  // Your state goes here, as private fields: the net.Server once listening; the connected clients (each with its
  // socket, a LineDecoder, its name once greeted, its rooms); the rooms (members and the seq of the last said); a drop counter.
  // Small private methods help: accept(socket), pump(client), handle(client, message), broadcast(room, message),
  // write(client, line) (the one place that writes, and drops a client past the bound), refuse(client, err).

  /** Create a server; nothing listens until start(). */
  constructor(options: ChatServerOptions = {}) {
    this.options = options;
  }

  /** Listen; resolves with the host and the real port. */
  async start(): Promise<{ host: string; port: number }> {
    // TODO: listen on options.host ?? LOOPBACK, options.port ?? 0; resolve with server.address()'s address and port once
    // listening, or reject with the server's 'error' (EADDRINUSE) if it comes first.
    // For each connection: an 'error' listener (a reset must not crash the server); on 'data', push the chunk into the
    // client's LineDecoder and handle its lines in order, at most messagesPerTurn before pause() + setImmediate(resume and go on);
    // on 'close', remove the client from every room (telling each room with a left) and from the clients.
    // Each line: parseMessage, then hello / join / say / leave as the lesson specifies; a ProtocolError becomes an error
    // message, and after UNSUPPORTED_VERSION or TOO_LONG, end() the connection and handle nothing more from it.
    // Every write: socket.write(line), then destroy() the client once socket.writableLength passes maxBufferedBytes.
    return todo(import.meta.url, 'ChatServer.start');
  }

  /** The connected clients and the bytes waiting for each. */
  stats(): ServerStats {
    // TODO: every open connection in accept order: { name (null before hello), rooms (in join order), bufferedBytes: socket.writableLength },
    // and how many clients were dropped for not reading.
    return todo(import.meta.url, 'ChatServer.stats');
  }

  /** Stop listening, close every connection, resolve once all is closed. */
  async close(): Promise<void> {
    // TODO: server.close() (it calls back once every connection has closed) and destroy() every client's socket.
    // Before start(), or when already closed, there is nothing to do.
    return todo(import.meta.url, 'ChatServer.close');
  }
}

/** `npx tsx chapters/10-protocol-design/exercise.ts [port]`: run the server by hand. */
async function runByHand(arg = '4010'): Promise<void> {
  const server = new ChatServer({ port: Number(arg) });
  const at = await server.start();
  console.log(`Chat server on ${at.host}:${at.port}. In another terminal: nc ${at.host} ${at.port}, then type:`);
  console.log('{"type":"hello","versions":[1],"name":"ada"}\n{"type":"join","room":"lobby"}\n{"type":"say","room":"lobby","text":"hi"}');
  process.once('SIGINT', () => void server.close().then(() => console.log('closed')));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runByHand(process.argv[2]).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
