import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chapters } from '../../chapters/manifest.ts';
import { ImplSwitchError, chapterDir, resolveImpl } from '../../engine/impl.ts';
import { chunkings, cutInto, forEachChunking, pieces } from './chunker.ts';
import { fc, forAll, forAllSync } from './property.ts';
import { onCleanup, runCleanups, track } from './cleanup.ts';
import { FakeClock } from './clock.ts';
import { replayHint } from './replay.ts';
import type { ScriptWorld, Step } from './script.ts';
import { action, expectation, runScript } from './script.ts';
import { DeadlineError, until, within } from './deadline.ts';
import { explain } from './lesson.ts';
import { connect, listen } from './net.ts';
import { Transcript, hexdump, ncCommand, tapSocket } from './transcript.ts';

const bytes = (s: string) => new TextEncoder().encode(s);
const join = (cs: Uint8Array[]) => Buffer.concat(cs).toString();

describe('the chunker', () => {
  it('re-splits a stream three ways without changing its bytes', () => {
    const input = bytes('hello, chunked world');
    const ways = chunkings(input, 7);
    expect(ways.map((w) => w.label)).toEqual(['one byte at a time', expect.stringContaining('seed 7'), 'all in one chunk']);
    for (const w of ways) expect(join(w.chunks)).toBe('hello, chunked world');
    expect(ways[0]!.chunks).toHaveLength(input.length);
    expect(ways[2]!.chunks).toHaveLength(1);
  });

  it('gives the same random split for the same seed, and another for another seed', () => {
    const input = bytes('x'.repeat(200));
    const sizes = (seed: number) => chunkings(input, seed)[1]!.chunks.map((c) => c.length);
    expect(sizes(42)).toEqual(sizes(42));
    expect(sizes(42)).not.toEqual(sizes(43));
  });

  it('cuts at the given sizes and keeps the rest as one last piece', () => {
    expect(cutInto(bytes('abcdefgh'), [3, 1]).map((c) => Buffer.from(c).toString())).toEqual(['abc', 'd', 'efgh']);
    expect(cutInto(bytes('abc'), [5, 1]).map((c) => Buffer.from(c).toString())).toEqual(['abc']);
    expect(cutInto(bytes(''), [])).toHaveLength(1);
  });

  it('never changes the bytes, whatever the random cut', () => {
    const input = bytes('every byte must arrive once, in order');
    forAllSync(pieces(input), (chunks) => expect(join(chunks)).toBe('every byte must arrive once, in order'));
  });

  it('names the delivery pattern when a check fails', async () => {
    const err = await forEachChunking(bytes('a longer stream of bytes'), (_chunks, label) => {
      if (label === 'all in one chunk') throw new Error('boom');
    }).catch((e: Error) => e);
    expect(String((err as Error).message)).toMatch(/all in one chunk, 1 chunk\(s\)\]\nboom/);
  });

  it('shrinks a failing random cut to the fewest cuts that still fail, and prints the replay command', async () => {
    // Fails whenever the stream is cut right after byte 5: the smallest such cut is [5 bytes, the rest].
    const err = await forEachChunking(bytes('0123456789abcdef'), (chunks, label) => {
      if (!label.startsWith('in random') || chunks[0]!.length !== 5) return;
      throw new Error('cut after byte 5');
    }, { randomRuns: 400 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toContain('Fails for: 5 + 11 bytes');
    expect(message).toMatch(/WORKBOOK_SEED=\d+ WORKBOOK_FC_PATH=[\d:]+ npx vitest run tests\/helpers\/harness.test.ts -t "shrinks/);
  });
});

describe('property tests', () => {
  it('pass when the check holds for every case, and report the smallest failing case otherwise', async () => {
    await forAll(fc.integer({ min: 0, max: 1000 }), (n) => expect(n).toBeLessThanOrEqual(1000));
    const err = await forAll(fc.integer({ min: 0, max: 1000 }), (n) => {
      if (n >= 17) throw new Error(`too big: ${n}`);
    }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^too big: 17\n\nFails for: 17/);
  });

  it('replays one case exactly from WORKBOOK_FC_PATH', () => {
    const seen: number[] = [];
    let path = '';
    try {
      forAllSync(fc.integer({ min: 0, max: 1_000_000 }), (n) => {
        if (n > 10) throw new Error('big');
      });
    } catch (e) {
      path = /WORKBOOK_FC_PATH=([\d:]+)/.exec((e as Error).message)?.[1] ?? '';
    }
    expect(path).not.toBe('');
    process.env.WORKBOOK_FC_PATH = path;
    try {
      expect(() => forAllSync(fc.integer({ min: 0, max: 1_000_000 }), (n) => {
        seen.push(n);
        if (n > 10) throw new Error('big');
      })).toThrow(/Fails for: 11/);
    } finally {
      delete process.env.WORKBOOK_FC_PATH;
    }
    expect(seen[0]).toBe(11);
  });
});

describe('replay hints', () => {
  it('names this test file and an escaped -t pattern for the current test (with parens)', () => {
    expect(replayHint(12)).toBe(
      'seed 12: replay exactly with WORKBOOK_SEED=12 npx vitest run tests/helpers/harness.test.ts -t "names this test file and an escaped -t pattern for the current test \\(with parens\\)"',
    );
  });
});

describe('the fake clock', () => {
  it('fires due timers in time order and only when advanced', () => {
    const clock = new FakeClock(100);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@30'), 30);
    clock.setTimeout(() => fired.push('a@10'), 10);
    const c = clock.setTimeout(() => fired.push('cancelled'), 20);
    clock.clearTimeout(c);
    clock.advance(9);
    expect(fired).toEqual([]);
    clock.advance(25);
    expect(fired).toEqual(['a@10', 'b@30']);
    expect(clock.now()).toBe(134);
  });

  it('lets a timer scheduled by a timer fire within the same advance', () => {
    const clock = new FakeClock();
    const at: number[] = [];
    clock.setTimeout(() => {
      at.push(clock.now());
      clock.setTimeout(() => at.push(clock.now()), 5);
    }, 5);
    clock.advance(10);
    expect(at).toEqual([5, 10]);
  });

  it('stops runAll after a limit when a timer re-arms forever', () => {
    const clock = new FakeClock();
    const rearm = () => clock.setTimeout(rearm, 1);
    rearm();
    expect(clock.runAll(50)).toBe(50);
  });
});

describe('wire transcripts', () => {
  it('renders both directions as hex and ASCII with timing', () => {
    const t = new Transcript({ out: 'client', inn: 'server' });
    t.sent('GET /\r\n');
    t.received(Uint8Array.from([0, 1, 0x41]));
    t.note('server closed');
    const text = t.render();
    expect(text).toMatch(/client -> server, 7 bytes/);
    expect(text).toMatch(/47 45 54 20 2f 0d 0a .*\|GET \/\.\.\|/);
    expect(text).toMatch(/server -> client, 3 bytes[\s\S]*00 01 41 .*\|\.\.A\|/);
    expect(text).toMatch(/\*\* server closed/);
    expect(t.receivedBytes()).toEqual(Buffer.from([0, 1, 0x41]));
  });

  it('cuts long dumps and prints an nc command that reproduces the bytes', () => {
    expect(hexdump(new Uint8Array(300), '', 32)).toMatch(/268 more bytes/);
    expect(ncCommand("a'b\n", 8080)).toBe("printf 'a\\x27b\\x0a' | nc -N 127.0.0.1 8080");
  });

  it('formats a teaching message with what happened, what was expected and where to read', () => {
    const msg = explain({ did: 'returned 1 message', expected: '2 messages', lesson: 'chapters/x/lesson.md#y' });
    expect(msg).toBe('What happened: returned 1 message\nExpected:      2 messages\nRead:          chapters/x/lesson.md#y');
  });
});

describe('deadlines and cleanup', () => {
  it('turns a promise that never settles into a DeadlineError naming the operation', async () => {
    const err = await within(new Promise<never>(() => {}), 50, 'receive()', 'Is a send missing its notify?').catch((e: unknown) => e as DeadlineError);
    expect(err).toBeInstanceOf(DeadlineError);
    expect(err.code).toBe('ERR_DEADLINE');
    expect(err.message).toBe('receive() did not finish within 50 ms. Is a send missing its notify?');
    await expect(within(Promise.resolve(7), 50, 'x')).resolves.toBe(7);
  });

  it('polls a condition until it holds, or fails naming it', async () => {
    let n = 0;
    const timer = setInterval(() => n++, 2);
    await until(() => n >= 3, 1_000, 'three ticks');
    clearInterval(timer);
    const err = await until(() => false, 30, 'the impossible', 'It never happens.').catch((e: unknown) => e as DeadlineError);
    expect((err as DeadlineError).message).toBe('the impossible did not happen within 30 ms. It never happens.');
  });

  it('closes a tracked server even while a client is still connected', async () => {
    const server = net.createServer();
    const port = await listen(server);
    const client = await connect(port);
    await new Promise((r) => setTimeout(r, 20));
    expect(await runCleanups()).toEqual([]);
    expect(server.listening).toBe(false);
    expect(client.destroyed).toBe(true);
  });

  it('abandons and reports a close step that never finishes, instead of hanging', async () => {
    onCleanup('a learner close() that never resolves', () => new Promise(() => {}));
    track(setTimeout(() => {}, 60_000));
    const t0 = Date.now();
    const problems = await runCleanups();
    expect(problems).toEqual([expect.stringMatching(/a learner close\(\) that never resolves: closing .* took over 1500 ms/)]);
    expect(Date.now() - t0).toBeLessThan(3_000);
  });
});

describe('the WORKBOOK_IMPL switch', () => {
  const first = chapters[0]!.id;

  it('defaults to the learner tree and knows solutions', () => {
    expect(resolveImpl(undefined).root).toMatch(/[/\\]chapters$/);
    expect(chapterDir(resolveImpl('solutions'), first)).toMatch(new RegExp(`solutions[/\\\\]${first}$`));
  });

  it('accepts a student tree and a single chapter folder', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'impl-'));
    try {
      mkdirSync(path.join(tmp, 'student', first), { recursive: true });
      expect(() => resolveImpl(path.join(tmp, 'student'))).toThrow(/"type": "module"/);
      writeFileSync(path.join(tmp, 'student', 'package.json'), '{ "type": "module" }');
      const tree = resolveImpl(path.join(tmp, 'student'));
      expect(chapterDir(tree, first)).toBe(path.join(tmp, 'student', first));
      mkdirSync(path.join(tmp, first, 'variant'), { recursive: true });
      writeFileSync(path.join(tmp, 'package.json'), '{ "type": "module" }');
      const one = resolveImpl(path.join(tmp, first, 'variant'));
      expect(chapterDir(one, first)).toBe(path.join(tmp, first, 'variant'));
      expect(one.root).toMatch(/[/\\]solutions$/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('rejects a folder that does not exist or holds no chapters, with a typed error', () => {
    expect(() => resolveImpl('/no/such/dir')).toThrow(ImplSwitchError);
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'impl-'));
    try {
      const err = (() => {
        try {
          resolveImpl(tmp);
        } catch (e) {
          return e as ImplSwitchError;
        }
      })();
      expect(err?.code).toBe('ERR_WORKBOOK_IMPL');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('tapped sockets', () => {
  it('records bytes sent with end(chunk) as well as write()', async () => {
    const server = net.createServer((s) => s.resume());
    const port = await listen(server);
    const socket = await connect(port);
    const t = new Transcript();
    tapSocket(socket, t);
    socket.write('ab');
    socket.end('cd');
    const text = t.render();
    expect(text).toMatch(/test -> your code, 2 bytes[\s\S]*\|ab\|[\s\S]*test -> your code, 2 bytes[\s\S]*\|cd\|/);
    expect(text).toMatch(/half-closed \(end\)/);
  });
});

describe('scripts of actions and expectations', () => {
  class Counter implements ScriptWorld {
    n = 0;
    sent: string[] = [];
    unclaimed = () => this.sent;
    claimAll = () => void (this.sent = []);
    describe = () => `Your counter now: ${this.n}`;
  }
  const bump = action<Counter>('test: bump()', (w) => {
    w.n++;
    w.sent.push(`tick ${w.n}`);
  });
  const sends = (what: string) =>
    expectation<Counter>(`expect you to send ${what}`, (w) => {
      const got = w.sent.splice(0).join(', ');
      return got === what ? undefined : `you sent ${got || 'nothing'}`;
    });
  const run = (steps: Step<Counter>[]) => () => runScript(new Counter(), steps, { title: 't', preamble: 'p', lesson: 'L' });

  it('passes when every expectation holds and every send is claimed', () => {
    expect(run([bump, sends('tick 1'), bump, sends('tick 2')])).not.toThrow();
  });

  it('prints the script so far, the failed step, the reason and the state', () => {
    expect(run([bump, sends('tick 1'), bump, sends('tick 9').why('nine comes later')])).toThrow(
      'What happened: step 4: you sent tick 2.\nExpected:      you to send tick 9, because nine comes later.\nRead:          L\n' +
        'Script "t" (p), up to the step that failed:\n     1. test: bump()\n     2. expect you to send tick 1   ok\n     3. test: bump()\n' +
        '  x  4. expect you to send tick 9\n         you sent tick 2\nYour counter now: 2',
    );
  });

  it('fails on a send that no expectation claimed, before the next action', () => {
    expect(run([bump, bump])).toThrow(/step 2: you sent tick 1\.\nExpected: {6}you send nothing more, because nothing in the script so far calls for it\./);
  });
});
