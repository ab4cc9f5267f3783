import { describe, it } from 'vitest';
import * as P from '@impl/03-packets/exercise.ts';
import { check, fc, forAllSync, hexBytes, hexNumber } from '../helpers/index.ts';
import * as arb from './arbitraries.ts';
import {
  type CorruptionCase, FLIPS, IPV4_LAYOUT, TCP_IN_IP, TCP_LAYOUT, UDP_IN_IP, UDP_LAYOUT, WINDOW_AT, attempt, bytes, checkCorruptionCaught,
  checkDecodesInWindow, compareBytes, describeError, describeOutcome, dump, expectPacketError, fieldAt, fieldDifferences,
  fixture, formatValue, inWindow, lesson, mustWork, none, pseudoBytes, referenceSum, sameBytes, showCase, text,
  withFreshIpChecksum, withTcpChecksum,
} from './harness.ts';

// The captured packets (fixtures/*.hex; each file's notes say how it was captured).
const UDP_HELLO = fixture('udp-hello'); // real: Ada -> Bram, "Hello, Bram!\n"
const TCP_SYN = fixture('tcp-syn'); // real: Ada's SYN, with options
const TCP_DATA = fixture('tcp-data'); // real: Ada's PSH+ACK, "Hello again, Bram!\n"
const UDP_LOOPBACK = fixture('udp-loopback-offload'); // real: checksum left for the "card" to finish
const UDP_IP_OPTIONS = fixture('udp-ip-options'); // hand-built, verified by tcpdump: IHL 7
const ADA = '198.51.100.3';
const BRAM = '198.51.100.7';
const ADA_TO_BRAM = { source: ADA, destination: BRAM };

/** What tcpdump shows for the IPv4 header of udp-hello (see the fixture's notes). */
const UDP_HELLO_IP = {
  version: 4, ihl: 5, dscp: 0, ecn: 0, totalLength: 41, identification: 23696,
  dontFragment: true, moreFragments: false, fragmentOffset: 0, ttl: 64, protocol: 17,
  checksum: 0x89c2, source: ADA, destination: BRAM, options: none,
};
/** What tcpdump shows for the UDP header of udp-hello. */
const UDP_HELLO_UDP = { sourcePort: 40601, destinationPort: 7001, length: 21, checksum: 0xc39c };
/** What tcpdump shows for the captured SYN. */
const SYN_TCP = {
  sourcePort: 57978, destinationPort: 7001, sequence: 3326414762, acknowledgment: 0, dataOffset: 10,
  flags: 0x02, window: 64240, checksum: 0xe8be, urgentPointer: 0,
  // mss 1460, sackOK, TS val 3449253504 ecr 0, nop, wscale 10
  options: bytes('02 04 05 b4 04 02 08 0a cd 97 6e 80 00 00 00 00 01 03 03 0a'),
};
/** What tcpdump shows for the captured data segment (absolute sequence numbers, as `tcpdump -S` prints them). */
const DATA_TCP = {
  sourcePort: 57978, destinationPort: 7001, sequence: 3326414763, acknowledgment: 3270650132, dataOffset: 8,
  flags: 0x18, window: 63, checksum: 0x9983, urgentPointer: 0,
  // nop, nop, TS val 3449253590 ecr 3093853463
  options: bytes('01 01 08 0a cd 97 6e d6 b8 68 75 17'),
};

/** Random cases per round-trip property (seeded from WORKBOOK_SEED; a failure shrinks to the smallest case). */
const ROUNDS = 200;

describe('The Internet checksum (RFC 1071)', () => {
  it('sums the RFC 1071 example 00 01 f2 03 f4 f5 f6 f7 to 0xddf2, checksum 0x220d', () => {
    const input = bytes('00 01 f2 03 f4 f5 f6 f7');
    const sum = P.onesComplementSum(input);
    check(sum === 0xddf2, {
      did: `onesComplementSum gave ${hexNumber(sum, 4)} for${dump(input)}`,
      expected: '0xddf2: 0x0001 + 0xf203 + 0xf4f5 + 0xf6f7 = 0x2ddf0; the carry 0x2 goes back into the low end: 0xddf0 + 0x2 = 0xddf2',
      lesson: lesson('The Internet checksum'),
    });
    const checksum = P.internetChecksum(input);
    check(checksum === 0x220d, {
      did: `internetChecksum gave ${hexNumber(checksum, 4)} for the same bytes`,
      expected: '0x220d, the one\'s complement of the sum: every bit of 0xddf2 flipped, kept to 16 bits',
      lesson: lesson('The Internet checksum'),
    });
  });

  it('pads an odd-length input with a zero byte at the end', () => {
    const cases: [string, number][] = [
      ['01', 0x0100],
      ['00 01 f2', 0xf201],
      ['00 01 f2 03 f4 f5 f6 f7 ab', 0x88f3], // 0xddf2 + 0xab00 = 0x188f2, folded 0x88f3
    ];
    for (const [input, want] of cases) {
      const b = bytes(input);
      const sum = P.onesComplementSum(b);
      check(sum === want, {
        did: `onesComplementSum gave ${hexNumber(sum, 4)} for the ${b.length} bytes ${input}`,
        expected: `${hexNumber(want, 4)}: the odd last byte is the HIGH half of a word whose low half is zero (0x${input.slice(-2)} counts as 0x${input.slice(-2)}00)`,
        lesson: lesson('Odd lengths'),
      });
    }
  });

  it('folds the end-around carry back in, until no carry is left', () => {
    const big = new Uint8Array(65_535).fill(0xff);
    const cases: [Uint8Array, number, string][] = [
      [bytes('80 00 80 00'), 0x0001, '0x8000 + 0x8000 = 0x10000: the carry folds back in as 0x0001'],
      [bytes('ff ff ff ff 00 01'), 0x0001, '0xffff + 0xffff + 0x0001 = 0x1ffff; one fold gives 0xffff + 0x1 = 0x10000, which carries again: 0x0001'],
      [bytes('ff ff ff ff ff ff ff ff'), 0xffff, 'four times 0xffff: each carry folds back, leaving 0xffff'],
      [big, 0xff00, '32767 words of 0xffff fold to 0xffff; the odd last byte adds 0xff00: 0x1feff folds to 0xff00'],
    ];
    for (const [input, want, why] of cases) {
      const sum = P.onesComplementSum(input);
      check(sum === want, {
        did: `onesComplementSum gave ${hexNumber(sum, 4)} for ${input.length} bytes:${dump(input.subarray(0, 32))}`,
        expected: `${hexNumber(want, 4)}: ${why}. A carry out of bit 15 is added back at bit 0, and adding it can carry again`,
        lesson: lesson('Why the carry wraps around'),
      });
    }
    const withInitial = P.onesComplementSum(bytes('ff ff'), 0xffff);
    check(withInitial === 0xffff, {
      did: `onesComplementSum(ff ff, initial 0xffff) gave ${hexNumber(withInitial, 4)}`,
      expected: '0xffff: 0xffff + 0xffff = 0x1fffe, and the carry folds back in',
      lesson: lesson('Why the carry wraps around'),
    });
  });

  it('checks to 0 over a header that contains its own checksum', () => {
    for (const [name, packet, headerBytes] of [
      ['udp-hello', UDP_HELLO, 20],
      ['tcp-syn', TCP_SYN, 20],
      ['udp-ip-options (IHL 7)', UDP_IP_OPTIONS, 28],
    ] as const) {
      const header = packet.subarray(0, headerBytes);
      const sum = P.onesComplementSum(header);
      const checksum = P.internetChecksum(header);
      check(sum === 0xffff && checksum === 0, {
        did: `over the IPv4 header of ${name}, checksum field included, onesComplementSum gave ${hexNumber(sum, 4)} and internetChecksum gave ${hexNumber(checksum, 4)}${dump(header)}`,
        expected: 'sum 0xffff and checksum 0: the checksum field holds the complement of everything else, and x + ~x is all ones',
        lesson: lesson('Why a correct header checks to zero'),
      });
    }
  });

  it('continues from an initial sum, so a long input can be summed in pieces', () => {
    const a = UDP_HELLO.subarray(0, 12);
    const b = UDP_HELLO.subarray(12, 41);
    const inPieces = P.onesComplementSum(b, P.onesComplementSum(a));
    const whole = referenceSum(UDP_HELLO);
    check(inPieces === whole, {
      did: `summing 12 bytes and then the next 29 with the first sum as 'initial' gave ${hexNumber(inPieces, 4)}`,
      expected: `${hexNumber(whole, 4)}, the sum of all 41 bytes at once: one's complement addition does not care how you group it`,
      lesson: lesson('The pseudo-header'),
    });
  });

  it('sums only the bytes of a window into a larger buffer', () => {
    const { window } = inWindow(bytes('00 01 f2 03 f4 f5 f6 f7'));
    const sum = P.onesComplementSum(window);
    const checksum = P.internetChecksum(window);
    check(sum === 0xddf2 && checksum === 0x220d, {
      did: `for the RFC 1071 bytes at byteOffset ${WINDOW_AT} of a larger buffer filled with 0xee, onesComplementSum gave ${hexNumber(sum, 4)} and internetChecksum gave ${hexNumber(checksum, 4)}`,
      expected: '0xddf2 and 0x220d, as for a fresh copy: read bytes[0] .. bytes[length - 1] of the array you were given (a DataView over bytes.buffer needs bytes.byteOffset and bytes.byteLength; a Uint16Array over the buffer reads little-endian and cannot start at an odd offset)',
      lesson: lesson('Bytes, words and byte order'),
    });
  });

  it('returns the initial sum for no bytes, and the checksum continues from an initial sum too', () => {
    const empty = P.onesComplementSum(none);
    const emptyFrom = P.onesComplementSum(none, 0x1234);
    const emptyChecksum = P.internetChecksum(none);
    check(empty === 0 && emptyFrom === 0x1234 && emptyChecksum === 0xffff, {
      did: `onesComplementSum(no bytes) gave ${hexNumber(empty, 4)}, onesComplementSum(no bytes, 0x1234) gave ${hexNumber(emptyFrom, 4)}, internetChecksum(no bytes) gave ${hexNumber(emptyChecksum, 4)}`,
      expected: '0x0000, 0x1234 and 0xffff: a sum of nothing is the initial value, and its complement is all ones',
      lesson: lesson('The Internet checksum'),
    });
    // The captured datagram verifies to 0 when its pseudo-header sum is the initial value.
    const datagram = UDP_HELLO.subarray(20);
    const pseudo = referenceSum(pseudoBytes(ADA, BRAM, 17, 21));
    const verified = P.internetChecksum(datagram, pseudo);
    const withoutPseudo = P.internetChecksum(datagram);
    check(verified === 0 && withoutPseudo !== 0, {
      did: `internetChecksum(captured UDP datagram, initial ${hexNumber(pseudo, 4)}) gave ${hexNumber(verified, 4)}; without the initial sum it gave ${hexNumber(withoutPseudo, 4)}`,
      expected: '0 with the pseudo-header sum as initial (the datagram checks out), and something else without it: internetChecksum must pass `initial` on to the sum',
      lesson: lesson('The pseudo-header'),
    });
  });
});

