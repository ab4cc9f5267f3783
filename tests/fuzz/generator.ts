/**
 * The fuzz inputs for chapter 13's HTTP server: real, valid requests (the corpus), mutated the way
 * broken clients, bad proxies and attackers mutate them, then cut into TCP writes.
 *
 * Every input is a pure function of (seed, index): its own PRNG is seeded from both, so input
 * #81234 of seed 1 is the same bytes on every machine, in every run, whatever ran before it and
 * however many ran at once. That is what lets a failure be replayed alone:
 *   npm run fuzz -- 13 --seed 1 --only 81234
 */
import { seededRandom } from '../helpers/random.ts';

/** One fuzz input: the bytes a client sends, how they are cut into writes, and how the client ends. */
export interface FuzzInput {
  seed: number;
  index: number;
  /** The corpus request(s) it started from, e.g. "post-chunked" or "pipelined(get+head)". */
  base: string;
  /** The mutations applied, in order, each with where it struck: "flip@17", "truncate@203". */
  mutations: string[];
  bytes: Uint8Array;
  /** The lengths of the writes, in order; they add up to bytes.length. */
  writes: number[];
  /**
   * 'half-close': end() after the last write (the server sees EOF).
   * 'hold': keep the write side open; only the server's timeouts can end the exchange.
   */
  ending: 'half-close' | 'hold';
}

type Rand = () => number;

const int = (r: Rand, min: number, max: number) => min + Math.floor(r() * (max - min + 1));
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const chance = (r: Rand, p: number) => r() < p;

