// Known mistake "restart-timer-on-every-send": the timer is restarted for every new segment, so while
// new data keeps going out, the oldest segment's timeout keeps moving away (RFC 6298 §5.1 says: start it
// only if it is not running).
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
import type { RtoOptions } from './rto.ts';
import { RtoEstimator } from './rto.ts';
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

/** A segment that has been sent and not yet acknowledged. */
interface Outstanding {
  /** Stream offset of its first sequence number. */
  offset: number;
  payload: Uint8Array;
  fin: boolean;
  /** When it was first sent: an RTT sample is now - sentAt (if it was sent only once). */
  sentAt: number;
  /** Sent more than once: an ACK for it tells nothing about the RTT (Karn's rule). */
  retransmitted: boolean;
}

/** Sequence numbers a segment takes: its payload, plus one for a FIN. */
const lengthOf = (s: Outstanding) => s.payload.length + (s.fin ? 1 : 0);

/** The sending end: a sliding window over a byte stream, with the RFC 6298 retransmission timer. */
export class Sender {
  /** SRTT, RTTVAR and the current RTO. */
  readonly estimator: RtoEstimator;
  /** Counters of what the sender did. */
  readonly stats: SenderStats = { segmentsSent: 0, retransmissions: 0, timeouts: 0, damaged: 0 };
  /** The options the sender was made with. */
  readonly options: SenderOptions;

  /** Written bytes not sent yet, oldest first; the first chunk is used from `unsentStart` on. */
  private unsent: Uint8Array[] = [];
  private unsentStart = 0;
  private unsentBytes = 0;
  /** Sent and not acknowledged, oldest first. */
  private outstanding: Outstanding[] = [];
  /** SND.UNA: stream offset of the oldest unacknowledged sequence number. */
  private una = 0;
  /** SND.NXT: stream offset of the next new sequence number. */
  private nxt = 0;
  /** Stream offset of the FIN, once end() was called. */
  private finOffset: number | undefined;
  private timer: unknown;
  /** Set by close(): from then on nothing is sent and no timer is set. */
  private closed = false;

  constructor(options: SenderOptions) {
    this.options = options;
    this.estimator = new RtoEstimator(options.rto);
  }

  /** Queue `bytes` for sending and send what the window allows. */
  write(bytes: Uint8Array): void {
    if (this.finOffset !== undefined) throw new StreamEndedError('write() after end(): the FIN has taken the sequence number after the last byte');
    // Copy: the caller may reuse its buffer, and we may need these bytes again for a retransmission.
    this.unsent.push(bytes.slice());
    this.unsentBytes += bytes.length;
    this.fill();
  }

  /** No more data: a FIN follows the last byte. */
  end(): void {
    if (this.finOffset !== undefined) return;
    this.finOffset = this.nxt + this.unsentBytes;
    this.fill();
  }

  /** A datagram (an ACK) arrives from the receiver. */
  receive(datagram: Uint8Array): void {
    if (this.closed) return;
    let segment;
    try {
      segment = decodeSegment(datagram);
    } catch (err) {
      // Stryker disable next-line ConditionalExpression: decodeSegment throws nothing but SegmentError, so the rethrow cannot be reached from a datagram
      if (!(err instanceof SegmentError)) throw err;
      this.stats.damaged++; // a damaged ACK could acknowledge anything: believe nothing in it
      return;
    }
    // Stryker disable next-line ConditionalExpression: without the flag, ack is undefined and unwrap(undefined) is SND.UNA, an old ACK that the next line ignores too
    if (segment.ack === undefined) return;
    const acked = unwrap(segment.ack, this.options.isn, this.una);
    // Old or duplicate ACKs tell nothing new, and an ACK of what was never sent is impossible.
    // Neither triggers a retransmission: only the timer does.
    if (acked <= this.una || acked > this.nxt) return;
    this.takeAck(acked);
    this.fill();
  }

  /** Sequence numbers sent and not yet acknowledged (SND.NXT - SND.UNA). */
  get bytesInFlight(): number {
    return this.nxt - this.una;
  }