describe('IPv4 headers (RFC 791)', () => {
  it('decodes the captured UDP packet to the fields tcpdump shows', () => {
    const { header, payload } = mustWork(() => P.decodeIPv4(UDP_HELLO), 'decodeIPv4(captured packet)', UDP_HELLO, 'The IPv4 header', 'a decoded packet: it is a real, correct packet');
    const wrong = fieldDifferences(UDP_HELLO_IP, header);
    check(wrong.length === 0, {
      did: `decodeIPv4 read these fields wrong:\n${wrong.join('\n')}\n  packet:${dump(UDP_HELLO)}`,
      expected: 'the fields tcpdump shows: tos 0x0, ttl 64, id 23696, flags [DF], proto UDP (17), length 41, 198.51.100.3 > 198.51.100.7',
      lesson: lesson('The IPv4 header'),
    });
    const want = UDP_HELLO.subarray(20, 41);
    check(sameBytes(payload, want), {
      did: `decodeIPv4 returned a ${payload.length}-byte payload:${dump(payload)}`,
      expected: `the 21 bytes after the 20-byte header (the UDP datagram):${dump(want)}`,
      lesson: lesson('The IPv4 header'),
    });
  });

  it('writes multi-byte fields big-endian (network byte order), byte for byte like the kernel', () => {
    const { checksum: _c, version: _v, ihl: _i, totalLength: _t, ...fields } = UDP_HELLO_IP;
    const udp = UDP_HELLO.subarray(20);
    const out = mustWork(() => P.encodeIPv4(fields, udp), 'encodeIPv4(fields of the captured packet)', udp, 'The IPv4 header', 'the captured bytes');
    check(sameBytes(out, UDP_HELLO), {
      did: `encodeIPv4 wrote different bytes than Linux did for the same fields: ${compareBytes(UDP_HELLO, out, UDP_IN_IP)}`,
      expected: 'the captured packet exactly. Multi-byte fields go most significant byte first: Total Length 41 is 00 29, not 29 00; DataView.setUint16(offset, value) does this unless you pass `true`',
      lesson: lesson('Bytes, words and byte order'),
    });
  });

  it('reads IHL in 32-bit words: a 28-byte header (IHL 7) with 8 bytes of options', () => {
    const { header, payload } = mustWork(() => P.decodeIPv4(UDP_IP_OPTIONS), 'decodeIPv4(packet with IHL 7)', UDP_IP_OPTIONS, 'The IPv4 header', 'a decoded packet: the header checksum is correct (tcpdump agrees)');
    const wrong = fieldDifferences({ ihl: 7, totalLength: 53, ttl: 1, options: UDP_IP_OPTIONS.subarray(20, 28) }, header);
    const want = UDP_IP_OPTIONS.subarray(28);
    check(wrong.length === 0 && sameBytes(payload, want), {
      did: `decodeIPv4 on a packet whose first byte is 0x47 (version 4, IHL 7):\n${wrong.join('\n')}${wrong.length ? '\n' : ''}  payload (${payload.length} bytes): ${hexBytes(payload)}`,
      expected: `IHL 7 means 7 words of 4 bytes: a 28-byte header, options at bytes 20..27 (94 04 00 00 01 01 01 00: Router Alert, NOP, NOP, NOP, End), payload from byte 28 (${want.length} bytes, starting 9e 99)`,
      lesson: lesson('The IPv4 header'),
    });
    const { checksum: _c, version: _v, ihl: _i, totalLength: _t, ...fields } = { ...UDP_HELLO_IP, identification: 0x0303, ttl: 1, checksum: 0, options: UDP_IP_OPTIONS.subarray(20, 28) };
    const out = mustWork(() => P.encodeIPv4(fields, want), 'encodeIPv4(fields with 8 bytes of options)', want, 'The IPv4 header', 'a packet');
    check(sameBytes(out, UDP_IP_OPTIONS), {
      did: `encodeIPv4 with 8 bytes of options wrote: ${compareBytes(UDP_IP_OPTIONS, out, UDP_IN_IP, 28)}`,
      expected: 'first byte 0x47: version 4 in the high nibble, IHL = (20 + 8) / 4 = 7 words in the low nibble',
      lesson: lesson('The IPv4 header'),
    });
  });

  it('reads a packet that sits at an offset inside a larger buffer', () => {
    const big = new Uint8Array(64 + UDP_HELLO.length + 16).fill(0xee);
    big.set(UDP_HELLO, 64);
    const window = big.subarray(64, 64 + UDP_HELLO.length);
    const o = attempt(() => P.unwrapUdp(window));
    const ok = o.ok && fieldDifferences(UDP_HELLO_IP, o.value.ip).length === 0 && new TextDecoder().decode(o.value.message.payload) === 'Hello, Bram!\n';
    check(ok, {
      did: `unwrapUdp(bytes) where bytes = big.subarray(64, 105), a window into a 121-byte buffer filled with 0xee around it, ${describeOutcome(o)}`,
      expected: 'the same result as for a fresh copy. The 0xee filler (version 14) is outside the window: reading it means your view starts at the buffer, not at the window. A Uint8Array may start at bytes.byteOffset inside bytes.buffer, so build views with new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength). (Node Buffers from the shared pool start at an offset too.)',
      lesson: lesson('Bytes, words and byte order'),
    });
    const pooled = Buffer.from(UDP_HELLO);
    const p = attempt(() => P.decodeIPv4(pooled));
    check(p.ok && p.value.header.identification === 23696, {
      did: `decodeIPv4(Buffer.from(packet)), a Buffer at byteOffset ${pooled.byteOffset} in Node's pool, ${describeOutcome(p)}`,
      expected: 'the same header as for a fresh Uint8Array (identification 23696)',
      lesson: lesson('Bytes, words and byte order'),
    });
  });

  it('stops at Total Length and ignores link-layer padding after it', () => {
    // Ethernet carries at least 46 bytes, so this 41-byte packet travels with 5 bytes of padding.
    const padded = new Uint8Array(46);
    padded.set(UDP_HELLO);
    const { header, payload } = mustWork(() => P.decodeIPv4(padded), 'decodeIPv4(packet + 5 bytes of padding)', padded, 'The IPv4 header', 'a decoded packet: padding after Total Length is not part of it');
    check(header.totalLength === 41 && sameBytes(payload, UDP_HELLO.subarray(20, 41)), {
      did: `decodeIPv4 on 41 bytes of packet plus 5 zero bytes returned totalLength ${header.totalLength} and a ${payload.length}-byte payload:${dump(payload)}`,
      expected: 'Total Length 41 and a 21-byte payload: the packet ends where Total Length says, not where the buffer ends',
      lesson: lesson('The IPv4 header'),
    });
  });

  it('puts every field at its place: DSCP/ECN, identification, flags, fragment offset, TTL, protocol, options', () => {
    const fields: P.IPv4Fields = {
      dscp: 46, ecn: 1, identification: 0xbeef, dontFragment: false, moreFragments: true, fragmentOffset: 0x0abc,
      ttl: 3, protocol: 253, source: '10.1.2.3', destination: '192.0.2.255', options: bytes('01 01 01 00'),
    };
    const payload = bytes('ff 80 7f');
    //                                 V+IHL DSCP+ECN  TotalLen  Ident  MF+Offset TTL Proto Checksum Source      Destination Options     Payload
    const want = withFreshIpChecksum(bytes('46 b9 00 1b be ef 2a bc 03 fd 00 00 0a 01 02 03 c0 00 02 ff 01 01 01 00 ff 80 7f'), 24);
    const out = mustWork(() => P.encodeIPv4(fields, payload), 'encodeIPv4(dscp 46, ecn 1, id 0xbeef, MF, offset 0x0abc, ttl 3, protocol 253, 4 bytes of options)', payload, 'The IPv4 header', 'a packet');
    check(sameBytes(out, want), {
      did: `encodeIPv4 wrote: ${compareBytes(want, out, IPV4_LAYOUT, 24)}`,
      expected: 'byte 0 = 0x46 (version 4, IHL 6), byte 1 = DSCP << 2 | ECN = 0xb9, Total Length 27, then identification, then MF (0x2000) | Fragment Offset in one 16-bit field (0x2abc), TTL, Protocol, the header checksum over all 24 header bytes, the addresses, the options, the payload',
      lesson: lesson('The IPv4 header'),
    });
    const o = attempt(() => P.decodeIPv4(want));
    const wrong = o.ok ? fieldDifferences({ ...fields, version: 4, ihl: 6, totalLength: 27, checksum: (want[10]! << 8) | want[11]! }, o.value.header) : [];
    check(o.ok && wrong.length === 0 && sameBytes(o.value.payload, payload), () => ({
      did: `decodeIPv4 on those bytes ${o.ok ? `read:\n${wrong.join('\n') || `  the payload ${hexBytes(o.value.payload)}`}` : describeError(o.error)}${dump(want)}`,
      expected: 'the fields the bytes hold: dscp 46, ecn 1, identification 0xbeef, DF clear, MF set, fragmentOffset 0x0abc (2748), ttl 3, protocol 253, 10.1.2.3 -> 192.0.2.255, options 01 01 01 00, payload ff 80 7f',
      lesson: lesson('The IPv4 header'),
    }));
    // The two flag bits and the 13-bit offset share one 16-bit field.
    for (const [dontFragment, moreFragments, fragmentOffset, field] of [[false, false, 0, 0x0000], [true, false, 0, 0x4000], [false, true, 185, 0x20b9], [true, true, 0x1fff, 0x7fff]] as const) {
      const f = { ...fields, options: none, dontFragment, moreFragments, fragmentOffset };
      const packet = mustWork(() => P.encodeIPv4(f, none), `encodeIPv4(DF ${dontFragment}, MF ${moreFragments}, offset ${fragmentOffset})`, none, 'The IPv4 header', 'a packet');
      const got = packet.length >= 8 ? (packet[6]! << 8) | packet[7]! : -1;
      const back = attempt(() => P.decodeIPv4(packet));
      const wrongBack = back.ok ? fieldDifferences({ dontFragment, moreFragments, fragmentOffset }, back.value.header) : [];
      check(got === field && back.ok && wrongBack.length === 0, () => ({
        did: `with DF ${dontFragment}, MF ${moreFragments}, fragmentOffset ${fragmentOffset}: bytes 6..7 are ${hexNumber(got, 4)}; decoding them back ${back.ok ? `read:\n${wrongBack.join('\n') || '  the same'}` : describeError(back.error)}`,
        expected: `${hexNumber(field, 4)}: DF is 0x4000, MF is 0x2000, the offset the low 13 bits (bit 0x8000 is reserved)`,
        lesson: lesson('The IPv4 header'),
      }));
    }
  });

  it('accepts the smallest packet: a 20-byte header and no payload', () => {
    const packet = withFreshIpChecksum(bytes('45 00 00 14 00 01 40 00 40 fd 00 00 7f 00 00 01 7f 00 00 01'));
    const o = attempt(() => P.decodeIPv4(packet));
    check(o.ok && o.value.header.totalLength === 20 && o.value.header.ihl === 5 && o.value.payload.length === 0, () => ({
      did: `decodeIPv4 on a packet of exactly 20 bytes (Total Length 20) ${describeOutcome(o)}${dump(packet)}`,
      expected: 'a header with ihl 5, totalLength 20, and an empty payload: 20 bytes is the minimum, not too few',
      lesson: lesson('Trust nothing: truncated and corrupted packets'),
    }));
  });

  it('decodes a packet in a window of a larger buffer, and returns the payload as a view into it', () => {
    checkDecodesInWindow({
      name: 'decodeIPv4',
      decode: (b) => P.decodeIPv4(b),
      data: UDP_IP_OPTIONS,
      header: { version: 4, ihl: 7, totalLength: 53, ttl: 1, protocol: 17, source: ADA, destination: BRAM },
      payload: UDP_IP_OPTIONS.subarray(28),
      expected: 'IHL 7, Total Length 53, TTL 1, the 25 bytes after the 28-byte header',
      payloadAt: 28,
      payloadExpected: 'a view into the packet (payload.buffer is the input\'s buffer) that starts at byte 28 of the input: packet.subarray(IHL x 4, Total Length), no copy',
    });
  });

  it('decode reverses encode for random headers (seeded)', () => {
    const cases = fc.record({ fields: arb.ipv4Fields, payload: arb.payload(64) });
    forAllSync(cases, ({ fields, payload }) => {
      const packet = mustWork(() => P.encodeIPv4(fields, payload), 'encodeIPv4(random fields in range)', payload, 'The IPv4 header', 'a packet: every field fits its bits');
      const o = attempt(() => P.decodeIPv4(packet));
      const expected = { ...fields, version: 4, ihl: 5 + fields.options.length / 4, totalLength: 20 + fields.options.length + payload.length };
      const wrong = o.ok ? fieldDifferences(expected, o.value.header) : [];
      check(o.ok && wrong.length === 0 && sameBytes(o.value.payload, payload), () => ({
        did: `encodeIPv4 then decodeIPv4 ${o.ok ? `changed:\n${wrong.join('\n') || `  the payload (${hexBytes(o.value.payload)})`}` : describeError(o.error)}\n  encoded:${dump(packet)}`,
        expected: `the same fields back:\n${Object.entries(expected).map(([k, v]) => `  ${k}: ${formatValue(v)}`).join('\n')}`,
        lesson: lesson('The IPv4 header'),
      }));
    }, { numRuns: ROUNDS, show: showCase });
  });
});

