/**
 * Chapter 11 · Calling across the wire.
 *
 * Real sockets on loopback. Your client talks to a scripted test peer that answers when, and how, each
 * test says (out of order, late, with errors, not at all); your server answers a raw framed test client
 * and your own client. Timeouts run on a FakeClock, so "after 1000 ms" is exact and instant. Every await
 * on your code has a 2 s deadline (LIMIT): a hang is a failed test with a reason, never a stuck run.
 */
import net from 'node:net';
import { describe, it } from 'vitest';
import type { Message, RpcConnection } from '@impl/11-rpc/exercise.ts';
import {
  CallTimeoutError, ClosedError, ConnectError, ConnectionLostError, DEFAULT_CALL_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS, ErrorCodes, HELLO_METHOD, ListenError,
  MethodError, PROTOCOL_VERSION, ProtocolError, RemoteError, RpcServer, connect, parseMessage,
} from '@impl/11-rpc/exercise.ts';
import { FakeClock, check, eventually, listen, pause, skipWithReason, track, within } from '../helpers/index.ts';
import {
  LIMIT, LOOPBACK, LOOPBACK6, clientOf, closeAfterTest, closed, closedPort, connectTo, errorText, extraHandles, firstLink, frame, gate,
  handles, idsOf, isError, isSettled, lesson, outcome, rawClient, recordingCrashes, reusePortWorks, sameJson, scriptedPeer, settle, show, startServer,
  watchYourTimers,
} from './harness.ts';

/** The frame limit the lesson states: MAX_FRAME_BYTES, 1 MiB. */
const MAX_FRAME = 1024 * 1024;
/** `connection.pending`, read afresh (a check on it earlier in a test must not fix its type). */
const pendingOf = (c: RpcConnection): number => c.pending;
const enc = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

/** parseMessage's verdict on one payload, in words. */
function verdict(payload: Uint8Array): { message?: Message; error?: unknown } {
  try {
    return { message: parseMessage(payload) };
  } catch (error) {
    return { error };
  }
}

describe('Messages on the wire', () => {
  it('parseMessage reads requests and responses, also from a view into a larger buffer', () => {
    const good: unknown[] = [
      { jsonrpc: '2.0', id: 1, method: 'add', params: [1, 2] },
      { jsonrpc: '2.0', id: 'a-7', method: 'note.get', params: { title: 'café ☕ 🎉' } },
      { jsonrpc: '2.0', id: 0, method: 'ping' },
      { jsonrpc: '2.0', id: 3, result: null },
      { jsonrpc: '2.0', id: 'x', result: { nested: [1, 'é'] } },
      { jsonrpc: '2.0', id: 4, error: { code: -32601, message: 'Method not found', data: { method: 'nope' } } },
      { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } },
    ];
    for (const m of good) {
      const bytes = enc(m);
      // The same bytes in the middle of a larger buffer, between bytes that must not be read.
      const big = Buffer.concat([Buffer.from('{"junk":'), bytes, Buffer.from('}]')]);
      const view = big.subarray(8, 8 + bytes.length);
      for (const [how, payload] of [['a Buffer', bytes], ['a view at offset 8', view], ['a plain Uint8Array', new Uint8Array(bytes)]] as const) {
        const r = verdict(payload);
        check(JSON.stringify(r.message) === JSON.stringify(m), {
          did: `parseMessage(${how} of ${show(m)}) ${r.error ? `threw ${errorText(r.error)}` : `returned ${show(r.message)}`}`,
          expected: `the message ${show(m)}: decode the view's own bytes (UTF-8), JSON.parse, check the shape, return it`,
          lesson: lesson('Messages on the wire'),
        });
      }
    }
  });

  it('parseMessage refuses bytes that are not UTF-8 JSON with PARSE_ERROR', () => {
    const bad: [string, Uint8Array][] = [
      ['no bytes at all', new Uint8Array(0)],
      ['"hello" without quotes', Buffer.from('hello')],
      ['a cut-off object', Buffer.from('{"jsonrpc":"2.0","id":1,')],
      ['a byte 0xff inside a string', Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"a'), Buffer.from([0xff]), Buffer.from('"}')])],
      ['half of "é" (0xc3 alone)', Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"caf'), Buffer.from([0xc3]), Buffer.from('"}')])],
    ];
    for (const [what, payload] of bad) {
      const r = verdict(payload);
      check(isError(r.error, ProtocolError, 'ERR_RPC_PROTOCOL', { rpcCode: ErrorCodes.PARSE_ERROR }), {
        did: `parseMessage(${what}) ${r.error ? `threw ${errorText(r.error)}` : `returned ${show(r.message)}`}`,
        expected: `ProtocolError with code 'ERR_RPC_PROTOCOL' and rpcCode ${ErrorCodes.PARSE_ERROR} (PARSE_ERROR): decode with new TextDecoder('utf-8', { fatal: true }), which throws on bytes that are not UTF-8 (Buffer's toString would quietly put U+FFFD in their place)`,
        lesson: lesson('Messages on the wire'),
      });
    }
  });

  it('parseMessage refuses JSON of the wrong shape with INVALID_REQUEST', () => {
    const bad: [string, unknown][] = [
      ['a number', 42],
      ['null', null],
      ['a batch (an array)', [{ jsonrpc: '2.0', id: 1, method: 'a' }]],
      ['no jsonrpc member', { id: 1, method: 'a' }],
      ['jsonrpc "1.0"', { jsonrpc: '1.0', id: 1, method: 'a' }],
      ['jsonrpc 2 (a number)', { jsonrpc: 2, id: 1, method: 'a' }],
      ['a method that is not a string', { jsonrpc: '2.0', id: 1, method: 5 }],
      ['a request without id (a notification)', { jsonrpc: '2.0', method: 'a' }],
      ['a request with id null', { jsonrpc: '2.0', id: null, method: 'a' }],
      ['a request with an object id', { jsonrpc: '2.0', id: { n: 1 }, method: 'a' }],
      ['a request with a boolean id', { jsonrpc: '2.0', id: true, method: 'a' }],
      ['params that are a string', { jsonrpc: '2.0', id: 1, method: 'a', params: 'x' }],
      ['params null', { jsonrpc: '2.0', id: 1, method: 'a', params: null }],
      ['params a number', { jsonrpc: '2.0', id: 1, method: 'a', params: 3 }],
      ['neither method nor result nor error', { jsonrpc: '2.0', id: 1 }],
      ['both result and error', { jsonrpc: '2.0', id: 1, result: 1, error: { code: 1, message: 'x' } }],
      ['a response without id', { jsonrpc: '2.0', result: 1 }],
      ['a response with an array id', { jsonrpc: '2.0', id: [1], result: 1 }],
      ['an error that is a string', { jsonrpc: '2.0', id: 1, error: 'bad' }],
      ['an error that is null', { jsonrpc: '2.0', id: 1, error: null }],
      ['an error that is an array', { jsonrpc: '2.0', id: 1, error: [-32000, 'bad'] }],
      ['an error without code', { jsonrpc: '2.0', id: 1, error: { message: 'x' } }],
      ['an error with code 1.5', { jsonrpc: '2.0', id: 1, error: { code: 1.5, message: 'x' } }],
      ['an error with code "1"', { jsonrpc: '2.0', id: 1, error: { code: '1', message: 'x' } }],
      ['an error without message', { jsonrpc: '2.0', id: 1, error: { code: 1 } }],
      ['an error with message 7', { jsonrpc: '2.0', id: 1, error: { code: 1, message: 7 } }],
    ];
    for (const [what, value] of bad) {
      const r = verdict(enc(value));
      check(isError(r.error, ProtocolError, 'ERR_RPC_PROTOCOL', { rpcCode: ErrorCodes.INVALID_REQUEST }), {
        did: `parseMessage(${what}: ${show(value)}) ${r.error ? `threw ${errorText(r.error)}` : `returned ${show(r.message)}`}`,
        expected: `ProtocolError with code 'ERR_RPC_PROTOCOL' and rpcCode ${ErrorCodes.INVALID_REQUEST} (INVALID_REQUEST): valid JSON, but not a message of this protocol`,
        lesson: lesson('Messages on the wire'),
      });
    }
  });
});

