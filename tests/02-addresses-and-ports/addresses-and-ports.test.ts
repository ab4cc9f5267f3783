/**
 * Chapter 02 · Addresses and ports: IPv4 and IPv6 text and bytes, prefixes and masks, ports and
 * endpoints, connection keys and demultiplexing.
 *
 * Fixed cases for every rule the lesson states; then random comparisons (fast-check, shrunk to the
 * shortest failing address) with Node's own implementations: net.isIPv4, net.isIPv6, the URL parser,
 * net.SocketAddress (libuv's inet_ntop) and net.BlockList. Real loopback connections on 127.0.0.1 and ::1.
 * The machinery is in harness.ts, the random inputs in arbitraries.ts.
 */
import dns from 'node:dns';
import net from 'node:net';
import { describe, it } from 'vitest';
import type { Endpoint, FourTuple } from '@impl/02-addresses-and-ports/exercise.ts';
import {
  DemuxError,
  Demultiplexer,
  classifyPort,
  connectionKey,
  formatAddress,
  formatEndpoint,
  formatIPv4,
  formatIPv6,
  inPrefix,
  ipv4ToBytes,
  parseAddress,
  parseEndpoint,
  parseIPv4,
  parseIPv6,
  parsePrefix,
  prefixMask,
} from '@impl/02-addresses-and-ports/exercise.ts';
import { check, forAllSync, outcomeOf, thrown, within } from '../helpers/index.ts';
import { ipv6Bytes, nearIPv4Text, nearIPv6Text, prefixCase, showPrefixCase, u32 } from './arbitraries.ts';
import {
  addr,
  bytesOf,
  checkRealLoopback,
  ep,
  epText,
  expectAddressError,
  expectValue,
  fullHex,
  inBigBuffer,
  osText,
  rejects,
  reportAll,
  routed,
  same,
  see,
  show,
  tuple,
  tupleText,
  urlBytes,
} from './harness.ts';

/** How many random cases each property check tries. */
const RANDOM_CASES = 300;

describe('IPv4 addresses', () => {
  it('reads 255.255.255.255 as 4294967295, not -1', () => {
    reportAll(
      [
        expectValue('parseIPv4("255.255.255.255")', () => parseIPv4('255.255.255.255'), 4294967295),
        expectValue('parseIPv4("128.0.0.0")', () => parseIPv4('128.0.0.0'), 2147483648),
        expectValue('parseIPv4("203.0.113.255")', () => parseIPv4('203.0.113.255'), 3405804031),
      ],
      'unsigned numbers, 0 to 4294967295 (every address from 128.0.0.0 up has its top bit set). A negative result means a bitwise | or << made it signed: finish with >>> 0.',
      see('JavaScript number traps'),
    );
  });

  it('reads a dotted quad as one unsigned 32-bit number, first octet highest', () => {
    const cases: [string, number][] = [
      ['0.0.0.0', 0],
      ['1.2.3.4', 0x01020304],
      ['127.0.0.1', 2130706433],
      ['192.168.1.2', 3232235778],
      ['10.0.0.255', 167772415],
      ['192.0.2.1', 3221225985],
    ];
    reportAll(
      cases.map(([text, want]) => expectValue(`parseIPv4(${JSON.stringify(text)})`, () => parseIPv4(text), want)),
      'a.b.c.d = a * 2^24 + b * 2^16 + c * 2^8 + d',
      see('Dotted-quad text'),
    );
  });

  it('writes numbers back as dotted quads, as the URL parser does (seeded random)', () => {
    // The WHATWG URL parser reads a bare number as an IPv4 address: a peer to compare with.
    const roundTrip = (v: number) => {
      const want = new URL(`http://${v}/`).hostname;
      return expectValue(`formatIPv4(${v})`, () => formatIPv4(v), want) ?? expectValue(`parseIPv4(${JSON.stringify(want)})`, () => parseIPv4(want), v);
    };
    const expected = 'formatIPv4 prints the four bytes highest first, and parseIPv4 reads them back to the same number';
    reportAll([0, 1, 0x7fffffff, 0x80000000, 0xffffffff].map(roundTrip), expected, see('Dotted-quad text'));
    forAllSync(u32, (v) => reportAll([roundTrip(v)], expected, see('Dotted-quad text')), { numRuns: RANDOM_CASES });
  });

  it('lays out the bytes in network byte order, most significant first', () => {
    reportAll(
      [
        expectValue('ipv4ToBytes(0xc0a80102)', () => ipv4ToBytes(0xc0a80102), Uint8Array.of(192, 168, 1, 2)),
        expectValue('ipv4ToBytes(0x7f000001)', () => ipv4ToBytes(0x7f000001), Uint8Array.of(127, 0, 0, 1)),
        expectValue('ipv4ToBytes(4294967295)', () => ipv4ToBytes(4294967295), Uint8Array.of(255, 255, 255, 255)),
        expectValue('parseAddress("192.0.2.1")', () => parseAddress('192.0.2.1'), { family: 4, bytes: Uint8Array.of(192, 0, 2, 1) }),
      ],
      'big-endian bytes: 192.168.1.2 is c0 a8 01 02 on the wire. DataView writes big-endian unless you pass true for littleEndian.',
      see('Network byte order'),
    );
  });

  it('returns new bytes on every call, so the caller may keep them or change them', () => {
    const problems: (string | undefined)[] = [];
    try {
      const first = ipv4ToBytes(0xc0000201);
      const second = ipv4ToBytes(0xc0000202);
      first.fill(0);
      problems.push(expectValue('ipv4ToBytes(0xc0000202), after the caller zeroed what ipv4ToBytes(0xc0000201) returned', () => second, Uint8Array.of(192, 0, 2, 2)));
      problems.push(expectValue('ipv4ToBytes(0xc0000201) again', () => ipv4ToBytes(0xc0000201), Uint8Array.of(192, 0, 2, 1)));
      const a = parseAddress('198.51.100.7');
      const b = parseAddress('203.0.113.5');
      b.bytes.fill(0xff);
      problems.push(expectValue('parseAddress("198.51.100.7"), after the caller filled the bytes of parseAddress("203.0.113.5") with ff', () => a, { family: 4, bytes: Uint8Array.of(198, 51, 100, 7) }));
      const v6a = parseIPv6('2001:db8::1');
      const v6b = parseIPv6('::1');
      v6b.fill(0xff);
      problems.push(expectValue('parseIPv6("2001:db8::1"), after the caller filled the bytes of parseIPv6("::1") with ff', () => v6a, bytesOf('2001:db8::1')));
      problems.push(expectValue('parseIPv6("::1") again', () => parseIPv6('::1'), bytesOf('::1')));
    } catch (e) {
      problems.push(`calling ipv4ToBytes, parseAddress or parseIPv6 threw ${thrown(e)}`);
    }
    reportAll(problems, 'a new Uint8Array from each call: never one shared scratch buffer that the next call overwrites', see('The exercise'));
  });

  it('rejects out-of-range octets such as 256.1.1.1 with ERR_INVALID_IPV4', () => {
    const bad = ['256.1.1.1', '1.2.3.256', '999.0.0.1', '1.300.2.3', '255.255.255.2555', '1.2.3.1000'];
    reportAll(
      bad.map((text) => rejects('parseIPv4', parseIPv4, text, 'ERR_INVALID_IPV4')),
      'each octet is one byte, 0-255; anything larger is not an IPv4 address (a regex like \\d{1,3} cannot see that)',
      see('Dotted-quad text'),
    );
  });

  it('rejects leading zeros, empty parts and junk with ERR_INVALID_IPV4', () => {
    const bad = [
      '01.2.3.4', '1.2.3.04', '00.0.0.0', '010.0.0.1', // leading zeros (octal to old parsers)
      '', '1..2.3', '.1.2.3', '1.2.3.', '...', // empty parts
      '1.2.3', '1.2.3.4.5', '127.1', '4294967295', // wrong number of parts
      ' 1.2.3.4', '1.2.3.4 ', '1.2.3.4\n', '0x7f.0.0.1', '+1.2.3.4', '1.2.3.-4', 'a.b.c.d', '1.2.3.4/24', '1e2.0.0.1', '١.2.3.4', 'localhost',
    ];
    reportAll(
      bad.map((text) => rejects('parseIPv4', parseIPv4, text, 'ERR_INVALID_IPV4')),
      'exactly four parts of 1-3 ASCII digits, each 0-255, no leading zeros, nothing before, after or between (the error\'s input is the text) of 1-3 ASCII digits, each 0-255, no leading zeros, nothing before, after or between',
      see('Dotted-quad text'),
    );
  });

  it('agrees with net.isIPv4 on random near-addresses (seeded)', () => {
    forAllSync(
      nearIPv4Text,
      (text) => {
        const valid = net.isIPv4(text);
        const call = `parseIPv4(${JSON.stringify(text)})`;
        // Valid text is four plain decimal octets, so the test can compute the number itself.
        const number = () => text.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
        const p = valid
          ? (expectValue(call, () => parseIPv4(text), number()) ?? expectValue(`formatIPv4(${call})`, () => formatIPv4(parseIPv4(text)), text))
          : expectAddressError(call, () => parseIPv4(text), 'ERR_INVALID_IPV4');
        reportAll(
          [p && `${p} (Node's net.isIPv4 says ${valid ? 'valid' : 'invalid'})`],
          'the same verdict as net.isIPv4; valid text parses to its number and prints back unchanged',
          see('Dotted-quad text'),
        );
      },
      { numRuns: RANDOM_CASES, show: (text) => JSON.stringify(text) },
    );
  });

  it('refuses to write numbers that are not unsigned 32-bit integers', () => {
    const bad = [-1, 2 ** 32, 1.5, Number.NaN, Number.POSITIVE_INFINITY];
    reportAll(
      bad.flatMap((v) => [
        expectAddressError(`formatIPv4(${v})`, () => formatIPv4(v), 'ERR_INVALID_IPV4', String(v)),
        expectAddressError(`ipv4ToBytes(${v})`, () => ipv4ToBytes(v), 'ERR_INVALID_IPV4', String(v)),
      ]),
      'AddressError ERR_INVALID_IPV4: a negative number here is a sign bug upstream, not an address',
      see('JavaScript number traps'),
    );
  });
});

