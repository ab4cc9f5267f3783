/**
 * Chapter 10 · A protocol of our own.
 *
 * The line decoder and the parser on their own, then your ChatServer with real node:net clients on
 * loopback: hello and versions, rooms, errors as messages, order, 50 clients at once, a client that
 * stops reading, and a client that floods. Every wait on your code has a deadline, so a hang is a
 * failed test with a reason. Failures show the bytes on the wire.
 */
import net from 'node:net';
import { describe, it } from 'vitest';
import { ChatServer, MAX_BUFFERED_BYTES, MESSAGES_PER_TURN } from '@impl/10-protocol-design/exercise.ts';
import { LineDecoder, MAX_LINE_BYTES, ProtocolError, chooseVersion, parseMessage } from '@impl/10-protocol-design/protocol.ts';
import { check, eventually, fc, forAll, forEachChunking, listen, onCleanup, outcomeOf, thrown, track, within } from '../helpers/index.ts';
import type { Msg, TestClient } from './harness.ts';
import { LIMIT, TestClient as Client, byHand, crowd, greeted, joined, lesson, recordingUncaught, saidIn, show, startChat } from './harness.ts';
import { importOnly, runByHand } from './by-hand.ts';

const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** What a call to the decoder or parser threw, as the tests compare it: class, code, field. */
function failure(fn: () => unknown): { ok: boolean; code?: string; field?: string; text: string } {
  try {
    const v = fn();
    return { ok: false, text: `returned ${JSON.stringify(v)}` };
  } catch (err) {
    const e = err as ProtocolError;
    return { ok: err instanceof ProtocolError, code: e.code, field: e.field, text: `threw ${thrown(err)}${e.field ? ` (field ${JSON.stringify(e.field)})` : ''}` };
  }
}

describe('lines on the wire', () => {
  it('hands out each complete line once, however the bytes are split, and buffers only the unfinished rest', async () => {
    const text = 'Ada: hé ☃ 🎉\n{"type":"say"}\n\nBram: ünfinished';
    const bytes = utf8(text);
    const expected = ['Ada: hé ☃ 🎉', '{"type":"say"}', ''];
    await forEachChunking(bytes, (chunks) => {
      const d = new LineDecoder();
      const got: string[] = [];
      let pushed = 0;
      for (const chunk of chunks) {
        d.push(chunk);
        pushed += chunk.length;
        for (let line = d.next(); line !== null; line = d.next()) got.push(line);
        // What is left is everything after the last newline pushed so far.
        const lastNewline = bytes.subarray(0, pushed).lastIndexOf(0x0a);
        const rest = pushed - (lastNewline + 1);
        check(d.bufferedBytes === rest, {
          did: `after ${pushed} of ${bytes.length} bytes and next() until null, bufferedBytes is ${d.bufferedBytes}`,
          expected: `${rest}: the bytes after the last newline, no more (a line handed out is gone from the buffer)`,
          lesson: lesson('Messages on a line'),
        });
      }
      check(JSON.stringify(got) === JSON.stringify(expected), {
        did: `pushed ${JSON.stringify(text)} and called next() until null after each push; got lines ${JSON.stringify(got)}`,
        expected: `${JSON.stringify(expected)}: every complete line once, decoded as UTF-8 only when whole (a character may be cut between chunks), without its newline; the unfinished "Bram: ..." stays buffered`,
        lesson: lesson('Messages on a line'),
      });
    });
  });

  it('accepts a line of exactly MAX_LINE_BYTES bytes and refuses a longer one with TOO_LONG, before its newline arrives', () => {
    const d = new LineDecoder();
    d.push(utf8(`${'a'.repeat(MAX_LINE_BYTES)}\n`));
    const exact = outcomeOf(() => d.next()?.length);
    check(exact === `returned ${MAX_LINE_BYTES}`, {
      did: `a line of exactly ${MAX_LINE_BYTES} bytes: next() ${exact}`,
      expected: `the line (${MAX_LINE_BYTES} characters): the limit counts the bytes before the newline, and a line at the limit is fine`,
      lesson: lesson('Messages on a line'),
    });
    // No newline yet: the decoder must not wait for one to know the line is too long.
    const early = new LineDecoder();
    early.push(utf8('a'.repeat(MAX_LINE_BYTES)));
    const atLimit = failure(() => early.next());
    early.push(utf8('a'));
    const over = failure(() => early.next());
    const held = early.bufferedBytes;
    const again = failure(() => early.next());
    check(atLimit.text === 'returned null' && over.ok && over.code === 'TOO_LONG' && again.ok && again.code === 'TOO_LONG' && held === 0, {
      did: `pushed ${MAX_LINE_BYTES} bytes without a newline: next() ${atLimit.text}; one byte more: next() ${over.text}, and bufferedBytes was then ${held}; once more: ${again.text}`,
      expected: 'null while the unfinished line is within the limit; a ProtocolError with code TOO_LONG as soon as it holds one byte more, without waiting for the newline (a client need never send one), dropping what it held (bufferedBytes 0); and TOO_LONG again after that',
      lesson: lesson('Messages on a line'),
    });
    // Bytes, not characters: 'é' is two bytes in UTF-8.
    const wide = new LineDecoder();
    wide.push(utf8(`${'é'.repeat(MAX_LINE_BYTES / 2 + 1)}\n`));
    const w = failure(() => wide.next());
    check(w.ok && w.code === 'TOO_LONG', {
      did: `a line of ${MAX_LINE_BYTES / 2 + 1} 'é' (${MAX_LINE_BYTES + 2} bytes): next() ${w.text}`,
      expected: 'TOO_LONG: the limit is in bytes, and string.length counts UTF-16 units, not bytes',
      lesson: lesson('Messages on a line'),
    });
    const small = new LineDecoder(10);
    small.push(utf8('0123456789\n0123456789x'));
    const first = failure(() => small.next());
    const second = failure(() => small.next());
    check(first.text === 'returned "0123456789"' && second.code === 'TOO_LONG', {
      did: `new LineDecoder(10) given "0123456789\\n0123456789x": next() ${first.text}, then ${second.text}`,
      expected: 'the 10-byte line, then TOO_LONG for the 11 bytes that follow: the constructor sets the limit',
      lesson: lesson('Messages on a line'),
    });
  });

  it('keeps its own copy of the bytes: a view at an offset, a buffer the caller reuses at once', () => {
    const big = utf8('XXXXAda: 0x80-0xff ok');
    const d = new LineDecoder();
    d.push(big.subarray(4, 12));
    big.fill(0x21);
    d.push(utf8(' 0x80-0xff ok\n'));
    const line = outcomeOf(() => d.next(), (v) => JSON.stringify(v));
    check(line === 'returned "Ada: 0x8 0x80-0xff ok"', {
      did: `pushed a view of bytes 4..12 of a buffer, overwrote the buffer with "!", pushed the rest; next() ${line}`,
      expected: '"Ada: 0x8 0x80-0xff ok": push() copies the view it is given (from its byteOffset, its length), because the caller may reuse its buffer',
      lesson: lesson('Messages on a line'),
    });
  });
});

