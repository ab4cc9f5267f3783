/**
 * Chapter 06, the slow handshake: a TCP state machine driven by scripted segments on a fake
 * clock, wrapping sequence arithmetic, and a delay proxy that shows what a handshake costs.
 *
 * The state-machine tests are scripts, in RFC 9293's own notation: "peer sends <SEQ=100><CTL=SYN>",
 * "expect you to send <SEQ=300><ACK=101><CTL=SYN,ACK>", "expect state SYN-RECEIVED", "time passes".
 * A failing script prints itself up to the failing step, what the connection sent and its state.
 *
 * The transitions of the RFC 9293 §3.3.2 diagram, and the test that walks each one:
 *   CLOSED -> LISTEN, LISTEN -> SYN-RECEIVED, SYN-RECEIVED -> ESTABLISHED    passive open
 *   CLOSED -> SYN-SENT, SYN-SENT -> ESTABLISHED                             active open
 *   SYN-SENT -> SYN-RECEIVED (and on to ESTABLISHED)                        simultaneous open
 *   LISTEN -> SYN-SENT (SEND)                                               data sent while listening
 *   LISTEN -> CLOSED, SYN-SENT -> CLOSED, SYN-RECEIVED -> FIN-WAIT-1        CLOSE before the handshake finishes
 *   SYN-RECEIVED -> LISTEN (RST)                                            a RST in SYN-RECEIVED
 *   ESTABLISHED -> FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT -> CLOSED          active close
 *   ESTABLISHED -> CLOSE-WAIT -> LAST-ACK -> CLOSED                         passive close
 *   FIN-WAIT-1 -> CLOSING -> TIME-WAIT                                      simultaneous close
 */
import http from 'node:http';
import net from 'node:net';
import { describe, it } from 'vitest';
import { createDelayProxy } from '@impl/06-handshake/delay-proxy.ts';
import type { Segment, State } from '@impl/06-handshake/exercise.ts';
import { MSL_MS, TcpCallError, TcpConnection, segmentLength } from '@impl/06-handshake/exercise.ts';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, unwrap, wrap } from '@impl/06-handshake/sequence.ts';
import {
  FakeClock,
  check,
  connect,
  fail,
  listen,
  randomBytes,
  randomInt,
  readToEnd,
  replayHint,
  seeLesson,
  seededRandom,
  testSeed,
  track,
  within,
} from './helpers/index.ts';
import type { ScriptWorld } from './helpers/script.ts';
import { Step as ScriptStep, action, describeThrown, runScript } from './helpers/script.ts';

const ID = '06-handshake';
const lesson = (heading: string) => seeLesson(ID, heading);

/** RFC 9293 §3.4.2 takes the maximum segment lifetime to be 2 minutes. */
const RFC_MSL_MS = 2 * 60 * 1000;

// ---------------------------------------------------------------------------------------------
// Segments in RFC notation: <SEQ=100><ACK=301><CTL=SYN,ACK><DATA=5>
// ---------------------------------------------------------------------------------------------

/** Parse a segment written the way RFC 9293 writes them. CTL names ACK exactly when ACK= is given. */
function seg(text: string): Segment {
  const out: Segment = { seq: NaN };
  const flags = new Set<string>();
  for (const [, key, value] of text.matchAll(/<(\w+)=([^>]*)>/g)) {
    if (key === 'SEQ') out.seq = Number(value);
    else if (key === 'ACK') out.ack = Number(value);
    else if (key === 'DATA') out.data = Number(value);
    else if (key === 'CTL') value!.split(',').forEach((f) => flags.add(f));
  }
  if (flags.has('SYN')) out.syn = true;
  if (flags.has('FIN')) out.fin = true;
  if (flags.has('RST')) out.rst = true;
  if (Number.isNaN(out.seq) || flags.has('ACK') !== (out.ack !== undefined)) throw new Error(`Authoring bug: bad segment ${text}`);
  return out;
}

/** A 32-bit sequence number as text: decimal, or hex near the top of the circle; anything else is flagged. */
function num(n: unknown): string {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= 2 ** 32) return `${String(n)} (not a 32-bit sequence number!)`;
  return n >= 2 ** 31 ? `0x${n.toString(16).toUpperCase()}` : String(n);
}

/** A segment in RFC notation, whatever the learner's object holds. */
function show(s: Segment): string {
  if (!s || typeof s !== 'object') return String(s);
  const ctl = [s.syn && 'SYN', s.fin && 'FIN', s.rst && 'RST', s.ack !== undefined && 'ACK'].filter(Boolean).join(',');
  return `<SEQ=${num(s.seq)}>${s.ack !== undefined ? `<ACK=${num(s.ack)}>` : ''}${ctl ? `<CTL=${ctl}>` : ''}${s.data ? `<DATA=${s.data}>` : ''}`;
}

const showAll = (segs: Segment[]) => (segs.length ? segs.map(show).join(', ') : 'nothing');

function sameSegment(a: Segment, b: Segment): boolean {
  return (
    !!a &&
    a.seq === b.seq &&
    a.ack === b.ack &&
    !!a.syn === !!b.syn &&
    !!a.fin === !!b.fin &&
    !!a.rst === !!b.rst &&
    (a.data ?? 0) === (b.data ?? 0)
  );
}

function describeConnection(c: TcpConnection, clock: FakeClock): string {
  return (
    `state ${String(c.state)}; ISS=${num(c.iss)} IRS=${num(c.irs)} SND.UNA=${num(c.sndUna)} SND.NXT=${num(c.sndNxt)} ` +
    `RCV.NXT=${num(c.rcvNxt)}; timers waiting on the clock: ${clock.pendingCount()}`
  );
}

const thrown = describeThrown;

// ---------------------------------------------------------------------------------------------
// The script DSL: steps a test reads aloud, run against one connection on a fake clock.
// ---------------------------------------------------------------------------------------------

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

type Step = ScriptStep<Run>;

type UserCall = 'openPassive' | 'openActive' | 'close' | 'abort';

/** The user calls OPEN, CLOSE or ABORT. */
function call(name: UserCall): Step {
  return action(`you: ${name}()`, ({ conn }: Run) => conn[name]());
}

/** The user calls SEND with `bytes` bytes. */
function callSend(bytes: number): Step {
  return action(`you: send(${bytes})`, ({ conn }: Run) => conn.send(bytes));
}

/** A user call that the current state must refuse with a TcpCallError of this code. */
function refused(name: UserCall | 'send', code: string): Step {
  const label = name === 'send' ? 'send(1)' : `${name}()`;
  return new ScriptStep<Run>('action', `you: ${label} is refused with ${code}`, ({ conn }) => {
    try {
      if (name === 'send') conn.send(1);
      else conn[name]();
    } catch (err) {
      if (err instanceof TcpCallError && err.code === code) return undefined;
      return `${label} threw ${thrown(err)}, not a TcpCallError with code ${code}`;
    }
    return `${label} was accepted (no error); now ${String(conn.state)}`;
  }, `${label} throws a TcpCallError with code ${code}`);
}

