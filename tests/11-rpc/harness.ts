/**
 * Chapter 11's own test harness: a scripted peer (a test server that speaks the frames and lets each
 * test decide what to answer, and when), a raw framed client for your server, your servers and
 * connections started under cleanup, errors in words, and the handles and timers a process still holds.
 * The test's framing is written here again, on purpose: it does not trust the copy in your folder.
 */
import { once } from 'node:events';
import net from 'node:net';
import type { Address, ConnectOptions, ConnectionOptions, ListenOptions, Message, Methods, RpcConnection } from '@impl/11-rpc/exercise.ts';
import { RpcServer, connect } from '@impl/11-rpc/exercise.ts';
import type { Transcript as TranscriptType } from '../helpers/index.ts';
import {
  DeadlineError,
  Transcript,
  check,
  eventually,
  implFile,
  lessonOf,
  listen,
  onCleanup,
  pause,
  tapSocket,
  thrown,
  track,
  within,
  watchTimersOf,
} from '../helpers/index.ts';

export const ID = '11-rpc';
/** The deadline for anything your code must do. */
export const LIMIT = 2_000;
export const LOOPBACK = '127.0.0.1';
export const LOOPBACK6 = '::1';
export const lesson = lessonOf(ID);

/** A frame as the test writes it: 4-byte big-endian length, then the payload (JSON text, or raw bytes). */
export function frame(payload: unknown): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : payload instanceof Uint8Array ? Buffer.from(payload) : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

/** The test's own frame splitter: whole payloads out of a byte stream. */
export class Frames {
  #buf = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    const out: Buffer[] = [];
    while (this.#buf.length >= 4 && this.#buf.length >= 4 + this.#buf.readUInt32BE(0)) {
      const n = this.#buf.readUInt32BE(0);
      out.push(this.#buf.subarray(4, 4 + n));
      this.#buf = this.#buf.subarray(4 + n);
    }
    return out;
  }
}

/** A message as the test received it: parsed JSON, or the raw text when it was not JSON. */
export type Received = Record<string, unknown> & { raw?: string };

function parse(payload: Buffer): Received {
  try {
    const v = JSON.parse(payload.toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Received) : { raw: payload.toString('utf8') };
  } catch {
    return { raw: payload.toString('latin1') };
  }
}

/** A queue of received messages that a test can wait on. */
class Inbox {
  readonly all: Received[] = [];
  #read = 0;
  #wake: (() => void) | undefined;

  add(m: Received): void {
    this.all.push(m);
    this.#wake?.();
  }

  /** The next message not yet taken, waiting up to `ms` for it; undefined when none came. */
  async next(ms = LIMIT): Promise<Received | undefined> {
    const ok = await within(
      new Promise<boolean>((resolve) => {
        const tryNow = () => {
          if (this.all.length > this.#read) resolve(true);
        };
        this.#wake = tryNow;
        tryNow();
      }),
      ms,
      'the next message',
    ).catch((e: unknown) => (e instanceof DeadlineError ? false : Promise.reject(e)));
    this.#wake = undefined;
    return ok ? this.all[this.#read++] : undefined;
  }

  /** Wait until at least `n` messages have arrived in all (taken or not); whether they did. */
  async count(n: number, ms = LIMIT): Promise<boolean> {
    return eventually(() => this.all.length >= n, ms);
  }
}

/** One connection accepted by the scripted peer. */
export interface PeerLink {
  socket: net.Socket;
  transcript: TranscriptType;
  /** Requests your client sent (the hello included, when auto-answered or not). */
  inbox: Inbox;
  /** Send a message (an object as JSON, a string as-is, bytes as-is), framed. */
  send(message: unknown): void;
  /** Reply to request `id` with a result. */
  reply(id: unknown, result: unknown): void;
  /** Reply to request `id` with an error. */
  replyError(id: unknown, error: { code: number; message: string; data?: unknown }): void;
}

/**
 * A scripted peer: a test server speaking the chapter's frames. It answers the hello by itself unless told not to
 * (`silent`: accept, read, never answer anything), and hands every other request to the test.
 */
export async function scriptedPeer(options: { hello?: boolean; host?: string } = {}): Promise<{ port: number; address: Address; links: PeerLink[]; nextLink: () => Promise<PeerLink> }> {
  const answerHello = options.hello ?? true;
  const links: PeerLink[] = [];
  let wake: (() => void) | undefined;
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    const transcript = new Transcript({ out: 'test peer', inn: 'your client' });
    tapSocket(socket, transcript);
    const inbox = new Inbox();
    const frames = new Frames();
    const send = (m: unknown) => {
      if (socket.writable) socket.write(frame(m));
    };
    const link: PeerLink = {
      socket,
      transcript,
      inbox,
      send,
      reply: (id, result) => send({ jsonrpc: '2.0', id, result }),
      replyError: (id, error) => send({ jsonrpc: '2.0', id, error }),
    };
    socket.on('data', (chunk: Buffer) => {
      for (const payload of frames.push(chunk)) {
        const m = parse(payload);
        if (answerHello && m.method === 'rpc.hello') link.reply(m.id, { version: 1 });
        else inbox.add(m);
      }
    });
    links.push(link);
    wake?.();
  });
  const port = await listen(server, 0, options.host ?? LOOPBACK);
  const nextLink = async () => {
    const n = links.length;
    await within(
      new Promise<void>((resolve) => {
        wake = () => links.length > n && resolve();
        wake();
      }),
      LIMIT,
      'a connection from your client to the test peer',
      'Does connect() call net.connect({ host, port })?',
    );
    return links[n]!;
  };
  // The link of the connection made before nextLink was called.
  return { port, address: { host: options.host ?? LOOPBACK, port }, links, nextLink };
}