describe('parsing a message', () => {
  it('returns each message with exactly its fields and drops any other, a client-sent from above all', () => {
    const cases: [string, unknown][] = [
      ['{"type":"hello","versions":[2,1],"name":"ada","client":"x"}', { type: 'hello', versions: [2, 1], name: 'ada' }],
      ['{"type":"join","room":"lobby","extra":1}', { type: 'join', room: 'lobby' }],
      ['{"room":"lobby","type":"say","text":"hi ☃","from":"bram"}', { type: 'say', room: 'lobby', text: 'hi ☃' }],
      ['{"type":"say","room":"a-b_C9","text":""}', { type: 'say', room: 'a-b_C9', text: '' }],
      [' {"type":"leave","room":"lobby"}\r', { type: 'leave', room: 'lobby' }],
    ];
    for (const [line, want] of cases) {
      const got = outcomeOf(() => parseMessage(line), (v) => JSON.stringify(v));
      check(got === `returned ${JSON.stringify(want)}`, {
        did: `parseMessage(${JSON.stringify(line)}) ${got}`,
        expected: `${JSON.stringify(want)}: the fields of its type, in this order, and nothing the client added (a from, above all)`,
        lesson: lesson('Parsing a message'),
      });
    }
  });

  it('BAD_JSON for a line that is not JSON, or not a JSON object', () => {
    for (const line of ['not json', '{"type":"say"', '', '[1,2]', '42', 'null', '"hello"', 'true']) {
      const r = failure(() => parseMessage(line));
      check(r.ok && r.code === 'BAD_JSON', {
        did: `parseMessage(${JSON.stringify(line)}) ${r.text}`,
        expected: 'a ProtocolError with code BAD_JSON: JSON.parse fails, or gives something other than an object (an array, a number, null, a string)',
        lesson: lesson('Parsing a message'),
      });
    }
  });

  it('UNKNOWN_TYPE for a type it does not know; BAD_MESSAGE with field "type" when the type is missing or not a string', () => {
    for (const [line, code, field] of [
      ['{"type":"shout","room":"lobby"}', 'UNKNOWN_TYPE', undefined],
      ['{"type":"Hello","versions":[1],"name":"ada"}', 'UNKNOWN_TYPE', undefined],
      ['{"room":"lobby"}', 'BAD_MESSAGE', 'type'],
      ['{"type":7,"room":"lobby"}', 'BAD_MESSAGE', 'type'],
    ] as const) {
      const r = failure(() => parseMessage(line));
      check(r.ok && r.code === code && r.field === field, {
        did: `parseMessage(${JSON.stringify(line)}) ${r.text}`,
        expected: `a ProtocolError with code ${code}${field ? ` and field "${field}"` : ''}`,
        lesson: lesson('Parsing a message'),
      });
    }
  });

  it('BAD_MESSAGE names the field that is missing or has the wrong type', () => {
    const long = 'r'.repeat(33);
    const cases: [object, string][] = [
      [{ type: 'say', room: 'lobby', text: 42 }, 'text'],
      [{ type: 'say', room: 'lobby' }, 'text'],
      [{ type: 'say', text: 'hi' }, 'room'],
      [{ type: 'join', room: '' }, 'room'],
      [{ type: 'join', room: long }, 'room'],
      [{ type: 'join', room: 'no spaces' }, 'room'],
      [{ type: 'leave', room: ['lobby'] }, 'room'],
      [{ type: 'hello', versions: [1], name: 'a b' }, 'name'],
      [{ type: 'hello', versions: [1] }, 'name'],
      [{ type: 'hello', versions: [], name: 'ada' }, 'versions'],
      [{ type: 'hello', versions: ['1'], name: 'ada' }, 'versions'],
      [{ type: 'hello', versions: [1.5], name: 'ada' }, 'versions'],
      [{ type: 'hello', versions: [0], name: 'ada' }, 'versions'],
      [{ type: 'hello', versions: [1, '2'], name: 'ada' }, 'versions'],
      [{ type: 'hello', versions: 1, name: 'ada' }, 'versions'],
      [{ type: 'hello', name: 'ada' }, 'versions'],
    ];
    for (const [m, field] of cases) {
      const line = JSON.stringify(m);
      const r = failure(() => parseMessage(line));
      check(r.ok && r.code === 'BAD_MESSAGE' && r.field === field, {
        did: `parseMessage(${JSON.stringify(line)}) ${r.text}`,
        expected: `a ProtocolError with code BAD_MESSAGE and field "${field}"`,
        lesson: lesson('Parsing a message'),
      });
    }
    // The edges of the pattern are fine.
    const edge = outcomeOf(() => parseMessage(JSON.stringify({ type: 'join', room: 'r'.repeat(32) })), (v) => JSON.stringify(v));
    check(edge === `returned ${JSON.stringify({ type: 'join', room: 'r'.repeat(32) })}`, {
      did: `parseMessage of a join to a room of 32 characters ${edge}`,
      expected: 'the message: a name or room has 1 to 32 letters, digits, "_" or "-"',
      lesson: lesson('Parsing a message'),
    });
  });

  it('chooseVersion picks the highest version both sides speak, or null when there is none', () => {
    const cases: [number[], number[], number | null][] = [
      [[1], [1], 1],
      [[1, 2, 3], [1, 2], 2],
      [[3, 1], [1, 2, 3], 3],
      [[2, 7], [1, 2, 3], 2],
      [[1, 1], [1], 1],
      [[4, 5], [1, 2, 3], null],
      [[2], [1], null],
    ];
    for (const [offered, supported, want] of cases) {
      const got = outcomeOf(() => chooseVersion(offered, supported));
      check(got === `returned ${want}`, {
        did: `chooseVersion(${JSON.stringify(offered)}, ${JSON.stringify(supported)}) ${got}`,
        expected: `${want}: the highest version in both lists, whatever their order; null when they share none`,
        lesson: lesson('Hello and versions'),
      });
    }
  });
});

