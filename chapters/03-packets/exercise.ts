/**
 * Chapter 03 · Packets and encapsulation.
 *
 * The Internet checksum (RFC 1071); IPv4, UDP and TCP headers, encoded and decoded byte by byte
 * with DataView; and a message wrapped into UDP inside IPv4, then unwrapped and verified.
 *
 * Types, constants, errors and the two address helpers are given. Work through the TODOs in order:
 * checksum, IPv4, UDP, TCP, then wrap/unwrap. Check with `npm run workbook -- check 03`.
 */
import { todo } from '../workbook.ts';

// ---------------------------------------------------------------------------------------------
// Protocol numbers and limits
// ---------------------------------------------------------------------------------------------

/** The version number in the first four bits of every IPv4 header. RFC 791 §3.1 (Version). */
export const IPV4_VERSION = 4;
/** Shortest IPv4 header: IHL 5, five 32-bit words. RFC 791 §3.1 (IHL). */
export const IPV4_MIN_HEADER_BYTES = 20;
/** Longest IPv4 header: IHL is 4 bits wide, so at most 15 words. RFC 791 §3.1 (IHL). */
export const IPV4_MAX_HEADER_BYTES = 60;
/** Largest IPv4 packet, header included: Total Length is a 16-bit field. RFC 791 §3.1 (Total Length). */
export const IPV4_MAX_PACKET_BYTES = 0xffff;
/** IPv4 Protocol number of TCP. RFC 9293 §3.1; IANA "Assigned Internet Protocol Numbers". */
export const PROTOCOL_TCP = 6;
/** IPv4 Protocol number of UDP. RFC 768 (IP Interface); IANA "Assigned Internet Protocol Numbers". */
export const PROTOCOL_UDP = 17;
/** The UDP header: four 16-bit fields. RFC 768 (Format). */
export const UDP_HEADER_BYTES = 8;
/** A UDP checksum field of zero means "the sender computed none". RFC 768 (Fields: Checksum). */
export const UDP_NO_CHECKSUM = 0;
/** Shortest TCP header: Data Offset 5. RFC 9293 §3.1 (Data Offset). */
export const TCP_MIN_HEADER_BYTES = 20;
/** Longest TCP header: Data Offset is 4 bits wide, so at most 15 words. RFC 9293 §3.1 (Data Offset). */
export const TCP_MAX_HEADER_BYTES = 60;
/** Bytes in one 32-bit word, the unit of IPv4's IHL and TCP's Data Offset. RFC 791 §3.1, RFC 9293 §3.1. */
export const WORD_BYTES = 4;
/** The one's complement sum of a correct header, its checksum included: all ones. RFC 1071 §1. */
export const CHECKSUM_OK_SUM = 0xffff;

/** TCP control bits, the byte at offset 13. RFC 9293 §3.1 (Control bits); CWR and ECE: RFC 3168 §6.1. */
export const TCP_FLAGS = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/** An IPv4 address in dotted-quad text, e.g. "198.51.100.3". */
export type IPv4Address = string;

/** The IPv4 header fields you choose; `encodeIPv4` computes the rest. RFC 791 §3.1. */
export interface IPv4Fields {
  /** Differentiated Services code point: the top 6 bits of the old "type of service" byte (RFC 2474). */
  dscp: number;
  /** Explicit Congestion Notification: the low 2 bits of that byte (RFC 3168). */
  ecn: number;
  /** 16 bits that tell which fragments belong to the same original packet. */
  identification: number;
  /** DF: routers must not split this packet into fragments. */
  dontFragment: boolean;
  /** MF: more fragments of the same packet follow this one. */
  moreFragments: boolean;
  /** Where this fragment's data starts in the original, in units of 8 bytes (13 bits). */
  fragmentOffset: number;
  /** Time to live: each router subtracts one and drops the packet at zero. */
  ttl: number;
  /** What the payload is: PROTOCOL_UDP, PROTOCOL_TCP, ... */
  protocol: number;
  /** Who sent the packet. */
  source: IPv4Address;
  /** Who it is for. */
  destination: IPv4Address;
  /** IPv4 options, already padded to a multiple of 4 bytes (at most 40). Usually empty. */
  options: Uint8Array;
}

/** A decoded IPv4 header: the fields you choose plus the ones the encoder computes. */
export interface IPv4Header extends IPv4Fields {
  /** Always IPV4_VERSION. */
  version: number;
  /** Internet Header Length, in 32-bit words (5..15), not bytes. */
  ihl: number;
  /** Header plus payload, in bytes. */
  totalLength: number;
  /** Header checksum as found in the packet. */
  checksum: number;
}