describe('Calls and replies', () => {
  it('a call sends a JSON-RPC 2.0 request in one frame and resolves with the result the other end sent', async () => {
    const { link, connection } = await clientOf();
    const call = connection.call('add', [2, 3]);
    const req = await link.inbox.next();
    check(req?.jsonrpc === '2.0' && req.method === 'add' && show(req.params) === '[2,3]' && (typeof req.id === 'number' || typeof req.id === 'string'), {
      did: `call('add', [2, 3]) sent ${req ? show(req) : 'nothing the test peer could read as a frame'}`,
      expected: '{"jsonrpc":"2.0","id":<a number or a string>,"method":"add","params":[2,3]} in one frame (encodeMessage)',
      lesson: lesson('Messages on the wire'),
      transcript: link.transcript,
    });
    check(connection.pending === 1, {
      did: `with one call sent and no reply yet, connection.pending is ${connection.pending}`,
      expected: '1: the call waits in the pending-call table until its reply comes',
      lesson: lesson('Ids match replies to calls'),
    });
    link.reply(req.id, { sum: 5, note: 'ünïcödé 🎉' });
    const r = await settle(call, "call('add') after its reply");
    check(sameJson(r.value, { sum: 5, note: 'ünïcödé 🎉' }) && pendingOf(connection) === 0, {
      did: `the test peer replied {"sum":5,"note":"ünïcödé 🎉"}; the call ${outcome(r)}; pending is then ${connection.pending}`,
      expected: 'resolves with the reply\'s result, exactly, and the table is empty again (pending 0)',
      lesson: lesson('Ids match replies to calls'),
      transcript: link.transcript,
    });
    // Without params, the request has no params member (or an empty one is fine too).
    const bare = connection.call('ping');
    const req2 = await link.inbox.next();
    check(req2?.method === 'ping' && (req2.params === undefined || show(req2.params) === '[]' || show(req2.params) === '{}') && req2.id !== req.id, {
      did: `call('ping') sent ${show(req2)}`,
      expected: 'a request for "ping" without params, with a new id',
      lesson: lesson('Messages on the wire'),
      transcript: link.transcript,
    });
    link.reply(req2!.id, 'pong');
    const r2 = await settle(bare, "call('ping')");
    check(r2.value === 'pong', { did: `call('ping') ${outcome(r2)}`, expected: 'resolves with "pong"', lesson: lesson('Ids match replies to calls') });
  });

  it('out-of-order replies are matched by id', async () => {
    const { link, connection } = await clientOf();
    const calls = ['first', 'second', 'third'].map((name) => connection.call('whoami', [name]));
    await link.inbox.count(3);
    const reqs = link.inbox.all.slice(0, 3);
    // Answer the last first: each reply names the call it belongs to.
    for (const req of [...reqs].reverse()) link.reply(req.id, `answer to ${(req.params as string[])[0]}`);
    const results = await Promise.all(calls.map((c, i) => settle(c, `call ${i + 1}`)));
    check(results.every((r, i) => r.value === `answer to ${['first', 'second', 'third'][i]}`) && connection.pending === 0, {
      did: `three calls in flight (ids ${show(idsOf(reqs))}); the test peer replied to the third first, then the second, then the first. Your calls: ${results.map(outcome).join('; ')}`,
      expected: 'each call resolves with the reply that carries its own id ("answer to first", "answer to second", "answer to third"), whatever order they came in',
      lesson: lesson('Ids match replies to calls'),
      transcript: link.transcript,
    });
  });

  it('concurrent calls: 50 in flight at once on one connection each get their own result, from your server', async () => {
    const release = gate();
    const { address } = await startServer({
      // Every call waits until all 50 have arrived, so all are truly in flight at once; then answers in a scrambled order.
      square: async (p) => {
        const n = (p as number[])[0]!;
        await release.promise;
        await pause((n * 7) % 5);
        return n * n;
      },
    });
    const connection = await connectTo(address);
    const calls = Array.from({ length: 50 }, (_, n) => connection.call('square', [n]));
    const inFlight = connection.pending;
    release.open();
    const results = await Promise.all(calls.map((c, n) => settle(c, `call ${n}`)));
    const wrong = results.map((r, n) => [n, r] as const).filter(([n, r]) => r.value !== n * n);
    check(inFlight === 50 && wrong.length === 0 && connection.pending === 0, {
      did: `pending was ${inFlight} with 50 calls sent; ${wrong.length} calls got the wrong outcome: ${wrong.slice(0, 5).map(([n, r]) => `square(${n}) ${outcome(r)}`).join('; ')}; pending afterwards ${connection.pending}`,
      expected: 'pending 50 while all are in flight, then every square(n) resolves with n*n and pending is 0',
      lesson: lesson('Ids match replies to calls'),
    });
  });

  it('never gives two calls in flight the same id, nor an id used before on the connection', async () => {
    const { link, connection } = await clientOf();
    const a = connection.call('a');
    const b = connection.call('b');
    await link.inbox.count(2);
    const [ra] = link.inbox.all;
    link.reply(ra!.id, 'A');
    await settle(a, "call('a')");
    // 'b' is still in flight; the next calls must not take its id, nor 'a''s.
    const c = connection.call('c');
    const d = connection.call('d');
    await link.inbox.count(4);
    const ids = idsOf(link.inbox.all);
    check(new Set(ids.map((id) => JSON.stringify(id))).size === 4, {
      did: `calls a, b, then (after a's reply, with b still waiting) c and d went out with ids ${show(ids)}`,
      expected: `four different ids: an id names one call for the life of the connection. ("pending.size + 1" gives c the id of b, which is still in flight)`,
      lesson: lesson('Ids match replies to calls'),
      transcript: link.transcript,
    });
    for (const m of link.inbox.all.slice(1)) link.reply(m.id, m.method);
    const rest = await Promise.all([b, c, d].map((p, i) => settle(p, `call ${'bcd'[i]}`)));
    check(rest.map((r) => r.value).join() === 'b,c,d', {
      did: `b, c, d: ${rest.map(outcome).join('; ')}`,
      expected: 'each resolves with its own method name, as the test peer answered',
      lesson: lesson('Ids match replies to calls'),
      transcript: link.transcript,
    });
  });

  it('a slow call does not hold up a quick one on your server', async () => {
    const slow = gate<string>();
    const { address } = await startServer({ slow: () => slow.promise, quick: () => 'quick' });
    const connection = await connectTo(address);
    const s = connection.call('slow');
    const q = await settle(connection.call('quick'), "call('quick') while call('slow') is still running on your server");
    check(q.value === 'quick' && !(await isSettled(s)), {
      did: `with 'slow' still running on your server, call('quick') ${outcome(q)}`,
      expected: "'quick' is answered at once: a server starts each request's handler as it arrives and sends each reply when it is ready; it never waits for one handler before reading the next request",
      lesson: lesson('Ids match replies to calls'),
    });
    slow.open('slow');
    const r = await settle(s, "call('slow')");
    check(r.value === 'slow', { did: `call('slow') ${outcome(r)}`, expected: 'resolves with "slow" once its handler finishes', lesson: lesson('Ids match replies to calls') });
  });

  it('your server reads requests cut into 1-byte pieces, and two requests in one chunk', async () => {
    const { address } = await startServer({ echo: (p) => p });
    const c = await rawClient(address);
    const one = frame({ jsonrpc: '2.0', id: 1, method: 'echo', params: ['byte by byte é'] });
    for (const byte of one) {
      c.socket.write(Buffer.from([byte]));
      await pause(0);
    }
    const r1 = await c.inbox.next();
    check(sameJson(r1, { jsonrpc: '2.0', id: 1, result: ['byte by byte é'] }), {
      did: `a request sent one byte at a time got ${r1 ? show(r1) : 'no reply'}`,
      expected: '{"jsonrpc":"2.0","id":1,"result":["byte by byte é"]}: a \'data\' event is whatever bytes arrived; feed them all to the FrameReader',
      lesson: lesson('Messages on the wire'),
      transcript: c.transcript,
    });
    c.socket.write(Buffer.concat([frame({ jsonrpc: '2.0', id: 'x', method: 'echo', params: { a: 1 } }), frame({ jsonrpc: '2.0', id: 'y', method: 'echo', params: [2] })]));
    const got = [await c.inbox.next(), await c.inbox.next()];
    const byId = Object.fromEntries(got.filter(Boolean).map((m) => [m!.id as string, show(m!.result)]));
    check(byId.x === '{"a":1}' && byId.y === '[2]', {
      did: `two requests (ids "x" and "y") in one chunk got ${show(got)}`,
      expected: 'a reply to each, with its own id (string ids come back as the same strings)',
      lesson: lesson('Messages on the wire'),
      transcript: c.transcript,
    });
  });
});