describe('hello and versions', () => {
  it('answers hello with welcome, the highest version both speak and the name (on ::1 too)', async () => {
    const { port } = await startChat({ versions: [1, 2, 3] });
    const c = await Client.connect(port, 'ada');
    c.send({ type: 'hello', versions: [7, 2, 3], name: 'ada' });
    const m = await c.nextMessage();
    check(m?.type === 'welcome' && m.version === 3 && m.name === 'ada', {
      did: `a server with versions [1,2,3] got hello with versions [7,2,3] and answered ${show(m)}`,
      expected: '{"type":"welcome","version":3,"name":"ada"}: the highest version in both lists',
      lesson: lesson('Hello and versions'),
      transcript: c.transcript,
    });
    const six = await startChat({ host: '::1' });
    check(six.host === '::1', {
      did: `start() with host '::1' reported host ${JSON.stringify(six.host)}`,
      expected: "'::1': listen on the host in the options (default LOOPBACK) and report server.address()",
      lesson: lesson('The exercise'),
    });
    const b = await Client.connect(six.port, 'bram', { host: '::1' });
    b.send({ type: 'hello', versions: [1, 2], name: 'bram' });
    const w = await b.nextMessage();
    check(w?.type === 'welcome' && w.version === 1 && w.name === 'bram', {
      did: `over ::1, a server with the default versions got hello with versions [1,2] and answered ${show(w)}`,
      expected: '{"type":"welcome","version":1,"name":"bram"}: the default versions are SUPPORTED_VERSIONS, [1]',
      lesson: lesson('Hello and versions'),
      transcript: b.transcript,
    });
  });

  it('refuses a client with no version in common: error UNSUPPORTED_VERSION, then the server ends the connection and reads nothing more', async () => {
    const { server, port } = await startChat({ versions: [1, 2] });
    const bram = await greeted(port, 'bram');
    await joined(bram, 'lobby');
    const c = await Client.connect(port, 'ada');
    const lines = [
      JSON.stringify({ type: 'hello', versions: [3, 4], name: 'ada' }),
      JSON.stringify({ type: 'hello', versions: [1], name: 'ada' }),
      JSON.stringify({ type: 'join', room: 'lobby' }),
      JSON.stringify({ type: 'say', room: 'lobby', text: 'sneaked in' }),
    ];
    c.sendRaw(lines.map((l) => `${l}\n`).join(''));
    const ended = await c.closedByServer();
    check(ended && c.messages.length === 1 && c.messages[0]!.type === 'error' && c.messages[0]!.code === 'UNSUPPORTED_VERSION', {
      did: `sent four lines at once (a hello with versions [3,4] to a server with [1,2], then a good hello, a join and a say); got ${JSON.stringify(c.messages)}${ended ? ', then the end of the stream' : ' and the connection stayed open'}`,
      expected: 'exactly one message, {"type":"error","code":"UNSUPPORTED_VERSION",...}, then the server ends the connection (end(), so the error is delivered first) and handles nothing that came after the refused hello',
      lesson: lesson('Errors are messages'),
      transcript: c.transcript,
      reproduce: byHand(...lines),
    });
    bram.send({ type: 'say', room: 'lobby', text: 'alone?' });
    await bram.waitFor((m) => m.type === 'said' && m.text === 'alone?');
    const leaked = bram.messages.filter((m) => m.name === 'ada' || m.from === 'ada');
    check(leaked.length === 0, {
      did: `bram, in lobby, got ${JSON.stringify(leaked)} from the refused client`,
      expected: 'nothing: after the refusal, the lines that followed it (a hello, a join, a say) are not handled at all',
      lesson: lesson('Errors are messages'),
      transcript: bram.transcript,
    });
    const gone = await within(
      (async () => {
        while (server.stats().clients.length > 1) await new Promise((r) => setTimeout(r, 2));
      })(),
      LIMIT,
      'the refused connection leaving stats()',
    ).then(
      () => true,
      () => false,
    );
    check(gone, {
      did: `after the refusal, stats().clients still lists ${JSON.stringify(server.stats().clients)}`,
      expected: 'bram alone: a connection leaves stats() once its socket has closed',
      lesson: lesson('The exercise'),
    });
  });

  it('wants hello first and only once: OUT_OF_ORDER, and the connection stays open', async () => {
    const { port } = await startChat();
    const c = await Client.connect(port, 'ada');
    c.send({ type: 'join', room: 'lobby' });
    c.send({ type: 'say', room: 'lobby', text: 'hi' });
    c.send({ type: 'hello', versions: [1], name: 'ada' });
    c.send({ type: 'hello', versions: [1], name: 'ada2' });
    c.send({ type: 'join', room: 'lobby' });
    const got: (Msg | undefined)[] = [];
    for (let i = 0; i < 5; i++) got.push(await c.nextMessage());
    const want = ['error OUT_OF_ORDER', 'error OUT_OF_ORDER', 'welcome ada', 'error OUT_OF_ORDER', 'joined ada'];
    const seen = got.map((m) => (m === undefined ? '(nothing)' : `${String(m.type)} ${String(m.code ?? m.name)}`));
    check(JSON.stringify(seen) === JSON.stringify(want), {
      did: `sent join, say, hello ada, hello ada2, join; got ${JSON.stringify(seen)}`,
      expected: `${JSON.stringify(want)}: before hello nothing else counts, and hello comes once; each gets an error and the connection stays open`,
      lesson: lesson('Errors are messages'),
      transcript: c.transcript,
    });
  });

  it('refuses a name in use with NAME_TAKEN, and the client may try another', async () => {
    const { port } = await startChat();
    await greeted(port, 'ada');
    const c = await Client.connect(port, 'imposter');
    c.send({ type: 'hello', versions: [1], name: 'ada' });
    c.send({ type: 'hello', versions: [1], name: 'eve' });
    const first = await c.nextMessage();
    const second = await c.nextMessage();
    check(first?.type === 'error' && first.code === 'NAME_TAKEN' && second?.type === 'welcome' && second.name === 'eve', {
      did: `while ada is connected, another client said hello as ada, then as eve; it got ${show(first)}, then ${show(second)}`,
      expected: '{"type":"error","code":"NAME_TAKEN",...}, then {"type":"welcome","version":1,"name":"eve"}: the connection stays open and may say hello again',
      lesson: lesson('Who said it'),
      transcript: c.transcript,
    });
  });
});

