/**
 * Chapter 12's own test harness: packets and verdicts in words, the test's own servers (a reply server,
 * a trickling one, one that resets), your proxy started and closed per test, raw probes that say what a
 * plain client sees (reset, silence, a reply), and a dial that records the sockets your client opens.
 * The real-kernel rig (network namespaces, nftables) is in ./namespaces.ts.
 */
import net from 'node:net';
import type { Firewall, Packet, Policy, Verdict } from '@impl/12-firewalls-and-timeouts/exercise.ts';
import type { Endpoint } from '@impl/12-firewalls-and-timeouts/proxy.ts';
import { FilteringProxy } from '@impl/12-firewalls-and-timeouts/proxy.ts';
import type { Dial } from '@impl/12-firewalls-and-timeouts/client.ts';
import { FakeClock, Transcript, hexBytes, implFile, lessonOf, listen, onCleanup, thrown, track, within, settle as settleWithin } from '../helpers/index.ts';

export const ID = '12-firewalls-and-timeouts';
export const lesson = lessonOf(ID);
/** The deadline for anything your code must do. */
export const LIMIT = 2_000;
/** The short timeouts the socket tests give your client: long enough for loopback, short enough for a fast suite. */
export const SHORT_MS = 200;
/** The IPv6 loopback address. */
export const LOOPBACK6 = '::1';
/** What the test's reply server puts before the request it echoes. */
export const REPLY_PREFIX = Buffer.from('reply:');
/** A request with every kind of byte: text, 0x00, and 0x80-0xff. */
export const BINARY = Buffer.from([0x41, 0x64, 0x61, 0x00, 0x7f, 0x80, 0xc3, 0xa9, 0xfe, 0xff, 0x0a]);

/** A packet in one line: "in 10.0.0.1:5000 -> 10.0.0.2:80". */
export function showPacket(p: Packet): string {
  const ep = (a: string, port: number) => (a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`);
  return `${p.direction} ${ep(p.source, p.sourcePort)} -> ${ep(p.destination, p.destinationPort)}`;
}

/** A verdict in words, or what the call threw. */
export function showVerdict(v: Verdict | undefined): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

/** A packet, 'in' by default, from a client port to a server port. */
export function packet(source: string, destination: string, destinationPort: number, direction: Packet['direction'] = 'in', sourcePort = 50_000): Packet {
  return { direction, source, sourcePort, destination, destinationPort };
}

/** Call `fn`; its value, or the error it threw. */
export function attempt<T>(fn: () => T): { value?: T; error?: unknown } {
  try {
    return { value: fn() };
  } catch (error) {
    return { error };
  }
}

/** A settled promise: its value, or its error, or a DeadlineError when it never settled. */
export function settle<T>(work: Promise<T>, what: string, advice = ''): Promise<{ value?: T; error?: unknown }> {
  return settleWithin(work, LIMIT, what, advice);
}

/** A settled outcome in words. */
export function outcome(r: { value?: unknown; error?: unknown }): string {
  if (r.error !== undefined) return `threw ${thrown(r.error)}${errorFields(r.error)}`;
  const v = r.value;
  return `returned ${Buffer.isBuffer(v) ? `${v.length} bytes (${hexBytes(v, 24)})` : JSON.stringify(v)}`;
}

/** The documented fields of the chapter's errors, for messages. */
function errorFields(e: unknown): string {
  const o = e as Record<string, unknown>;
  const shown = ['host', 'port', 'phase', 'ms', 'input', 'rule', 'attempts'].filter((k) => o && o[k] !== undefined).map((k) => `${k}=${JSON.stringify(o[k])}`);
  return shown.length ? ` {${shown.join(', ')}}` : '';
}

/** The test's real server: reads the whole request (until the client's FIN), then answers REPLY_PREFIX + request and ends. */
export async function startReplyServer(host = '127.0.0.1'): Promise<{ server: net.Server; port: number; requests: Buffer[] }> {
  const requests: Buffer[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    const parts: Buffer[] = [];
    s.on('error', () => {});
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('end', () => {
      const request = Buffer.concat(parts);
      requests.push(request);
      s.end(Buffer.concat([REPLY_PREFIX, request]));
    });
  });
  const port = await listen(server, 0, host);
  return { server, port, requests };
}

/** A server that takes connections and never says a word: the sockets it accepted, to watch them close. */
export async function startSilentServer(): Promise<{ port: number; accepted: net.Socket[] }> {
  const accepted: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    // Read (and ignore) what arrives, so that the client's FIN shows as 'end'.
    s.resume();
    accepted.push(s);
  });
  const port = await listen(server);
  return { port, accepted };
}

/** A server that sends `pieces` bytes one at a time, `gapMs` apart, then ends (or goes on forever when pieces is Infinity). */
export async function startTricklingServer(pieces: number, gapMs: number): Promise<{ port: number }> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    let sent = 0;
    const timer = track(
      setInterval(() => {
        if (s.destroyed) return clearInterval(timer);
        if (sent >= pieces) {
          clearInterval(timer);
          s.end();
          return;
        }
        s.write(Buffer.from([0x80 + (sent % 0x80)]));
        sent++;
      }, gapMs),
      'trickling timer',
    );
  });
  return { port: await listen(server) };
}

/** A server that sends `first` bytes of a reply at once, then resets the connection. */
export async function startResetMidReplyServer(first: Uint8Array): Promise<{ port: number }> {
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.write(first, () => setTimeout(() => s.resetAndDestroy(), 20));
  });
  return { port: await listen(server) };
}

export { closedPort } from '../helpers/index.ts';

/** Start your proxy in front of `target`; it is closed after the test even when the test failed. */
export async function startProxy(fw: Firewall, target: Endpoint, host?: string): Promise<{ proxy: FilteringProxy; at: Endpoint }> {
  const proxy = new FilteringProxy({ firewall: fw, target, ...(host ? { host } : {}) });
  onCleanup('your FilteringProxy', async () => {
    try {
      await proxy.close();
    } catch {
      // The test that uses the proxy reports what went wrong; cleanup only tidies up.
    }
  });
  const at = await within(proxy.start(), LIMIT, 'FilteringProxy.start()', 'Does start() resolve once the server is listening?');
  return { proxy, at };
}

/** A one-rule-per-port policy for the proxy tests: everything to `port` gets `action`, the rest is accepted. */
export function onlyRule(action: Policy['defaultAction'], port: number): Policy {
  return { rules: [{ action, direction: 'in', port }], defaultAction: 'accept' };
}

/** What a plain client saw on a connection: the bytes, how it ended, and a transcript. */
export interface Probe {
  /** 'reset' (ECONNRESET/EPIPE), 'refused' (ECONNREFUSED), 'end' (a FIN), 'silence' (nothing within the wait). */
  ending: 'reset' | 'refused' | 'end' | 'silence';
  received: Buffer;
  transcript: Transcript;
  socket: net.Socket;
  /** The client's own port, as it was once connected (a destroyed socket forgets it). */
  localPort: number | undefined;
}

/**
 * Connect with a plain node:net socket, send `request` and half-close (unless `keepOpen`), and watch for `waitMs`:
 * the first of a reset, a FIN or silence. The socket stays open on silence (tracked), for the test to use.
 */
export async function probe(port: number, request: Uint8Array, waitMs: number, host = '127.0.0.1', keepOpen = false): Promise<Probe> {
  const transcript = new Transcript({ out: 'test client', inn: 'your proxy' });
  const socket = track(net.connect({ port, host, allowHalfOpen: true }), `probe to ${port}`);
  const parts: Buffer[] = [];
  let localPort: number | undefined;
  socket.on('data', (d: Buffer) => {
    parts.push(d);
    transcript.received(d);
  });
  const ending = await new Promise<Probe['ending']>((resolve) => {
    const timer = setTimeout(() => resolve('silence'), waitMs);
    const done = (e: Probe['ending']) => {
      clearTimeout(timer);
      resolve(e);
    };
    socket.on('connect', () => {
      localPort = socket.localPort;
      transcript.note('connected');
      transcript.sent(request);
      if (keepOpen) socket.write(request);
      else {
        socket.end(request);
        transcript.note('test client half-closed (FIN)');
      }
    });
    socket.on('end', () => {
      transcript.note('FIN from the other side');
      done('end');
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      transcript.note(`socket error ${e.code}`);
      done(e.code === 'ECONNREFUSED' ? 'refused' : 'reset');
    });
  });
  if (ending === 'silence') transcript.note(`nothing more within ${waitMs} ms`);
  return { ending, received: Buffer.concat(parts), transcript, socket, localPort };
}

/** A dial that records every socket your client opens through it (and closes them after the test). */
export function recordingDial(): { dial: Dial; sockets: net.Socket[] } {
  const sockets: net.Socket[] = [];
  const dial: Dial = (port, host) => {
    const s = track(net.connect({ port, host }), `your client's socket to ${port}`);
    sockets.push(s);
    return s;
  };
  return { dial, sockets };
}

