/**
 * Chapter 02's random inputs, as fast-check arbitraries: they shrink a failure to a short address
 * ("fails for ::1:0:0:0:0:1"), and are compared with Node's own implementations in the suite.
 * Text near an address is a valid spelling, sometimes broken in one small way, so that most cases
 * sit right at the border between valid and invalid.
 */
import type { IpAddress } from '@impl/02-addresses-and-ports/exercise.ts';
import { fc } from '../helpers/index.ts';
import { fullHex, groupsToBytes, osText } from './harness.ts';

/** Any unsigned 32-bit number. */
export const u32 = fc.integer({ min: 0, max: 0xffffffff });

// --- IPv4 text -----------------------------------------------------------------------------------

const IPV4_BREAKS = ['none', 'octet over 255', 'leading zero', 'part dropped', 'part added', 'part emptied', 'character inserted', 'character deleted'] as const;

/** A dotted quad, broken in one small way (or not at all). */
const brokenIPv4 = fc
  .record({
    octets: fc.array(fc.nat(255), { minLength: 4, maxLength: 4 }),
    how: fc.constantFrom(...IPV4_BREAKS),
    part: fc.nat(3),
    big: fc.integer({ min: 256, max: 999 }),
    added: fc.nat(255),
    at: fc.nat(),
    char: fc.constantFrom(...' -+x./a0'),
  })
  .map(({ octets, how, part, big, added, at, char }) => {
    const parts = octets.map(String);
    const text = parts.join('.');
    switch (how) {
      case 'octet over 255':
        parts[part] = String(big);
        break;
      case 'leading zero':
        parts[part] = `0${parts[part]}`;
        break;
      case 'part dropped':
        parts.splice(part, 1);
        break;
      case 'part added':
        parts.push(String(added));
        break;
      case 'part emptied':
        parts[part] = '';
        break;
      case 'character inserted': {
        const i = at % (text.length + 1);
        return text.slice(0, i) + char + text.slice(i);
      }
      case 'character deleted': {
        const i = at % text.length;
        return text.slice(0, i) + text.slice(i + 1);
      }
      default:
        break; // left valid
    }
    return parts.join('.');
  });

/** Text near a valid dotted quad: broken quads, valid ones, old inet_aton spellings (0x7f.1, 0177.0.0.1), digit-and-dot soup. */
export const nearIPv4Text = fc.oneof(
  { weight: 6, arbitrary: brokenIPv4 },
  { weight: 1, arbitrary: fc.ipV4() },
  { weight: 1, arbitrary: fc.ipV4Extended() },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'0123456789.'), maxLength: 16 }) },
);

// --- IPv6 addresses and text ---------------------------------------------------------------------

/** One 16-bit group, zero-heavy so that "::" has runs to choose from; often one hex digit (no leading zeros to print). */
const group = fc.oneof(
  { weight: 9, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 0xf }) },
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 0xffff }) },
);

/** The deprecated IPv4-compatible shape (::a.b.c.d): libuv prints it dotted, RFC 5952 does not ask to. */
const ipv4Compatible = (g: readonly number[]) => g.slice(0, 6).every((x) => x === 0) && g[6] !== 0;

/** Eight groups: zero-heavy, or an IPv4-mapped address (::ffff:a.b.c.d) one time in ten. */
const ipv6Groups = fc.oneof(
  { weight: 9, arbitrary: fc.array(group, { minLength: 8, maxLength: 8 }).filter((g) => !ipv4Compatible(g)) },
  { weight: 1, arbitrary: fc.tuple(fc.nat(0xffff), fc.nat(0xffff)).map(([a, b]) => [0, 0, 0, 0, 0, 0xffff, a, b]) },
);

/** The 16 bytes of an IPv6 address. */
export const ipv6Bytes = ipv6Groups.map(groupsToBytes);

