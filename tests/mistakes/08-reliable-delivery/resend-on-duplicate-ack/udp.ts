// Known mistake "resend-on-duplicate-ack": this file is the unchanged solution; the mistake is in exercise.ts.
/**
 * The same sender and receiver over real UDP: each adapter owns a socket, hands every datagram
 * that arrives to the protocol object, and puts every datagram the object transmits on the wire.
 * Time is the real clock here; nothing else changes.
 */
import dgram from 'node:dgram';
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
    const { host = '127.0.0.1', port, clock = systemClock, ...settings } = this.options;
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    this.socket = socket;
    const sender = new Sender({ ...settings, clock, transmit: (datagram) => socket.send(datagram, port, host) });
    this.sender = sender;
    return new Promise<SenderStats>((resolve, reject) => {
      socket.on('error', (err) => {
        this.close();
        reject(err);
      });
      socket.on('message', (datagram) => {
        sender.receive(datagram);
        // The FIN is acknowledged: the receiver has every byte, and nothing of ours is still in flight.
        if (sender.done) this.close(() => resolve(sender.stats));
      });
      sender.write(data);
      sender.end();
    });
  }

  /** Stop the timer and close the socket (safe to call twice). */
  close(then?: () => void): void {
    this.sender?.close();
    try {
      this.socket?.close(then);
    } catch {
      then?.(); // already closed
    }
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

  private chunks: Uint8Array[] = [];
  private whenFinished: ((stream: Uint8Array) => void) | undefined;
  private stream: Uint8Array | undefined;

  constructor(readonly options: UdpReceiveOptions) {}

  /** Bind `port` (0 = any free port) and resolve with the port actually bound. */
  async listen(port = 0): Promise<number> {
    const { host = '127.0.0.1', isn, windowBytes } = this.options;
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    this.socket = socket;
    // ACKs go back to wherever the data came from: the sender, or the relay in between.
    // (The receiver only ever answers a datagram, so peer is set before the first ACK.)
    let peer: dgram.RemoteInfo | undefined;
    const receiver = new Receiver({
      isn,
      windowBytes,
      transmit: (datagram) => socket.send(datagram, peer!.port, peer!.address),
      deliver: (bytes) => this.chunks.push(bytes),
    });
    this.receiver = receiver;
    socket.on('message', (datagram, from) => {
      peer = from;
      receiver.receive(datagram);
      if (receiver.finished && !this.stream) {
        this.stream = Buffer.concat(this.chunks);
        this.whenFinished?.(this.stream);
      }
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return socket.address().port;
  }

  /** Resolves with the whole stream once it has arrived up to its FIN. Keep listening after that: the sender may not have our last ACK yet. */
  received(): Promise<Uint8Array> {
    if (this.stream) return Promise.resolve(this.stream);
    return new Promise((resolve) => (this.whenFinished = resolve));
  }

  /** Close the socket; resolves once it is closed. */
  close(): Promise<void> {
    const socket = this.socket;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }
}
