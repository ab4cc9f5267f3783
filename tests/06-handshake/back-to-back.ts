/**
 * Two of your connections wired back to back on one fake clock: what one sends, the other
 * receives. Segments sent in the same round cross each other on the wire, as in a simultaneous
 * open or close. A failure shows everything that crossed the wire and both TCBs.
 */
import type { State } from '@impl/06-handshake/exercise.ts';
import { TcpConnection } from '@impl/06-handshake/exercise.ts';
import { FakeClock, fail, thrown } from '../helpers/index.ts';
import { describeConnection, lesson } from './harness.ts';
import { show } from './segments.ts';

/** How many rounds of delivery an exchange may take before it counts as never settling. */
const MAX_ROUNDS = 10;

/** Two connections, A and B, each with its own ISS, sharing one fake clock. */
export class BackToBack {
  readonly clock = new FakeClock();
  readonly a: TcpConnection;
  readonly b: TcpConnection;
  /** What happened, line by line: each action and each segment that crossed. */
  readonly wire: string[] = [];

  constructor(a: { iss: number; msl: number }, b: { iss: number; msl: number }) {
    this.a = new TcpConnection({ clock: this.clock, ...a });
    this.b = new TcpConnection({ clock: this.clock, ...b });
  }

  /** Fail the test: what happened, what was expected, and the wire so far. */
  stop(what: string, expected: string, heading: string): never {
    const { a, b, clock } = this;
    return fail({
      did: `${what}; A is ${String(a.state)}, B is ${String(b.state)}`,
      expected,
      lesson: lesson(heading),
      extra: `What crossed the wire (segments sent in the same round cross each other):\n${this.wire.join('\n') || '  (nothing)'}\nA: ${describeConnection(a, clock)}\nB: ${describeConnection(b, clock)}`,
    });
  }

  /** Do something to the connections; an error it throws fails the test. */
  act(label: string, fn: () => void): void {
    this.wire.push(`  ** ${label}`);
    try {
      fn();
    } catch (err) {
      this.stop(`${label} threw ${thrown(err)}`, 'no error', 'Simultaneous open and simultaneous close');
    }
  }

  /** Carry what each side sent to the other, round after round, until neither sends anything more. */
  deliver(): void {
    const { a, b } = this;
    for (let round = 1; round <= MAX_ROUNDS; round++) {
      const fromA = a.outbox.splice(0);
      const fromB = b.outbox.splice(0);
      if (!fromA.length && !fromB.length) return;
      fromA.forEach((s) => this.wire.push(`  round ${round}: A -> B ${show(s)}`));
      fromB.forEach((s) => this.wire.push(`  round ${round}: B -> A ${show(s)}`));
      this.act(`round ${round} arrives`, () => {
        fromA.forEach((s) => b.receive({ ...s }));
        fromB.forEach((s) => a.receive({ ...s }));
      });
    }
    this.stop(`the two connections were still sending after ${MAX_ROUNDS} rounds`, 'the exchange settles in a few rounds', 'Simultaneous open and simultaneous close');
  }

  /** Both connections are in state `s`. */
  expectBoth(s: State, heading: string): void {
    if (this.a.state !== s || this.b.state !== s) this.stop(`expected both in ${s}`, `both connections in ${s}`, heading);
  }
}