describe('rooms and broadcast', () => {
  it('join, say and leave reach every member of the room, in one order for all, numbered by seq', async () => {
    const { server, port } = await startChat();
    const [ada, bram, cleo] = [await greeted(port, 'ada'), await greeted(port, 'bram'), await greeted(port, 'cleo')];
    await joined(ada, 'lobby');
    await joined(bram, 'lobby');
    await joined(cleo, 'garden');
    const seenJoin = await ada.waitFor((m) => m.type === 'joined' && m.name === 'bram');
    check(seenJoin?.room === 'lobby', {
      did: `ada is in lobby when bram joins it; ada got ${show(seenJoin)}`,
      expected: '{"type":"joined","room":"lobby","name":"bram"}: a join is announced to every member, the joiner included',
      lesson: lesson('Rooms and broadcast'),
      transcript: ada.transcript,
    });
    const rooms = server.stats().clients.map((c) => `${c.name}:${c.rooms.join('+')}`);
    check(JSON.stringify(rooms) === JSON.stringify(['ada:lobby', 'bram:lobby', 'cleo:garden']), {
      did: `stats().clients gives ${JSON.stringify(server.stats().clients)}`,
      expected: 'ada, bram and cleo in the order they connected, with their rooms: lobby, lobby, garden',
      lesson: lesson('The exercise'),
    });
    ada.send({ type: 'say', room: 'lobby', text: 'hi all' });
    await ada.waitFor((m) => m.type === 'said');
    bram.send({ type: 'say', room: 'lobby', text: 'hi ada' });
    const want = [
      { type: 'said', room: 'lobby', from: 'ada', text: 'hi all', seq: 1 },
      { type: 'said', room: 'lobby', from: 'bram', text: 'hi ada', seq: 2 },
    ];
    for (const c of [ada, bram]) {
      await c.until(() => saidIn(c, 'lobby').length >= 2);
      const got = saidIn(c, 'lobby').map((m) => ({ type: m.type, room: m.room, from: m.from, text: m.text, seq: m.seq }));
      check(JSON.stringify(got) === JSON.stringify(want), {
        did: `ada, then bram said something in lobby; ${c.label} got ${JSON.stringify(saidIn(c, 'lobby'))}`,
        expected: `${JSON.stringify(want)}: every member gets every said, the sender too, numbered 1, 2, ... per room`,
        lesson: lesson('Rooms and broadcast'),
        transcript: c.transcript,
      });
    }
    bram.send({ type: 'leave', room: 'lobby' });
    const leftAda = await ada.waitFor((m) => m.type === 'left');
    const leftBram = await bram.waitFor((m) => m.type === 'left');
    check(leftAda?.room === 'lobby' && leftAda.name === 'bram' && leftBram?.room === 'lobby' && leftBram.name === 'bram', {
      did: `bram left lobby; ada got ${show(leftAda)}, bram got ${show(leftBram)}`,
      expected: '{"type":"left","room":"lobby","name":"bram"} for both: the room hears it, and so does the one who leaves',
      lesson: lesson('Rooms and broadcast'),
      transcript: bram.transcript,
    });
    // Bram is out: he gets nothing more from lobby. He joins garden, and cleo's said there is the next thing he gets.
    ada.send({ type: 'say', room: 'lobby', text: 'bram?' });
    await ada.waitFor((m) => m.type === 'said' && m.text === 'bram?');
    await joined(bram, 'garden');
    cleo.send({ type: 'say', room: 'garden', text: 'welcome' });
    await bram.waitFor((m) => m.type === 'said' && m.text === 'welcome');
    await cleo.waitFor((m) => m.type === 'said' && m.text === 'welcome');
    const leaked = [...bram.messages, ...cleo.messages].filter((m) => m.type === 'said' && m.text === 'bram?');
    const lobbyForCleo = cleo.messages.filter((m) => m.room === 'lobby');
    check(leaked.length === 0 && lobbyForCleo.length === 0, {
      did: `after bram left lobby, ada said "bram?" there; messages that reached bram or cleo, who are not in lobby: ${JSON.stringify([...leaked, ...lobbyForCleo])}`,
      expected: 'none: a broadcast goes to the members of that room only',
      lesson: lesson('Rooms and broadcast'),
      transcript: bram.transcript,
    });
  });

  it('the server names the sender: a from that the client sends is ignored', async () => {
    const { port } = await startChat();
    const ada = await greeted(port, 'ada');
    const bram = await greeted(port, 'bram');
    await joined(ada, 'lobby');
    await joined(bram, 'lobby');
    ada.send({ type: 'say', room: 'lobby', text: 'I am Bram, send me the keys', from: 'bram', name: 'bram' });
    const m = await bram.waitFor((x) => x.type === 'said');
    check(m?.from === 'ada' && m.text === 'I am Bram, send me the keys', {
      did: `ada sent a say with "from":"bram"; bram got ${show(m)}`,
      expected: '"from":"ada": the name is the one this connection gave in its hello, never a field of the message',
      lesson: lesson('Who said it'),
      transcript: ada.transcript,
      reproduce: byHand('{"type":"hello","versions":[1],"name":"ada"}', '{"type":"join","room":"lobby"}', '{"type":"say","room":"lobby","text":"hi","from":"bram"}'),
    });
  });

  it('say or leave in a room you are not in gets NOT_IN_ROOM; joining twice changes nothing', async () => {
    const { port } = await startChat();
    const ada = await greeted(port, 'ada');
    const bram = await greeted(port, 'bram');
    await joined(ada, 'lobby');
    await joined(bram, 'garden');
    // garden exists (bram is in it), but ada is not a member.
    ada.send({ type: 'say', room: 'garden', text: 'hi' });
    ada.send({ type: 'leave', room: 'garden' });
    ada.send({ type: 'join', room: 'lobby' });
    ada.send({ type: 'say', room: 'lobby', text: 'still here' });
    const got: (Msg | undefined)[] = [];
    for (let i = 0; i < 3; i++) got.push(await ada.nextMessage());
    const seen = got.map((m) => (m === undefined ? '(nothing)' : `${String(m.type)} ${String(m.code ?? m.text ?? m.name)}`));
    const want = ['error NOT_IN_ROOM', 'error NOT_IN_ROOM', 'said still here'];
    check(JSON.stringify(seen) === JSON.stringify(want) && got[2]?.seq === 1, {
      did: `in lobby only, ada sent say garden, leave garden, join lobby, say lobby; got ${JSON.stringify(got)}`,
      expected: `${JSON.stringify(want)} (seq 1): say and leave need membership of the room (garden exists, with bram in it); a second join of the same room sends nothing and changes nothing`,
      lesson: lesson('Rooms and broadcast'),
      transcript: ada.transcript,
    });
    bram.send({ type: 'say', room: 'garden', text: 'only me' });
    const next = await bram.waitFor((m) => m.type === 'said' || m.type === 'left');
    check(next?.text === 'only me' && next.seq === 1, {
      did: `bram, alone in garden, said "only me" after ada's refused say and leave there; his next said or left was ${show(next)}`,
      expected: 'his own said, seq 1: a refused say is not broadcast, numbered or counted, and a refused leave announces nothing',
      lesson: lesson('Rooms and broadcast'),
      transcript: bram.transcript,
    });
  });

  it('a client that disconnects leaves its rooms: the others get left, and its name is free again', async () => {
    const { server, port } = await startChat();
    const ada = await greeted(port, 'ada');
    const bram = await greeted(port, 'bram');
    const cleo = await greeted(port, 'cleo');
    for (const room of ['lobby', 'garden']) {
      await joined(ada, room);
      await joined(bram, room);
    }
    await joined(cleo, 'lobby');
    // cleo resets her connection (RST): your socket gets an ECONNRESET 'error', which must not crash the server.
    await recordingUncaught(async (uncaught) => {
      cleo.socket.resetAndDestroy();
      const gone = await ada.waitFor((m) => m.type === 'left' && m.name === 'cleo');
      check(uncaught.length === 0 && gone?.room === 'lobby', {
        did: `cleo reset her connection (RST); ada got ${show(gone)}${uncaught.length ? `; your server threw ${thrown(uncaught[0])}` : ''}`,
        expected: '{"type":"left","room":"lobby","name":"cleo"}, and no crash: listen for \'error\' on every accepted socket; \'close\' follows it',
        lesson: lesson('Rooms and broadcast'),
        transcript: ada.transcript,
      });
    });
    bram.socket.destroy();
    const lefts: (Msg | undefined)[] = [await ada.waitFor((m) => m.type === 'left'), await ada.waitFor((m) => m.type === 'left')];
    const rooms = lefts.map((m) => `${String(m?.room)}:${String(m?.name)}`).sort();
    check(JSON.stringify(rooms) === JSON.stringify(['garden:bram', 'lobby:bram']), {
      did: `bram, in lobby and garden, closed his connection; ada got ${JSON.stringify(lefts)}`,
      expected: '{"type":"left","room":"lobby","name":"bram"} and the same for garden: on the socket\'s "close", the server removes it from every room and tells the rest',
      lesson: lesson('Rooms and broadcast'),
      transcript: ada.transcript,
    });
    ada.send({ type: 'say', room: 'lobby', text: 'anyone?' });
    const echo = await ada.waitFor((m) => m.type === 'said');
    const again = await Client.connect(port, 'bram again');
    again.send({ type: 'hello', versions: [1], name: 'bram' });
    const w = await again.nextMessage();
    const listed = server.stats().clients.map((c) => c.name);
    check(echo?.text === 'anyone?' && w?.type === 'welcome' && JSON.stringify(listed) === JSON.stringify(['ada', 'bram']), {
      did: `after bram left, ada's say got back ${show(echo)}; a new hello as bram got ${show(w)}; stats() lists ${JSON.stringify(listed)}`,
      expected: 'the said, the welcome, and ["ada","bram"] (the new bram): a closed connection is gone from the rooms, the names and stats()',
      lesson: lesson('Rooms and broadcast'),
      transcript: again.transcript,
    });
  });

  it('an emptied room is gone: joined again, it counts seq from 1', async () => {
    const { port } = await startChat();
    const ada = await greeted(port, 'ada');
    await joined(ada, 'lobby');
    ada.send({ type: 'say', room: 'lobby', text: 'one' });
    ada.send({ type: 'say', room: 'lobby', text: 'two' });
    ada.send({ type: 'leave', room: 'lobby' });
    await ada.waitFor((m) => m.type === 'left');
    await joined(ada, 'lobby');
    ada.send({ type: 'say', room: 'lobby', text: 'three' });
    const m = await ada.waitFor((x) => x.type === 'said' && x.text === 'three');
    check(m?.seq === 1, {
      did: `ada said two things in lobby (seq 1, 2), left it empty, joined again and said "three"; got ${show(m)}`,
      expected: 'seq 1: a room exists while it has members, and a new room numbers its said messages from 1',
      lesson: lesson('Order'),
      transcript: ada.transcript,
    });
  });
});