/** A dial whose connection never completes, like a SYN that a kernel firewall drops: the socket never connects. */
export function blackHoleDial(): { dial: Dial; sockets: net.Socket[] } {
  const sockets: net.Socket[] = [];
  const dial: Dial = () => {
    const s = track(new net.Socket(), 'a socket that never connects');
    sockets.push(s);
    return s;
  };
  return { dial, sockets };
}

/** A FakeClock plus the random numbers it should hand out, in order (then 0.5). */
export function scripted(randoms: number[]): () => number {
  let i = 0;
  return () => (i < randoms.length ? randoms[i++]! : 0.5);
}

/** Move a FakeClock through the waits of a retry loop until `work` settles (bounded). */
export async function driveRetries<T>(clock: FakeClock, work: Promise<T>, onWait?: (delay: number) => void): Promise<{ value?: T; error?: unknown; waits: number[] }> {
  let settled = false;
  const result: { value?: T; error?: unknown; waits: number[] } = { waits: [] };
  const done = work.then(
    (value) => {
      result.value = value;
      settled = true;
    },
    (error) => {
      result.error = error;
      settled = true;
    },
  );
  const deadline = performance.now() + LIMIT * 2;
  while (!settled && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1));
    const next = clock.nextAt();
    if (next !== undefined && !settled) {
      const delay = next - clock.now();
      result.waits.push(delay);
      onWait?.(delay);
      clock.advance(delay);
    }
  }
  await within(done, 10, 'withRetries()', 'It neither resolved nor rejected while the clock was moved through its waits.').catch((error) => {
    result.error ??= error;
  });
  return result;
}

/** Watch the real timers your client.ts starts during a test: which are still pending (ref'd and not cleared). */
export function watchClientTimers(): { pending: () => number } {
  const mine = implFile(ID, 'client.ts');
  const started: NodeJS.Timeout[] = [];
  const g = globalThis as unknown as { setTimeout: (...args: unknown[]) => NodeJS.Timeout };
  const original = g.setTimeout;
  g.setTimeout = function (this: unknown, ...args: unknown[]) {
    const timer = original.apply(this, args);
    if ((new Error().stack ?? '').includes(mine)) started.push(timer);
    return timer;
  } as typeof g.setTimeout;
  onCleanup('timer watcher', () => {
    g.setTimeout = original;
  });
  return { pending: () => started.filter((t) => !(t as unknown as { _destroyed: boolean })._destroyed && t.hasRef()).length };
}