/** A decoded IPv4 packet. `payload` is a view into the packet's bytes, not a copy. */
export interface IPv4Packet {
  /** The decoded header. */
  header: IPv4Header;
  /** The bytes after the header, up to Total Length. */
  payload: Uint8Array;
}

/** The two addresses a UDP or TCP checksum covers through the pseudo-header. */
export interface AddressPair {
  /** IPv4 source address. */
  source: IPv4Address;
  /** IPv4 destination address. */
  destination: IPv4Address;
}

/** The UDP header fields you choose; `encodeUdp` computes length and checksum. RFC 768. */
export interface UdpFields {
  /** The sender's port. */
  sourcePort: number;
  /** The receiver's port. */
  destinationPort: number;
}

/** A decoded UDP header. */
export interface UdpHeader extends UdpFields {
  /** Header plus payload, in bytes (at least 8). */
  length: number;
  /** Checksum as found in the datagram (0: none was computed). */
  checksum: number;
}

/** A decoded UDP datagram. `payload` is a view, not a copy. */
export interface UdpDatagram {
  /** The decoded header. */
  header: UdpHeader;
  /** The data after the 8-byte header. */
  payload: Uint8Array;
}

/** The TCP header fields you choose; `encodeTcp` computes data offset and checksum. RFC 9293 §3.1. */
export interface TcpFields {
  /** The sender's port. */
  sourcePort: number;
  /** The receiver's port. */
  destinationPort: number;
  /** Sequence number, unsigned 32 bits. */
  sequence: number;
  /** Acknowledgment number, unsigned 32 bits (meaningful when ACK is set). */
  acknowledgment: number;
  /** Control bits, an OR of TCP_FLAGS values. */
  flags: number;
  /** Receive window, 16 bits. */
  window: number;
  /** Urgent pointer, 16 bits (meaningful when URG is set). */
  urgentPointer: number;
  /** TCP options, already padded to a multiple of 4 bytes (at most 40). */
  options: Uint8Array;
}

/** A decoded TCP header. */
export interface TcpHeader extends TcpFields {
  /** Header length in 32-bit words (5..15), not bytes. */
  dataOffset: number;
  /** Checksum as found in the segment. */
  checksum: number;
}

/** A decoded TCP segment. `payload` is a view, not a copy. */
export interface TcpSegment {
  /** The decoded header. */
  header: TcpHeader;
  /** The data after the header and its options. */
  payload: Uint8Array;
}

/** A message from one UDP endpoint to another: what an application sends and receives. */
export interface UdpMessage {
  /** Sender's IPv4 address. */
  source: IPv4Address;
  /** Sender's port. */
  sourcePort: number;
  /** Receiver's IPv4 address. */
  destination: IPv4Address;
  /** Receiver's port. */
  destinationPort: number;
  /** The application's bytes. */
  payload: Uint8Array;
}

/** IPv4 fields `wrapUdp` lets you set; the rest come from the message or from IPV4_DEFAULTS. */
export type IPv4Extras = Partial<Omit<IPv4Fields, 'source' | 'destination' | 'protocol'>>;

/** What `unwrapUdp` found: the message and both decoded headers. */
export interface UnwrappedUdp {
  /** The message, as an application would receive it. */
  message: UdpMessage;
  /** The outer header. */
  ip: IPv4Header;
  /** The inner header. */
  udp: UdpHeader;
}

/** What `wrapUdp` puts in the IPv4 fields you do not give: what Linux sends for a plain UDP datagram. */
export const IPV4_DEFAULTS: Required<IPv4Extras> = {
  dscp: 0,
  ecn: 0,
  identification: 0,
  dontFragment: true,
  moreFragments: false,
  fragmentOffset: 0,
  ttl: 64,
  options: new Uint8Array(0),
};

// ---------------------------------------------------------------------------------------------
// Errors: typed, with stable codes
// ---------------------------------------------------------------------------------------------

/** The header an error is about. */
export type Layer = 'ipv4' | 'udp' | 'tcp';

/** The stable codes of PacketError. */
export type PacketErrorCode =
  | 'ERR_PACKET_TRUNCATED'
  | 'ERR_BAD_CHECKSUM'
  | 'ERR_BAD_VERSION'
  | 'ERR_BAD_HEADER_LENGTH'
  | 'ERR_WRONG_PROTOCOL'
  | 'ERR_FIELD_RANGE';