  /** True once the FIN has been acknowledged: the receiver has every byte. */
  get done(): boolean {
    return this.una - 1 === this.finOffset; // never before end(): finOffset is undefined until then
  }

  /** Stop the timer; the sender sends nothing more. */
  close(): void {
    // An ACK or a write() after this must not send, nor set a timer that would outlive us.
    this.closed = true;
    this.stopTimer();
  }

  /** Slide the window up to stream offset `acked`, measure the RTT if Karn's rule allows, and mind the timer. */
  private takeAck(acked: number): void {
    const now = this.options.clock.now();
    const done: Outstanding[] = [];
    while (this.outstanding.length && this.outstanding[0]!.offset + lengthOf(this.outstanding[0]!) <= acked) {
      done.push(this.outstanding.shift()!);
    }
    this.una = acked;
    // Karn: if any of these segments was sent twice, we cannot tell which copy this ACK answers.
    if (done.length && done.every((s) => !s.retransmitted)) this.estimator.sample(now - done[0]!.sentAt);
    // New data got through, so the path works: the backoff is over either way.
    else this.estimator.reset();
    // RFC 6298 §5.2 and §5.3: stop the timer when all is acknowledged, else restart it with the current RTO.
    if (this.nxt > this.una) this.startTimer();
    else this.stopTimer();
  }

  /** Send new segments while the window has room (and the FIN when its turn comes). */
  private fill(): void {
    const { mss = DEFAULT_MSS, windowBytes = DEFAULT_WINDOW_BYTES } = this.options;
    while (!this.closed) {
      const room = windowBytes - (this.nxt - this.una);
      const size = Math.min(mss, room, this.unsentBytes);
      // The FIN rides on the segment with the last bytes if the window leaves room for it.
      // (Never before end(): finOffset is undefined; never twice: once it is sent, SND.NXT is past it.)
      // Stryker disable next-line ArithmeticOperator: nxt - size never reaches finOffset, so the FIN goes alone after the last bytes, which the lesson allows as well
      const lastBytes = this.nxt + size === this.finOffset;
      const fin = lastBytes && size + 1 <= room;
      if (size === 0 && !fin) return;
      const segment: Outstanding = { offset: this.nxt, payload: this.take(size), fin, sentAt: 0, retransmitted: false };
      this.nxt += lengthOf(segment);
      this.outstanding.push(segment);
      // MISTAKE: restarts the timer for every segment sent.
      this.startTimer();
      this.transmit(segment);
    }
  }

  /** The next `n` unsent bytes, as one array. */
  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let filled = 0; filled < n; ) {
      const chunk = this.unsent[0]!;
      const piece = chunk.subarray(this.unsentStart, this.unsentStart + n - filled);
      out.set(piece, filled);
      filled += piece.length;
      this.unsentStart += piece.length;
      if (this.unsentStart === chunk.length) {
        this.unsent.shift();
        this.unsentStart = 0;
      }
    }
    this.unsentBytes -= n;
    return out;
  }

  private transmit(segment: Outstanding): void {
    segment.sentAt = segment.retransmitted ? segment.sentAt : this.options.clock.now();
    this.stats.segmentsSent++;
    const seq = wrap(segment.offset, this.options.isn);
    this.options.transmit(encodeSegment({ seq, fin: segment.fin || undefined, payload: segment.payload }));
  }

  /** The timer expired (RFC 6298 §5.4-§5.6): resend the oldest segment, back off, start the timer again. */
  private onTimeout(): void {
    this.timer = undefined;
    // The timer runs only while data is outstanding: it is stopped when all is acknowledged, and by close().
    const oldest = this.outstanding[0]!;
    this.stats.timeouts++;
    this.stats.retransmissions++;
    oldest.retransmitted = true;
    this.estimator.backOff();
    this.startTimer();
    // Transmit last: whatever the wire hands back at once then finds the timer already set.
    this.transmit(oldest);
  }

  private startTimer(): void {
    this.stopTimer();
    this.timer = this.options.clock.setTimeout(() => this.onTimeout(), this.estimator.rto);
  }

  private stopTimer(): void {
    this.options.clock.clearTimeout(this.timer); // clearing no timer (undefined) does nothing
    this.timer = undefined;
  }
}
