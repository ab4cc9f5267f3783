/**
 * Chapter 02: finding each other.
 *
 * Addresses and ports as the operating system sees them: IPv4 and IPv6 text and bytes,
 * CIDR prefixes, endpoints, the 4-tuple that names a connection, and a demultiplexer
 * that hands each incoming segment to the connection (or listener) it belongs to.
 *
 * Read chapters/02-addresses-and-ports/lesson.md first. Run the tests with
 *   npm run workbook -- check 02
 */

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

/** Bits in an IPv4 address (RFC 791 §3.2). */
export const IPV4_BITS = 32;
/** Bits in an IPv6 address (RFC 4291 §2). */
export const IPV6_BITS = 128;
/** Decimal parts ("octets") in IPv4 dotted-quad text. */
export const IPV4_OCTETS = 4;
/** The largest value of one octet. */
export const OCTET_MAX = 255;
/** 16-bit groups in IPv6 text (RFC 4291 §2.2). */
export const IPV6_GROUPS = 8;
/** The largest port: ports are 16-bit numbers (RFC 9293 §3.1, RFC 768). */
export const PORT_MAX = 65535;
/** The last System ("well-known") port (RFC 6335 §6). */
export const WELL_KNOWN_PORT_MAX = 1023;
/** The last User ("registered") port; every port above it is Dynamic ("ephemeral") (RFC 6335 §6). */
export const REGISTERED_PORT_MAX = 49151;

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------

/** The IP version: 4 or 6. */
export type Family = 4 | 6;

/** An IP address: its family and its bytes in network byte order (4 bytes for IPv4, 16 for IPv6). */
export interface IpAddress {
  readonly family: Family;
  readonly bytes: Uint8Array;
}

/** A CIDR prefix such as 10.0.0.0/8: an address and how many leading bits of it count. */
export interface Prefix {
  readonly address: IpAddress;
  readonly length: number;
}

/** One end of a conversation: an address and a port. */
export interface Endpoint {
  readonly address: IpAddress;
  readonly port: number;
}

/** The 4-tuple that names a connection, seen from this machine: our end and their end. */
export interface FourTuple {
  readonly local: Endpoint;
  readonly remote: Endpoint;
}

/** The addressing of an incoming segment (or datagram): who sent it, and to which of our endpoints. */
export interface Segment {
  readonly source: Endpoint;
  readonly destination: Endpoint;
}

/** The RFC 6335 port ranges. */
export type PortRange = 'well-known' | 'registered' | 'dynamic';

/** Where the demultiplexer sends a segment: an open connection, a listener, or nowhere. */
export type Delivery<T> =
  | { readonly kind: 'connection'; readonly target: T }
  | { readonly kind: 'listener'; readonly target: T }
  | { readonly kind: 'dropped' };

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/** The stable codes of `AddressError`. */
export type AddressErrorCode =
  | 'ERR_INVALID_IPV4'
  | 'ERR_INVALID_IPV6'
  | 'ERR_INVALID_PREFIX'
  | 'ERR_INVALID_PORT'
  | 'ERR_INVALID_ENDPOINT';

/** Invalid address, prefix, port or endpoint input. Tests check `code`, never the message. */
export class AddressError extends Error {
  override name = 'AddressError';

  constructor(
    /** Which kind of input was wrong. */
    readonly code: AddressErrorCode,
    /** The input that was rejected, as text. */
    readonly input: string,
    /** Why, in a few words ("leading zero in part 2"). */
    reason: string,
  ) {
    super(`${reason}: ${JSON.stringify(input)}`);
  }
}

/** The stable codes of `DemuxError`. */
export type DemuxErrorCode = 'ERR_ADDRESS_IN_USE' | 'ERR_CONNECTION_EXISTS';

/** A demultiplexer table conflict, like the OS's EADDRINUSE. */
export class DemuxError extends Error {
  override name = 'DemuxError';