/** Every error of this chapter: a stable `code` and the `layer` whose header is at fault. */
export class PacketError extends Error {
  override name = 'PacketError';

  constructor(
    /** Stable code; check this, not the message. */
    readonly code: PacketErrorCode,
    /** Which header is at fault. */
    readonly layer: Layer,
    message: string,
  ) {
    super(`${layer}: ${message}`);
  }
}

/** The buffer ends before the header, or before the length the header announces. */
export class TruncatedPacketError extends PacketError {
  constructor(
    layer: Layer,
    /** Bytes needed: the minimum header, IHL x 4 or Data Offset x 4, or the length field's value. */
    readonly needed: number,
    /** Bytes there were: the buffer's length. */
    readonly got: number,
  ) {
    super('ERR_PACKET_TRUNCATED', layer, `truncated: need ${needed} bytes, got ${got}`);
  }
}

/** The one's complement sum over the covered bytes is not 0xffff: some bit changed on the way. */
export class ChecksumError extends PacketError {
  constructor(
    layer: Layer,
    /** The folded sum that was found instead of 0xffff (pseudo-header included for UDP and TCP). */
    readonly sum: number,
  ) {
    super('ERR_BAD_CHECKSUM', layer, `bad checksum: the covered bytes sum to 0x${hex16(sum)}, not 0xffff`);
  }
}

/** The first four bits do not say 4: this is not an IPv4 packet. */
export class BadVersionError extends PacketError {
  constructor(
    /** The version found. */
    readonly version: number,
  ) {
    super('ERR_BAD_VERSION', 'ipv4', `version ${version}, expected ${IPV4_VERSION}`);
  }
}

/** A length field is impossible: IHL or Data Offset below 5, Total Length below the header, UDP length below 8. */
export class BadHeaderLengthError extends PacketError {
  constructor(
    layer: Layer,
    /** The field at fault: "ihl", "dataOffset", "totalLength" or "length" (UDP). */
    readonly field: string,
    /** Its value. */
    readonly value: number,
  ) {
    super('ERR_BAD_HEADER_LENGTH', layer, `impossible ${field}: ${value}`);
  }
}

/** The IPv4 packet carries another protocol than the one asked for. */
export class WrongProtocolError extends PacketError {
  constructor(
    /** The protocol number found. */
    readonly protocol: number,
    /** The protocol number wanted. */
    readonly wanted: number,
  ) {
    super('ERR_WRONG_PROTOCOL', 'ipv4', `carries protocol ${protocol}, not ${wanted}`);
  }
}