/** The peer's segment arrives. */
function recv(text: string): Step {
  const s = seg(text);
  return action(`peer sends ${show(s)}`, ({ conn }: Run) => conn.receive({ ...s }));
}

/** Exactly these segments (in order) were sent since the last check; none at all if empty. */
function sends(...texts: string[]): Step {
  const want = texts.map(seg);
  return new ScriptStep<Run>('expectation', `expect you to send ${showAll(want)}`, ({ conn }) => {
    const got = conn.outbox.splice(0);
    const ok = got.length === want.length && got.every((g, i) => sameSegment(g, want[i]!));
    return ok ? undefined : `your connection sent ${showAll(got)}`;
  }, `your connection sends ${showAll(want)}`);
}

/** The connection is in this state. */
function state(s: State): Step {
  return new ScriptStep<Run>('expectation', `expect state ${s}`, ({ conn }) =>
    conn.state === s ? undefined : `your connection is in ${String(conn.state)}`,
  `your connection is in ${s}`);
}

/** Move the fake clock forward. */
function advance(ms: number, label: string): Step {
  return action(`time passes: ${ms} ms (${label})`, ({ clock }: Run) => clock.advance(ms));
}

/** How many timers wait on the fake clock. */
function timers(n: number): Step {
  return new ScriptStep<Run>('expectation', `expect ${n} timer(s) waiting on the clock`, ({ clock }) =>
    clock.pendingCount() === n ? undefined : `${clock.pendingCount()} timer(s) are waiting`,
  `${n} timer(s) wait on the clock`);
}

interface ScriptOptions {
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
function script(title: string, options: ScriptOptions, steps: Step[]): void {
  const clock = new FakeClock();
  const conn = new TcpConnection(options.msl === undefined ? { clock, iss: options.iss } : { clock, iss: options.iss, msl: options.msl });
  runScript(new Run(conn, clock), steps, {
    title,
    preamble: `your ISS = ${num(options.iss)}, MSL = ${options.msl === undefined ? 'the default, MSL_MS' : `${options.msl} ms`}`,
    lesson: lesson(options.lesson),
    unexpectedSendWhy: 'the RFC calls for no segment here',
  });
}

/** The common start: an active open, ISS 100, peer ISS 300, ending ESTABLISHED with RCV.NXT 301. */
const establishedActive = () => [
  call('openActive'),
  sends('<SEQ=100><CTL=SYN>'),
  recv('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
  sends('<SEQ=101><ACK=301><CTL=ACK>'),
  state('ESTABLISHED'),
];

// ---------------------------------------------------------------------------------------------
// Table tests for pure functions: every row is tried, all failures are listed.
// ---------------------------------------------------------------------------------------------

type Row = { expr: string; run: () => unknown; want: unknown };

function table(rows: Row[], heading: string, expected: string): void {
  const bad: string[] = [];
  const errors = new Set<string>();
  for (const r of rows) {
    let got: unknown;
    try {
      got = r.run();
    } catch (err) {
      bad.push(`  ${r.expr} threw ${err instanceof Error ? err.name : 'an error'}; want ${fmt(r.want)}`);
      errors.add(thrown(err));
      continue;
    }
    if (got !== r.want) bad.push(`  ${r.expr} = ${fmt(got)}; want ${fmt(r.want)}`);
  }
  const errorList = errors.size ? `\nThe errors thrown:\n  ${[...errors].join('\n  ')}` : '';
  check(bad.length === 0, () => ({
    did: `${bad.length} of ${rows.length} cases are wrong:\n${bad.join('\n')}${errorList}`,
    expected,
    lesson: lesson(heading),
  }));
}

function fmt(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) >= 2 ** 16) return `${v} (${v < 0 ? '-' : ''}0x${Math.abs(v).toString(16)})`;
  return String(v);
}

const hex = (n: number) => `0x${n.toString(16).toUpperCase().padStart(8, '0')}`;
const TWO32 = 2n ** 32n;

// ---------------------------------------------------------------------------------------------

