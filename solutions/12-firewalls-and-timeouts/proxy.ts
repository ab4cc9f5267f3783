/**
 * Chapter 12 · When the port goes dark: a filtering TCP proxy.
 *
 * It stands in front of one real server and asks a Firewall (./exercise.ts) about every connection
 * that arrives: 'accept' pipes it to the server, both ways; 'reject' resets it at once, so the client
 * fails fast with ECONNRESET; 'drop' holds it open in silence, so the client waits for its own timeout.
 */
import net from 'node:net';
import type { Action, Firewall, Packet } from './exercise.ts';

/** The IPv4 loopback address: the proxy listens here unless told otherwise (RFC 1122 §3.2.1.3). */
export const LOOPBACK = '127.0.0.1';

/** A TCP endpoint. */
export interface Endpoint {
  host: string;
  port: number;
}

/** How to make a proxy. */
export interface ProxyOptions {
  /** Decides on every connection. */
  firewall: Firewall;
  /** The real server behind the proxy. */
  target: Endpoint;
  /** Where the proxy listens. Default LOOPBACK. */
  host?: string;
  /** Port to listen on. Default 0 (any free port). */
  port?: number;
}

/** What the proxy did so far: connections by verdict, and how many are open now (held or piped). */
export interface ProxyStats {
  accept: number;
  reject: number;
  drop: number;
  open: number;
}

/** A TCP proxy that enforces a Firewall's verdicts on the connections it receives. */
export class FilteringProxy {
  /** How this proxy was asked to work. */
  readonly options: ProxyOptions;
  private server: net.Server | undefined;
  // Every socket the proxy holds, on both sides, so that close() can end them all.
  private readonly sockets = new Set<net.Socket>();
  private readonly counts = { accept: 0, reject: 0, drop: 0 };
  private open = 0;

  /** Create a proxy; nothing listens until start(). */
  constructor(options: ProxyOptions) {
    this.options = options;
  }

  /** Listen; resolves with the address actually bound (the real port when port 0 was asked). */
  async start(): Promise<Endpoint> {
    // Half-open: a client that ends its request must still get the whole reply through us.
    const server = net.createServer({ allowHalfOpen: true }, (socket) => this.onConnection(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? LOOPBACK, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const info = server.address() as net.AddressInfo;
    return { host: info.address, port: info.port };
  }

  /** Verdicts so far, and open connections now. */
  stats(): ProxyStats {
    return { ...this.counts, open: this.open };
  }

  /** Stop listening and end every connection (held or piped); resolves once all are closed. Safe twice. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = [...this.sockets].map((s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve()))));
    for (const s of this.sockets) s.destroy();
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all(closed);
  }

  private onConnection(client: net.Socket): void {
    // A reset from a client must never crash the proxy.
    client.on('error', () => {});
    const packet: Packet = {
      direction: 'in',
      source: client.remoteAddress ?? '',
      sourcePort: client.remotePort ?? 0,
      destination: this.options.target.host,
      destinationPort: this.options.target.port,
    };
    let action: Action;
    try {
      action = this.options.firewall.check(packet).action;
    } catch {
      // A packet the rules cannot read (no remote address: the client is already gone) is refused.
      action = 'reject';
    }
    this.counts[action]++;
    if (action === 'reject') {
      // An RST right after the handshake: the nearest a program gets to refusing the SYN itself.
      client.resetAndDestroy();
      return;
    }
    this.hold(client, packet);
    if (action === 'drop') {
      // Silence: read and discard, answer nothing, never end, even after the client's FIN (it may still be
      // waiting for an answer). The socket is held until the client resets it or close() ends it.
      client.resume();
      return;
    }
    this.pipe(client);
  }

  /** Keep `socket` until its 'close': counted open, closed by close(). */
  private hold(socket: net.Socket, packet: Packet): void {
    this.sockets.add(socket);
    this.open++;
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.open--;
      // The connection is over: its replies must not pass any more.
      this.options.firewall.forget(packet);
    });
  }

  private pipe(client: net.Socket): void {
    const { host, port } = this.options.target;
    const upstream = net.connect({ host, port, allowHalfOpen: true });
    this.sockets.add(upstream);
    // Stryker disable next-line ArrowFunction: only frees memory; close() skips destroyed sockets, so a closed upstream left in the Set changes nothing observable
    upstream.once('close', () => this.sockets.delete(upstream));
    // A failure on one side breaks the other, as a reset: the client must not mistake it for a clean end.
    upstream.on('error', () => client.resetAndDestroy());
    client.on('error', () => upstream.destroy());
    // pipe() forwards each end() too: a half-close travels through in both directions.
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
