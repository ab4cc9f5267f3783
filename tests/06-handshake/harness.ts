/**
 * The scripted world of chapter 06: one TcpConnection on a fake clock, driven by steps a test
 * reads aloud in RFC 9293's notation ("peer sends <SEQ=100><CTL=SYN>", "expect you to send
 * <SEQ=300><ACK=101><CTL=SYN,ACK>", "expect state SYN-RECEIVED", "time passes").
 * tests/helpers/script.ts runs the steps; a failing script prints itself up to the failing step,
 * what the connection sent and its state.
 */
import type { State } from '@impl/06-handshake/exercise.ts';
import { TcpCallError, TcpConnection } from '@impl/06-handshake/exercise.ts';
import { FakeClock, lessonOf, thrown } from '../helpers/index.ts';
import type { ScriptWorld } from '../helpers/script.ts';
import { Step as ScriptStep, action, runScript } from '../helpers/script.ts';
import { num, sameSegment, seg, show, showAll } from './segments.ts';

/** The chapter's id. */
export const ID = '06-handshake';

/** A reference to a section of the chapter's lesson, checked to exist. */
export const lesson = lessonOf(ID);

/** The connection's state, TCB and timers, in one line for a failure message. */
export function describeConnection(c: TcpConnection, clock: FakeClock): string {
  return (
    `state ${String(c.state)}; ISS=${num(c.iss)} IRS=${num(c.irs)} SND.UNA=${num(c.sndUna)} SND.NXT=${num(c.sndNxt)} ` +
    `RCV.NXT=${num(c.rcvNxt)}; timers waiting on the clock: ${clock.pendingCount()}`
  );
}

/** What a script runs against: one of your connections and the fake clock it was given. */
class Run implements ScriptWorld {
  constructor(
    readonly conn: TcpConnection,
    readonly clock: FakeClock,
  ) {}

  unclaimed(): string[] {
    return this.conn.outbox.map(show);
  }

  claimAll(): void {
    this.conn.outbox.splice(0);
  }

  describe(): string {
    const { conn, clock } = this;
    return [
      `Your connection now: ${describeConnection(conn, clock)}`,
      conn.outbox.length ? `Sent and not yet checked: ${showAll(conn.outbox)}` : '',
      conn.state === 'TIME-WAIT' && clock.pendingCount() === 0
        ? 'Note: it is in TIME-WAIT, yet no timer waits on the clock it was given. Did TIME-WAIT start its timer with the global setTimeout?'
        : '',
    ]
      .filter(Boolean)
      .join('\n');
  }
}

/** One line of a script. */
export type Step = ScriptStep<Run>;

type UserCall = 'openPassive' | 'openActive' | 'close' | 'abort';

/** The user calls OPEN, CLOSE or ABORT. */
export function call(name: UserCall): Step {
  return action(`you: ${name}()`, ({ conn }: Run) => conn[name]());
}

/** The user calls SEND with `bytes` bytes. */
export function callSend(bytes: number): Step {
  return action(`you: send(${bytes})`, ({ conn }: Run) => conn.send(bytes));
}

/** A user call that the current state must refuse with a TcpCallError of this code. */
export function refused(name: UserCall | 'send', code: string): Step {
  const label = name === 'send' ? 'send(1)' : `${name}()`;
  return new ScriptStep<Run>('action', `you: ${label} is refused with ${code}`, ({ conn }) => {
    try {
      if (name === 'send') conn.send(1);
      else conn[name]();
    } catch (err) {
      if (err instanceof TcpCallError && err.code === code && err.name === 'TcpCallError') return undefined;
      return `${label} threw ${thrown(err)}, not a TcpCallError with code ${code}`;
    }
    return `${label} was accepted (no error); now ${String(conn.state)}`;
  }, `${label} throws a TcpCallError with code ${code}`);
}

/** The peer's segment arrives. */
export function recv(text: string): Step {
  const s = seg(text);
  return action(`peer sends ${show(s)}`, ({ conn }: Run) => conn.receive({ ...s }));
}

