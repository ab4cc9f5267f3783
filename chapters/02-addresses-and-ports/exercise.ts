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
import { todo } from '../workbook.ts';

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
// IPv4
// ---------------------------------------------------------------------------

/**
 * Read dotted-quad text ("192.0.2.1") into an unsigned 32-bit number (0 .. 4294967295).
 * Exactly four decimal parts, each 0-255, no leading zeros, nothing else.
 * Throws AddressError ERR_INVALID_IPV4.
 */
export function parseIPv4(text: string): number {
  // TODO: walk the text one character at a time (digits and dots); build an unsigned result.
  return todo(import.meta.url, 'parseIPv4');
}

/** Write an unsigned 32-bit number as dotted-quad text. Throws ERR_INVALID_IPV4 for anything else. */
export function formatIPv4(value: number): string {
  // TODO: check the value is a whole number in 0 .. 2^32 - 1, then print its four bytes, highest first.
  return todo(import.meta.url, 'formatIPv4');
}

/** The 4 bytes of an IPv4 address in network byte order (most significant first), in a new array. Throws ERR_INVALID_IPV4. */
export function ipv4ToBytes(value: number): Uint8Array {
  // TODO: write the value with a DataView, big-endian.
  return todo(import.meta.url, 'ipv4ToBytes');
}

/** The 32-bit mask with `bits` leading ones (0 <= bits <= 32), as an unsigned number. Throws ERR_INVALID_PREFIX. */
export function prefixMask(bits: number): number {
  // TODO: shift ones into place, mind the << 32 trap, and return an unsigned result.
  return todo(import.meta.url, 'prefixMask');
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
  // TODO: split once on "::", read each side's groups, fill the gap with zeros.
  return todo(import.meta.url, 'parseIPv6');
}

/**
 * Write 16 bytes as canonical IPv6 text (RFC 5952): lowercase, no leading zeros, the longest run
 * of two or more zero groups as "::" (the first such run on a tie), and IPv4-mapped addresses (only
 * those) as "::ffff:192.0.2.1". Throws ERR_INVALID_IPV6 unless given exactly 16 bytes.
 */
export function formatIPv6(bytes: Uint8Array): string {
  // TODO: read eight 16-bit groups, find the longest zero run, and print.
  return todo(import.meta.url, 'formatIPv6');
}

// ---------------------------------------------------------------------------
// Either family
// ---------------------------------------------------------------------------

/** Read IPv4 or IPv6 text (text with a ":" is IPv6). Throws ERR_INVALID_IPV4 or ERR_INVALID_IPV6. */
export function parseAddress(text: string): IpAddress {
  // TODO: pick the family, then use parseIPv4 / parseIPv6.
  return todo(import.meta.url, 'parseAddress');
}

/** Canonical text of an address (dotted quad, or RFC 5952 for IPv6). Throws ERR_INVALID_IPV4 / ERR_INVALID_IPV6 unless it has 4 / 16 bytes. */
export function formatAddress(address: IpAddress): string {
  // TODO: dispatch on the family.
  return todo(import.meta.url, 'formatAddress');
}

/**
 * Read a CIDR prefix, "10.0.0.0/8" or "2001:db8::/32". The length is decimal without leading
 * zeros, 0-32 for IPv4 and 0-128 for IPv6. Host bits may be set ("10.1.2.3/8" means 10.0.0.0/8); keep them
 * or clear them, as you like. Throws ERR_INVALID_PREFIX for a missing or bad length, or the address's own
 * code for a bad address (what comes before "/" is read with parseAddress, even when it is empty).
 */
export function parsePrefix(text: string): Prefix {
  // TODO: split at "/", parse the address, then the length.
  return todo(import.meta.url, 'parsePrefix');
}

/** Whether `address` lies inside `prefix`: same family, and the first `prefix.length` bits are equal. */
export function inPrefix(prefix: Prefix, address: IpAddress): boolean {
  // TODO: compare the leading bits, 32 at a time, using prefixMask.
  return todo(import.meta.url, 'inPrefix');
}

// ---------------------------------------------------------------------------
// Ports and endpoints
// ---------------------------------------------------------------------------

/** Which RFC 6335 range a port is in. Throws ERR_INVALID_PORT unless it is a whole number 0-65535. */
export function classifyPort(port: number): PortRange {
  // TODO: validate, then compare with the range limits.
  return todo(import.meta.url, 'classifyPort');
}

/**
 * Read "192.0.2.1:80" or "[2001:db8::1]:443". IPv6 addresses must be in brackets; IPv4 must not.
 * The port is decimal, 0-65535, without leading zeros.
 * Throws ERR_INVALID_ENDPOINT for a bad shape (checked first), ERR_INVALID_PORT for a bad port,
 * or the address's own code for a bad address. Brackets around something that is not IPv6
 * ("[127.0.0.1]:80") may be either ERR_INVALID_ENDPOINT or ERR_INVALID_IPV6.
 */
export function parseEndpoint(text: string): Endpoint {
  // TODO: brackets first; then the address; then ":" and the port.
  return todo(import.meta.url, 'parseEndpoint');
}

/** Canonical text of an endpoint: "192.0.2.1:80" or "[2001:db8::1]:443". Throws ERR_INVALID_PORT for a bad port. */
export function formatEndpoint(endpoint: Endpoint): string {
  // TODO: bracket IPv6 addresses, then append ":" and the port.
  return todo(import.meta.url, 'formatEndpoint');
}

// ---------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------

/**
 * A string that names the connection: equal for equal 4-tuples (however their addresses were
 * spelled), different whenever any of the four parts differ, and direction matters.
 */
export function connectionKey(tuple: FourTuple): string {
  // TODO: build the key from canonical text of both ends, local first.
  return todo(import.meta.url, 'connectionKey');
}

/**
 * Routes incoming segments the way the OS does: to the connection whose 4-tuple matches;
 * failing that, to a listener on the destination endpoint, preferring one bound to that exact
 * address over one bound to the unspecified address (0.0.0.0 or ::) of the same family;
 * failing that, nowhere. `T` is whatever the caller wants back (a socket, a name). The tables keep
 * keys made at registration, so a caller may reuse its buffers afterwards.
 */
export class Demultiplexer<T> {
  /** Accept new conversations on `local`. Throws DemuxError ERR_ADDRESS_IN_USE if that endpoint has a listener. */
  addListener(local: Endpoint, target: T): void {
    // TODO: remember the listener under a canonical key of its endpoint.
    return todo(import.meta.url, 'Demultiplexer.addListener');
  }

  /** Register an open connection. Throws DemuxError ERR_CONNECTION_EXISTS if the 4-tuple is taken. */
  addConnection(tuple: FourTuple, target: T): void {
    // TODO: remember the connection under its connectionKey.
    return todo(import.meta.url, 'Demultiplexer.addConnection');
  }

  /** Forget a connection; returns whether it was there. */
  removeConnection(tuple: FourTuple): boolean {
    // TODO: forget the connection.
    return todo(import.meta.url, 'Demultiplexer.removeConnection');
  }

  /** Decide who receives an incoming segment. */
  route(segment: Segment): Delivery<T> {
    // TODO: connection first, then exact listener, then wildcard listener, else dropped.
    return todo(import.meta.url, 'Demultiplexer.route');
  }
}