describe('sequence numbers on a 32-bit circle', () => {
  it('0xFFFFFFFF comes before 0x00000001 in sequence space', () => {
    const cmp = (name: string, f: (a: number, b: number) => unknown, a: number, b: number, want: unknown): Row => ({
      expr: `${name}(${hex(a)}, ${hex(b)})`,
      run: () => f(a, b),
      want,
    });
    table(
      [
        cmp('seqLt', seqLt, 0xffffffff, 0x00000001, true),
        cmp('seqLt', seqLt, 0x00000001, 0xffffffff, false),
        cmp('seqGt', seqGt, 0x00000001, 0xffffffff, true),
        cmp('seqGt', seqGt, 0xffffffff, 0x00000001, false),
        cmp('seqLe', seqLe, 0xffffffff, 0x00000000, true),
        cmp('seqGe', seqGe, 0x00000000, 0xffffffff, true),
        cmp('seqLt', seqLt, 0xffffff00, 0x00000100, true),
        cmp('seqLt', seqLt, 0x80000000, 0xffffffff, true),
        cmp('seqLt', seqLt, 0x00000000, 0x7fffffff, true),
        cmp('seqLt', seqLt, 1, 2, true),
        cmp('seqLt', seqLt, 2, 1, false),
        cmp('seqLt', seqLt, 5, 5, false),
        cmp('seqGt', seqGt, 5, 5, false),
        cmp('seqLe', seqLe, 5, 5, true),
        cmp('seqGe', seqGe, 5, 5, true),
        cmp('seqDiff', seqDiff, 0x00000001, 0xffffffff, 2),
        cmp('seqDiff', seqDiff, 0xffffffff, 0x00000001, -2),
        cmp('seqDiff', seqDiff, 0x00000000, 0x7fffffff, -0x7fffffff),
        cmp('seqDiff', seqDiff, 300, 100, 200),
      ],
      'Counting on a circle: 32-bit wraparound',
      'numbers compare by the short way round the circle: 0xFFFFFFFF is 2 before 0x00000001, so a plain `<` gives the wrong answer near the wrap',
    );
  });

  it('seqAdd wraps past 0xFFFFFFFF back to 0 and never goes negative', () => {
    const add = (a: number, n: number, want: number): Row => ({ expr: `seqAdd(${hex(a)}, ${n})`, run: () => seqAdd(a, n), want });
    table(
      [
        add(5, 10, 15),
        add(0xffffffff, 1, 0),
        add(0xfffffff0, 0x20, 0x10),
        add(0x80000000, 0x80000000, 0),
        add(0, -1, 0xffffffff),
        add(0xfffffffe, 1, 0xffffffff),
      ],
      'Counting on a circle: 32-bit wraparound',
      'results stay in 0 .. 2^32 - 1: JS numbers do not wrap by themselves (0xFFFFFFFF + 1 is 4294967296)',
    );
  });

  it('wrap turns an absolute sequence number into a 32-bit seqno counted from the ISN', () => {
    const w = (abs: bigint, isn: number, want: number): Row => ({ expr: `wrap(${abs}n, ${hex(isn)})`, run: () => wrap(abs, isn), want });
    table(
      [
        w(0n, 0x12345678, 0x12345678),
        w(1n, 0x12345678, 0x12345679),
        w(TWO32, 0x12345678, 0x12345678),
        w(17n, 0xfffffff0, 1),
        w(3n * TWO32 + 17n, 15, 32),
        w(2n ** 60n + 5n, 0, 5),
      ],
      'Absolute sequence numbers',
      'wrap(n, isn) = (isn + n) mod 2^32: absolute position 0 is the ISN itself',
    );
  });

  it('unwrap picks the absolute sequence number nearest the checkpoint, across wrap boundaries', () => {
    const u = (seqno: number, isn: number, checkpoint: bigint, want: bigint): Row => ({
      expr: `unwrap(${hex(seqno)}, ${hex(isn)}, ${checkpoint}n)`,
      run: () => unwrap(seqno, isn, checkpoint),
      want,
    });
    table(
      [
        u(0x12345678, 0x12345678, 0n, 0n),
        u(0x12345679, 0x12345678, 0n, 1n),
        u(0x10, 0xfffffff0, 0n, 0x20n),
        u(0xffffffff, 0, 0n, 0xffffffffn),
        u(0x80000000, 0, 0n, 0x80000000n),
        u(0xffffffff, 0, TWO32, TWO32 - 1n),
        u(1, 0, TWO32 - 1n, TWO32 + 1n),
        u(0, 0, 3n * TWO32 + 5n, 3n * TWO32),
        u(0xfffffffb, 0, 3n * TWO32 + 5n, 3n * TWO32 - 5n),
        u(7, 0, 2n ** 40n, 2n ** 40n + 7n),
        u(10, 0, 2n ** 60n + 3n, 2n ** 60n + 10n),
        u(0xfffffff6, 0, 2n ** 60n + 3n, 2n ** 60n - 10n),
      ],
      'Absolute sequence numbers',
      'of all absolute numbers that wrap to the seqno (they are 2^32 apart), the one nearest the checkpoint, never below 0, exact even past 2^53',
    );
  });

  it('unwrap undoes wrap for random values near random checkpoints (seeded)', () => {
    const seed = testSeed();
    const rand = seededRandom(seed);
    const bad: string[] = [];
    const HALF = 2 ** 31 - 1;
    for (let i = 0; i < 400 && bad.length < 5; i++) {
      const isn = randomInt(rand, 0, 2 ** 32 - 1);
      // Checkpoints on and near wrap boundaries as well as anywhere.
      const turns = BigInt(randomInt(rand, 0, 1 << 20));
      const base = [0n, turns * TWO32, turns * TWO32 + TWO32 / 2n, BigInt(randomInt(rand, 0, 2 ** 32 - 1)) * BigInt(randomInt(rand, 1, 1 << 20))][
        randomInt(rand, 0, 3)
      ]!;
      const checkpoint = base + BigInt(randomInt(rand, 0, 64));
      const delta = [randomInt(rand, -64, 64), HALF - randomInt(rand, 0, 64), -HALF + randomInt(rand, 0, 64), randomInt(rand, -HALF, HALF)][
        randomInt(rand, 0, 3)
      ]!;
      const absolute = checkpoint + BigInt(delta);
      if (absolute < 0n) continue;
      const seqno = Number((absolute + BigInt(isn)) % TWO32);
      let got: unknown;
      try {
        got = unwrap(seqno, isn, checkpoint);
      } catch (err) {
        bad.push(`  unwrap(${hex(seqno)}, ${hex(isn)}, ${checkpoint}n) threw ${thrown(err)}`);
        break;
      }
      if (got !== absolute) bad.push(`  unwrap(${hex(seqno)}, ${hex(isn)}, ${checkpoint}n) = ${fmt(got)}; want ${absolute}n (checkpoint ${delta >= 0 ? '+' : ''}${delta})`);
    }
    check(bad.length === 0, () => ({
      did: `unwrap went wrong (showing up to 5 cases):\n${bad.join('\n')}`,
      expected: 'unwrap(wrap(n)) = n whenever n is less than half a circle (2^31) from the checkpoint',
      lesson: lesson('Absolute sequence numbers'),
      extra: replayHint(seed),
    }));
  });
});

