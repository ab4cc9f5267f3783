/**
 * The chapter 13 fuzzer as tooling: its inputs are the same for a seed on every run and machine,
 * they cover the corpus and the mutations, the reply checker tells well-formed HTTP/1.1 replies from
 * broken ones, and a small seeded slice of the full run (`npm run fuzz -- 13`) passes against the
 * reference server (solutions/13-http), run in this process over real sockets.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HttpServer } from '../../solutions/13-http/server.ts';
import { recordingCrashes } from '../helpers/index.ts';
import { corpusNames, fuzzInput, fuzzInputs, mutationNames, writesOf } from './generator.ts';
import { checkResponses, fuzzHandler, replyBody } from './responses.ts';
import { deadlineFor, FAILING, FUZZ_SERVER_OPTIONS, inProcessHost, runFuzz } from './runner.ts';

const SEED = 1;
const SLICE = 400;
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const fingerprint = (seed: number, count: number) => {
  const h = createHash('sha256');
  for (const input of fuzzInputs(seed, count)) h.update(JSON.stringify({ ...input, bytes: Buffer.from(input.bytes).toString('hex') }));
  return h.digest('hex').slice(0, 16);
};

describe('the fuzz inputs', () => {
  it('are a pure function of seed and index: the same input whatever ran before it', () => {
    const a = fuzzInput(7, 1234);
    const b = [...fuzzInputs(7, 5, 1232)][2]!;
    const same = (x: typeof a, y: typeof a) => JSON.stringify({ ...x, bytes: Buffer.from(x.bytes).toString('hex') }) === JSON.stringify({ ...y, bytes: Buffer.from(y.bytes).toString('hex') });
    expect(same(b, a)).toBe(true);
    expect(same(fuzzInput(7, 1234), a)).toBe(true);
    expect(fingerprint(SEED, 200)).toBe(fingerprint(SEED, 200));
    expect(fingerprint(SEED, 200)).not.toBe(fingerprint(SEED + 1, 200));
    expect(Buffer.from(fuzzInput(7, 1235).bytes).equals(a.bytes)).toBe(false);
  });

  it('are pinned for seed 1, so a recorded run can be replayed exactly (a change to the generator changes this)', () => {
    expect(fingerprint(SEED, 100)).toBe('f2e3729baa0dff59');
  });

  it('cover every corpus request and every mutation, both endings, and split bytes into writes that add up', () => {
    const bases = new Set<string>();
    const mutations = new Set<string>();
    let unmutated = 0;
    let held = 0;
    let split = 0;
    const badWrites: number[] = [];
    for (const input of fuzzInputs(SEED, 3000)) {
      for (const name of corpusNames) if (input.base.includes(name)) bases.add(name);
      for (const m of input.mutations) mutations.add(m.replace(/[@(].*$/, ''));
      if (input.mutations.length === 0) unmutated++;
      if (input.ending === 'hold') held++;
      if (input.writes.length > 1) split++;
      const whole = input.writes.reduce((s, n) => s + n, 0) === input.bytes.length && input.writes.every((n) => n > 0);
      if (!whole || !Buffer.concat(writesOf(input)).equals(input.bytes)) badWrites.push(input.index);
    }
    expect(badWrites, 'inputs whose writes do not add up to their bytes').toEqual([]);
    expect([...bases].sort()).toEqual([...corpusNames].sort());
    expect([...mutations].sort()).toEqual([...mutationNames].sort());
    expect(unmutated).toBeGreaterThan(50);
    expect(held).toBeGreaterThan(200);
    expect(split).toBeGreaterThan(1000);
  });

  it('start from valid requests: an unmutated input is whole HTTP/1.x requests with a Host where 1.1 needs one', () => {
    for (const input of fuzzInputs(SEED, 2000)) {
      if (input.mutations.length > 0) continue;
      const text = Buffer.from(input.bytes).toString('latin1');
      expect(text).toMatch(/^[A-Z]+ \S+ HTTP\/1\.[01]\r\n/);
      for (const head of text.split(/(?=^[A-Z]+ \S+ HTTP\/1\.[01]\r\n)/m)) {
        if (head.includes('HTTP/1.1\r\n')) expect(head, head).toMatch(/\r\nhost: /i);
      }
    }
  });
});

describe('the reply checker', () => {
  const ok = (status: number, body: string, extra = '') =>
    `HTTP/1.1 ${status} Whatever\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
  const handler = (method: string, n = 0, extra = '') => {
    const body = replyBody(method, n);
    return `HTTP/1.1 200 OK\r\nX-Fuzz-Method: ${method}\r\nContent-Length: ${body.length}\r\n${extra}\r\n${method === 'HEAD' ? '' : body}`;
  };

  it('accepts a clean close, and sequences of well-formed replies: 100 Continue, HEAD without body, an error that closes', () => {
    expect(checkResponses(bytes(''), 'fin').verdict).toBe('clean-close');
    expect(checkResponses(bytes(''), 'reset').verdict).toBe('reset');
    const seq = `HTTP/1.1 100 Continue\r\n\r\n${handler('POST', 5)}${handler('HEAD')}${handler('GET')}${ok(400, 'bad\n', 'Connection: close\r\n')}`;
    expect(checkResponses(bytes(seq), 'fin')).toEqual({ verdict: 'answered', statuses: [100, 200, 200, 200, 400] });
    // A server-made error after a HEAD may come without its body.
    expect(checkResponses(bytes(`HTTP/1.1 400 Bad Request\r\nContent-Length: 4\r\nConnection: close\r\n\r\n`), 'fin').verdict).toBe('answered');
    expect(checkResponses(bytes(`${ok(500, 'oops\n')}${handler('GET')}`), 'fin').statuses).toEqual([500, 200]);
    expect(checkResponses(bytes(ok(400, 'x', 'Connection: close\r\n')), 'reset').verdict).toBe('answered');
  });

  it.each([
    ['a status line that is not HTTP/1.1', 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n', /status line/],
    ['a status line with no reason separator', 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n', /status line/],
    ['a head cut off', 'HTTP/1.1 200 OK\r\nContent-Le', /cut off before the end of its head/],
    ['a body cut off', 'HTTP/1.1 400 Bad\r\nContent-Length: 10\r\nConnection: close\r\n\r\nabc', /cut off after 3 bytes/],
    ['no Content-Length', 'HTTP/1.1 200 OK\r\n\r\n', /0 Content-Length headers/],
    ['two Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n', /2 Content-Length headers/],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nContent-Length 0\r\n\r\n', /not "name: value"/],
    ['a control character in a value', 'HTTP/1.1 200 OK\r\nX-A: a\u0000b\r\nContent-Length: 0\r\n\r\n', /control characters/],
    ['bytes after Connection: close', `${'HTTP/1.1 400 Bad\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'}HTTP/1.1 200 OK\r\n`, /more bytes after/],
    ['an error status that keeps the connection', 'HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\n', /without Connection: close/],
    ['a handler body that is not its own', 'HTTP/1.1 200 OK\r\nX-Fuzz-Method: GET\r\nContent-Length: 12\r\n\r\nfuzz PUT 0\n\n', /body arrived as/],
    ['a HEAD reply that sends its body', `HTTP/1.1 200 OK\r\nX-Fuzz-Method: HEAD\r\nContent-Length: 12\r\n\r\n${replyBody('HEAD', 0)}`, /cut off before the end of its head/],
    ['garbage', 'hello\r\n\r\n', /status line/],
  ])('rejects %s', (_name, text, problem) => {
    const check = checkResponses(bytes(text), 'fin');
    expect(check.verdict).toBe('malformed');
    expect(check.problem).toMatch(problem);
  });
});

describe('a seeded slice of the fuzz run, against the reference server', () => {
  it(`answers ${SLICE} mutated requests (seed ${SEED}) with no crash, no hang and only well-formed replies`, async () => {
    const summary = await recordingCrashes(async (crashes) => {
      const host = await inProcessHost(() => new HttpServer(fuzzHandler, FUZZ_SERVER_OPTIONS));
      try {
        const s = await runFuzz({ seed: SEED, indexes: Array.from({ length: SLICE }, (_, i) => i), concurrency: 32, deadlineMs: deadlineFor(), host });
        await host.close(2_000);
        expect(crashes, 'the server threw out of a socket event or left a rejection unhandled').toEqual([]);
        return s;
      } finally {
        await host.dispose();
      }
    });
    const failures = summary.failures.map((f) => `  #${f.index} ${f.kind}: ${f.problem}\n    ${describeInput(f.index)}`).join('\n');
    expect(FAILING.map((k) => [k, summary.counts[k]]), `failing inputs (replay one: npm run fuzz -- 13 --seed ${SEED} --only <index> --verbose):\n${failures}`).toEqual(
      FAILING.map((k) => [k, 0]),
    );
    expect(summary.inputs).toBe(SLICE);
    // The slice reaches the server's paths: replies from the handler, interim 100s, and refusals of many kinds.
    for (const status of ['100', '200', '400', '408', '500']) expect(summary.statuses[status], `status ${status} in ${JSON.stringify(summary.statuses)}`).toBeGreaterThan(0);
    expect(Object.keys(summary.statuses).filter((s) => Number(s) >= 400).length).toBeGreaterThanOrEqual(6);
  }, 30_000);
});

function describeInput(index: number): string {
  const input = fuzzInput(SEED, index);
  return `${input.base} + ${input.mutations.join(', ') || 'nothing'}; ${input.ending}; ${JSON.stringify(Buffer.from(input.bytes).toString('latin1').slice(0, 200))}`;
}