  constructor(
    /** What conflicted. */
    readonly code: DemuxErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

const CHAR_0 = 0x30; // '0'
const CHAR_9 = 0x39; // '9'
const CHAR_DOT = 0x2e; // '.'
const CHAR_A = 0x61; // 'a'
const CHAR_F = 0x66; // 'f'
const UINT32_MAX = 0xffff_ffff;
const IPV4_BYTES = IPV4_BITS / 8;
const IPV6_BYTES = IPV6_BITS / 8;
/** Hex digits in one IPv6 group, at most (RFC 4291 §2.2). */
const GROUP_DIGITS_MAX = 4;
/** The 16-bit group before an IPv4-mapped address's IPv4 part: ::ffff:0:0/96 (RFC 4291 §2.5.5.2). */
const MAPPED_MARKER = 0xffff;
/** Index of that group. */
const MAPPED_MARKER_GROUP = 5;

const isDigit = (c: number) => c >= CHAR_0 && c <= CHAR_9;

/** A DataView over exactly these bytes (a Uint8Array may be a window into a bigger buffer). */
const viewOf = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * Read plain decimal text ("0", "443"): digits only, no sign, no leading zero, at most `max`.
 * Returns undefined for anything else, so each caller can throw its own error code.
 */
function readDecimal(text: string, max: number): number | undefined {
  if (text.length === 0 || (text.length > 1 && text.charCodeAt(0) === CHAR_0)) return undefined;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) return undefined;
    value = value * 10 + (c - CHAR_0);
    if (value > max) return undefined; // stop early: "99999999999999999999" never grows a huge number
  }
  return value;
}

const isUint32 = (value: number) => Number.isInteger(value) && value >= 0 && value <= UINT32_MAX;
const isPort = (port: number) => Number.isInteger(port) && port >= 0 && port <= PORT_MAX;

// ---------------------------------------------------------------------------
// IPv4
// ---------------------------------------------------------------------------

/**
 * Read dotted-quad text ("192.0.2.1") into an unsigned 32-bit number (0 .. 4294967295).
 * Exactly four decimal parts, each 0-255, no leading zeros, nothing else.
 * Throws AddressError ERR_INVALID_IPV4.
 */
export function parseIPv4(text: string): number {
  const invalid = (reason: string) => new AddressError('ERR_INVALID_IPV4', text, reason);
  let value = 0; // the octets finished so far
  let octet = 0; // the octet being read
  let digits = 0; // digits read in it
  let octets = 0; // octets finished

  const finishOctet = () => {
    // Stryker disable next-line ArithmeticOperator: only the human-readable message changes, and tests never read messages
    if (digits === 0) throw invalid(`empty part ${octets + 1}`);
    // << and | give a signed 32-bit result; >>> 0 reads the same bits back as unsigned.
    value = ((value << 8) | octet) >>> 0;
    octets++;
    octet = 0;
    digits = 0;
  };

  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === CHAR_DOT) {
      finishOctet();
    } else if (isDigit(c)) {
      // "010" meant octal 8 to old inet_aton, so modern parsers refuse it rather than guess.
      // Stryker disable next-line ArithmeticOperator: only the human-readable message changes, and tests never read messages
      if (digits === 1 && octet === 0) throw invalid(`leading zero in part ${octets + 1}`);
      octet = octet * 10 + (c - CHAR_0);
      digits++;
      // Stryker disable next-line ArithmeticOperator: only the human-readable message changes, and tests never read messages
      if (octet > OCTET_MAX) throw invalid(`part ${octets + 1} is over ${OCTET_MAX}`);
    } else {
      throw invalid(`unexpected character ${JSON.stringify(text[i])} at index ${i}`);
    }
  }
  finishOctet(); // the end of the text closes the last part, as a dot would
  if (octets !== IPV4_OCTETS) throw invalid(`${octets} parts instead of ${IPV4_OCTETS}`);
  return value;
}

