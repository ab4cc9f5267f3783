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
import { todo } from '../workbook.ts';

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
    super(`${code}: ${JSON.stringify(input)}${rule === undefined ? '' : ` in rule ${rule}`}`);
  }
}

/** Read '192.168.1.7' or '2001:db8::1' (with `::` compression; no zone, no embedded IPv4) into a number. */
export function parseAddress(text: string): IpAddress {
  // TODO: IPv4: four decimal parts 0-255 without leading zeros; IPv6: eight groups of 1-4 hex digits, or fewer
  // with one '::' standing for at least one group of zeros. Anything else: RuleError('ERR_BAD_ADDRESS', text).
  return todo(import.meta.url, 'parseAddress');
}

/** Read '10.0.0.0/8' or a bare address (a prefix of the full length) into a Prefix, clearing any host bits. */
export function parsePrefix(text: string): Prefix {
  // TODO: split at '/', parse the address, read the length (digits, 0 to ADDRESS_BITS of the family; a bare
  // address is a full-length prefix), and keep only the network bits. A bad length: RuleError('ERR_BAD_PREFIX', text).
  return todo(import.meta.url, 'parsePrefix');
}

/** Whether `address` lies inside `prefix`; an address of the other family never does. */
export function prefixContains(prefix: Prefix, address: IpAddress): boolean {
  // TODO: same family, and the address's first `prefix.length` bits equal the network's. Mind /0 and /32 (or /128).
  return todo(import.meta.url, 'prefixContains');
}

/** Whether every condition the rule names holds for the packet. Throws RuleError for a malformed rule or packet. */
export function ruleMatches(rule: Rule, packet: Packet): boolean {
  // TODO: a condition left out matches anything. Direction equal; source and destination inside their prefixes;
  // the destination port inside the rule's port or range, both ends included. A port outside 0-65535 or a range
  // with from > to: RuleError('ERR_BAD_PORT', JSON.stringify(rule.port)).
  return todo(import.meta.url, 'ruleMatches');
}

/** The stateless decision: the first rule that matches decides; when none does, the default action. */
export function decide(policy: Policy, packet: Packet): Verdict {
  // TODO: the first matching rule gives { action, by: 'rule', rule: its index }; none: { action: defaultAction, by: 'default' }.
  return todo(import.meta.url, 'decide');
}

/** A stateful packet filter: the policy, plus a table of the connections it accepted. */
export class Firewall {
  /** The rules and the default action this firewall applies. */
  readonly policy: Policy;

  // Your state goes here, as private fields: the table of accepted connections (a Set of keys will do).

  /** Check every rule now (a RuleError names the rule's index), so that a typo fails at start, not at the first packet. */
  constructor(policy: Policy) {
    this.policy = policy;
    // TODO: parse each rule's source, destination and port; on a RuleError, throw a new one with the same code
    // and input and the rule's index as `rule`.
    todo(import.meta.url, 'Firewall constructor');
  }

  /**
   * Decide on a packet. A packet of a connection in the table (either way) passes as 'established';
   * any other goes through decide(), and when that accepts it, its connection enters the table.
   */
  check(packet: Packet): Verdict {
    // TODO: a key from direction and both endpoints; the reply's key is the other direction with the endpoints swapped.
    // Found either way: { action: 'accept', by: 'established' }. Otherwise decide(), and remember accepted connections.
    return todo(import.meta.url, 'Firewall.check');
  }

  /** The connection of this packet (either way) ended: forget it, so that its replies no longer pass. */
  forget(packet: Packet): void {
    // TODO: delete the connection's key, whichever way this packet travels.
    return todo(import.meta.url, 'Firewall.forget');
  }

  /** How many connections the table holds. */
  tracked(): number {
    // TODO: the size of the table.
    return todo(import.meta.url, 'Firewall.tracked');
  }
}