describe('IPv6 addresses', () => {
  it('reads full, compressed and IPv4-tailed forms into 16 bytes', () => {
    const cases: [string, string][] = [
      ['::', '::'],
      ['::1', '::1'],
      ['2001:db8::1', '2001:db8::1'],
      ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['fe80::1:2', 'fe80::1:2'],
      ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
      ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
      ['::ffff:192.0.2.1', '::ffff:c000:201'],
      ['64:ff9b::198.51.100.7', '64:ff9b::c633:6407'],
      ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ];
    reportAll(
      cases.map(([text, same]) => expectValue(`parseIPv6(${JSON.stringify(text)})`, () => parseIPv6(text), bytesOf(same))),
      'the 16 bytes, big-endian, with "::" filled by as many zero groups as are missing, and a dotted tail as the last 4 bytes',
      see('Reading IPv6 text'),
    );
  });

  it('compresses the longest run of zero groups, the first one on a tie', () => {
    const cases: [string, string][] = [
      ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'],
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
      ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
      ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
      ['0:0:1:0:0:0:0:1', '0:0:1::1'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['1:0:0:0:0:0:0:0', '1::'],
    ];
    reportAll(
      cases.map(([full, want]) => expectValue(`formatIPv6(bytes of ${full})`, () => formatIPv6(bytesOf(full)), want)),
      'RFC 5952: "::" replaces the longest run of zero groups; between runs of equal length, the first',
      see('The canonical form'),
    );
  });

  it('never compresses a single zero group', () => {
    const cases: [string, string][] = [
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['1:2:3:4:5:6:7:0', '1:2:3:4:5:6:7:0'],
      ['0:1:0:1:0:1:0:1', '0:1:0:1:0:1:0:1'],
    ];
    reportAll(
      cases.map(([full, want]) => expectValue(`formatIPv6(bytes of ${full})`, () => formatIPv6(bytesOf(full)), want)),
      'a lone zero group is written "0"; "::" saves nothing there',
      see('The canonical form'),
    );
  });

  it('writes lowercase hex without leading zeros', () => {
    const cases: [string, string][] = [
      ['ABCD:EF01:0:0:0:0:0:AB', 'abcd:ef01::ab'],
      ['2001:0db8:00a0:0:0:0:0:0', '2001:db8:a0::'],
      ['FE80:0:0:0:0:0:0:000F', 'fe80::f'],
    ];
    reportAll(
      cases.map(([full, want]) => expectValue(`formatIPv6(bytes of ${full})`, () => formatIPv6(bytesOf(full)), want)),
      'RFC 5952: hex digits a-f in lowercase, and no zeros in front of a group',
      see('The canonical form'),
    );
  });

  it('writes an IPv4-mapped address with a dotted tail (::ffff:192.0.2.1)', () => {
    reportAll(
      [
        expectValue('formatIPv6(bytes of ::ffff:c000:201)', () => formatIPv6(bytesOf('::ffff:c000:201')), '::ffff:192.0.2.1'),
        expectValue('formatIPv6(bytes of ::ffff:0:0)', () => formatIPv6(bytesOf('::ffff:0:0')), '::ffff:0.0.0.0'),
        expectValue('formatIPv6(bytes of ::fffe:c000:201)', () => formatIPv6(bytesOf('::fffe:c000:201')), '::fffe:c000:201'),
        expectValue('formatIPv6(bytes of 1::ffff:c000:201)', () => formatIPv6(bytesOf('1::ffff:c000:201')), '1::ffff:c000:201'),
        expectValue('formatIPv6(bytes of ::1:ffff:c000:201)', () => formatIPv6(bytesOf('::1:ffff:c000:201')), '::1:ffff:c000:201'),
        expectValue('formatIPv6(bytes of ::102:304)', () => formatIPv6(bytesOf('::102:304')), '::102:304'),
        expectValue('formatIPv6(bytes of ::ffff:ffff:ffff)', () => formatIPv6(bytesOf('::ffff:ffff:ffff')), '::ffff:255.255.255.255'),
        expectValue('parseIPv6("::ffff:192.0.2.1") then formatIPv6', () => formatIPv6(parseIPv6('::ffff:192.0.2.1')), '::ffff:192.0.2.1'),
      ],
      'only addresses in ::ffff:0:0/96 (IPv4-mapped) keep their last 32 bits as a dotted quad; every other address, ::102:304 included, is all hex',
      see('The canonical form'),
    );
  });

  it('formats bytes that sit at an offset inside a larger buffer, and leaves them unchanged', () => {
    const v6 = inBigBuffer(bytesOf('2001:db8::1'));
    const v4 = inBigBuffer(Uint8Array.of(192, 0, 2, 1));
    const mapped = inBigBuffer(bytesOf('::ffff:c000:201'));
    const before = Uint8Array.from(new Uint8Array(v6.buffer));
    reportAll(
      [
        expectValue('formatIPv6(a 16-byte subarray at offset 7 of a 29-byte buffer)', () => formatIPv6(v6), '2001:db8::1'),
        expectValue('formatIPv6(a subarray holding ::ffff:192.0.2.1)', () => formatIPv6(mapped), '::ffff:192.0.2.1'),
        expectValue('formatAddress({ family: 6, bytes: that subarray })', () => formatAddress({ family: 6, bytes: v6 }), '2001:db8::1'),
        expectValue('formatAddress({ family: 4, bytes: a 4-byte subarray at offset 7 })', () => formatAddress({ family: 4, bytes: v4 }), '192.0.2.1'),
        expectValue('the whole 29-byte buffer around the subarray, after formatting', () => new Uint8Array(v6.buffer), before),
      ],
      'the address in the window, not the bytes around it: build the view as new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)',
      see('Network byte order'),
    );
  });

  it('parseAddress picks the family by the colon, and formatAddress checks the byte count', () => {
    reportAll(
      [
        expectValue('parseAddress("::1")', () => parseAddress('::1'), { family: 6, bytes: bytesOf('::1') }),
        expectValue('parseAddress("::ffff:192.0.2.1")', () => parseAddress('::ffff:192.0.2.1'), { family: 6, bytes: bytesOf('::ffff:c000:201') }),
        expectValue('parseAddress("2001:DB8::A")', () => parseAddress('2001:DB8::A'), { family: 6, bytes: bytesOf('2001:db8::a') }),
        expectValue('parseAddress("0.0.0.0")', () => parseAddress('0.0.0.0'), { family: 4, bytes: Uint8Array.of(0, 0, 0, 0) }),
        rejects('parseAddress', parseAddress, 'localhost', 'ERR_INVALID_IPV4'),
        rejects('parseAddress', parseAddress, '', 'ERR_INVALID_IPV4'),
        rejects('parseAddress', parseAddress, '256.0.0.1', 'ERR_INVALID_IPV4'),
        rejects('parseAddress', parseAddress, '1::2::3', 'ERR_INVALID_IPV6'),
        rejects('parseAddress', parseAddress, '[::1]', 'ERR_INVALID_IPV6'),
        rejects('parseAddress', parseAddress, '::ffff:256.0.0.1', 'ERR_INVALID_IPV6'),
        expectValue('formatAddress(parseAddress("0:0:0:0:0:0:0:1"))', () => formatAddress(parseAddress('0:0:0:0:0:0:0:1')), '::1'),
        expectAddressError('formatAddress({ family: 4, bytes: 16 bytes })', () => formatAddress({ family: 4, bytes: bytesOf('2001:db8::1') }), 'ERR_INVALID_IPV4'),
        expectAddressError('formatAddress({ family: 4, bytes: 3 bytes })', () => formatAddress({ family: 4, bytes: Uint8Array.of(192, 0, 2) }), 'ERR_INVALID_IPV4'),
        expectAddressError('formatAddress({ family: 6, bytes: 4 bytes })', () => formatAddress({ family: 6, bytes: Uint8Array.of(192, 0, 2, 1) }), 'ERR_INVALID_IPV6'),
      ],
      'text with a ":" is IPv6, anything else is read as IPv4 (so "localhost" and "" are ERR_INVALID_IPV4); formatAddress refuses bytes of the wrong length for the family',
      see('The exercise'),
    );
  });

  it('formats random addresses exactly as the OS does (net.SocketAddress, seeded)', () => {
    forAllSync(
      ipv6Bytes,
      (bytes) => {
        const want = osText({ family: 6, bytes });
        const p =
          expectValue(`formatIPv6(bytes of ${fullHex(bytes)})`, () => formatIPv6(bytes), want) ??
          expectValue(`parseIPv6(${JSON.stringify(want)})`, () => parseIPv6(want), bytes) ??
          expectValue(`parseIPv6(${JSON.stringify(fullHex(bytes).toUpperCase())})`, () => parseIPv6(fullHex(bytes).toUpperCase()), bytes);
        reportAll([p], 'the same text as libuv\'s inet_ntop (Node\'s net.SocketAddress), and parsing gives the bytes back', see('The canonical form'));
      },
      { numRuns: RANDOM_CASES, show: (bytes) => `${osText({ family: 6, bytes })} (${fullHex(bytes)})` },
    );
  });

  it('agrees with net.isIPv6 on random near-addresses (seeded)', () => {
    forAllSync(
      nearIPv6Text,
      (text) => {
        const valid = net.isIPv6(text);
        const call = `parseIPv6(${JSON.stringify(text)})`;
        let p: string | undefined;
        if (valid) {
          try {
            const bytes = parseIPv6(text);
            // The URL parser's reading of the same text, where it takes it.
            const want = urlBytes(text);
            p =
              (want && !same(bytes, want) ? `${call} returned ${show(bytes)}, expected ${show(want)} (as the URL parser reads it)` : undefined) ??
              expectValue(`parseIPv6(formatIPv6(${call}))`, () => parseIPv6(formatIPv6(bytes)), bytes);
          } catch (e) {
            p = `${call} threw ${thrown(e)}`;
          }
        } else {
          p = expectAddressError(call, () => parseIPv6(text), 'ERR_INVALID_IPV6');
        }
        reportAll(
          [p && `${p} (Node's net.isIPv6 says ${valid ? 'valid' : 'invalid'})`],
          'the same verdict as net.isIPv6; valid text gives the bytes the URL parser reads, and survives a format-and-parse round trip',
          see('Reading IPv6 text'),
        );
      },
      { numRuns: RANDOM_CASES, show: (text) => JSON.stringify(text) },
    );
  });

  it('rejects malformed text with ERR_INVALID_IPV6', () => {
    const bad = [
      '', ':', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::1', ':1::', '1::2:', '1:2:3:4:5:6:7:8::',
      '::1.2.3', '::256.1.1.1', '::01.2.3.4', '1.2.3.4::', '::1.2.3.4:5', '1:2:3:4:5:6:7:1.2.3.4', 'fe80::1%eth0', '[::1]', ' ::1', '::1 ',
      '1:2:3:4:5:6:7:8::::', '1:2:3:4:5:6:7:8:', '::ffff:1.2.3.4.5', '::ffff:1.2.3', '2001:db8::/32', '02001:db8::1', '::-1', '::+1', '::0x1',
      '1:2:3:4::5:6:7:8', '::1:2:3:4:5:6:1.2.3.4', '::G', '::@1', // "::" with 8 groups around it (a dotted quad counts as two); not hex
    ];
    const problems = bad.map((text) => rejects('parseIPv6', parseIPv6, text, 'ERR_INVALID_IPV6'));
    problems.push(expectAddressError('formatIPv6(new Uint8Array(15))', () => formatIPv6(new Uint8Array(15)), 'ERR_INVALID_IPV6'));
    problems.push(expectAddressError('formatIPv6(new Uint8Array(17))', () => formatIPv6(new Uint8Array(17)), 'ERR_INVALID_IPV6'));
    problems.push(expectAddressError('formatIPv6(new Uint8Array(4))', () => formatIPv6(new Uint8Array(4)), 'ERR_INVALID_IPV6'));
    reportAll(
      problems,
      'AddressError ERR_INVALID_IPV6 for each: at most one "::" (standing for at least one zero group), 1-4 hex digits per group, 8 groups in all, a dotted quad only at the end',
      see('Reading IPv6 text'),
    );
  });
});

describe('Prefixes and masks', () => {
  it('builds the /0 and /32 masks correctly (the << 32 trap)', () => {
    reportAll(
      [
        expectValue('prefixMask(0)', () => prefixMask(0), 0),
        expectValue('prefixMask(32)', () => prefixMask(32), 4294967295),
        expectValue('inPrefix(0.0.0.0/0, 203.0.113.9)', () => inPrefix(parsePrefix('0.0.0.0/0'), addr('203.0.113.9')), true),
        expectValue('inPrefix(203.0.113.9/32, 203.0.113.9)', () => inPrefix(parsePrefix('203.0.113.9/32'), addr('203.0.113.9')), true),
        expectValue('inPrefix(203.0.113.9/32, 203.0.113.8)', () => inPrefix(parsePrefix('203.0.113.9/32'), addr('203.0.113.8')), false),
        expectValue('inPrefix(::/0, 2001:db8::1)', () => inPrefix(parsePrefix('::/0'), addr('2001:db8::1')), true),
        expectValue('inPrefix(2001:db8::/64, 2001:db8::ffff:1)', () => inPrefix(parsePrefix('2001:db8::/64'), addr('2001:db8::ffff:1')), true),
        expectValue('inPrefix(::1/128, ::2)', () => inPrefix(parsePrefix('::1/128'), addr('::2')), false),
      ],
      'a /0 mask is all zeros (every address matches), a /32 mask all ones. JS takes shift counts mod 32, so 0xffffffff << 32 is 0xffffffff, not 0.',
      see('JavaScript number traps'),
    );
  });

  it('builds every mask from /0 to /32 as an unsigned number', () => {
    const problems = [];
    for (let bits = 0; bits <= 32; bits++) {
      const want = bits === 0 ? 0 : 2 ** 32 - 2 ** (32 - bits); // plain arithmetic: no bitwise traps
      problems.push(expectValue(`prefixMask(${bits})`, () => prefixMask(bits), want));
    }
    problems.push(expectAddressError('prefixMask(33)', () => prefixMask(33), 'ERR_INVALID_PREFIX'));
    for (const bits of [-1, 1.5, Number.NaN, 128]) {
      problems.push(expectAddressError(`prefixMask(${bits})`, () => prefixMask(bits), 'ERR_INVALID_PREFIX', String(bits)));
    }
    reportAll(problems, '`bits` ones followed by zeros, read as unsigned: /24 is 4294967040 (0xffffff00), never -256', see('Prefixes and masks'));
  });

  it('finds addresses inside and outside IPv4 and IPv6 prefixes', () => {
    const cases: [string, string, boolean][] = [
      ['10.0.0.0/8', '10.255.255.255', true],
      ['10.0.0.0/8', '11.0.0.0', false],
      ['10.0.0.0/8', '9.255.255.255', false],
      ['192.168.0.0/23', '192.168.1.5', true],
      ['192.168.0.0/23', '192.168.2.0', false],
      ['172.16.0.0/12', '172.31.255.255', true],
      ['172.16.0.0/12', '172.32.0.0', false],
      ['10.1.2.3/8', '10.200.0.1', true], // host bits in the prefix do not count
      ['2001:db8::/32', '2001:db8:ffff::1', true],
      ['2001:db8::/32', '2001:db9::', false],
      ['fe80::/10', 'febf::1', true],
      ['fe80::/10', 'fec0::', false],
      ['127.0.0.0/8', '::1', false], // different families never match
      ['2001:db8::/32', '32.1.13.184', false], // the same first 4 bytes, but IPv4
      ['::ffff:0:0/96', '192.0.2.1', false], // IPv4-mapped is a conversion you make, not a match
      ['::ffff:0:0/96', '::ffff:c000:201', true],
      // Word edges: /33 takes one bit of the second 32-bit word, /64 ends at the third, /97 reaches into the fourth.
      ['2001:db8:8000::/33', '2001:db8:ffff::', true],
      ['2001:db8:8000::/33', '2001:db8:7fff:ffff::', false],
      ['2001:db8:0:1::/64', '2001:db8:0:1:ffff:ffff:ffff:ffff', true],
      ['2001:db8:0:1::/64', '2001:db8:0:2::1', false],
      ['2001:db8::/96', '2001:db8::ffff:ffff', true],
      ['2001:db8::/96', '2001:db8::1:0:0', false],
      ['2001:db8::8000:0/97', '2001:db8::ffff:ffff', true],
      ['2001:db8::8000:0/97', '2001:db8::7fff:ffff', false],
      ['2001:db8::/127', '2001:db8::1', true],
      ['2001:db8::/127', '2001:db8::2', false],
      ['::/128', '::', true],
      ['::/128', '::1', false],
      ['10.0.0.0/31', '10.0.0.1', true],
      ['10.0.0.0/31', '10.0.0.2', false],
    ];
    reportAll(
      cases.map(([prefix, a, want]) => expectValue(`inPrefix(parsePrefix(${JSON.stringify(prefix)}), ${a})`, () => inPrefix(parsePrefix(prefix), addr(a)), want)),
      'inside exactly when the families match and the first `length` bits are equal',
      see('Prefixes and masks'),
    );
  });

  it('agrees with net.BlockList on random addresses and prefixes (seeded)', () => {
    forAllSync(
      prefixCase,
      ({ family, network, length, address }) => {
        const type = family === 4 ? 'ipv4' : 'ipv6';
        const netText = osText({ family, bytes: network });
        const aText = osText(address);
        const list = new net.BlockList();
        list.addSubnet(netText, length, type);
        const want = list.check(aText, type);
        const p = expectValue(`inPrefix(parsePrefix("${netText}/${length}"), ${aText})`, () => inPrefix(parsePrefix(`${netText}/${length}`), { family, bytes: Uint8Array.from(address.bytes) }), want);
        reportAll([p], 'the same answer as Node\'s net.BlockList with addSubnet(prefix, length)', see('Prefixes and masks'));
      },
      { numRuns: RANDOM_CASES, show: showPrefixCase },
    );
  });

  it('reads a prefix into its address and length, for either family', () => {
    // Host bits may be kept as written or cleared: the lesson allows both, so either address is accepted.
    const cases: [string, 4 | 6, number, string[]][] = [
      ['10.0.0.0/8', 4, 8, ['10.0.0.0']],
      ['10.1.2.3/8', 4, 8, ['10.1.2.3', '10.0.0.0']],
      ['0.0.0.0/0', 4, 0, ['0.0.0.0']],
      ['203.0.113.9/32', 4, 32, ['203.0.113.9']],
      ['2001:DB8::/32', 6, 32, ['2001:db8::']],
      ['::/33', 6, 33, ['::']], // 33 is too long for IPv4, fine for IPv6
      ['::1/128', 6, 128, ['::1']],
      ['::ffff:10.0.0.0/104', 6, 104, ['::ffff:a00:0']],
    ];
    const problems = cases.map(([text, family, length, addresses]) => {
      const call = `parsePrefix(${JSON.stringify(text)})`;
      try {
        const got = parsePrefix(text);
        const ok =
          got.length === length && got.address.family === family && addresses.some((a) => same(got.address.bytes, bytesOf(a)));
        return ok ? undefined : `${call} returned ${show(got)}, expected { address: ${addresses.join(' or ')} (family ${family}), length: ${length} }`;
      } catch (e) {
        return `${call} threw ${thrown(e)}`;
      }
    });
    reportAll(problems, 'the address parsed as usual and the length as a number; the longest length depends on the family (32 or 128)', see('Prefixes and masks'));
  });

  it('passes a bad address inside a prefix through with the address\'s own code', () => {
    const cases: [string, string, string][] = [
      ['256.0.0.0/8', 'ERR_INVALID_IPV4', '256.0.0.0'],
      ['10.0.0/8', 'ERR_INVALID_IPV4', '10.0.0'],
      ['localhost/8', 'ERR_INVALID_IPV4', 'localhost'],
      ['/8', 'ERR_INVALID_IPV4', ''],
      ['1::2::3/64', 'ERR_INVALID_IPV6', '1::2::3'],
      ['fe80::1%eth0/64', 'ERR_INVALID_IPV6', 'fe80::1%eth0'],
    ];
    reportAll(
      cases.map(([text, code, address]) => expectAddressError(`parsePrefix(${JSON.stringify(text)})`, () => parsePrefix(text), code, [address, text])),
      'the address before the "/" fails with its own code: ERR_INVALID_IPV4 (no ":") or ERR_INVALID_IPV6, the empty address included',
      see('The exercise'),
    );
  });

  it('matches addresses whose bytes sit at an offset inside a larger buffer', () => {
    const inside = { family: 6 as const, bytes: inBigBuffer(bytesOf('2001:db8::1')) };
    const outside = { family: 6 as const, bytes: inBigBuffer(bytesOf('2001:db9::1')) };
    const v4 = { family: 4 as const, bytes: inBigBuffer(Uint8Array.of(10, 9, 8, 7)) };
    const netAt = (text: string, length: number) => ({ address: { family: (text.includes(':') ? 6 : 4) as 4 | 6, bytes: inBigBuffer(bytesOf(text)) }, length });
    reportAll(
      [
        expectValue('inPrefix(2001:db8::/32, 2001:db8::1 in a subarray)', () => inPrefix(parsePrefix('2001:db8::/32'), inside), true),
        expectValue('inPrefix(2001:db8::/32, 2001:db9::1 in a subarray)', () => inPrefix(parsePrefix('2001:db8::/32'), outside), false),
        expectValue('inPrefix(10.0.0.0/8 in a subarray, 10.9.8.7 in a subarray)', () => inPrefix(netAt('10.0.0.0', 8), v4), true),
        expectValue('inPrefix(11.0.0.0/8 in a subarray, 10.9.8.7 in a subarray)', () => inPrefix(netAt('11.0.0.0', 8), v4), false),
        expectValue('inPrefix(2001:db8::/127 in a subarray, 2001:db8::1 in a subarray)', () => inPrefix(netAt('2001:db8::', 127), inside), true),
      ],
      'the answer for the bytes in the window: a DataView over the whole buffer reads the wrong bytes',
      see('Network byte order'),
    );
  });

  it('rejects prefix lengths that are missing, too long or malformed with ERR_INVALID_PREFIX', () => {
    const bad = [
      '10.0.0.0', '10.0.0.0/', '10.0.0.0/33', '::/129', '10.0.0.0/08', '10.0.0.0/-1',
      '10.0.0.0/+8', '10.0.0.0/8/8', '10.0.0.0/ 8', '10.0.0.0/8 ', '10.0.0.0/1e1', '::1/0x10',
    ];
    reportAll(
      bad.map((text) => rejects('parsePrefix', parsePrefix, text, 'ERR_INVALID_PREFIX')),
      'AddressError ERR_INVALID_PREFIX: "/" then a plain decimal length, 0-32 for IPv4 and 0-128 for IPv6',
      see('Prefixes and masks'),
    );
  });
});

describe('Ports and endpoints', () => {
  it('sorts ports into the RFC 6335 ranges: well-known, registered, dynamic', () => {
    const cases: [number, string][] = [
      [0, 'well-known'], [22, 'well-known'], [80, 'well-known'], [443, 'well-known'], [1023, 'well-known'],
      [1024, 'registered'], [3000, 'registered'], [8080, 'registered'], [49151, 'registered'],
      [49152, 'dynamic'], [60999, 'dynamic'], [65535, 'dynamic'],
    ];
    reportAll(
      cases.map(([port, want]) => expectValue(`classifyPort(${port})`, () => classifyPort(port), want)),
      '0-1023 well-known (system), 1024-49151 registered (user), 49152-65535 dynamic (ephemeral)',
      see('Ports'),
    );
  });

  it('rejects ports that are not whole numbers from 0 to 65535 with ERR_INVALID_PORT', () => {
    const problems = [-1, 65536, 1.5, Number.NaN, Number.POSITIVE_INFINITY].map((p) =>
      expectAddressError(`classifyPort(${p})`, () => classifyPort(p), 'ERR_INVALID_PORT', String(p)),
    );
    const badEndpoints = [
      '127.0.0.1:65536', '127.0.0.1:-1', '127.0.0.1:080', '127.0.0.1:', '127.0.0.1:8o',
      '127.0.0.1: 80', '127.0.0.1:+80', '127.0.0.1:0x50', '[::1]:99999', '[::1]:', '[::1]:080', '[::1]:80 ',
    ];
    for (const text of badEndpoints) {
      problems.push(rejects('parseEndpoint', parseEndpoint, text, 'ERR_INVALID_PORT'));
    }
    for (const port of [70000, 65536, -1, 1.5, Number.NaN]) {
      problems.push(expectAddressError(`formatEndpoint({ 127.0.0.1, port ${port} })`, () => formatEndpoint(ep('127.0.0.1', port)), 'ERR_INVALID_PORT'));
      problems.push(expectAddressError(`formatEndpoint({ ::1, port ${port} })`, () => formatEndpoint(ep('::1', port)), 'ERR_INVALID_PORT'));
    }
    reportAll(problems, 'AddressError ERR_INVALID_PORT: a port is 16 bits, written in plain decimal without leading zeros', see('Ports'));
  });

  it('reads and writes IPv4 endpoints as host:port', () => {
    reportAll(
      [
        expectValue('parseEndpoint("127.0.0.1:8080")', () => parseEndpoint('127.0.0.1:8080'), ep('127.0.0.1', 8080)),
        expectValue('parseEndpoint("0.0.0.0:0")', () => parseEndpoint('0.0.0.0:0'), ep('0.0.0.0', 0)),
        expectValue('formatEndpoint(192.0.2.1 port 443)', () => formatEndpoint(ep('192.0.2.1', 443)), '192.0.2.1:443'),
        expectValue('parseEndpoint("255.255.255.255:65535")', () => parseEndpoint('255.255.255.255:65535'), ep('255.255.255.255', 65535)),
        expectValue('formatEndpoint(0.0.0.0 port 0)', () => formatEndpoint(ep('0.0.0.0', 0)), '0.0.0.0:0'),
        expectValue('formatEndpoint(255.255.255.255 port 65535)', () => formatEndpoint(ep('255.255.255.255', 65535)), '255.255.255.255:65535'),
        expectValue('formatEndpoint(198.51.100.7 port 7001, its bytes a subarray at offset 7)', () => formatEndpoint({ address: { family: 4, bytes: inBigBuffer(Uint8Array.of(198, 51, 100, 7)) }, port: 7001 }), '198.51.100.7:7001'),
        expectAddressError('parseEndpoint("127.0.0.1")', () => parseEndpoint('127.0.0.1'), 'ERR_INVALID_ENDPOINT'),
        expectAddressError('parseEndpoint("127.0.0.1:80:80")', () => parseEndpoint('127.0.0.1:80:80'), 'ERR_INVALID_ENDPOINT'),
        expectAddressError('parseEndpoint("localhost:80")', () => parseEndpoint('localhost:80'), 'ERR_INVALID_IPV4', ['localhost', 'localhost:80']),
        expectAddressError('parseEndpoint("256.0.0.1:80")', () => parseEndpoint('256.0.0.1:80'), 'ERR_INVALID_IPV4', ['256.0.0.1', '256.0.0.1:80']),
        expectAddressError('parseEndpoint(":80")', () => parseEndpoint(':80'), 'ERR_INVALID_IPV4', ['', ':80']),
      ],
      'address, ":", port; a missing port or extra ":" is ERR_INVALID_ENDPOINT, a name like localhost is not an address (ERR_INVALID_IPV4)',
      see('Endpoints'),
    );
  });

  it('needs brackets around IPv6 addresses in endpoints: [::1]:443', () => {
    reportAll(
      [
        expectValue('parseEndpoint("[::1]:443")', () => parseEndpoint('[::1]:443'), ep('::1', 443)),
        expectValue('parseEndpoint("[2001:DB8:0::1]:8080")', () => parseEndpoint('[2001:DB8:0::1]:8080'), ep('2001:db8::1', 8080)),
        expectValue('formatEndpoint(::1 port 443)', () => formatEndpoint(ep('::1', 443)), '[::1]:443'),
        expectValue('formatEndpoint(2001:db8:0:0:0:0:0:1 port 80)', () => formatEndpoint(ep('2001:db8:0:0:0:0:0:1', 80)), '[2001:db8::1]:80'),
        expectValue('parseEndpoint("[::ffff:192.0.2.1]:80")', () => parseEndpoint('[::ffff:192.0.2.1]:80'), ep('::ffff:c000:201', 80)),
        expectValue('formatEndpoint(::ffff:c000:201 port 80)', () => formatEndpoint(ep('::ffff:c000:201', 80)), '[::ffff:192.0.2.1]:80'),
        expectValue('parseEndpoint("[::]:0")', () => parseEndpoint('[::]:0'), ep('::', 0)),
        expectValue('formatEndpoint(:: port 65535)', () => formatEndpoint(ep('::', 65535)), '[::]:65535'),
        expectValue('formatEndpoint(2001:db8::1 port 443, its bytes a subarray at offset 7)', () => formatEndpoint({ address: { family: 6, bytes: inBigBuffer(bytesOf('2001:db8::1')) }, port: 443 }), '[2001:db8::1]:443'),
        rejects('parseEndpoint', parseEndpoint, '::1:443', 'ERR_INVALID_ENDPOINT'),
        rejects('parseEndpoint', parseEndpoint, '2001:db8::1:80', 'ERR_INVALID_ENDPOINT'),
        rejects('parseEndpoint', parseEndpoint, '::1', 'ERR_INVALID_ENDPOINT'),
        rejects('parseEndpoint', parseEndpoint, '[::1]', 'ERR_INVALID_ENDPOINT'),
        rejects('parseEndpoint', parseEndpoint, '[::1]443', 'ERR_INVALID_ENDPOINT'),
        rejects('parseEndpoint', parseEndpoint, '[::1]x:443', 'ERR_INVALID_ENDPOINT'),
        rejects('parseEndpoint', parseEndpoint, '[::1:443', 'ERR_INVALID_ENDPOINT'),
        // An unclosed "[" is a bad shape, even when what follows would not be an address either.
        rejects('parseEndpoint', parseEndpoint, '[1::2::3:80', 'ERR_INVALID_ENDPOINT'),
        rejects('parseEndpoint', parseEndpoint, '[zz:80', 'ERR_INVALID_ENDPOINT'),
        // Brackets around something that is not IPv6: a bad shape, or a bad IPv6 address. The lesson allows either code.
        ...['[127.0.0.1]:80', '[]:80', '[localhost]:80'].map((text) =>
          expectAddressError(`parseEndpoint(${JSON.stringify(text)})`, () => parseEndpoint(text), ['ERR_INVALID_ENDPOINT', 'ERR_INVALID_IPV6']),
        ),
        // A bad IPv6 address in brackets keeps its own code.
        expectAddressError('parseEndpoint("[1::2::3]:80")', () => parseEndpoint('[1::2::3]:80'), 'ERR_INVALID_IPV6', ['1::2::3', '[1::2::3]:80']),
        expectAddressError('parseEndpoint("[fe80::1%eth0]:80")', () => parseEndpoint('[fe80::1%eth0]:80'), 'ERR_INVALID_IPV6', ['fe80::1%eth0', '[fe80::1%eth0]:80']),
      ],
      '"[v6]:port" both ways. Without brackets "::1:443" could be ::1 port 443 or the address ::1:443, so it is refused (ERR_INVALID_ENDPOINT), as is a missing "]" or ":port"; ' +
        'brackets are for IPv6 only ([127.0.0.1]:80 is ERR_INVALID_ENDPOINT or ERR_INVALID_IPV6), and a bad IPv6 address inside them is ERR_INVALID_IPV6',
      see('Endpoints'),
    );
  });

  it('parses every address localhost resolves to (dns.lookup), and knows it is loopback', async (ctx) => {
    let found: dns.LookupAddress[];
    try {
      found = await within(dns.promises.lookup('localhost', { all: true }), 2_000, 'dns.lookup("localhost")');
    } catch (err) {
      // The machine's resolver, not the learner's code: skip loudly, with the reason.
      const reason = `this machine could not resolve "localhost" (${(err as Error).message}); the test was skipped, not passed`;
      console.warn(`[workbook] ${reason}`);
      return ctx.skip(reason);
    }
    const loopback = { 4: new net.BlockList(), 6: new net.BlockList() };
    loopback[4].addSubnet('127.0.0.0', 8, 'ipv4');
    loopback[6].addAddress('::1', 'ipv6');
    const problems: (string | undefined)[] = [];
    for (const { address, family } of found) {
      const parsed = expectValue(`parseAddress(${JSON.stringify(address)}).family`, () => parseAddress(address).family, family);
      problems.push(parsed ?? expectValue(`formatAddress(parseAddress(${JSON.stringify(address)}))`, () => formatAddress(parseAddress(address)), address));
      if (parsed) continue;
      const want = loopback[family as 4 | 6].check(address, family === 4 ? 'ipv4' : 'ipv6');
      problems.push(
        expectValue(
          `inPrefix(127.0.0.0/8 or ::1/128, ${address})`,
          () => inPrefix(parsePrefix('127.0.0.0/8'), parseAddress(address)) || inPrefix(parsePrefix('::1/128'), parseAddress(address)),
          want,
        ),
      );
    }
    reportAll(
      problems,
      'each address parses with the family the resolver gave, prints back unchanged, and is loopback exactly when ' +
        `Node's BlockList says so (this machine gave: ${found.map((f) => f.address).join(', ')})`,
      see('Where localhost points'),
    );
  });
});

describe('Connections and demultiplexing', () => {
  const server = ep('198.51.100.10', 443);

  it('gives two connections to the same server port distinct keys', () => {
    const pairs: [FourTuple, FourTuple][] = [
      [tuple(server, ep('203.0.113.5', 50000)), tuple(server, ep('203.0.113.5', 50001))], // same client host, two ephemeral ports
      [tuple(server, ep('203.0.113.5', 50000)), tuple(server, ep('192.0.2.7', 50000))], // two hosts, same ephemeral port
      [tuple(ep('198.51.100.10', 443), ep('203.0.113.5', 50000)), tuple(ep('198.51.100.11', 443), ep('203.0.113.5', 50000))], // two local addresses
      [tuple(ep('2001:db8::10', 443), ep('2001:db8::1:5', 50000)), tuple(ep('2001:db8::10', 443), ep('2001:db8::1', 50000))],
      [tuple(server, ep('203.0.113.5', 50000)), tuple(ep('198.51.100.10', 8443), ep('203.0.113.5', 50000))], // two local ports
      [tuple(ep('::1', 8080), ep('::1', 50000)), tuple(ep('::1', 8080), ep('::1', 50001))], // IPv6 loopback, two ephemeral ports
      // Glued together without separators, these two would both read "10.0.0.111" + ...
      [tuple(ep('10.0.0.1', 11), ep('192.0.2.7', 50000)), tuple(ep('10.0.0.11', 1), ep('192.0.2.7', 50000))],
      [tuple(ep('192.0.2.7', 80), ep('10.0.0.1', 11)), tuple(ep('192.0.2.7', 80), ep('10.0.0.11', 1))],
    ];
    const problems = pairs.map(([a, b]) => {
      try {
        const ka = connectionKey(a);
        const kb = connectionKey(b);
        return ka === kb ? `connectionKey gave both (${tupleText(a)}) and (${tupleText(b)}) the same key ${show(ka)}` : undefined;
      } catch (e) {
        return `connectionKey(${tupleText(a)}) threw ${thrown(e)}`;
      }
    });
    reportAll(problems, 'different keys: a connection is named by all four parts, so the remote port alone can tell two connections apart', see('The 4-tuple'));
  });

  it('gives one key to one 4-tuple, however its addresses are spelled', () => {
    const same: [FourTuple, FourTuple][] = [
      [tuple(ep('2001:db8::10', 443), ep('2001:db8::1', 50000)), tuple(ep('2001:0db8:0:0:0:0:0:10', 443), ep('2001:db8:0::1', 50000))],
      [tuple(ep('::1', 80), ep('::1', 51000)), tuple(ep('0:0:0:0:0:0:0:1', 80), ep('::0:1', 51000))],
      // The same addresses, once in their own buffers and once as windows inside larger ones.
      [
        tuple(ep('198.51.100.10', 443), ep('2001:db8::1', 50000)),
        tuple(
          { address: { family: 4, bytes: inBigBuffer(bytesOf('198.51.100.10')) }, port: 443 },
          { address: { family: 6, bytes: inBigBuffer(bytesOf('2001:db8::1')) }, port: 50000 },
        ),
      ],
    ];
    const problems = same.map(([a, b]) => {
      try {
        const ka = connectionKey(a);
        const kb = connectionKey(b);
        return ka !== kb ? `connectionKey gave ${show(ka)} and ${show(kb)} for the same 4-tuple (${tupleText(a)})` : undefined;
      } catch (e) {
        return `connectionKey(${tupleText(a)}) threw ${thrown(e)}`;
      }
    });
    reportAll(problems, 'one key per connection: build it from canonical text (or the bytes), never from how the address was typed', see('The 4-tuple'));
  });

  it('keeps direction: the client side and the server side of a loopback connection have different keys', () => {
    const client = tuple(ep('127.0.0.1', 51000), ep('127.0.0.1', 8080));
    const serverSide = tuple(ep('127.0.0.1', 8080), ep('127.0.0.1', 51000));
    let keys: string[] = [];
    let got: string;
    try {
      keys = [connectionKey(client), connectionKey(serverSide)];
      got = `returned ${show(keys[0])} and ${show(keys[1])}`;
    } catch (e) {
      got = `threw ${thrown(e)}`;
    }
    check(keys.length === 2 && keys[0] !== keys[1], {
      did: `connectionKey for the client's socket (${tupleText(client)}) and the server's socket (${tupleText(serverSide)}): ${got}`,
      expected: 'two different keys: on one machine both ends of a loopback connection exist, and they are different sockets',
      lesson: see('The 4-tuple'),
    });
  });

  it('keys real loopback connections apart and routes each client to its own server-side socket', async () => {
    await checkRealLoopback('127.0.0.1');
  });

  it('does the same for real IPv6 loopback connections on ::1', async (ctx) => {
    const probe = net.createServer();
    try {
      await within(
        new Promise<void>((resolve, reject) => {
          probe.once('error', reject);
          probe.listen(0, '::1', () => resolve());
        }),
        2_000,
        'binding a test server to ::1',
      );
    } catch (err) {
      // The machine has no IPv6 loopback: not the learner's code. Skip loudly, with the reason.
      const reason = `this machine cannot listen on ::1 (${(err as Error).message}); the test was skipped, not passed`;
      console.warn(`[workbook] ${reason}`);
      return ctx.skip(reason);
    } finally {
      probe.close();
    }
    await checkRealLoopback('::1');
  });

  it('delivers each segment to the connection whose 4-tuple matches', () => {
    const demux = new Demultiplexer<string>();
    const clients = [ep('203.0.113.5', 50000), ep('203.0.113.5', 50001), ep('192.0.2.7', 50000), ep('2001:db8::7', 50000)];
    const ours = (c: Endpoint) => (c.address.family === 6 ? ep('2001:db8::10', 443) : server);
    const problems: (string | undefined)[] = [];
    try {
      demux.addListener(server, 'listener');
      clients.forEach((c) => demux.addConnection(tuple(ours(c), c), `conn ${epText(c)}`));
    } catch (e) {
      problems.push(`registering a listener on ${epText(server)} and connections from ${clients.map(epText).join(', ')} threw ${thrown(e)}`);
    }
    for (const c of [...clients].reverse()) {
      const got = routed(demux, c, ours(c));
      const want = `connection conn ${epText(c)}`;
      if (got !== want) problems.push(`a segment from ${epText(c)} to ${epText(ours(c))} went to: ${got}; expected: ${want}`);
    }
    reportAll(
      problems,
      "each segment to the connection registered with local = the segment's destination and remote = its source",
      see('Demultiplexing'),
    );
  });

  it('sends segments for no connection to the listener, preferring an exact address over a wildcard', () => {
    const demux = new Demultiplexer<string>();
    demux.addListener(ep('0.0.0.0', 80), 'any IPv4');
    demux.addListener(ep('198.51.100.10', 80), 'exact');
    demux.addListener(ep('::', 80), 'any IPv6');
    demux.addListener(ep('2001:db8::1', 80), 'exact IPv6');
    demux.addConnection(tuple(ep('198.51.100.10', 80), ep('203.0.113.5', 50000)), 'existing');
    demux.addConnection(tuple(ep('2001:db8::1', 80), ep('2001:db8::7', 50001)), 'existing IPv6');
    const cases: [Endpoint, Endpoint, string][] = [
      [ep('203.0.113.5', 50001), ep('198.51.100.10', 80), 'listener exact'], // a new client port: not the existing connection
      [ep('192.0.2.7', 50000), ep('198.51.100.10', 80), 'listener exact'],
      [ep('192.0.2.7', 50000), ep('198.51.100.99', 80), 'listener any IPv4'],
      [ep('2001:db8::7', 50000), ep('2001:db8::10', 80), 'listener any IPv6'],
      [ep('2001:db8::7', 50000), ep('2001:db8::1', 80), 'listener exact IPv6'],
      [ep('2001:db8::7', 50001), ep('2001:db8::1', 80), 'connection existing IPv6'],
      [ep('2001:db8::7', 50000), ep('::1', 80), 'listener any IPv6'],
      [ep('203.0.113.5', 50000), ep('198.51.100.10', 80), 'connection existing'],
    ];
    const problems = cases.map(([source, destination, want]) => {
      const got = routed(demux, source, destination);
      return got === want ? undefined : `a segment from ${epText(source)} to ${epText(destination)} went to: ${got}; expected: ${want}`;
    });
    reportAll(problems, 'a matching connection first; then a listener on exactly the destination; then one on 0.0.0.0 or :: with that port', see('Demultiplexing'));
  });

  it('drops a segment that no connection or listener wants', () => {
    const demux = new Demultiplexer<string>();
    demux.addListener(ep('0.0.0.0', 80), 'web');
    demux.addListener(ep('::1', 22), 'ssh on ::1');
    demux.addListener(ep('::', 443), 'any IPv6');
    demux.addConnection(tuple(ep('2001:db8::10', 8080), ep('2001:db8::7', 50000)), 'conn');
    const cases: [Endpoint, Endpoint][] = [
      [ep('192.0.2.7', 50000), ep('198.51.100.10', 443)], // :: is IPv6 only
      [ep('2001:db8::7', 50000), ep('2001:db8::10', 8081)], // the connection's local port is 8080
      [ep('2001:db8::7', 50001), ep('2001:db8::10', 8080)], // the connection's remote port is 50000
      [ep('192.0.2.7', 50000), ep('198.51.100.10', 81)], // nobody on port 81
      [ep('2001:db8::7', 50000), ep('2001:db8::10', 80)], // 0.0.0.0 is IPv4 only
      [ep('2001:db8::7', 50000), ep('2001:db8::10', 22)], // listening on ::1 only
    ];
    const problems = cases.map(([source, destination]) => {
      const got = routed(demux, source, destination);
      return got === 'dropped' ? undefined : `a segment from ${epText(source)} to ${epText(destination)} went to: ${got}`;
    });
    reportAll(problems, "{ kind: 'dropped' } (a real TCP would answer with a reset: ECONNREFUSED for the sender); 0.0.0.0 is IPv4 only and :: is IPv6 only", see('Demultiplexing'));
  });

  it('refuses a duplicate listener (ERR_ADDRESS_IN_USE) or connection (ERR_CONNECTION_EXISTS)', () => {
    const demux = new Demultiplexer<string>();
    demux.addListener(ep('::', 8080), 'first');
    demux.addConnection(tuple(server, ep('203.0.113.5', 50000)), 'first');
    const attempt = (call: string, fn: () => unknown, code: string) => {
      try {
        fn();
        return `${call} succeeded, expected DemuxError ${code}`;
      } catch (e) {
        return e instanceof DemuxError && e.code === code ? undefined : `${call} threw ${thrown(e)}, expected DemuxError ${code}`;
      }
    };
    reportAll(
      [
        attempt('addListener([0:0:0:0:0:0:0:0]:8080) after [::]:8080', () => demux.addListener(ep('0:0:0:0:0:0:0:0', 8080), 'second'), 'ERR_ADDRESS_IN_USE'),
        attempt('addListener(192.0.2.1:80) twice', () => {
          demux.addListener(ep('192.0.2.1', 80), 'first');
          demux.addListener(ep('192.0.2.1', 80), 'second');
        }, 'ERR_ADDRESS_IN_USE'),
        attempt(
          'addConnection of the same 4-tuple again',
          () => demux.addConnection(tuple(ep('198.51.100.10', 443), ep('203.0.113.5', 50000)), 'second'),
          'ERR_CONNECTION_EXISTS',
        ),
      ],
      'a typed DemuxError: one endpoint has one listener, one 4-tuple one connection',
      see('Demultiplexing'),
    );
  });

  it('keeps its tables when the caller reuses the buffers it registered with', () => {
    const demux = new Demultiplexer<string>();
    const bytes = bytesOf('2001:db8::10');
    const local = { address: { family: 6 as const, bytes }, port: 443 };
    const remoteBytes = Uint8Array.of(203, 0, 113, 5);
    const problems: (string | undefined)[] = [];
    try {
      demux.addListener(local, 'listener');
      demux.addConnection(tuple(local, { address: { family: 6, bytes: bytesOf('2001:db8::7') }, port: 50000 }), 'conn');
      demux.addConnection(tuple(ep('198.51.100.10', 443), { address: { family: 4, bytes: remoteBytes }, port: 50000 }), 'conn v4');
      // The caller now reuses its buffers for other addresses.
      bytes.set(bytesOf('2001:db8::99'));
      remoteBytes.set([192, 0, 2, 99]);
    } catch (e) {
      problems.push(`registering a listener and two connections threw ${thrown(e)}`);
    }
    const cases: [Endpoint, Endpoint, string][] = [
      [ep('2001:db8::7', 50000), ep('2001:db8::10', 443), 'connection conn'],
      [ep('2001:db8::8', 50000), ep('2001:db8::10', 443), 'listener listener'],
      [ep('2001:db8::7', 50000), ep('2001:db8::99', 443), 'dropped'],
      [ep('203.0.113.5', 50000), ep('198.51.100.10', 443), 'connection conn v4'],
      [ep('192.0.2.99', 50000), ep('198.51.100.10', 443), 'dropped'],
    ];
    for (const [source, destination, want] of cases) {
      const got = routed(demux, source, destination);
      if (got !== want) problems.push(`after the caller overwrote its buffers, a segment from ${epText(source)} to ${epText(destination)} went to: ${got}; expected: ${want}`);
    }
    reportAll(
      problems,
      'the tables keep the addresses as they were when registered (store keys made of canonical text, not the caller\'s objects)',
      see('Demultiplexing'),
    );
  });

  it('stops delivering to a connection once it is removed', () => {
    const demux = new Demultiplexer<string>();
    const t = tuple(server, ep('203.0.113.5', 50000));
    demux.addListener(server, 'listener');
    demux.addConnection(t, 'conn');
    const before = routed(demux, t.remote, t.local);
    const removed = outcomeOf(() => demux.removeConnection(t), show);
    const after = routed(demux, t.remote, t.local);
    const again = outcomeOf(() => demux.removeConnection(t), show);
    const readded = outcomeOf(() => demux.addConnection(tuple(ep('198.51.100.10', 443), ep('203.0.113.5', 50000)), 'new conn'), show);
    const last = routed(demux, t.remote, t.local);
    check(
      before === 'connection conn' && removed === 'returned true' && after === 'listener listener' && again === 'returned false' && readded === 'returned undefined' && last === 'connection new conn',
      {
        did: `route before removing went to: ${before}; removeConnection ${removed}; route after went to: ${after}; removeConnection again ${again}; addConnection of the same 4-tuple ${readded}; route then went to: ${last}`,
        expected: 'connection conn; returned true; listener listener (a new conversation on the same 4-tuple); returned false; returned undefined; connection new conn',
        lesson: see('Demultiplexing'),
      },
    );
  });
});
