/**
 * Scripts that bring a connection to a state, for tests that start there. Each one checks the
 * segments and the TCB on its way, so a test that builds on it fails at the first wrong step.
 */
import { call, recv, sends, state, tcb } from './harness.ts';

/** The common start: an active open, ISS 100, peer ISS 300, ending ESTABLISHED with RCV.NXT 301. */
export const establishedActive = () => [
  call('openActive'),
  sends('<SEQ=100><CTL=SYN>'),
  tcb({ iss: 100, sndUna: 100, sndNxt: 101 }),
  recv('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
  sends('<SEQ=101><ACK=301><CTL=ACK>'),
  state('ESTABLISHED'),
  tcb({ sndUna: 101, sndNxt: 101, irs: 300, rcvNxt: 301 }),
];

/** From ESTABLISHED (as above), our CLOSE: FIN-WAIT-1 with SND.NXT 102, RCV.NXT 301. */
export const finWait1 = () => [
  ...establishedActive(),
  call('close'),
  sends('<SEQ=101><ACK=301><CTL=FIN,ACK>'),
  state('FIN-WAIT-1'),
  tcb({ sndUna: 101, sndNxt: 102, rcvNxt: 301 }),
];

/** Our FIN acknowledged: FIN-WAIT-2. */
export const finWait2 = () => [...finWait1(), recv('<SEQ=301><ACK=102><CTL=ACK>'), sends(), state('FIN-WAIT-2'), tcb({ sndUna: 102 })];

/** The FINs crossed: CLOSING, with RCV.NXT 302. */
export const closing = () => [...finWait1(), recv('<SEQ=301><ACK=101><CTL=FIN,ACK>'), sends('<SEQ=102><ACK=302><CTL=ACK>'), state('CLOSING'), tcb({ rcvNxt: 302 })];

/** The peer's FIN with the ACK of ours: TIME-WAIT, with RCV.NXT 302. */
export const timeWait = () => [...finWait1(), recv('<SEQ=301><ACK=102><CTL=FIN,ACK>'), sends('<SEQ=102><ACK=302><CTL=ACK>'), state('TIME-WAIT'), tcb({ sndUna: 102, rcvNxt: 302 })];

/** The peer closed first: CLOSE-WAIT, with RCV.NXT 302. */
export const closeWait = () => [...establishedActive(), recv('<SEQ=301><ACK=101><CTL=FIN,ACK>'), sends('<SEQ=101><ACK=302><CTL=ACK>'), state('CLOSE-WAIT'), tcb({ rcvNxt: 302 })];

/** Then our CLOSE: LAST-ACK, with SND.NXT 102. */
export const lastAck = () => [...closeWait(), call('close'), sends('<SEQ=101><ACK=302><CTL=FIN,ACK>'), state('LAST-ACK'), tcb({ sndNxt: 102 })];

/** A passive open up to SYN-RECEIVED: ISS 300, the peer's SYN at 100. */
export const synReceivedPassive = () => [
  call('openPassive'),
  recv('<SEQ=100><CTL=SYN>'),
  sends('<SEQ=300><ACK=101><CTL=SYN,ACK>'),
  state('SYN-RECEIVED'),
];

/** A simultaneous open up to SYN-RECEIVED: ISS 100, the peer's SYN at 300 crossed ours. */
export const synReceivedActive = () => [
  call('openActive'),
  sends('<SEQ=100><CTL=SYN>'),
  recv('<SEQ=300><CTL=SYN>'),
  sends('<SEQ=100><ACK=301><CTL=SYN,ACK>'),
  state('SYN-RECEIVED'),
  tcb({ sndUna: 100, sndNxt: 101, irs: 300, rcvNxt: 301 }),
];