/** Write an unsigned 32-bit number as dotted-quad text. Throws ERR_INVALID_IPV4 for anything else. */
export function formatIPv4(value: number): string {
  return ipv4ToBytes(value).join('.');
}

/** The 4 bytes of an IPv4 address in network byte order (most significant first), in a new array. Throws ERR_INVALID_IPV4. */
export function ipv4ToBytes(value: number): Uint8Array {
  // A negative number here is a sign-trap bug upstream, not an address: refuse it.
  if (!isUint32(value)) throw new AddressError('ERR_INVALID_IPV4', String(value), 'not an unsigned 32-bit integer');
  const bytes = new Uint8Array(IPV4_BYTES);
  viewOf(bytes).setUint32(0, value); // DataView is big-endian (network order) unless told otherwise
  return bytes;
}

/** The 32-bit mask with `bits` leading ones (0 <= bits <= 32), as an unsigned number. Throws ERR_INVALID_PREFIX. */
export function prefixMask(bits: number): number {
  if (!Number.isInteger(bits) || bits < 0 || bits > IPV4_BITS) {
    throw new AddressError('ERR_INVALID_PREFIX', String(bits), `mask length is not a whole number 0-${IPV4_BITS}`);
  }
  // JS takes shift counts mod 32, so UINT32_MAX << 32 would be UINT32_MAX << 0: /0 needs its own case.
  if (bits === 0) return 0;
  return (UINT32_MAX << (IPV4_BITS - bits)) >>> 0;
}

// ---------------------------------------------------------------------------
// IPv6
// ---------------------------------------------------------------------------

/**
 * Read IPv6 text into 16 new bytes: eight groups of 1-4 hex digits separated by ":", at most one "::"
 * standing for one or more zero groups, and optionally a dotted IPv4 address as the last 32 bits.
 * Throws AddressError ERR_INVALID_IPV6.
 */
export function parseIPv6(text: string): Uint8Array {
  const invalid = (reason: string) => new AddressError('ERR_INVALID_IPV6', text, reason);
  const halves = text.split('::');
  if (halves.length > 2) throw invalid('"::" appears more than once');
  const compressed = halves.length === 2;
  // Only the last piece of the whole address may be dotted IPv4: the end of the head if there is no "::".
  const head = readGroups(halves[0]!, !compressed, invalid);
  const tail = compressed ? readGroups(halves[1]!, true, invalid) : [];

  const written = head.length + tail.length;
  if (compressed && written > IPV6_GROUPS - 1) throw invalid('"::" must stand for at least one zero group');
  if (!compressed && written !== IPV6_GROUPS) throw invalid(`${written} groups instead of ${IPV6_GROUPS}`);

  const bytes = new Uint8Array(IPV6_BYTES); // starts all zero, so the "::" gap needs no filling
  const view = viewOf(bytes);
  head.forEach((g, i) => view.setUint16(2 * i, g));
  tail.forEach((g, i) => view.setUint16(2 * (IPV6_GROUPS - tail.length + i), g));
  return bytes;
}

/** The 16-bit groups of one side of "::" ("2001:db8", "" or "ffff:192.0.2.1"). */
function readGroups(side: string, mayEndInIPv4: boolean, invalid: (reason: string) => AddressError): number[] {
  if (side === '') return [];
  const pieces = side.split(':');
  const groups: number[] = [];
  pieces.forEach((piece, i) => {
    if (piece.includes('.')) {
      if (!mayEndInIPv4 || i !== pieces.length - 1) throw invalid('a dotted IPv4 part may only come last');
      let v4: number;
      try {
        v4 = parseIPv4(piece);
      } catch {
        throw invalid(`bad IPv4 part ${JSON.stringify(piece)}`);
      }
      groups.push(v4 >>> 16, v4 & 0xffff); // 32 bits fill two groups
    } else {
      groups.push(readHexGroup(piece, invalid));
    }
  });
  return groups;
}

