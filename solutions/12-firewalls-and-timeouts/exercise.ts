/**
 * Chapter 12 · When the port goes dark: the rule engine of a packet filter.
 *
 * Ordered rules, first match wins, addresses by CIDR prefix (IPv4 and IPv6), destination ports by
 * range, a direction, a default policy, and a stateful "established" allowance: once a connection
 * was accepted, its later packets and its replies pass without going through the rules again.
 * The filtering proxy is in ./proxy.ts, the client with timeouts and retries in ./client.ts.
 *
 * Read chapters/12-firewalls-and-timeouts/lesson.md first. Check your work with `npm run workbook -- check 12`.
 */

/** What a firewall does with a packet: let it through, refuse it with a reset, or swallow it in silence. */
export type Action = 'accept' | 'reject' | 'drop';

/** Which way a packet travels, seen from the machine the firewall protects: 'in' toward it, 'out' away from it. */
export type Direction = 'in' | 'out';

/** An inclusive range of ports: `{ from: 8000, to: 8099 }` holds both 8000 and 8099. */
export interface PortRange {
  from: number;
  to: number;
}

/** One rule: every condition it names must hold for it to match; a condition left out matches anything. */
export interface Rule {
  /** What happens to a packet this rule matches. */
  action: Action;
  /** Only packets travelling this way; both ways when left out. */
  direction?: Direction;
  /** Source address or prefix in CIDR notation: '10.0.0.0/8', '192.168.1.7' (a /32), '::1' (a /128). */
  source?: string;
  /** Destination address or prefix, written like `source`. */
  destination?: string;
  /** Destination port, or an inclusive range of destination ports. */
  port?: number | PortRange;
  /** A note for people reading the rules; matching ignores it. */
  comment?: string;
}

/** A firewall's configuration: the rules, in order, and what happens to a packet that no rule matches. */
export interface Policy {
  rules: readonly Rule[];
  defaultAction: Action;
}

/** The parts of a TCP packet that a packet filter looks at. */
export interface Packet {
  direction: Direction;
  source: string;
  sourcePort: number;
  destination: string;
  destinationPort: number;
}

/** The decision on one packet and what made it: a rule (with its index), the connection table, or the default. */
export interface Verdict {
  action: Action;
  by: 'rule' | 'established' | 'default';
  /** Index in `rules` of the rule that matched; only when `by` is 'rule'. */
  rule?: number;
}

/** An IP address as a number: 32 bits for IPv4, 128 for IPv6. */
export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

/** A CIDR prefix: the first `length` bits of `network` (host bits already cleared). */
export interface Prefix {
  family: 4 | 6;
  network: bigint;
  length: number;
}

/** Bits in an address of each family (RFC 791 §3.1; RFC 4291 §2). */
export const ADDRESS_BITS = { 4: 32, 6: 128 } as const;
/** The largest TCP port: ports are 16-bit numbers (RFC 9293 §3.1). */
export const MAX_PORT = 65_535;

/** The stable codes of RuleError. */
export type RuleErrorCode = 'ERR_BAD_ADDRESS' | 'ERR_BAD_PREFIX' | 'ERR_BAD_PORT';

/** A rule or a packet that cannot be read: a malformed address or prefix, or a port outside 0-65535. */
export class RuleError extends Error {
  override name = 'RuleError';

  constructor(
    /** Stable code: check this, never the message. */
    readonly code: RuleErrorCode,
    /** The text or value that was wrong, as given. */
    readonly input: string,
    /** Index of the rule it was found in, when the Firewall constructor checked the rules. */
    readonly rule?: number,
  ) {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: only the message text changes, and tests never read messages
    super(`${code}: ${JSON.stringify(input)}${rule === undefined ? '' : ` in rule ${rule}`}`);
  }
}

/** Read '192.168.1.7' or '2001:db8::1' (with `::` compression; no zone, no embedded IPv4) into a number. */
export function parseAddress(text: string): IpAddress {
  // A colon can only be IPv6, a dot only IPv4; anything else is neither.
  if (text.includes(':')) return { family: 6, value: parseIpv6(text) };
  return { family: 4, value: parseIpv4(text) };
}

const IPV4_PART = /^(0|[1-9]\d{0,2})$/;
const IPV6_GROUP = /^[0-9a-f]{1,4}$/i;