describe('errors are messages', () => {
  it('bad JSON gets BAD_JSON, and the connection stays open', async () => {
    const { port } = await startChat();
    const ada = await greeted(port, 'ada');
    const lines = ['this is not json', '{"type":"join"', '[1,2,3]', '{"type":"join","room":"lobby"}'];
    await recordingUncaught(async (uncaught) => {
      ada.sendRaw(lines.map((l) => `${l}\n`).join(''));
      const got: (Msg | undefined)[] = [];
      for (let i = 0; i < 4; i++) got.push(await ada.nextMessage());
      const seen = got.map((m) => (m === undefined ? '(nothing)' : `${String(m.type)} ${String(m.code ?? m.name)}`));
      const want = ['error BAD_JSON', 'error BAD_JSON', 'error BAD_JSON', 'joined ada'];
      check(uncaught.length === 0 && JSON.stringify(seen) === JSON.stringify(want) && typeof got[0]?.message === 'string', {
        did: `sent ${JSON.stringify(lines)}; got ${JSON.stringify(got)}${uncaught.length ? `; your server threw ${thrown(uncaught[0])}` : ''}`,
        expected: `${JSON.stringify(want)}: each error a message {"type":"error","code":"BAD_JSON","message":"..."}; JSON.parse throws on bad input, so catch it, answer, and go on`,
        lesson: lesson('Errors are messages'),
        transcript: ada.transcript,
        reproduce: byHand('{"type":"hello","versions":[1],"name":"ada"}', 'this is not json'),
      });
    });
  });

  it('a wrong field type gets BAD_MESSAGE, an unknown type UNKNOWN_TYPE, and the connection stays open', async () => {
    const { port } = await startChat();
    const ada = await greeted(port, 'ada');
    await joined(ada, 'lobby');
    await recordingUncaught(async (uncaught) => {
      ada.send({ type: 'say', room: 'lobby', text: { evil: true } });
      ada.send({ type: 'say', room: 42, text: 'hi' });
      ada.send({ type: 'shout', room: 'lobby', text: 'HI' });
      ada.send({ type: 'say', room: 'lobby', text: 'ok' });
      const got: (Msg | undefined)[] = [];
      for (let i = 0; i < 4; i++) got.push(await ada.nextMessage());
      const seen = got.map((m) => (m === undefined ? '(nothing)' : `${String(m.type)} ${String(m.code ?? m.text)}`));
      const want = ['error BAD_MESSAGE', 'error BAD_MESSAGE', 'error UNKNOWN_TYPE', 'said ok'];
      check(uncaught.length === 0 && JSON.stringify(seen) === JSON.stringify(want), {
        did: `sent a say whose text is an object, one whose room is a number, a "shout", then a good say; got ${JSON.stringify(got)}${uncaught.length ? `; your server threw ${thrown(uncaught[0])}` : ''}`,
        expected: `${JSON.stringify(want)}: check each field's type before you use it; the connection survives both errors`,
        lesson: lesson('Errors are messages'),
        transcript: ada.transcript,
      });
    });
  });

  it('a line over MAX_LINE_BYTES gets TOO_LONG, then the server ends the connection, without waiting for a newline', async () => {
    const { port } = await startChat();
    const ada = await greeted(port, 'ada');
    const bram = await greeted(port, 'bram');
    await joined(ada, 'lobby');
    await joined(bram, 'lobby');
    ada.sendRaw(`${JSON.stringify({ type: 'say', room: 'lobby', text: 'before' })}\n${'x'.repeat(MAX_LINE_BYTES + 1)}`);
    const ended = await ada.closedByServer();
    const after = ada.messages.slice(ada.messages.findIndex((m) => m.type === 'said'));
    const seen = after.map((m) => `${String(m.type)} ${String(m.code ?? m.text)}`);
    check(ended && JSON.stringify(seen) === JSON.stringify(['said before', 'error TOO_LONG']), {
      did: `ada sent a say, then ${MAX_LINE_BYTES + 1} bytes with no newline; from the say on she got ${JSON.stringify(seen)}${ended ? ', then the end of the stream' : ', and the connection stayed open'}`,
      expected: '["said before","error TOO_LONG"], then the server ends the connection: the lines before are handled, and the server stops collecting a line as soon as it passes the limit (a newline may never come)',
      lesson: lesson('Errors are messages'),
      transcript: ada.transcript,
    });
    const left = await bram.waitFor((m) => m.type === 'left');
    bram.send({ type: 'say', room: 'lobby', text: 'still here' });
    const m = await bram.waitFor((x) => x.type === 'said' && x.text === 'still here');
    check(left?.name === 'ada' && m !== undefined, {
      did: `after ada was closed for TOO_LONG, bram got ${show(left)}, and his own say came back as ${show(m)}`,
      expected: 'a left for ada, and the server goes on serving bram',
      lesson: lesson('Errors are messages'),
      transcript: bram.transcript,
    });
  });

  it('never crashes: any line from a client gets exactly one answer, and the server goes on', async () => {
    const { port } = await startChat();
    const line = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.json({ maxDepth: 2 }),
      fc.record({ type: fc.constantFrom('hello', 'join', 'say', 'leave', 'shout'), room: fc.anything({ maxDepth: 1 }), text: fc.anything({ maxDepth: 1 }), versions: fc.anything({ maxDepth: 1 }) }).map((o) => JSON.stringify(o)),
    ).map((s) => s.replace(/[\n]/g, ' '));
    let n = 0;
    await recordingUncaught(async (uncaught) => {
      await forAll(
        fc.array(line, { minLength: 1, maxLength: 12 }),
        async (lines) => {
          const c = await Client.connect(port, `fuzz ${n++}`);
          c.sendRaw(lines.map((l) => `${l}\n`).join(''));
          // Every line gets one message: an error, or (for a hello that happens to be valid) a welcome.
          await c.until(() => c.messages.length >= lines.length, LIMIT);
          c.send({ type: 'hello', versions: [1], name: `zz${n}` });
          // ... and the hello after them gets one more: a welcome, or an error if a random line was a valid hello.
          await c.until(() => c.messages.length >= lines.length + 1, LIMIT);
          const answers = c.messages.slice(0, lines.length);
          const last = c.messages[lines.length];
          c.socket.destroy();
          const oneEach = answers.length === lines.length && answers.every((m) => m.type === 'error' || m.type === 'welcome');
          check(uncaught.length === 0 && oneEach && (last?.type === 'welcome' || last?.type === 'error'), {
            did: `sent ${lines.length} lines ${JSON.stringify(lines)}, then a hello; got ${JSON.stringify(c.messages)}${uncaught.length ? `; your server threw ${thrown(uncaught[0])}` : ''}`,
            expected: `${lines.length} answers, one per line (an error for each broken one), then one for the hello: the server never crashes and never goes quiet`,
            lesson: lesson('Errors are messages'),
            transcript: c.transcript,
          });
        },
        { numRuns: 15, noShrink: false },
      );
    });
  });
});