describe('Timeouts per call', () => {
  it('a per-call timeout fires at its deadline and removes the entry', async () => {
    const clock = new FakeClock();
    const { link, connection } = await clientOf({ clock });
    const call = connection.call('never', [], { timeoutMs: 1_000 });
    await link.inbox.next();
    clock.advance(999);
    const early = await isSettled(call);
    check(!early && connection.pending === 1, {
      did: `999 ms after the call (timeoutMs 1000), the call had ${early ? 'settled' : 'not settled'} and pending was ${connection.pending}`,
      expected: 'still waiting (pending 1): the timeout is 1000 ms, on the clock you were given',
      lesson: lesson('Timeouts per call'),
    });
    clock.advance(1);
    const r = await settle(call, 'the call, after its timeout');
    check(isError(r.error, CallTimeoutError, 'ERR_RPC_TIMEOUT', { method: 'never', timeoutMs: 1_000 }), {
      did: `at 1000 ms the call ${outcome(r)}`,
      expected: "a rejection with CallTimeoutError, code 'ERR_RPC_TIMEOUT', method 'never', timeoutMs 1000: arm a timer on the injected clock (clock.setTimeout) for each call",
      lesson: lesson('Timeouts per call'),
    });
    check(pendingOf(connection) === 0 && clock.pendingCount() === 0, {
      did: `after the timeout, pending is ${connection.pending} and ${clock.pendingCount()} timer(s) of yours are still set on the clock`,
      expected: 'pending 0 and no timer: a timeout takes the call out of the table. An entry left behind is a leak that grows with every lost reply',
      lesson: lesson('Timeouts per call'),
    });
  });

  it('ends at its deadline even while other replies keep arriving', async () => {
    const clock = new FakeClock();
    const { link, connection } = await clientOf({ clock });
    const waiting = connection.call('never', [], { timeoutMs: 1_000 });
    await link.inbox.next();
    // Traffic every 200 ms: calls that are answered at once. None of it may move the first call's deadline.
    for (let t = 0; t < 4; t++) {
      clock.advance(200);
      const quick = connection.call('quick', [], { timeoutMs: 1_000 });
      const req = await link.inbox.next();
      link.reply(req?.id, t);
      const q = await settle(quick, 'a quick call, answered at once');
      check(q.value === t, {
        did: `a quick call, answered at once with ${t}, ${outcome(q)}`,
        expected: `resolves with ${t}, while the first call keeps waiting`,
        lesson: lesson('Ids match replies to calls'),
        transcript: link.transcript,
      });
    }
    clock.advance(200);
    const r = await settle(waiting, 'the unanswered call, at its deadline');
    check(isError(r.error, CallTimeoutError, 'ERR_RPC_TIMEOUT', { method: 'never' }), {
      did: `a call with timeoutMs 1000, while other calls came and went every 200 ms: at 1000 ms it ${outcome(r)}`,
      expected: 'CallTimeoutError at 1000 ms: each call has its own timer, armed once when it is sent. (An idle timer such as socket.setTimeout restarts on every byte, so a busy connection never times out a lost call)',
      lesson: lesson('Timeouts per call'),
      transcript: link.transcript,
    });
  });

  it("uses the connection's callTimeoutMs, else DEFAULT_CALL_TIMEOUT_MS, when the call sets none; 0 means no timeout", async () => {
    for (const [options, expected] of [[{}, DEFAULT_CALL_TIMEOUT_MS], [{ callTimeoutMs: 300 }, 300]] as const) {
      const clock = new FakeClock();
      const { link, connection } = await clientOf({ ...options, clock });
      const call = connection.call('never');
      await link.inbox.next();
      clock.advance(expected - 1);
      const early = await isSettled(call);
      clock.advance(1);
      const r = await settle(call, 'a call without its own timeout');
      check(!early && isError(r.error, CallTimeoutError, 'ERR_RPC_TIMEOUT', { method: 'never', timeoutMs: expected }), {
        did: `connect(${show(options)}) then call('never') without timeoutMs: ${early ? `settled before ${expected} ms` : `at ${expected} ms it ${outcome(r)}`}`,
        expected: `CallTimeoutError with timeoutMs ${expected}, exactly at ${expected} ms: ${'callTimeoutMs' in options ? "the connection's callTimeoutMs" : 'DEFAULT_CALL_TIMEOUT_MS'}`,
        lesson: lesson('Timeouts per call'),
      });
    }
    const clock = new FakeClock();
    const { link, connection } = await clientOf({ clock, callTimeoutMs: 300 });
    const call = connection.call('patient', [], { timeoutMs: 0 });
    const req = await link.inbox.next();
    clock.advance(60_000);
    const early = await isSettled(call);
    link.reply(req?.id, 'worth the wait');
    const r = await settle(call, 'a call with timeoutMs 0, answered after a minute');
    check(!early && r.value === 'worth the wait' && clock.pendingCount() === 0, {
      did: `call('patient', [], { timeoutMs: 0 }): ${early ? 'settled before its reply' : `after a minute, its reply came and it ${outcome(r)}`}; ${clock.pendingCount()} timer(s) on the clock`,
      expected: 'no timeout at all (0 means none, as in socket.setTimeout(0)), and so no timer: it resolves when the reply comes',
      lesson: lesson('Timeouts per call'),
    });
  });

  it('clears its timer when the reply arrives, or the remote error', async () => {
    const clock = new FakeClock();
    const { link, connection } = await clientOf({ clock });
    const ok = connection.call('ok');
    const bad = connection.call('bad');
    await link.inbox.count(2);
    const [a, b] = link.inbox.all;
    link.reply(a!.id, 1);
    link.replyError(b!.id, { code: 7, message: 'no' });
    await settle(ok, "call('ok')");
    await settle(bad, "call('bad')");
    check(clock.pendingCount() === 0 && connection.pending === 0, {
      did: `both calls were answered (one result, one error); ${clock.pendingCount()} timer(s) are still set on the clock, pending is ${connection.pending}`,
      expected: 'no timer and pending 0: a call that ends, however it ends, clears its timer (clock.clearTimeout). A forgotten timer keeps a process alive and later fires for nothing',
      lesson: lesson('Timeouts per call'),
    });
  });

  it('a late reply after a timeout is ignored: no crash, and it answers no other call', async () => {
    await recordingCrashes(async (crashes) => {
      const clock = new FakeClock();
      const { link, connection } = await clientOf({ clock });
      const first = connection.call('slow', [], { timeoutMs: 100 });
      const reqA = await link.inbox.next();
      clock.advance(100);
      await settle(first, 'the first call, timed out');
      const second = connection.call('fast');
      const reqB = await link.inbox.next();
      // The reply to the timed-out call arrives now, before the second call's own reply.
      link.reply(reqA?.id, 'late answer to the first call');
      await pause(10);
      const early = await isSettled(second);
      link.reply(reqB?.id, 'answer to the second call');
      const r = await settle(second, 'the second call');
      check(crashes.length === 0, {
        did: `a reply came for the timed-out call (id ${show(reqA?.id)}): ${crashes.map(errorText).join('; ')}`,
        expected: 'nothing: the call is over and out of the table, so its reply finds no entry and is dropped. (get(id)! on a missing entry throws in the data handler and crashes the process)',
        lesson: lesson('Timeouts per call'),
        transcript: link.transcript,
      });
      check(!early && r.value === 'answer to the second call' && connection.pending === 0, {
        did: `the second call (id ${show(reqB?.id)}) ${early ? 'settled on the late reply of the first call' : outcome(r)}`,
        expected: 'it resolves with its own reply only. Ids are never reused on a connection, so a late reply can never match a newer call',
        lesson: lesson('Timeouts per call'),
        transcript: link.transcript,
      });
      // A late *error* reply, an error reply with id null, and a result for an id never sent: all dropped, none answered.
      const third = connection.call('slow-too', [], { timeoutMs: 100 });
      const reqC = await link.inbox.next();
      clock.advance(100);
      await settle(third, 'the third call, timed out');
      link.replyError(reqC?.id, { code: -32000, message: 'too late' });
      link.replyError(null, { code: -32600, message: 'Invalid Request' });
      link.reply(987_654, 'for nobody');
      const fourth = connection.call('last');
      const reqD = await link.inbox.next();
      link.reply(reqD?.id, 'last');
      const r4 = await settle(fourth, 'a call after the stray replies');
      check(crashes.length === 0 && r4.value === 'last' && reqD?.method === 'last' && connection.pending === 0, {
        did: `after a late error reply, an error reply with id null and a result for id 987654: crashes ${crashes.map(errorText).join('; ') || 'none'}; the next message your client sent was ${show(reqD)}, and its call ${outcome(r4)}`,
        expected: 'no crash, no answer to any of them (a response is never answered), and the next call works as usual',
        lesson: lesson('Timeouts per call'),
        transcript: link.transcript,
      });
    });
  });
});

