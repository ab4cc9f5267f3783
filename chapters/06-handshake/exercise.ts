/**
 * A TCP connection state machine after RFC 9293 §3.3.2 and §3.10: it opens, closes and
 * resets connections the way the RFC says. It reads and writes abstract segments (no bytes,
 * no checksums, no retransmission) and keeps time on an injected clock.
 */
import { todo } from '../workbook.ts';
// Sequence numbers wrap at 2^32: compute and compare every one of them with these.
import { seqAdd, seqGe, seqGt, seqLe, seqLt } from './sequence.ts';

/** Maximum segment lifetime: how long a segment may wander the network (RFC 9293 §3.4.2: 2 minutes). */
export const MSL_MS = 2 * 60 * 1000;

/** Our fixed receive window RCV.WND, in sequence numbers (RFC 9293 §3.3.1); flow control is chapter 07's. */
export const RECEIVE_WINDOW = 65_535;

/** The states of the RFC 9293 §3.3.2 diagram. */
export type State =
  | 'CLOSED'
  | 'LISTEN'
  | 'SYN-SENT'
  | 'SYN-RECEIVED'
  | 'ESTABLISHED'
  | 'FIN-WAIT-1'
  | 'FIN-WAIT-2'
  | 'CLOSE-WAIT'
  | 'CLOSING'
  | 'LAST-ACK'
  | 'TIME-WAIT';

/**
 * A TCP segment, reduced to what the state machine reads (RFC 9293 §3.1).
 * The ACK control bit is set exactly when `ack` is present.
 */
export interface Segment {
  /** SEG.SEQ: the sequence number of the segment's first SYN, data byte or FIN. */
  seq: number;
  /** SEG.ACK: the next sequence number the sender expects; present means the ACK bit is set. */
  ack?: number;
  /** SYN control bit: "my first sequence number is `seq`". Takes one sequence number. */
  syn?: boolean;
  /** FIN control bit: "I have no more data". Takes one sequence number, after the data. */
  fin?: boolean;
  /** RST control bit: "this connection does not exist (any more)". */
  rst?: boolean;
  /** How many payload bytes the segment carries (their values do not matter here). */
  data?: number;
}

/** The clock the connection keeps time with; tests pass a fake one. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** How to make a connection. */
export interface ConnectionOptions {
  /** Every timer (TIME-WAIT) runs on this clock. */
  clock: Clock;
  /** Our initial send sequence number ISS (RFC 9293 §3.4.1); real stacks pick an unpredictable one. */
  iss: number;
  /** Maximum segment lifetime in ms; TIME-WAIT lasts 2 * msl. Defaults to MSL_MS. */
  msl?: number;
}

/** Error codes of user calls made in a state that does not allow them (RFC 9293 §3.10.1-3.10.5). */
export type TcpCallErrorCode = 'ERR_CONNECTION_EXISTS' | 'ERR_CONNECTION_DOES_NOT_EXIST' | 'ERR_CONNECTION_CLOSING';

/** A user call (open, send, close, abort) that the current state refuses. */
export class TcpCallError extends Error {
  override name = 'TcpCallError';

