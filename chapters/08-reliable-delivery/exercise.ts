/**
 * Chapter 08 · Making datagrams reliable: the sender (the receiver is in ./receiver.ts).
 *
 * A sender and a receiver that deliver a byte stream exactly once and in order over a channel
 * that loses, duplicates, reorders and damages datagrams. Both are event-driven objects: a
 * datagram comes in, datagrams go out through `transmit`, and the only other event is the
 * sender's retransmission timer on the injected clock. The same objects run in the simulator
 * (on a fake clock) and over real UDP (./udp.ts).
 *
 * The protocol, as TCP does it: a sliding window counted in bytes, cumulative ACKs, a receiver
 * that keeps out-of-order segments within its window, one retransmission timer per sender
 * (RFC 6298), and on each timeout only the oldest unacknowledged segment is sent again.
 */
import { todo } from '../workbook.ts';
import type { RtoOptions } from './rto.ts';
import { RtoEstimator } from './rto.ts';
// The wire format and the sequence arithmetic you write in ./segment.ts.
import { DEFAULT_MSS, DEFAULT_WINDOW_BYTES, SegmentError, decodeSegment, encodeSegment, unwrap, wrap } from './segment.ts';

/** The clock every timer runs on; tests pass a fake one, ./udp.ts the real one. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** How to make a sender. */
export interface SenderOptions {
  /** The clock of the retransmission timer and of RTT measurements. */
  clock: Clock;
  /** Sequence number of the stream's first byte, agreed with the receiver in advance (a handshake would carry it). */
  isn: number;
  /** Puts one datagram on the wire. */
  transmit: (datagram: Uint8Array) => void;
  /** Most payload bytes per segment. Default DEFAULT_MSS. */
  mss?: number;
  /** Most sequence numbers (payload bytes, plus 1 for the FIN) outstanding at once. Default DEFAULT_WINDOW_BYTES. */
  windowBytes?: number;
  /** Bounds of the retransmission timeout. Default: the RFC 6298 values in ./rto.ts. */
  rto?: RtoOptions;
}

/** What a sender did, for reports and failure messages. */
export interface SenderStats {
  /** Segments put on the wire, retransmissions included. */
  segmentsSent: number;
  /** Segments sent again after a timeout. */
  retransmissions: number;
  /** Times the retransmission timer expired. */
  timeouts: number;
  /** Datagrams that failed the checksum (or were too short) and were dropped. */
  damaged: number;
}

/** `write()` was called after `end()`. */
export class StreamEndedError extends Error {
  override name = 'StreamEndedError';
  /** Stable code: tests check this, never the message. */
  readonly code = 'ERR_STREAM_ENDED';
}

/**
 * The sending end: a sliding window over a byte stream, with the RFC 6298 retransmission timer.
 *
 * Keep stream offsets (0 = the first byte; plain numbers, never wrapped) in your own state, and
 * turn them into sequence numbers only on the wire, with wrap() and unwrap(). You will need a
 * little more state than the fields below: the bytes written and not yet sent, the segments sent
 * and not yet acknowledged (with when each was sent, and whether it was ever sent twice), SND.UNA
 * and SND.NXT as offsets, where the FIN goes, and the timer's handle.
 *
 * The timer is the one event besides write(), end() and receive(): arm it with
 * this.options.clock.setTimeout(() => ..., this.estimator.rto). When it expires (RFC 6298 §5.4-§5.6),
 * resend the oldest unacknowledged segment, back off the RTO, and start the timer again.
 */
export class Sender {
  /** SRTT, RTTVAR and the current RTO. */
  readonly estimator: RtoEstimator;
  /** Counters of what the sender did (keep them up to date: the tests check them, and failure messages print them). */
  readonly stats: SenderStats = { segmentsSent: 0, retransmissions: 0, timeouts: 0, damaged: 0 };
  /** The options the sender was made with. */
  readonly options: SenderOptions;

  constructor(options: SenderOptions) {
    this.options = options;
    this.estimator = new RtoEstimator(options.rto);
  }

  /** Queue `bytes` for sending and send what the window allows. */
  write(bytes: Uint8Array): void {
    // TODO: refuse after end() (StreamEndedError); keep a copy of the bytes (the caller may reuse its buffer);
    // send segments of min(mss, room in the window, bytes waiting) bytes while
    // (offset after the segment) - SND.UNA <= windowBytes; start the timer if it is not running.
    return todo(import.meta.url, 'Sender.write');
  }

  /** No more data: a FIN follows the last byte. */
  end(): void {
    // TODO: the FIN takes the sequence number after the last written byte; send it as soon as the window has
    // room for it (alone, or on the segment with the last bytes). Calling end() again changes nothing.
    return todo(import.meta.url, 'Sender.end');
  }

  /** A datagram (an ACK) arrives from the receiver. */
  receive(datagram: Uint8Array): void {
    // TODO: drop it if decodeSegment throws a SegmentError (count it in stats.damaged). Ignore a segment
    // without the ACK flag, and ACKs that acknowledge nothing new or what was never sent. Otherwise: forget the acknowledged segments, take an RTT sample unless one of
    // them was sent twice (Karn) or end the backoff, restart or stop the timer, and fill the window again.
    return todo(import.meta.url, 'Sender.receive');
  }

  /** Sequence numbers sent and not yet acknowledged (SND.NXT - SND.UNA). */
  get bytesInFlight(): number {
    // TODO: count the FIN as one.
    return todo(import.meta.url, 'Sender.bytesInFlight');
  }

  /** True once the FIN has been acknowledged: the receiver has every byte. */
  get done(): boolean {
    // TODO: end() was called and SND.UNA is one past the FIN.
    return todo(import.meta.url, 'Sender.done');
  }

  /** Stop the timer; the sender sends nothing more. */
  close(): void {
    // TODO: clear the retransmission timer on this.options.clock. From now on, whatever write() or an ACK
    // brings, send nothing and set no timer.
    return todo(import.meta.url, 'Sender.close');
  }
}