describe('UDP and the pseudo-header (RFC 768)', () => {
  it('computes the UDP checksum over the pseudo-header, the UDP header and the payload', () => {
    const pseudo = P.pseudoHeaderSum(ADA_TO_BRAM, 17, 21);
    check(pseudo === 0x5498, {
      did: `pseudoHeaderSum(198.51.100.3 -> 198.51.100.7, protocol 17, length 21) gave ${hexNumber(pseudo, 4)}`,
      expected: '0x5498: the 12 bytes c6 33 64 03 | c6 33 64 07 | 00 11 | 00 15 summed as words: 0xc633 + 0x6403 + 0xc633 + 0x6407 + 0x0011 + 0x0015 = 0x25496, folded to 0x5496 + 0x2',
      lesson: lesson('The pseudo-header'),
    });
    const datagram = UDP_HELLO.subarray(20);
    const payload = datagram.subarray(8);
    const out = mustWork(() => P.encodeUdp({ sourcePort: 40601, destinationPort: 7001 }, payload, ADA_TO_BRAM), 'encodeUdp(captured fields)', payload, 'The UDP header', 'a datagram');
    const got = out.length >= 8 ? (out[6]! << 8) | out[7]! : -1;
    const payloadOnly = ~referenceSum(payload) & 0xffff;
    const noPseudo = ~referenceSum(datagram.slice().fill(0, 6, 8)) & 0xffff;
    const diagnosis = got === payloadOnly ? ` ${hexNumber(got, 4)} is the checksum of the payload alone.` : got === noPseudo ? ` ${hexNumber(got, 4)} is the checksum of header + payload without the pseudo-header.` : '';
    check(sameBytes(out, datagram), {
      did: `encodeUdp for 40601 -> 7001 between 198.51.100.3 and 198.51.100.7 with "Hello, Bram!\\n" wrote: ${compareBytes(datagram, out, UDP_LAYOUT)}${diagnosis ? `\n ${diagnosis}` : ''}`,
      expected: 'the bytes Linux sent, checksum 0xc39c: the complement of the sum over the 12-byte pseudo-header, the 8-byte header (checksum field zero) and the payload',
      lesson: lesson('The pseudo-header'),
    });
    expectPacketError(() => P.decodeUdp(datagram, { source: ADA, destination: '198.51.100.8' }), { code: 'ERR_BAD_CHECKSUM', layer: 'udp' }, {
      call: 'decodeUdp(captured datagram, claimed destination 198.51.100.8 instead of 198.51.100.7)',
      input: datagram,
      heading: 'The pseudo-header',
      why: 'the pseudo-header puts the addresses into the checksum, so a datagram that reached the wrong host fails it',
    });
  });

  it('decodes the captured datagram and verifies its checksum', () => {
    const datagram = UDP_HELLO.subarray(20);
    const { header, payload } = mustWork(() => P.decodeUdp(datagram, ADA_TO_BRAM), 'decodeUdp(captured datagram, 198.51.100.3 -> 198.51.100.7)', datagram, 'The UDP header', 'a decoded datagram: its checksum is correct (tcpdump: "udp sum ok")');
    const wrong = fieldDifferences(UDP_HELLO_UDP, header);
    check(wrong.length === 0 && new TextDecoder().decode(payload) === 'Hello, Bram!\n', {
      did: `decodeUdp read:\n${wrong.join('\n')}${wrong.length ? '\n' : ''}  payload: ${hexBytes(payload)}`,
      expected: 'ports 40601 -> 7001, length 21, checksum 0xc39c, payload "Hello, Bram!\\n"',
      lesson: lesson('The UDP header'),
    });
  });

  it('finds the pseudo-header sum that Linux left in the loopback capture\'s unfinished checksum', () => {
    const field = (UDP_LOOPBACK[26]! << 8) | UDP_LOOPBACK[27]!;
    const sum = P.pseudoHeaderSum({ source: '127.0.0.1', destination: '127.0.0.1' }, 17, 21);
    check(sum === field, {
      did: `pseudoHeaderSum(127.0.0.1 -> 127.0.0.1, UDP, length 21) gave ${hexNumber(sum, 4)}`,
      expected: `${hexNumber(field, 4)}, the value in the captured checksum field: with checksum offload, Linux writes the pseudo-header sum and leaves the rest to the network card`,
      lesson: lesson('Seeing real packets'),
    });
    expectPacketError(() => P.unwrapUdp(UDP_LOOPBACK), { code: 'ERR_BAD_CHECKSUM', layer: 'udp' }, {
      call: 'unwrapUdp(loopback capture with an unfinished UDP checksum)',
      input: UDP_LOOPBACK,
      heading: 'Seeing real packets',
      why: 'the checksum field holds 0xfe28, not the checksum 0xd698 (tcpdump: "bad udp cksum 0xfe28 -> 0xd698!")',
    });
  });

  it('sends a computed checksum of 0 as 0xffff, and accepts 0 as "no checksum"', () => {
    // Pick two payload bytes that make the sum of everything else exactly 0xffff, so the checksum computes to 0.
    const fields = { sourcePort: 5000, destinationPort: 6000 };
    const header = bytes('13 88 17 70 00 0a 00 00');
    const pseudo = referenceSum(bytes('c6 33 64 03 c6 33 64 07 00 11 00 0a')); // 198.51.100.3, 198.51.100.7, 0, 17, length 10
    const rest = ~referenceSum(header, pseudo) & 0xffff;
    const payload = Uint8Array.of(rest >> 8, rest & 0xff);
    const out = mustWork(() => P.encodeUdp(fields, payload, ADA_TO_BRAM), 'encodeUdp(a datagram whose checksum computes to 0)', payload, 'The UDP header', 'a datagram');
    const field = out.length >= 8 ? (out[6]! << 8) | out[7]! : -1;
    check(field === 0xffff, {
      did: `for a datagram whose checksum computes to 0x0000, encodeUdp wrote the checksum field ${hexNumber(field, 4)}:${dump(out)}`,
      expected: '0xffff: on the wire, 0 means "no checksum", so a computed 0 is sent as 0xffff (the other zero of one\'s complement)',
      lesson: lesson('The UDP header'),
    });
    const decoded = mustWork(() => P.decodeUdp(out, ADA_TO_BRAM), 'decodeUdp(the datagram with checksum 0xffff)', out, 'The UDP header', 'a decoded datagram: 0xffff is a correct checksum');
    check(sameBytes(decoded.payload, payload), { did: `decodeUdp returned payload ${hexBytes(decoded.payload)}`, expected: hexBytes(payload), lesson: lesson('The UDP header') });

    const unchecked = UDP_HELLO.slice(20);
    unchecked[6] = 0;
    unchecked[7] = 0;
    unchecked[8] = 0x4a; // "Hello" becomes "Jello": nobody can tell without a checksum
    const o = attempt(() => P.decodeUdp(unchecked, ADA_TO_BRAM));
    check(o.ok && new TextDecoder().decode(o.value.payload) === 'Jello, Bram!\n', {
      did: `decodeUdp on a datagram with checksum field 0 ${describeOutcome(o)}${dump(unchecked)}`,
      expected: 'the datagram, unverified: a checksum of 0 means the sender computed none (RFC 768), so there is nothing to check',
      lesson: lesson('The UDP header'),
    });
  });

  it('ends the datagram at its Length field, and checks only those bytes', () => {
    const datagram = new Uint8Array(24);
    datagram.set(UDP_HELLO.subarray(20));
    datagram.set(bytes('de ad be'), 21);
    const o = attempt(() => P.decodeUdp(datagram, ADA_TO_BRAM));
    check(o.ok && o.value.header.length === 21 && new TextDecoder().decode(o.value.payload) === 'Hello, Bram!\n', () => ({
      did: `decodeUdp on the captured 21-byte datagram followed by 3 more bytes (de ad be) ${describeOutcome(o)}`,
      expected: 'length 21 and the 13-byte payload "Hello, Bram!\\n": the datagram ends where its Length field says. The checksum covers those 21 bytes, with 21 in the pseudo-header, not the buffer\'s 24',
      lesson: lesson('The UDP header'),
    }));
  });

  it('decodes a datagram in a window of a larger buffer, and returns the payload as a view into it', () => {
    checkDecodesInWindow({
      name: 'decodeUdp',
      decode: (b) => P.decodeUdp(b, ADA_TO_BRAM),
      data: UDP_HELLO.subarray(20),
      header: UDP_HELLO_UDP,
      payload: text('Hello, Bram!\n'),
      expected: 'ports 40601 -> 7001, length 21, checksum 0xc39c, "Hello, Bram!\\n"',
      payloadAt: 8,
      payloadExpected: 'a view into the datagram that starts at its byte 8: datagram.subarray(8, Length), no copy',
    });
  });

  it('decode reverses encode for random datagrams (seeded)', () => {
    const cases = fc.record({ fields: fc.record({ sourcePort: arb.port, destinationPort: arb.port }), addresses: arb.addresses, payload: arb.payload(99) });
    forAllSync(cases, ({ fields, addresses, payload }) => {
      const datagram = mustWork(() => P.encodeUdp(fields, payload, addresses), 'encodeUdp(random ports and addresses)', payload, 'The UDP header', 'a datagram: every field fits its bits');
      const o = attempt(() => P.decodeUdp(datagram, addresses));
      const wrong = o.ok ? fieldDifferences({ ...fields, length: 8 + payload.length }, o.value.header) : [];
      check(o.ok && wrong.length === 0 && sameBytes(o.value.payload, payload), () => ({
        did: `between ${addresses.source} and ${addresses.destination}, encodeUdp then decodeUdp ${o.ok ? `changed:\n${wrong.join('\n') || `  the payload (${hexBytes(o.value.payload)})`}` : describeError(o.error)}\n  encoded:${dump(datagram)}`,
        expected: `ports ${fields.sourcePort} -> ${fields.destinationPort}, length ${8 + payload.length}, the same ${payload.length}-byte payload`,
        lesson: lesson('The UDP header'),
      }));
    }, { numRuns: ROUNDS, show: showCase });
  });
});

