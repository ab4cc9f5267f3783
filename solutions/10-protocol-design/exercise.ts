/**
 * Chapter 10 · A protocol of our own (reference solution): a chat server with rooms.
 *
 * Clients speak the protocol of protocol.ts over TCP: hello (with version negotiation), join, say,
 * leave. The server names every sender itself, broadcasts to rooms in one order for all members,
 * answers broken messages with an error message instead of crashing, drops a client that stops
 * reading before its queue passes a bound, and takes a few messages from each client in turn.
 */
import net from 'node:net';
import { pathToFileURL } from 'node:url';
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

/** The server's state for one connection. */
interface Client {
  socket: net.Socket;
  decoder: LineDecoder;
  name: string | null;
  rooms: Set<string>;
  /** A continuation is scheduled: the socket is paused until it runs. */
  waiting: boolean;
}

/** One room: its members and the number of its last `said`. */
interface Room {
  members: Set<Client>;
  seq: number;
}

/** A chat server with rooms, speaking the protocol of protocol.ts. */
export class ChatServer {
  /** How this server was asked to listen. */
  readonly options: ChatServerOptions;
  private server: net.Server | undefined;
  private readonly clients = new Set<Client>();
  private readonly rooms = new Map<string, Room>();
  private dropped = 0;

  /** Create a server; nothing listens until start(). */
  constructor(options: ChatServerOptions = {}) {
    this.options = options;
  }

  /** Listen; resolves with the host and the real port. */
  async start(): Promise<{ host: string; port: number }> {
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.options.host ?? LOOPBACK, port: this.options.port ?? 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const info = server.address() as net.AddressInfo;
    return { host: info.address, port: info.port };
  }

  /** The connected clients and the bytes waiting for each. */
  stats(): ServerStats {
    const clients = [...this.clients].map((c) => ({ name: c.name, rooms: [...c.rooms], bufferedBytes: c.socket.writableLength }));
    return { clients, dropped: this.dropped };
  }

  /** Stop listening, close every connection, resolve once all is closed. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const c of this.clients) c.socket.destroy();
    await closed;
  }

  private accept(socket: net.Socket): void {
    const client: Client = { socket, decoder: new LineDecoder(), name: null, rooms: new Set(), waiting: false };
    this.clients.add(client);
    // A client that resets its connection must not take the server down.
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      // After a closing error we only wait for the client's FIN: what still arrives is dropped, not kept.
      // Stryker disable next-line ConditionalExpression: kept bytes would never be handled (pump stops first); only memory differs
      if (!socket.writable) return;
      client.decoder.push(chunk);
      // Stryker disable next-line ConditionalExpression: a paused socket emits no 'data', so this never runs while waiting
      if (!client.waiting) this.pump(client);
    });
    // Whatever ended the connection (the client, an error, a drop), it leaves every room it was in.
    socket.on('close', () => this.forget(client));
  }

  /** Handle the client's complete lines, at most messagesPerTurn, then let the others go first. */
  private pump(client: Client): void {
    const budget = this.options.messagesPerTurn ?? MESSAGES_PER_TURN;
    for (let handled = 0; handled < budget; handled++) {
      // A closing connection reads nothing more: what came after an UNSUPPORTED_VERSION is ignored.
      if (!client.socket.writable) return;
      let line: string | null;
      try {
        line = client.decoder.next();
      } catch (err) {
        this.refuse(client, err as ProtocolError);
        return;
      }
      if (line === null) return;
      this.handleLine(client, line);
    }
    // Budget spent: pause this client and go on after every other client's I/O of this turn.
    // Stryker disable next-line BooleanLiteral: a paused socket emits no 'data', so nobody reads the flag before it is cleared
    client.waiting = true;
    client.socket.pause();
    setImmediate(() => {
      client.waiting = false;
      client.socket.resume();
      this.pump(client);
    });
  }

