/**
 * Random header fields for chapter 03's round-trip properties, as fast-check arbitraries: every
 * value in its field's range, with the edges (0, 2^31, 2^32 - 1) drawn often. On a failure,
 * fast-check shrinks towards zeros, no options and a short payload.
 */
import type * as P from '@impl/03-packets/exercise.ts';
import { fc } from '../helpers/index.ts';

const uint = (bits: number) => fc.integer({ min: 0, max: 2 ** bits - 1 });

/** A 16-bit port. */
export const port = uint(16);

/** A dotted-quad IPv4 address; shrinks towards 0.0.0.0. */
export const ipv4Address = fc.tuple(uint(8), uint(8), uint(8), uint(8)).map((quad) => quad.join('.'));

/** Two addresses, as the pseudo-header takes them. */
export const addresses: fc.Arbitrary<P.AddressPair> = fc.record({ source: ipv4Address, destination: ipv4Address });

/** Options: 0 to 10 words of 4 random bytes (up to the 40 bytes a header has room for). */
export const options = fc
  .array(fc.uint8Array({ minLength: 4, maxLength: 4 }), { maxLength: 10 })
  .map((words) => {
    const out = new Uint8Array(words.length * 4);
    words.forEach((w, i) => out.set(w, i * 4));
    return out;
  });

/** A payload of up to `maxLength` random bytes. */
export const payload = (maxLength: number) => fc.uint8Array({ maxLength });

/** A 32-bit sequence or acknowledgment number; one time in five an edge: 0, 1, 2^31 - 1, 2^31, 2^32 - 1. */
const u32 = fc.oneof(
  { arbitrary: fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff), weight: 1 },
  { arbitrary: uint(32), weight: 4 },
);

/** Every field of an IPv4 header that encodeIPv4 takes. */
export const ipv4Fields: fc.Arbitrary<P.IPv4Fields> = fc.record({
  dscp: uint(6),
  ecn: uint(2),
  identification: uint(16),
  dontFragment: fc.boolean(),
  moreFragments: fc.boolean(),
  fragmentOffset: uint(13),
  ttl: uint(8),
  protocol: uint(8),
  source: ipv4Address,
  destination: ipv4Address,
  options,
});

/** Every field of a TCP header that encodeTcp takes. */
export const tcpFields: fc.Arbitrary<P.TcpFields> = fc.record({
  sourcePort: port,
  destinationPort: port,
  sequence: u32,
  acknowledgment: u32,
  flags: uint(8),
  window: uint(16),
  urgentPointer: uint(16),
  options,
});

/** A message for wrapUdp. */
export const udpMessage: fc.Arbitrary<P.UdpMessage> = fc.record({
  source: ipv4Address,
  sourcePort: port,
  destination: ipv4Address,
  destinationPort: port,
  payload: payload(200),
});

/** A byte of a `length`-byte packet and a nonzero XOR mask for it. */
export const corruption = (length: number) => fc.record({ at: fc.nat({ max: length - 1 }), flip: fc.integer({ min: 1, max: 255 }) });