/** Ways to write the same IPv6 address. */
function spellings(bytes: Uint8Array): string[] {
  const canonical = osText({ family: 6, bytes });
  const full = fullHex(bytes);
  const v4tail = `${full.split(':').slice(0, 6).join(':')}:${Array.from(bytes.subarray(12)).join('.')}`;
  return [canonical, full, full.toUpperCase(), canonical.toUpperCase(), v4tail];
}

const IPV6_BREAKS = ['colons inserted', 'character deleted', 'character inserted', 'group appended', 'group lengthened', 'first colon removed'] as const;

/** Text near a valid IPv6 address: one of its spellings (or fast-check's own IPv6 text), often broken in one small way. */
export const nearIPv6Text = fc
  .record({
    text: fc.oneof(
      { weight: 4, arbitrary: fc.tuple(ipv6Bytes, fc.nat(4)).map(([bytes, k]) => spellings(bytes)[k]!) },
      { weight: 1, arbitrary: fc.ipV6() },
    ),
    how: fc.oneof({ weight: 4, arbitrary: fc.constant('none' as const) }, { weight: 6, arbitrary: fc.constantFrom(...IPV6_BREAKS) }),
    at: fc.nat(),
    colons: fc.integer({ min: 1, max: 2 }),
    char: fc.constantFrom(...'0fFg.'),
    group: fc.nat(0xffff),
  })
  .map(({ text: s, how, at, colons, char, group }) => {
    const i = at % (s.length + 1);
    switch (how) {
      case 'colons inserted':
        return s.slice(0, i) + ':'.repeat(colons) + s.slice(i);
      case 'character deleted':
        return s.slice(0, i) + s.slice(i + 1);
      case 'character inserted':
        return s.slice(0, i) + char + s.slice(i);
      case 'group appended':
        return `${s}:${group.toString(16)}`;
      case 'group lengthened':
        return s.replace(/[0-9a-f]+/i, (g) => `${g}${'0'.repeat(colons)}`);
      case 'first colon removed':
        return s.replace(':', '');
      default:
        return s;
    }
  });

// --- Prefixes ------------------------------------------------------------------------------------

/** A prefix and an address to test against it. */
export interface PrefixCase {
  family: 4 | 6;
  network: Uint8Array;
  length: number;
  address: IpAddress;
}

/** Prefix lengths at the edges: all, none, and either side of each 32-bit word boundary. */
const EDGES = [0, 1, 8, 31, 32, 33, 63, 64, 65, 127, 128];

function prefixCases(family: 4 | 6, network: fc.Arbitrary<Uint8Array>): fc.Arbitrary<PrefixCase> {
  const bits = family === 4 ? 32 : 128;
  return fc
    .record({
      network,
      length: fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...EDGES.filter((x) => x <= bits)) }, { weight: 3, arbitrary: fc.integer({ min: 0, max: bits }) }),
      // The address is near the prefix (one bit flipped) or anywhere.
      change: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 0, max: bits - 1 }) },
        { weight: 1, arbitrary: fc.uint8Array({ minLength: bits / 8, maxLength: bits / 8 }) },
      ),
    })
    .map(({ network, length, change }) => {
      let bytes: Uint8Array;
      if (typeof change === 'number') {
        bytes = Uint8Array.from(network);
        bytes[change >> 3]! ^= 0x80 >> (change & 7);
      } else {
        bytes = change;
      }
      return { family, network, length, address: { family, bytes } };
    });
}

/** An IPv4 or IPv6 prefix (at edge lengths often), and an address one bit away from it or anywhere. */
export const prefixCase = fc.oneof(prefixCases(4, fc.uint8Array({ minLength: 4, maxLength: 4 })), prefixCases(6, ipv6Bytes));

/** A prefix case in words: "10.0.0.0/8 and 10.128.0.0". */
export const showPrefixCase = (c: PrefixCase) => `${osText({ family: c.family, bytes: c.network })}/${c.length} and ${osText(c.address)}`;