describe('Connecting with a deadline', () => {
  it('connect() says hello (rpc.hello with the protocol version) and resolves once it is answered', async () => {
    const peer = await scriptedPeer({ hello: false });
    const pending = connect(peer.address);
    pending.catch(() => {});
    const link = await firstLink(peer);
    const hello = await link.inbox.next();
    check(hello?.method === HELLO_METHOD && sameJson(hello.params, { version: PROTOCOL_VERSION }) && hello.jsonrpc === '2.0', {
      did: `connect() sent ${hello ? show(hello) : 'nothing'}`,
      expected: `a request {"jsonrpc":"2.0","id":...,"method":"${HELLO_METHOD}","params":{"version":${PROTOCOL_VERSION}}}`,
      lesson: lesson('Connecting with a deadline'),
      transcript: link.transcript,
    });
    const early = await isSettled(pending);
    link.reply(hello.id, { version: PROTOCOL_VERSION });
    const r = await settle(pending, 'connect() after the hello reply');
    if (r.value) closeAfterTest(r.value);
    check(!early && r.value !== undefined && (r.value as RpcConnection).pending === 0, {
      did: `connect() ${early ? 'settled before the hello was answered' : outcome({ ...r, value: r.value ? 'a connection' : r.value })}`,
      expected: 'connect() resolves with the RpcConnection only after the hello reply (a connected socket is not yet a peer that answers), with nothing pending',
      lesson: lesson('Connecting with a deadline'),
      transcript: link.transcript,
    });
  });

  it('a connect timeout fires against a peer that accepts but never answers the hello', async () => {
    const peer = await scriptedPeer({ hello: false });
    const clock = new FakeClock();
    const pending = connect(peer.address, { clock, connectTimeoutMs: 500 });
    pending.catch(() => {});
    const link = await firstLink(peer);
    await link.inbox.next();
    clock.advance(499);
    const early = await isSettled(pending);
    clock.advance(1);
    const r = await settle(pending, 'connect() to a peer that never answers');
    const where = `${LOOPBACK}:${peer.port}`;
    check(!early && isError(r.error, ConnectError, 'ETIMEDOUT', { where }), {
      did: `the peer accepted the TCP connection and read the hello but never answered; connect({ connectTimeoutMs: 500 }) ${early ? 'settled before 500 ms' : `at 500 ms ${outcome(r)}`}`,
      expected: `ConnectError with code 'ETIMEDOUT' and where "${where}", at 500 ms on the clock you were given: one timer covers the TCP connect and the hello. On loopback the kernel answers every SYN, so only the hello shows a peer that is not there`,
      lesson: lesson('Connecting with a deadline'),
      transcript: link.transcript,
    });
    const gone = await settle(closed(link.socket), 'your client closing its socket after the timeout');
    check(gone.settled && clock.pendingCount() === 0, {
      did: `after the timeout, your socket ${gone.settled ? 'closed' : 'stayed open'}; ${clock.pendingCount()} timer(s) still on the clock`,
      expected: 'the socket destroyed and no timer left: a failed connect leaves nothing behind',
      lesson: lesson('Connecting with a deadline'),
    });
    // Without connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS.
    const clock2 = new FakeClock();
    const linkP = peer.nextLink();
    const byDefault = connect(peer.address, { clock: clock2 });
    byDefault.catch(() => {});
    await (await linkP).inbox.next();
    clock2.advance(DEFAULT_CONNECT_TIMEOUT_MS - 1);
    const earlyDefault = await isSettled(byDefault);
    clock2.advance(1);
    const d = await settle(byDefault, 'connect() without connectTimeoutMs to a peer that never answers');
    check(!earlyDefault && isError(d.error, ConnectError, 'ETIMEDOUT', { where }), {
      did: `connect() without connectTimeoutMs ${earlyDefault ? `settled before ${DEFAULT_CONNECT_TIMEOUT_MS} ms` : `at ${DEFAULT_CONNECT_TIMEOUT_MS} ms ${outcome(d)}`}`,
      expected: `ConnectError 'ETIMEDOUT' exactly at DEFAULT_CONNECT_TIMEOUT_MS (${DEFAULT_CONNECT_TIMEOUT_MS} ms)`,
      lesson: lesson('Connecting with a deadline'),
    });
    // And on the real clock (the default), a short timeout ends in the same error.
    const timers = watchYourTimers();
    const real = await settle(connect(peer.address, { connectTimeoutMs: 50 }), 'connect() with connectTimeoutMs 50 on the real clock');
    check(isError(real.error, ConnectError, 'ETIMEDOUT', { where }) && (await eventually(() => timers.pending().length === 0, 500)), {
      did: `on the real clock, connect({ connectTimeoutMs: 50 }) ${outcome(real)}; timers of yours still armed: ${timers.pending().join(', ') || 'none'}`,
      expected: "ConnectError 'ETIMEDOUT' after about 50 ms, and no timer left: without connectTimeoutMs, use realClock",
      lesson: lesson('Connecting with a deadline'),
    });
  });

  it('a refused connection rejects with ConnectError ECONNREFUSED, over IPv4 and IPv6', async () => {
    for (const host of [LOOPBACK, LOOPBACK6]) {
      const port = await closedPort(host);
      const clock = new FakeClock();
      const r = await settle(connect({ host, port }, { clock }), `connect() to ${host} port ${port}, where nothing listens`);
      const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      const cause = (r.error as { cause?: { code?: string } } | undefined)?.cause;
      check(isError(r.error, ConnectError, 'ECONNREFUSED', { where }) && cause?.code === 'ECONNREFUSED' && clock.pendingCount() === 0, {
        did: `connect() ${outcome(r)}; ${clock.pendingCount()} timer(s) left on the clock`,
        expected: `ConnectError with the kernel's code 'ECONNREFUSED', where "${where}" (brackets around IPv6), Node's error as cause, and the connect timer cleared`,
        lesson: lesson('Connecting with a deadline'),
      });
    }
  });

  it('a peer that hangs up during the hello, or refuses it, rejects connect() with ConnectError', async () => {
    const peer = await scriptedPeer({ hello: false });
    const clock = new FakeClock();
    const hangUp = connect(peer.address, { clock });
    hangUp.catch(() => {});
    const link = await firstLink(peer);
    await link.inbox.next();
    link.socket.destroy();
    const r = await settle(hangUp, 'connect() when the peer hangs up during the hello');
    check(isError(r.error, ConnectError, 'ERR_RPC_CONNECTION_LOST') && r.error instanceof Error && r.error.cause instanceof ConnectionLostError && clock.pendingCount() === 0, {
      did: `the peer closed the connection before answering the hello; connect() ${outcome(r)}; ${clock.pendingCount()} timer(s) left`,
      expected: "ConnectError with code 'ERR_RPC_CONNECTION_LOST' and the hello's ConnectionLostError as cause, at once (not at the timeout), and the timer cleared",
      lesson: lesson('Connecting with a deadline'),
      transcript: link.transcript,
    });
    // A reset (not a FIN) during the hello: Node emits 'error' (ECONNRESET), then 'close'; either code is right, at once.
    const resetP = peer.nextLink();
    const resetHello = connect(peer.address, { clock });
    resetHello.catch(() => {});
    const link3 = await resetP;
    await link3.inbox.next();
    link3.socket.resetAndDestroy();
    const r3 = await settle(resetHello, 'connect() when the peer resets the connection during the hello');
    check((isError(r3.error, ConnectError, 'ECONNRESET') || isError(r3.error, ConnectError, 'ERR_RPC_CONNECTION_LOST')) && clock.pendingCount() === 0, {
      did: `the peer reset the connection before answering the hello; connect() ${outcome(r3)}; ${clock.pendingCount()} timer(s) left`,
      expected: "ConnectError at once, with code 'ECONNRESET' (the socket's 'error') or 'ERR_RPC_CONNECTION_LOST' (the lost hello), and the timer cleared",
      lesson: lesson('Connecting with a deadline'),
      transcript: link3.transcript,
    });
    const link2P = peer.nextLink();
    const refused = connect(peer.address, { clock });
    refused.catch(() => {});
    const link2 = await link2P;
    const hello = await link2.inbox.next();
    link2.replyError(hello?.id, { code: -32000, message: 'go away' });
    const r2 = await settle(refused, 'connect() when the hello is answered with an error');
    const cause = (r2.error as { cause?: unknown } | undefined)?.cause;
    check(isError(r2.error, ConnectError, 'ERR_RPC_REMOTE') && isError(cause, RemoteError, 'ERR_RPC_REMOTE', { remoteCode: -32000, remoteMessage: 'go away' }), {
      did: `the peer answered the hello with error -32000 "go away"; connect() ${outcome(r2)}`,
      expected: "ConnectError with code 'ERR_RPC_REMOTE', and the RemoteError (remoteCode -32000, remoteMessage \"go away\") as its cause",
      lesson: lesson('Connecting with a deadline'),
      transcript: link2.transcript,
    });
    const gone = await settle(closed(link2.socket), 'your client closing the refused connection');
    check(gone.settled, { did: 'after the refused hello, your client kept the socket open', expected: 'the socket closed: connect() failed, nothing of it stays', lesson: lesson('Connecting with a deadline') });
  });

  it('every connection answers rpc.hello with the protocol version, your server and your client alike', async () => {
    const { address } = await startServer({});
    const c = await rawClient(address);
    const reply = await c.ask({ jsonrpc: '2.0', id: 'h1', method: HELLO_METHOD, params: { version: PROTOCOL_VERSION } });
    check(sameJson(reply, { jsonrpc: '2.0', id: 'h1', result: { version: PROTOCOL_VERSION } }), {
      did: `your server answered the hello with ${reply ? show(reply) : 'nothing'}`,
      expected: `{"jsonrpc":"2.0","id":"h1","result":{"version":${PROTOCOL_VERSION}}}`,
      lesson: lesson('Connecting with a deadline'),
      transcript: c.transcript,
    });
    const { link } = await clientOf();
    link.send({ jsonrpc: '2.0', id: 99, method: HELLO_METHOD, params: { version: PROTOCOL_VERSION } });
    const back = await link.inbox.next();
    check(sameJson(back, { jsonrpc: '2.0', id: 99, result: { version: PROTOCOL_VERSION } }), {
      did: `the test peer sent your client a hello; it answered ${back ? show(back) : 'nothing'}`,
      expected: `{"jsonrpc":"2.0","id":99,"result":{"version":${PROTOCOL_VERSION}}}: both ends are the same RpcConnection`,
      lesson: lesson('Calls in both directions'),
      transcript: link.transcript,
    });
  });
});