/** Exactly these segments (in order) were sent since the last check; none at all if empty. */
export function sends(...texts: string[]): Step {
  const want = texts.map(seg);
  return new ScriptStep<Run>('expectation', `expect you to send ${showAll(want)}`, ({ conn }) => {
    const got = conn.outbox.splice(0);
    const ok = got.length === want.length && got.every((g, i) => sameSegment(g, want[i]!));
    return ok ? undefined : `your connection sent ${showAll(got)}`;
  }, `your connection sends ${showAll(want)}`);
}

/**
 * One of several correct ways to send: each alternative is a list of segments (in order), written
 * with `|` between segments. Used where the lesson allows more than one shape.
 */
export function sendsOneOf(...alternatives: string[]): Step {
  const wants = alternatives.map((a) => (a.trim() === '' ? [] : a.split('|').map((t) => seg(t.trim()))));
  const label = wants.map(showAll).join('  OR  ');
  return new ScriptStep<Run>('expectation', `expect you to send ${label}`, ({ conn }) => {
    const got = conn.outbox.splice(0);
    const ok = wants.some((want) => got.length === want.length && got.every((g, i) => sameSegment(g, want[i]!)));
    return ok ? undefined : `your connection sent ${showAll(got)}`;
  }, `your connection sends ${label}`);
}

/** The sequence variables of the TCB that the RFC names. */
interface Tcb {
  iss?: number;
  irs?: number;
  sndUna?: number;
  sndNxt?: number;
  rcvNxt?: number;
}

const TCB_NAMES: Record<keyof Tcb, string> = { iss: 'ISS', irs: 'IRS', sndUna: 'SND.UNA', sndNxt: 'SND.NXT', rcvNxt: 'RCV.NXT' };

/** The connection's sequence variables hold these values (the ones given; the others are not checked). */
export function tcb(want: Tcb): Step {
  const keys = Object.keys(want) as (keyof Tcb)[];
  const label = keys.map((k) => `${TCB_NAMES[k]}=${num(want[k])}`).join(' ');
  return new ScriptStep<Run>('expectation', `expect ${label}`, ({ conn }) => {
    const wrong = keys.filter((k) => conn[k] !== want[k]);
    return wrong.length === 0 ? undefined : `your connection has ${wrong.map((k) => `${TCB_NAMES[k]}=${num(conn[k])}`).join(' ')}`;
  }, `your connection's TCB holds ${label}`);
}

/** The connection is in this state. */
export function state(s: State): Step {
  return new ScriptStep<Run>('expectation', `expect state ${s}`, ({ conn }) =>
    conn.state === s ? undefined : `your connection is in ${String(conn.state)}`,
  `your connection is in ${s}`);
}

/** Move the fake clock forward. */
export function advance(ms: number, label: string): Step {
  return action(`time passes: ${ms} ms (${label})`, ({ clock }: Run) => clock.advance(ms));
}

/** How many timers wait on the fake clock. */
export function timers(n: number): Step {
  return new ScriptStep<Run>('expectation', `expect ${n} timer(s) waiting on the clock`, ({ clock }) =>
    clock.pendingCount() === n ? undefined : `${clock.pendingCount()} timer(s) are waiting`,
  `${n} timer(s) wait on the clock`);
}

/** How a script's connection is made. */
export interface ScriptOptions {
  /** Our ISS. */
  iss: number;
  /** MSL for this connection; omitted means the default (the RFC's 2 minutes). */
  msl?: number;
  /** The lesson heading that explains the script. */
  lesson: string;
}

/**
 * Run a script against a fresh TcpConnection. Segments sent must be claimed by a `sends` step
 * before the next action: sending something the script did not expect is a failure too.
 */
export function script(title: string, options: ScriptOptions, steps: Step[]): void {
  const clock = new FakeClock();
  const conn = new TcpConnection(options.msl === undefined ? { clock, iss: options.iss } : { clock, iss: options.iss, msl: options.msl });
  runScript(new Run(conn, clock), steps, {
    title,
    preamble: `your ISS = ${num(options.iss)}, MSL = ${options.msl === undefined ? 'the default, MSL_MS' : `${options.msl} ms`}`,
    lesson: lesson(options.lesson),
    unexpectedSendWhy: 'the RFC calls for no segment here',
  });
}
