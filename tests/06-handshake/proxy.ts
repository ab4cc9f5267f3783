/**
 * Measuring the learner's delay proxy with real sockets on loopback. Only relations are asserted
 * (never an absolute time), with margins for a busy machine: delays only ever grow under load.
 */
import net from 'node:net';
import { createDelayProxy } from '@impl/06-handshake/delay-proxy.ts';
import { listen, onCleanup, randomBytes, seededRandom, testSeed, within } from '../helpers/index.ts';

/** Start your proxy on 127.0.0.1, in front of a target on 127.0.0.1; its port. */
export async function startProxy(targetPort: number, delayMs: number): Promise<number> {
  return listen(createDelayProxy({ target: { host: '127.0.0.1', port: targetPort }, delayMs }));
}

/**
 * Write `payload` and resolve when as many bytes have come back; the time it took, in ms.
 * Rejects (with the number of bytes that came back) if the connection closes first.
 */
export async function echoTime(socket: net.Socket, payload: string, what: string): Promise<number> {
  const t0 = performance.now();
  let got = 0;
  const back = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      got += d.length;
      if (got >= payload.length) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`the connection closed after ${got} of ${payload.length} bytes came back`)));
    socket.once('error', reject);
  });
  socket.write(payload);
  await within(back, 3_000, what, 'Does your proxy relay data in both directions once the handshake round trip has passed?');
  return performance.now() - t0;
}

/**
 * Bulk traffic: `length` bytes of seeded noise, and the seed that replays them (print it with
 * replayHint). A payload relayed through real sockets is not a property case, so it stays on the
 * seeded PRNG rather than fast-check: there is nothing to shrink in "every byte arrives, in order".
 */
export function seededNoise(length: number): { bytes: Buffer; seed: number } {
  const seed = testSeed();
  return { bytes: Buffer.from(randomBytes(seededRandom(seed), length)), seed };
}

/** Collect the MaxListenersExceededWarnings emitted while a test runs (a listener added per chunk). */
export function listenerWarnings(): string[] {
  const seen: string[] = [];
  const onWarning = (w: Error) => {
    if (w.name === 'MaxListenersExceededWarning') seen.push(w.message);
  };
  process.on('warning', onWarning);
  onCleanup('the warning listener', () => void process.off('warning', onWarning));
  return seen;
}

/** The median of some timings. */
export function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A time in ms, as a message shows it: "101.3 ms". */
export const ms = (x: number) => `${x.toFixed(1)} ms`;

/** A time in round trips of `rtt` ms: "1.01 RTT". */
export const inRoundTrips = (x: number, rtt: number) => `${(x / rtt).toFixed(2)} RTT`;