describe('When the connection dies', () => {
  it('a dead peer rejects every pending call with ConnectionLostError', async () => {
    for (const how of ['resets the connection (destroy)', 'ends it (FIN)'] as const) {
      const clock = new FakeClock();
      const { link, connection } = await clientOf({ clock });
      const calls = ['one', 'two', 'three'].map((m) => connection.call(m));
      calls.forEach((c) => c.catch(() => {}));
      await link.inbox.count(3);
      if (how === 'ends it (FIN)') link.socket.end();
      else link.socket.resetAndDestroy();
      const results = await Promise.all(calls.map((c, i) => settle(c, `call ${i + 1} after the peer died`, 'Listen for the socket\'s "close" and reject every pending call.')));
      check(results.every((r, i) => isError(r.error, ConnectionLostError, 'ERR_RPC_CONNECTION_LOST', { method: ['one', 'two', 'three'][i] })), {
        did: `three calls were in flight when the peer ${how}. Your calls: ${results.map(outcome).join('; ')}`,
        expected: "each rejects at once with ConnectionLostError, code 'ERR_RPC_CONNECTION_LOST', with its method: no reply can come on a dead connection, and waiting for the timeout is waiting for nothing",
        lesson: lesson('When the connection dies'),
        transcript: link.transcript,
      });
      check(connection.pending === 0 && clock.pendingCount() === 0, {
        did: `after the peer ${how}, pending is ${connection.pending} and ${clock.pendingCount()} timer(s) are set`,
        expected: 'pending 0 and no timers: every entry removed, every timer cleared',
        lesson: lesson('When the connection dies'),
      });
      const later = await settle(connection.call('after'), 'a call on the dead connection');
      check(isError(later.error, ConnectionLostError, 'ERR_RPC_CONNECTION_LOST', { method: 'after' }) && connection.pending === 0, {
        did: `a call made after the connection died ${outcome(later)}; pending ${connection.pending}`,
        expected: 'ConnectionLostError at once, and nothing added to the table',
        lesson: lesson('When the connection dies'),
      });
      const closing = await settle(connection.close(), 'close() of a connection that is already lost');
      const after = await settle(connection.call('after-close'), 'a call after close() of the lost connection');
      check(closing.settled && closing.error === undefined && isError(after.error, ConnectionLostError, 'ERR_RPC_CONNECTION_LOST', { method: 'after-close' }), {
        did: `close() of the lost connection ${outcome(closing)}; a call after it ${outcome(after)}`,
        expected: 'close() resolves at once (the socket is already closed), and calls still fail with ConnectionLostError: the connection ended when it was lost, and closing it afterwards changes nothing',
        lesson: lesson('When the connection dies'),
      });
    }
  });

  it('a frame over the limit drops that connection only; your server serves the others', async () => {
    const { server, address } = await startServer({ echo: (p) => p, size: (p) => (p as string[])[0]!.length });
    // Exactly the limit is fine: a request whose payload is MAX_FRAME bytes.
    const edge = await rawClient(address);
    const head = '{"jsonrpc":"2.0","id":1,"method":"size","params":["';
    const fill = 'x'.repeat(MAX_FRAME - head.length - 3);
    const atLimit = Buffer.from(`${head}${fill}"]}`);
    const sized = await edge.ask(atLimit);
    check(atLimit.length === MAX_FRAME && sized?.result === fill.length, {
      did: `a request of exactly ${atLimit.length} bytes (the limit) got ${sized ? show(sized).slice(0, 120) : 'no reply'}`,
      expected: `{"jsonrpc":"2.0","id":1,"result":${fill.length}}: up to MAX_FRAME_BYTES (1 MiB) a frame is fine; use a FrameReader with its default limit`,
      lesson: lesson('Messages on the wire'),
    });
    const good = await connectTo(address);
    const bad = await rawClient(address);
    await eventually(() => server.connectionCount === 3);
    // A header announcing one byte over the limit: the server must not wait for (or buffer) any of it.
    const over = Buffer.alloc(5, 0x7b);
    over.writeUInt32BE(MAX_FRAME + 1);
    bad.socket.write(over);
    const dropped = await settle(closed(bad.socket), 'your server closing a connection that announced a frame over the limit');
    const r = await settle(good.call('echo', ['still here']), 'a call on another connection');
    check(dropped.settled && show(r.value) === '["still here"]', {
      did: `a client announced a frame of ${MAX_FRAME + 1} bytes: your server ${dropped.settled ? 'closed that connection' : 'kept that connection open'}; a call on another connection ${outcome(r)}`,
      expected: 'the FrameReader throws FrameTooLargeError: destroy that socket (its stream cannot be trusted any more) and go on serving everyone else',
      lesson: lesson('When the connection dies'),
      transcript: bad.transcript,
    });
    // The same on the client's side: the peer sends a frame over the limit while a call waits.
    const { link, connection } = await clientOf();
    const waiting = connection.call('x');
    await link.inbox.next();
    link.socket.write(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
    const w = await settle(waiting, 'a pending call when the peer sends a frame over the limit');
    check(isError(w.error, ConnectionLostError, 'ERR_RPC_CONNECTION_LOST', { method: 'x' }) && connection.pending === 0, {
      did: `the peer announced a frame of 2 GiB while call('x') waited; the call ${outcome(w)}`,
      expected: 'your client drops the connection too, and the call rejects with ConnectionLostError',
      lesson: lesson('When the connection dies'),
      transcript: link.transcript,
    });
  });
});

describe('Errors that cross the wire', () => {
  it('remote errors arrive as RemoteError with the remote code, message and data', async () => {
    const { address } = await startServer({
      divide: (p) => {
        const [a, b] = p as number[];
        if (b === 0) throw new MethodError(ErrorCodes.INVALID_PARAMS, 'division by zero', { a, b });
        return a! / b!;
      },
      find: () => {
        throw new MethodError(404, 'no such note');
      },
    });
    const connection = await connectTo(address);
    const r = await settle(connection.call('divide', [1, 0]), "call('divide', [1, 0])");
    check(isError(r.error, RemoteError, 'ERR_RPC_REMOTE', { method: 'divide', remoteCode: ErrorCodes.INVALID_PARAMS, remoteMessage: 'division by zero', data: { a: 1, b: 0 } }), {
      did: `a handler threw new MethodError(INVALID_PARAMS, 'division by zero', { a: 1, b: 0 }); the call ${outcome(r)}`,
      expected: "RemoteError, code 'ERR_RPC_REMOTE', method 'divide', remoteCode -32602, remoteMessage 'division by zero', data { a: 1, b: 0 }: the server sends the MethodError's code, message and data as the reply's error; the client turns that error into a RemoteError",
      lesson: lesson('Errors that cross the wire'),
    });
    const r2 = await settle(connection.call('find'), "call('find')");
    const ok = await settle(connection.call('divide', [6, 3]), "call('divide', [6, 3]) after the errors");
    check(isError(r2.error, RemoteError, 'ERR_RPC_REMOTE', { method: 'find', remoteCode: 404, remoteMessage: 'no such note' }) && ok.value === 2 && connection.pending === 0, {
      did: `call('find') ${outcome(r2)}; then call('divide', [6, 3]) ${outcome(ok)}`,
      expected: "RemoteError with remoteCode 404 (the application's own code), and the connection goes on: the next call resolves with 2",
      lesson: lesson('Errors that cross the wire'),
    });
    // The same from a peer that is not yours, with an application code and no data.
    const { link, connection: c2 } = await clientOf();
    const call = c2.call('lookup', { key: 'k' });
    const req = await link.inbox.next();
    link.replyError(req?.id, { code: -32001, message: 'locked', data: ['by', 'bram'] });
    const r3 = await settle(call, "call('lookup')");
    check(isError(r3.error, RemoteError, 'ERR_RPC_REMOTE', { method: 'lookup', remoteCode: -32001, remoteMessage: 'locked', data: ['by', 'bram'] }) && c2.pending === 0, {
      did: `the peer answered {"code":-32001,"message":"locked","data":["by","bram"]}; the call ${outcome(r3)}`,
      expected: "RemoteError with method 'lookup', remoteCode -32001, remoteMessage 'locked', data ['by', 'bram'], and nothing pending",
      lesson: lesson('Errors that cross the wire'),
      transcript: link.transcript,
    });
  });

  it('an unknown method is METHOD_NOT_FOUND, also for names that every object has', async () => {
    const { address } = await startServer({ known: () => 'yes' });
    const connection = await connectTo(address);
    for (const name of ['unknown', 'toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      const r = await settle(connection.call(name), `call('${name}')`);
      check(isError(r.error, RemoteError, 'ERR_RPC_REMOTE', { method: name, remoteCode: ErrorCodes.METHOD_NOT_FOUND }), {
        did: `call('${name}') on a server offering only 'known' ${outcome(r)}`,
        expected: `RemoteError with remoteCode ${ErrorCodes.METHOD_NOT_FOUND} (METHOD_NOT_FOUND). methods[name] also finds what every object inherits (toString, constructor): look up own properties only, Object.hasOwn(methods, name)`,
        lesson: lesson('Errors that cross the wire'),
      });
    }
  });

  it('a handler that throws, or returns what JSON cannot encode, answers INTERNAL_ERROR, and the server lives on', async () => {
    await recordingCrashes(async (crashes) => {
      const { address } = await startServer({
        buggy: () => {
          throw new TypeError('secret detail of the bug');
        },
        rejects: async () => Promise.reject(new Error('async bug')),
        big: () => 10n,
        loop: () => {
          const o: Record<string, unknown> = {};
          o.self = o;
          return o;
        },
        fine: () => 'fine',
      });
      const connection = await connectTo(address);
      for (const name of ['buggy', 'rejects', 'big', 'loop']) {
        const r = await settle(connection.call(name), `call('${name}')`);
        // Nothing of the exception may cross: not in the message, not in data (a stack trace is the server's business).
        const leaked = isError(r.error, RemoteError, 'ERR_RPC_REMOTE') && JSON.stringify([(r.error as RemoteError).remoteMessage, (r.error as RemoteError).data ?? null]).includes('secret detail');
        check(isError(r.error, RemoteError, 'ERR_RPC_REMOTE', { method: name, remoteCode: ErrorCodes.INTERNAL_ERROR }) && !leaked, {
          did: `call('${name}') ${outcome(r)}${leaked ? ` (its message or data carries the exception's text: ${JSON.stringify((r.error as RemoteError).remoteMessage)}, data ${JSON.stringify((r.error as RemoteError).data ?? null)})` : ''}`,
          expected: `RemoteError with remoteCode ${ErrorCodes.INTERNAL_ERROR} (INTERNAL_ERROR): a handler that throws anything but a MethodError, or whose result JSON.stringify cannot encode (a BigInt, a cycle), is a bug on the server; say so, without its details`,
          lesson: lesson('Errors that cross the wire'),
        });
      }
      const ok = await settle(connection.call('fine'), "call('fine') after the failures");
      check(ok.value === 'fine' && crashes.length === 0, {
        did: `after the failing handlers, call('fine') ${outcome(ok)}; crashes: ${crashes.map(errorText).join('; ') || 'none'}`,
        expected: 'the server lives on and answers: every failure of a handler becomes an error reply, never an uncaught exception or an unhandled rejection',
        lesson: lesson('Errors that cross the wire'),
      });
    });
  });

  it('a method that returns nothing answers null', async () => {
    const { address } = await startServer({ nothing: () => undefined, later: async () => {} });
    const c = await rawClient(address);
    for (const method of ['nothing', 'later']) {
      const reply = await c.ask({ jsonrpc: '2.0', id: 5, method });
      check(sameJson(reply, { jsonrpc: '2.0', id: 5, result: null }), {
        did: `'${method}' returned undefined; your server sent ${reply ? show(reply) : 'nothing'}`,
        expected: '{"jsonrpc":"2.0","id":5,"result":null}: JSON.stringify drops a member whose value is undefined, and a reply without result or error is no reply at all',
        lesson: lesson('Errors that cross the wire'),
        transcript: c.transcript,
      });
    }
  });

  it('a malformed message gets an error reply with id null, and the connection goes on', async () => {
    await recordingCrashes(async (crashes) => {
      const { server, address } = await startServer({ echo: (p) => p });
      const c = await rawClient(address);
      const cases: [string, unknown, number][] = [
        ['not JSON', 'this is not JSON', ErrorCodes.PARSE_ERROR],
        ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), ErrorCodes.PARSE_ERROR],
        ['JSON of the wrong shape', { jsonrpc: '2.0', id: 3, method: 42 }, ErrorCodes.INVALID_REQUEST],
        ['a batch', [{ jsonrpc: '2.0', id: 4, method: 'echo' }], ErrorCodes.INVALID_REQUEST],
      ];
      for (const [what, payload, code] of cases) {
        const reply = await c.ask(payload);
        const err = reply?.error as { code?: unknown; message?: unknown } | undefined;
        check(reply?.jsonrpc === '2.0' && reply.id === null && err?.code === code && typeof err.message === 'string' && !('result' in reply), {
          did: `a frame with ${what} got ${reply ? show(reply) : 'no reply'}`,
          expected: `{"jsonrpc":"2.0","id":null,"error":{"code":${code},"message":"..."}}: answer with the protocol's error; id null, since no id could be read from it`,
          lesson: lesson('Errors that cross the wire'),
          transcript: c.transcript,
        });
      }
      const ok = await c.ask({ jsonrpc: '2.0', id: 6, method: 'echo', params: ['still talking'] });
      check(sameJson(ok, { jsonrpc: '2.0', id: 6, result: ['still talking'] }) && crashes.length === 0 && server.connectionCount === 1, {
        did: `after the bad frames, a good request got ${ok ? show(ok) : 'no reply'}; crashes: ${crashes.map(errorText).join('; ') || 'none'}; connectionCount ${server.connectionCount}`,
        expected: 'its reply, on the same connection: a bad message is one bad message, and the framing still holds',
        lesson: lesson('Errors that cross the wire'),
        transcript: c.transcript,
      });
      // Your client does the same when the server sends garbage.
      const { link, connection } = await clientOf();
      link.send('garbage from the server');
      const back = await link.inbox.next();
      const err = back?.error as { code?: unknown } | undefined;
      check(back?.id === null && err?.code === ErrorCodes.PARSE_ERROR && connection.pending === 0, {
        did: `the test peer sent your client a frame that is not JSON; it answered ${back ? show(back) : 'nothing'}`,
        expected: `an error reply with id null and code ${ErrorCodes.PARSE_ERROR}: both ends are the same RpcConnection`,
        lesson: lesson('Calls in both directions'),
        transcript: link.transcript,
      });
    });
  });

  it('params that JSON cannot encode reject the call and leave nothing pending', async () => {
    const clock = new FakeClock();
    const { link, connection } = await clientOf({ clock });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const [what, params] of [['a BigInt', [1n]], ['a cycle', cyclic]] as const) {
      const r = await settle((async () => connection.call('x', params as never))(), `call('x') with ${what}`);
      check(r.error instanceof TypeError && connection.pending === 0 && clock.pendingCount() === 0, {
        did: `call('x') with ${what} in its params ${outcome(r)}; pending ${connection.pending}; ${clock.pendingCount()} timer(s)`,
        expected: "a rejection with JSON.stringify's TypeError, pending 0 and no timer: encode the request before you add the call to the table",
        lesson: lesson('Ids match replies to calls'),
      });
    }
    const ok = connection.call('after');
    const req = await link.inbox.next();
    link.reply(req?.id, 'ok');
    const r = await settle(ok, 'a call after the failed ones');
    check(req?.method === 'after' && r.value === 'ok', { did: `the next call ${outcome(r)} (the peer saw ${show(req)})`, expected: 'the connection works on', lesson: lesson('Ids match replies to calls'), transcript: link.transcript });
  });
});

