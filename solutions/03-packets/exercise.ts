/**
 * Chapter 03 · Packets and encapsulation.
 *
 * The Internet checksum (RFC 1071); IPv4, UDP and TCP headers, encoded and decoded byte by byte
 * with DataView; and a message wrapped into UDP inside IPv4, then unwrapped and verified.
 */

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
  let sum = initial;
  const even = bytes.length & ~1;
  for (let i = 0; i < even; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  // An odd last byte is the high half of a word whose low half is zero (RFC 1071 §4.1).
  if (even < bytes.length) sum += bytes[even] << 8;
  // Carries out of bit 15 belong back in bit 0 (the end-around carry). Adding them can carry
  // again, so fold until nothing is left. (Math.floor, not >>> 16, which would cut sums above 2^32.)
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The Internet checksum of `bytes`: the one's complement of their one's complement sum. */
export function internetChecksum(bytes: Uint8Array, initial = 0): number {
  return ~onesComplementSum(bytes, initial) & 0xffff;
}

/**
 * The one's complement sum of the 12-byte IPv4 pseudo-header: source, destination, a zero byte,
 * the protocol, and the UDP or TCP length. RFC 768 (Fields), RFC 9293 §3.1 (Checksum).
 */
export function pseudoHeaderSum(addresses: AddressPair, protocol: number, length: number): number {
  const pseudo = new Uint8Array(12);
  const view = viewOf(pseudo);
  pseudo.set(ipv4AddressToBytes(addresses.source), 0);
  pseudo.set(ipv4AddressToBytes(addresses.destination), 4);
  // Byte 8 stays zero.
  view.setUint8(9, protocol);
  view.setUint16(10, length);
  return onesComplementSum(pseudo);
}

// ---------------------------------------------------------------------------------------------
// IPv4 (RFC 791 §3.1)
// ---------------------------------------------------------------------------------------------

// Byte offsets in the IPv4 header.
const IP_VERSION_IHL = 0;
const IP_DSCP_ECN = 1;
const IP_TOTAL_LENGTH = 2;
const IP_IDENTIFICATION = 4;
const IP_FLAGS_FRAGMENT = 6;
const IP_TTL = 8;
const IP_PROTOCOL = 9;
const IP_CHECKSUM = 10;
const IP_SOURCE = 12;
const IP_DESTINATION = 16;
// Bits of the 16-bit flags + fragment offset field.
const IP_FLAG_DF = 0x4000;
const IP_FLAG_MF = 0x2000;
const IP_FRAGMENT_OFFSET_MASK = 0x1fff;

/** An IPv4 packet: a header built from `fields` with its checksum, then `payload`. */
export function encodeIPv4(fields: IPv4Fields, payload: Uint8Array): Uint8Array {
  const headerLength = IPV4_MIN_HEADER_BYTES + checkOptions('ipv4', fields.options);
  const totalLength = headerLength + payload.length;
  checkRange('ipv4', 'totalLength', totalLength, IPV4_MAX_PACKET_BYTES);
  checkRange('ipv4', 'dscp', fields.dscp, 0x3f);
  checkRange('ipv4', 'ecn', fields.ecn, 0x3);
  checkRange('ipv4', 'identification', fields.identification, 0xffff);
  checkRange('ipv4', 'fragmentOffset', fields.fragmentOffset, IP_FRAGMENT_OFFSET_MASK);
  checkRange('ipv4', 'ttl', fields.ttl, 0xff);
  checkRange('ipv4', 'protocol', fields.protocol, 0xff);

  const packet = new Uint8Array(totalLength);
  const view = viewOf(packet);
  // IHL counts 32-bit words, so a 20-byte header says 5.
  view.setUint8(IP_VERSION_IHL, (IPV4_VERSION << 4) | (headerLength / WORD_BYTES));
  view.setUint8(IP_DSCP_ECN, (fields.dscp << 2) | fields.ecn);
  // DataView writes big-endian (network byte order) unless told otherwise.
  view.setUint16(IP_TOTAL_LENGTH, totalLength);
  view.setUint16(IP_IDENTIFICATION, fields.identification);
  const flags = (fields.dontFragment ? IP_FLAG_DF : 0) | (fields.moreFragments ? IP_FLAG_MF : 0);
  view.setUint16(IP_FLAGS_FRAGMENT, flags | fields.fragmentOffset);
  view.setUint8(IP_TTL, fields.ttl);
  view.setUint8(IP_PROTOCOL, fields.protocol);
  packet.set(ipv4AddressToBytes(fields.source), IP_SOURCE);
  packet.set(ipv4AddressToBytes(fields.destination), IP_DESTINATION);
  packet.set(fields.options, IPV4_MIN_HEADER_BYTES);
  // The checksum field is still zero here, so the sum covers everything else in the header.
  view.setUint16(IP_CHECKSUM, internetChecksum(packet.subarray(0, headerLength)));
  packet.set(payload, headerLength);
  return packet;
}

/** Decode and verify an IPv4 packet; bytes after Total Length (link-layer padding) are ignored. */
export function decodeIPv4(packet: Uint8Array): IPv4Packet {
  // The checks run in the order a kernel runs them: each one makes the next safe to do.
  if (packet.length < IPV4_MIN_HEADER_BYTES) throw new TruncatedPacketError('ipv4', IPV4_MIN_HEADER_BYTES, packet.length);
  const view = viewOf(packet);
  const versionIhl = view.getUint8(IP_VERSION_IHL);
  const version = versionIhl >> 4;
  if (version !== IPV4_VERSION) throw new BadVersionError(version);
  const ihl = versionIhl & 0x0f;
  const headerLength = ihl * WORD_BYTES; // words, not bytes
  if (headerLength < IPV4_MIN_HEADER_BYTES) throw new BadHeaderLengthError('ipv4', 'ihl', ihl);
  if (packet.length < headerLength) throw new TruncatedPacketError('ipv4', headerLength, packet.length);
  // Summed with its own checksum, a correct header gives all ones.
  const sum = onesComplementSum(packet.subarray(0, headerLength));
  if (sum !== CHECKSUM_OK_SUM) throw new ChecksumError('ipv4', sum);
  const totalLength = view.getUint16(IP_TOTAL_LENGTH);
  if (totalLength < headerLength) throw new BadHeaderLengthError('ipv4', 'totalLength', totalLength);
  if (packet.length < totalLength) throw new TruncatedPacketError('ipv4', totalLength, packet.length);

  const dscpEcn = view.getUint8(IP_DSCP_ECN);
  const flagsFragment = view.getUint16(IP_FLAGS_FRAGMENT);
  const header: IPv4Header = {
    version,
    ihl,
    dscp: dscpEcn >> 2,
    ecn: dscpEcn & 0x3,
    totalLength,
    identification: view.getUint16(IP_IDENTIFICATION),
    dontFragment: (flagsFragment & IP_FLAG_DF) !== 0,
    moreFragments: (flagsFragment & IP_FLAG_MF) !== 0,
    fragmentOffset: flagsFragment & IP_FRAGMENT_OFFSET_MASK,
    ttl: view.getUint8(IP_TTL),
    protocol: view.getUint8(IP_PROTOCOL),
    checksum: view.getUint16(IP_CHECKSUM),
    source: ipv4AddressFromBytes(packet.subarray(IP_SOURCE, IP_SOURCE + 4)),
    destination: ipv4AddressFromBytes(packet.subarray(IP_DESTINATION, IP_DESTINATION + 4)),
    options: packet.subarray(IPV4_MIN_HEADER_BYTES, headerLength),
  };
  return { header, payload: packet.subarray(headerLength, totalLength) };
}

// ---------------------------------------------------------------------------------------------
// UDP (RFC 768)
// ---------------------------------------------------------------------------------------------

const UDP_SOURCE_PORT = 0;
const UDP_DESTINATION_PORT = 2;
const UDP_LENGTH = 4;
const UDP_CHECKSUM = 6;

/** A UDP datagram with its length and its checksum over pseudo-header, header and payload. */
export function encodeUdp(fields: UdpFields, payload: Uint8Array, addresses: AddressPair): Uint8Array {
  const length = UDP_HEADER_BYTES + payload.length;
  checkRange('udp', 'length', length, 0xffff);
  checkRange('udp', 'sourcePort', fields.sourcePort, 0xffff);
  checkRange('udp', 'destinationPort', fields.destinationPort, 0xffff);

  const datagram = new Uint8Array(length);
  const view = viewOf(datagram);
  view.setUint16(UDP_SOURCE_PORT, fields.sourcePort);
  view.setUint16(UDP_DESTINATION_PORT, fields.destinationPort);
  view.setUint16(UDP_LENGTH, length);
  datagram.set(payload, UDP_HEADER_BYTES);
  // The checksum covers the pseudo-header too, so a datagram delivered to the wrong address fails it.
  const checksum = internetChecksum(datagram, pseudoHeaderSum(addresses, PROTOCOL_UDP, length));
  // Zero on the wire means "no checksum"; 0xffff is the same number in one's complement (RFC 768).
  view.setUint16(UDP_CHECKSUM, checksum === 0 ? 0xffff : checksum);
  return datagram;
}

/** Decode and verify a UDP datagram that travelled between `addresses`. */
export function decodeUdp(datagram: Uint8Array, addresses: AddressPair): UdpDatagram {
  if (datagram.length < UDP_HEADER_BYTES) throw new TruncatedPacketError('udp', UDP_HEADER_BYTES, datagram.length);
  const view = viewOf(datagram);
  const length = view.getUint16(UDP_LENGTH);
  if (length < UDP_HEADER_BYTES) throw new BadHeaderLengthError('udp', 'length', length);
  if (datagram.length < length) throw new TruncatedPacketError('udp', length, datagram.length);
  const checksum = view.getUint16(UDP_CHECKSUM);
  if (checksum !== UDP_NO_CHECKSUM) {
    const sum = onesComplementSum(datagram.subarray(0, length), pseudoHeaderSum(addresses, PROTOCOL_UDP, length));
    if (sum !== CHECKSUM_OK_SUM) throw new ChecksumError('udp', sum);
  }
  const header: UdpHeader = {
    sourcePort: view.getUint16(UDP_SOURCE_PORT),
    destinationPort: view.getUint16(UDP_DESTINATION_PORT),
    length,
    checksum,
  };
  return { header, payload: datagram.subarray(UDP_HEADER_BYTES, length) };
}

// ---------------------------------------------------------------------------------------------
// TCP (RFC 9293 §3.1)
// ---------------------------------------------------------------------------------------------

const TCP_SOURCE_PORT = 0;
const TCP_DESTINATION_PORT = 2;
const TCP_SEQUENCE = 4;
const TCP_ACKNOWLEDGMENT = 8;
const TCP_DATA_OFFSET = 12; // high 4 bits; the low 4 are reserved
const TCP_CONTROL_BITS = 13;
const TCP_WINDOW = 14;
const TCP_CHECKSUM = 16;
const TCP_URGENT_POINTER = 18;

/** A TCP segment with its data offset and its checksum over pseudo-header, header and payload. */
export function encodeTcp(fields: TcpFields, payload: Uint8Array, addresses: AddressPair): Uint8Array {
  const headerLength = TCP_MIN_HEADER_BYTES + checkOptions('tcp', fields.options);
  const length = headerLength + payload.length;
  checkRange('tcp', 'length', length, 0xffff);
  checkRange('tcp', 'sourcePort', fields.sourcePort, 0xffff);
  checkRange('tcp', 'destinationPort', fields.destinationPort, 0xffff);
  checkRange('tcp', 'sequence', fields.sequence, 0xffffffff);
  checkRange('tcp', 'acknowledgment', fields.acknowledgment, 0xffffffff);
  checkRange('tcp', 'flags', fields.flags, 0xff);
  checkRange('tcp', 'window', fields.window, 0xffff);
  checkRange('tcp', 'urgentPointer', fields.urgentPointer, 0xffff);

  const segment = new Uint8Array(length);
  const view = viewOf(segment);
  view.setUint16(TCP_SOURCE_PORT, fields.sourcePort);
  view.setUint16(TCP_DESTINATION_PORT, fields.destinationPort);
  view.setUint32(TCP_SEQUENCE, fields.sequence);
  view.setUint32(TCP_ACKNOWLEDGMENT, fields.acknowledgment);
  // Data Offset counts 32-bit words and sits in the high nibble.
  view.setUint8(TCP_DATA_OFFSET, (headerLength / WORD_BYTES) << 4);
  view.setUint8(TCP_CONTROL_BITS, fields.flags);
  view.setUint16(TCP_WINDOW, fields.window);
  view.setUint16(TCP_URGENT_POINTER, fields.urgentPointer);
  segment.set(fields.options, TCP_MIN_HEADER_BYTES);
  segment.set(payload, headerLength);
  // TCP has no length field: the pseudo-header carries the segment's length for the checksum.
  view.setUint16(TCP_CHECKSUM, internetChecksum(segment, pseudoHeaderSum(addresses, PROTOCOL_TCP, length)));
  return segment;
}

/** Decode and verify a TCP segment (the whole IPv4 payload) that travelled between `addresses`. */
export function decodeTcp(segment: Uint8Array, addresses: AddressPair): TcpSegment {
  if (segment.length < TCP_MIN_HEADER_BYTES) throw new TruncatedPacketError('tcp', TCP_MIN_HEADER_BYTES, segment.length);
  const view = viewOf(segment);
  const dataOffset = view.getUint8(TCP_DATA_OFFSET) >> 4;
  const headerLength = dataOffset * WORD_BYTES; // words, not bytes
  if (headerLength < TCP_MIN_HEADER_BYTES) throw new BadHeaderLengthError('tcp', 'dataOffset', dataOffset);
  if (segment.length < headerLength) throw new TruncatedPacketError('tcp', headerLength, segment.length);
  // Only the checksum can tell a short payload: TCP trusts IPv4's Total Length for its size.
  const sum = onesComplementSum(segment, pseudoHeaderSum(addresses, PROTOCOL_TCP, segment.length));
  if (sum !== CHECKSUM_OK_SUM) throw new ChecksumError('tcp', sum);

  const header: TcpHeader = {
    sourcePort: view.getUint16(TCP_SOURCE_PORT),
    destinationPort: view.getUint16(TCP_DESTINATION_PORT),
    // getUint32, not shifts: `b << 24` turns sequence numbers above 2^31 negative.
    sequence: view.getUint32(TCP_SEQUENCE),
    acknowledgment: view.getUint32(TCP_ACKNOWLEDGMENT),
    dataOffset,
    flags: view.getUint8(TCP_CONTROL_BITS),
    window: view.getUint16(TCP_WINDOW),
    checksum: view.getUint16(TCP_CHECKSUM),
    urgentPointer: view.getUint16(TCP_URGENT_POINTER),
    options: segment.subarray(TCP_MIN_HEADER_BYTES, headerLength),
  };
  return { header, payload: segment.subarray(headerLength) };
}

// ---------------------------------------------------------------------------------------------
// Encapsulation: UDP inside IPv4
// ---------------------------------------------------------------------------------------------

/** The IPv4 packet that carries `message` as a UDP datagram, both checksums filled in. */
export function wrapUdp(message: UdpMessage, ip: IPv4Extras = {}): Uint8Array {
  const addresses = { source: message.source, destination: message.destination };
  const datagram = encodeUdp(message, message.payload, addresses);
  // Each layer treats the layer above as opaque payload: IPv4 never looks inside the datagram.
  return encodeIPv4({ ...IPV4_DEFAULTS, ...ip, ...addresses, protocol: PROTOCOL_UDP }, datagram);
}

/** The message inside an IPv4 packet that carries UDP, after verifying both checksums. */
export function unwrapUdp(packet: Uint8Array): UnwrappedUdp {
  const { header: ip, payload } = decodeIPv4(packet);
  if (ip.protocol !== PROTOCOL_UDP) throw new WrongProtocolError(ip.protocol, PROTOCOL_UDP);
  // The IPv4 header supplies the addresses for UDP's pseudo-header.
  const { header: udp, payload: data } = decodeUdp(payload, ip);
  const message: UdpMessage = {
    source: ip.source,
    sourcePort: udp.sourcePort,
    destination: ip.destination,
    destinationPort: udp.destinationPort,
    payload: data,
  };
  return { message, ip, udp };
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/** A DataView over exactly these bytes: a Uint8Array may be a window into a larger buffer. */
function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Throw FieldRangeError unless `value` is an integer in 0..max. */
function checkRange(layer: Layer, field: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new FieldRangeError(layer, field, value, `an integer 0..${max}`);
}

/** The options' length, after checking it is whole words and fits the 4-bit length field. */
function checkOptions(layer: Layer, options: Uint8Array): number {
  const max = IPV4_MAX_HEADER_BYTES - IPV4_MIN_HEADER_BYTES; // 40 for both IPv4 and TCP
  if (options.length % WORD_BYTES !== 0 || options.length > max) {
    throw new FieldRangeError(layer, 'options', `${options.length} bytes`, `a multiple of ${WORD_BYTES} bytes, at most ${max}`);
  }
  return options.length;
}

// Stryker disable next-line BlockStatement: hex16 only shapes ChecksumError's human message, which tests must not read (they check `sum`)
function hex16(n: number): string {
  return n.toString(16).padStart(4, '0');
}