function parseIpv4(text: string): bigint {
  const parts = text.split('.');
  if (parts.length !== 4) throw new RuleError('ERR_BAD_ADDRESS', text);
  let value = 0n;
  for (const part of parts) {
    // Decimal only, no leading zeros: '010' would be octal to some parsers and decimal to others.
    if (!IPV4_PART.test(part) || Number(part) > 255) throw new RuleError('ERR_BAD_ADDRESS', text);
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

function parseIpv6(text: string): bigint {
  const halves = text.split('::');
  if (halves.length > 2) throw new RuleError('ERR_BAD_ADDRESS', text);
  const groupsOf = (half: string) => (half === '' ? [] : half.split(':'));
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  // Without '::' all eight groups are written; with it, '::' stands for at least one group of zeros.
  if (halves.length === 1 ? missing !== 0 : missing < 1) throw new RuleError('ERR_BAD_ADDRESS', text);
  // `missing` is 0 when there is no '::', so this fills only what '::' stands for.
  const groups = [...head, ...Array<string>(missing).fill('0'), ...tail];
  let value = 0n;
  for (const group of groups) {
    if (!IPV6_GROUP.test(group)) throw new RuleError('ERR_BAD_ADDRESS', text);
    value = (value << 16n) | BigInt(`0x${group}`);
  }
  return value;
}

/** Read '10.0.0.0/8' or a bare address (a prefix of the full length) into a Prefix, clearing any host bits. */
export function parsePrefix(text: string): Prefix {
  const slash = text.indexOf('/');
  const address = parseAddress(slash === -1 ? text : text.slice(0, slash));
  const bits = ADDRESS_BITS[address.family];
  const lengthText = slash === -1 ? String(bits) : text.slice(slash + 1);
  const length = Number(lengthText);
  if (!/^\d{1,3}$/.test(lengthText) || length > bits) throw new RuleError('ERR_BAD_PREFIX', text);
  // Host bits are ignored, as iptables and nftables do: 10.1.2.3/8 means 10.0.0.0/8.
  return { family: address.family, network: address.value & maskOf(length, bits), length };
}

/** The mask of a prefix length: `length` one-bits followed by zeros, `bits` wide. */
function maskOf(length: number, bits: number): bigint {
  // bigint shifts have no 32-bit wrap-around: a /0 mask is 0 and a /32 mask is all ones.
  return ((1n << BigInt(length)) - 1n) << BigInt(bits - length);
}

/** Whether `address` lies inside `prefix`; an address of the other family never does. */
export function prefixContains(prefix: Prefix, address: IpAddress): boolean {
  const bits = ADDRESS_BITS[prefix.family];
  return prefix.family === address.family && (address.value & maskOf(prefix.length, bits)) === prefix.network;
}

/** A port range, checked: whole numbers in 0-65535, from <= to. A single port is a range of one. */
function portRangeOf(port: number | PortRange): PortRange {
  const range = typeof port === 'number' ? { from: port, to: port } : port;
  const ok = (p: number) => Number.isInteger(p) && p >= 0 && p <= MAX_PORT;
  if (!ok(range.from) || !ok(range.to) || range.from > range.to) throw new RuleError('ERR_BAD_PORT', JSON.stringify(port));
  return range;
}

/** Whether every condition the rule names holds for the packet. Throws RuleError for a malformed rule or packet. */
export function ruleMatches(rule: Rule, packet: Packet): boolean {
  // Each condition left out of the rule matches anything.
  if (rule.direction !== undefined && rule.direction !== packet.direction) return false;
  if (rule.source !== undefined && !prefixContains(parsePrefix(rule.source), parseAddress(packet.source))) return false;
  if (rule.destination !== undefined && !prefixContains(parsePrefix(rule.destination), parseAddress(packet.destination))) return false;
  if (rule.port !== undefined) {
    const { from, to } = portRangeOf(rule.port);
    // Both ends belong to the range.
    if (packet.destinationPort < from || packet.destinationPort > to) return false;
  }
  return true;
}

/** The stateless decision: the first rule that matches decides; when none does, the default action. */
export function decide(policy: Policy, packet: Packet): Verdict {
  // First match wins: stop at the first rule that matches, later rules are never asked.
  const index = policy.rules.findIndex((rule) => ruleMatches(rule, packet));
  if (index === -1) return { action: policy.defaultAction, by: 'default' };
  return { action: policy.rules[index]!.action, by: 'rule', rule: index };
}

/** A stateful packet filter: the policy, plus a table of the connections it accepted. */
export class Firewall {
  /** The rules and the default action this firewall applies. */
  readonly policy: Policy;
  // Connections accepted so far, by their key in the direction they were opened.
  private readonly connections = new Set<string>();

  /** Check every rule now (a RuleError names the rule's index), so that a typo fails at start, not at the first packet. */
  constructor(policy: Policy) {
    policy.rules.forEach((rule, index) => {
      try {
        if (rule.source !== undefined) parsePrefix(rule.source);
        if (rule.destination !== undefined) parsePrefix(rule.destination);
        if (rule.port !== undefined) portRangeOf(rule.port);
      } catch (err) {
        // Stryker disable next-line ConditionalExpression: parsePrefix and portRangeOf throw nothing but RuleErrors
        if (err instanceof RuleError) throw new RuleError(err.code, err.input, index);
        throw err;
      }
    });
    this.policy = policy;
  }

  /**
   * Decide on a packet. A packet of a connection in the table (either way) passes as 'established';
   * any other goes through decide(), and when that accepts it, its connection enters the table.
   */
  check(packet: Packet): Verdict {
    // Later packets and replies of an accepted connection skip the rules, as `ct state established accept` does.
    if (this.connections.has(flowKey(packet)) || this.connections.has(flowKey(reversed(packet)))) {
      return { action: 'accept', by: 'established' };
    }
    const verdict = decide(this.policy, packet);
    if (verdict.action === 'accept') this.connections.add(flowKey(packet));
    return verdict;
  }

  /** The connection of this packet (either way) ended: forget it, so that its replies no longer pass. */
  forget(packet: Packet): void {
    this.connections.delete(flowKey(packet));
    this.connections.delete(flowKey(reversed(packet)));
  }

  /** How many connections the table holds. */
  tracked(): number {
    return this.connections.size;
  }
}

/** The same packet seen travelling back: the other direction, the two endpoints swapped. */
function reversed(p: Packet): Packet {
  return {
    direction: p.direction === 'in' ? 'out' : 'in',
    source: p.destination,
    sourcePort: p.destinationPort,
    destination: p.source,
    destinationPort: p.sourcePort,
  };
}

/** A key for the connection table; addresses by value, so '::1' and '0:0:0:0:0:0:0:1' are one host. */
function flowKey(p: Packet): string {
  const host = (text: string) => {
    const a = parseAddress(text);
    return `${a.family}/${a.value}`;
  };
  return `${p.direction} ${host(p.source)}:${p.sourcePort} ${host(p.destination)}:${p.destinationPort}`;
}