describe('Calls in both directions', () => {
  it('server-to-client callbacks work: the server calls the client in the middle of the client\'s call', async () => {
    const seen: { clientPending: number; serverPending: number }[] = [];
    let client!: RpcConnection;
    const { address } = await startServer({
      // Asks the client for each step's value, one callback at a time, and adds them up.
      sumOfSteps: async (p, ctx) => {
        let total = 0;
        for (let i = 1; i <= (p as number[])[0]!; i++) {
          const pendingCall = ctx.connection.call('step', [i]);
          seen.push({ clientPending: client.pending, serverPending: ctx.connection.pending });
          total += (await pendingCall) as number;
        }
        return total;
      },
    });
    client = await connectTo(address, { methods: { step: (p) => (p as number[])[0]! * 10 } });
    const r = await settle(client.call('sumOfSteps', [3]), "call('sumOfSteps', [3]), which calls your client back three times");
    check(r.value === 60, {
      did: `call('sumOfSteps', [3]) ${outcome(r)}`,
      expected: "60: the server calls the client's 'step' 3 times while the client's own call waits; the client answers each (10 + 20 + 30). A client that only reads replies, never requests, leaves the server waiting forever",
      lesson: lesson('Calls in both directions'),
    });
    check(seen.length === 3 && seen.every((s) => s.clientPending === 1 && s.serverPending === 1) && client.pending === 0, {
      did: `during each callback, pending was ${show(seen)}; afterwards the client's pending is ${client.pending}`,
      expected: "during each callback, 1 call pending on each side (the client's sumOfSteps, the server's step); afterwards 0",
      lesson: lesson('Calls in both directions'),
    });
  });

  it('a callback that throws reaches the server as RemoteError, and the handler gets the connection, method and id', async () => {
    let fromClient: unknown;
    const { address } = await startServer({
      ask: async (_p, ctx) => {
        try {
          await ctx.connection.call('refuse');
        } catch (err) {
          fromClient = err;
        }
        return 'asked';
      },
    });
    let context: { method?: string; id?: unknown; same?: boolean } = {};
    let client!: RpcConnection;
    client = await connectTo(address, {
      methods: {
        refuse: (_p, ctx) => {
          context = { method: ctx.method, id: ctx.id, same: ctx.connection === client };
          throw new MethodError(-32050, 'not now', { retry: true });
        },
      },
    });
    const r = await settle(client.call('ask'), "call('ask')");
    check(r.value === 'asked' && isError(fromClient, RemoteError, 'ERR_RPC_REMOTE', { method: 'refuse', remoteCode: -32050, remoteMessage: 'not now', data: { retry: true } }), {
      did: `the client's 'refuse' threw MethodError(-32050, 'not now', { retry: true }); on the server, the callback ${fromClient ? `rejected with ${errorText(fromClient)}` : 'did not reject'}; call('ask') ${outcome(r)}`,
      expected: 'RemoteError (remoteCode -32050, remoteMessage "not now", data { retry: true }) on the server, exactly as in the other direction',
      lesson: lesson('Calls in both directions'),
    });
    check(context.method === 'refuse' && context.same === true && (typeof context.id === 'number' || typeof context.id === 'string'), {
      did: `the client's handler got context ${show(context)}`,
      expected: "{ method: 'refuse', id: <the server's id for the callback>, connection: the client's own RpcConnection }",
      lesson: lesson('Calls in both directions'),
    });
  });

  it("a callback server on port 0 (as Py4J's Python side runs one) reports its real port, and the far side calls back through it", async () => {
    // The Python side: a callback server on any free port, offering 'notify'.
    const notes: unknown[] = [];
    const { address: callbackAt } = await startServer({ notify: (p) => (notes.push(p), 'noted') });
    // The Java side: a gateway that, when told the callback port, connects back and calls 'notify'.
    const { address: gatewayAt } = await startServer({
      register: async (p) => {
        const back = await connectTo({ host: LOOPBACK, port: (p as { port: number }).port });
        const answer = await back.call('notify', ['hello from the gateway']);
        await back.close();
        return answer;
      },
    });
    const python = await connectTo(gatewayAt);
    const r = await settle(python.call('register', { port: callbackAt.port }), "call('register', { port }) with the callback server's reported port");
    check(callbackAt.host === LOOPBACK && r.value === 'noted' && show(notes) === '[["hello from the gateway"]]', {
      did: `the callback server reported ${show(callbackAt)}; register ${outcome(r)}; the callback server received ${show(notes)}`,
      expected: `{ host: '${LOOPBACK}', port: <the real port> }, and the gateway reaches it there: listen on port 0 and report server.address().port, never the 0 you asked for`,
      lesson: lesson('Ports for callback servers'),
    });
  });
});

