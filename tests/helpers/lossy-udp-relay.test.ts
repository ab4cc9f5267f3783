/**
 * The lossy UDP relay's own tests: deterministic for a seed, exact scripted rules, bounded, closes
 * cleanly, and making the same decisions as SimChannel (one impairment model, impairment.ts).
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { track } from './cleanup.ts';
import { FakeClock } from './clock.ts';
import { within } from './deadline.ts';
import type { DatagramRecord, Impairments } from './impairment.ts';
import { planFates } from './impairment.ts';
import type { LossyUdpRelayOptions, RelayEvent, RelayRule } from './lossy-udp-relay.ts';
import { LossyUdpRelay, startLossyUdpRelay } from './lossy-udp-relay.ts';
import { SimChannel } from './sim-channel.ts';

/** A bound UDP socket on loopback that collects what it receives (and echoes it when `echo`). */
async function endpoint(echo = false) {
  const socket = track(dgram.createSocket('udp4'), 'test UDP socket');
  const got: Buffer[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  socket.on('message', (msg, from) => {
    got.push(msg);
    if (echo) socket.send(msg, from.port, from.address);
    for (const w of waiters) if (got.length >= w.n) w.resolve();
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  /** Resolve once `n` datagrams have arrived in all. */
  const received = (n: number, ms = 2_000) =>
    within(new Promise<void>((resolve) => (got.length >= n ? resolve() : waiters.push({ n, resolve }))), ms, `receiving ${n} datagrams`);
  return { socket, port, got, received };
}

/** Send numbered datagrams "d1".."dN" from `client` to the relay, one after the other. */
async function sendNumbered(client: dgram.Socket, port: number, n: number, gapMs = 0): Promise<void> {
  for (let i = 1; i <= n; i++) {
    await new Promise<void>((resolve, reject) => client.send(`d${i}`, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
  }
}

/** What the relay decided for each datagram of one direction, in order. */
const decisions = (events: readonly RelayEvent[], dir: RelayEvent['direction']) =>
  events.filter((e) => e.direction === dir && e.nth > 0 && e.action !== 'release').map((e) => `${e.nth}:${e.action}${e.copies > 1 ? 'x2' : ''}${e.corrupted ? '!' : ''}`);

/** Wait until the relay has seen `n` datagrams toServer and nothing waits any more. */
const settled = (relay: LossyUdpRelay, n: number) =>
  within(
    (async () => {
      while (relay.stats.toServer.seen < n || relay.queued > 0) await new Promise((r) => setTimeout(r, 5));
    })(),
    2_000,
    `the relay forwarding ${n} datagrams`,
  );

/** Run 60 datagrams one way through a relay with every impairment on, and report what it did. */
async function oneWayRun(seed: number) {
  const sink = await endpoint();
  const client = await endpoint();
  const options: LossyUdpRelayOptions = {
    server: { port: sink.port },
    seed,
    toServer: { loss: 0.25, duplicate: 0.15, corrupt: 0.1, delayMs: [0, 3] },
  };
  const relay = await startLossyUdpRelay(options);
  await sendNumbered(client.socket, relay.port, 60);
  await settled(relay, 60);
  await sink.received(relay.stats.toServer.forwarded);
  await relay.close();
  return { relay, received: sink.got.map((b) => b.toString('latin1')).sort() };
}

describe('lossy UDP relay', () => {
  it('makes the same decisions for the same seed, and different ones for another seed', async () => {
    const a = await oneWayRun(1234);
    const b = await oneWayRun(1234);
    const c = await oneWayRun(98765);
    const da = decisions(a.relay.transcript(), 'toServer');
    expect(da).toHaveLength(60);
    expect(decisions(b.relay.transcript(), 'toServer')).toEqual(da);
    expect(b.received).toEqual(a.received);
    expect(decisions(c.relay.transcript(), 'toServer')).not.toEqual(da);
  });

  it('drops exactly the datagrams planFates predicts, and counts them', async () => {
    const seed = 4242;
    const sizes = Array.from({ length: 200 }, (_, i) => `d${i + 1}`.length);
    const plan = planFates({ seed, direction: 'toServer', impair: { loss: 0.3 } }, sizes);
    const planned = plan.filter((f) => f.drop).length;
    expect(planned).toBeGreaterThan(30); // 200 x 0.3 = 60 expected; a sanity bound on the PRNG
    expect(planned).toBeLessThan(90);

    const sink = await endpoint();
    const client = await endpoint();
    const relay = await startLossyUdpRelay({ server: { port: sink.port }, seed, toServer: { loss: 0.3 } });
    await sendNumbered(client.socket, relay.port, 200);
    await sink.received(200 - planned);
    expect(relay.stats.toServer).toMatchObject({ seen: 200, dropped: planned, forwarded: 200 - planned });
    const dropped = relay.transcript().filter((e) => e.action === 'drop').map((e) => e.nth);
    expect(dropped).toEqual(plan.flatMap((f, i) => (f.drop ? [i + 1] : [])));
    // Nothing else arrives: the received datagrams are exactly the ones not dropped.
    expect(sink.got.map(String).sort()).toEqual(plan.flatMap((f, i) => (f.drop ? [] : [`d${i + 1}`])).sort());
  });

  it('applies scripted rules to exactly the datagrams they name', async () => {
    const server = await endpoint(true);
    const client = await endpoint();
    const relay = await startLossyUdpRelay({
      server: { port: server.port },
      seed: 7,
      holdMs: 2_000, // generous: #1 must be released by its successor, not by this timeout
      names: { toServer: 'ping', toClient: 'pong' },
      script: [
        { direction: 'toClient', nth: 1, action: 'hold' },
        { direction: 'toClient', nth: 2, action: 'delay', ms: 250 },
        { direction: 'toClient', nth: 3, action: 'drop' },
        { direction: 'toClient', nth: 4, action: 'duplicate' },
        { direction: 'toClient', nth: 5, action: 'corrupt', offset: 0, xor: 0x20 },
      ],
    });
    await sendNumbered(client.socket, relay.port, 5);
    await client.received(5);
    const arrived = client.got.map(String);
    // #1 waits for the next one to go out (#4, since #2 is delayed and #3 dropped); #2 comes last.
    expect(arrived, relay.render()).toEqual(['d4', 'd4', 'd1', 'D5', 'd2']);
    expect(relay.stats.toClient).toMatchObject({ seen: 5, dropped: 1, duplicated: 1, delayed: 1, held: 1, corrupted: 1, forwarded: 5 });
    expect(relay.stats.toServer).toMatchObject({ seen: 5, forwarded: 5, dropped: 0 });
    expect(relay.render()).toMatch(/pong #3 .* DROPPED/);
  });

  it('delivers to a client it was told about before the client spoke', async () => {
    const server = await endpoint();
    const client = await endpoint();
    const relay = await startLossyUdpRelay({ server: { port: server.port }, client: { port: client.port } });
    server.socket.send('hello first', relay.port, '127.0.0.1');
    await client.received(1);
    expect(client.got.map(String)).toEqual(['hello first']);
    expect(relay.clientAddress).toEqual({ address: '127.0.0.1', port: client.port });
  });

  it('keeps its queue bounded: datagrams beyond maxQueued are dropped and counted', async () => {
    const sink = await endpoint();
    const client = await endpoint();
    const relay = await startLossyUdpRelay({ server: { port: sink.port }, toServer: { delayMs: 5_000 }, maxQueued: 3 });
    await sendNumbered(client.socket, relay.port, 10);
    await within(
      (async () => {
        while (relay.stats.toServer.seen < 10) await new Promise((r) => setTimeout(r, 5));
      })(),
      2_000,
      'the relay seeing 10 datagrams',
    );
    expect(relay.queued).toBe(3);
    expect(relay.stats.toServer).toMatchObject({ delayed: 3, overflowed: 7, forwarded: 0 });
  });

  it('closes cleanly: waiting datagrams are discarded, timers cleared, a second close is fine', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const sink = await endpoint();
    const client = await endpoint();
    const before = timers();
    const relay = new LossyUdpRelay({ server: { port: sink.port }, toServer: { delayMs: 5_000 } });
    await relay.start();
    await sendNumbered(client.socket, relay.port, 2);
    await within(
      (async () => {
        while (relay.queued < 2) await new Promise((r) => setTimeout(r, 5));
      })(),
      2_000,
      'the relay queueing 2 datagrams',
    );
    expect(timers()).toBe(before + 2);
    const t0 = performance.now();
    await within(relay.close(), 1_000, 'relay.close()');
    expect(performance.now() - t0).toBeLessThan(500);
    expect(timers()).toBe(before);
    expect(relay.queued).toBe(0);
    expect(relay.stats.toServer.discarded).toBe(2);
    await relay.close();
    expect(sink.got).toEqual([]);
    expect(() => new LossyUdpRelay({ server: { port: 1 }, impair: { loss: 1.5 } })).toThrow(RangeError);
  });

  it('makes the same decisions as SimChannel, and as planFates, for the same options and seed', async () => {
    const seed = 2024;
    const impair: Impairments = { loss: 0.2, duplicate: 0.2, reorder: 0.15, corrupt: 0.2, delayMs: [0, 4] };
    const script: RelayRule[] = [
      { direction: 'toServer', nth: 3, action: 'drop' },
      { direction: 'toServer', nth: 5, action: 'corrupt', offset: 0, xor: 0x20 },
      { direction: 'toServer', nth: 7, action: 'duplicate', copies: 3 },
      { direction: 'toServer', nth: 9, action: 'hold' },
      { direction: 'toClient', nth: 4, action: 'drop' }, // another direction: ignored by both
    ];
    const n = 60;
    const sizes = Array.from({ length: n }, (_, i) => `d${i + 1}`.length);
    const fates = (records: readonly DatagramRecord[]) => records.map((r) => ({ nth: r.nth, size: r.size, ...r.fate }));
    const arrivedSorted = (got: Uint8Array[]) => got.map((b) => Buffer.from(b).toString('latin1')).sort();

    // In memory, on a fake clock: the channel named after the relay's direction.
    const clock = new FakeClock();
    const simGot: Uint8Array[] = [];
    const sim = new SimChannel({ clock, seed, name: 'toServer', impair, script, holdMs: 50, deliver: (d) => simGot.push(d) });
    for (let i = 1; i <= n; i++) sim.send(Buffer.from(`d${i}`));
    clock.runAll();

    // Over real UDP, through the relay.
    const sink = await endpoint();
    const client = await endpoint();
    const relay = await startLossyUdpRelay({ server: { port: sink.port }, seed, toServer: impair, script, holdMs: 50 });
    await sendNumbered(client.socket, relay.port, n);
    await settled(relay, n);
    await sink.received(relay.stats.toServer.forwarded);

    const decided = fates(sim.records);
    expect(decided.map((f) => f.size)).toEqual(sizes);
    expect(fates(relay.records('toServer'))).toEqual(decided);
    expect(decided).toEqual(planFates({ seed, direction: 'toServer', impair, script }, sizes).map((f, i) => ({ nth: i + 1, size: sizes[i], ...f })));
    // Every kind of decision happened, randomly and by script.
    for (const kind of [(f: (typeof decided)[0]) => f.drop, (f: (typeof decided)[0]) => f.hold, (f: (typeof decided)[0]) => f.corrupt !== null, (f: (typeof decided)[0]) => f.delays.length > 1]) {
      expect(decided.filter((f) => !f.scripted && kind(f)).length).toBeGreaterThan(0);
      expect(decided.filter((f) => f.scripted && kind(f)).length).toBe(1);
    }
    // The same counts, and the same bytes delivered (in whatever order the timing gave).
    expect(relay.stats.toServer).toEqual(sim.stats);
    expect(arrivedSorted(sink.got)).toEqual(arrivedSorted(simGot));
    expect(relay.stats.toClient.seen).toBe(0);
  });
});