/** A value does not fit its field (a port above 65535, options not a multiple of 4, ...). Thrown by encoders. */
export class FieldRangeError extends PacketError {
  constructor(
    layer: Layer,
    /** The field at fault, spelled as in the fields type ("ttl", "options", ...); for a payload too long, "totalLength" (IPv4) or "length" (UDP, TCP). */
    readonly field: string,
    /** The value that does not fit. */
    readonly value: unknown,
    /** What would fit. */
    readonly allowed: string,
  ) {
    super('ERR_FIELD_RANGE', layer, `${field} = ${String(value)} does not fit (${allowed})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Given: addresses as text (chapter 02 builds the full parser)
// ---------------------------------------------------------------------------------------------

/** The 4 bytes of a dotted-quad IPv4 address; throws FieldRangeError for anything else. */
export function ipv4AddressToBytes(address: IPv4Address, layer: Layer = 'ipv4'): Uint8Array {
  const parts = address.split('.');
  const ok = parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
  if (!ok) throw new FieldRangeError(layer, 'address', address, 'a dotted quad such as 198.51.100.3');
  return Uint8Array.from(parts, Number);
}

/** Dotted-quad text for 4 address bytes. */
export function ipv4AddressFromBytes(bytes: Uint8Array): IPv4Address {
  return Array.from(bytes.subarray(0, 4)).join('.');
}

// ---------------------------------------------------------------------------------------------
// The Internet checksum (RFC 1071)
// ---------------------------------------------------------------------------------------------

/**
 * The 16-bit one's complement sum of `bytes` taken as big-endian 16-bit words, added to `initial`
 * (a sum from earlier bytes, such as a pseudo-header). Returns a value in 0..0xffff.
 */
export function onesComplementSum(bytes: Uint8Array, initial = 0): number {
  // TODO: add the bytes as big-endian 16-bit words to `initial` (an odd last byte is a word's high byte), then fold every carry back into the low 16 bits.
  return todo(import.meta.url, 'onesComplementSum');
}

/** The Internet checksum of `bytes`: the one's complement of their one's complement sum. */
export function internetChecksum(bytes: Uint8Array, initial = 0): number {
  // TODO: the 16-bit one's complement (bitwise NOT, kept to 16 bits) of onesComplementSum.
  return todo(import.meta.url, 'internetChecksum');
}

/**
 * The one's complement sum of the 12-byte IPv4 pseudo-header: source, destination, a zero byte,
 * the protocol, and the UDP or TCP length. RFC 768 (Fields), RFC 9293 §3.1 (Checksum).
 */
export function pseudoHeaderSum(addresses: AddressPair, protocol: number, length: number): number {
  // TODO: build the 12 pseudo-header bytes (ipv4AddressToBytes helps) and return their onesComplementSum.
  return todo(import.meta.url, 'pseudoHeaderSum');
}

// ---------------------------------------------------------------------------------------------
// IPv4 (RFC 791 §3.1)
// ---------------------------------------------------------------------------------------------

/** An IPv4 packet: a header built from `fields` with its checksum, then `payload`. */
export function encodeIPv4(fields: IPv4Fields, payload: Uint8Array): Uint8Array {
  // TODO: check every field fits (FieldRangeError), write the header big-endian with IHL in 32-bit words into a new array, copy options and payload in, then fill in the header checksum.
  return todo(import.meta.url, 'encodeIPv4');
}

/** Decode and verify an IPv4 packet; bytes after Total Length (link-layer padding) are ignored. */
export function decodeIPv4(packet: Uint8Array): IPv4Packet {
  // TODO: check length, version, IHL (words!), header checksum and Total Length, each with its typed error; then read the fields.
  return todo(import.meta.url, 'decodeIPv4');
}

// ---------------------------------------------------------------------------------------------
// UDP (RFC 768)
// ---------------------------------------------------------------------------------------------

/** A UDP datagram with its length and its checksum over pseudo-header, header and payload. */
export function encodeUdp(fields: UdpFields, payload: Uint8Array, addresses: AddressPair): Uint8Array {
  // TODO: write ports and length, then the checksum over pseudo-header + header + payload (a computed 0 is sent as 0xffff).
  return todo(import.meta.url, 'encodeUdp');
}

/** Decode and verify a UDP datagram that travelled between `addresses`. */
export function decodeUdp(datagram: Uint8Array, addresses: AddressPair): UdpDatagram {
  // TODO: check the header and its Length against the buffer, verify the checksum over the first Length bytes with the pseudo-header (unless it is 0), read the fields.
  return todo(import.meta.url, 'decodeUdp');
}

// ---------------------------------------------------------------------------------------------
// TCP (RFC 9293 §3.1)
// ---------------------------------------------------------------------------------------------

/** A TCP segment with its data offset and its checksum over pseudo-header, header and payload. */
export function encodeTcp(fields: TcpFields, payload: Uint8Array, addresses: AddressPair): Uint8Array {
  // TODO: write the 20 fixed bytes big-endian, Data Offset in words in the high nibble of byte 12, the options, the payload, then the checksum.
  return todo(import.meta.url, 'encodeTcp');
}

/** Decode and verify a TCP segment (the whole IPv4 payload) that travelled between `addresses`. */
export function decodeTcp(segment: Uint8Array, addresses: AddressPair): TcpSegment {
  // TODO: check the length and Data Offset (words! the byte's low 4 bits are reserved), verify the checksum with the pseudo-header, then split options from payload.
  return todo(import.meta.url, 'decodeTcp');
}

// ---------------------------------------------------------------------------------------------
// Encapsulation: UDP inside IPv4
// ---------------------------------------------------------------------------------------------

/** The IPv4 packet that carries `message` as a UDP datagram, both checksums filled in. */
export function wrapUdp(message: UdpMessage, ip: IPv4Extras = {}): Uint8Array {
  // TODO: encode the UDP datagram, then put it in an IPv4 packet (IPV4_DEFAULTS, then `ip`, then the message's addresses, protocol UDP).
  return todo(import.meta.url, 'wrapUdp');
}

/** The message inside an IPv4 packet that carries UDP, after verifying both checksums. */
export function unwrapUdp(packet: Uint8Array): UnwrappedUdp {
  // TODO: decode IPv4, insist on protocol UDP (WrongProtocolError), decode the payload as UDP with the IPv4 addresses.
  return todo(import.meta.url, 'unwrapUdp');
}

function hex16(n: number): string {
  return n.toString(16).padStart(4, '0');
}