/** One group: 1 to 4 hex digits, either case. */
function readHexGroup(piece: string, invalid: (reason: string) => AddressError): number {
  if (piece.length === 0) throw invalid('empty group');
  if (piece.length > GROUP_DIGITS_MAX) throw invalid(`group ${JSON.stringify(piece)} has more than ${GROUP_DIGITS_MAX} digits`);
  let value = 0;
  for (let i = 0; i < piece.length; i++) {
    const digit = hexDigit(piece.charCodeAt(i));
    if (digit === undefined) throw invalid(`unexpected character ${JSON.stringify(piece[i])}`);
    value = value * 16 + digit;
  }
  return value;
}

/** The value of one hex digit character code, or undefined. */
function hexDigit(c: number): number | undefined {
  if (isDigit(c)) return c - CHAR_0;
  const lower = c | 0x20; // in ASCII, 'A'..'F' differ from 'a'..'f' only in bit 0x20
  if (lower >= CHAR_A && lower <= CHAR_F) return lower - CHAR_A + 10;
  return undefined;
}

/**
 * Write 16 bytes as canonical IPv6 text (RFC 5952): lowercase, no leading zeros, the longest run
 * of two or more zero groups as "::" (the first such run on a tie), and IPv4-mapped addresses (only
 * those) as "::ffff:192.0.2.1". Throws ERR_INVALID_IPV6 unless given exactly 16 bytes.
 */
export function formatIPv6(bytes: Uint8Array): string {
  if (bytes.length !== IPV6_BYTES) {
    throw new AddressError('ERR_INVALID_IPV6', `${bytes.length} bytes`, `an IPv6 address is ${IPV6_BYTES} bytes`);
  }
  const view = viewOf(bytes);
  const groups = Array.from({ length: IPV6_GROUPS }, (_, i) => view.getUint16(2 * i));

  // RFC 5952 §5: the well-known IPv4-mapped prefix keeps its IPv4 part dotted.
  if (groups.slice(0, MAPPED_MARKER_GROUP).every((g) => g === 0) && groups[MAPPED_MARKER_GROUP] === MAPPED_MARKER) {
    return `::ffff:${formatIPv4(view.getUint32(12))}`;
  }

  const run = longestZeroRun(groups);
  const hex = (from: number, to: number) => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  if (!run) return hex(0, IPV6_GROUPS);
  return `${hex(0, run.start)}::${hex(run.start + run.length, IPV6_GROUPS)}`;
}

/** The run of zero groups to compress: the longest of length >= 2, the first on a tie (RFC 5952 §4.2). */
function longestZeroRun(groups: number[]): { start: number; length: number } | undefined {
  let best: { start: number; length: number } | undefined;
  let start = -1; // where the current run of zeros began, or -1 outside a run
  for (const [i, group] of groups.entries()) {
    if (group !== 0) {
      start = -1;
      continue;
    }
    if (start < 0) start = i;
    const length = i - start + 1;
    // Strictly longer only: an equal run later on never replaces the first (§4.2.3);
    // a lone zero group is never compressed (§4.2.2).
    if (length >= 2 && length > (best?.length ?? 0)) best = { start, length };
  }
  return best;
}

// ---------------------------------------------------------------------------
// Either family
// ---------------------------------------------------------------------------

/** Read IPv4 or IPv6 text (text with a ":" is IPv6). Throws ERR_INVALID_IPV4 or ERR_INVALID_IPV6. */
export function parseAddress(text: string): IpAddress {
  if (text.includes(':')) return { family: 6, bytes: parseIPv6(text) };
  return { family: 4, bytes: ipv4ToBytes(parseIPv4(text)) };
}

