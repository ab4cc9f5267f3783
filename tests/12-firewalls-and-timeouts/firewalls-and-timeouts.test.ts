/**
 * Chapter 12 · When the port goes dark.
 *
 * The rule engine first (addresses and prefixes, rules, first match wins, the default policy, the
 * connection table), then your filtering proxy on loopback in front of a real server, then your client
 * against it (refused, dropped, reset, timeouts), backoff and retries on a FakeClock, and last, as root,
 * a real kernel firewall: nftables in two network namespaces, judged by your client the same way.
 */
import net from 'node:net';
import { describe, it } from 'vitest';
import type { Packet, Policy, Rule } from '@impl/12-firewalls-and-timeouts/exercise.ts';
import { Firewall, RuleError, decide, parseAddress, parsePrefix, prefixContains, ruleMatches } from '@impl/12-firewalls-and-timeouts/exercise.ts';
import {
  CallError, GaveUpError, RefusedError, ResetError, TimeoutError, backoffDelay, callOnce, withRetries,
} from '@impl/12-firewalls-and-timeouts/client.ts';
import { FilteringProxy } from '@impl/12-firewalls-and-timeouts/proxy.ts';
import { FakeClock, check, eventually, fc, forAllSync, listen, seededRandom, testSeed, thrown } from '../helpers/index.ts';
import {
  BINARY, LIMIT, LOOPBACK6, REPLY_PREFIX, SHORT_MS, attempt, blackHoleDial, closedPort, driveRetries, lesson, onlyRule, outcome,
  packet, probe, recordingDial, scripted, settle, showPacket, showVerdict, startProxy, startReplyServer, startResetMidReplyServer,
  startSilentServer, startTricklingServer, watchClientTimers,
} from './harness.ts';
import { kernelFirewallGroup } from './namespaces.ts';

const ADDRESSES = lesson('Addresses and prefixes');
const RULES = lesson('Rules and how they match');
const FIRST_MATCH = lesson('First match wins, then the default');
const STATE = lesson('Stateful filtering: established connections');