describe('order and many clients', () => {
  it("one sender's messages reach every member in the order sent, however the bytes are split", async () => {
    const { port } = await startChat();
    const ada = await greeted(port, 'ada');
    const bram = await greeted(port, 'bram');
    await joined(ada, 'lobby');
    await joined(bram, 'lobby');
    const COUNT = 60;
    const texts = Array.from({ length: COUNT }, (_, i) => `${i} ✓`);
    const bytes = utf8(texts.map((text) => `${JSON.stringify({ type: 'say', room: 'lobby', text })}\n`).join(''));
    let round = 0;
    await forEachChunking(bytes, async (chunks, label) => {
      const base = round++ * COUNT;
      ada.socket.setNoDelay(true);
      for (const chunk of chunks) ada.sendRaw(chunk);
      await bram.until(() => saidIn(bram, 'lobby').length >= base + COUNT);
      const got = saidIn(bram, 'lobby').slice(base);
      const wrong = got.findIndex((m, i) => m.text !== texts[i] || m.seq !== base + i + 1 || m.from !== 'ada');
      check(got.length === COUNT && wrong === -1, {
        did: `ada sent ${COUNT} says (${label}); bram got ${got.length}${wrong === -1 ? '' : `, and number ${wrong} (from 0) was ${JSON.stringify(got[wrong])}, among ${JSON.stringify(got.slice(Math.max(0, wrong - 2), wrong + 2).map((m) => m.text))}`}`,
        expected: `the ${COUNT} texts "0 ✓", "1 ✓", ... in the order sent, seq ${base + 1} to ${base + COUNT}: handle one client's lines strictly in order, the ones you held back first`,
        lesson: lesson('Order'),
        transcript: bram.transcript,
      });
    }, { randomRuns: 3 });
    // Now a batch too big for one turn, and a second batch sent as soon as the first said comes back,
    // while the server still holds most of the first: the held-back lines go first.
    const BATCH = 300;
    const base = round * COUNT;
    const batch = (from: number) => Array.from({ length: BATCH }, (_, i) => `${JSON.stringify({ type: 'say', room: 'lobby', text: `b${from + i}` })}\n`).join('');
    ada.sendRaw(batch(0));
    await ada.until(() => saidIn(ada, 'lobby').length > base);
    ada.sendRaw(batch(BATCH));
    await bram.until(() => saidIn(bram, 'lobby').length >= base + 2 * BATCH);
    const got = saidIn(bram, 'lobby').slice(base).map((m) => m.text);
    const firstWrong = got.findIndex((t, i) => t !== `b${i}`);
    check(got.length === 2 * BATCH && firstWrong === -1, {
      did: `ada wrote ${BATCH} says at once, and ${BATCH} more as soon as her first said came back; bram got ${got.length}${firstWrong === -1 ? '' : `, and number ${firstWrong} was ${JSON.stringify(got[firstWrong])}: ${JSON.stringify(got.slice(Math.max(0, firstWrong - 2), firstWrong + 3))}`}`,
      expected: `"b0" to "b${2 * BATCH - 1}" in order: the lines held back for a later turn come before any that arrive after them (pause() the socket while you hold lines back)`,
      lesson: lesson('Order'),
      transcript: bram.transcript,
    });
  });

  it('50 clients talk at once: every member gets every message, each sender in its order, all in one order', async () => {
    const { port } = await startChat();
    const N = 50;
    const EACH = 8;
    const clients = await crowd(port, 'c', N, 'lobby', { record: false });
    for (let k = 0; k < EACH; k++) for (const c of clients) c.send({ type: 'say', room: 'lobby', text: `${c.label}:${k}` });
    const total = N * EACH;
    await within(Promise.all(clients.map((c) => c.until(() => saidIn(c, 'lobby').length >= total, LIMIT * 2))), LIMIT * 2 + 500, 'all messages');
    const reference = saidIn(clients[0]!, 'lobby').map((m) => `${String(m.seq)} ${String(m.from)} ${String(m.text)}`);
    for (const c of clients) {
      const said = saidIn(c, 'lobby');
      const mine = said.map((m) => `${String(m.seq)} ${String(m.from)} ${String(m.text)}`);
      const seqOk = said.every((m, i) => m.seq === i + 1);
      const perSender = clients.every((s) => {
        const texts = said.filter((m) => m.from === s.label).map((m) => m.text);
        return texts.length === EACH && texts.every((t, k) => t === `${s.label}:${k}`);
      });
      const fromOk = said.every((m) => typeof m.text === 'string' && m.text.startsWith(`${String(m.from)}:`));
      check(said.length === total && seqOk && perSender && fromOk && JSON.stringify(mine) === JSON.stringify(reference), {
        did: `${N} clients each said ${EACH} things in lobby at once; ${c.label} got ${said.length} said messages, first ones ${JSON.stringify(said.slice(0, 4))}${
          JSON.stringify(mine) === JSON.stringify(reference) ? '' : `, in another order than c0: ${JSON.stringify(mine.slice(0, 4))} vs ${JSON.stringify(reference.slice(0, 4))}`
        }`,
        expected: `${total} said messages for every client, seq 1 to ${total}, each sender's texts in the order it sent them, with its own name, and the same order for all members`,
        lesson: lesson('Order'),
      });
    }
  });
});

