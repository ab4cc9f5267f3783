/**
 * Chapter 02's test harness: trusted addresses built by the test (never by the code under test),
 * the OS's own formatter as a reference, values and outcomes in words, and problem lines collected
 * into one teaching failure. The random inputs are in arbitraries.ts.
 */
import net from 'node:net';
import type { Endpoint, FourTuple, IpAddress } from '@impl/02-addresses-and-ports/exercise.ts';
import { AddressError, Demultiplexer, connectionKey, parseAddress } from '@impl/02-addresses-and-ports/exercise.ts';
import { check, connect, hexBytes, lessonOf, listen, thrown, within } from '../helpers/index.ts';

export const ID = '02-addresses-and-ports';
export const see = lessonOf(ID);

// --- Trusted addresses ---------------------------------------------------------------------------

/** Bytes for a trusted literal: a dotted quad, or IPv6 hex groups with at most one "::" (no dotted tail). */
export function bytesOf(text: string): Uint8Array {
  if (!text.includes(':')) return Uint8Array.from(text.split('.').map(Number));
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const hs = head ? head.split(':') : [];
  const ts = tail ? tail.split(':') : [];
  const groups = tail === undefined ? hs : [...hs, ...Array<string>(8 - hs.length - ts.length).fill('0'), ...ts];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/** Eight 16-bit groups as 16 bytes, big-endian. */
export function groupsToBytes(groups: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

/** The same bytes as a window at a non-zero offset inside a larger buffer full of other bytes (0xee). */
export function inBigBuffer(bytes: Uint8Array): Uint8Array {
  const big = new Uint8Array(bytes.length + 13).fill(0xee);
  big.set(bytes, 7);
  return big.subarray(7, 7 + bytes.length);
}

/** A trusted IpAddress built by the test. */
export const addr = (text: string): IpAddress => ({ family: text.includes(':') ? 6 : 4, bytes: bytesOf(text) });
/** A trusted Endpoint built by the test. */
export const ep = (text: string, port: number): Endpoint => ({ address: addr(text), port });
/** A trusted 4-tuple built by the test. */
export const tuple = (local: Endpoint, remote: Endpoint): FourTuple => ({ local, remote });

// --- Reference implementations -------------------------------------------------------------------

/** IPv6 bytes as eight 4-digit groups, never compressed: "2001:0db8:0000:...". */
export function fullHex(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16).padStart(4, '0'));
  return groups.join(':');
}

/** Canonical text from the OS's own formatter (libuv's inet_ntop, via net.SocketAddress). */
export function osText(a: IpAddress): string {
  if (a.family === 4) return Array.from(a.bytes).join('.');
  return new net.SocketAddress({ address: fullHex(a.bytes), family: 'ipv6' }).address;
}

/**
 * The 16 bytes of valid IPv6 text, as the WHATWG URL parser reads it (it prints all-hex groups, which
 * `bytesOf` reads), or undefined where the URL parser refuses text that net.isIPv6 allows.
 */
export function urlBytes(text: string): Uint8Array | undefined {
  try {
    return bytesOf(new URL(`http://[${text}]/`).hostname.slice(1, -1));
  } catch {
    return undefined;
  }
}

export const epText = (e: Endpoint) => (e.address.family === 6 ? `[${osText(e.address)}]:${e.port}` : `${osText(e.address)}:${e.port}`);
export const tupleText = (t: FourTuple) => `local ${epText(t.local)}, remote ${epText(t.remote)}`;

// --- Values and outcomes in words ----------------------------------------------------------------

