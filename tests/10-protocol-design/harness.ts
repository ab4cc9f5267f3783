/**
 * Chapter 10's own test harness: your ChatServer started and closed for each test, and chat
 * clients of our own (real node:net sockets) that send lines, read the server's messages in order
 * and record every byte both ways for the failure messages.
 */
import { once } from 'node:events';
import net from 'node:net';
import type { ChatServerOptions } from '@impl/10-protocol-design/exercise.ts';
import { ChatServer } from '@impl/10-protocol-design/exercise.ts';
import { DeadlineError, Transcript, check, lessonOf, onCleanup, tapSocket, thrown, track, within } from '../helpers/index.ts';

export const ID = '10-protocol-design';
/** The deadline for anything your code must do. */
export const LIMIT = 2_000;
export const lesson = lessonOf(ID);

/** A message as the test sees it: parsed JSON, or the raw text of a line that was not JSON. */
export type Msg = Record<string, unknown> & { type?: unknown };

/** Start one of your servers; it is closed after the test even when the test failed. */
export async function startChat(options: ChatServerOptions = {}): Promise<{ server: ChatServer; port: number; host: string }> {
  const server = new ChatServer(options);
  onCleanup('your ChatServer', async () => {
    try {
      await server.close();
    } catch {
      // The test that uses this server reports what went wrong; cleanup only tidies up.
    }
  });
  let at: { host: string; port: number };
  try {
    at = await within(server.start(), LIMIT, 'ChatServer.start()', 'Does start() resolve once the server is listening?');
  } catch (err) {
    if (err instanceof DeadlineError) throw err;
    throw new Error(`ChatServer.start() failed: ${thrown(err)}`);
  }
  check(at && typeof at.port === 'number' && at.port > 0, {
    did: `start() resolved with ${JSON.stringify(at)}`,
    expected: '{ host, port } with the real port the server listens on (server.address() once listening)',
    lesson: lesson('The exercise'),
  });
  return { server, port: at.port, host: at.host };
}

/** A chat client of the test's own: a real socket, the server's lines parsed in order, every byte recorded. */
export class TestClient {
  /** Every message received so far, in order. */
  readonly messages: Msg[] = [];
  /** The next message nextMessage() hands out. */
  private cursor = 0;
  private pending = '';
  private wake: (() => void) | undefined;
  /** Whether the server ended or closed the connection. */
  ended = false;

  private constructor(
    readonly socket: net.Socket,
    readonly transcript: Transcript,
    readonly label: string,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => this.take(text));
    const end = () => {
      this.ended = true;
      this.wake?.();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', (e: NodeJS.ErrnoException) => transcript.note(`${label}: socket error ${e.code ?? e.message}`));
  }

  /** Connect a client to the server at `port` (recording its bytes when `record` is true). */
  static async connect(port: number, label = 'test client', o: { host?: string; record?: boolean } = {}): Promise<TestClient> {
    const host = o.host ?? '127.0.0.1';
    const socket = track(net.connect({ host, port }), `${label} to ${host}:${port}`);
    const transcript = new Transcript({ out: label, inn: 'your server' });
    if (o.record ?? true) tapSocket(socket, transcript);
    const c = new TestClient(socket, transcript, label);
    await within(once(socket, 'connect'), LIMIT, `${label} connecting to your server`);
    return c;
  }

  private take(text: string): void {
    this.pending += text;
    let at: number;
    while ((at = this.pending.indexOf('\n')) !== -1) {
      const line = this.pending.slice(0, at);
      this.pending = this.pending.slice(at + 1);
      this.messages.push(parse(line));
    }
    this.wake?.();
  }

  /** Send one message as a JSON line. */
  send(message: object): void {
    this.socket.write(`${JSON.stringify(message)}\n`);
  }