  constructor(
    /** Stable code: tests check this, never the message. */
    readonly code: TcpCallErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** SEG.LEN: payload bytes, plus one for a SYN and one for a FIN (RFC 9293 §3.4). */
export function segmentLength(segment: Segment): number {
  // TODO: count the data bytes, plus one for SYN and one for FIN.
  return todo(import.meta.url, 'segmentLength');
}

/**
 * One TCP connection: its state, its sequence variables, and the segments it sends.
 *
 * Every sequence number you compute or compare goes through ./sequence.ts (seqAdd, seqLt, ...):
 * they wrap at 2^32. You will need a little more state than the fields below, for example
 * whether SYN-RECEIVED was reached from LISTEN (RFC 9293 MUST-11), the data and the CLOSE that
 * wait for the handshake, and the TIME-WAIT timer.
 */
export class TcpConnection {
  /** Where the connection is in the RFC 9293 §3.3.2 diagram. */
  state: State = 'CLOSED';
  /** Segments the connection has sent, oldest first. Whoever carries them takes them out. */
  readonly outbox: Segment[] = [];
  /** ISS: our initial send sequence number. */
  readonly iss: number;
  /** SND.UNA: our oldest sequence number not yet acknowledged. */
  sndUna = 0;
  /** SND.NXT: the sequence number our next segment will use. */
  sndNxt = 0;
  /** IRS: the peer's initial sequence number, learned from its SYN. */
  irs = 0;
  /** RCV.NXT: the next sequence number we expect from the peer. */
  rcvNxt = 0;
  /** The clock every timer runs on. */
  readonly clock: Clock;
  /** Maximum segment lifetime in ms: TIME-WAIT lasts twice this. */
  readonly msl: number;

  constructor(options: ConnectionOptions) {
    this.clock = options.clock;
    this.iss = options.iss;
    this.msl = options.msl ?? MSL_MS;
  }

  /** Passive OPEN: wait for a peer's SYN (RFC 9293 §3.10.1). */
  openPassive(): void {
    // TODO: CLOSED becomes LISTEN; in any other state throw TcpCallError('ERR_CONNECTION_EXISTS').
    return todo(import.meta.url, 'TcpConnection.openPassive');
  }

  /** Active OPEN: send a SYN (RFC 9293 §3.10.1). */
  openActive(): void {
    // TODO: send <SEQ=ISS><CTL=SYN>, set SND.UNA and SND.NXT (the SYN takes one number), enter SYN-SENT.
    return todo(import.meta.url, 'TcpConnection.openActive');
  }

  /** SEND `bytes` bytes of data (RFC 9293 §3.10.2); before ESTABLISHED they wait for the handshake. */
  send(bytes: number): void {
    // TODO: ESTABLISHED and CLOSE-WAIT send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK><DATA=bytes> at once.
    // LISTEN opens actively first; SYN-SENT and SYN-RECEIVED keep the bytes and send them all as one
    // segment when the connection becomes ESTABLISHED, right behind (or with) the ACK that completes
    // the handshake. CLOSED throws ERR_CONNECTION_DOES_NOT_EXIST; states after a CLOSE (a CLOSE
    // waiting in SYN-RECEIVED included) throw ERR_CONNECTION_CLOSING. See the lesson's table
    // "What the user may call, and when".
    return todo(import.meta.url, 'TcpConnection.send');
  }

  /** CLOSE: we have nothing more to send (RFC 9293 §3.10.4). */
  close(): void {
    // TODO: send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=FIN,ACK> (the FIN takes one number) from ESTABLISHED,
    // SYN-RECEIVED and CLOSE-WAIT; LISTEN and SYN-SENT just close and forget any waiting data. In
    // SYN-RECEIVED with data waiting, the FIN waits too and leaves after the data. The state diagram
    // says where each one goes. CLOSED throws ERR_CONNECTION_DOES_NOT_EXIST; a second close throws
    // ERR_CONNECTION_CLOSING.
    return todo(import.meta.url, 'TcpConnection.close');
  }

  /** ABORT: drop the connection at once, telling a synchronized peer with a RST (RFC 9293 §3.10.5). */
  abort(): void {
    // TODO: send <SEQ=SND.NXT><CTL=RST> from SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2 and
    // CLOSE-WAIT (RFC 9293 §3.10.5), nothing from the other states, then enter CLOSED (no timer left).
    // CLOSED throws ERR_CONNECTION_DOES_NOT_EXIST.
    return todo(import.meta.url, 'TcpConnection.abort');
  }

  /** A segment arrives from the peer (RFC 9293 §3.10.7). */
  receive(segment: Segment): void {
    // TODO: follow RFC 9293 §3.10.7 and the lesson's table in "RST and unexpected segments":
    // separate rules for CLOSED, LISTEN and SYN-SENT; for every other state, check in order: in the
    // window? RST? SYN? ACK? then data and FIN. Keep SND.UNA, SND.NXT, IRS and RCV.NXT up to date
    // after every segment: the tests read them.
    return todo(import.meta.url, 'TcpConnection.receive');
  }
}