describe('slow clients', () => {
  /** The slow client's line in stats(), or undefined once it is gone. */
  const slowIn = (server: ChatServer) => server.stats().clients.find((c) => c.name === 'slow');

  /** Fill the kernel's buffers on the way to a paused client, one big message at a time, until the server's own memory holds 20 KB for it. */
  async function fillKernel(server: ChatServer, filler: TestClient, sample: () => void): Promise<void> {
    const text = 'f'.repeat(15_000);
    for (let i = 1; i <= 2_000; i++) {
      filler.send({ type: 'say', room: 'cellar', text });
      const back = await filler.waitFor((m) => m.type === 'said' && m.from === 'filler');
      sample();
      const slow = slowIn(server);
      check(back !== undefined, {
        did: `filler's say number ${i} in cellar did not come back to filler within ${LIMIT} ms`,
        expected: 'every member gets the said, the sender too, while a paused client sits in the room',
        lesson: lesson('Slow clients'),
      });
      // 20 KB that stay in memory: the kernel's buffers are full (and 20 KB + one line is still under any bound used here).
      if (slow === undefined || slow.bufferedBytes > 20_000) return;
    }
    check(false, {
      did: `30 MB went to a paused client, and stats() still shows no more than 20 KB of bufferedBytes for it: ${JSON.stringify(slowIn(server))}`,
      expected: "bufferedBytes is the client's socket.writableLength: the bytes written that wait in the server's memory once the kernel's buffers are full",
      lesson: lesson('Slow clients'),
    });
  }

  it('drops a client that stops reading once more than maxBufferedBytes wait for it, while 50 others get every message', async () => {
    const BOUND = 64 * 1024;
    const { server, port } = await startChat({ maxBufferedBytes: BOUND });
    const others = await crowd(port, 'p', 50, 'lobby', { record: false });
    const filler = await greeted(port, 'filler', { record: false });
    await joined(filler, 'cellar');
    const slow = await greeted(port, 'slow', { record: false });
    await joined(slow, 'cellar');
    await joined(slow, 'lobby');
    slow.socket.pause();
    // Memory is sampled, not assumed: the most the server held for the slow client while it was listed.
    let peak = 0;
    const samples: number[] = [];
    const sample = () => {
      const s = slowIn(server);
      if (s) {
        peak = Math.max(peak, s.bufferedBytes);
        samples.push(s.bufferedBytes);
      }
    };
    await fillKernel(server, filler, sample);
    for (const o of others) o.socket.on('data', sample);
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        sample();
        await new Promise((r) => setImmediate(r));
      }
    })();
    // Now each of the 50 others says 4 things of 1 KB in lobby: 200 KB for the slow client, whose kernel buffers are full.
    const EACH = 4;
    const text = (o: TestClient, k: number) => `${o.label}:${k}:${'x'.repeat(1_000)}`;
    for (let k = 0; k < EACH; k++) for (const o of others) o.send({ type: 'say', room: 'lobby', text: text(o, k) });
    const total = others.length * EACH;
    const everyone = Promise.all(others.map((o) => o.until(() => saidIn(o, 'lobby').length >= total && o.messages.some((m) => m.type === 'left' && m.name === 'slow'), LIMIT * 2)));
    await within(everyone, LIMIT * 2 + 500, 'the others getting every message').catch(() => undefined);
    sampling = false;
    await sampler;
    const biggestLine = Math.max(...filler.messages.concat(others[0]!.messages).map((m) => Buffer.byteLength(JSON.stringify(m)) + 1));
    const stillThere = slowIn(server);
    check(stillThere === undefined && server.stats().dropped === 1, {
      did: `a client stopped reading; after 200 KB more for it, stats() still lists it (${JSON.stringify(stillThere)}), dropped ${server.stats().dropped}; the most the server held for it: ${peak} bytes`,
      expected: `dropped (destroyed, gone from stats(), dropped 1) as soon as more than maxBufferedBytes (${BOUND}) wait for it: check socket.writableLength after each write, or write() keeps queueing in memory without end`,
      lesson: lesson('Slow clients'),
    });
    check(peak <= BOUND + biggestLine, {
      did: `the server held up to ${peak} bytes for the slow client before dropping it (samples: ${samples.slice(-12).join(', ')}, ...)`,
      expected: `at most maxBufferedBytes (${BOUND}) plus one message (${biggestLine} bytes): drop the client at the first write that takes it past the bound`,
      lesson: lesson('Slow clients'),
    });
    for (const o of others) {
      const said = saidIn(o, 'lobby');
      const ok = said.length === total && said.every((m, i) => m.seq === i + 1);
      const left = o.messages.find((m) => m.type === 'left' && m.name === 'slow');
      check(ok && left?.room === 'lobby', {
        did: `${o.label} got ${said.length} of the ${total} said messages${said.every((m, i) => m.seq === i + 1) ? '' : ', with gaps in seq'}, and ${left ? 'a' : 'no'} left for the slow client`,
        expected: `all ${total}, seq 1 to ${total}, and {"type":"left","room":"lobby","name":"slow"}: one client that stops reading changes nothing for the others`,
        lesson: lesson('Slow clients'),
      });
    }
  });

  /** A paused client in the room 'cellar' with about 160 KB queued for it by the server: past any highWaterMark, below the bound. */
  async function clientBehind() {
    const { server, port } = await startChat();
    const filler = await greeted(port, 'filler', { record: false });
    await joined(filler, 'cellar');
    const slow = await greeted(port, 'slow', { record: false });
    await joined(slow, 'cellar');
    slow.socket.pause();
    await fillKernel(server, filler, () => {});
    // Then more, until well past any highWaterMark (16 or 64 KiB) but far below the bound.
    const text = 'g'.repeat(15_000);
    while ((slowIn(server)?.bufferedBytes ?? Infinity) < 160 * 1024) {
      filler.send({ type: 'say', room: 'cellar', text });
      if (!(await filler.waitFor((m) => m.type === 'said' && m.text === text))) break;
    }
    return { server, filler, slow };
  }

  it('keeps a client that is behind by less than the bound: it gets every message once it reads again', async () => {
    // The default bound, MAX_BUFFERED_BYTES (256 KiB).
    const BOUND = MAX_BUFFERED_BYTES;
    const { server, filler, slow } = await clientBehind();
    const behind = slowIn(server);
    check(behind !== undefined && server.stats().dropped === 0, {
      did: `a paused client with about 160 KB waiting for it (the default bound, ${BOUND}) was dropped: stats() ${behind === undefined ? 'no longer lists it' : `lists ${JSON.stringify(behind)}`}, dropped ${server.stats().dropped}`,
      expected: 'still connected: a client is dropped only past maxBufferedBytes, not when write() first returns false (that is only the highWaterMark)',
      lesson: lesson('Slow clients'),
    });
    const sent = saidIn(filler, 'cellar').length;
    slow.socket.resume();
    await slow.until(() => saidIn(slow, 'cellar').length >= sent, LIMIT);
    const got = saidIn(slow, 'cellar');
    check(got.length === sent && got.every((m, i) => m.seq === i + 1), {
      did: `once it read again, the client that was behind got ${got.length} of ${sent} said messages`,
      expected: `all ${sent}, seq 1 to ${sent}: below the bound, nothing is lost`,
      lesson: lesson('Slow clients'),
    });
  });

  it('a refused client that is behind still gets everything queued, then the error, then the end: end(), not destroy()', async () => {
    const { server, filler, slow } = await clientBehind();
    const sent = saidIn(filler, 'cellar').length;
    // Refused while the server still holds ~160 KB for it: a line over the limit, no newline needed.
    const before = slowIn(server)?.bufferedBytes ?? 0;
    slow.sendRaw('x'.repeat(MAX_LINE_BYTES + 1));
    // Refused once its error is queued behind the rest (bufferedBytes grows), or once it is gone (destroyed).
    await eventually(() => (slowIn(server)?.bufferedBytes ?? Infinity) > before, LIMIT);
    slow.socket.resume();
    await slow.until(() => slow.ended, LIMIT);
    const got = saidIn(slow, 'cellar');
    const last = slow.messages[slow.messages.length - 1];
    check(slow.ended && got.length === sent && last?.type === 'error' && last.code === 'TOO_LONG', {
      did: `the client, ${sent} said messages behind, sent a line over the limit and read again: it got ${got.length} of them, then ${show(last)}, and the connection ${slow.ended ? 'ended' : 'stayed open'}`,
      expected: `all ${sent} said messages, then error TOO_LONG, then the end of the stream: end() sends what is queued and then the FIN, where destroy() throws the queue (and the error) away`,
      lesson: lesson('Errors are messages'),
    });
  });
});