describe('Listening and ports', () => {
  it('listens on port 0 twice side by side, on loopback by default, and on ::1 when asked', async () => {
    const a = await startServer({ who: () => 'a' });
    const b = await startServer({ who: () => 'b' });
    check(a.address.port !== b.address.port && a.address.host === LOOPBACK && b.address.host === LOOPBACK, {
      did: `two servers on port 0 reported ${show(a.address)} and ${show(b.address)}`,
      expected: `two different real ports, host '${LOOPBACK}' (the default: loopback, out of reach of other machines)`,
      lesson: lesson('Ports for callback servers'),
    });
    const six = await startServer({ who: () => 'six' }, {}, { host: LOOPBACK6 });
    const c = await connectTo({ host: LOOPBACK6, port: six.address.port });
    const r = await settle(c.call('who'), "call('who') over ::1");
    check(six.address.host === LOOPBACK6 && r.value === 'six', {
      did: `listen({ host: '::1' }) reported ${show(six.address)}; a call over it ${outcome(r)}`,
      expected: "{ host: '::1', port: <real port> }, and calls work over IPv6 as over IPv4",
      lesson: lesson('Ports for callback servers'),
    });
  });

  it('a port with a live listener rejects with ListenError EADDRINUSE, although Node sets SO_REUSEADDR', async () => {
    const taken = await listen(track(net.createServer(), 'a listener of the test'));
    const server = new RpcServer({});
    closeAfterTest(server);
    const r = await settle(server.listen({ port: taken }), `listen({ port: ${taken} }) on a port with a live listener`);
    const where = `${LOOPBACK}:${taken}`;
    const cause = (r.error as { cause?: { code?: string } } | undefined)?.cause;
    check(isError(r.error, ListenError, 'EADDRINUSE', { where }) && cause?.code === 'EADDRINUSE', {
      did: `port ${taken} has a live listener; listen() on it ${outcome(r)}`,
      expected: `ListenError with code 'EADDRINUSE', where "${where}", and Node's error as cause: SO_REUSEADDR lets a new listener take a port whose old connections linger in TIME_WAIT, never one that is listening`,
      lesson: lesson('Ports for callback servers'),
    });
    // Two of yours: the second on the first one's port.
    const first = await startServer({});
    const second = new RpcServer({});
    closeAfterTest(second);
    const r2 = await settle(second.listen({ port: first.address.port }), 'a second RpcServer on the port of the first');
    check(isError(r2.error, ListenError, 'EADDRINUSE', { where: `${LOOPBACK}:${first.address.port}` }), {
      did: `the second server ${outcome(r2)}`,
      expected: "ListenError 'EADDRINUSE'",
      lesson: lesson('Ports for callback servers'),
    });
  });

  it('rebinds a port whose last connection is in TIME_WAIT (Node sets SO_REUSEADDR on listeners)', async () => {
    const first = await startServer({ hi: () => 'first' });
    const port = first.address.port;
    const c = await rawClient(first.address);
    await c.ask({ jsonrpc: '2.0', id: 1, method: 'hi' });
    // The server hangs up first and the client answers with its own FIN: the server's end of the
    // connection (on `port`) now waits out TIME_WAIT.
    const stopped = await settle(first.server.close(), 'close() of the first server');
    const hungUp = await settle(closed(c.socket), 'your server hanging up on the test client');
    const again = new RpcServer({ hi: () => 'second' });
    closeAfterTest(again);
    const r = await settle(again.listen({ port }), `listen({ port: ${port} }) right after the first server closed`);
    const c2 = r.value ? await connectTo({ host: LOOPBACK, port }) : undefined;
    const hi = c2 ? await settle(c2.call('hi'), "call('hi') on the new server") : undefined;
    check(stopped.settled && hungUp.settled && r.value?.port === port && hi?.value === 'second', {
      did: `the first server ${stopped.settled ? 'closed' : 'did not finish closing'} and ${hungUp.settled ? 'hung up on' : 'kept'} its client; a new server on port ${port} ${outcome(r)}${hi ? `; a call to it ${outcome(hi)}` : ''}`,
      expected: `the new server listens on port ${port} and answers: close() closed the listener and its connections, and SO_REUSEADDR (which Node sets) lets the port be bound while the old connection waits out TIME_WAIT`,
      lesson: lesson('Ports for callback servers'),
      transcript: c.transcript,
    });
  });

  it('passes exclusive on to server.listen, and listens with it on every Node', async () => {
    const seen: unknown[] = [];
    const original = net.Server.prototype.listen;
    net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
      seen.push(args[0]);
      return (original as (...a: unknown[]) => net.Server).apply(this, args);
    } as typeof original;
    let started: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      started = await startServer({ who: () => 'exclusive' }, {}, { exclusive: true });
    } finally {
      net.Server.prototype.listen = original;
    }
    const c = await connectTo(started.address);
    const r = await settle(c.call('who'), "call('who')");
    const passed = seen.some((o) => typeof o === 'object' && o !== null && (o as { exclusive?: unknown }).exclusive === true);
    check(passed && r.value === 'exclusive', {
      did: `listen({ exclusive: true }) called server.listen with ${show(seen)}; a call to the server ${outcome(r)}`,
      expected: 'server.listen({ host, port, exclusive: true, ... }): pass the option on (it matters only in a cluster), and the server works as usual',
      lesson: lesson('Ports for callback servers'),
    });
  });

  it('with reusePort, two servers share one port (Node 22.12+ / 23.1+)', async (ctx) => {
    if (!(await reusePortWorks())) skipWithReason(ctx, `node:net ignores reusePort on Node ${process.versions.node} (${process.platform}); it needs Node >= 22.12 or >= 23.1 on Linux or a BSD`);
    const a = await startServer({ who: () => 'a' }, {}, { reusePort: true });
    const b = new RpcServer({ who: () => 'b' });
    closeAfterTest(b);
    const r = await settle(b.listen({ port: a.address.port, reusePort: true }), 'a second server with reusePort on the same port');
    check(r.value?.port === a.address.port, {
      did: `the second server with reusePort ${outcome(r)}`,
      expected: `it listens on port ${a.address.port} too: pass reusePort on to server.listen, and the kernel spreads new connections over both`,
      lesson: lesson('Ports for callback servers'),
    });
  });

  it('forgets a connection once it has closed', async () => {
    const { server, address } = await startServer({});
    const a = await connectTo(address);
    const b = await connectTo(address);
    const both = await eventually(() => server.connectionCount === 2);
    await a.close();
    const one = await eventually(() => server.connectionCount === 1);
    await b.close();
    const none = await eventually(() => server.connectionCount === 0);
    check(both && one && none, {
      did: `connectionCount went ${both ? 2 : server.connectionCount} with two clients, then ${one ? 1 : 'not 1'} after one closed, then ${none ? 0 : 'not 0'} after both`,
      expected: "2, then 1, then 0: remove a connection when its socket emits 'close', or the server keeps every dead connection forever",
      lesson: lesson('Shutting down cleanly'),
    });
  });
});