/** Canonical text of an address (dotted quad, or RFC 5952 for IPv6). Throws ERR_INVALID_IPV4 / ERR_INVALID_IPV6 unless it has 4 / 16 bytes. */
export function formatAddress(address: IpAddress): string {
  if (address.family === 6) return formatIPv6(address.bytes);
  if (address.bytes.length !== IPV4_BYTES) {
    throw new AddressError('ERR_INVALID_IPV4', `${address.bytes.length} bytes`, `an IPv4 address is ${IPV4_BYTES} bytes`);
  }
  return formatIPv4(viewOf(address.bytes).getUint32(0));
}

/**
 * Read a CIDR prefix, "10.0.0.0/8" or "2001:db8::/32". The length is decimal without leading
 * zeros, 0-32 for IPv4 and 0-128 for IPv6. Host bits may be set ("10.1.2.3/8" means 10.0.0.0/8); keep them
 * or clear them, as you like. Throws ERR_INVALID_PREFIX for a missing or bad length, or the address's own
 * code for a bad address (what comes before "/" is read with parseAddress, even when it is empty).
 */
export function parsePrefix(text: string): Prefix {
  const slash = text.indexOf('/');
  if (slash < 0) throw new AddressError('ERR_INVALID_PREFIX', text, 'missing "/length"');
  const address = parseAddress(text.slice(0, slash));
  const maxLength = address.family === 4 ? IPV4_BITS : IPV6_BITS;
  const length = readDecimal(text.slice(slash + 1), maxLength);
  if (length === undefined) throw new AddressError('ERR_INVALID_PREFIX', text, `length is not a whole number 0-${maxLength}`);
  return { address, length };
}

/** Whether `address` lies inside `prefix`: same family, and the first `prefix.length` bits are equal. */
export function inPrefix(prefix: Prefix, address: IpAddress): boolean {
  if (prefix.address.family !== address.family) return false; // same bytes, different meaning
  const net = viewOf(prefix.address.bytes);
  const addr = viewOf(address.bytes);
  // Compare 32 bits at a time; each word gets the part of the prefix length that falls inside it.
  for (let word = 0; word * 4 < address.bytes.length; word++) {
    const bits = Math.min(IPV4_BITS, Math.max(0, prefix.length - IPV4_BITS * word));
    const differing = (net.getUint32(word * 4) ^ addr.getUint32(word * 4)) & prefixMask(bits);
    if (differing !== 0) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Ports and endpoints
// ---------------------------------------------------------------------------

/** Which RFC 6335 range a port is in. Throws ERR_INVALID_PORT unless it is a whole number 0-65535. */
export function classifyPort(port: number): PortRange {
  if (!isPort(port)) throw new AddressError('ERR_INVALID_PORT', String(port), `not a whole number 0-${PORT_MAX}`);
  if (port <= WELL_KNOWN_PORT_MAX) return 'well-known';
  if (port <= REGISTERED_PORT_MAX) return 'registered';
  return 'dynamic';
}

/**
 * Read "192.0.2.1:80" or "[2001:db8::1]:443". IPv6 addresses must be in brackets; IPv4 must not.
 * The port is decimal, 0-65535, without leading zeros.
 * Throws ERR_INVALID_ENDPOINT for a bad shape (checked first), ERR_INVALID_PORT for a bad port,
 * or the address's own code for a bad address. Brackets around something that is not IPv6
 * ("[127.0.0.1]:80") may be either ERR_INVALID_ENDPOINT or ERR_INVALID_IPV6.
 */
export function parseEndpoint(text: string): Endpoint {
  const shape = (reason: string) => new AddressError('ERR_INVALID_ENDPOINT', text, reason);
  let address: IpAddress;
  let rest: string; // what follows the address: ":port"
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) throw shape('"[" without "]"');
    const host = text.slice(1, close);
    if (!host.includes(':')) throw shape('brackets are only for IPv6 addresses');
    address = { family: 6, bytes: parseIPv6(host) };
    rest = text.slice(close + 1);
  } else {
    const colon = text.indexOf(':');
    if (colon < 0) throw shape('missing ":port"');
    // Without brackets, "::1:80" could be ::1 port 80 or the address ::1:80. Refuse to guess.
    if (text.includes(':', colon + 1)) throw shape('an IPv6 address needs brackets, as in [::1]:80');
    address = { family: 4, bytes: ipv4ToBytes(parseIPv4(text.slice(0, colon))) };
    rest = text.slice(colon);
  }
  if (!rest.startsWith(':')) throw shape('missing ":port" after the address');
  const port = readDecimal(rest.slice(1), PORT_MAX);
  if (port === undefined) throw new AddressError('ERR_INVALID_PORT', text, `port is not a whole number 0-${PORT_MAX}`);
  return { address, port };
}