describe('TCP headers (RFC 9293 §3.1)', () => {
  const segmentOf = (packet: Uint8Array) => packet.subarray(20);

  it('decodes the captured SYN: flags, sequence number, window and 20 bytes of options', () => {
    const segment = segmentOf(TCP_SYN);
    const { header, payload } = mustWork(() => P.decodeTcp(segment, ADA_TO_BRAM), 'decodeTcp(captured SYN, 198.51.100.3 -> 198.51.100.7)', segment, 'The TCP header', 'a decoded segment: its checksum is correct (tcpdump: "cksum 0xe8be (correct)")');
    const wrong = fieldDifferences(SYN_TCP, header);
    const negative = typeof header.sequence === 'number' && header.sequence < 0 ? '\n  (a negative sequence number: `b << 24` is a signed 32-bit operation in JavaScript; DataView.getUint32 is not)' : '';
    check(wrong.length === 0 && payload.length === 0, {
      did: `decodeTcp read:\n${wrong.join('\n')}${negative}${wrong.length ? '\n' : ''}  payload: ${hexBytes(payload)}\n  segment:${dump(segment)}`,
      expected: 'tcpdump\'s reading: 57978 > 7001, Flags [S] (0x02), seq 3326414762, win 64240, options [mss 1460,sackOK,TS,nop,wscale 10], no payload',
      lesson: lesson('The TCP header'),
    });
  });

  it('reads the data offset in 32-bit words, so the payload starts after the options', () => {
    const segment = segmentOf(TCP_DATA);
    const { header, payload } = mustWork(() => P.decodeTcp(segment, ADA_TO_BRAM), 'decodeTcp(captured data segment)', segment, 'The TCP header', 'a decoded segment: its checksum is correct');
    const wrong = fieldDifferences(DATA_TCP, header);
    const said = new TextDecoder().decode(payload);
    check(wrong.length === 0 && said === 'Hello again, Bram!\n', {
      did: `decodeTcp on a segment whose byte 12 is 0x80 (Data Offset 8):\n${wrong.join('\n')}${wrong.length ? '\n' : ''}  payload (${payload.length} bytes):${dump(payload)}`,
      expected: 'Data Offset 8 means 8 words = 32 bytes of header: 12 bytes of options (nop, nop, timestamps), then the 19-byte payload "Hello again, Bram!\\n"',
      lesson: lesson('The TCP header'),
    });
  });

  it('encodes the captured segments byte for byte, checksum included', () => {
    for (const [name, packet, tcp] of [['SYN', TCP_SYN, SYN_TCP], ['data segment', TCP_DATA, DATA_TCP]] as const) {
      const segment = segmentOf(packet);
      const { dataOffset, checksum: _c, ...fields } = tcp;
      const payload = segment.subarray(dataOffset * 4);
      const out = mustWork(() => P.encodeTcp(fields, payload, ADA_TO_BRAM), `encodeTcp(fields of the captured ${name})`, payload, 'The TCP header', 'a segment');
      check(sameBytes(out, segment), {
        did: `encodeTcp wrote different bytes than Linux did for the captured ${name}: ${compareBytes(segment, out, TCP_LAYOUT, dataOffset * 4)}`,
        expected: `the captured bytes: Data Offset ${dataOffset} in the high nibble of byte 12 (${hexNumber(dataOffset << 4, 2)}), fields big-endian, checksum ${hexNumber(tcp.checksum, 4)} over pseudo-header + header + payload`,
        lesson: lesson('The TCP header'),
      });
    }
  });

  it('detects a corrupted byte anywhere in the captured data segment', () => {
    const corrupted: CorruptionCase = {
      packet: TCP_DATA,
      call: 'decodeIPv4 + decodeTcp',
      decode: (bad) => {
        const ip = P.decodeIPv4(bad);
        return P.decodeTcp(ip.payload, ip.header);
      },
      fieldAt: (at) => fieldAt(TCP_IN_IP, at, 52),
      expected: () => 'a PacketError (ERR_BAD_CHECKSUM, or a length/version error): one changed byte always changes the one\'s complement sum',
    };
    // Every byte with every single-bit flip and all bits flipped; then random masks at random bytes.
    for (let at = 0; at < TCP_DATA.length; at++) for (const flip of FLIPS) checkCorruptionCaught(corrupted, at, flip);
    forAllSync(arb.corruption(TCP_DATA.length), ({ at, flip }) => checkCorruptionCaught(corrupted, at, flip), {
      numRuns: ROUNDS,
      show: ({ at, flip }) => `byte ${at} XOR ${hexNumber(flip, 2)}`,
    });
  });

  it('puts every field at its place: ports, 32-bit numbers above 2^31, all eight control bits, window, urgent pointer, options', () => {
    const fields: P.TcpFields = {
      sourcePort: 443, destinationPort: 50000, sequence: 0x80000001, acknowledgment: 0xfffffffe,
      flags: P.TCP_FLAGS.CWR | P.TCP_FLAGS.ECE | P.TCP_FLAGS.FIN, window: 0x1234, urgentPointer: 0xabcd, options: bytes('01 01 04 02'),
    };
    const payload = bytes('ff 80 7f');
    //                                  SrcPort DstPort Sequence    Acknowledgment Off Flags Window Checksum Urgent Options     Payload
    const want = withTcpChecksum(bytes('01 bb c3 50 80 00 00 01 ff ff ff fe 60 c1 12 34 00 00 ab cd 01 01 04 02 ff 80 7f'), ADA_TO_BRAM);
    const out = mustWork(() => P.encodeTcp(fields, payload, ADA_TO_BRAM), 'encodeTcp(443 -> 50000, seq 0x80000001, ack 0xfffffffe, CWR|ECE|FIN, 4 bytes of options)', payload, 'The TCP header', 'a segment');
    check(sameBytes(out, want), {
      did: `encodeTcp wrote: ${compareBytes(want, out, TCP_LAYOUT, 24)}`,
      expected: 'Data Offset 6 in the high nibble of byte 12 (0x60), the control bits in byte 13 (CWR 0x80 | ECE 0x40 | FIN 0x01 = 0xc1), every field big-endian, the checksum over pseudo-header (length 27) + header + payload',
      lesson: lesson('The TCP header'),
    });
    const o = attempt(() => P.decodeTcp(want, ADA_TO_BRAM));
    const wrong = o.ok ? fieldDifferences({ ...fields, dataOffset: 6, checksum: (want[16]! << 8) | want[17]! }, o.value.header) : [];
    check(o.ok && wrong.length === 0 && sameBytes(o.value.payload, payload), () => ({
      did: `decodeTcp on those bytes ${o.ok ? `read:\n${wrong.join('\n') || `  the payload ${hexBytes(o.value.payload)}`}` : describeError(o.error)}${dump(want)}`,
      expected: 'the fields the bytes hold: 443 -> 50000, sequence 2147483649, acknowledgment 4294967294, flags 0xc1, window 0x1234, urgentPointer 0xabcd, options 01 01 04 02, payload ff 80 7f',
      lesson: lesson('The TCP header'),
    }));
    for (const [name, flag] of Object.entries(P.TCP_FLAGS)) {
      const f = { ...fields, flags: flag, options: none };
      const segment = mustWork(() => P.encodeTcp(f, none, ADA_TO_BRAM), `encodeTcp(flags ${name})`, none, 'The TCP header', 'a segment');
      const back = attempt(() => P.decodeTcp(segment, ADA_TO_BRAM));
      check(segment[13] === flag && segment[12] === 0x50 && back.ok && back.value.header.flags === flag, () => ({
        did: `with flags = TCP_FLAGS.${name} (${hexNumber(flag, 2)}), bytes 12..13 are ${hexBytes(segment.subarray(12, 14))}; decodeTcp ${back.ok ? `read flags ${hexNumber(back.value.header.flags, 2)}` : describeError(back.error)}`,
        expected: `50 ${hexNumber(flag, 2).slice(2)}: the control bits are the whole byte 13, all eight of them, and read back the same`,
        lesson: lesson('The TCP header'),
      }));
    }
  });

  it('accepts the smallest segment: 20 bytes, no options, no payload', () => {
    const segment = withTcpChecksum(bytes('1b 59 e2 7a 00 00 00 01 c6 45 0f ab 50 10 01 f5 00 00 00 00'), { source: BRAM, destination: ADA });
    const o = attempt(() => P.decodeTcp(segment, { source: BRAM, destination: ADA }));
    check(o.ok && o.value.header.dataOffset === 5 && o.value.header.flags === P.TCP_FLAGS.ACK && o.value.header.options.length === 0 && o.value.payload.length === 0, () => ({
      did: `decodeTcp on a bare 20-byte ACK ${describeOutcome(o)}${dump(segment)}`,
      expected: 'dataOffset 5, flags ACK (0x10), no options and an empty payload: 20 bytes is the minimum, not too few',
      lesson: lesson('Trust nothing: truncated and corrupted packets'),
    }));
  });

  it('ignores the reserved bits after the Data Offset', () => {
    const segment = TCP_DATA.slice(20);
    segment[12] = 0x8f; // Data Offset 8, all four reserved bits set
    const marked = withTcpChecksum(segment, ADA_TO_BRAM);
    const o = attempt(() => P.decodeTcp(marked, ADA_TO_BRAM));
    check(o.ok && o.value.header.dataOffset === 8 && o.value.header.flags === 0x18 && new TextDecoder().decode(o.value.payload) === 'Hello again, Bram!\n', () => ({
      did: `decodeTcp on the captured data segment with byte 12 = 0x8f (checksum fixed to match) ${describeOutcome(o)}`,
      expected: 'dataOffset 8, flags 0x18, the same payload: Data Offset is only the high nibble of byte 12 (byte >> 4); the low nibble is reserved, and a receiver ignores it',
      lesson: lesson('The TCP header'),
    }));
  });

  it('decodes a segment in a window of a larger buffer, and returns the payload as a view into it', () => {
    checkDecodesInWindow({
      name: 'decodeTcp',
      decode: (b) => P.decodeTcp(b, ADA_TO_BRAM),
      data: TCP_DATA.subarray(20),
      header: DATA_TCP,
      payload: text('Hello again, Bram!\n'),
      expected: 'the captured data segment, "Hello again, Bram!\\n"',
      payloadAt: 32,
      payloadExpected: 'a view into the segment that starts at Data Offset x 4 = byte 32: segment.subarray(32), no copy',
    });
  });

  it('decode reverses encode for random segments (seeded)', () => {
    const cases = fc.record({ fields: arb.tcpFields, addresses: arb.addresses, payload: arb.payload(64) });
    forAllSync(cases, ({ fields, addresses, payload }) => {
      const segment = mustWork(() => P.encodeTcp(fields, payload, addresses), 'encodeTcp(random fields in range)', payload, 'The TCP header', 'a segment: every field fits its bits');
      const o = attempt(() => P.decodeTcp(segment, addresses));
      const expected = { ...fields, dataOffset: 5 + fields.options.length / 4 };
      const wrong = o.ok ? fieldDifferences(expected, o.value.header) : [];
      check(o.ok && wrong.length === 0 && sameBytes(o.value.payload, payload), () => ({
        did: `encodeTcp then decodeTcp ${o.ok ? `changed:\n${wrong.join('\n') || `  the payload (${hexBytes(o.value.payload)})`}` : describeError(o.error)}\n  encoded:${dump(segment)}`,
        expected: `the same fields back:\n${Object.entries(expected).map(([k, v]) => `  ${k}: ${formatValue(v)}`).join('\n')}`,
        lesson: lesson('The TCP header'),
      }));
    }, { numRuns: ROUNDS, show: showCase });
  });
});

