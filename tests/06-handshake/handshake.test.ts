/**
 * Chapter 06, the slow handshake: a TCP state machine driven by scripted segments on a fake
 * clock, wrapping sequence arithmetic, and a delay proxy that shows what a handshake costs.
 *
 * The state-machine tests are scripts, in RFC 9293's own notation: "peer sends <SEQ=100><CTL=SYN>",
 * "expect you to send <SEQ=300><ACK=101><CTL=SYN,ACK>", "expect state SYN-RECEIVED", "time passes".
 * A failing script prints itself up to the failing step, what the connection sent and its state.
 * (Beside this file: the script world in harness.ts, the notation in segments.ts, the scripts that
 * reach each state in prefixes.ts, two connections wired together in back-to-back.ts, table tests in
 * table.ts, and the proxy's measuring tools in proxy.ts.)
 *
 * The transitions of the RFC 9293 §3.3.2 diagram, and the test that walks each one:
 *   CLOSED -> LISTEN, LISTEN -> SYN-RECEIVED, SYN-RECEIVED -> ESTABLISHED    passive open
 *   CLOSED -> SYN-SENT, SYN-SENT -> ESTABLISHED                             active open
 *   SYN-SENT -> SYN-RECEIVED (and on to ESTABLISHED)                        simultaneous open
 *   LISTEN -> SYN-SENT (SEND)                                               data sent while listening
 *   LISTEN -> CLOSED, SYN-SENT -> CLOSED, SYN-RECEIVED -> FIN-WAIT-1        CLOSE before the handshake finishes
 *   SYN-RECEIVED -> LISTEN (RST, SYN), SYN-RECEIVED -> CLOSED (RST)         a RST in SYN-RECEIVED, a SYN inside the window
 *   ESTABLISHED -> FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT -> CLOSED          active close
 *   FIN-WAIT-1 -> TIME-WAIT                                                 a FIN that also acknowledges our FIN
 *   ESTABLISHED -> CLOSE-WAIT -> LAST-ACK -> CLOSED                         passive close
 *   FIN-WAIT-1 -> CLOSING -> TIME-WAIT                                      simultaneous close
 *   every synchronized state -> CLOSED (RST at RCV.NXT, ABORT)              a RST at RCV.NXT ..., ABORT sends ...
 *
 * After each step that changes them, the scripts also check the TCB itself (ISS, IRS, SND.UNA,
 * SND.NXT, RCV.NXT), and wherever a connection reaches CLOSED, that no timer is left on the clock.
 */
import http from 'node:http';
import net from 'node:net';
import { describe, it } from 'vitest';
import { createDelayProxy } from '@impl/06-handshake/delay-proxy.ts';
import type { State } from '@impl/06-handshake/exercise.ts';
import { MSL_MS, RECEIVE_WINDOW, segmentLength } from '@impl/06-handshake/exercise.ts';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, unwrap, wrap } from '@impl/06-handshake/sequence.ts';
import { check, connect, eventually, fail, fc, forAllSync, hexNumber, listen, pause, readToEnd, replayHint, thrown, track, within } from '../helpers/index.ts';
import { BackToBack } from './back-to-back.ts';
import type { Step } from './harness.ts';
import { advance, call, callSend, lesson, recv, refused, script, sends, sendsOneOf, state, tcb, timers } from './harness.ts';
import { closeWait, closing, establishedActive, finWait1, finWait2, lastAck, synReceivedActive, synReceivedPassive, timeWait } from './prefixes.ts';
import { echoTime, inRoundTrips, listenerWarnings, median, ms, seededNoise, startProxy } from './proxy.ts';
import { num, seg } from './segments.ts';
import type { Row } from './table.ts';
import { table } from './table.ts';

/** RFC 9293 §3.4.2 takes the maximum segment lifetime to be 2 minutes. */
const RFC_MSL_MS = 2 * 60 * 1000;

/** The size of sequence space, as a bigint for absolute sequence numbers. */
const TWO32 = 2n ** 32n;

/** A 32-bit sequence number, any of them. */
const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** One-way delay of the path the delay proxy models, and its round trip. */
const D = 50;
const RTT = 2 * D;