/** A value as a learner should see it in a failure message. */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isInteger(v) && v > 0xffff ? `${v} (0x${v.toString(16)})` : String(v);
  if (v instanceof Uint8Array) return `bytes [${hexBytes(v)}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (o.bytes instanceof Uint8Array) return `{ family: ${String(o.family)}, bytes: [${hexBytes(o.bytes)}] }`;
    if ('address' in o && 'port' in o) return `{ address: ${show(o.address)}, port: ${show(o.port)} }`;
    if ('address' in o && 'length' in o) return `{ address: ${show(o.address)}, length: ${show(o.length)} }`;
    try {
      return JSON.stringify(v);
    } catch {
      return String(v);
    }
  }
  return String(v);
}

/** Deep equality for the plain values this chapter returns (primitives, byte arrays, plain objects); `b` is the expected value. */
export function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i]);
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object' || a instanceof Uint8Array || b instanceof Uint8Array) return false;
  // Only the fields the test expects: extra fields on the learner's objects are fine.
  return Object.keys(b).every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

// --- Problem lines and the failure that lists them -----------------------------------------------

/** A problem line unless `fn` returns something deep-equal to `want`. */
export function expectValue(call: string, fn: () => unknown, want: unknown): string | undefined {
  try {
    const got = fn();
    return same(got, want) ? undefined : `${call} returned ${show(got)}, expected ${show(want)}`;
  } catch (e) {
    return `${call} threw ${thrown(e)}, expected it to return ${show(want)}`;
  }
}

/**
 * A problem line unless `fn` throws an AddressError with `code` (or one of `codes`, where the lesson allows
 * two designs). With `input`, the error's documented `input` field must be that text (or one of those texts).
 */
export function expectAddressError(call: string, fn: () => unknown, code: string | readonly string[], input?: string | readonly string[]): string | undefined {
  const codes = typeof code === 'string' ? [code] : code;
  const want = codes.map((c) => `AddressError ${c}`).join(' or ');
  try {
    return `${call} returned ${show(fn())} instead of throwing ${want}`;
  } catch (e) {
    if (!(e instanceof AddressError) || !codes.includes(e.code)) return `${call} threw ${thrown(e)}, expected ${want}`;
    if (input === undefined) return undefined;
    const inputs = typeof input === 'string' ? [input] : input;
    if (inputs.includes(e.input)) return undefined;
    return `${call} threw ${e.code} with input ${show(e.input)}, expected input ${inputs.map(show).join(' or ')} (the rejected text)`;
  }
}

/** A problem line unless `fn` throws the function's own `code` and names the whole `text` as its input. */
export const rejects = (fnName: string, fn: (text: string) => unknown, text: string, code: string) =>
  expectAddressError(`${fnName}(${JSON.stringify(text)})`, () => fn(text), code, text);

/** Fail with every problem found, so one run shows the whole pattern. */
export function reportAll(problems: (string | undefined)[], expected: string, lesson: string, extra?: string): void {
  const found = problems.filter((p): p is string => p !== undefined);
  const MAX_SHOWN = 10;
  check(found.length === 0, () => ({
    did:
      found.length === 1
        ? found[0]!
        : [`${found.length} cases went wrong:`, ...found.slice(0, MAX_SHOWN), ...(found.length > MAX_SHOWN ? [`... and ${found.length - MAX_SHOWN} more`] : [])].join(
            '\n  - ',
          ),
    expected,
    lesson,
    extra,
  }));
}

// --- Demultiplexing ------------------------------------------------------------------------------

/** Where `demux.route` sent a segment, in words: "connection X", "listener X", "dropped", or what it threw. */
export function routed(demux: { route(s: { source: Endpoint; destination: Endpoint }): unknown }, source: Endpoint, destination: Endpoint): string {
  try {
    const got = demux.route({ source, destination }) as { kind?: unknown; target?: unknown };
    if (got?.kind === 'dropped') return 'dropped';
    if (got?.kind === 'connection' || got?.kind === 'listener') return `${got.kind} ${String(got.target)}`;
    return `an unexpected value ${show(got)}`;
  } catch (e) {
    return `threw ${thrown(e)}`;
  }
}

/** Two real loopback connections on `host`: their keys differ, and the demultiplexer routes each client to its own server-side socket. */
export async function checkRealLoopback(host: string): Promise<void> {
  const srv = net.createServer();
  const accepted: net.Socket[] = [];
  const both = new Promise<void>((resolve) =>
    srv.on('connection', (s) => {
      accepted.push(s);
      if (accepted.length === 2) resolve();
    }),
  );
  const port = await listen(srv, 0, host);
  const clients = [await connect(port, host), await connect(port, host)];
  await within(both, 2_000, `the test server accepting two loopback connections on ${host}`);

  const tupleOf = (s: net.Socket): FourTuple => ({
    local: { address: parseAddress(s.localAddress!), port: s.localPort! },
    remote: { address: parseAddress(s.remoteAddress!), port: s.remotePort! },
  });
  const serverKeys = accepted.map((s) => connectionKey(tupleOf(s)));
  check(serverKeys[0] !== serverKeys[1], {
    did: `both accepted sockets (${accepted.map((s) => tupleText(tupleOf(s))).join(' and ')}) got the key ${show(serverKeys[0])}`,
    expected: `two keys: both share ${host}:${port}, but their remote (ephemeral) ports differ`,
    lesson: see('The 4-tuple'),
  });

  const demux = new Demultiplexer<net.Socket | string>();
  demux.addListener({ address: parseAddress(host), port }, 'listener');
  accepted.forEach((s) => demux.addConnection(tupleOf(s), s));
  for (const c of clients) {
    const ct = tupleOf(c);
    // What the client sends leaves from its local end and arrives at its remote end.
    const got = demux.route({ source: ct.local, destination: ct.remote });
    const mine = accepted.find((s) => s.remotePort === c.localPort);
    const where =
      got.kind === 'connection' ? `the server-side socket with remote port ${(got.target as net.Socket).remotePort}` : got.kind === 'listener' ? 'the listener' : 'nobody';
    check(got.kind === 'connection' && got.target === mine, {
      did: `a segment from ${epText(ct.local)} to ${epText(ct.remote)} was routed to ${where}`,
      expected: `the server-side socket whose remote end is ${epText(ct.local)}`,
      lesson: see('Demultiplexing'),
    });
  }
}