describe('UDP in IPv4: wrap and unwrap', () => {
  const ADA_SAYS: P.UdpMessage = { source: ADA, sourcePort: 40601, destination: BRAM, destinationPort: 7001, payload: text('Hello, Bram!\n') };

  it('unwraps the captured packet to Ada\'s message', () => {
    const { message, ip, udp } = mustWork(() => P.unwrapUdp(UDP_HELLO), 'unwrapUdp(captured packet)', UDP_HELLO, 'Encapsulation: envelopes inside envelopes', 'the message: both checksums are correct');
    const wrong = [...fieldDifferences(ADA_SAYS, message), ...fieldDifferences(UDP_HELLO_IP, ip).map((l) => ` ip.${l.trim()}`), ...fieldDifferences(UDP_HELLO_UDP, udp).map((l) => ` udp.${l.trim()}`)];
    check(wrong.length === 0, {
      did: `unwrapUdp got these wrong:\n${wrong.join('\n')}`,
      expected: '198.51.100.3:40601 -> 198.51.100.7:7001, "Hello, Bram!\\n", with both headers as tcpdump shows them',
      lesson: lesson('Encapsulation: envelopes inside envelopes'),
    });
  });

  it('wraps Ada\'s message into the very bytes the kernel sent', () => {
    const out = mustWork(() => P.wrapUdp(ADA_SAYS, { identification: 23696 }), 'wrapUdp(Ada\'s message, { identification: 23696 })', ADA_SAYS.payload, 'Encapsulation: envelopes inside envelopes', 'a packet');
    check(sameBytes(out, UDP_HELLO), {
      did: `wrapUdp wrote: ${compareBytes(UDP_HELLO, out, UDP_IN_IP)}`,
      expected: 'the captured packet: an IPv4 header (defaults: TTL 64, DF set, protocol 17) around a UDP header around the payload, both checksums filled in',
      lesson: lesson('Encapsulation: envelopes inside envelopes'),
    });
  });

  it('wrap then unwrap gives back the same message (seeded random messages)', () => {
    const cases = fc.record({ message: arb.udpMessage, ttl: fc.integer({ min: 1, max: 255 }) });
    forAllSync(cases, ({ message, ttl }) => {
      const packet = mustWork(() => P.wrapUdp(message, { ttl }), `wrapUdp(a random message, { ttl: ${ttl} })`, message.payload, 'Encapsulation: envelopes inside envelopes', 'a packet');
      const o = attempt(() => P.unwrapUdp(packet));
      const wrong = o.ok ? [...fieldDifferences(message, o.value.message), ...fieldDifferences({ ttl, protocol: 17 }, o.value.ip)] : [];
      check(o.ok && wrong.length === 0, () => ({
        did: `wrapUdp then unwrapUdp ${o.ok ? `changed:\n${wrong.join('\n')}` : describeError(o.error)}\n  packet:${dump(packet)}`,
        expected: `${message.source}:${message.sourcePort} -> ${message.destination}:${message.destinationPort}, ${message.payload.length} bytes, TTL ${ttl}`,
        lesson: lesson('Encapsulation: envelopes inside envelopes'),
      }));
    }, { numRuns: ROUNDS, show: showCase });
  });

  it('detects a corrupted byte anywhere in the captured packet', () => {
    const corrupted: CorruptionCase = {
      packet: UDP_HELLO,
      call: 'unwrapUdp',
      decode: (bad) => P.unwrapUdp(bad),
      fieldAt: (at) => fieldAt(UDP_IN_IP, at),
      expected: (at) => `a PacketError: ${at < 20 ? 'the IPv4 header checksum covers this byte' : 'the UDP checksum covers this byte (through the pseudo-header, even the addresses)'}`,
    };
    // Every byte with every single-bit flip and all bits flipped; then random masks at random bytes.
    for (let at = 0; at < UDP_HELLO.length; at++) for (const flip of FLIPS) checkCorruptionCaught(corrupted, at, flip);
    forAllSync(arb.corruption(UDP_HELLO.length), ({ at, flip }) => checkCorruptionCaught(corrupted, at, flip), {
      numRuns: ROUNDS,
      show: ({ at, flip }) => `byte ${at} XOR ${hexNumber(flip, 2)}`,
    });
  });

  it('fills in IPV4_DEFAULTS, lets the ip argument override them, and carries binary payloads', () => {
    const payload = Uint8Array.from({ length: 256 }, (_, i) => 255 - i); // ff fe ... 80 ... 00
    const message: P.UdpMessage = { source: '10.0.0.1', sourcePort: 5353, destination: '10.0.0.2', destinationPort: 53, payload };
    const cases: [string, P.IPv4Extras | undefined, Record<string, unknown>][] = [
      ['wrapUdp(message)', undefined, { dscp: 0, ecn: 0, identification: 0, dontFragment: true, moreFragments: false, fragmentOffset: 0, ttl: 64, options: none }],
      [
        'wrapUdp(message, { ttl: 1, dscp: 46, ecn: 2, identification: 7, dontFragment: false, options: 01 01 01 00 })',
        { ttl: 1, dscp: 46, ecn: 2, identification: 7, dontFragment: false, options: bytes('01 01 01 00') },
        { dscp: 46, ecn: 2, identification: 7, dontFragment: false, moreFragments: false, fragmentOffset: 0, ttl: 1, options: bytes('01 01 01 00') },
      ],
    ];
    for (const [call, extras, want] of cases) {
      const packet = mustWork(() => (extras === undefined ? P.wrapUdp(message) : P.wrapUdp(message, extras)), call, payload, 'The exercise', 'a packet');
      const o = attempt(() => P.unwrapUdp(packet));
      const headerLength = 20 + (want.options as Uint8Array).length;
      const wrong = o.ok
        ? [
          ...fieldDifferences({ ...want, protocol: 17, source: '10.0.0.1', destination: '10.0.0.2', totalLength: headerLength + 8 + 256 }, o.value.ip).map((l) => ` ip.${l.trim()}`),
          ...fieldDifferences(message, o.value.message),
        ]
        : [];
      check(o.ok && wrong.length === 0, () => ({
        did: `${call}, then unwrapUdp, ${o.ok ? `got:\n${wrong.join('\n')}` : describeError(o.error)}\n  packet:${dump(packet.subarray(0, headerLength + 8))}`,
        expected: `each IPv4 field from the ip argument if given, else from IPV4_DEFAULTS (TTL 64, DF set, the rest 0), protocol 17, the message's addresses, and all 256 byte values of the payload (ff down to 00) unchanged`,
        lesson: lesson('The exercise'),
      }));
    }
  });

  it('copies payload and options from windows into a fresh packet that the caller\'s later writes do not change', () => {
    const payloadWindow = inWindow(text('Hello, Bram!\n'));
    const optionsWindow = inWindow(bytes('94 04 00 00'));
    const message: P.UdpMessage = { ...ADA_SAYS, payload: payloadWindow.window };
    const { checksum: _c, version: _v, ihl: _i, totalLength: _t, ...ipFields } = UDP_HELLO_IP;
    const { dataOffset: _d, checksum: _k, ...tcpFields } = DATA_TCP;
    const calls: [string, () => Uint8Array, number][] = [
      ['wrapUdp(message with a payload window)', () => P.wrapUdp(message, { identification: 23696 }), 28],
      ['encodeUdp(fields, payload window, addresses)', () => P.encodeUdp(ADA_SAYS, payloadWindow.window, ADA_TO_BRAM), 8],
      ['encodeIPv4(fields with an options window, payload window)', () => P.encodeIPv4({ ...ipFields, options: optionsWindow.window }, payloadWindow.window), 24],
      ['encodeTcp(fields with an options window, payload window, addresses)', () => P.encodeTcp({ ...tcpFields, options: optionsWindow.window }, payloadWindow.window, ADA_TO_BRAM), 24],
    ];
    for (const [call, encode, payloadAt] of calls) {
      const payloadBefore = payloadWindow.big.slice();
      const optionsBefore = optionsWindow.big.slice();
      const o = attempt(encode);
      check(o.ok, () => ({ did: `${call} ${describeOutcome(o)}`, expected: 'an encoded packet', lesson: lesson('The exercise') }));
      const out = o.value;
      const untouched = sameBytes(payloadWindow.big, payloadBefore) && sameBytes(optionsWindow.big, optionsBefore);
      const copied = new TextDecoder().decode(out.subarray(payloadAt)) === 'Hello, Bram!\n' && (payloadAt !== 24 || sameBytes(out.subarray(20, 24), bytes('94 04 00 00')));
      const snapshot = out.slice();
      payloadWindow.big.fill(0x5a); // the caller reuses its buffers for the next message
      optionsWindow.big.fill(0x5a);
      const unchanged = sameBytes(out, snapshot) && out.buffer !== payloadWindow.big.buffer && out.buffer !== optionsWindow.big.buffer;
      payloadWindow.big.set(payloadBefore);
      optionsWindow.big.set(optionsBefore);
      check(untouched && copied && unchanged, {
        did: `${call}: ${!untouched ? 'changed the caller\'s bytes' : !copied ? `did not copy the window's bytes (the packet holds${dump(out)})` : 'returned bytes that changed when the caller then overwrote its own buffers'}`,
        expected: 'a fresh Uint8Array holding a copy of exactly the window\'s bytes (from byteOffset, byteLength of them: out.set(payload, at) does that), leaving the caller\'s buffers as they were',
        lesson: lesson('Bytes, words and byte order'),
      });
    }
  });

  it('checks the UDP checksum against the addresses in the IPv4 header', () => {
    const moved = UDP_HELLO.slice();
    moved[19] = 8; // 198.51.100.7 -> 198.51.100.8, IPv4 checksum fixed as a buggy router or a NAT would
    const rerouted = withFreshIpChecksum(moved);
    expectPacketError(() => P.unwrapUdp(rerouted), { code: 'ERR_BAD_CHECKSUM', layer: 'udp', fields: { sum: referenceSum(rerouted.subarray(20), referenceSum(pseudoBytes(ADA, '198.51.100.8', 17, 21))) } }, {
      call: 'unwrapUdp(captured packet with the destination changed to 198.51.100.8 and a correct IPv4 checksum)',
      input: rerouted,
      heading: 'The pseudo-header',
      why: 'the IPv4 header is consistent, but the UDP checksum was computed with 198.51.100.7 in the pseudo-header: unwrapUdp must build the pseudo-header from the IPv4 header it decoded',
    });
    const longer = UDP_HELLO.slice();
    longer[25] = 22; // UDP Length 22 inside a 21-byte IPv4 payload
    expectPacketError(() => P.unwrapUdp(longer), { code: 'ERR_PACKET_TRUNCATED', layer: 'udp', fields: { needed: 22, got: 21 } }, {
      call: 'unwrapUdp(captured packet with UDP Length 22)',
      input: longer,
      heading: 'Trust nothing: truncated and corrupted packets',
      why: 'the IPv4 payload ends at Total Length (41), 21 bytes after the header, and UDP announces 22: hand decodeUdp only the IPv4 payload',
    });
    const padded = new Uint8Array(46);
    padded.set(UDP_HELLO);
    const o = attempt(() => P.unwrapUdp(padded));
    check(o.ok && new TextDecoder().decode(o.value.message.payload) === 'Hello, Bram!\n' && o.value.udp.length === 21, () => ({
      did: `unwrapUdp(the captured packet + 5 bytes of Ethernet padding) ${describeOutcome(o)}`,
      expected: 'Ada\'s message: the padding after Total Length is no part of the IPv4 payload, so it never reaches UDP',
      lesson: lesson('The IPv4 header'),
    }));
  });

  it('refuses to unwrap a packet that carries TCP', () => {
    expectPacketError(() => P.unwrapUdp(TCP_SYN), { code: 'ERR_WRONG_PROTOCOL', layer: 'ipv4', fields: { protocol: 6, wanted: 17 } }, {
      call: 'unwrapUdp(captured TCP SYN)',
      input: TCP_SYN,
      heading: 'Encapsulation: envelopes inside envelopes',
      why: 'the Protocol field says 6 (TCP): the payload is not a UDP datagram and must not be read as one',
    });
  });
});