describe('addresses and prefixes', () => {
  it('reads IPv4 and IPv6 addresses into numbers, with :: compression', () => {
    const cases: [string, 4 | 6, bigint][] = [
      ['0.0.0.0', 4, 0n],
      ['10.213.0.2', 4, 0x0ad50002n],
      ['255.255.255.255', 4, 0xffffffffn],
      ['::1', 6, 1n],
      ['::', 6, 0n],
      ['2001:db8::ff00:42', 6, 0x20010db80000000000000000ff000042n],
      ['fe80::', 6, 0xfe80n << 112n],
      ['1:2:3:4:5:6:7:8', 6, 0x00010002000300040005000600070008n],
      ['1:2:3:4:5:6::8', 6, 0x00010002000300040005000600000008n],
      ['::2:3:4:5:6:7:8', 6, 0x00000002000300040005000600070008n],
      ['FFFF:ffff:FFFF:ffff:FFFF:ffff:FFFF:ffff', 6, (1n << 128n) - 1n],
    ];
    for (const [text, family, value] of cases) {
      const r = attempt(() => parseAddress(text));
      const a = r.value;
      check(a !== undefined && a.family === family && a.value === value, {
        did: `parseAddress(${JSON.stringify(text)}) ${r.error !== undefined ? `threw ${thrown(r.error)}` : `returned { family: ${a?.family}, value: 0x${a?.value.toString(16)} }`}`,
        expected: `{ family: ${family}, value: 0x${value.toString(16)} }`,
        lesson: ADDRESSES,
      });
    }
  });

  it('rejects malformed addresses with RuleError ERR_BAD_ADDRESS naming the input', () => {
    for (const text of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1.2.3.4x', '1.2.3.1234', '1.2..4', '1.2.3.-4', '01.2.3.4', '1.2.3.4/', 'a.b.c.d', ' 1.2.3.4', '1::2::3', ':::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::1', '::1:', '1:2:3:4:5:6:7::8']) {
      const r = attempt(() => parseAddress(text));
      check(r.error instanceof RuleError && r.error.code === 'ERR_BAD_ADDRESS' && r.error.input === text, {
        did: `parseAddress(${JSON.stringify(text)}) ${outcome(r.error !== undefined ? r : { value: `{ family: ${r.value?.family}, value: ${r.value?.value} }` })}`,
        expected: `a RuleError with code 'ERR_BAD_ADDRESS' and input ${JSON.stringify(text)}: the rules of a firewall must never guess`,
        lesson: ADDRESSES,
      });
    }
  });

  it('reads a prefix, a bare address as a full-length prefix, and clears host bits', () => {
    const cases: [string, 4 | 6, bigint, number][] = [
      ['10.0.0.0/8', 4, 0x0a000000n, 8],
      ['10.1.2.3/8', 4, 0x0a000000n, 8],
      ['0.0.0.0/0', 4, 0n, 0],
      ['192.168.1.7', 4, 0xc0a80107n, 32],
      ['192.168.1.7/32', 4, 0xc0a80107n, 32],
      ['10.213.7.6/30', 4, 0x0ad50704n, 30],
      ['::1', 6, 1n, 128],
      ['2001:db8::1/32', 6, 0x20010db8n << 96n, 32],
      ['::/0', 6, 0n, 0],
    ];
    for (const [text, family, network, length] of cases) {
      const r = attempt(() => parsePrefix(text));
      const p = r.value;
      check(p !== undefined && p.family === family && p.network === network && p.length === length, {
        did: `parsePrefix(${JSON.stringify(text)}) ${r.error !== undefined ? `threw ${thrown(r.error)}` : `returned { family: ${p?.family}, network: 0x${p?.network.toString(16)}, length: ${p?.length} }`}`,
        expected: `{ family: ${family}, network: 0x${network.toString(16)}, length: ${length} }`,
        lesson: ADDRESSES,
      });
    }
  });

  it('rejects a bad prefix length with ERR_BAD_PREFIX, and a bad address in it with ERR_BAD_ADDRESS', () => {
    const cases: [string, string][] = [
      ['10.0.0.0/33', 'ERR_BAD_PREFIX'],
      ['10.0.0.0/-1', 'ERR_BAD_PREFIX'],
      ['10.0.0.0/', 'ERR_BAD_PREFIX'],
      ['10.0.0.0/8x', 'ERR_BAD_PREFIX'],
      ['10.0.0.0/ 8', 'ERR_BAD_PREFIX'],
      ['::/129', 'ERR_BAD_PREFIX'],
      ['10.0.0/8', 'ERR_BAD_ADDRESS'],
    ];
    for (const [text, code] of cases) {
      const r = attempt(() => parsePrefix(text));
      const input = code === 'ERR_BAD_PREFIX' ? text : text.split('/')[0];
      check(r.error instanceof RuleError && r.error.code === code && r.error.input === input, {
        did: `parsePrefix(${JSON.stringify(text)}) ${outcome(r.error !== undefined ? r : { value: 'a prefix' })}`,
        expected: `a RuleError with code '${code}' and input ${JSON.stringify(input)}`,
        lesson: ADDRESSES,
      });
    }
  });

  it('/0 matches every address of its family: the first and the last', () => {
    for (const [prefix, inside] of [['0.0.0.0/0', ['0.0.0.0', '255.255.255.255', '127.0.0.1']], ['::/0', ['::', '::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']]] as const) {
      for (const a of inside) {
        const got = attempt(() => prefixContains(parsePrefix(prefix), parseAddress(a)));
        check(got.value === true, {
          did: `prefixContains(${prefix}, ${a}) ${outcome(got)}`,
          expected: 'true: a /0 prefix fixes no bit at all. (In JavaScript, 0xffffffff << 32 is 0xffffffff, not 0: a shift count is taken mod 32, so a 32-bit mask for /0 built with << is all ones.)',
          lesson: ADDRESSES,
        });
      }
    }
  });

  it('/32 and /128 match exactly one address, not its neighbours', () => {
    const cases: [string, string, boolean][] = [
      ['192.168.1.7/32', '192.168.1.7', true],
      ['192.168.1.7/32', '192.168.1.6', false],
      ['192.168.1.7/32', '192.168.1.8', false],
      ['192.168.1.7', '192.168.1.7', true],
      ['192.168.1.7', '192.168.1.6', false],
      ['::1', '::1', true],
      ['::1/128', '::', false],
      ['::1/128', '::2', false],
    ];
    for (const [prefix, a, want] of cases) {
      const got = attempt(() => prefixContains(parsePrefix(prefix), parseAddress(a)));
      check(got.value === want, {
        did: `prefixContains(${prefix}, ${a}) ${outcome(got)}`,
        expected: `${want}: a full-length prefix holds one address only`,
        lesson: ADDRESSES,
      });
    }
  });

  it('holds its first and last address and nothing just outside', () => {
    const cases: [string, string, boolean][] = [
      ['10.213.7.4/30', '10.213.7.4', true],
      ['10.213.7.4/30', '10.213.7.7', true],
      ['10.213.7.4/30', '10.213.7.3', false],
      ['10.213.7.4/30', '10.213.7.8', false],
      ['192.168.0.0/16', '192.168.0.0', true],
      ['192.168.0.0/16', '192.168.255.255', true],
      ['192.168.0.0/16', '192.167.255.255', false],
      ['192.168.0.0/16', '192.169.0.0', false],
      ['10.0.0.0/8', '10.255.255.255', true],
      ['10.0.0.0/8', '11.0.0.0', false],
      ['128.0.0.0/1', '128.0.0.0', true],
      ['128.0.0.0/1', '127.255.255.255', false],
      ['2001:db8::/32', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', true],
      ['2001:db8::/32', '2001:db9::', false],
      ['2001:db8::/32', '2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', false],
    ];
    for (const [prefix, a, want] of cases) {
      const got = attempt(() => prefixContains(parsePrefix(prefix), parseAddress(a)));
      check(got.value === want, {
        did: `prefixContains(${prefix}, ${a}) ${outcome(got)}`,
        expected: `${want}: the prefix is every address whose first bits equal the network's, from network with all host bits 0 to network with all host bits 1`,
        lesson: ADDRESSES,
      });
    }
  });

  it('an IPv4 address is never inside an IPv6 prefix, nor the other way round', () => {
    for (const [prefix, a] of [['::/0', '0.0.0.0'], ['::/96', '0.0.0.1'], ['0.0.0.0/0', '::'], ['0.0.0.0/0', '::1']] as const) {
      const got = attempt(() => prefixContains(parsePrefix(prefix), parseAddress(a)));
      check(got.value === false, {
        did: `prefixContains(${prefix}, ${a}) ${outcome(got)}`,
        expected: 'false: the families differ, whatever the numbers are',
        lesson: ADDRESSES,
      });
    }
  });

  it('agrees with net.BlockList on random IPv4 and IPv6 prefixes (seeded)', () => {
    const v4 = fc.tuple(fc.constant(4 as const), fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), fc.integer({ min: 0, max: 32 }));
    const v6 = fc.tuple(fc.constant(6 as const), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.integer({ min: 0, max: 128 }));
    const text = (family: 4 | 6, v: bigint) =>
      family === 4
        ? [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.')
        : Array.from({ length: 8 }, (_, i) => ((v >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':');
    forAllSync(
      fc.oneof(v4, v6).chain(([family, net1, addr, length]) =>
        // Half the cases put the address inside the prefix, by copying the network's first bits.
        fc.boolean().map((inside) => {
          const bits = BigInt(family === 4 ? 32 : 128);
          const hostMask = (1n << (bits - BigInt(length))) - 1n;
          return { family, network: net1, address: inside ? (net1 & ~hostMask) | (addr & hostMask) : addr, length };
        }),
      ),
      ({ family, network, address, length }) => {
        const list = new net.BlockList();
        list.addSubnet(text(family, network), length, family === 4 ? 'ipv4' : 'ipv6');
        const want = list.check(text(family, address), family === 4 ? 'ipv4' : 'ipv6');
        const prefix = `${text(family, network)}/${length}`;
        const got = attempt(() => prefixContains(parsePrefix(prefix), parseAddress(text(family, address))));
        check(got.value === want, {
          did: `prefixContains(${prefix}, ${text(family, address)}) ${outcome(got)}`,
          expected: `${want}, as node:net's BlockList says`,
          lesson: ADDRESSES,
        });
      },
      { show: (c) => `prefix ${text(c.family, c.network)}/${c.length}, address ${text(c.family, c.address)}` },
    );
  });
});

describe('rules', () => {
  const p = packet('10.0.0.5', '10.0.0.1', 8080);

  it('a rule with no conditions matches every packet', () => {
    for (const pk of [p, packet('::1', '::1', 0, 'out'), packet('255.255.255.255', '0.0.0.0', 65_535)]) {
      const got = attempt(() => ruleMatches({ action: 'drop' }, pk));
      check(got.value === true, { did: `ruleMatches({ action: 'drop' }, ${showPacket(pk)}) ${outcome(got)}`, expected: 'true: a condition left out matches anything', lesson: RULES });
    }
  });

  it('checks each condition it names: direction, source, destination, port', () => {
    const cases: [Rule, Packet, boolean][] = [
      [{ action: 'accept', direction: 'in' }, p, true],
      [{ action: 'accept', direction: 'out' }, p, false],
      [{ action: 'accept', source: '10.0.0.0/24' }, p, true],
      [{ action: 'accept', source: '10.0.1.0/24' }, p, false],
      [{ action: 'accept', source: '10.0.0.1' }, p, false],
      [{ action: 'accept', destination: '10.0.0.1' }, p, true],
      [{ action: 'accept', destination: '10.0.0.5' }, p, false],
      [{ action: 'accept', port: 8080 }, p, true],
      [{ action: 'accept', port: 80 }, p, false],
      [{ action: 'accept', port: 50_000 }, p, false], // the source port is not the port a rule means
      [{ action: 'accept', direction: 'in', source: '10.0.0.0/8', destination: '10.0.0.1/32', port: 8080 }, p, true],
      [{ action: 'accept', direction: 'in', source: '10.0.0.0/8', destination: '10.0.0.1/32', port: 8081 }, p, false],
      [{ action: 'accept', direction: 'out', source: '10.0.0.0/8', destination: '10.0.0.1/32', port: 8080 }, p, false],
      [{ action: 'accept', source: '::1' }, packet('::1', '::1', 8080), true],
      [{ action: 'accept', source: '::1' }, packet('127.0.0.1', '::1', 8080), false],
      [{ action: 'accept', destination: '127.0.0.0/8' }, packet('::1', '::1', 8080), false],
    ];
    for (const [rule, pk, want] of cases) {
      const got = attempt(() => ruleMatches(rule, pk));
      check(got.value === want, {
        did: `ruleMatches(${JSON.stringify(rule)}, ${showPacket(pk)}) ${outcome(got)}`,
        expected: `${want}: every condition the rule names must hold; port means the destination port`,
        lesson: RULES,
      });
    }
  });

  it('a port range holds both its ends and nothing outside them', () => {
    const range = { from: 8000, to: 8099 };
    for (const [port, want] of [[7999, false], [8000, true], [8050, true], [8099, true], [8100, false]] as const) {
      const got = attempt(() => ruleMatches({ action: 'accept', port: range }, packet('10.0.0.5', '10.0.0.1', port)));
      check(got.value === want, {
        did: `ruleMatches({ port: { from: 8000, to: 8099 } }, a packet to port ${port}) ${outcome(got)}`,
        expected: `${want}: a range is inclusive at both ends`,
        lesson: RULES,
      });
    }
    for (const [r, port, want] of [[{ from: 0, to: 65_535 }, 0, true], [{ from: 0, to: 65_535 }, 65_535, true], [{ from: 443, to: 443 }, 443, true], [{ from: 443, to: 443 }, 444, false], [{ from: 443, to: 443 }, 442, false]] as const) {
      const got = attempt(() => ruleMatches({ action: 'accept', port: r }, packet('10.0.0.5', '10.0.0.1', port)));
      check(got.value === want, {
        did: `ruleMatches({ port: ${JSON.stringify(r)} }, a packet to port ${port}) ${outcome(got)}`,
        expected: `${want}`,
        lesson: RULES,
      });
    }
  });

  it('rejects a port outside 0-65535 or a range the wrong way round with ERR_BAD_PORT', () => {
    for (const port of [65_536, -1, 80.5, Number.NaN, { from: 90, to: 80 }, { from: 0, to: 65_536 }, { from: -1, to: 10 }]) {
      const got = attempt(() => ruleMatches({ action: 'accept', port } as Rule, p));
      check(got.error instanceof RuleError && got.error.code === 'ERR_BAD_PORT' && got.error.input === JSON.stringify(port), {
        did: `ruleMatches({ port: ${JSON.stringify(port)} }, ${showPacket(p)}) ${outcome(got)}`,
        expected: `a RuleError with code 'ERR_BAD_PORT' and input ${JSON.stringify(JSON.stringify(port))} (JSON.stringify of the rule's port)`,
        lesson: RULES,
      });
    }
  });

  it('a malformed address in a rule or a packet is a RuleError, never a silent mismatch', () => {
    const cases: [Rule, Packet, string, string][] = [
      [{ action: 'accept', source: '10.0.0/8' }, p, 'ERR_BAD_ADDRESS', '10.0.0'],
      [{ action: 'accept', destination: '10.0.0.1/40' }, p, 'ERR_BAD_PREFIX', '10.0.0.1/40'],
      [{ action: 'accept', source: '10.0.0.0/8' }, packet('10.0.0.999', '10.0.0.1', 80), 'ERR_BAD_ADDRESS', '10.0.0.999'],
    ];
    for (const [rule, pk, code, input] of cases) {
      const got = attempt(() => ruleMatches(rule, pk));
      check(got.error instanceof RuleError && got.error.code === code && got.error.input === input, {
        did: `ruleMatches(${JSON.stringify(rule)}, ${showPacket(pk)}) ${outcome(got)}`,
        expected: `a RuleError with code '${code}' and input ${JSON.stringify(input)}`,
        lesson: RULES,
      });
    }
  });
});

describe('first match wins and the default policy', () => {
  const web: Policy = {
    rules: [
      { action: 'reject', direction: 'in', source: '10.66.0.0/16', comment: 'a noisy subnet' },
      { action: 'accept', direction: 'in', port: 80 },
      { action: 'accept', direction: 'in', port: 443 },
      { action: 'drop', direction: 'in', port: { from: 1, to: 1023 } },
      { action: 'reject', direction: 'in' },
    ],
    defaultAction: 'accept',
  };

  it('first match wins: the earliest matching rule decides, later ones are never asked', () => {
    const cases: [Packet, string, number][] = [
      [packet('10.66.1.2', '10.0.0.1', 80), 'reject', 0],
      [packet('10.1.1.2', '10.0.0.1', 80), 'accept', 1],
      [packet('10.1.1.2', '10.0.0.1', 443), 'accept', 2],
      [packet('10.1.1.2', '10.0.0.1', 22), 'drop', 3],
      [packet('10.1.1.2', '10.0.0.1', 7001), 'reject', 4],
    ];
    for (const [pk, action, rule] of cases) {
      const got = attempt(() => decide(web, pk));
      const v = got.value;
      check(v?.action === action && v.by === 'rule' && v.rule === rule, {
        did: `decide(web policy, ${showPacket(pk)}) ${got.error !== undefined ? outcome(got) : `returned ${showVerdict(v)}`}`,
        expected: `{ action: '${action}', by: 'rule', rule: ${rule} }: rule ${rule} is the first that matches (later rules match too, and must not decide)`,
        lesson: FIRST_MATCH,
      });
    }
  });

  it('the default action applies when no rule matches, whatever it is', () => {
    for (const defaultAction of ['accept', 'reject', 'drop'] as const) {
      const policy: Policy = { rules: [{ action: 'accept', port: 443 }, { action: 'drop', direction: 'out' }], defaultAction };
      const pk = packet('10.1.1.2', '10.0.0.1', 8080);
      const got = attempt(() => decide(policy, pk));
      check(got.value?.action === defaultAction && got.value.by === 'default' && got.value.rule === undefined, {
        did: `decide(${JSON.stringify(policy)}, ${showPacket(pk)}) ${got.error !== undefined ? outcome(got) : `returned ${showVerdict(got.value)}`}`,
        expected: `{ action: '${defaultAction}', by: 'default' } with no rule index: no rule matches`,
        lesson: FIRST_MATCH,
      });
    }
    const got = attempt(() => decide({ rules: [], defaultAction: 'drop' }, packet('::1', '::1', 1)));
    check(got.value?.action === 'drop' && got.value.by === 'default', {
      did: `decide({ rules: [], defaultAction: 'drop' }, a packet) ${got.error !== undefined ? outcome(got) : `returned ${showVerdict(got.value)}`}`,
      expected: "{ action: 'drop', by: 'default' }: with no rules at all, the default decides everything",
      lesson: FIRST_MATCH,
    });
  });

  it('the Firewall constructor checks every rule and names the bad one', () => {
    const cases: [Rule[], string, string, number][] = [
      [[{ action: 'accept', port: 80 }, { action: 'drop', source: '10.0.0.256/8' }], 'ERR_BAD_ADDRESS', '10.0.0.256', 1],
      [[{ action: 'accept', destination: '10.0.0.0/99' }], 'ERR_BAD_PREFIX', '10.0.0.0/99', 0],
      [[{ action: 'accept' }, { action: 'accept' }, { action: 'reject', port: { from: 2, to: 1 } }], 'ERR_BAD_PORT', JSON.stringify({ from: 2, to: 1 }), 2],
    ];
    for (const [rules, code, input, index] of cases) {
      const got = attempt(() => new Firewall({ rules, defaultAction: 'drop' }));
      check(got.error instanceof RuleError && got.error.code === code && got.error.input === input && got.error.rule === index, {
        did: `new Firewall({ rules: ${JSON.stringify(rules)} }) ${got.error !== undefined ? outcome(got) : 'was created'}`,
        expected: `a RuleError with code '${code}', input ${JSON.stringify(input)} and rule ${index}: a typo in a firewall fails when it is loaded, not at the first packet`,
        lesson: FIRST_MATCH,
      });
    }
  });

  it('a Firewall decides new connections as decide() does', () => {
    const fw = new Firewall(web);
    for (const [pk, action] of [[packet('10.66.1.2', '10.0.0.1', 80, 'in', 40_000), 'reject'], [packet('10.1.1.2', '10.0.0.1', 22, 'in', 40_001), 'drop'], [packet('10.1.1.2', '10.0.0.1', 8080, 'out', 40_002), 'accept']] as const) {
      const got = attempt(() => fw.check(pk));
      const want = decide(web, pk);
      check(got.value?.action === action && got.value.by === want.by && got.value.rule === want.rule, {
        did: `firewall.check(${showPacket(pk)}) ${got.error !== undefined ? outcome(got) : `returned ${showVerdict(got.value)}`}`,
        expected: `${showVerdict(want)}, as decide() says for a packet of no known connection`,
        lesson: FIRST_MATCH,
      });
    }
  });
});

describe('established connections', () => {
  // A laptop's firewall: nothing comes in unasked, anything may go out.
  const laptop: Policy = { rules: [{ action: 'accept', direction: 'out' }], defaultAction: 'drop' };
  const request = packet('192.168.1.7', '93.184.216.34', 443, 'out', 51_000);
  const reply: Packet = { direction: 'in', source: '93.184.216.34', sourcePort: 443, destination: '192.168.1.7', destinationPort: 51_000 };

  it('established replies pass: the reply to an accepted connection comes in though the policy drops what comes in', () => {
    const fw = new Firewall(laptop);
    const steps: [string, () => unknown, string][] = [
      ['the reply before any request', () => fw.check(reply), JSON.stringify({ action: 'drop', by: 'default' })],
      ['the request going out', () => fw.check(request), JSON.stringify({ action: 'accept', by: 'rule', rule: 0 })],
      ['tracked()', () => fw.tracked(), '1'],
      ['the reply coming in', () => fw.check(reply), JSON.stringify({ action: 'accept', by: 'established' })],
      ['the next packet going out', () => fw.check(request), JSON.stringify({ action: 'accept', by: 'established' })],
      ['tracked()', () => fw.tracked(), '1'],
    ];
    for (const [what, run, want] of steps) {
      const got = attempt(run);
      const shown = got.error !== undefined ? `threw ${thrown(got.error)}` : JSON.stringify(got.value);
      check(shown === want, {
        did: `after the steps before it, ${what} gave ${shown}`,
        expected: `${want}. The connection table lets the replies of an accepted connection in, without asking the rules again`,
        lesson: STATE,
      });
    }
  });

  it('works the other way round too: a server\'s replies go out to a connection that was accepted in', () => {
    // A server's firewall that lets nothing out unasked: only port 443 in.
    const fw = new Firewall({ rules: [{ action: 'accept', direction: 'in', port: 443 }], defaultAction: 'drop' });
    const hello = packet('203.0.113.9', '192.0.2.1', 443, 'in', 40_000);
    const answer: Packet = { direction: 'out', source: '192.0.2.1', sourcePort: 443, destination: '203.0.113.9', destinationPort: 40_000 };
    const before = attempt(() => fw.check(answer)).value;
    fw.check(hello);
    const after = attempt(() => fw.check(answer));
    check(before?.by === 'default' && before.action === 'drop' && after.value?.action === 'accept' && after.value.by === 'established', {
      did: `before any connection, the answer got ${showVerdict(before)}; after ${showPacket(hello)} was accepted, ${showPacket(answer)} ${after.error !== undefined ? outcome(after) : `got ${showVerdict(after.value)}`}`,
      expected: "drop by default first, then { action: 'accept', by: 'established' }: the reply of a connection opened 'in' travels 'out'",
      lesson: STATE,
    });
  });

  it('only the reply of that very connection passes: other ports, other hosts and new connections in are still dropped', () => {
    const fw = new Firewall(laptop);
    fw.check(request);
    const strangers: Packet[] = [
      { ...reply, destinationPort: 51_001 },
      { ...reply, sourcePort: 444 },
      { ...reply, source: '93.184.216.35' },
      { ...reply, destination: '192.168.1.8' },
      packet('93.184.216.34', '192.168.1.7', 22, 'in', 443),
      // The request's own endpoints, coming in: not the reply (that has them swapped) and not the connection.
      { ...request, direction: 'in' },
    ];
    for (const pk of strangers) {
      const got = attempt(() => fw.check(pk));
      check(got.value?.action === 'drop' && got.value.by === 'default', {
        did: `the connection ${showPacket(request)} is open; firewall.check(${showPacket(pk)}) ${got.error !== undefined ? outcome(got) : `returned ${showVerdict(got.value)}`}`,
        expected: "{ action: 'drop', by: 'default' }: a packet is established only if it belongs to that exact connection (both addresses and both ports)",
        lesson: STATE,
      });
    }
  });

  it('a connection that was rejected or dropped is not tracked, and its "replies" do not pass', () => {
    const fw = new Firewall({ rules: [{ action: 'reject', direction: 'out', port: 25 }, { action: 'drop', direction: 'out', port: 23 }, { action: 'accept', direction: 'out' }], defaultAction: 'drop' });
    for (const port of [25, 23]) {
      const out = packet('192.168.1.7', '198.51.100.1', port, 'out', 52_000);
      const back: Packet = { direction: 'in', source: '198.51.100.1', sourcePort: port, destination: '192.168.1.7', destinationPort: 52_000 };
      fw.check(out);
      const got = attempt(() => fw.check(back));
      check(got.value?.action === 'drop' && got.value.by === 'default' && fw.tracked() === 0, {
        did: `${showPacket(out)} was refused by a rule; then firewall.check(${showPacket(back)}) ${got.error !== undefined ? outcome(got) : `returned ${showVerdict(got.value)}`}, and tracked() is ${attempt(() => fw.tracked()).value}`,
        expected: "{ action: 'drop', by: 'default' } and tracked() 0: only accepted connections enter the table",
        lesson: STATE,
      });
    }
  });

  it('forget() ends a connection: its replies are dropped again, whichever way forget() was told', () => {
    for (const which of ['request', 'reply'] as const) {
      const fw = new Firewall(laptop);
      fw.check(request);
      const told = attempt(() => fw.forget(which === 'request' ? request : reply));
      const size = attempt(() => fw.tracked()).value;
      const got = attempt(() => fw.check(reply));
      check(told.error === undefined && size === 0 && got.value?.action === 'drop' && got.value.by === 'default', {
        did: `forget(the ${which}) ${told.error !== undefined ? `threw ${thrown(told.error)}` : 'returned'}; then tracked() was ${size} and the reply got ${got.error !== undefined ? outcome(got) : showVerdict(got.value)}`,
        expected: "tracked() 0 and { action: 'drop', by: 'default' }: a closed connection leaves the table, or every reply would pass forever",
        lesson: STATE,
      });
    }
  });

  it('tracks many connections at once and forgets only the one that ended', () => {
    const fw = new Firewall(laptop);
    const conns = [51_000, 51_001, 51_002].map((port) => ({ ...request, sourcePort: port }));
    conns.forEach((c) => fw.check(c));
    fw.forget(conns[1]!);
    const got = conns.map((c) => attempt(() => fw.check({ direction: 'in', source: c.destination, sourcePort: c.destinationPort, destination: c.source, destinationPort: c.sourcePort })).value?.by);
    check(fw.tracked() === 2 && got.join() === 'established,default,established', {
      did: `three connections out, the second forgotten: tracked() ${fw.tracked()}, their replies were decided by ${got.join(', ')}`,
      expected: 'tracked() 2; replies decided by established, default, established',
      lesson: STATE,
    });
  });
});

describe('the filtering proxy', () => {
  const PROXY = lesson('A firewall you can run: the filtering proxy');

  it('ACCEPT pipes the request to the server and the whole reply back, binary bytes included, across the client\'s half-close', async () => {
    const server = await startReplyServer();
    const fw = new Firewall(onlyRule('accept', server.port));
    const { proxy, at } = await startProxy(fw, { host: '127.0.0.1', port: server.port });
    const r = await probe(at.port, BINARY, LIMIT);
    const want = Buffer.concat([REPLY_PREFIX, BINARY]);
    check(r.ending === 'end' && r.received.equals(want) && server.requests[0]?.equals(BINARY), {
      did: `through your proxy, the server received ${server.requests[0] ? `${server.requests[0].length} bytes` : 'no complete request'}; the client saw ${r.ending} after ${r.received.length} bytes`,
      expected: `the server gets the ${BINARY.length} request bytes and its FIN; the client gets "reply:" + those bytes, then a FIN. The proxy must be half-open (allowHalfOpen): the client's FIN must not end the way back`,
      lesson: PROXY,
      transcript: r.transcript,
    });
    await eventually(() => proxy.stats().open === 0, LIMIT);
    const s = proxy.stats();
    check(s.accept === 1 && s.reject === 0 && s.drop === 0 && s.open === 0 && fw.tracked() === 0, {
      did: `after the exchange, stats() is ${JSON.stringify(s)} and the firewall tracks ${fw.tracked()} connection(s)`,
      expected: '{ accept: 1, reject: 0, drop: 0, open: 0 }, and 0 tracked: a finished connection is forgotten',
      lesson: PROXY,
    });
  });

  it('REJECT resets the connection at once: the client sees ECONNRESET, never a reply or a clean end', async () => {
    const server = await startReplyServer();
    const fw = new Firewall(onlyRule('reject', server.port));
    const { proxy, at } = await startProxy(fw, { host: '127.0.0.1', port: server.port });
    const r = await probe(at.port, Buffer.from('hello?'), LIMIT);
    check(r.ending === 'reset' && r.received.length === 0 && server.requests.length === 0, {
      did: `the client saw ${r.ending} after ${r.received.length} bytes; the server got ${server.requests.length} request(s)`,
      expected: 'a reset (ECONNRESET) right away: socket.resetAndDestroy() sends an RST. end() or destroy() would send a FIN, which looks like an empty answer, not a refusal',
      lesson: PROXY,
      transcript: r.transcript,
    });
    const s = proxy.stats();
    check(s.reject === 1 && s.accept === 0 && s.open === 0, { did: `stats() is ${JSON.stringify(s)}`, expected: '{ accept: 0, reject: 1, drop: 0, open: 0 }', lesson: PROXY });
  });

  it('DROP is silence: the connection stays open, nothing is forwarded, answered or closed', async () => {
    const server = await startReplyServer();
    const fw = new Firewall(onlyRule('drop', server.port));
    const { proxy, at } = await startProxy(fw, { host: '127.0.0.1', port: server.port });
    const r = await probe(at.port, Buffer.from('anyone there?'), SHORT_MS);
    check(r.ending === 'silence' && r.received.length === 0 && server.requests.length === 0, {
      did: `the client saw ${r.ending}${r.received.length ? ` after ${r.received.length} bytes` : ''}; the server got ${server.requests.length} request(s)`,
      expected: `silence for ${SHORT_MS} ms: no byte, no FIN, no reset, and nothing forwarded. Keep the socket, read and discard, never end it: only the client's own timeout may end this`,
      lesson: PROXY,
      transcript: r.transcript,
    });
    const held = proxy.stats();
    check(held.drop === 1 && held.accept === 0 && held.open === 1 && fw.tracked() === 0, {
      did: `while the client waited, stats() was ${JSON.stringify(held)} and the firewall tracked ${fw.tracked()} connection(s)`,
      expected: '{ accept: 0, reject: 0, drop: 1, open: 1 } (the proxy holds the connection), and 0 tracked: a dropped connection is not an accepted one',
      lesson: PROXY,
    });
    // A second client, still sending, gives up with a reset: its held socket gets an 'error', which must not crash the proxy.
    const second = await probe(at.port, Buffer.from('still there?'), 50, '127.0.0.1', true);
    await eventually(() => proxy.stats().open === 2, LIMIT);
    second.socket.resetAndDestroy();
    const released = await eventually(() => proxy.stats().open === 1, LIMIT);
    const next = await probe(at.port, Buffer.from('and now?'), 50);
    check(released && next.ending === 'silence' && proxy.stats().drop === 3, {
      did: `two clients held; after the second reset its connection, open ${released ? 'went back to 1' : `was ${proxy.stats().open}`}; the next client saw ${next.ending}; stats() ${JSON.stringify(proxy.stats())}`,
      expected: "open back to 1 (the reset closes that held socket; listen for its 'error'), and the proxy still holding the next client in silence",
      lesson: PROXY,
    });
    // Read and throw away: a client that sends a lot still gets all of it written. A proxy that never reads
    // leaves it stuck once both sockets' buffers are full (a few MiB on loopback).
    const heavy = await probe(at.port, Buffer.from('a lot follows'), 50, '127.0.0.1', true);
    const flood = Buffer.alloc(16 * 1024 * 1024, 0x61);
    const written = await settle(new Promise<void>((resolve) => heavy.socket.write(flood, () => resolve())), `writing ${flood.length} bytes to a dropped connection`);
    heavy.socket.resetAndDestroy();
    check(written.error === undefined, {
      did: `a client wrote 16 MiB into a dropped connection; the write ${written.error === undefined ? 'completed' : `never completed: ${thrown(written.error)}`}`,
      expected: 'the write completes: the proxy reads what arrives on a dropped connection and throws it away (socket.resume()), so the client is not stuck on a full buffer',
      lesson: PROXY,
    });
  });

  it('decides on the client\'s own address, over IPv6 too', async () => {
    const server = await startReplyServer();
    const real = new Firewall({ rules: [{ action: 'drop', source: '::1' }, { action: 'accept', source: '127.0.0.1' }], defaultAction: 'reject' });
    const asked: Packet[] = [];
    const fw = Object.assign(Object.create(real) as Firewall, {
      check: (p: Packet) => {
        asked.push({ ...p });
        return real.check(p);
      },
    });
    const v6 = await startProxy(fw, { host: '127.0.0.1', port: server.port }, LOOPBACK6);
    const v4 = await startProxy(fw, { host: '127.0.0.1', port: server.port });
    const r6 = await probe(v6.at.port, BINARY, 100, LOOPBACK6);
    const r4 = await probe(v4.at.port, BINARY, LIMIT);
    check(v6.at.host === LOOPBACK6 && r6.ending === 'silence' && r4.ending === 'end' && r4.received.equals(Buffer.concat([REPLY_PREFIX, BINARY])), {
      did: `a proxy on ${v6.at.host}: a client from ::1 saw ${r6.ending}; a proxy on ${v4.at.host}: a client from 127.0.0.1 saw ${r4.ending} after ${r4.received.length} bytes`,
      expected: 'the proxy listens on the host it was given; the packet it asks about has source = the client\'s remoteAddress (::1 is dropped, 127.0.0.1 accepted)',
      lesson: PROXY,
      transcript: r6.ending !== 'silence' ? r6.transcript : r4.transcript,
    });
    const want: Packet[] = [
      { direction: 'in', source: LOOPBACK6, sourcePort: r6.localPort ?? -1, destination: '127.0.0.1', destinationPort: server.port },
      { direction: 'in', source: '127.0.0.1', sourcePort: r4.localPort ?? -1, destination: '127.0.0.1', destinationPort: server.port },
    ];
    check(JSON.stringify(asked) === JSON.stringify(want), {
      did: `your proxy asked firewall.check about ${asked.length ? asked.map(showPacket).join(' and ') : 'nothing'}`,
      expected: `${want.map(showPacket).join(' and ')}: direction 'in', the client's remoteAddress and remotePort, the target's host and port`,
      lesson: PROXY,
    });
  });

  it('carries a half-close the other way too: a server that ends first still gets the rest of the request', async () => {
    // A server that greets and ends its side at once, then reads the request to its end.
    const got: Buffer[] = [];
    let requestEnded = false;
    const greeter = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      s.end('hello\n');
      s.on('data', (d: Buffer) => got.push(d));
      s.on('end', () => (requestEnded = true));
    });
    const port = await listen(greeter);
    const { at } = await startProxy(new Firewall({ rules: [], defaultAction: 'accept' }), { host: '127.0.0.1', port });
    const c = await probe(at.port, Buffer.alloc(0), LIMIT, '127.0.0.1', true);
    c.socket.on('error', () => {});
    if (c.ending === 'end') c.socket.end(BINARY);
    const arrived = await eventually(() => requestEnded, LIMIT);
    check(c.ending === 'end' && c.received.toString() === 'hello\n' && arrived && Buffer.concat(got).equals(BINARY), {
      did: `the client saw ${c.ending} after ${JSON.stringify(c.received.toString('latin1'))}; then it sent ${BINARY.length} bytes and its FIN, and the server received ${Buffer.concat(got).length} bytes${arrived ? ' and the FIN' : ' and no FIN'}`,
      expected: 'the greeting and a FIN for the client; then the client\'s bytes and FIN reach the server: the connection to the target must be half-open as well (allowHalfOpen on net.connect)',
      lesson: PROXY,
      transcript: c.transcript,
    });
  });

  it('a client that resets ends its connection to the server too', async () => {
    const server = await startSilentServer();
    const { proxy, at } = await startProxy(new Firewall({ rules: [], defaultAction: 'accept' }), { host: '127.0.0.1', port: server.port });
    const rude = await probe(at.port, Buffer.from('half a req'), 30, '127.0.0.1', true);
    await eventually(() => server.accepted.length === 1, LIMIT);
    rude.socket.resetAndDestroy();
    const upstreamGone = await eventually(() => server.accepted[0]?.destroyed === true || server.accepted[0]?.readableEnded === true, LIMIT);
    const closedHere = await eventually(() => proxy.stats().open === 0, LIMIT);
    check(upstreamGone && closedHere, {
      did: `a client reset its connection; the proxy's connection to the server ${upstreamGone ? 'ended' : 'stayed open'}; open is ${proxy.stats().open}`,
      expected: 'the connection to the server ended too (an error on the client side destroys the upstream socket), and open 0',
      lesson: PROXY,
    });
  });

  it('survives a client that resets mid-stream and a server that is down, and keeps serving', async () => {
    const server = await startReplyServer();
    const fw = new Firewall(onlyRule('accept', server.port));
    const { proxy, at } = await startProxy(fw, { host: '127.0.0.1', port: server.port });
    const rude = await probe(at.port, Buffer.from('half a req'), 50, '127.0.0.1', true);
    rude.socket.resetAndDestroy();
    const down = await closedPort();
    const dead = await startProxy(new Firewall({ rules: [], defaultAction: 'accept' }), { host: '127.0.0.1', port: down });
    const toDead = await probe(dead.at.port, Buffer.from('hello'), LIMIT);
    const after = await probe(at.port, BINARY, LIMIT);
    await eventually(() => proxy.stats().open === 0, LIMIT);
    check(toDead.ending === 'reset' && after.ending === 'end' && after.received.equals(Buffer.concat([REPLY_PREFIX, BINARY])) && proxy.stats().open === 0, {
      did: `with the server down, the client saw ${toDead.ending}; after a client reset mid-stream, the next client saw ${after.ending} after ${after.received.length} bytes; open is ${proxy.stats().open}`,
      expected: 'a server that refuses becomes a reset for the client; a client\'s reset never crashes the proxy (listen for "error" on both sockets) and the next client is served; open 0 at the end',
      lesson: PROXY,
      transcript: after.transcript,
    });
  });

  it('start() rejects with the listen error when the port is taken, and close() before start() resolves', async () => {
    const taken = await listen(net.createServer());
    const proxy = new FilteringProxy({ firewall: new Firewall({ rules: [], defaultAction: 'accept' }), target: { host: '127.0.0.1', port: taken }, port: taken });
    const early = await settle(proxy.close(), 'FilteringProxy.close() before start()');
    const r = await settle(proxy.start(), 'FilteringProxy.start() on a port in use', 'listen() reports a taken port with an "error" event, not "listening".');
    await settle(proxy.close(), 'FilteringProxy.close()');
    check(early.error === undefined && (r.error as { code?: string } | undefined)?.code === 'EADDRINUSE', {
      did: `close() before start() ${outcome(early)}; start() on port ${taken}, already in use, ${outcome(r)}`,
      expected: "close() before start() resolves (nothing to close); start() rejects with Node's error, code 'EADDRINUSE': listen for the server's 'error' until 'listening'",
      lesson: PROXY,
    });
  });

  it('a packet the firewall cannot read is refused, and the proxy goes on', async () => {
    const server = await startReplyServer();
    let calls = 0;
    // A firewall that fails on the first packet it is asked about (as a real one would on an address it cannot parse).
    const real = new Firewall({ rules: [], defaultAction: 'accept' });
    const flaky = Object.assign(Object.create(real) as Firewall, {
      check: (p: Packet) => {
        if (++calls === 1) throw new RuleError('ERR_BAD_ADDRESS', p.source);
        return real.check(p);
      },
    });
    const { proxy, at } = await startProxy(flaky, { host: '127.0.0.1', port: server.port });
    const first = await probe(at.port, BINARY, LIMIT);
    const second = await probe(at.port, BINARY, LIMIT);
    check(first.ending === 'reset' && second.ending === 'end' && second.received.equals(Buffer.concat([REPLY_PREFIX, BINARY])) && proxy.stats().reject === 1, {
      did: `firewall.check threw on the first connection: the client saw ${first.ending}; the next client saw ${second.ending} after ${second.received.length} bytes; stats() ${JSON.stringify(proxy.stats())}`,
      expected: 'the first connection reset and counted as a reject (a packet that cannot be judged is refused), and the proxy still serving the next one',
      lesson: PROXY,
      transcript: first.transcript,
    });
  });

  it('close() ends held and piped connections and stops listening', async () => {
    const server = await startSilentServer();
    const piping = await startProxy(new Firewall({ rules: [], defaultAction: 'accept' }), { host: '127.0.0.1', port: server.port });
    const holding = await startProxy(new Firewall({ rules: [], defaultAction: 'drop' }), { host: '127.0.0.1', port: server.port });
    const piped = await probe(piping.at.port, Buffer.from('x'), 50, '127.0.0.1', true);
    const held = await probe(holding.at.port, Buffer.from('x'), 50, '127.0.0.1', true);
    await eventually(() => server.accepted.length === 1, LIMIT);
    for (const [what, { proxy, at }, client] of [['piped', piping, piped], ['held (dropped)', holding, held]] as const) {
      const closing = await settle(proxy.close(), 'FilteringProxy.close()', 'It resolves once the server and every socket it holds have closed.');
      const openAtClose = proxy.stats().open;
      const ended = await eventually(() => client.socket.destroyed || client.socket.readableEnded, LIMIT);
      const again = await probe(at.port, Buffer.from('x'), LIMIT);
      const twice = await settle(proxy.close(), 'a second FilteringProxy.close()');
      check(closing.error === undefined && ended && again.ending === 'refused' && openAtClose === 0 && twice.error === undefined, {
        did: `with a ${what} connection open, close() ${outcome(closing)}; open was ${openAtClose} when it resolved; the client ${ended ? 'was ended' : 'stayed open'}; a new client saw ${again.ending}; a second close() ${outcome(twice)}`,
        expected: 'close() resolves only once every connection it held has closed (open is 0 by then), the port refuses new connections (ECONNREFUSED), and a second close() resolves too',
        lesson: PROXY,
      });
    }
  });
});

describe('the client: refused, dropped, reset', () => {
  const CLIENT = lesson('Refused or dropped: what the client sees');
  const TIMEOUTS = lesson('Connect, idle and overall timeouts');

  it('gets the whole reply, binary bytes included, and sends the request as it was at the call', async () => {
    const server = await startReplyServer();
    const { dial, sockets } = recordingDial();
    const big = Buffer.alloc(64, 0x2e);
    BINARY.copy(big, 10);
    const request = big.subarray(10, 10 + BINARY.length);
    const call = callOnce({ host: '127.0.0.1', port: server.port, request, dial });
    big.fill(0xee); // the caller reuses its buffer at once
    const r = await settle(call, 'callOnce() to a server that answers');
    const want = Buffer.concat([REPLY_PREFIX, BINARY]);
    check(Buffer.isBuffer(r.value) && r.value.equals(want) && server.requests[0]?.equals(BINARY), {
      did: `callOnce ${outcome(r)}; the server received ${server.requests[0] ? `${server.requests[0].length} bytes: ${server.requests[0].toString('hex')}` : 'nothing whole'}`,
      expected: `the server gets the request bytes (${BINARY.toString('hex')}, copied at the call, from a view at offset 10) and its FIN; callOnce resolves with "reply:" + them`,
      lesson: CLIENT,
    });
    const closed = await eventually(() => sockets.every((s) => s.destroyed), LIMIT);
    check(sockets.length === 1 && closed, {
      did: `callOnce opened ${sockets.length} socket(s) through options.dial; ${closed ? 'all closed' : 'one is still open'} after it resolved`,
      expected: 'one socket, opened with options.dial, and closed once the reply is complete',
      lesson: CLIENT,
    });
  });

  it('tells refused from dropped: nobody listening and a REJECT are RefusedError, a DROP is a TimeoutError', async () => {
    const server = await startReplyServer();
    const down = await closedPort();
    const rejecting = await startProxy(new Firewall(onlyRule('reject', server.port)), { host: '127.0.0.1', port: server.port });
    const dropping = await startProxy(new Firewall(onlyRule('drop', server.port)), { host: '127.0.0.1', port: server.port });
    const opts = { host: '127.0.0.1', request: Buffer.from('ping'), connectTimeoutMs: LIMIT, idleTimeoutMs: SHORT_MS };
    const [closed, rejected, dropped] = await Promise.all([
      settle(callOnce({ ...opts, port: down }), 'callOnce() to a closed port'),
      settle(callOnce({ ...opts, port: rejecting.at.port }), 'callOnce() through a rejecting proxy'),
      settle(callOnce({ ...opts, port: dropping.at.port }), 'callOnce() through a dropping proxy', `Its idle timeout (${SHORT_MS} ms) should have fired.`),
    ]);
    for (const [what, r, port, causes] of [['a closed port (ECONNREFUSED)', closed, down, ['ECONNREFUSED']], ['a REJECT (a reset right after connecting)', rejected, rejecting.at.port, ['ECONNRESET', 'EPIPE']]] as const) {
      const cause = (r.error as { cause?: { code?: string } } | undefined)?.cause?.code;
      check(r.error instanceof RefusedError && r.error instanceof CallError && r.error.code === 'ERR_REFUSED' && r.error.host === '127.0.0.1' && r.error.port === port && (causes as readonly string[]).includes(cause ?? ''), {
        did: `callOnce to ${what} ${outcome(r)}${cause ? `, cause ${cause}` : ', no cause'}`,
        expected: `a RefusedError with code 'ERR_REFUSED', host '127.0.0.1', port ${port}, and Node's error (${causes.join(' or ')}) as its cause: ECONNREFUSED, and ECONNRESET before any reply byte, both mean someone said no`,
        lesson: CLIENT,
      });
    }
    check(dropped.error instanceof TimeoutError && dropped.error instanceof CallError && dropped.error.code === 'ERR_TIMEOUT' && dropped.error.phase === 'idle' && dropped.error.ms === SHORT_MS && dropped.error.port === dropping.at.port, {
      did: `callOnce through a proxy that drops ${outcome(dropped)}`,
      expected: `a TimeoutError with code 'ERR_TIMEOUT', phase 'idle' and ms ${SHORT_MS}: the proxy accepted the connection, so it is the idle timeout that fires`,
      lesson: CLIENT,
    });
  });

  it('a connect that never completes ends with a connect timeout, not an idle one', async () => {
    const { dial, sockets } = blackHoleDial();
    const r = await settle(callOnce({ host: '10.213.0.2', port: 7002, request: Buffer.from('x'), connectTimeoutMs: SHORT_MS, idleTimeoutMs: LIMIT * 5, dial }), 'callOnce() whose connection never completes', `Its connect timeout (${SHORT_MS} ms) should have fired.`);
    check(r.error instanceof TimeoutError && r.error.code === 'ERR_TIMEOUT' && r.error.phase === 'connect' && r.error.ms === SHORT_MS && r.error.host === '10.213.0.2' && r.error.port === 7002, {
      did: `a dial whose socket never connects (as when a kernel firewall drops the SYN): callOnce ${outcome(r)}`,
      expected: `a TimeoutError with phase 'connect', ms ${SHORT_MS}, host '10.213.0.2', port 7002: use options.dial, and socket.setTimeout(connectTimeoutMs) until 'connect'`,
      lesson: TIMEOUTS,
    });
    check(sockets.length === 1 && sockets[0]!.destroyed, {
      did: `${sockets.length} socket(s) dialled; ${sockets[0]?.destroyed ? 'destroyed' : 'still open'} after the timeout`,
      expected: 'the socket destroyed when the connect timeout fires',
      lesson: TIMEOUTS,
    });
  });

  it('an idle timeout destroys the socket, not just notifies', async () => {
    const server = await startSilentServer();
    const { dial, sockets } = recordingDial();
    let destroyedAtRejection: boolean | undefined;
    const r = await settle(
      callOnce({ host: '127.0.0.1', port: server.port, request: Buffer.from('hello?'), idleTimeoutMs: SHORT_MS, dial }).catch((e: unknown) => {
        destroyedAtRejection = sockets[0]?.destroyed;
        throw e;
      }),
      'callOnce() to a server that never answers',
      `Its idle timeout (${SHORT_MS} ms) should have fired.`,
    );
    check(r.error instanceof TimeoutError && r.error.phase === 'idle' && r.error.ms === SHORT_MS, {
      did: `callOnce to a silent server ${outcome(r)}`,
      expected: `a TimeoutError with phase 'idle' and ms ${SHORT_MS}`,
      lesson: TIMEOUTS,
    });
    const serverSaw = await eventually(() => server.accepted[0]?.readableEnded === true || server.accepted[0]?.destroyed === true, LIMIT);
    check(destroyedAtRejection === true && serverSaw, {
      did: `when callOnce rejected, its socket was ${destroyedAtRejection ? 'destroyed' : 'still open'}; the server ${serverSaw ? 'saw the connection end' : 'still had the connection open a while later'}`,
      expected: "socket.destroyed true when the promise rejects: 'timeout' is only a notice, socket.setTimeout never closes anything. Call socket.destroy() in the 'timeout' handler",
      lesson: TIMEOUTS,
    });
  });

  it('the idle timer restarts with every byte: a slow but steady reply completes', async () => {
    const { port } = await startTricklingServer(5, SHORT_MS / 4);
    const r = await settle(callOnce({ host: '127.0.0.1', port, request: Buffer.from('slowly'), idleTimeoutMs: SHORT_MS }), 'callOnce() to a slow, steady server');
    check(Buffer.isBuffer(r.value) && r.value.equals(Buffer.from([0x80, 0x81, 0x82, 0x83, 0x84])), {
      did: `a server sent 5 bytes ${SHORT_MS / 4} ms apart then ended (the whole reply takes longer than the idle timeout of ${SHORT_MS} ms); callOnce ${outcome(r)}`,
      expected: 'the 5 bytes: the idle timeout measures silence, not the length of the call (socket.setTimeout restarts on every byte)',
      lesson: TIMEOUTS,
    });
  });

  it('the overall deadline ends a call that never falls silent', async () => {
    const { port } = await startTricklingServer(Infinity, 40);
    const { dial, sockets } = recordingDial();
    const r = await settle(callOnce({ host: '127.0.0.1', port, request: Buffer.from('x'), idleTimeoutMs: SHORT_MS, deadlineMs: SHORT_MS * 2, dial }), 'callOnce() with a deadline', 'The deadline should have fired.');
    check(r.error instanceof TimeoutError && r.error.code === 'ERR_TIMEOUT' && r.error.phase === 'deadline' && r.error.ms === SHORT_MS * 2 && sockets[0]?.destroyed === true, {
      did: `a server sends a byte every 40 ms forever; with idleTimeoutMs ${SHORT_MS} and deadlineMs ${SHORT_MS * 2}, callOnce ${outcome(r)}; its socket is ${sockets[0]?.destroyed ? 'destroyed' : 'still open'}`,
      expected: `a TimeoutError with phase 'deadline' and ms ${SHORT_MS * 2}, and the socket destroyed: a trickle defeats an idle timeout, only a deadline bounds the whole call`,
      lesson: TIMEOUTS,
    });
  });

  it('clears its deadline timer when the call ends first', async () => {
    const server = await startReplyServer();
    const timers = watchClientTimers();
    const r = await settle(callOnce({ host: '127.0.0.1', port: server.port, request: BINARY, deadlineMs: 5 * LIMIT }), 'callOnce() with a long deadline');
    const left = timers.pending();
    check(Buffer.isBuffer(r.value) && left === 0, {
      did: `callOnce ${outcome(r)}; ${left} timer(s) of yours still pending afterwards`,
      expected: 'the reply, and no timer left: clear the deadline timer however the call settles (a forgotten one keeps the process alive and fires later)',
      lesson: TIMEOUTS,
    });
  });

  it('a reset after part of the reply is a ResetError, not a refusal', async () => {
    const { port } = await startResetMidReplyServer(Buffer.from([0xff, 0x80, 0x41]));
    const r = await settle(callOnce({ host: '127.0.0.1', port, request: Buffer.from('x'), idleTimeoutMs: LIMIT }), 'callOnce() to a server that resets mid-reply');
    const cause = (r.error as { cause?: { code?: string } } | undefined)?.cause?.code;
    check(r.error instanceof ResetError && r.error instanceof CallError && r.error.code === 'ERR_RESET' && r.error.port === port && (cause === 'ECONNRESET' || cause === 'EPIPE'), {
      did: `a server sent 3 bytes, then reset the connection; callOnce ${outcome(r)}${cause ? `, cause ${cause}` : ''}`,
      expected: "a ResetError with code 'ERR_RESET' and Node's error (ECONNRESET) as its cause: part of an answer is no answer, and nobody refused anything",
      lesson: CLIENT,
    });
  });
});

describe('backoff with jitter', () => {
  const BACKOFF = lesson('Backoff and jitter');
  const policy = { baseMs: 100, capMs: 1_000 };

  it('retry delays grow and are capped: the ceiling doubles from baseMs up to capMs', () => {
    // With random() = 0.5 every delay is half its ceiling: 100, 200, 400, 800, then 1000 for ever.
    const want = [50, 100, 200, 400, 500, 500, 500];
    const got = want.map((_, retry) => attempt(() => backoffDelay(retry, policy, () => 0.5)));
    check(got.every((g, i) => typeof g.value === 'number' && Math.abs(g.value - want[i]!) <= 1), {
      did: `backoffDelay(0..6, { baseMs: 100, capMs: 1000 }, () => 0.5) gave ${got.map((g) => (g.error !== undefined ? thrown(g.error) : String(g.value))).join(', ')}`,
      expected: `${want.join(', ')}: random() times min(capMs, baseMs * 2 ** retry)`,
      lesson: BACKOFF,
    });
  });

  it('the cap holds however many retries came before', () => {
    for (const retry of [10, 31, 32, 53, 1_100]) {
      const got = attempt(() => backoffDelay(retry, policy, () => 0.999));
      check(typeof got.value === 'number' && got.value <= 1_000 && got.value >= 998, {
        did: `backoffDelay(${retry}, { baseMs: 100, capMs: 1000 }, () => 0.999) ${outcome(got)}`,
        expected: 'about 999: the ceiling is capMs, even when baseMs * 2 ** retry is huge or Infinity (use 2 ** retry, not 1 << retry, which wraps at 32)',
        lesson: BACKOFF,
      });
    }
  });

  it('jitter stays inside its bounds: from 0 up to the ceiling', () => {
    for (const [retry, r, lo, hi] of [[0, 0, 0, 0], [3, 0, 0, 0], [0, 0.9999, 99, 100], [2, 0.25, 99, 101], [6, 0.9999, 999, 1_000], [6, 0, 0, 0]] as const) {
      const got = attempt(() => backoffDelay(retry, policy, () => r));
      check(typeof got.value === 'number' && got.value >= lo && got.value <= hi, {
        did: `backoffDelay(${retry}, { baseMs: 100, capMs: 1000 }, () => ${r}) ${outcome(got)}`,
        expected: `between ${lo} and ${hi}: full jitter, a uniform time in [0, ceiling], the cap applied before the jitter, never after`,
        lesson: BACKOFF,
      });
    }
    const seed = testSeed();
    forAllSync(
      fc.record({ retry: fc.integer({ min: 0, max: 40 }), baseMs: fc.integer({ min: 1, max: 2_000 }), capMs: fc.integer({ min: 1, max: 60_000 }), seed: fc.integer() }),
      ({ retry, baseMs, capMs, seed: s }) => {
        const random = seededRandom(s);
        const ceiling = Math.min(capMs, baseMs * 2 ** retry);
        const got = attempt(() => backoffDelay(retry, { baseMs, capMs }, random));
        check(typeof got.value === 'number' && got.value >= 0 && got.value <= ceiling, {
          did: `backoffDelay(${retry}, { baseMs: ${baseMs}, capMs: ${capMs} }, a seeded random) ${outcome(got)}`,
          expected: `a delay in [0, ${ceiling}]`,
          lesson: BACKOFF,
          extra: `seed ${seed}`,
        });
      },
    );
  });
});

describe('retries', () => {
  const RETRIES = lesson('Retrying safely');
  const refused = () => new RefusedError('127.0.0.1', 7001);

  it('retries a failed idempotent call after each backoff delay, on the clock, until it succeeds', async () => {
    const clock = new FakeClock(1_000);
    const calls: number[] = [];
    const random = scripted([0.5, 0.25]);
    const work = withRetries(
      async (n) => {
        calls.push(n);
        if (n < 3) throw refused();
        return 'ok';
      },
      { attempts: 5, baseMs: 100, capMs: 1_000, idempotent: true, clock, random },
    );
    const r = await driveRetries(clock, work);
    check(r.value === 'ok' && calls.join() === '1,2,3' && r.waits.length === 2 && Math.abs(r.waits[0]! - 50) <= 1 && Math.abs(r.waits[1]! - 50) <= 1 && clock.pendingCount() === 0, {
      did: `the first two tries were refused; withRetries ${outcome(r)}, called attempt(${calls.join('), attempt(')}), and waited ${r.waits.join(' ms, ')} ms on the clock; ${clock.pendingCount()} timer(s) left`,
      expected: 'attempt(1), wait backoffDelay(0) = 0.5 * 100 = 50 ms, attempt(2), wait backoffDelay(1) = 0.25 * 200 = 50 ms, attempt(3) resolves "ok"; all waits on options.clock, none left after',
      lesson: RETRIES,
    });
  });

  it('gives up after N tries with GaveUpError carrying the count and every error', async () => {
    const clock = new FakeClock();
    const thrownErrors: CallError[] = [];
    let calls = 0;
    const work = withRetries(
      async () => {
        calls++;
        const e = calls % 2 ? refused() : new TimeoutError('127.0.0.1', 7002, 'connect', 300);
        thrownErrors.push(e);
        throw e;
      },
      { attempts: 4, baseMs: 100, capMs: 250, idempotent: true, clock, random: () => 0.9999 },
    );
    const r = await driveRetries(clock, work);
    const e = r.error as GaveUpError;
    check(e instanceof GaveUpError && e.code === 'ERR_GAVE_UP' && e.attempts === 4 && calls === 4 && e.errors.length === 4 && e.errors.every((x, i) => x === thrownErrors[i]) && e.cause === thrownErrors[3], {
      did: `every try failed; withRetries ${outcome(r)} after ${calls} tries${e instanceof GaveUpError ? `, with ${e.errors?.length} errors` : ''}`,
      expected: "after exactly 4 tries: a GaveUpError with code 'ERR_GAVE_UP', attempts 4, errors = the 4 errors in order, cause = the last",
      lesson: RETRIES,
    });
    check(r.waits.length === 3 && r.waits.every((w, i) => Math.abs(w - 0.9999 * Math.min(250, 100 * 2 ** i)) <= 1) && clock.pendingCount() === 0, {
      did: `waits on the clock: ${r.waits.join(', ')} ms; ${clock.pendingCount()} timer(s) left`,
      expected: 'three waits (none after the last try): about 100, 200, 250 (capped), and no timer left',
      lesson: RETRIES,
    });
  });

  it('never retries a non-idempotent call: one try, and its own error', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const first = refused();
    const r = await driveRetries(
      clock,
      withRetries(
        async () => {
          calls++;
          throw first;
        },
        { attempts: 5, baseMs: 100, capMs: 1_000, idempotent: false, clock, random: () => 0.5 },
      ),
    );
    check(calls === 1 && r.error === first && clock.pendingCount() === 0, {
      did: `a non-idempotent call was refused; withRetries called attempt ${calls} time(s) and ${outcome(r)}`,
      expected: 'one try, and the RefusedError itself: a call that must not run twice is never retried (the first may have done its work before the failure)',
      lesson: RETRIES,
    });
  });

  it('does not retry an error that is not a network failure', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const bug = new TypeError('a bug in the caller');
    const r = await driveRetries(
      clock,
      withRetries(
        async () => {
          calls++;
          throw bug;
        },
        { attempts: 5, baseMs: 100, capMs: 1_000, idempotent: true, clock, random: () => 0.5 },
      ),
    );
    check(calls === 1 && r.error === bug, {
      did: `the attempt threw a TypeError; withRetries called it ${calls} time(s) and ${outcome(r)}`,
      expected: 'one try, and that TypeError as it is: only CallErrors are worth another try',
      lesson: RETRIES,
    });
  });

  it('resolves at once, with no wait, when the first try succeeds', async () => {
    const clock = new FakeClock();
    const r = await settle(withRetries(async (n) => `try ${n}`, { attempts: 3, baseMs: 100, capMs: 1_000, idempotent: false, clock, random: () => 0.5 }), 'withRetries() whose first try succeeds');
    check(r.value === 'try 1' && clock.pendingCount() === 0, {
      did: `withRetries ${outcome(r)}; ${clock.pendingCount()} timer(s) on the clock`,
      expected: '"try 1" and no timer',
      lesson: RETRIES,
    });
  });

  it('with callOnce: a refused idempotent call is retried and gets the reply on the third try', async () => {
    const server = await startReplyServer();
    let seen = 0;
    // A gate in front of the server that resets the first two connections, as a server still starting up might.
    const gate = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      if (++seen <= 2) return s.resetAndDestroy();
      const up = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
      up.on('error', () => s.destroy());
      s.pipe(up).pipe(s);
    });
    const port = await listen(gate);
    const clock = new FakeClock();
    const r = await driveRetries(clock, withRetries(() => callOnce({ host: '127.0.0.1', port, request: BINARY, idleTimeoutMs: LIMIT }), { attempts: 3, baseMs: 100, capMs: 1_000, idempotent: true, clock, random: () => 0.5 }));
    check(Buffer.isBuffer(r.value) && r.value.equals(Buffer.concat([REPLY_PREFIX, BINARY])) && seen === 3, {
      did: `the first two connections were reset at once; withRetries(callOnce) ${outcome(r)} after ${seen} connection(s)`,
      expected: 'three connections, and the reply from the third: a refusal is a CallError worth retrying when the call is idempotent',
      lesson: RETRIES,
    });
  });
});

describe('a real kernel firewall (nftables in network namespaces)', () => {
  kernelFirewallGroup();
});
