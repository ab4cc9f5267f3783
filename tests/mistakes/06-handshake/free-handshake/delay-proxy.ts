// Known mistake "free-handshake": the proxy relays a new connection at once, without charging the
// far leg's SYN/SYN-ACK round trip. On loopback the kernel's handshake is instant, so new connections look free.
/**
 * A TCP proxy that makes loopback behave like a slow path, to measure what a handshake costs.
 *
 * The model: the proxy stands where the client's SYN would start its journey. The path to the
 * server has a one-way delay d. A new connection first pays one round trip (SYN out, SYN-ACK
 * back) before any byte is relayed; after that every chunk, and the end of each stream, takes
 * d to cross in its direction. It runs on real time, because it carries real sockets.
 */
import net from 'node:net';

/** Where the proxy relays to, and how slow the path is that it pretends to be. */
export interface DelayProxyOptions {
  /** The real server behind the proxy; `host` may be IPv4 or IPv6 (`::1`), and defaults to loopback. */
  target: { host?: string; port: number };
  /** One-way delay d in ms: a round trip through the proxy costs 2d. */
  delayMs: number;
}

/**
 * A server (not yet listening) that relays each connection to `target` over a path with
 * `delayMs` of one-way delay, charging a new connection one round trip before it relays.
 */
export function createDelayProxy(options: DelayProxyOptions): net.Server {
  const { target, delayMs } = options;
  // pauseOnConnect: the client's first bytes must wait for the modelled handshake.
  // allowHalfOpen: one side's FIN is relayed (late), it does not close the other direction.
  // noDelay: Nagle's algorithm would hold small writes back and blur the measurement.
  return net.createServer({ pauseOnConnect: true, allowHalfOpen: true, noDelay: true }, (client) => {
    client.on('error', () => {}); // the 'close' that follows an error does the cleanup
    const server = net.connect({ host: target.host ?? '127.0.0.1', port: target.port, allowHalfOpen: true, noDelay: true });
    server.on('error', () => {});
    relay(client, server, delayMs);
    relay(server, client, delayMs);
    client.resume();
  });
}

/** Carry one direction: each chunk and the end of the stream arrive `delayMs` after they left. */
function relay(from: net.Socket, to: net.Socket, delayMs: number): void {
  // Timers with the same delay fire in the order they were set, so the bytes stay in order.
  const later = (fn: () => void) => setTimeout(fn, delayMs);
  from.on('data', (chunk: Buffer) =>
    later(() => {
      if (!to.writable) return;
      // Backpressure, briefly: if the far side is full, stop reading until it drains. Chunks already
      // on their way still arrive meanwhile; one 'drain' listener per pause, not one per chunk.
      if (!to.write(chunk) && !from.isPaused()) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    }),
  );
  from.on('end', () => later(() => to.writable && to.end()));
  // Closed without ending its stream: reset, not FIN. Pass that on too, after the same delay.
  from.on('close', () => {
    if (!from.readableEnded) later(() => to.destroy());
  });
}