describe('opening: the three-way handshake', () => {
  it('passive open: LISTEN, a SYN, a SYN-ACK with ack = ISN + 1, then ESTABLISHED on the final ACK', () => {
    script('passive open (RFC 9293 Figure 6, from B)', { iss: 300, lesson: 'The three-way handshake' }, [
      call('openPassive'),
      state('LISTEN'),
      recv('<SEQ=100><CTL=SYN>'),
      sends('<SEQ=300><ACK=101><CTL=SYN,ACK>').why('the SYN took number 100, so the next one expected is 101; our own SYN carries our ISS'),
      state('SYN-RECEIVED'),
      recv('<SEQ=101><ACK=301><CTL=ACK>'),
      state('ESTABLISHED'),
    ]);
    script('the third segment of the handshake may already carry data', { iss: 300, lesson: 'The three-way handshake' }, [
      call('openPassive'),
      recv('<SEQ=100><CTL=SYN>'),
      sends('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
      recv('<SEQ=101><ACK=301><CTL=ACK><DATA=20>'),
      sends('<SEQ=301><ACK=121><CTL=ACK>').why('the ACK of our SYN completes the handshake, then its 20 bytes are taken and acknowledged'),
      state('ESTABLISHED'),
    ]);
  });

  it('active open: SYN-SENT, then a SYN-ACK is acknowledged and the connection is ESTABLISHED', () => {
    script('active open (RFC 9293 Figure 6, from A)', { iss: 100, lesson: 'The three-way handshake' }, [
      call('openActive'),
      sends('<SEQ=100><CTL=SYN>').why('an active open starts with a SYN carrying our ISS'),
      state('SYN-SENT'),
      recv('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
      sends('<SEQ=101><ACK=301><CTL=ACK>').why('our SYN took 100, so we go on at 101; their SYN took 300, so we expect 301'),
      state('ESTABLISHED'),
      callSend(10),
      sends('<SEQ=101><ACK=301><CTL=ACK><DATA=10>').why('the first data byte comes right after the SYN; an ACK takes no number'),
    ]);
  });

  it('SYN and FIN each take up one sequence number, so each is acknowledged with +1', () => {
    script('numbers taken by SYN, data and FIN', { iss: 300, lesson: 'SYN and FIN take a sequence number' }, [
      call('openPassive'),
      recv('<SEQ=100><CTL=SYN>'),
      sends('<SEQ=300><ACK=101><CTL=SYN,ACK>').why('their SYN took 100: acknowledge 100 + 1'),
      recv('<SEQ=101><ACK=301><CTL=ACK>'),
      state('ESTABLISHED'),
      callSend(5),
      sends('<SEQ=301><ACK=101><CTL=ACK><DATA=5>').why('our SYN took 300, so our data starts at 301'),
      recv('<SEQ=101><ACK=306><CTL=ACK><DATA=10>'),
      sends('<SEQ=306><ACK=111><CTL=ACK>').why('10 data bytes take 10 numbers, 101 to 110'),
      recv('<SEQ=111><ACK=306><CTL=FIN,ACK>'),
      sends('<SEQ=306><ACK=112><CTL=ACK>').why('their FIN took 111: acknowledge 111 + 1'),
      state('CLOSE-WAIT'),
      call('close'),
      sends('<SEQ=306><ACK=112><CTL=FIN,ACK>'),
      state('LAST-ACK'),
      recv('<SEQ=112><ACK=307><CTL=ACK>'),
      state('CLOSED').why('our FIN took 306, so 307 acknowledges it'),
    ]);
    const lengths: Row[] = [
      { expr: 'segmentLength(<SEQ=0><CTL=SYN>)', run: () => segmentLength(seg('<SEQ=0><CTL=SYN>')), want: 1 },
      { expr: 'segmentLength(<SEQ=0><ACK=9><CTL=FIN,ACK><DATA=5>)', run: () => segmentLength(seg('<SEQ=0><ACK=9><CTL=FIN,ACK><DATA=5>')), want: 6 },
      { expr: 'segmentLength(<SEQ=0><ACK=9><CTL=ACK>)', run: () => segmentLength(seg('<SEQ=0><ACK=9><CTL=ACK>')), want: 0 },
      { expr: 'segmentLength(<SEQ=0><CTL=RST>)', run: () => segmentLength(seg('<SEQ=0><CTL=RST>')), want: 0 },
    ];
    table(lengths, 'SYN and FIN take a sequence number', 'SEG.LEN counts data bytes plus one for SYN and one for FIN; ACK and RST take no number');
  });

  it('simultaneous open: both sides send SYN, pass through SYN-RECEIVED and meet in ESTABLISHED', () => {
    script('simultaneous open (RFC 9293 Figure 7, from A)', { iss: 100, lesson: 'Simultaneous open and simultaneous close' }, [
      call('openActive'),
      sends('<SEQ=100><CTL=SYN>'),
      state('SYN-SENT'),
      recv('<SEQ=300><CTL=SYN>'),
      sends('<SEQ=100><ACK=301><CTL=SYN,ACK>').why('a SYN without ACK in SYN-SENT means both sides opened: acknowledge theirs and repeat ours'),
      state('SYN-RECEIVED'),
      recv('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
      state('ESTABLISHED'),
    ]);
    script('simultaneous open, when the peer answers with a plain ACK', { iss: 100, lesson: 'Simultaneous open and simultaneous close' }, [
      call('openActive'),
      sends('<SEQ=100><CTL=SYN>'),
      recv('<SEQ=300><CTL=SYN>'),
      sends('<SEQ=100><ACK=301><CTL=SYN,ACK>'),
      recv('<SEQ=301><ACK=101><CTL=ACK>'),
      state('ESTABLISHED').why('101 acknowledges our SYN'),
    ]);
  });

  it('data sent while listening turns the listener into an active opener, and waits for the handshake', () => {
    script('SEND in LISTEN', { iss: 100, lesson: 'The state diagram' }, [
      call('openPassive'),
      callSend(5),
      sends('<SEQ=100><CTL=SYN>').why('SEND in LISTEN opens actively: data cannot go before the handshake'),
      state('SYN-SENT'),
      recv('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
      sends('<SEQ=101><ACK=301><CTL=ACK>', '<SEQ=101><ACK=301><CTL=ACK><DATA=5>').why('the handshake ACK goes first, then the 5 waiting bytes'),
      state('ESTABLISHED'),
    ]);
  });

  it('an ISN near 2^32 wraps to 0 inside the handshake and the data', () => {
    script('numbers wrap mid-connection', { iss: 0xffffffff, lesson: 'Counting on a circle: 32-bit wraparound' }, [
      call('openPassive'),
      recv('<SEQ=0xFFFFFFFE><CTL=SYN>'),
      sends('<SEQ=0xFFFFFFFF><ACK=0xFFFFFFFF><CTL=SYN,ACK>'),
      recv('<SEQ=0xFFFFFFFF><ACK=0><CTL=ACK>'),
      state('ESTABLISHED').why('our SYN took 0xFFFFFFFF, and the number after it is 0'),
      recv('<SEQ=0xFFFFFFFF><ACK=0><CTL=ACK><DATA=5>'),
      sends('<SEQ=0><ACK=4><CTL=ACK>').why('5 bytes from 0xFFFFFFFF are 0xFFFFFFFF, 0, 1, 2, 3'),
      callSend(3),
      sends('<SEQ=0><ACK=4><CTL=ACK><DATA=3>'),
      recv('<SEQ=4><ACK=3><CTL=ACK>'),
      state('ESTABLISHED'),
    ]);
  });

  it('CLOSE before the handshake finishes: LISTEN and SYN-SENT simply close, SYN-RECEIVED sends a FIN', () => {
    script('CLOSE in LISTEN', { iss: 300, lesson: 'The state diagram' }, [call('openPassive'), call('close'), state('CLOSED')]);
    script('CLOSE in SYN-SENT', { iss: 100, lesson: 'The state diagram' }, [
      call('openActive'),
      sends('<SEQ=100><CTL=SYN>'),
      call('close'),
      state('CLOSED'),
    ]);
    script('CLOSE in SYN-RECEIVED', { iss: 300, lesson: 'The state diagram' }, [
      call('openPassive'),
      recv('<SEQ=100><CTL=SYN>'),
      sends('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
      call('close'),
      sends('<SEQ=301><ACK=101><CTL=FIN,ACK>').why('the peer already knows our ISS, so it must be told we are done: a FIN after the SYN'),
      state('FIN-WAIT-1'),
      recv('<SEQ=101><ACK=302><CTL=ACK>'),
      state('FIN-WAIT-2'),
    ]);
  });

  it('a RST in SYN-RECEIVED sends a passive open back to LISTEN, and refuses an active one', () => {
    script('RST after a passive open (RFC 9293 Figure 11, from B)', { iss: 300, lesson: 'RST and unexpected segments' }, [
      call('openPassive'),
      recv('<SEQ=100><CTL=SYN>'),
      sends('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
      recv('<SEQ=101><CTL=RST>'),
      state('LISTEN').why('the SYN was an old duplicate; the listener must go on listening'),
      recv('<SEQ=500><CTL=SYN>'),
      sends('<SEQ=300><ACK=501><CTL=SYN,ACK>'),
      state('SYN-RECEIVED'),
    ]);
    script('RST after a simultaneous open', { iss: 100, lesson: 'RST and unexpected segments' }, [
      call('openActive'),
      sends('<SEQ=100><CTL=SYN>'),
      recv('<SEQ=300><CTL=SYN>'),
      sends('<SEQ=100><ACK=301><CTL=SYN,ACK>'),
      recv('<SEQ=301><CTL=RST>'),
      state('CLOSED').why('an active open that gets a RST was refused: there is no LISTEN to go back to'),
    ]);
  });
});

describe('closing: FIN, TIME-WAIT and 2*MSL', () => {
  it('active close: FIN-WAIT-1, FIN-WAIT-2 (still receiving), TIME-WAIT, then CLOSED', () => {
    script('active close (RFC 9293 Figure 12, from A)', { iss: 100, msl: 1_000, lesson: 'Closing and TIME-WAIT' }, [
      ...establishedActive(),
      call('close'),
      sends('<SEQ=101><ACK=301><CTL=FIN,ACK>'),
      state('FIN-WAIT-1'),
      recv('<SEQ=301><ACK=102><CTL=ACK>'),
      state('FIN-WAIT-2').why('102 acknowledges our FIN at 101'),
      recv('<SEQ=301><ACK=102><CTL=ACK><DATA=7>'),
      sends('<SEQ=102><ACK=308><CTL=ACK>').why('a FIN closes one direction only: the peer may still send (half-close)'),
      recv('<SEQ=308><ACK=102><CTL=FIN,ACK>'),
      sends('<SEQ=102><ACK=309><CTL=ACK>'),
      state('TIME-WAIT'),
      advance(2_000, '2*MSL'),
      state('CLOSED'),
      timers(0),
    ]);
  });

  it('passive close: CLOSE-WAIT, then LAST-ACK, then CLOSED when our FIN is acknowledged', () => {
    script('passive close (RFC 9293 Figure 12, from B)', { iss: 300, lesson: 'Closing and TIME-WAIT' }, [
      call('openPassive'),
      recv('<SEQ=100><CTL=SYN>'),
      sends('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
      recv('<SEQ=101><ACK=301><CTL=ACK>'),
      recv('<SEQ=101><ACK=301><CTL=FIN,ACK>'),
      sends('<SEQ=301><ACK=102><CTL=ACK>'),
      state('CLOSE-WAIT').why('the peer is done sending; we may still send until our user closes'),
      callSend(4),
      sends('<SEQ=301><ACK=102><CTL=ACK><DATA=4>'),
      recv('<SEQ=102><ACK=305><CTL=ACK>'),
      call('close'),
      sends('<SEQ=305><ACK=102><CTL=FIN,ACK>'),
      state('LAST-ACK'),
      recv('<SEQ=102><ACK=305><CTL=ACK>'),
      state('LAST-ACK').why('305 acknowledges the data, not yet the FIN at 305'),
      recv('<SEQ=102><ACK=306><CTL=ACK>'),
      state('CLOSED').why('the passive closer does not wait in TIME-WAIT'),
      timers(0),
    ]);
  });

  it('simultaneous close: the FINs cross, FIN-WAIT-1 goes to CLOSING, then TIME-WAIT', () => {
    script('simultaneous close (RFC 9293 Figure 13, from A)', { iss: 100, msl: 1_000, lesson: 'Simultaneous open and simultaneous close' }, [
      ...establishedActive(),
      call('close'),
      sends('<SEQ=101><ACK=301><CTL=FIN,ACK>'),
      recv('<SEQ=301><ACK=101><CTL=FIN,ACK>'),
      sends('<SEQ=102><ACK=302><CTL=ACK>'),
      state('CLOSING').why('their FIN came before the ACK of ours (it acknowledges only 101)'),
      recv('<SEQ=302><ACK=102><CTL=ACK>'),
      state('TIME-WAIT').why('both FINs are now acknowledged, and we sent the first one'),
      advance(2_000, '2*MSL'),
      state('CLOSED'),
    ]);
  });

  it('a FIN that also acknowledges our FIN takes FIN-WAIT-1 straight to TIME-WAIT', () => {
    script('FIN+ACK in FIN-WAIT-1', { iss: 100, msl: 1_000, lesson: 'Closing and TIME-WAIT' }, [
      ...establishedActive(),
      call('close'),
      sends('<SEQ=101><ACK=301><CTL=FIN,ACK>'),
      recv('<SEQ=301><ACK=102><CTL=FIN,ACK>'),
      sends('<SEQ=102><ACK=302><CTL=ACK>'),
      state('TIME-WAIT').why('the ACK field takes us to FIN-WAIT-2, then the FIN to TIME-WAIT, in one segment'),
    ]);
  });

  it('TIME-WAIT lasts 2*MSL on the injected clock: not a moment less, and then it ends', () => {
    const toTimeWait = [
      ...establishedActive(),
      call('close'),
      sends('<SEQ=101><ACK=301><CTL=FIN,ACK>'),
      recv('<SEQ=301><ACK=102><CTL=FIN,ACK>'),
      sends('<SEQ=102><ACK=302><CTL=ACK>'),
      state('TIME-WAIT'),
    ];
    script('TIME-WAIT with the RFC MSL of 2 minutes', { iss: 100, lesson: 'Closing and TIME-WAIT' }, [
      ...toTimeWait,
      advance(2 * RFC_MSL_MS - 1, '2*MSL - 1 ms, with MSL = 2 minutes'),
      state('TIME-WAIT').why('TIME-WAIT must last the whole 2*MSL, or a late segment may meet a new connection'),
      advance(1, 'the last millisecond'),
      state('CLOSED').why('after 2*MSL on the clock you were given, TIME-WAIT ends'),
      timers(0),
    ]);
    script('TIME-WAIT with msl = 1000 ms', { iss: 100, msl: 1_000, lesson: 'Closing and TIME-WAIT' }, [
      ...toTimeWait,
      advance(1_999, '2*MSL - 1 ms'),
      state('TIME-WAIT'),
      advance(1, 'the last millisecond'),
      state('CLOSED'),
      timers(0),
    ]);
    check(MSL_MS === RFC_MSL_MS, {
      did: `MSL_MS is ${MSL_MS}`,
      expected: `MSL_MS = ${RFC_MSL_MS} (RFC 9293 §3.4.2: two minutes)`,
      lesson: lesson('Closing and TIME-WAIT'),
    });
  });

  it('a retransmitted FIN in TIME-WAIT is acknowledged again and restarts the 2*MSL wait', () => {
    script('the last ACK was lost', { iss: 100, msl: 1_000, lesson: 'Closing and TIME-WAIT' }, [
      ...establishedActive(),
      call('close'),
      sends('<SEQ=101><ACK=301><CTL=FIN,ACK>'),
      recv('<SEQ=301><ACK=102><CTL=FIN,ACK>'),
      sends('<SEQ=102><ACK=302><CTL=ACK>'),
      advance(1_500, 'most of 2*MSL; meanwhile our ACK is lost'),
      recv('<SEQ=301><ACK=102><CTL=FIN,ACK>'),
      sends('<SEQ=102><ACK=302><CTL=ACK>').why('the peer never got our ACK and sent its FIN again: that is why we stayed'),
      state('TIME-WAIT'),
      advance(1_999, '2*MSL - 1 ms after the second FIN'),
      state('TIME-WAIT').why('the 2*MSL wait starts again from the retransmitted FIN'),
      advance(1, 'the last millisecond'),
      state('CLOSED'),
    ]);
  });

  it('ABORT sends a RST from a synchronized state and forgets the connection at once', () => {
    script('ABORT in ESTABLISHED', { iss: 100, lesson: 'RST and unexpected segments' }, [
      ...establishedActive(),
      call('abort'),
      sends('<SEQ=101><CTL=RST>').why('a RST at SND.NXT is one the peer will believe'),
      state('CLOSED'),
    ]);
    script('ABORT in LISTEN', { iss: 100, lesson: 'RST and unexpected segments' }, [call('openPassive'), call('abort'), state('CLOSED')]);
    script('ABORT in TIME-WAIT', { iss: 100, msl: 1_000, lesson: 'RST and unexpected segments' }, [
      ...establishedActive(),
      call('close'),
      sends('<SEQ=101><ACK=301><CTL=FIN,ACK>'),
      recv('<SEQ=301><ACK=102><CTL=FIN,ACK>'),
      sends('<SEQ=102><ACK=302><CTL=ACK>'),
      call('abort'),
      state('CLOSED').why('nothing is left to tell the peer; no RST'),
      timers(0).why('the TIME-WAIT timer must be cancelled too'),
    ]);
  });

  it('two of your connections, wired back to back, open and close simultaneously and both wait in TIME-WAIT', () => {
    const clock = new FakeClock();
    const a = new TcpConnection({ clock, iss: 100, msl: 1_000 });
    const b = new TcpConnection({ clock, iss: 300, msl: 1_000 });
    const wire: string[] = [];
    const states = () => `A is ${String(a.state)}, B is ${String(b.state)}`;
    const stop = (what: string, expected: string, heading: string): never =>
      fail({
        did: `${what}; ${states()}`,
        expected,
        lesson: lesson(heading),
        extra: `What crossed the wire (segments sent in the same round cross each other):\n${wire.join('\n') || '  (nothing)'}\nA: ${describeConnection(a, clock)}\nB: ${describeConnection(b, clock)}`,
      });
    const act = (label: string, fn: () => void) => {
      wire.push(`  ** ${label}`);
      try {
        fn();
      } catch (err) {
        stop(`${label} threw ${thrown(err)}`, 'no error', 'Simultaneous open and simultaneous close');
      }
    };
    const deliver = () => {
      for (let round = 1; round <= 10; round++) {
        const fromA = a.outbox.splice(0);
        const fromB = b.outbox.splice(0);
        if (!fromA.length && !fromB.length) return;
        fromA.forEach((s) => wire.push(`  round ${round}: A -> B ${show(s)}`));
        fromB.forEach((s) => wire.push(`  round ${round}: B -> A ${show(s)}`));
        act(`round ${round} arrives`, () => {
          fromA.forEach((s) => b.receive({ ...s }));
          fromB.forEach((s) => a.receive({ ...s }));
        });
      }
      stop('the two connections were still sending after 10 rounds', 'the exchange settles in a few rounds', 'Simultaneous open and simultaneous close');
    };
    const expectBoth = (s: State, heading: string) => {
      if (a.state !== s || b.state !== s) stop(`expected both in ${s}`, `both connections in ${s}`, heading);
    };

    act('A and B both open actively', () => (a.openActive(), b.openActive()));
    deliver();
    expectBoth('ESTABLISHED', 'Simultaneous open and simultaneous close');
    act('A sends 10 bytes, B sends 20', () => (a.send(10), b.send(20)));
    deliver();
    check(a.rcvNxt === 321 && b.rcvNxt === 111, () => ({
      did: `after the data, A's RCV.NXT is ${num(a.rcvNxt)} and B's is ${num(b.rcvNxt)}`,
      expected: "A's RCV.NXT = 301 + 20 = 321, B's = 101 + 10 = 111",
      lesson: lesson('SYN and FIN take a sequence number'),
      extra: wire.join('\n'),
    }));
    act('A and B both close', () => (a.close(), b.close()));
    deliver();
    expectBoth('TIME-WAIT', 'Simultaneous open and simultaneous close');
    act('2*MSL passes', () => clock.advance(2_000));
    expectBoth('CLOSED', 'Closing and TIME-WAIT');
  });
});

describe('unexpected segments: RST or drop (RFC 9293 §3.10.7)', () => {
  it('a CLOSED port answers anything but a RST with a RST the sender will believe', () => {
    script('segments for a connection that does not exist', { iss: 500, lesson: 'RST and unexpected segments' }, [
      recv('<SEQ=100><CTL=SYN>'),
      sends('<SEQ=0><ACK=101><CTL=RST,ACK>').why('without an ACK to copy, the RST acknowledges SEG.SEQ + SEG.LEN, and the SYN counts'),
      recv('<SEQ=100><ACK=555><CTL=ACK><DATA=20>'),
      sends('<SEQ=555><CTL=RST>').why('with an ACK, the RST takes its SEQ from SEG.ACK: exactly what the sender expects next'),
      recv('<SEQ=100><CTL=FIN>'),
      sends('<SEQ=0><ACK=101><CTL=RST,ACK>'),
      recv('<SEQ=100><CTL=RST>'),
      sends().why('a RST is never answered with a RST'),
      state('CLOSED'),
    ]);
  });

  it('LISTEN ignores a RST, answers a stray ACK with a RST, and drops anything else without SYN', () => {
    script('junk at a listener', { iss: 300, lesson: 'RST and unexpected segments' }, [
      call('openPassive'),
      recv('<SEQ=100><CTL=RST>'),
      sends(),
      recv('<SEQ=100><ACK=777><CTL=ACK>'),
      sends('<SEQ=777><CTL=RST>').why('nothing was sent yet, so any ACK is bad'),
      recv('<SEQ=100><CTL=FIN>'),
      sends(),
      state('LISTEN'),
      recv('<SEQ=100><CTL=SYN>'),
      sends('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
      state('SYN-RECEIVED'),
    ]);
  });

  it('SYN-SENT answers a SYN-ACK for something it never sent with a RST, and still takes the right one', () => {
    script('old duplicate SYN-ACK (RFC 9293 Figure 8, from A)', { iss: 100, lesson: 'RST and unexpected segments' }, [
      call('openActive'),
      sends('<SEQ=100><CTL=SYN>'),
      recv('<SEQ=300><ACK=91><CTL=SYN,ACK>'),
      sends('<SEQ=91><CTL=RST>').why('ACK 91 acknowledges an old SYN, not ours (ours was 100)'),
      state('SYN-SENT'),
      recv('<SEQ=300><ACK=100><CTL=ACK>'),
      sends('<SEQ=100><CTL=RST>').why('ACK = ISS acknowledges nothing we sent: our SYN needs 101'),
      recv('<SEQ=300><ACK=500><CTL=SYN,ACK>'),
      sends('<SEQ=500><CTL=RST>').why('500 is beyond SND.NXT = 101'),
      recv('<SEQ=300><ACK=91><CTL=RST,ACK>'),
      sends().why('never answer a RST'),
      recv('<SEQ=400><ACK=101><CTL=SYN,ACK>'),
      sends('<SEQ=101><ACK=401><CTL=ACK>'),
      state('ESTABLISHED'),
    ]);
  });

  it('in SYN-SENT, a RST that acknowledges our SYN refuses the connection; one without that ACK is ignored', () => {
    script('connection refused', { iss: 100, lesson: 'RST and unexpected segments' }, [
      call('openActive'),
      sends('<SEQ=100><CTL=SYN>'),
      recv('<SEQ=0><CTL=RST>'),
      sends(),
      state('SYN-SENT').why('a RST must acknowledge our SYN to be believed here'),
      recv('<SEQ=0><ACK=101><CTL=RST,ACK>'),
      sends(),
      state('CLOSED').why('this is what a closed port answers: the user sees "connection refused"'),
    ]);
  });

  it('an established connection is reset only by a RST at exactly RCV.NXT; elsewhere in the window it gets a challenge ACK', () => {
    script('blind RST protection (RFC 5961)', { iss: 100, lesson: 'RST and unexpected segments' }, [
      ...establishedActive(),
      recv('<SEQ=900000><CTL=RST>'),
      sends().why('a RST outside the window is dropped silently'),
      state('ESTABLISHED'),
      recv('<SEQ=5301><CTL=RST>'),
      sends('<SEQ=101><ACK=301><CTL=ACK>').why('in the window but not at RCV.NXT: challenge the sender to prove it knows where we are'),
      state('ESTABLISHED'),
      recv('<SEQ=301><CTL=RST>'),
      sends(),
      state('CLOSED'),
    ]);
  });

  it('an established connection answers old, far-off or impossible segments with an ACK of where it is, and drops segments without ACK', () => {
    script('unacceptable segments in ESTABLISHED', { iss: 100, lesson: 'RST and unexpected segments' }, [
      ...establishedActive(),
      recv('<SEQ=291><ACK=101><CTL=ACK><DATA=10>'),
      sends('<SEQ=101><ACK=301><CTL=ACK>').why('bytes 291-300 came before: an old duplicate'),
      recv('<SEQ=70000><ACK=101><CTL=ACK><DATA=10>'),
      sends('<SEQ=101><ACK=301><CTL=ACK>').why('70000 is beyond RCV.NXT + RCV.WND'),
      recv('<SEQ=301><ACK=5000><CTL=ACK>'),
      sends('<SEQ=101><ACK=301><CTL=ACK>').why('it acknowledges data we never sent'),
      recv('<SEQ=301><DATA=5>'),
      sends().why('a segment without the ACK bit is dropped in a synchronized state'),
      recv('<SEQ=301><ACK=101><CTL=ACK><DATA=5>'),
      sends('<SEQ=101><ACK=306><CTL=ACK>').why('none of the bad segments moved RCV.NXT'),
      state('ESTABLISHED'),
    ]);
  });

  it('a SYN on an established connection gets a challenge ACK, never a reset or a new handshake', () => {
    script('SYN in ESTABLISHED', { iss: 100, lesson: 'RST and unexpected segments' }, [
      ...establishedActive(),
      recv('<SEQ=5000><CTL=SYN>'),
      sends('<SEQ=101><ACK=301><CTL=ACK>').why('RFC 5961: a SYN in a synchronized state gets an ACK; only the real peer can act on it'),
      recv('<SEQ=900000><CTL=SYN>'),
      sends('<SEQ=101><ACK=301><CTL=ACK>'),
      state('ESTABLISHED'),
    ]);
  });

  it('user calls that the state does not allow throw a TcpCallError with a stable code', () => {
    script('calls at the wrong time', { iss: 100, lesson: 'The state diagram' }, [
      refused('send', 'ERR_CONNECTION_DOES_NOT_EXIST'),
      refused('close', 'ERR_CONNECTION_DOES_NOT_EXIST'),
      refused('abort', 'ERR_CONNECTION_DOES_NOT_EXIST'),
      call('openPassive'),
      refused('openPassive', 'ERR_CONNECTION_EXISTS'),
      refused('openActive', 'ERR_CONNECTION_EXISTS'),
      recv('<SEQ=300><CTL=SYN>'),
      sends('<SEQ=100><ACK=301><CTL=SYN,ACK>'),
      recv('<SEQ=301><ACK=101><CTL=ACK>'),
      call('close'),
      sends('<SEQ=101><ACK=301><CTL=FIN,ACK>'),
      refused('send', 'ERR_CONNECTION_CLOSING'),
      refused('close', 'ERR_CONNECTION_CLOSING'),
      state('FIN-WAIT-1'),
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// The delay proxy, measured with real sockets on loopback. Only relations are asserted
// (never an absolute time), with margins for a busy machine: delays only ever grow under load.
// ---------------------------------------------------------------------------------------------

/** One-way delay of the modelled path, and its round trip. */
const D = 50;
const RTT = 2 * D;

const median = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;
const rtts = (x: number) => `${(x / RTT).toFixed(2)} RTT`;

async function startProxy(targetPort: number, delayMs: number): Promise<number> {
  return listen(createDelayProxy({ target: { host: '127.0.0.1', port: targetPort }, delayMs }));
}

/** Write `payload` and resolve when as many bytes have come back; the time it took, in ms. */
async function echoTime(socket: net.Socket, payload: string, what: string): Promise<number> {
  const t0 = performance.now();
  let got = 0;
  const back = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      got += d.length;
      if (got >= payload.length) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`the connection closed after ${got} of ${payload.length} bytes came back`)));
    socket.once('error', reject);
  });
  socket.write(payload);
  await within(back, 3_000, what, 'Does your proxy relay data in both directions once the handshake round trip has passed?');
  return performance.now() - t0;
}

describe('what a handshake costs: your delay proxy on loopback', () => {
  it('relays bytes unchanged in both directions and passes on the end of each stream', async () => {
    const echo = net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
    const proxyPort = await startProxy(await listen(echo), 5);
    const seed = testSeed();
    const payload = Buffer.from(randomBytes(seededRandom(seed), 256 * 1024));
    const client = await connect(proxyPort);
    const received = readToEnd(client, 4_000);
    client.end(payload);
    let back: Buffer;
    try {
      back = await received;
    } catch (err) {
      fail({
        did: `the echo of ${payload.length} bytes never ended (${thrown(err)})`,
        expected: "the client's end (FIN) reaches the server, whose own end comes back through the proxy",
        lesson: lesson('A slow path on loopback'),
      });
    }
    const firstDiff = back.findIndex((b, i) => b !== payload[i]);
    check(back.equals(payload), () => ({
      did: `${back.length} bytes came back${firstDiff >= 0 ? `, first difference at byte ${firstDiff}` : ''}`,
      expected: `the same ${payload.length} bytes, in order`,
      lesson: lesson('A slow path on loopback'),
      extra: replayHint(seed),
    }));
  });

  it('delays each chunk by d in each direction, so an exchange on an open connection takes one round trip', async () => {
    let arrived = 0;
    const server = net.createServer((s) =>
      s.on('data', (d) => {
        arrived = performance.now();
        s.write(d);
      }),
    );
    const proxyPort = await startProxy(await listen(server), D);
    const client = await connect(proxyPort);
    await echoTime(client, 'warm-up\n', 'the first exchange through your proxy');
    const out: number[] = [];
    const back: number[] = [];
    for (let i = 0; i < 3; i++) {
      const sent = performance.now();
      const total = await echoTime(client, `ping ${i}\n`, `exchange ${i + 1} on an open connection`);
      out.push(arrived - sent);
      back.push(total - (arrived - sent));
    }
    const [mOut, mBack] = [median(out), median(back)];
    check(mOut >= 0.9 * D && mBack >= 0.9 * D, () => ({
      did: `client -> server took ${ms(mOut)}, server -> client ${ms(mBack)} (medians of 3: out ${out.map(ms).join(', ')}; back ${back.map(ms).join(', ')})`,
      expected: `each direction takes at least d = ${D} ms (we allow ${0.9 * D} ms), so one exchange costs a round trip of ${RTT} ms`,
      lesson: lesson('A slow path on loopback'),
    }));
  });

  it('charges a new connection one round trip before the first byte gets through', async () => {
    // A longer path here: the gap between 1 and 2 round trips must stand out from a busy machine's noise.
    const d = 2 * D;
    const rtt = 2 * d;
    const echo = net.createServer((s) => s.pipe(s));
    const proxyPort = await startProxy(await listen(echo), d);
    const firsts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const socket = track(net.connect({ port: proxyPort, host: '127.0.0.1' }), `client ${i + 1} to the proxy`);
      await echoTime(socket, `hello ${i}\n`, `the first exchange on new connection ${i + 1}`);
      firsts.push(performance.now() - t0);
      socket.destroy();
    }
    const first = median(firsts);
    check(first >= 1.75 * rtt, () => ({
      did: `with d = ${d} ms (RTT ${rtt} ms), the first reply on a new connection came after ${ms(first)} = ${(first / rtt).toFixed(2)} RTT (median of ${firsts.map(ms).join(', ')})`,
      expected:
        `about 2 RTT (${2 * rtt} ms; we require ${1.75 * rtt} ms): one round trip for the SYN and SYN-ACK on the slow path, ` +
        'then one for the data and its reply. On loopback the kernel finishes the real handshake at once, so your proxy must charge it.',
      lesson: lesson('A slow path on loopback'),
    }));
  });

  it("a fresh connection's first reply takes about one extra round trip over a reused (keep-alive) one", async () => {
    const server = http.createServer((_req, res) => res.end('pong'));
    let connections = 0;
    server.on('connection', () => connections++);
    const proxyPort = await startProxy(await listen(server), D);
    const agent = track(new http.Agent({ keepAlive: true, maxSockets: 1 }), 'keep-alive agent');

    const get = async (via: http.Agent | false, what: string): Promise<number> => {
      const t0 = performance.now();
      await within(
        new Promise<void>((resolve, reject) => {
          const req = http.get({ host: '127.0.0.1', port: proxyPort, path: '/', agent: via }, (res) => {
            res.resume();
            res.on('end', resolve);
            res.on('error', reject);
          });
          req.on('error', reject);
        }),
        3_000,
        what,
        'Does your proxy relay both directions, and keep a connection open after a reply?',
      );
      return performance.now() - t0;
    };

    await get(agent, 'the first keep-alive request (it opens the connection)');
    const fresh: number[] = [];
    const reused: number[] = [];
    for (let i = 0; i < 3; i++) {
      fresh.push(await get(false, `fresh request ${i + 1}`));
      reused.push(await get(agent, `reused request ${i + 1}`));
    }
    const [f, r] = [median(fresh), median(reused)];
    const samples = `fresh: ${fresh.map(ms).join(', ')}; reused: ${reused.map(ms).join(', ')}; d = ${D} ms, RTT = ${RTT} ms`;
    check(connections === 4, () => ({
      did: `the server saw ${connections} connections`,
      expected: '4: one kept open by the keep-alive agent for all of its requests, and one per fresh request',
      lesson: lesson('Keep-alive: paying once'),
      extra: samples,
    }));
    check(r >= 0.9 * RTT, () => ({
      did: `a request on the reused connection took ${ms(r)} = ${rtts(r)} (median)`,
      expected: `at least one round trip (${RTT} ms; we allow ${0.9 * RTT} ms): the request crosses the path, the reply crosses back`,
      lesson: lesson('A slow path on loopback'),
      extra: samples,
    }));
    check(f - r >= 0.5 * RTT && f - r <= 2 * RTT, () => ({
      did: `fresh ${ms(f)} - reused ${ms(r)} = ${ms(f - r)} = ${rtts(f - r)} (medians of 3)`,
      expected: `about one extra round trip for the handshake: between ${0.5 * RTT} and ${2 * RTT} ms`,
      lesson: lesson('What a handshake costs'),
      extra: samples,
    }));
  });
});
