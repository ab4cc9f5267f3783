/**
 * The same sender and receiver over real UDP: each adapter owns a socket, hands every datagram
 * that arrives to the protocol object, and puts every datagram the object transmits on the wire.
 * Time is the real clock here; nothing else changes.
 */
import dgram from 'node:dgram';
import { todo } from '../workbook.ts';
import type { Clock, SenderStats } from './exercise.ts';
import { Sender } from './exercise.ts';
import { Receiver } from './receiver.ts';
import type { RtoOptions } from './rto.ts';

/** The real clock: performance.now() and the global timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Where to send, and the sender's settings. */
export interface UdpSendOptions {
  /** The receiver's port (or a relay's in front of it). */
  port: number;
  /** The receiver's address. Default 127.0.0.1. */
  host?: string;
  /** Sequence number of the first byte; the receiver must be given the same. */
  isn: number;
  mss?: number;
  windowBytes?: number;
  rto?: RtoOptions;
  /** Default: systemClock. */
  clock?: Clock;
}

/** Sends one stream over UDP with a Sender. */
export class UdpStreamSender {
  /** The socket, once send() has started. */
  socket: dgram.Socket | undefined;
  /** The protocol object, once send() has started. */
  sender: Sender | undefined;

  constructor(readonly options: UdpSendOptions) {}

  /** Send `data` and a FIN; resolves with the sender's stats once the FIN is acknowledged, with the socket closed. */
  send(data: Uint8Array): Promise<SenderStats> {
    // TODO: create a UDP socket (this.socket; udp6 for an IPv6 host such as ::1) and a Sender (this.sender)
    // on options.clock (default systemClock) whose transmit() sends to host:port. Hand every datagram that
    // arrives to sender.receive(); once sender.done, close (timer and socket) and resolve with its stats.
    return todo(import.meta.url, 'UdpStreamSender.send');
  }

  /** Stop the timer and close the socket (safe to call twice). */
  close(then?: () => void): void {
    // TODO: sender.close(), then socket.close(then); a socket that is already closed throws: call then() yourself.
    return todo(import.meta.url, 'UdpStreamSender.close');
  }
}

/** The receiver's settings. */
export interface UdpReceiveOptions {
  /** Sequence number of the first byte, as the sender was given. */
  isn: number;
  windowBytes?: number;
  /** Address to bind. Default 127.0.0.1. */
  host?: string;
}

/** Receives one stream over UDP with a Receiver, answering each datagram's sender. */
export class UdpStreamReceiver {
  /** The socket, once listening. */
  socket: dgram.Socket | undefined;
  /** The protocol object, once listening. */
  receiver: Receiver | undefined;

  constructor(readonly options: UdpReceiveOptions) {}

  /** Bind `port` (0 = any free port) and resolve with the port actually bound. */
  listen(port = 0): Promise<number> {
    // TODO: a socket (this.socket; udp6 for an IPv6 host) and a Receiver (this.receiver) whose ACKs go to
    // wherever the last datagram came from (rinfo); keep the delivered bytes. Bind host, and resolve with
    // socket.address().port once bound.
    return todo(import.meta.url, 'UdpStreamReceiver.listen');
  }

  /** Resolves with the whole stream once it has arrived up to its FIN. Keep listening after that: the sender may not have our last ACK yet. */
  received(): Promise<Uint8Array> {
    // TODO: resolve (now if the stream is already complete, or when receiver.finished becomes true) with all
    // delivered bytes joined.
    return todo(import.meta.url, 'UdpStreamReceiver.received');
  }

  /** Close the socket; resolves once it is closed. */
  close(): Promise<void> {
    // TODO: socket.close(callback); resolve at once if there is no socket or it is already closed.
    return todo(import.meta.url, 'UdpStreamReceiver.close');
  }
}