/** Canonical text of an endpoint: "192.0.2.1:80" or "[2001:db8::1]:443". Throws ERR_INVALID_PORT for a bad port. */
export function formatEndpoint(endpoint: Endpoint): string {
  const { address, port } = endpoint;
  if (!isPort(port)) throw new AddressError('ERR_INVALID_PORT', String(port), `not a whole number 0-${PORT_MAX}`);
  const host = formatAddress(address);
  return address.family === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

// ---------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------

/**
 * A string that names the connection: equal for equal 4-tuples (however their addresses were
 * spelled), different whenever any of the four parts differ, and direction matters.
 */
export function connectionKey(tuple: FourTuple): string {
  // Canonical text makes equal tuples equal strings; brackets keep the pieces apart.
  return `${formatEndpoint(tuple.local)} ${formatEndpoint(tuple.remote)}`;
}

/** The unspecified ("any") address of a family: 0.0.0.0 or ::. */
const unspecified = (family: Family): IpAddress => ({ family, bytes: new Uint8Array(family === 4 ? IPV4_BYTES : IPV6_BYTES) });

/**
 * Routes incoming segments the way the OS does: to the connection whose 4-tuple matches;
 * failing that, to a listener on the destination endpoint, preferring one bound to that exact
 * address over one bound to the unspecified address (0.0.0.0 or ::) of the same family;
 * failing that, nowhere. `T` is whatever the caller wants back (a socket, a name). The tables keep
 * keys made at registration, so a caller may reuse its buffers afterwards.
 */
export class Demultiplexer<T> {
  readonly #connections = new Map<string, T>();
  readonly #listeners = new Map<string, T>();

  /** Accept new conversations on `local`. Throws DemuxError ERR_ADDRESS_IN_USE if that endpoint has a listener. */
  addListener(local: Endpoint, target: T): void {
    const key = formatEndpoint(local);
    if (this.#listeners.has(key)) throw new DemuxError('ERR_ADDRESS_IN_USE', `${key} already has a listener`);
    this.#listeners.set(key, target);
  }

  /** Register an open connection. Throws DemuxError ERR_CONNECTION_EXISTS if the 4-tuple is taken. */
  addConnection(tuple: FourTuple, target: T): void {
    const key = connectionKey(tuple);
    if (this.#connections.has(key)) throw new DemuxError('ERR_CONNECTION_EXISTS', `connection ${key} already exists`);
    this.#connections.set(key, target);
  }

  /** Forget a connection; returns whether it was there. */
  removeConnection(tuple: FourTuple): boolean {
    return this.#connections.delete(connectionKey(tuple));
  }

  /** Decide who receives an incoming segment. */
  route(segment: Segment): Delivery<T> {
    // An incoming segment's destination is our end of the conversation; its source is theirs.
    const key = connectionKey({ local: segment.destination, remote: segment.source });
    if (this.#connections.has(key)) return { kind: 'connection', target: this.#connections.get(key)! };

    const { address, port } = segment.destination;
    for (const local of [segment.destination, { address: unspecified(address.family), port }]) {
      const listenerKey = formatEndpoint(local);
      if (this.#listeners.has(listenerKey)) return { kind: 'listener', target: this.#listeners.get(listenerKey)! };
    }
    return { kind: 'dropped' };
  }
}