describe('Shutting down cleanly', () => {
  it('connection.close() rejects pending calls with ClosedError, closes the socket, leaves no timer; later calls fail at once', async () => {
    const clock = new FakeClock();
    const { link, connection } = await clientOf({ clock });
    const calls = [connection.call('a'), connection.call('b')];
    calls.forEach((c) => c.catch(() => {}));
    await link.inbox.count(2);
    const r = await settle(connection.close(), 'connection.close()');
    const results = await Promise.all(calls.map((c, i) => settle(c, `call ${'ab'[i]} after close()`)));
    const peerSaw = await settle(closed(link.socket), 'the peer seeing the connection close');
    check(r.settled && results.every((x, i) => isError(x.error, ClosedError, 'ERR_RPC_CLOSED', { method: 'ab'[i] })) && peerSaw.settled, {
      did: `close() ${outcome(r)}; the pending calls: ${results.map(outcome).join('; ')}; the peer ${peerSaw.settled ? 'saw the connection close' : 'still has it open'}`,
      expected: "close() resolves once the socket has closed; each pending call rejects with ClosedError, code 'ERR_RPC_CLOSED' (you hung up: not ConnectionLostError), with its method",
      lesson: lesson('Shutting down cleanly'),
      transcript: link.transcript,
    });
    const later = await settle(connection.call('c'), 'a call after close()');
    const twice = await settle(connection.close(), 'a second close()');
    check(connection.pending === 0 && clock.pendingCount() === 0 && isError(later.error, ClosedError, 'ERR_RPC_CLOSED', { method: 'c' }) && twice.settled && twice.error === undefined, {
      did: `after close(): pending ${connection.pending}, ${clock.pendingCount()} timer(s); a new call ${outcome(later)}; a second close() ${outcome(twice)}`,
      expected: 'pending 0, no timer; a new call rejects at once with ClosedError; a second close() resolves',
      lesson: lesson('Shutting down cleanly'),
    });
  });

  it('server.close() stops accepting, closes every connection, rejects its pending callbacks, and leaves nothing running', async () => {
    await recordingCrashes(async (crashes) => {
      const before = handles();
      const timers = watchYourTimers();
      const inCallback = gate();
      const handlerDone = gate<unknown>();
      const { server, address } = await startServer({
        // Calls the client back and waits; the client never answers, so the callback is pending when the server closes.
        hold: async (_p, ctx) => {
          const cb = ctx.connection.call('never-answered');
          inCallback.open();
          try {
            await cb;
          } catch (err) {
            handlerDone.open(err);
          }
          return 'too late';
        },
      });
      const client = await connectTo(address, { methods: { 'never-answered': () => new Promise(() => {}) } });
      const call = client.call('hold');
      call.catch(() => {});
      await within(inCallback.promise, LIMIT, "the server's callback starting");
      const r = await settle(server.close(), 'server.close() with a connection and a pending callback');
      const cbErr = await settle(handlerDone.promise, "the server's pending callback");
      const c = await settle(call, "the client's call, when the server closed");
      const refused = await settle(connect(address, { connectTimeoutMs: 500 }), 'connect() after server.close()');
      check(r.settled && r.error === undefined && isError(cbErr.value, ClosedError, 'ERR_RPC_CLOSED', { method: 'never-answered' }), {
        did: `server.close() ${outcome(r)}; the server's pending callback ${cbErr.value ? `rejected with ${errorText(cbErr.value)}` : 'never settled'}`,
        expected: "close() resolves; the server's own pending call (its callback to the client) rejects with ClosedError, code 'ERR_RPC_CLOSED'",
        lesson: lesson('Shutting down cleanly'),
      });
      check(isError(c.error, ConnectionLostError, 'ERR_RPC_CONNECTION_LOST', { method: 'hold' }) && isError(refused.error, ConnectError, 'ECONNREFUSED'), {
        did: `the client's call ${outcome(c)}; a new connect() ${outcome(refused)}`,
        expected: "the client's call rejects with ConnectionLostError (the server hung up), and the port refuses new connections (ConnectError 'ECONNREFUSED')",
        lesson: lesson('Shutting down cleanly'),
      });
      await client.close();
      const clean = await eventually(() => extraHandles(before).length === 0 && timers.pending().length === 0, 500);
      check(clean && crashes.length === 0 && server.connectionCount === 0, {
        did: `after server.close() and client.close(), this process still holds [${[...extraHandles(before), ...timers.pending()].join(', ')}]; crashes: ${crashes.map(errorText).join('; ') || 'none'}; connectionCount ${server.connectionCount}`,
        expected: 'nothing: no socket, no listener, no timer of yours (a process with nothing left exits by itself), no crash when the handler finishes after the close, connectionCount 0',
        lesson: lesson('Shutting down cleanly'),
      });
    });
  });

  it('server.close() is safe before listen() and when called twice', async () => {
    const never = new RpcServer({});
    const r = await settle(never.close(), 'close() before listen()');
    const { server } = await startServer({});
    const [x, y] = await Promise.all([settle(server.close(), 'close()'), settle(server.close(), 'a second close()')]);
    check(r.settled && !r.error && x.settled && !x.error && y.settled && !y.error, {
      did: `close() before listen() ${outcome(r)}; close() twice: ${outcome(x)}, ${outcome(y)}`,
      expected: 'each resolves: there is nothing (more) to close',
      lesson: lesson('Shutting down cleanly'),
    });
  });
});