/** The first connection the scripted peer accepted (waiting for it if needed). */
export async function firstLink(peer: { links: PeerLink[] }): Promise<PeerLink> {
  await within(
    (async () => {
      while (peer.links.length === 0) await pause(1);
    })(),
    LIMIT,
    'a connection from your client to the test peer',
  );
  return peer.links[0]!;
}

/** Connect your client to the scripted peer; the hello is answered, so connect() should resolve. */
export async function clientOf(options: ConnectOptions = {}, peerOptions: { host?: string } = {}) {
  const peer = await scriptedPeer(peerOptions);
  const connection = await connectTo(peer.address, options);
  const link = await firstLink(peer);
  return { peer, link, connection };
}

/** Your connect(), bounded in time; the connection is closed after the test. */
export async function connectTo(address: Address, options: ConnectOptions = {}): Promise<RpcConnection> {
  const c = await within(connect(address, options), LIMIT, 'connect()', 'connect() resolves once the hello (rpc.hello) is answered.');
  closeAfterTest(c);
  return c;
}

/** Close one of your connections or servers after the test, whatever happened. */
export function closeAfterTest(thing: { close(): Promise<void> }): void {
  onCleanup('your RpcConnection/RpcServer', async () => {
    try {
      await thing.close();
    } catch {
      // The test that uses it reports what went wrong; cleanup only tidies up.
    }
  });
}

/** Start one of your servers on port 0 (or as told); closed after the test. */
export async function startServer(methods: Methods, options: Omit<ConnectionOptions, 'methods'> = {}, listenOptions: ListenOptions = {}) {
  const server = new RpcServer(methods, options);
  closeAfterTest(server);
  const address = await within(server.listen(listenOptions), LIMIT, 'RpcServer.listen()', 'It resolves on "listening", with server.address().');
  check(typeof address?.port === 'number' && address.port > 0, {
    did: `listen() resolved with ${JSON.stringify(address)}`,
    expected: 'an Address { host, port } with the real port (1-65535), read with server.address() once listening',
    lesson: lesson('Ports for callback servers'),
  });
  return { server, address };
}

/** A raw framed client of your server: send messages, read replies. */
export async function rawClient(address: Address) {
  const socket = track(net.connect({ host: address.host, port: address.port }), 'raw test client');
  socket.on('error', () => {});
  const transcript = new Transcript({ out: 'test client', inn: 'your server' });
  tapSocket(socket, transcript);
  await within(once(socket, 'connect'), LIMIT, `connecting to your server at ${address.host}:${address.port}`);
  const inbox = new Inbox();
  const frames = new Frames();
  socket.on('data', (chunk: Buffer) => frames.push(chunk).forEach((p) => inbox.add(parse(p))));
  return {
    socket,
    transcript,
    inbox,
    send: (m: unknown) => socket.write(frame(m)),
    /** Send a request and wait for the next message. */
    ask: async (m: unknown) => {
      socket.write(frame(m));
      return inbox.next();
    },
  };
}