  /** Send raw text or bytes, exactly as given. */
  sendRaw(bytes: string | Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Resolves once `condition` holds (checked at every message and at the end of the stream), or after `ms`: whether it held. */
  async until(condition: () => boolean, ms = LIMIT): Promise<boolean> {
    const deadline = performance.now() + ms;
    while (!condition()) {
      if (this.ended && !condition()) return false;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      this.wake = undefined;
    }
    return true;
  }

  /** The next message not handed out yet (waiting for it up to `ms`), or undefined when none came. */
  async nextMessage(ms = LIMIT): Promise<Msg | undefined> {
    await this.until(() => this.messages.length > this.cursor, ms);
    return this.messages[this.cursor] === undefined ? undefined : this.messages[this.cursor++];
  }

  /** Skip messages until one matches `match` (waiting up to `ms`); undefined when none came. */
  async waitFor(match: (m: Msg) => boolean, ms = LIMIT): Promise<Msg | undefined> {
    const found = () => this.messages.findIndex((m, i) => i >= this.cursor && match(m));
    await this.until(() => found() !== -1, ms);
    const i = found();
    if (i === -1) return undefined;
    this.cursor = i + 1;
    return this.messages[i];
  }

  /** Resolves once the server has ended or closed the connection, or after `ms`: whether it did. */
  async closedByServer(ms = LIMIT): Promise<boolean> {
    return this.until(() => this.ended, ms);
  }
}

function parse(line: string): Msg {
  try {
    const v = JSON.parse(line) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Msg) : { type: '(not an object)', raw: line };
  } catch {
    return { type: '(not JSON)', raw: line };
  }
}

/** A message in words, for failure messages. */
export function show(m: unknown): string {
  return m === undefined ? 'nothing (no message within the deadline)' : JSON.stringify(m);
}

/** A client that has said hello as `name` and got its welcome; fails with a lesson otherwise. */
export async function greeted(port: number, name: string, o: { versions?: number[]; record?: boolean; host?: string } = {}): Promise<TestClient> {
  const c = await TestClient.connect(port, name, o);
  c.send({ type: 'hello', versions: o.versions ?? [1], name });
  const m = await c.waitFor((x) => x.type === 'welcome' || x.type === 'error');
  check(m?.type === 'welcome' && m.name === name, {
    did: `${name} sent a hello and got ${show(m)}`,
    expected: `{"type":"welcome","version":1,"name":"${name}"}`,
    lesson: lesson('Hello and versions'),
    transcript: c.transcript,
  });
  return c;
}

/** `client` joins `room` and waits for its own `joined`; fails with a lesson otherwise. */
export async function joined(c: TestClient, room: string): Promise<void> {
  c.send({ type: 'join', room });
  const m = await c.waitFor((x) => (x.type === 'joined' && x.room === room && x.name === c.label) || x.type === 'error');
  check(m?.type === 'joined', {
    did: `${c.label} sent join ${room} and got ${show(m)}`,
    expected: `{"type":"joined","room":"${room}","name":"${c.label}"}, sent to every member of the room, the joiner included`,
    lesson: lesson('Rooms and broadcast'),
    transcript: c.transcript,
  });
}

/** Many greeted clients in one room, connected in parallel. */
export async function crowd(port: number, prefix: string, n: number, room: string, o: { record?: boolean } = {}): Promise<TestClient[]> {
  const clients = await Promise.all(Array.from({ length: n }, (_, i) => greeted(port, `${prefix}${i}`, o)));
  for (const c of clients) await joined(c, room);
  return clients;
}

/** The said messages a client received in `room`. */
export function saidIn(c: TestClient, room: string): Msg[] {
  return c.messages.filter((m) => m.type === 'said' && m.room === room);
}

export { recordingUncaught } from '../helpers/index.ts';

export const RUN_BY_HAND = 'npx tsx chapters/10-protocol-design/exercise.ts 4010';
/** "Try it by hand": the learner's server in one terminal, nc in another, these lines typed in. */
export function byHand(...lines: string[]): string {
  return `\n  terminal 1: ${RUN_BY_HAND}\n  terminal 2: nc 127.0.0.1 4010, then type:\n${lines.map((l) => `    ${l}`).join('\n')}`;
}
