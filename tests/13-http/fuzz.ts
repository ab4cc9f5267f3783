/**
 * A small seeded fuzzer for the suite's robustness slice: real requests, mutated by byte flips, truncations,
 * duplicated or dropped lines, inserted bytes and swapped framing fields. Same seed, same cases.
 * (The large run, `npm run fuzz -- 13`, is its own tool.)
 */
import { randomInt, seededRandom } from '../helpers/index.ts';

/** The real requests the mutations start from. */
export const SEEDS: string[] = [
  'GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n',
  'POST /notes HTTP/1.1\r\nHost: bram\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello, bram',
  'POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n',
  'HEAD /index.html HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n',
  'GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
  'PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc',
  'GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n',
];

const INTERESTING = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x3a, 0x3b, 0x2c, 0x7f, 0x80, 0xff, 0x30, 0x46];
const FIELDS = ['Content-Length: 5', 'Transfer-Encoding: chunked', 'Host: x', 'Content-Length: -1', 'Transfer-Encoding: gzip', ' folded', 'Expect: 100-continue', 'Connection: close'];

/** `count` mutated requests from `seed`. */
export function fuzzCases(seed: number, count: number): Buffer[] {
  const rand = seededRandom(seed);
  const pick = <T>(xs: T[]): T => xs[randomInt(rand, 0, xs.length - 1)]!;
  const cases: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    let b: Buffer = Buffer.from(pick(SEEDS), 'latin1');
    const rounds = randomInt(rand, 1, 3);
    for (let r = 0; r < rounds; r++) b = mutate(b, rand, pick);
    cases.push(b);
  }
  return cases;
}

function mutate(b: Buffer, rand: () => number, pick: <T>(xs: T[]) => T): Buffer {
  const at = randomInt(rand, 0, Math.max(0, b.length - 1));
  switch (randomInt(rand, 0, 6)) {
    case 0: { // flip a byte
      const c = Buffer.from(b);
      c[at] = rand() < 0.5 ? pick(INTERESTING) : randomInt(rand, 0, 255);
      return c;
    }
    case 1: // truncate
      return b.subarray(0, at);
    case 2: { // duplicate a line
      const lines = b.toString('latin1').split('\r\n');
      const k = randomInt(rand, 0, lines.length - 1);
      lines.splice(k, 0, lines[k]!);
      return Buffer.from(lines.join('\r\n'), 'latin1');
    }
    case 3: { // drop a line
      const lines = b.toString('latin1').split('\r\n');
      lines.splice(randomInt(rand, 0, lines.length - 1), 1);
      return Buffer.from(lines.join('\r\n'), 'latin1');
    }
    case 4: // insert a few bytes
      return Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: randomInt(rand, 1, 4) }, () => pick(INTERESTING))), b.subarray(at)]);
    case 5: { // add a framing field after the request line
      const lf = b.indexOf(0x0a);
      if (lf === -1) return b;
      return Buffer.concat([b.subarray(0, lf + 1), Buffer.from(`${pick(FIELDS)}\r\n`, 'latin1'), b.subarray(lf + 1)]);
    }
    default: { // repeat a random span (long lines, repeated chunks)
      const span = b.subarray(at, at + randomInt(rand, 1, 40));
      return Buffer.concat([b.subarray(0, at), ...Array.from({ length: randomInt(rand, 2, 30) }, () => span), b.subarray(at)]);
    }
  }
}