/** Settle a promise on your code into { value } or { error }, with the usual deadline. */
export async function settle<T>(work: Promise<T>, what: string, advice = '', ms = LIMIT): Promise<{ value?: T; error?: unknown; settled: boolean }> {
  try {
    return { value: await within(work, ms, what, advice), settled: true };
  } catch (error) {
    return { error, settled: !(error instanceof DeadlineError) };
  }
}

/** Whether a promise has settled yet (after letting pending callbacks run). */
export async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await pause(5);
  return done;
}

/** An outcome in words: "resolved with 3", "rejected with CallTimeoutError [ERR_RPC_TIMEOUT] {method: ...}". */
export function outcome(r: { value?: unknown; error?: unknown; settled?: boolean }): string {
  if (r.error === undefined) return `resolved with ${JSON.stringify(r.value) ?? String(r.value)}`;
  if (r.error instanceof DeadlineError) return `did not settle within ${LIMIT} ms (neither resolved nor rejected)`;
  return `rejected with ${errorText(r.error)}`;
}

/** An error with its class, code and own fields. */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const fields = Object.entries(err as unknown as Record<string, unknown>)
    .filter(([k]) => !['name', 'code', 'message', 'stack', 'cause'].includes(k))
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
  return `${thrown(err)}${fields.length ? ` { ${fields.join(', ')} }` : ''}${(err as { cause?: unknown }).cause ? ` (cause: ${thrown((err as { cause?: unknown }).cause)})` : ''}`;
}

/** Whether `err` is an instance of `cls` with this code and these field values. */
export function isError(err: unknown, cls: abstract new (...args: never[]) => Error, code: string, fields: Record<string, unknown> = {}): boolean {
  if (!(err instanceof cls) || (err as { code?: unknown }).code !== code) return false;
  return Object.entries(fields).every(([k, v]) => JSON.stringify((err as unknown as Record<string, unknown>)[k]) === JSON.stringify(v));
}

/** A promise the test resolves by hand: for handlers that must wait. */
export function gate<T = void>(): { promise: Promise<T>; open: (v: T) => void } {
  let open!: (v: T) => void;
  const promise = new Promise<T>((r) => (open = r));
  return { promise, open };
}

export { extraHandles, handles, recordingCrashes } from '../helpers/index.ts';

/** The timers your exercise.ts starts from now on, and those still armed (see watchTimersOf). */
export function watchYourTimers(): { pending: () => string[]; started: () => number } {
  return watchTimersOf(implFile(ID, 'exercise.ts'));
}


export { closedPort } from '../helpers/index.ts';

/** Resolves when the socket has closed (or at once if it already has). */
export function closed(socket: net.Socket): Promise<void> {
  return socket.closed ? Promise.resolve() : once(socket, 'close').then(() => undefined);
}

/** The request ids in a list of received messages. */
export const idsOf = (ms: Received[]) => ms.map((m) => m.id);

/** Whether two plain servers can share a port with reusePort on this Node and this system. */
export async function reusePortWorks(): Promise<boolean> {
  const a = track(net.createServer(), 'reusePort probe');
  a.listen({ host: LOOPBACK, port: 0, reusePort: true } as net.ListenOptions);
  await once(a, 'listening');
  const b = track(net.createServer(), 'reusePort probe');
  const ok = await new Promise<boolean>((resolve) => {
    b.once('error', () => resolve(false));
    b.listen({ host: LOOPBACK, port: (a.address() as net.AddressInfo).port, reusePort: true } as net.ListenOptions, () => resolve(true));
  });
  a.close();
  if (b.listening) b.close();
  return ok;
}

/** A message the test expects, shown for failure messages. */
export const show = (m: unknown) => JSON.stringify(m);

/** The same JSON value, whatever the order of the members in its objects (JSON gives that order no meaning). */
export function sameJson(a: unknown, b: unknown): boolean {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sorted) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([k, x]) => [k, sorted(x)])) : v;
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}

export type { Message };