  private handleLine(client: Client, line: string): void {
    try {
      this.handle(client, parseMessage(line));
    } catch (err) {
      // Stryker disable next-line ConditionalExpression: parsing and handling throw nothing but ProtocolError; this only keeps a bug loud
      if (!(err instanceof ProtocolError)) throw err;
      this.refuse(client, err);
    }
  }

  private handle(client: Client, m: ClientMessage): void {
    if (m.type === 'hello') return this.hello(client, m.versions, m.name);
    if (client.name === null) throw new ProtocolError('OUT_OF_ORDER', 'say hello first');
    const name = client.name;
    if (m.type === 'join') return this.join(client, name, m.room);
    const room = this.rooms.get(m.room);
    if (!room || !room.members.has(client)) throw new ProtocolError('NOT_IN_ROOM', `you are not in ${m.room}`);
    if (m.type === 'say') {
      room.seq += 1;
      // The sender's name is the one its hello gave this connection, never a field of the message.
      return this.broadcast(room, { type: 'said', room: m.room, from: name, text: m.text, seq: room.seq });
    }
    this.broadcast(room, { type: 'left', room: m.room, name });
    this.leave(client, m.room, room);
  }

  private hello(client: Client, offered: number[], name: string): void {
    if (client.name !== null) throw new ProtocolError('OUT_OF_ORDER', 'hello comes once');
    const version = chooseVersion(offered, this.options.versions ?? SUPPORTED_VERSIONS);
    if (version === null) throw new ProtocolError('UNSUPPORTED_VERSION', 'no version in common');
    if ([...this.clients].some((c) => c.name === name)) throw new ProtocolError('NAME_TAKEN', `${name} is taken`);
    client.name = name;
    this.send(client, { type: 'welcome', version, name });
  }

  private join(client: Client, name: string, roomName: string): void {
    // Joining a room twice changes nothing.
    if (client.rooms.has(roomName)) return;
    let room = this.rooms.get(roomName);
    if (!room) this.rooms.set(roomName, (room = { members: new Set(), seq: 0 }));
    room.members.add(client);
    client.rooms.add(roomName);
    this.broadcast(room, { type: 'joined', room: roomName, name });
  }

  private leave(client: Client, roomName: string, room: Room): void {
    room.members.delete(client);
    client.rooms.delete(roomName);
    // An empty room is gone: joining it again starts a new room, numbered from 1.
    if (room.members.size === 0) this.rooms.delete(roomName);
  }

  /** The connection closed: remove it everywhere, and tell the rooms it was in. */
  private forget(client: Client): void {
    this.clients.delete(client);
    for (const roomName of [...client.rooms]) {
      const room = this.rooms.get(roomName)!;
      this.leave(client, roomName, room);
      this.broadcast(room, { type: 'left', room: roomName, name: client.name! });
    }
  }

  private broadcast(room: Room, message: ServerMessage): void {
    // Encode once: every member gets the same bytes.
    const line = encodeMessage(message);
    for (const member of room.members) this.write(member, line);
  }

  private send(client: Client, message: ServerMessage): void {
    this.write(client, encodeMessage(message));
  }

  /** Write a line, and drop the client once more than maxBufferedBytes wait for it. */
  private write(client: Client, line: Buffer): void {
    const socket = client.socket;
    // A connection that is closing (or dropped) takes no more messages.
    if (!socket.writable) return;
    socket.write(line);
    // Stryker disable next-line EqualityOperator: a queue of exactly maxBufferedBytes, to the byte, cannot be arranged from outside
    if (socket.writableLength > (this.options.maxBufferedBytes ?? MAX_BUFFERED_BYTES)) {
      this.dropped += 1;
      socket.destroy();
    }
  }

  /** Answer a broken message with the protocol's error; the closing errors then end the connection. */
  private refuse(client: Client, err: ProtocolError): void {
    this.send(client, { type: 'error', code: err.code, message: err.message });
    if (CLOSING_ERRORS.has(err.code)) client.socket.end();
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
