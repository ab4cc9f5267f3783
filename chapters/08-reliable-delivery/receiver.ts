/**
 * The receiving end of our reliable protocol: it reassembles the stream from segments that
 * arrive in any order, any number of times, or damaged; delivers every byte once, in order;
 * and answers every segment with a cumulative ACK.
 */
import { todo } from '../workbook.ts';
import { DEFAULT_WINDOW_BYTES, SegmentError, decodeSegment, encodeSegment, unwrap, wrap } from './segment.ts';

/** What a receiver did, for reports and failure messages. */
export interface ReceiverStats {
  /** Bytes handed to `deliver`, in order. */
  delivered: number;
  /** ACKs sent. */
  acksSent: number;
  /** Datagrams that failed the checksum (or were too short) and were dropped. */
  damaged: number;
}

/** How to make a receiver. */
export interface ReceiverOptions {
  /** Sequence number of the stream's first byte, agreed with the sender in advance. */
  isn: number;
  /** Puts one datagram (an ACK) on the wire. */
  transmit: (datagram: Uint8Array) => void;
  /** Takes the next bytes of the stream: every byte once, in order. */
  deliver: (bytes: Uint8Array) => void;
  /** How far past the next expected byte out-of-order data is kept. Default DEFAULT_WINDOW_BYTES. */
  windowBytes?: number;
}

/**
 * The receiving end: reassembles the stream, delivers it in order, and acknowledges cumulatively.
 *
 * Keep stream offsets in your own state (0 = the first byte): RCV.NXT, the offset of the FIN once
 * one has arrived, and the out-of-order pieces that lie inside the window, by offset.
 */
export class Receiver {
  /** Counters of what the receiver did (keep them up to date: the tests check them, and failure messages print them). */
  readonly stats: ReceiverStats = { delivered: 0, acksSent: 0, damaged: 0 };
  /** The options the receiver was made with. */
  readonly options: ReceiverOptions;

  constructor(options: ReceiverOptions) {
    this.options = options;
  }

  /** A datagram arrives from the sender. */
  receive(datagram: Uint8Array): void {
    // TODO: drop a damaged datagram without a word (count it in stats.damaged), and a segment with
    // neither data nor FIN without an answer. Otherwise keep (a copy of) the part of its payload that
    // lies in [RCV.NXT, RCV.NXT + windowBytes), note a FIN that lies in that window too, deliver every
    // byte that now continues the stream, and answer with ACK = the next offset you expect (+1 once
    // the FIN is in), as a sequence number.
    return todo(import.meta.url, 'Receiver.receive');
  }

  /** True once every byte up to the FIN has been delivered. */
  get finished(): boolean {
    // TODO: a FIN has arrived and everything before it has been delivered.
    return todo(import.meta.url, 'Receiver.finished');
  }

  /** Bytes delivered so far. */
  get delivered(): number {
    // TODO: RCV.NXT as an offset.
    return todo(import.meta.url, 'Receiver.delivered');
  }
}