describe('fairness', () => {
  it("a client that floods delays another client's message by at most messagesPerTurn of its own", async () => {
    for (const perTurn of [undefined, 4]) {
      const bound = perTurn ?? MESSAGES_PER_TURN;
      const { port } = await startChat(perTurn === undefined ? {} : { messagesPerTurn: perTurn });
      const [flood, other, watcher] = await crowd(port, 'f', 3, 'lobby', { record: false });
      const COUNT = 3_000;
      const lines = Array.from({ length: COUNT }, (_, i) => `${JSON.stringify({ type: 'say', room: 'lobby', text: `flood ${i}` })}\n`).join('');
      // Both writes reach the kernel before the server's next turn: the flood's backlog and the other's line wait side by side.
      flood!.sendRaw(lines);
      other!.send({ type: 'say', room: 'lobby', text: 'me too' });
      await watcher!.until(() => saidIn(watcher!, 'lobby').length >= COUNT + 1, LIMIT * 2);
      const said = saidIn(watcher!, 'lobby');
      const at = said.findIndex((m) => m.text === 'me too');
      const floodFirst = said.slice(0, at).filter((m) => m.from === flood!.label).length;
      check(at !== -1 && floodFirst <= bound, {
        did: `${flood!.label} wrote ${COUNT} says at once and ${other!.label} one say right after; the watcher saw ${at === -1 ? `no "me too" among ${said.length} said messages` : `${floodFirst} of the flood before "me too"`} (messagesPerTurn ${perTurn ?? 'default'})`,
        expected: `at most ${bound}: handle at most messagesPerTurn lines of one client, then pause it and continue with setImmediate, so the other clients' reads of this turn come first`,
        lesson: lesson('Fairness'),
      });
      const floodTexts = said.filter((m) => m.from === flood!.label).map((m) => m.text);
      check(floodTexts.length === COUNT && floodTexts.every((t, i) => t === `flood ${i}`), {
        did: `of the flood, the watcher got ${floodTexts.length} of ${COUNT} messages${floodTexts.every((t, i) => t === `flood ${i}`) ? '' : ', not in the order sent'}`,
        expected: 'every one, in order: taking turns delays a flood, it loses and reorders nothing',
        lesson: lesson('Fairness'),
      });
    }
  });
});

describe("the server's life", () => {
  it('listens on the port it is given; a port in use makes start() reject with EADDRINUSE', async () => {
    const probe = net.createServer();
    const port = await listen(probe);
    await new Promise<void>((r) => probe.close(() => r()));
    const first = await startChat({ port });
    const second = new ChatServer({ port });
    onCleanup('second ChatServer', () => second.close().catch(() => undefined));
    const r = await within(second.start(), LIMIT, 'start() on a port in use').then(
      (v) => `resolved with ${JSON.stringify(v)}`,
      (e: unknown) => ((e as { code?: unknown }).code === 'EADDRINUSE' ? 'EADDRINUSE' : `rejected with ${thrown(e)}`),
    );
    check(first.port === port && r === 'EADDRINUSE', {
      did: `start() with { port: ${port} } reported port ${first.port}; a second server on the same port: start() ${r}`,
      expected: `port ${port}, then a rejection with Node's error, code EADDRINUSE (listen reports it as an 'error' event before 'listening')`,
      lesson: lesson('The exercise'),
    });
  });

  it('runs by hand: npx tsx exercise.ts <port> serves there, and Ctrl-C closes it and exits; importing it starts nothing', async () => {
    const probe = net.createServer();
    const port = await listen(probe);
    await new Promise<void>((r) => probe.close(() => r()));
    const run = await runByHand(port);
    check(run.ok, { ...run.explanation, lesson: lesson('The exercise') });
    const imported = await importOnly();
    check(imported.ok, { ...imported.explanation, lesson: lesson('The exercise') });
  });

  it('close() closes every connection and the listening socket, and leaves nothing open', async () => {
    const early = new ChatServer();
    const before = await within(early.close().then(() => 'resolved'), LIMIT, 'close() before start()').catch((e: unknown) => `failed: ${thrown(e)}`);
    const { server, port } = await startChat();
    const ada = await greeted(port, 'ada');
    const bram = await greeted(port, 'bram');
    await joined(ada, 'lobby');
    const idle = await Client.connect(port, 'idle');
    const first = await within(server.close().then(() => 'resolved'), LIMIT, 'close()').catch((e: unknown) => `failed: ${thrown(e)}`);
    const ended = await Promise.all([ada, bram, idle].map((c) => c.closedByServer(LIMIT)));
    const second = await within(server.close().then(() => 'resolved'), LIMIT, 'a second close()').catch((e: unknown) => `failed: ${thrown(e)}`);
    const probe = track(net.connect({ host: '127.0.0.1', port }), 'probe');
    const refused = await within(
      new Promise<string>((resolve) => {
        probe.once('connect', () => resolve('connected'));
        probe.once('error', (e: NodeJS.ErrnoException) => resolve(String(e.code)));
      }),
      LIMIT,
      'a probe connection',
    ).catch(() => 'no answer');
    check(before === 'resolved' && first === 'resolved' && second === 'resolved' && ended.every(Boolean) && refused === 'ECONNREFUSED' && server.stats().clients.length === 0, {
      did: `close() before start ${before}; close() ${first}; clients closed: ${JSON.stringify(ended)}; a second close() ${second}; a new connection: ${refused}; stats() lists ${server.stats().clients.length} clients`,
      expected: 'every close() resolves; it closes every connection (greeted or not) and the listening socket (ECONNREFUSED afterwards), and stats() is empty',
      lesson: lesson('The exercise'),
    });
  });
});