const enc = new TextEncoder();
const bytesOf = (s: string) => enc.encode(s);
const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
const fromLatin1 = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** A seed for input `index` of run `seed`: both mixed, so neighbouring indexes get unrelated streams. */
export function inputSeed(seed: number, index: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index >>> 0, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// The corpus: requests a real client sends. Each is built from the PRNG too, so the corpus itself
// varies (targets, header sets, body sizes, chunk sizes), but every one is valid HTTP/1.1 (or 1.0).

const PATHS = ['/', '/messages', '/messages?limit=10&after=4', '/a/b/c.txt', '/search?q=caf%C3%A9', '/slow', '/throw', '/%7Euser/'];
const AGENTS = ['curl/8.5.0', 'Mozilla/5.0 (X11; Linux x86_64)', 'node', 'fuzz/1'];
const HOSTS = ['example.test', '127.0.0.1:8080', 'localhost', '[::1]:80'];

function someHeaders(r: Rand): string {
  const lines = [`Host: ${pick(r, HOSTS)}`];
  if (chance(r, 0.7)) lines.push(`User-Agent: ${pick(r, AGENTS)}`);
  if (chance(r, 0.6)) lines.push('Accept: */*');
  if (chance(r, 0.3)) lines.push('Accept-Encoding: gzip, deflate');
  if (chance(r, 0.3)) lines.push(`Cookie: session=${int(r, 1, 1e9)}; theme=dark`);
  if (chance(r, 0.2)) lines.push(`X-Request-Id: ${int(r, 1, 1e12).toString(16)}`);
  if (chance(r, 0.15)) lines.push('Cache-Control: no-cache');
  // Some fields with optional whitespace around the value, which the parser must trim.
  if (chance(r, 0.2)) lines.push('X-Spaced: \t  padded value \t');
  return lines.map((l) => `${chance(r, 0.1) ? l.toLowerCase() : l}\r\n`).join('');
}

function body(r: Rand, n: number): string {
  let s = '';
  while (s.length < n) s += pick(r, ['{"text":"hello"}', 'a=1&b=2', 'lorem ipsum ', '0123456789', '\u00e9t\u00e9 ']);
  return s.slice(0, n);
}

function chunked(r: Rand, payload: string): string {
  let out = '';
  let at = 0;
  while (at < payload.length) {
    const n = Math.min(payload.length - at, int(r, 1, 64));
    let size = n.toString(16);
    if (chance(r, 0.3)) size = size.toUpperCase();
    if (chance(r, 0.1)) size = `00${size}`;
    const ext = chance(r, 0.25) ? pick(r, [';name=value', ';ext', ';a="quoted;value"', ' ;spaced=1']) : '';
    out += `${size}${ext}\r\n${payload.slice(at, at + n)}\r\n`;
    at += n;
  }
  out += `0${chance(r, 0.2) ? ';last' : ''}\r\n`;
  if (chance(r, 0.4)) out += `X-Checksum: ${int(r, 0, 1e6)}\r\n`;
  if (chance(r, 0.2)) out += 'Expires: never\r\n';
  return `${out}\r\n`;
}

/** One valid request of the named kind; `last` says whether it may ask to close the connection. */
const corpus: Record<string, (r: Rand, last: boolean) => string> = {
  get: (r, last) => `GET ${pick(r, PATHS)} HTTP/1.1\r\n${someHeaders(r)}${last && chance(r, 0.3) ? 'Connection: close\r\n' : ''}\r\n`,
  head: (r) => `HEAD ${pick(r, PATHS)} HTTP/1.1\r\n${someHeaders(r)}\r\n`,
  'post-length': (r) => {
    const b = body(r, pick(r, [0, 1, 17, 300, int(r, 0, 3000)]));
    return `POST ${pick(r, PATHS)} HTTP/1.1\r\n${someHeaders(r)}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`;
  },
  'post-chunked': (r) =>
    `POST ${pick(r, PATHS)} HTTP/1.1\r\n${someHeaders(r)}Transfer-Encoding: chunked\r\n${chance(r, 0.3) ? 'Trailer: X-Checksum\r\n' : ''}\r\n${chunked(r, body(r, int(r, 0, 400)))}`,
  'expect-continue': (r) => {
    const b = body(r, int(r, 1, 500));
    return `PUT ${pick(r, PATHS)} HTTP/1.1\r\n${someHeaders(r)}Expect: 100-continue\r\nContent-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`;
  },
  'http10-get': (r) =>
    `GET ${pick(r, PATHS)} HTTP/1.0\r\n${chance(r, 0.5) ? `Host: ${pick(r, HOSTS)}\r\n` : ''}${chance(r, 0.4) ? 'Connection: keep-alive\r\n' : ''}\r\n`,
  'http10-post': (r) => {
    const b = body(r, int(r, 0, 200));
    return `POST / HTTP/1.0\r\nContent-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`;
  },
  'delete-absolute': (r) => `DELETE http://${pick(r, HOSTS)}/messages/7 HTTP/1.1\r\n${someHeaders(r)}\r\n`,
  options: (r) => `OPTIONS * HTTP/1.1\r\n${someHeaders(r)}\r\n`,
};

/** The names of the corpus requests, for the summary and the tests. */
export const corpusNames = Object.keys(corpus);

/** A corpus request, or a pipeline of 2-4 of them (keep-alive, sent back to back). */
function base(r: Rand): { name: string; text: string } {
  if (chance(r, 0.3)) {
    const names = Array.from({ length: int(r, 2, 4) }, () => pick(r, corpusNames.filter((n) => !n.startsWith('http10'))));
    return { name: `pipelined(${names.join('+')})`, text: names.map((n, i) => corpus[n]!(r, i === names.length - 1)).join('') };
  }
  const name = pick(r, corpusNames);
  return { name, text: corpus[name]!(r, true) };
}

// ---------------------------------------------------------------------------------------------
// The mutations. Each takes the bytes so far and returns new bytes and a short label.

/** Bytes that mean something to an HTTP parser: the likeliest to find a bug when put in a wrong place. */
const SPECIAL = [0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x3b, 0x2c, 0x00, 0x7f, 0xff, 0x80, 0x22, 0x30, 0x39, 0x61, 0x46, 0x2d, 0x2b];

/** Start offsets of every header line (after the request line), in the first head of the text. */
function headerLines(text: string): { start: number; end: number }[] {
  const headEnd = text.indexOf('\r\n\r\n');
  const lines: { start: number; end: number }[] = [];
  let at = text.indexOf('\r\n') + 2;
  if (at < 2) return lines;
  while (at < (headEnd < 0 ? text.length : headEnd + 2)) {
    const end = text.indexOf('\r\n', at);
    if (end < 0 || end === at) break;
    lines.push({ start: at, end });
    at = end + 2;
  }
  return lines;
}

const BAD_LENGTHS = ['-1', '+5', '0x10', '1e3', ' 5 ', '5, 6', '5,5', '99999999999999999999999', '18446744073709551617', '', 'abc', '3 3', '007', '1048577', '4294967296'];
const BAD_TE = ['chunked, chunked', 'gzip, chunked', 'chunked, gzip', 'identity', ' chunked', 'CHUNKED', 'chunked;q=1', 'x-custom', 'chunked\t', 'chunk', 'deflate'];
const BAD_CHUNK_SIZES = ['-1', '0x5', 'fffffffffffffffffff', 'g', ' 5', '5 ', '', '1_0', '+5', '7fffffffffffffff'];
const METHOD_SWAPS = ['get', 'G ET', 'GET\t', 'GETT', 'PRI', 'CONNECT', '\u00c9T\u00c9', 'GET/', ''];
const VERSION_SWAPS = ['HTTP/1.2', 'HTTP/2.0', 'HTTP/1.11', 'HTTP/1', 'http/1.1', 'HTTP/1.1 ', 'HTTP/0.9', 'HTTP/9.9', 'HTTP /1.1', ''];

type Mutation = (r: Rand, text: string) => { text: string; label: string } | undefined;

const mutations: Record<string, { weight: number; apply: Mutation }> = {
  flip: {
    weight: 6,
    apply: (r, t) => {
      if (t.length === 0) return undefined;
      const at = int(r, 0, t.length - 1);
      const value = chance(r, 0.5) ? t.charCodeAt(at) ^ (1 << int(r, 0, 7)) : pick(r, SPECIAL);
      return { text: t.slice(0, at) + String.fromCharCode(value) + t.slice(at + 1), label: `flip@${at}` };
    },
  },
  insert: {
    weight: 5,
    apply: (r, t) => {
      const at = int(r, 0, t.length);
      const n = int(r, 1, 4);
      let s = '';
      for (let i = 0; i < n; i++) s += String.fromCharCode(chance(r, 0.7) ? pick(r, SPECIAL) : int(r, 0, 255));
      return { text: t.slice(0, at) + s + t.slice(at), label: `insert@${at}+${n}` };
    },
  },
  delete: {
    weight: 5,
    apply: (r, t) => {
      if (t.length < 2) return undefined;
      const at = int(r, 0, t.length - 1);
      const n = Math.min(t.length - at, chance(r, 0.7) ? int(r, 1, 2) : int(r, 1, 40));
      return { text: t.slice(0, at) + t.slice(at + n), label: `delete@${at}-${n}` };
    },
  },
  truncate: {
    weight: 5,
    apply: (r, t) => {
      if (t.length < 2) return undefined;
      const at = int(r, 1, t.length - 1);
      return { text: t.slice(0, at), label: `truncate@${at}` };
    },
  },
  'duplicate-header': {
    weight: 4,
    apply: (r, t) => {
      const lines = headerLines(t);
      if (lines.length === 0) return undefined;
      const line = pick(r, lines);
      let copy = t.slice(line.start, line.end);
      if (chance(r, 0.5)) copy = `${copy.slice(0, copy.indexOf(':') + 1)} ${pick(r, ['other', '0', '1', '', 'close', 'chunked'])}`;
      return { text: `${t.slice(0, line.end + 2)}${copy}\r\n${t.slice(line.end + 2)}`, label: `duplicate-header@${line.start}` };
    },
  },
  'second-length': {
    weight: 3,
    apply: (r, t) => {
      const lines = headerLines(t);
      if (lines.length === 0) return undefined;
      const line = pick(r, lines);
      const value = chance(r, 0.5) ? String(int(r, 0, 40)) : pick(r, BAD_LENGTHS);
      const name = pick(r, ['Content-Length', 'content-length', 'Content-length']);
      return { text: `${t.slice(0, line.end + 2)}${name}: ${value}\r\n${t.slice(line.end + 2)}`, label: `second-length(${value})` };
    },
  },
  'te-and-cl': {
    weight: 3,
    apply: (r, t) => {
      const lines = headerLines(t);
      if (lines.length === 0) return undefined;
      const line = pick(r, lines);
      const te = chance(r, 0.6) ? 'chunked' : pick(r, BAD_TE);
      const extra = chance(r, 0.5) ? `Transfer-Encoding: ${te}\r\n` : `Content-Length: ${int(r, 0, 30)}\r\nTransfer-Encoding: ${te}\r\n`;
      return { text: t.slice(0, line.end + 2) + extra + t.slice(line.end + 2), label: `te-and-cl(${te})` };
    },
  },
  'bad-length': {
    weight: 3,
    apply: (r, t) => {
      const m = /content-length:[ \t]*([^\r\n]*)/i.exec(t);
      if (!m) return undefined;
      const value = pick(r, BAD_LENGTHS);
      const at = m.index + m[0].length - m[1]!.length;
      return { text: t.slice(0, at) + value + t.slice(at + m[1]!.length), label: `bad-length(${JSON.stringify(value)})` };
    },
  },
  'bad-transfer-encoding': {
    weight: 2,
    apply: (r, t) => {
      const m = /transfer-encoding:[ \t]*chunked/i.exec(t);
      if (!m) return undefined;
      const value = pick(r, BAD_TE);
      return { text: `${t.slice(0, m.index)}Transfer-Encoding: ${value}${t.slice(m.index + m[0].length)}`, label: `bad-transfer-encoding(${JSON.stringify(value)})` };
    },
  },
  'bad-chunk-size': {
    weight: 3,
    apply: (r, t) => {
      const head = t.indexOf('\r\n\r\n');
      if (!/transfer-encoding/i.test(t) || head < 0) return undefined;
      // A chunk-size line: hex digits at the start of a line after the head.
      const re = /\r\n([0-9a-fA-F]+)(;[^\r\n]*)?\r\n/g;
      re.lastIndex = head + 2;
      const found: RegExpExecArray[] = [];
      for (let m = re.exec(t); m; m = re.exec(t)) found.push(m);
      if (found.length === 0) return undefined;
      const m = pick(r, found);
      const value = pick(r, BAD_CHUNK_SIZES);
      const at = m.index + 2;
      return { text: t.slice(0, at) + value + t.slice(at + m[1]!.length), label: `bad-chunk-size(${JSON.stringify(value)})` };
    },
  },
  'header-name': {
    weight: 4,
    apply: (r, t) => {
      const lines = headerLines(t);
      if (lines.length === 0) return undefined;
      const line = pick(r, lines);
      const text = t.slice(line.start, line.end);
      const colon = text.indexOf(':');
      if (colon < 0) return undefined;
      const how = pick(r, ['space-before-colon', 'tab-before-colon', 'bad-char', 'empty-name', 'no-colon', 'leading-space', 'utf8']);
      let changed: string;
      if (how === 'space-before-colon') changed = `${text.slice(0, colon)} ${text.slice(colon)}`;
      else if (how === 'tab-before-colon') changed = `${text.slice(0, colon)}\t${text.slice(colon)}`;
      else if (how === 'bad-char') {
        const at = int(r, 0, Math.max(0, colon - 1));
        changed = text.slice(0, at) + pick(r, ['(', '"', '/', '@', '[', '{', '\u0001', '\u00ff', '=']) + text.slice(at + 1);
      } else if (how === 'empty-name') changed = text.slice(colon);
      else if (how === 'no-colon') changed = text.slice(0, colon) + text.slice(colon + 1);
      else if (how === 'leading-space') changed = ` ${text}`; // obs-fold: a continuation line
      else changed = `X-\u00e9${text}`;
      return { text: t.slice(0, line.start) + changed + t.slice(line.end), label: `header-name(${how})@${line.start}` };
    },
  },
  'header-value': {
    weight: 4,
    apply: (r, t) => {
      const lines = headerLines(t);
      if (lines.length === 0) return undefined;
      const line = pick(r, lines);
      const value = pick(r, ['\u0000', '\r', '\n', '\u0007', '\u007f', '\u00ff\u00fe', ' \r\n continued', '\r\n\tfolded', '\u001b[31m']);
      const at = int(r, t.indexOf(':', line.start) + 1, line.end);
      return { text: t.slice(0, at) + value + t.slice(at), label: `header-value(${JSON.stringify(value)})@${at}` };
    },
  },
  'request-line': {
    weight: 4,
    apply: (r, t) => {
      const eol = t.indexOf('\r\n');
      if (eol < 0) return undefined;
      const [method = '', target = '', version = ''] = t.slice(0, eol).split(' ');
      const how = pick(r, ['method', 'version', 'target', 'extra-space', 'no-version', 'leading-crlf', 'tab']);
      let line: string;
      if (how === 'method') line = `${pick(r, METHOD_SWAPS)} ${target} ${version}`;
      else if (how === 'version') line = `${method} ${target} ${pick(r, VERSION_SWAPS)}`;
      else if (how === 'target') line = `${method} ${pick(r, ['', ' ', '/a b', '/\u0000', 'no-slash', '//', '/%', '/\u00e9', '*'])} ${version}`;
      else if (how === 'extra-space') line = `${method}  ${target} ${version}`;
      else if (how === 'no-version') line = `${method} ${target}`;
      else if (how === 'leading-crlf') line = `\r\n${method} ${target} ${version}`; // RFC 9112 §2.2 lets a server skip these
      else line = `${method}\t${target}\t${version}`;
      return { text: line + t.slice(eol), label: `request-line(${how})` };
    },
  },
  'bare-lf': {
    weight: 2,
    apply: (r, t) => {
      const all = chance(r, 0.5);
      if (all) return { text: t.replaceAll('\r\n', '\n'), label: 'bare-lf(all)' };
      const spots: number[] = [];
      for (let i = t.indexOf('\r\n'); i >= 0; i = t.indexOf('\r\n', i + 2)) spots.push(i);
      if (spots.length === 0) return undefined;
      const at = pick(r, spots);
      return { text: t.slice(0, at) + (chance(r, 0.5) ? '\n' : '\r') + t.slice(at + 2), label: `bare-lf@${at}` };
    },
  },
  'drop-host': {
    weight: 2,
    apply: (_r, t) => {
      const m = /\r\nHost:[^\r\n]*/i.exec(t);
      if (!m) return undefined;
      return { text: t.slice(0, m.index) + t.slice(m.index + m[0].length), label: 'drop-host' };
    },
  },
  oversize: {
    weight: 2,
    apply: (r, t) => {
      const eol = t.indexOf('\r\n');
      if (eol < 0) return undefined;
      const how = pick(r, ['long-target', 'long-value', 'many-headers', 'long-name', 'long-chunk-ext', 'big-length', 'big-chunk']);
      const afterLine = eol + 2;
      if (how === 'long-target') {
        const sp = t.indexOf(' ');
        const n = pick(r, [8180, 8200, 9000, 20_000]);
        return { text: `${t.slice(0, sp + 1)}/${'a'.repeat(n)}${t.slice(t.indexOf(' ', sp + 1))}`, label: `oversize(target ${n})` };
      }
      if (how === 'long-value') {
        const n = pick(r, [8000, 16_400, 17_000, 40_000]);
        return { text: `${t.slice(0, afterLine)}X-Big: ${'v'.repeat(n)}\r\n${t.slice(afterLine)}`, label: `oversize(value ${n})` };
      }
      if (how === 'many-headers') {
        const n = pick(r, [99, 101, 150, 1000]);
        let extra = '';
        for (let i = 0; i < n; i++) extra += `X-H${i}: ${i}\r\n`;
        return { text: t.slice(0, afterLine) + extra + t.slice(afterLine), label: `oversize(${n} headers)` };
      }
      if (how === 'long-name') {
        const n = pick(r, [5000, 17_000]);
        return { text: `${t.slice(0, afterLine)}X-${'n'.repeat(n)}: 1\r\n${t.slice(afterLine)}`, label: `oversize(name ${n})` };
      }
      if (how === 'long-chunk-ext') {
        const m = /\r\n\r\n([0-9a-fA-F]+)\r\n/.exec(t);
        if (!m || !/transfer-encoding/i.test(t)) return undefined;
        const at = m.index + 4 + m[1]!.length;
        const n = pick(r, [1000, 20_000]);
        return { text: `${t.slice(0, at)};x=${'e'.repeat(n)}${t.slice(at)}`, label: `oversize(chunk-ext ${n})` };
      }
      if (how === 'big-length') {
        const m = /content-length:[ \t]*(\d+)/i.exec(t);
        if (!m) return undefined;
        const at = m.index + m[0].length - m[1]!.length;
        const value = pick(r, ['1048577', '2000000', '9007199254740993']);
        return { text: t.slice(0, at) + value + t.slice(at + m[1]!.length), label: `oversize(length ${value})` };
      }
      const m = /\r\n\r\n([0-9a-fA-F]+)\r\n/.exec(t);
      if (!m || !/transfer-encoding/i.test(t)) return undefined;
      const value = pick(r, ['100001', 'FFFFFF', '7fffffff']);
      return { text: t.slice(0, m.index + 4) + value + t.slice(m.index + 4 + m[1]!.length), label: `oversize(chunk ${value})` };
    },
  },
  'swap-lines': {
    weight: 1,
    apply: (r, t) => {
      const lines = headerLines(t);
      if (lines.length < 1) return undefined;
      // Move a header line before the request line.
      const line = pick(r, lines);
      const text = t.slice(line.start, line.end + 2);
      return { text: text + t.slice(0, line.start) + t.slice(line.end + 2), label: 'swap-lines' };
    },
  },
  'random-bytes': {
    weight: 1,
    apply: (r, t) => {
      const at = int(r, 0, t.length);
      const n = int(r, 1, 64);
      let s = '';
      for (let i = 0; i < n; i++) s += String.fromCharCode(int(r, 0, 255));
      return { text: t.slice(0, at) + s + t.slice(at), label: `random-bytes@${at}+${n}` };
    },
  },
};

/** The names of the mutations, for the summary and the tests. */
export const mutationNames = Object.keys(mutations);
const totalWeight = Object.values(mutations).reduce((s, m) => s + m.weight, 0);

function pickMutation(r: Rand): string {
  let x = r() * totalWeight;
  for (const [name, m] of Object.entries(mutations)) {
    x -= m.weight;
    if (x < 0) return name;
  }
  return mutationNames[mutationNames.length - 1]!;
}

/** Cut `length` bytes into write sizes: usually one write, often a few, sometimes many small ones. */
function writesFor(r: Rand, length: number): number[] {
  if (length <= 1) return length === 0 ? [] : [1];
  const style = r();
  let pieces: number;
  if (style < 0.45) pieces = 1;
  else if (style < 0.85) pieces = int(r, 2, 4);
  else pieces = int(r, 5, 24);
  pieces = Math.min(pieces, length);
  if (pieces === 1) return [length];
  const cuts = new Set<number>();
  while (cuts.size < pieces - 1) cuts.add(int(r, 1, length - 1));
  const sorted = [...cuts].sort((a, b) => a - b);
  return [...sorted, length].map((c, i) => c - (i === 0 ? 0 : sorted[i - 1]!));
}

/** Input `index` of the run seeded `seed`. */
export function fuzzInput(seed: number, index: number): FuzzInput {
  const r = seededRandom(inputSeed(seed, index));
  const { name, text: original } = base(r);
  // The corpus is written as JavaScript strings; on the wire it is UTF-8. From here on, one char is one byte.
  let text = latin1(bytesOf(original));
  const applied: string[] = [];
  // About 1 in 20 inputs goes out unmutated: the server must still answer real requests right.
  const count = chance(r, 0.05) ? 0 : pick(r, [1, 1, 1, 2, 2, 3, 4]);
  for (let tries = 0; applied.length < count && tries < count * 4; tries++) {
    const name = pickMutation(r);
    const result = mutations[name]!.apply(r, text);
    if (!result) continue;
    text = result.text;
    applied.push(result.label);
  }
  const bytes = fromLatin1(text);
  return { seed, index, base: name, mutations: applied, bytes, writes: writesFor(r, bytes.length), ending: chance(r, 0.12) ? 'hold' : 'half-close' };
}

/** `count` inputs from `start`, lazily. */
export function* fuzzInputs(seed: number, count: number, start = 0): Generator<FuzzInput> {
  for (let i = start; i < start + count; i++) yield fuzzInput(seed, i);
}

/** The bytes cut into their writes. */
export function writesOf(input: FuzzInput): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const n of input.writes) {
    out.push(input.bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}