describe('sequence numbers on a 32-bit circle', () => {
  /** A table row for a function of two sequence numbers: seqLt(0xffffffff, 0x00000001) should be true. */
  const cmp = (name: string, f: (a: number, b: number) => unknown, a: number, b: number, want: unknown): Row => ({
    expr: `${name}(${hexNumber(a)}, ${hexNumber(b)})`,
    run: () => f(a, b),
    want,
  });

  it('0xFFFFFFFF comes before 0x00000001 in sequence space', () => {
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
        cmp('seqDiff', seqDiff, 0x7fffffff, 0x00000000, 0x7fffffff),
        cmp('seqDiff', seqDiff, 0x80000000, 0x00000000, -0x80000000),
        cmp('seqDiff', seqDiff, 0x00000000, 0x80000000, -0x80000000),
        cmp('seqLe', seqLe, 0x00000001, 0xffffffff, false),
        cmp('seqGe', seqGe, 0xffffffff, 0x00000001, false),
        cmp('seqLe', seqLe, 2, 1, false),
        cmp('seqGe', seqGe, 1, 2, false),
        cmp('seqGt', seqGt, 0x7fffffff, 0x00000000, true),
        cmp('seqLt', seqLt, 0x00000000, 0x7fffffff, true),
      ],
      'Counting on a circle: 32-bit wraparound',
      'numbers compare by the short way round the circle: 0xFFFFFFFF is 2 before 0x00000001, so a plain `<` gives the wrong answer near the wrap',
    );
  });

  it('seqDiff and the four comparisons go the short way round the circle for any two numbers (fast-check)', () => {
    forAllSync(
      fc.tuple(u32, u32),
      ([a, b]) => {
        // The distance from b forward to a, read as signed: past half the circle it counts backwards.
        const forward = (a - b + 2 ** 32) % 2 ** 32;
        const diff = forward < 2 ** 31 ? forward : forward - 2 ** 32;
        const rows = [cmp('seqDiff', seqDiff, a, b, diff)];
        // Exactly half a circle apart (2^31) the order is undefined (RFC 1982): there only seqDiff is asked.
        if (diff !== -(2 ** 31)) {
          rows.push(cmp('seqLt', seqLt, a, b, diff < 0), cmp('seqLe', seqLe, a, b, diff <= 0), cmp('seqGt', seqGt, a, b, diff > 0), cmp('seqGe', seqGe, a, b, diff >= 0));
        }
        table(
          rows,
          'Counting on a circle: 32-bit wraparound',
          'seqDiff(a, b) is the distance from b to a the short way round, in -2^31 .. 2^31 - 1, and a comes before b exactly when it is negative',
        );
      },
      { numRuns: 500, show: ([a, b]) => `a = ${hexNumber(a)}, b = ${hexNumber(b)}` },
    );
  });

  it('seqAdd wraps past 0xFFFFFFFF back to 0 and never goes negative', () => {
    const add = (a: number, n: number, want: number): Row => ({ expr: `seqAdd(${hexNumber(a)}, ${n})`, run: () => seqAdd(a, n), want });
    const expected = 'results stay in 0 .. 2^32 - 1: JS numbers do not wrap by themselves (0xFFFFFFFF + 1 is 4294967296)';
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
      expected,
    );
    // Any number plus any step from half a circle back to a full circle forward, against (a + n) mod 2^32.
    forAllSync(
      fc.tuple(u32, fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 })),
      ([a, n]) => table([add(a, n, (((a + n) % 2 ** 32) + 2 ** 32) % 2 ** 32)], 'Counting on a circle: 32-bit wraparound', expected),
      { numRuns: 300, show: ([a, n]) => `a = ${hexNumber(a)}, n = ${n}` },
    );
  });

  it('wrap turns an absolute sequence number into a 32-bit seqno counted from the ISN', () => {
    const w = (abs: bigint, isn: number, want: number): Row => ({ expr: `wrap(${abs}n, ${hexNumber(isn)})`, run: () => wrap(abs, isn), want });
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
      expr: `unwrap(${hexNumber(seqno)}, ${hexNumber(isn)}, ${checkpoint}n)`,
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

  it('unwrap undoes wrap for random values near random checkpoints (fast-check)', () => {
    const HALF = 2 ** 31 - 1;
    // Checkpoints on or just past a wrap boundary or half-way between two, and anywhere up to 2^62 (past 2^53 too).
    const nearBoundary = fc
      .tuple(fc.bigInt({ min: 0n, max: 1n << 20n }), fc.constantFrom(0n, TWO32 / 2n), fc.bigInt({ min: 0n, max: 64n }))
      .map(([turns, half, offset]) => turns * TWO32 + half + offset);
    const checkpoint = fc.oneof(nearBoundary, fc.bigInt({ min: 0n, max: 2n ** 62n }));
    // How far n lies from the checkpoint: close by, within 64 of half a circle either way, or anywhere less than half.
    const delta = fc.oneof(
      fc.integer({ min: -64, max: 64 }),
      fc.integer({ min: HALF - 64, max: HALF }),
      fc.integer({ min: -HALF, max: -HALF + 64 }),
      fc.integer({ min: -HALF, max: HALF }),
    );
    const cases = fc.record({ isn: u32, checkpoint, delta }).filter(({ checkpoint, delta }) => checkpoint + BigInt(delta) >= 0n);
    forAllSync(
      cases,
      ({ isn, checkpoint, delta }) => {
        const absolute = checkpoint + BigInt(delta);
        const seqno = Number((absolute + BigInt(isn)) % TWO32);
        table(
          [{ expr: `unwrap(${hexNumber(seqno)}, ${hexNumber(isn)}, ${checkpoint}n)`, run: () => unwrap(seqno, isn, checkpoint), want: absolute }],
          'Absolute sequence numbers',
          'unwrap(wrap(n)) = n whenever n is less than half a circle (2^31) from the checkpoint',
        );
      },
      { numRuns: 400, show: ({ isn, checkpoint, delta }) => `isn = ${hexNumber(isn)}, checkpoint = ${checkpoint}n, n = checkpoint ${delta >= 0 ? '+' : '-'} ${Math.abs(delta)}` },
    );
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
      tcb({ iss: 300, irs: 100, rcvNxt: 101, sndUna: 300, sndNxt: 301 }).why('the SYN-ACK took our ISS, and nothing of ours is acknowledged yet'),
      recv('<SEQ=101><ACK=301><CTL=ACK>'),
      state('ESTABLISHED'),
      tcb({ sndUna: 301, sndNxt: 301, irs: 100, rcvNxt: 101 }).why('the ACK of our SYN moves SND.UNA up to SND.NXT; an ACK takes no number, so RCV.NXT stays'),
    ]);
    script('the third segment of the handshake may already carry data', { iss: 300, lesson: 'The three-way handshake' }, [
      call('openPassive'),
      recv('<SEQ=100><CTL=SYN>'),
      sends('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
      recv('<SEQ=101><ACK=301><CTL=ACK><DATA=20>'),
      sends('<SEQ=301><ACK=121><CTL=ACK>').why('the ACK of our SYN completes the handshake, then its 20 bytes are taken and acknowledged'),
      state('ESTABLISHED'),
      tcb({ sndUna: 301, sndNxt: 301, rcvNxt: 121 }),
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
      tcb({ sndUna: 101, sndNxt: 111, rcvNxt: 301 }).why('10 bytes sent and not yet acknowledged: SND.NXT moves on, SND.UNA waits for the ACK'),
      recv('<SEQ=301><ACK=105><CTL=ACK>'),
      sends(),
      tcb({ sndUna: 105, sndNxt: 111 }).why('an ACK of 105 acknowledges the first 4 bytes'),
      recv('<SEQ=301><ACK=103><CTL=ACK>'),
      sends().why('an old ACK inside the window is simply taken: it acknowledges nothing new'),
      tcb({ sndUna: 105, sndNxt: 111 }).why('SND.UNA never moves backwards'),
      recv('<SEQ=301><ACK=111><CTL=ACK>'),
      tcb({ sndUna: 111, sndNxt: 111 }),
      state('ESTABLISHED'),
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
      tcb({ sndNxt: 306 }),
      recv('<SEQ=101><ACK=306><CTL=ACK><DATA=10>'),
      sends('<SEQ=306><ACK=111><CTL=ACK>').why('10 data bytes take 10 numbers, 101 to 110'),
      tcb({ sndUna: 306, sndNxt: 306, rcvNxt: 111 }),
      recv('<SEQ=111><ACK=306><CTL=FIN,ACK>'),
      sends('<SEQ=306><ACK=112><CTL=ACK>').why('their FIN took 111: acknowledge 111 + 1'),
      state('CLOSE-WAIT'),
      tcb({ rcvNxt: 112 }),
      call('close'),
      sends('<SEQ=306><ACK=112><CTL=FIN,ACK>'),
      state('LAST-ACK'),
      tcb({ sndUna: 306, sndNxt: 307 }).why('our FIN took 306'),
      recv('<SEQ=112><ACK=307><CTL=ACK>'),
      state('CLOSED').why('our FIN took 306, so 307 acknowledges it'),
      timers(0),
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
      tcb({ sndUna: 100, sndNxt: 101 }).why('only the SYN is out; the 5 bytes wait and take no number yet'),
      recv('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
      sendsOneOf(
        '<SEQ=101><ACK=301><CTL=ACK> | <SEQ=101><ACK=301><CTL=ACK><DATA=5>',
        '<SEQ=101><ACK=301><CTL=ACK><DATA=5>',
      ).why('the waiting bytes leave right behind (or with) the handshake ACK'),
      state('ESTABLISHED'),
      tcb({ sndUna: 101, sndNxt: 106, irs: 300, rcvNxt: 301 }),
    ]);
    script('SEND in SYN-SENT', { iss: 100, lesson: 'The state diagram' }, [
      call('openActive'),
      sends('<SEQ=100><CTL=SYN>'),
      callSend(3),
      callSend(4),
      sends().why('data handed over before ESTABLISHED waits for the handshake'),
      tcb({ sndUna: 100, sndNxt: 101 }),
      recv('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
      sendsOneOf(
        '<SEQ=101><ACK=301><CTL=ACK> | <SEQ=101><ACK=301><CTL=ACK><DATA=7>',
        '<SEQ=101><ACK=301><CTL=ACK><DATA=7>',
      ).why('all 7 waiting bytes leave as one segment right behind (or with) the handshake ACK'),
      tcb({ sndUna: 101, sndNxt: 108 }),
    ]);
  });

  it('data and a CLOSE handed over in SYN-RECEIVED wait for ESTABLISHED, then the data goes before the FIN', () => {
    script('SEND and CLOSE in SYN-RECEIVED', { iss: 300, lesson: 'The state diagram' }, [
      call('openPassive'),
      recv('<SEQ=100><CTL=SYN>'),
      sends('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
      callSend(6),
      call('close'),
      sends().why('the data must wait for the handshake, and the FIN must come after the data'),
      state('SYN-RECEIVED'),
      refused('send', 'ERR_CONNECTION_CLOSING'),
      recv('<SEQ=101><ACK=301><CTL=ACK>'),
      sendsOneOf(
        '<SEQ=301><ACK=101><CTL=ACK><DATA=6> | <SEQ=307><ACK=101><CTL=FIN,ACK>',
        '<SEQ=301><ACK=101><CTL=FIN,ACK><DATA=6>',
      ).why('the 6 bytes take 301..306 and the FIN takes 307, in one segment or two'),
      state('FIN-WAIT-1'),
      tcb({ sndUna: 301, sndNxt: 308 }),
      recv('<SEQ=101><ACK=308><CTL=ACK>'),
      state('FIN-WAIT-2').why('308 acknowledges the data and the FIN'),
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
  it('SYN-SENT waits for a SYN: an ACK of our SYN without one is dropped', () => {
    script('ACK without SYN in SYN-SENT', { iss: 100, lesson: 'RST and unexpected segments' }, [
      call('openActive'),
      sends('<SEQ=100><CTL=SYN>'),
      recv('<SEQ=300><ACK=101><CTL=ACK>'),
      sends().why('the peer has not told us its ISN yet: without a SYN there is nothing to acknowledge'),
      state('SYN-SENT'),
      tcb({ sndUna: 100, sndNxt: 101 }),
      recv('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
      sends('<SEQ=101><ACK=301><CTL=ACK>'),
      state('ESTABLISHED'),
    ]);
  });

  it('in SYN-RECEIVED, an ACK that does not acknowledge our SYN gets a RST, and the handshake goes on', () => {
    script('bad ACK in SYN-RECEIVED', { iss: 300, lesson: 'RST and unexpected segments' }, [
      ...synReceivedPassive(),
      recv('<SEQ=101><ACK=999><CTL=ACK>'),
      sends('<SEQ=999><CTL=RST>').why('999 is beyond SND.NXT = 301: it acknowledges something we never sent'),
      state('SYN-RECEIVED'),
      recv('<SEQ=101><ACK=300><CTL=ACK>'),
      sends('<SEQ=300><CTL=RST>').why('ACK = ISS acknowledges nothing: our SYN needs 301'),
      state('SYN-RECEIVED'),
      tcb({ sndUna: 300, sndNxt: 301, rcvNxt: 101 }),
      recv('<SEQ=101><ACK=301><CTL=ACK>'),
      sends(),
      state('ESTABLISHED'),
      tcb({ sndUna: 301 }),
    ]);
  });

  it('a SYN inside the window in SYN-RECEIVED sends a passive open back to LISTEN', () => {
    script('new SYN in SYN-RECEIVED (passive)', { iss: 300, lesson: 'RST and unexpected segments' }, [
      ...synReceivedPassive(),
      recv('<SEQ=101><CTL=SYN>'),
      sends().why('after a passive open, a SYN in SYN-RECEIVED means the handshake went wrong: back to LISTEN, quietly'),
      state('LISTEN'),
      recv('<SEQ=700><CTL=SYN>'),
      sends('<SEQ=300><ACK=701><CTL=SYN,ACK>'),
      state('SYN-RECEIVED'),
      tcb({ irs: 700, rcvNxt: 701 }),
    ]);
  });

  it("after a simultaneous open, SYN-RECEIVED is completed only by the peer's own SYN-ACK", () => {
    script('look-alikes in SYN-RECEIVED (active)', { iss: 100, lesson: 'Simultaneous open and simultaneous close' }, [
      ...synReceivedActive(),
      recv('<SEQ=300><ACK=101><CTL=ACK>'),
      sends('<SEQ=101><ACK=301><CTL=ACK>').why('no SYN: SEQ 300 is before RCV.NXT = 301, outside the window'),
      state('SYN-RECEIVED'),
      recv('<SEQ=300><ACK=101><CTL=SYN,RST,ACK>'),
      sends().why('a RST outside the window is dropped silently'),
      state('SYN-RECEIVED'),
      recv('<SEQ=300><ACK=100><CTL=SYN,ACK>'),
      sends('<SEQ=101><ACK=301><CTL=ACK>').why('ACK 100 does not acknowledge our SYN, so this is not the peer completing the open'),
      state('SYN-RECEIVED'),
      recv('<SEQ=301><ACK=101><CTL=SYN,ACK>'),
      sends('<SEQ=101><ACK=301><CTL=ACK>').why('a SYN at a new place (not the IRS) inside the window gets a challenge ACK'),
      state('SYN-RECEIVED'),
      tcb({ sndUna: 100, irs: 300, rcvNxt: 301 }),
      recv('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
      sends(),
      state('ESTABLISHED').why('SEQ = IRS and ACK = SND.NXT: the peer repeats its SYN and acknowledges ours'),
      tcb({ sndUna: 101, sndNxt: 101, irs: 300, rcvNxt: 301 }),
    ]);
    script('SYN-ACK after a passive open', { iss: 300, lesson: 'RST and unexpected segments' }, [
      ...synReceivedPassive(),
      recv('<SEQ=100><ACK=301><CTL=SYN,ACK>'),
      sends('<SEQ=301><ACK=101><CTL=ACK>').why('after a passive open only a plain ACK completes the handshake; SEQ 100 is outside the window'),
      state('SYN-RECEIVED'),
    ]);
  });

  it('a listener that opened by sending counts as an active opener: a RST in SYN-RECEIVED refuses it', () => {
    script('SEND in LISTEN, then the SYNs cross, then a RST', { iss: 100, lesson: 'Simultaneous open and simultaneous close' }, [
      call('openPassive'),
      callSend(5),
      sends('<SEQ=100><CTL=SYN>'),
      recv('<SEQ=300><CTL=SYN>'),
      sends('<SEQ=100><ACK=301><CTL=SYN,ACK>'),
      state('SYN-RECEIVED'),
      recv('<SEQ=301><CTL=RST>'),
      sends(),
      state('CLOSED').why('SYN-RECEIVED was reached from SYN-SENT, not from LISTEN'),
      timers(0),
    ]);
  });

  it('a connection closed or refused before the handshake forgets the data it was holding', () => {
    script('CLOSE in SYN-SENT with data waiting, then a new open', { iss: 100, lesson: 'The state diagram' }, [
      call('openActive'),
      sends('<SEQ=100><CTL=SYN>'),
      callSend(5),
      call('close'),
      sends(),
      state('CLOSED'),
      call('openActive'),
      sends('<SEQ=100><CTL=SYN>'),
      recv('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
      sends('<SEQ=101><ACK=301><CTL=ACK>').why('the 5 bytes belonged to the connection that was closed'),
      state('ESTABLISHED'),
      tcb({ sndNxt: 101 }),
    ]);
    script('refused with data and a CLOSE waiting, then a new open', { iss: 100, lesson: 'The state diagram' }, [
      ...synReceivedActive(),
      callSend(3),
      call('close'),
      sends(),
      recv('<SEQ=301><CTL=RST>'),
      state('CLOSED'),
      call('openActive'),
      sends('<SEQ=100><CTL=SYN>'),
      recv('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
      sends('<SEQ=101><ACK=301><CTL=ACK>').why('neither the 3 bytes nor the CLOSE belong to the new connection'),
      state('ESTABLISHED'),
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

  it('a RST at RCV.NXT ends the connection from every synchronized state, and leaves no timer behind', () => {
    const cases: [string, () => Step[], number][] = [
      ['FIN-WAIT-1', finWait1, 301],
      ['FIN-WAIT-2', finWait2, 301],
      ['CLOSE-WAIT', closeWait, 302],
      ['CLOSING', closing, 302],
      ['LAST-ACK', lastAck, 302],
      ['TIME-WAIT', timeWait, 302],
    ];
    for (const [name, prefix, rcvNxt] of cases) {
      script(`RST in ${name}`, { iss: 100, msl: 1_000, lesson: 'RST and unexpected segments' }, [
        ...prefix(),
        recv(`<SEQ=${rcvNxt}><CTL=RST>`),
        sends().why('a RST is never answered'),
        state('CLOSED').why(`SEQ = RCV.NXT = ${rcvNxt}: the peer really reset the connection`),
        timers(0).why('a connection that is gone keeps no timer running'),
      ]);
    }
  });

  it('ABORT sends <SEQ=SND.NXT><CTL=RST> exactly where the RFC asks for one, and always ends in CLOSED', () => {
    const cases: [string, Step[], string | undefined][] = [
      ['SYN-SENT', [call('openActive'), sends('<SEQ=100><CTL=SYN>')], undefined],
      ['SYN-RECEIVED', synReceivedPassive(), '<SEQ=301><CTL=RST>'],
      ['FIN-WAIT-1', finWait1(), '<SEQ=102><CTL=RST>'],
      ['FIN-WAIT-2', finWait2(), '<SEQ=102><CTL=RST>'],
      ['CLOSE-WAIT', closeWait(), '<SEQ=101><CTL=RST>'],
      ['CLOSING', closing(), undefined],
      ['LAST-ACK', lastAck(), undefined],
    ];
    for (const [name, prefix, rst] of cases) {
      const iss = name === 'SYN-RECEIVED' ? 300 : 100;
      script(`ABORT in ${name}`, { iss, msl: 1_000, lesson: 'What the user may call, and when' }, [
        ...prefix,
        call('abort'),
        rst
          ? sends(rst).why('the peer knows our numbers: a RST at SND.NXT tells it the connection is gone')
          : sends().why(name === 'SYN-SENT' ? 'the peer has not heard of us: there is nobody to tell' : 'both sides already sent their FIN: there is nothing left to tell'),
        state('CLOSED'),
        timers(0),
      ]);
    }
  });

  it('CLOSING waits for the ACK of our own FIN; an ACK of less keeps it there', () => {
    script('old ACK in CLOSING', { iss: 100, msl: 1_000, lesson: 'Simultaneous open and simultaneous close' }, [
      ...closing(),
      recv('<SEQ=302><ACK=101><CTL=ACK>'),
      sends(),
      state('CLOSING').why('101 does not acknowledge our FIN at 101: that needs 102'),
      recv('<SEQ=302><ACK=102><CTL=ACK>'),
      sends(),
      state('TIME-WAIT'),
      tcb({ sndUna: 102 }),
    ]);
  });

  it('in TIME-WAIT only the repeated FIN restarts the wait; other old segments get an ACK and change nothing', () => {
    script('old segments in TIME-WAIT', { iss: 100, msl: 1_000, lesson: 'Closing and TIME-WAIT' }, [
      ...timeWait(),
      advance(1_500, 'most of 2*MSL'),
      recv('<SEQ=297><ACK=102><CTL=ACK><DATA=5>'),
      sends('<SEQ=102><ACK=302><CTL=ACK>').why('old data, outside the window: answered with an ACK of where we are'),
      recv('<SEQ=200><ACK=102><CTL=FIN,ACK>'),
      sends('<SEQ=102><ACK=302><CTL=ACK>').why('a FIN that does not end at RCV.NXT is not the one we acknowledged: just an old segment'),
      recv('<SEQ=301><ACK=102><CTL=FIN,RST,ACK>'),
      sends().why('a RST outside the window is dropped silently, FIN or not'),
      state('TIME-WAIT'),
      advance(499, 'up to 1 ms before the first 2*MSL ends'),
      state('TIME-WAIT'),
      advance(1, 'the last millisecond of the first 2*MSL'),
      state('CLOSED').why('none of those segments was the repeated FIN, so the wait was never restarted'),
      timers(0),
    ]);
  });

  it('CLOSE-WAIT answers a repeated FIN with an ACK and stays: only the side that closed first waits in TIME-WAIT', () => {
    script('repeated FIN in CLOSE-WAIT', { iss: 100, lesson: 'Closing and TIME-WAIT' }, [
      ...closeWait(),
      recv('<SEQ=301><ACK=101><CTL=FIN,ACK>'),
      sends('<SEQ=101><ACK=302><CTL=ACK>').why('our ACK of their FIN was lost, so it came again: it is before the window now, so we acknowledge again'),
      state('CLOSE-WAIT'),
      timers(0),
      tcb({ rcvNxt: 302 }),
    ]);
  });

  it("data and FIN in one segment move RCV.NXT by the data plus one, and the peer's data after its FIN is not taken", () => {
    script('data with the FIN, then data after it', { iss: 100, lesson: 'SYN and FIN take a sequence number' }, [
      ...establishedActive(),
      recv('<SEQ=301><ACK=101><CTL=FIN,ACK><DATA=5>'),
      sends('<SEQ=101><ACK=307><CTL=ACK>').why('5 bytes take 301..305 and the FIN takes 306'),
      state('CLOSE-WAIT'),
      tcb({ rcvNxt: 307 }),
      recv('<SEQ=307><ACK=101><CTL=ACK><DATA=5>'),
      sendsOneOf('', '<SEQ=101><ACK=307><CTL=ACK>'),
      tcb({ rcvNxt: 307 }).why('the peer said it had no more data: bytes after its FIN cannot be real'),
      state('CLOSE-WAIT'),
    ]);
  });

  it('two of your connections, wired back to back, open and close simultaneously and both wait in TIME-WAIT', () => {
    const pair = new BackToBack({ iss: 100, msl: 1_000 }, { iss: 300, msl: 1_000 });
    const { a, b } = pair;
    pair.act('A and B both open actively', () => (a.openActive(), b.openActive()));
    pair.deliver();
    pair.expectBoth('ESTABLISHED', 'Simultaneous open and simultaneous close');
    pair.act('A sends 10 bytes, B sends 20', () => (a.send(10), b.send(20)));
    pair.deliver();
    check(a.rcvNxt === 321 && b.rcvNxt === 111, () => ({
      did: `after the data, A's RCV.NXT is ${num(a.rcvNxt)} and B's is ${num(b.rcvNxt)}`,
      expected: "A's RCV.NXT = 301 + 20 = 321, B's = 101 + 10 = 111",
      lesson: lesson('SYN and FIN take a sequence number'),
      extra: pair.wire.join('\n'),
    }));
    pair.act('A and B both close', () => (a.close(), b.close()));
    pair.deliver();
    pair.expectBoth('TIME-WAIT', 'Simultaneous open and simultaneous close');
    pair.act('2*MSL passes', () => pair.clock.advance(2_000));
    pair.expectBoth('CLOSED', 'Closing and TIME-WAIT');
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
      recv('<SEQ=100><DATA=20>'),
      sends('<SEQ=0><ACK=120><CTL=RST,ACK>').why('20 data bytes take 100..119'),
      recv('<SEQ=0xFFFFFFFF><CTL=SYN,FIN><DATA=3>'),
      sends('<SEQ=0><ACK=4><CTL=RST,ACK>').why('SEG.LEN = 3 + 1 + 1 = 5, and 0xFFFFFFFF + 5 wraps to 4'),
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
      recv('<SEQ=100><ACK=777><CTL=RST,ACK>'),
      sends().why('a RST is never answered with a RST, even one with an ACK'),
      state('LISTEN'),
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
      recv('<SEQ=301><ACK=5000><CTL=ACK><DATA=5>'),
      sends('<SEQ=101><ACK=301><CTL=ACK>').why('the whole segment is dropped, its data too: it acknowledges data we never sent'),
      tcb({ sndUna: 101, rcvNxt: 301 }),
      recv('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
      sends('<SEQ=101><ACK=301><CTL=ACK>').why('the peer sent its SYN-ACK again (our handshake ACK was lost): SEQ 300 is before the window, so we acknowledge again'),
      recv('<SEQ=301><DATA=5>'),
      sends().why('a segment without the ACK bit is dropped in a synchronized state'),
      recv('<SEQ=301><ACK=101><CTL=ACK><DATA=5>'),
      sends('<SEQ=101><ACK=306><CTL=ACK>').why('none of the bad segments moved RCV.NXT'),
      state('ESTABLISHED'),
    ]);
  });

  it('a connection that was opened passively is ended by a RST and challenged by a SYN like any other once ESTABLISHED', () => {
    const established = () => [
      call('openPassive'),
      recv('<SEQ=100><CTL=SYN>'),
      sends('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
      recv('<SEQ=101><ACK=301><CTL=ACK>'),
      state('ESTABLISHED'),
    ];
    script('SYN in ESTABLISHED after a passive open', { iss: 300, lesson: 'RST and unexpected segments' }, [
      ...established(),
      recv('<SEQ=101><CTL=SYN>'),
      sends('<SEQ=301><ACK=101><CTL=ACK>').why('the way back to LISTEN is only for SYN-RECEIVED; an established connection challenges the SYN'),
      state('ESTABLISHED'),
    ]);
    script('RST in ESTABLISHED after a passive open', { iss: 300, lesson: 'RST and unexpected segments' }, [
      ...established(),
      recv('<SEQ=101><CTL=RST>'),
      sends(),
      state('CLOSED').why('the way back to LISTEN is only for SYN-RECEIVED; an established connection that is reset is gone'),
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

  it('the receive window has exact edges: RCV.NXT + RECEIVE_WINDOW - 1 is inside it, RCV.NXT + RECEIVE_WINDOW is not', () => {
    const last = 301 + RECEIVE_WINDOW - 1;
    script('RSTs at the window edges', { iss: 100, lesson: 'RST and unexpected segments' }, [
      ...establishedActive(),
      recv(`<SEQ=${last + 1}><CTL=RST>`),
      sends().why(`${last + 1} = RCV.NXT + RECEIVE_WINDOW is just outside the window: dropped silently`),
      recv(`<SEQ=${last}><CTL=RST>`),
      sends('<SEQ=101><ACK=301><CTL=ACK>').why(`${last} is the last number inside the window: a challenge ACK`),
      recv('<SEQ=300><CTL=RST>'),
      sends().why('300 is just before RCV.NXT: outside the window'),
      state('ESTABLISHED'),
    ]);
  });

  it("a segment that overlaps the window's start is taken for its ACK; data not at RCV.NXT is answered with an ACK", () => {
    script('overlapping and out-of-order segments', { iss: 100, lesson: 'RST and unexpected segments' }, [
      ...establishedActive(),
      callSend(10),
      sends('<SEQ=101><ACK=301><CTL=ACK><DATA=10>'),
      recv('<SEQ=291><ACK=105><CTL=ACK><DATA=20>'),
      sends('<SEQ=111><ACK=301><CTL=ACK>').why('bytes 291..310 reach into the window, so the segment is acceptable; its data does not start at RCV.NXT'),
      tcb({ sndUna: 105, sndNxt: 111, rcvNxt: 301 }).why('an acceptable segment\'s ACK field is taken: 105 acknowledges our first 4 bytes'),
      recv('<SEQ=310><ACK=111><CTL=ACK><DATA=5>'),
      sends('<SEQ=111><ACK=301><CTL=ACK>').why('bytes 310..314 leave a gap after 300: say which byte we want next'),
      tcb({ sndUna: 111, rcvNxt: 301 }),
      recv('<SEQ=301><ACK=111><CTL=ACK><DATA=9>'),
      sends('<SEQ=111><ACK=310><CTL=ACK>'),
      tcb({ rcvNxt: 310 }),
    ]);
  });

  it('OPEN is refused with ERR_CONNECTION_EXISTS in every state but CLOSED, and SEND and CLOSE with ERR_CONNECTION_CLOSING once we closed', () => {
    const cases: [State, number, Step[]][] = [
      ['LISTEN', 300, [call('openPassive')]],
      ['SYN-SENT', 100, [call('openActive'), sends('<SEQ=100><CTL=SYN>')]],
      ['SYN-RECEIVED', 300, synReceivedPassive()],
      ['ESTABLISHED', 100, establishedActive()],
      ['CLOSE-WAIT', 100, closeWait()],
      ['FIN-WAIT-1', 100, finWait1()],
      ['FIN-WAIT-2', 100, finWait2()],
      ['CLOSING', 100, closing()],
      ['LAST-ACK', 100, lastAck()],
      ['TIME-WAIT', 100, timeWait()],
    ];
    const afterClose = new Set<State>(['FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSING', 'LAST-ACK', 'TIME-WAIT']);
    for (const [name, iss, prefix] of cases) {
      script(`calls refused in ${name}`, { iss, msl: 1_000, lesson: 'What the user may call, and when' }, [
        ...prefix,
        refused('openPassive', 'ERR_CONNECTION_EXISTS'),
        refused('openActive', 'ERR_CONNECTION_EXISTS'),
        ...(afterClose.has(name) ? [refused('send', 'ERR_CONNECTION_CLOSING'), refused('close', 'ERR_CONNECTION_CLOSING')] : []),
        sends().why('a refused call sends nothing'),
        state(name).why('a refused call changes nothing'),
      ]);
    }
  });

  it('user calls that the state does not allow throw a TcpCallError with a stable code', () => {
    script('calls at the wrong time', { iss: 100, lesson: 'What the user may call, and when' }, [
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

describe('what a handshake costs: your delay proxy on loopback', () => {
  it('relays bytes unchanged in both directions and passes on the end of each stream', async () => {
    const echo = net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
    const proxyPort = await startProxy(await listen(echo), 5);
    // Every byte value first (0x80-0xff included, which a text conversion would mangle), then seeded noise.
    const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const noise = seededNoise(256 * 1024);
    const payload = Buffer.concat([everyByte, everyByte.reverse(), noise.bytes]);
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
      extra: replayHint(noise.seed),
    }));
  });

  it('relays to and from IPv6 (::1): a target given as ::1, and a proxy listening on ::1', async () => {
    const echo = net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
    const echoPort = await listen(echo, 0, '::1');
    const proxy = createDelayProxy({ target: { host: '::1', port: echoPort }, delayMs: 5 });
    const proxyPort = await listen(proxy, 0, '::1');
    const client = await connect(proxyPort, '::1');
    const payload = Buffer.from([0x00, 0x7f, 0x80, 0xc3, 0xa9, 0xfe, 0xff, 0x0a]);
    const received = readToEnd(client, 3_000);
    client.end(payload);
    let back: Buffer | undefined;
    let problem = '';
    try {
      back = await received;
    } catch (err) {
      problem = ` (${thrown(err)})`;
    }
    check(!!back && back.equals(payload), () => ({
      did: back ? `${back.length} bytes came back: ${back.toString('hex')}` : `the echo never ended${problem}`,
      expected: `the same ${payload.length} bytes (${payload.toString('hex')}) through a proxy on [::1] to a server on [::1]`,
      lesson: lesson('A slow path on loopback'),
    }));
  });

  it('reaches a target on loopback when the target gives no host', async () => {
    const echo = net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
    const echoPort = await listen(echo);
    const proxyPort = await listen(createDelayProxy({ target: { port: echoPort }, delayMs: 5 }));
    const client = await connect(proxyPort);
    const received = readToEnd(client, 3_000);
    client.end('no host given\n');
    let back = '';
    try {
      back = (await received).toString();
    } catch (err) {
      back = `(nothing: ${thrown(err)})`;
    }
    check(back === 'no host given\n', () => ({
      did: `the echo through your proxy was ${JSON.stringify(back)}`,
      expected: 'without a host, the target is on this machine (loopback), as for net.connect',
      lesson: lesson('A slow path on loopback'),
    }));
  });

  it('carries what the server says first, without waiting for the client to speak', async () => {
    const server = net.createServer((s) => s.write('220 hello from the server\n'));
    const proxyPort = await startProxy(await listen(server), D);
    const t0 = performance.now();
    const client = track(net.connect({ port: proxyPort, host: '127.0.0.1' }), 'client to the proxy');
    const greeting = new Promise<number>((resolve) => client.once('data', () => resolve(performance.now() - t0)));
    const took = await within(greeting, 3_000, "the server's greeting, relayed by your proxy", 'Does your proxy relay the server-to-client direction even before the client sends anything?');
    check(took >= 0.9 * 3 * D, () => ({
      did: `the greeting arrived ${ms(took)} after the client connected`,
      expected: `at least 2d (the handshake) + d (the greeting's trip) = ${3 * D} ms (we allow ${0.9 * 3 * D} ms): the server-to-client direction is delayed too`,
      lesson: lesson('A slow path on loopback'),
    }));
  });

  it('closes both sides once both streams have ended, and passes a reset on in either direction', async () => {
    const serverSockets: net.Socket[] = [];
    const echo = net.createServer({ allowHalfOpen: true }, (s) => {
      serverSockets.push(s);
      s.on('error', () => {});
      s.pipe(s);
    });
    const proxy = createDelayProxy({ target: { host: '127.0.0.1', port: await listen(echo) }, delayMs: 5 });
    const proxyPort = await listen(proxy);
    const connections = () => new Promise<number>((resolve) => proxy.getConnections((_err, n) => resolve(n)));
    const closed = (s: net.Socket | undefined) => !!s && s.destroyed;

    // 1. A clean exchange: both ends, then every socket is closed (the proxy keeps none open).
    const c1 = await connect(proxyPort);
    const echoed = readToEnd(c1, 3_000);
    c1.end('bye\n');
    await within(echoed, 3_000, 'the echo of "bye" and its end');
    const s1 = serverSockets[0];
    const clean = await eventually(() => closed(s1) && c1.destroyed, 2_000);
    const left = await connections();
    check(clean && left === 0, () => ({
      did: `after both streams ended: the server's socket ${closed(s1) ? 'closed' : 'is still open'}, the client's ${c1.destroyed ? 'closed' : 'is still open'}; the proxy still holds ${left} connection(s)`,
      expected: 'every socket closed: when both directions have ended, the proxy has nothing more to carry',
      lesson: lesson('A slow path on loopback'),
    }));

    // 2. The client resets: the proxy must close its connection to the server.
    const c2 = await connect(proxyPort);
    await echoTime(c2, 'ping\n', 'an exchange before the client resets');
    const s2 = serverSockets[1];
    c2.resetAndDestroy();
    const serverSawIt = await eventually(() => closed(s2), 2_000);
    check(serverSawIt, () => ({
      did: "the client reset its connection, and the server's connection through the proxy is still open 2 s later",
      expected: 'the proxy passes the reset on (after d): it closes its socket to the server',
      lesson: lesson('A slow path on loopback'),
    }));

    // 3. The server resets: the proxy must close its connection to the client.
    const c3 = await connect(proxyPort);
    c3.on('error', () => {});
    await echoTime(c3, 'ping\n', 'an exchange before the server resets');
    serverSockets[2]!.resetAndDestroy();
    const clientSawIt = await eventually(() => c3.destroyed || c3.readableEnded, 2_000);
    check(clientSawIt, () => ({
      did: "the server reset its connection, and the client's connection to the proxy is still open 2 s later",
      expected: 'the proxy passes the reset on (after d): it closes its socket to the client',
      lesson: lesson('A slow path on loopback'),
    }));
    await eventually(() => c1.destroyed && c2.destroyed, 500);
    const stillOpen = await connections();
    check(stillOpen === 0, () => ({
      did: `after every client left, your proxy still holds ${stillOpen} connection(s)`,
      expected: 'no connection left open',
      lesson: lesson('A slow path on loopback'),
    }));
  });

  it('lets the server end first while the client goes on sending (half-close the other way round)', async () => {
    let heard = '';
    let serverDone!: () => void;
    const done = new Promise<void>((r) => (serverDone = r));
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      s.end('bye from the server\n');
      s.on('data', (d: Buffer) => (heard += d.toString()));
      s.on('end', serverDone);
    });
    const proxyPort = await startProxy(await listen(server), 5);
    const client = await connect(proxyPort, '127.0.0.1', 2_000, { allowHalfOpen: true });
    const greeting = (await within(readToEnd(client, 3_000), 3_000, "the server's reply and its end")).toString();
    client.end('late words from the client\n');
    let ended = true;
    try {
      await within(done, 2_000, "the client's late words and its end, at the server");
    } catch {
      ended = false;
    }
    check(greeting === 'bye from the server\n' && ended && heard === 'late words from the client\n', () => ({
      did: `the client got ${JSON.stringify(greeting)}; after that, the server got ${JSON.stringify(heard)}${ended ? ' and the end' : ' and no end'}`,
      expected: "the server's end closes only its own direction: the client's words sent after it still reach the server, then the client's end",
      lesson: lesson('A slow path on loopback'),
    }));
  });

  it('a client that reads slowly still gets a large reply in full, then its end', async () => {
    const { bytes: reply, seed } = seededNoise(8 * 1024 * 1024);
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      s.resume();
      // The reply leaves in 16 pieces, 10 ms apart: the proxy is still reading when the client side fills up.
      const PIECE = reply.length / 16;
      const send = (i: number): void => {
        if (s.destroyed) return;
        if (i === 16) return void s.end();
        s.write(reply.subarray(i * PIECE, (i + 1) * PIECE));
        setTimeout(() => send(i + 1), 10);
      };
      s.on('end', () => send(0));
    });
    const warnings = listenerWarnings();
    const proxy = createDelayProxy({ target: { host: '127.0.0.1', port: await listen(server) }, delayMs: 5 });
    let proxySide: net.Socket | undefined;
    proxy.on('connection', (s: net.Socket) => (proxySide = s));
    const proxyPort = await listen(proxy);
    const client = await connect(proxyPort, '127.0.0.1', 2_000, { allowHalfOpen: true });
    client.end('send me the big file\n');
    client.pause();
    // The reply piles up until the proxy's socket to the client is full (a write returned false).
    await eventually(() => !!proxySide?.writableNeedDrain, 1_000);
    client.resume();
    let back: Buffer | undefined;
    let problem = '';
    try {
      back = await readToEnd(client, 3_000);
    } catch (err) {
      problem = thrown(err);
    }
    const firstDiff = back ? back.findIndex((b, i) => b !== reply[i]) : -1;
    check(!!back && back.equals(reply), () => ({
      did: back
        ? `${back.length} of ${reply.length} bytes came back${firstDiff >= 0 ? `, first difference at byte ${firstDiff}` : ''}`
        : `the reply never ended (${problem})`,
      expected: `all ${reply.length} bytes, then the end: when the client's side is full, wait for 'drain' and go on (and end only after the last byte)`,
      lesson: lesson('A slow path on loopback'),
      extra: replayHint(seed),
    }));
    await pause(0);
    check(warnings.length === 0, () => ({
      did: `Node warned: ${warnings[0]}`,
      expected: "one 'drain' listener per pause of the reading side, not one for every chunk that found the far side full",
      lesson: lesson('A slow path on loopback'),
    }));
  });

  it('a server that reads slowly still gets a large upload in full, even after it ended its own side', async () => {
    const { bytes: upload, seed } = seededNoise(8 * 1024 * 1024);
    const parts: Buffer[] = [];
    let serverDone!: () => void;
    const done = new Promise<void>((r) => (serverDone = r));
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      s.end('go ahead\n'); // the server has nothing more to say, but still listens
      // A slow reader: a short rest after every chunk, so the upload piles up in front of it to the very end.
      s.on('data', (d: Buffer) => {
        parts.push(d);
        s.pause();
        setTimeout(() => s.resume(), 2);
      });
      s.on('end', serverDone);
      s.on('close', serverDone);
    });
    const proxyPort = await startProxy(await listen(server), D);
    const client = await connect(proxyPort, '127.0.0.1', 2_000, { allowHalfOpen: true });
    client.resume();
    client.end(upload);
    let ended = true;
    try {
      await within(done, 3_000, 'the upload and its end, at the server');
    } catch {
      ended = false;
    }
    const got = Buffer.concat(parts);
    const firstDiff = got.findIndex((b, i) => b !== upload[i]);
    check(ended && got.equals(upload), () => ({
      did: `the server got ${got.length} of ${upload.length} bytes${firstDiff >= 0 ? `, first difference at byte ${firstDiff}` : ''}${ended ? '' : ', and no end'}`,
      expected: `all ${upload.length} bytes, then the end: a side that has ended its own stream may still be receiving, so nothing is cut off while bytes are on their way`,
      lesson: lesson('A slow path on loopback'),
      extra: replayHint(seed),
    }));
  });

  it('never dials the server for a client connection that closes during the handshake wait', async () => {
    let dialled = 0;
    const server = net.createServer((s) => {
      dialled++;
      s.destroy();
    });
    const d = 20;
    const proxy = createDelayProxy({ target: { host: '127.0.0.1', port: await listen(server) }, delayMs: d });
    // The test closes the proxy's side of each connection during the wait, as a dropped client would.
    proxy.on('connection', (s: net.Socket) => setImmediate(() => s.destroy()));
    const proxyPort = await listen(proxy);
    const client = await connect(proxyPort);
    client.on('error', () => {});
    await pause(2 * d + 150);
    check(dialled === 0, () => ({
      did: `the client's connection closed during the ${2 * d} ms handshake wait, and your proxy still dialled the server ${dialled} time(s)`,
      expected: 'the handshake timer is cancelled when the client connection closes: nothing is left to relay, and no socket to the server is opened',
      lesson: lesson('A slow path on loopback'),
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
    // A busy machine only ever adds delay, and not evenly: one slow sample can make a reused request look
    // fresh. The fastest of several samples is the one nearest the path's own cost, so compare fastest to fastest.
    const SAMPLES = 5;
    const fresh: number[] = [];
    const reused: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      fresh.push(await get(false, `fresh request ${i + 1}`));
      reused.push(await get(agent, `reused request ${i + 1}`));
    }
    const [f, r] = [Math.min(...fresh), Math.min(...reused)];
    const samples = `fresh: ${fresh.map(ms).join(', ')}; reused: ${reused.map(ms).join(', ')}; d = ${D} ms, RTT = ${RTT} ms`;
    check(connections === SAMPLES + 1, () => ({
      did: `the server saw ${connections} connections`,
      expected: `${SAMPLES + 1}: one kept open by the keep-alive agent for all of its requests, and one per fresh request`,
      lesson: lesson('Keep-alive: paying once'),
      extra: samples,
    }));
    check(r >= 0.9 * RTT, () => ({
      did: `the fastest request on the reused connection took ${ms(r)} = ${inRoundTrips(r, RTT)}`,
      expected: `at least one round trip (${RTT} ms; we allow ${0.9 * RTT} ms): the request crosses the path, the reply crosses back`,
      lesson: lesson('A slow path on loopback'),
      extra: samples,
    }));
    check(f - r >= 0.5 * RTT && f - r <= 2 * RTT, () => ({
      did: `fresh ${ms(f)} - reused ${ms(r)} = ${ms(f - r)} = ${inRoundTrips(f - r, RTT)} (the fastest of ${SAMPLES} each)`,
      expected: `about one extra round trip for the handshake: between ${0.5 * RTT} and ${2 * RTT} ms`,
      lesson: lesson('What a handshake costs'),
      extra: samples,
    }));
  });
});