describe('Truncated and malformed input', () => {
  it('gives every truncation of the captured UDP packet a typed error, never a crash or garbage', () => {
    for (let n = 0; n < UDP_HELLO.length; n++) {
      const cut = UDP_HELLO.slice(0, n);
      expectPacketError(() => P.unwrapUdp(cut), { code: 'ERR_PACKET_TRUNCATED', layer: 'ipv4', fields: { needed: n < 20 ? 20 : 41, got: n } }, {
        call: `unwrapUdp(the first ${n} of 41 bytes)`,
        input: cut,
        heading: 'Trust nothing: truncated and corrupted packets',
        why: n < 20 ? 'fewer bytes than the 20-byte minimum IPv4 header' : 'fewer bytes than Total Length (41) announces',
      });
    }
    const datagram = UDP_HELLO.subarray(20);
    for (let n = 0; n < datagram.length; n++) {
      const cut = datagram.slice(0, n);
      expectPacketError(() => P.decodeUdp(cut, ADA_TO_BRAM), { code: 'ERR_PACKET_TRUNCATED', layer: 'udp', fields: { needed: n < 8 ? 8 : 21, got: n } }, {
        call: `decodeUdp(the first ${n} of 21 bytes of the datagram)`,
        input: cut,
        heading: 'Trust nothing: truncated and corrupted packets',
        why: n < 8 ? 'fewer bytes than the 8-byte UDP header' : 'fewer bytes than the UDP Length field (21) announces',
      });
    }
    // IHL 7: a cut inside the options is short of IHL x 4 = 28 bytes, not of the 20-byte minimum.
    for (let n = 0; n < UDP_IP_OPTIONS.length; n++) {
      const cut = UDP_IP_OPTIONS.slice(0, n);
      const needed = n < 20 ? 20 : n < 28 ? 28 : UDP_IP_OPTIONS.length;
      expectPacketError(() => P.decodeIPv4(cut), { code: 'ERR_PACKET_TRUNCATED', layer: 'ipv4', fields: { needed, got: n } }, {
        call: `decodeIPv4(the first ${n} of ${UDP_IP_OPTIONS.length} bytes of the packet with IHL 7)`,
        input: cut,
        heading: 'Trust nothing: truncated and corrupted packets',
        why: n < 20 ? 'fewer bytes than the 20-byte minimum IPv4 header' : n < 28 ? 'IHL 7 announces a 28-byte header: check that the buffer holds IHL x 4 bytes before you sum or read them' : `fewer bytes than Total Length (${UDP_IP_OPTIONS.length}) announces`,
      });
    }
  });

  it('gives every truncation of the captured TCP packets a typed error: truncated header, or a failed checksum', () => {
    for (const [name, packet, dataOffset] of [['SYN', TCP_SYN, 10], ['data segment', TCP_DATA, 8]] as const) {
      for (let n = 0; n < packet.length; n++) {
        const cut = packet.slice(0, n);
        expectPacketError(() => P.decodeIPv4(cut), { code: 'ERR_PACKET_TRUNCATED', layer: 'ipv4', fields: { needed: n < 20 ? 20 : packet.length, got: n } }, {
          call: `decodeIPv4(the first ${n} of ${packet.length} bytes of the ${name})`,
          input: cut,
          heading: 'Trust nothing: truncated and corrupted packets',
          why: n < 20 ? 'fewer bytes than the 20-byte minimum IPv4 header' : `fewer bytes than Total Length (${packet.length}) announces`,
        });
      }
      const segment = packet.subarray(20);
      for (let n = 0; n < segment.length; n++) {
        const cut = segment.slice(0, n);
        const inHeader = n < dataOffset * 4;
        const fields = inHeader
          ? { needed: n < 20 ? 20 : dataOffset * 4, got: n }
          : { sum: referenceSum(cut, referenceSum(pseudoBytes(ADA, BRAM, 6, n))) };
        expectPacketError(() => P.decodeTcp(cut, ADA_TO_BRAM), { code: inHeader ? 'ERR_PACKET_TRUNCATED' : 'ERR_BAD_CHECKSUM', layer: 'tcp', fields }, {
          call: `decodeTcp(the first ${n} of ${segment.length} bytes of the ${name}'s segment)`,
          input: cut,
          heading: 'Trust nothing: truncated and corrupted packets',
          why: inHeader
            ? `the header needs ${n < 20 ? '20 bytes at least' : `Data Offset ${dataOffset} x 4 = ${dataOffset * 4} bytes`}`
            : 'TCP has no length field; a segment cut inside its payload can only be caught by the checksum (whose pseudo-header carries the length). ChecksumError.sum is the folded sum of pseudo-header + segment that was found instead of 0xffff',
        });
      }
    }
  });

  it('rejects a wrong version and impossible length fields with typed errors', () => {
    type Case = [call: string, fn: () => unknown, input: Uint8Array, code: P.PacketErrorCode, layer: P.Layer, fields: Record<string, unknown>, why: string];
    const cases: Case[] = [];
    const v6 = UDP_HELLO.slice();
    v6[0] = 0x65;
    const version6 = withFreshIpChecksum(v6);
    cases.push(['decodeIPv4 (version 6 in the first nibble)', () => P.decodeIPv4(version6), version6, 'ERR_BAD_VERSION', 'ipv4', { version: 6 }, 'only version 4 has this layout']);
    const ihl4 = UDP_HELLO.slice();
    ihl4[0] = 0x44;
    const shortIhl = withFreshIpChecksum(ihl4);
    cases.push(['decodeIPv4 (IHL 4)', () => P.decodeIPv4(shortIhl), shortIhl, 'ERR_BAD_HEADER_LENGTH', 'ipv4', { field: 'ihl', value: 4 }, 'IHL 4 is 16 bytes, less than the fixed 20-byte part of the header']);
    const ihl0 = UDP_HELLO.slice();
    ihl0[0] = 0x40;
    const zeroIhl = withFreshIpChecksum(ihl0);
    cases.push(['decodeIPv4 (IHL 0)', () => P.decodeIPv4(zeroIhl), zeroIhl, 'ERR_BAD_HEADER_LENGTH', 'ipv4', { field: 'ihl', value: 0 }, 'IHL 0 announces no header at all']);
    const ihl15 = UDP_HELLO.slice();
    ihl15[0] = 0x4f;
    cases.push(['decodeIPv4 (IHL 15 in a 41-byte packet)', () => P.decodeIPv4(ihl15), ihl15, 'ERR_PACKET_TRUNCATED', 'ipv4', { needed: 60, got: 41 }, 'IHL 15 announces a 60-byte header, and only 41 bytes are there: check that before you sum or read them']);
    const tl = UDP_HELLO.slice();
    tl[2] = 0;
    tl[3] = 19;
    const shortTotal = withFreshIpChecksum(tl);
    cases.push(['decodeIPv4 (Total Length 19)', () => P.decodeIPv4(shortTotal), shortTotal, 'ERR_BAD_HEADER_LENGTH', 'ipv4', { field: 'totalLength', value: 19 }, 'a packet cannot be shorter than its own header']);
    const ttl = UDP_HELLO.slice();
    ttl[8] = 63; // one router later, but nobody updated the checksum
    cases.push(['decodeIPv4 (TTL 63, checksum still for TTL 64)', () => P.decodeIPv4(ttl), ttl, 'ERR_BAD_CHECKSUM', 'ipv4', { sum: referenceSum(ttl.subarray(0, 20)) }, 'the header checksum covers the TTL; ChecksumError.sum is the folded sum of the 20 header bytes, 0xfeff instead of 0xffff']);
    const udpLen = UDP_HELLO.slice(20);
    udpLen[5] = 7;
    cases.push(['decodeUdp (Length 7)', () => P.decodeUdp(udpLen, ADA_TO_BRAM), udpLen, 'ERR_BAD_HEADER_LENGTH', 'udp', { field: 'length', value: 7 }, 'the UDP Length counts the 8-byte header, so it is at least 8']);
    const udpData = UDP_HELLO.slice(20);
    udpData[8] = 0x4a; // "Hello" becomes "Jello"
    cases.push(['decodeUdp ("Jello" instead of "Hello")', () => P.decodeUdp(udpData, ADA_TO_BRAM), udpData, 'ERR_BAD_CHECKSUM', 'udp', { sum: referenceSum(udpData, referenceSum(pseudoBytes(ADA, BRAM, 17, 21))) }, 'the UDP checksum covers the data; ChecksumError.sum is the folded sum of pseudo-header + datagram']);
    const tcpOff = TCP_DATA.slice(20);
    tcpOff[12] = 0x40;
    cases.push(['decodeTcp (Data Offset 4)', () => P.decodeTcp(tcpOff, ADA_TO_BRAM), tcpOff, 'ERR_BAD_HEADER_LENGTH', 'tcp', { field: 'dataOffset', value: 4 }, 'Data Offset 4 is 16 bytes, less than the fixed 20-byte part of the header']);
    const tcpLong = TCP_DATA.slice(20, 60);
    tcpLong[12] = 0xf0;
    cases.push(['decodeTcp (Data Offset 15 in a 40-byte segment)', () => P.decodeTcp(tcpLong, ADA_TO_BRAM), tcpLong, 'ERR_PACKET_TRUNCATED', 'tcp', { needed: 60, got: 40 }, 'Data Offset 15 announces a 60-byte header, and only 40 bytes are there']);
    for (const [call, fn, input, code, layer, fields, why] of cases) {
      expectPacketError(fn, { code, layer, fields }, { call, input, heading: 'Trust nothing: truncated and corrupted packets', why });
    }
  });

  it('refuses to encode a value that does not fit its field', () => {
    const { checksum: _c, version: _v, ihl: _i, totalLength: _t, ...ip } = UDP_HELLO_IP;
    const { dataOffset: _d, checksum: _k, ...tcp } = SYN_TCP;
    const udp = { sourcePort: 40601, destinationPort: 7001 };
    // [call, encode, layer, field (as the fields type spells it), value (undefined: not checked)]
    const cases: [string, () => unknown, P.Layer, string, unknown][] = [
      ['encodeIPv4 with dscp 64', () => P.encodeIPv4({ ...ip, dscp: 64 }, none), 'ipv4', 'dscp', 64],
      ['encodeIPv4 with ecn 4', () => P.encodeIPv4({ ...ip, ecn: 4 }, none), 'ipv4', 'ecn', 4],
      ['encodeIPv4 with identification 65536', () => P.encodeIPv4({ ...ip, identification: 65536 }, none), 'ipv4', 'identification', 65536],
      ['encodeIPv4 with fragmentOffset 8192', () => P.encodeIPv4({ ...ip, fragmentOffset: 8192 }, none), 'ipv4', 'fragmentOffset', 8192],
      ['encodeIPv4 with ttl 256', () => P.encodeIPv4({ ...ip, ttl: 256 }, none), 'ipv4', 'ttl', 256],
      ['encodeIPv4 with ttl -1', () => P.encodeIPv4({ ...ip, ttl: -1 }, none), 'ipv4', 'ttl', -1],
      ['encodeIPv4 with ttl NaN', () => P.encodeIPv4({ ...ip, ttl: NaN }, none), 'ipv4', 'ttl', undefined],
      ['encodeIPv4 with protocol 256', () => P.encodeIPv4({ ...ip, protocol: 256 }, none), 'ipv4', 'protocol', 256],
      ['encodeIPv4 with 3 bytes of options', () => P.encodeIPv4({ ...ip, options: new Uint8Array(3) }, none), 'ipv4', 'options', undefined],
      ['encodeIPv4 with 44 bytes of options', () => P.encodeIPv4({ ...ip, options: new Uint8Array(44) }, none), 'ipv4', 'options', undefined],
      ['encodeIPv4 with a 65,516-byte payload (Total Length 65,536)', () => P.encodeIPv4(ip, new Uint8Array(65_516)), 'ipv4', 'totalLength', undefined],
      ['encodeIPv4 with 40 bytes of options and a 65,476-byte payload (Total Length 65,536)', () => P.encodeIPv4({ ...ip, options: new Uint8Array(40) }, new Uint8Array(65_476)), 'ipv4', 'totalLength', undefined],
      ['encodeUdp with sourcePort 65536', () => P.encodeUdp({ ...udp, sourcePort: 65536 }, none, ADA_TO_BRAM), 'udp', 'sourcePort', 65536],
      ['encodeUdp with destinationPort -1', () => P.encodeUdp({ ...udp, destinationPort: -1 }, none, ADA_TO_BRAM), 'udp', 'destinationPort', -1],
      ['encodeUdp with a 65,528-byte payload (Length 65,536)', () => P.encodeUdp(udp, new Uint8Array(65_528), ADA_TO_BRAM), 'udp', 'length', undefined],
      ['encodeTcp with sourcePort 65536', () => P.encodeTcp({ ...tcp, sourcePort: 65536 }, none, ADA_TO_BRAM), 'tcp', 'sourcePort', 65536],
      ['encodeTcp with destinationPort 70000', () => P.encodeTcp({ ...tcp, destinationPort: 70000 }, none, ADA_TO_BRAM), 'tcp', 'destinationPort', 70000],
      ['encodeTcp with sequence 2^32', () => P.encodeTcp({ ...tcp, sequence: 2 ** 32 }, none, ADA_TO_BRAM), 'tcp', 'sequence', 2 ** 32],
      ['encodeTcp with acknowledgment -1', () => P.encodeTcp({ ...tcp, acknowledgment: -1 }, none, ADA_TO_BRAM), 'tcp', 'acknowledgment', -1],
      ['encodeTcp with flags 256', () => P.encodeTcp({ ...tcp, flags: 256 }, none, ADA_TO_BRAM), 'tcp', 'flags', 256],
      ['encodeTcp with window 1.5', () => P.encodeTcp({ ...tcp, window: 1.5 }, none, ADA_TO_BRAM), 'tcp', 'window', 1.5],
      ['encodeTcp with window 65536', () => P.encodeTcp({ ...tcp, window: 65536 }, none, ADA_TO_BRAM), 'tcp', 'window', 65536],
      ['encodeTcp with urgentPointer 65536', () => P.encodeTcp({ ...tcp, urgentPointer: 65536 }, none, ADA_TO_BRAM), 'tcp', 'urgentPointer', 65536],
      ['encodeTcp with 6 bytes of options', () => P.encodeTcp({ ...tcp, options: new Uint8Array(6) }, none, ADA_TO_BRAM), 'tcp', 'options', undefined],
      ['encodeTcp with 44 bytes of options', () => P.encodeTcp({ ...tcp, options: new Uint8Array(44) }, none, ADA_TO_BRAM), 'tcp', 'options', undefined],
      ['encodeTcp with a 65,516-byte payload (65,536 bytes in all)', () => P.encodeTcp({ ...tcp, options: none }, new Uint8Array(65_516), ADA_TO_BRAM), 'tcp', 'length', undefined],
    ];
    for (const [call, fn, layer, field, value] of cases) {
      expectPacketError(fn, { code: 'ERR_FIELD_RANGE', layer, fields: value === undefined ? { field } : { field, value } }, {
        call,
        input: '(see the call)',
        heading: 'Bytes, words and byte order',
        why: 'a value that does not fit its bits would be silently cut (DataView keeps only the low bits) and send a different packet than you meant',
      });
    }
    // Addresses: exactly four decimal numbers 0..255, nothing before or after.
    for (const source of ['198.51.100', '198.51.100.256', '198.51.100.3.1', 'x198.51.100.3', '198.51.100.3x', '198.51.x.3', '198.51.100.-3', '198.51.100.0x3', '198.51.100.07', '']) {
      expectPacketError(() => P.encodeIPv4({ ...ip, source }, none), { code: 'ERR_FIELD_RANGE', layer: 'ipv4' }, {
        call: `encodeIPv4 with source ${JSON.stringify(source)}`,
        input: '(see the call)',
        heading: 'Bytes, words and byte order',
        why: 'that is not a dotted-quad IPv4 address: four decimal numbers 0..255, no leading zeros, nothing else (the given ipv4AddressToBytes checks it for you)',
      });
    }
  });

  it('accepts every field at its largest and smallest value', () => {
    const addresses = { source: '255.255.255.255', destination: '0.0.0.0' };
    const ipMax: P.IPv4Fields = {
      dscp: 63, ecn: 3, identification: 0xffff, dontFragment: true, moreFragments: true, fragmentOffset: 0x1fff,
      ttl: 255, protocol: 255, ...addresses, options: new Uint8Array(40).fill(1),
    };
    const ipMin: P.IPv4Fields = {
      dscp: 0, ecn: 0, identification: 0, dontFragment: false, moreFragments: false, fragmentOffset: 0,
      ttl: 0, protocol: 0, ...addresses, options: none,
    };
    const tcpMax: P.TcpFields = {
      sourcePort: 0xffff, destinationPort: 0xffff, sequence: 0xffffffff, acknowledgment: 0xffffffff, flags: 0xff,
      window: 0xffff, urgentPointer: 0xffff, options: new Uint8Array(40).fill(1),
    };
    const tcpMin: P.TcpFields = { sourcePort: 0, destinationPort: 0, sequence: 0, acknowledgment: 0, flags: 0, window: 0, urgentPointer: 0, options: none };
    const cases: [string, () => unknown][] = [
      ['encodeIPv4(every field at its maximum, 40 bytes of options)', () => P.encodeIPv4(ipMax, none)],
      ['encodeIPv4(every field at its minimum)', () => P.encodeIPv4(ipMin, none)],
      ['encodeIPv4(a payload that makes Total Length exactly 65,535)', () => P.encodeIPv4(ipMin, new Uint8Array(65_515))],
      ['encodeUdp(ports 65535 -> 65535)', () => P.encodeUdp({ sourcePort: 0xffff, destinationPort: 0xffff }, none, addresses)],
      ['encodeUdp(ports 0 -> 0)', () => P.encodeUdp({ sourcePort: 0, destinationPort: 0 }, none, addresses)],
      ['encodeUdp(a payload that makes Length exactly 65,535)', () => P.encodeUdp({ sourcePort: 1, destinationPort: 2 }, new Uint8Array(65_527), addresses)],
      ['encodeTcp(every field at its maximum, 40 bytes of options)', () => P.encodeTcp(tcpMax, none, addresses)],
      ['encodeTcp(every field at its minimum)', () => P.encodeTcp(tcpMin, none, addresses)],
      ['encodeTcp(a payload that makes the segment exactly 65,535 bytes)', () => P.encodeTcp(tcpMin, new Uint8Array(65_515), addresses)],
    ];
    for (const [call, fn] of cases) {
      const o = attempt(fn);
      check(o.ok, () => ({
        did: `${call} ${describeOutcome(o)}`,
        expected: 'an encoded packet: every value fits its field (a 4-bit length field holds up to 15 words, 60 bytes; a 16-bit length up to 65,535)',
        lesson: lesson('Bytes, words and byte order'),
      }));
    }
  });
});
