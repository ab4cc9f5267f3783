/**
 * Chapter 13: the HTTP server under load. Keep-alive GETs of a 12-byte text response, from a load
 * generator of the field (wrk from Debian when installed, else autocannon from npm), at 1, 10 and
 * 50 connections, each with one request in flight (no pipelining). Measured: requests a second and
 * the 99th percentile of the response time, for the learner's HttpServer, the reference, and
 * `node:http` serving the same response (its parser is llhttp, in C).
 *
 * The server runs in a process of its own (a helper), the load generator in the trial's process
 * (autocannon) or in a process of its own (wrk), so they never share a thread. Every trial checks
 * the workload: the exact response before and after the load, and no error, timeout or non-2xx
 * status under load; with autocannon every body is compared, with wrk the bytes read per request.
 *
 * Choose the generator with WORKBOOK_BENCH_LOAD=wrk or WORKBOOK_BENCH_LOAD=autocannon.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { defineBenchmark, fmt } from '../framework.ts';

const CONNECTIONS = [1, 10, 50];
const BODY = 'hello world\n';
/** Seconds of load at each point: an untimed warm-up, then the measured run (wrk counts whole seconds). */
const TIMING = { normal: { warmS: 1, measureS: 3 }, quick: { warmS: 0, measureS: 1 } };

/** The load generator: wrk when installed (or asked for), autocannon otherwise. */
function chooseLoad(): 'wrk' | 'autocannon' {
  const asked = process.env.WORKBOOK_BENCH_LOAD;
  if (asked === 'wrk' || asked === 'autocannon') return asked;
  if (asked) throw new Error(`WORKBOOK_BENCH_LOAD=${asked}: use "wrk" or "autocannon"`);
  return wrkPath() ? 'wrk' : 'autocannon';
}
function wrkPath(): string | undefined {
  return (process.env.PATH ?? '/usr/bin').split(path.delimiter).map((d) => path.join(d, 'wrk')).find((p) => existsSync(p));
}
const LOAD = chooseLoad();

/** What one run of the load generator measured. */
interface Load {
  rate: number;
  p99: number;
}

/** One exchange on a raw socket: `n` pipelined GETs; resolves with the bytes of the `n` responses. */
async function rawGets(port: number, n: number): Promise<string> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write('GET / HTTP/1.1\r\nHost: bench\r\n\r\n'.repeat(n));
  let text = '';
  const complete = () => text.split('hello world\n').length - 1 >= n || /Connection: close/i.test(text);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${n} whole responses within 5 s; got ${JSON.stringify(text.slice(0, 300))}`)), 5_000);
      socket.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        if (complete()) {
          clearTimeout(timer);
          resolve();
        }
      });
      socket.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  } finally {
    socket.destroy();
  }
  return text;
}

/** The exact reply, `n` times over one keep-alive connection; returns the size of one response in bytes. */
async function checkReplies(port: number, n = 3): Promise<number> {
  const text = await rawGets(port, n);
  const replies = text.split(/(?=HTTP\/1\.1 )/).filter(Boolean);
  const wrong = replies.length !== n ? `${replies.length} responses to ${n} pipelined GETs` : replies.find((r) => !/^HTTP\/1\.1 200 [^\r\n]*\r\n/.test(r) || !/\r\ncontent-length: *12\r\n/i.test(r) || !r.endsWith(`\r\n\r\n${BODY}`) || /\r\nconnection: *close/i.test(r));
  if (wrong) throw new Error(`the server does not answer GET / with 200, Content-Length 12 and "hello world\\n" on a kept-alive connection: ${JSON.stringify(typeof wrong === 'string' ? wrong.slice(0, 300) : text.slice(0, 300))}. Run the chapter's tests: npm run workbook -- check 13`);
  // Date changes length only with the day of the week's name, never within a run.
  return Buffer.byteLength(replies[0]!, 'latin1');
}

// --- autocannon, in this process --------------------------------------------------------------

interface Autocannon {
  (options: Record<string, unknown>, done: (err: Error | null, result: AutocannonResult) => void): AutocannonInstance;
}
interface AutocannonInstance {
  on(event: 'start', listener: () => void): void;
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
interface AutocannonResult {
  errors: number;
  timeouts: number;
  mismatches: number;
  non2xx: number;
  resets: number;
}

async function autocannonRun(port: number, connections: number, seconds: number, measure: boolean): Promise<Load> {
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  const latencies: number[] = [];
  let started = 0;
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      { url: `http://127.0.0.1:${port}/`, connections, pipelining: 1, duration: seconds, sampleInt: 100, expectBody: BODY, timeout: 5, bailout: 1 },
      (err, r) => (err ? reject(err) : resolve(r)),
    );
    instance.on('start', () => (started = performance.now()));
    if (measure) instance.on('response', (_c, status, _b, ms) => status === 200 && latencies.push(ms));
  });
  const elapsed = (performance.now() - started) / 1000;
  const trouble = [
    result.errors && `${result.errors} errors (${result.timeouts} timeouts)`,
    result.mismatches && `${result.mismatches} bodies that were not "hello world\\n"`,
    result.non2xx && `${result.non2xx} responses that were not 2xx`,
    result.resets && `${result.resets} connection resets`,
  ].filter(Boolean);
  if (trouble.length) throw new Error(`under load at ${connections} connection(s): ${trouble.join(', ')}`);
  if (!measure) return { rate: 0, p99: 0 };
  if (latencies.length === 0) throw new Error(`no response in ${seconds} s over ${connections} connection(s)`);
  latencies.sort((a, b) => a - b);
  return { rate: latencies.length / elapsed, p99: latencies[Math.min(latencies.length - 1, Math.ceil(0.99 * latencies.length) - 1)]! };
}

// --- wrk, in a process of its own ---------------------------------------------------------------

/** "123.45us" / "1.23ms" / "2.00s" -> ms */
function wrkTime(s: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(s.trim());
  if (!m) throw new Error(`wrk printed a time "${s}" this benchmark cannot read`);
  return Number(m[1]) * { us: 1e-3, ms: 1, s: 1e3, m: 6e4 }[m[2] as 'us' | 'ms' | 's' | 'm'];
}
/** "1.23MB" -> bytes */
function wrkBytes(s: string): number {
  const m = /^([\d.]+)(B|KB|MB|GB)$/.exec(s.trim());
  if (!m) throw new Error(`wrk printed a size "${s}" this benchmark cannot read`);
  return Number(m[1]) * { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[m[2] as 'B' | 'KB' | 'MB' | 'GB'];
}

/** Parse `wrk --latency` output; throws on errors, non-2xx replies, or a byte count that does not fit the response. */
export function parseWrk(out: string, responseBytes: number): Load & { requests: number } {
  const requests = /^\s*(\d+) requests in ([\d.]+\w+), ([\d.]+\w+) read/m.exec(out);
  const rate = /^Requests\/sec:\s*([\d.]+)/m.exec(out);
  const p99 = /^\s*99%\s+(\S+)/m.exec(out);
  if (!requests || !rate || !p99) throw new Error(`wrk's output is not what this benchmark reads:\n${out}`);
  const non2xx = /Non-2xx or 3xx responses:\s*(\d+)/.exec(out);
  if (non2xx) throw new Error(`under load: ${non2xx[1]} responses that were not 2xx or 3xx`);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (errors && errors.slice(1).some((n) => n !== '0')) throw new Error(`under load: ${errors[0]}`);
  const n = Number(requests[1]);
  if (n === 0) throw new Error('wrk completed no request');
  // wrk prints the bytes read to 3 digits; a response of another size than the checked one shows here.
  const perResponse = wrkBytes(requests[3]!) / n;
  if (Math.abs(perResponse - responseBytes) / responseBytes > 0.05) {
    throw new Error(`wrk read ${perResponse.toFixed(1)} bytes per response under load, but the checked response is ${responseBytes} bytes`);
  }
  return { requests: n, rate: Number(rate[1]), p99: wrkTime(p99[1]!) };
}

function wrkRun(port: number, connections: number, seconds: number, responseBytes: number): Promise<Load> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', '5s', `http://127.0.0.1:${port}/`];
  return new Promise((resolve, reject) => {
    execFile(wrkPath() ?? 'wrk', args, { timeout: (seconds + 15) * 1000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`wrk ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      try {
        resolve(parseWrk(stdout, responseBytes));
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

export default defineBenchmark({
  chapter: '13-http',
  title: `HTTP server: keep-alive GETs per second (load from ${LOAD})`,
  labels: { learner: 'your HttpServer', reference: 'reference HttpServer', baseline: 'node:http' },
  points: CONNECTIONS.map((c) => ({ key: String(c), label: `${c} conn`, x: c })),
  axis: 'connections',
  metrics: [
    { key: 'rate', label: 'requests/s', better: 'higher', format: fmt.si },
    { key: 'p99', label: 'p99 latency', better: 'lower', format: fmt.ms },
  ],
  primary: 'rate',
  headline: '10',
  chart: { kind: 'points', metric: 'rate', xLabel: 'Keep-alive connections, each with one request in flight', xScale: 'log' },
  rounds: { normal: 3, quick: 1 },
  trialTimeoutMs: { normal: 90_000, quick: 30_000 },
  notes: [
    `Each connection sends GET / and waits for the response before the next (keep-alive, no pipelining); the reply is 200, text/plain, "hello world\\n" with Content-Length. ${TIMING.normal.measureS} s measured after ${TIMING.normal.warmS} s of warm-up at each number of connections. The load comes from ${LOAD === 'wrk' ? 'wrk (one thread)' : 'autocannon'}; the server runs in a process of its own. Set WORKBOOK_BENCH_LOAD=wrk or =autocannon to choose.`,
    'node:http parses with llhttp, compiled from C; a server in TypeScript pays for every string it builds and every buffer it copies per request. Lesson 13 says where the time goes.',
  ],
  helpers: {
    async serve([subject, dir], ready) {
      let port: number;
      if (subject === 'baseline') {
        const server = http.createServer((_req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(BODY) });
          res.end(BODY);
        });
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        port = (server.address() as net.AddressInfo).port;
      } else {
        const { HttpServer } = (await import(pathToFileURL(path.join(dir!, 'server.ts')).href)) as {
          HttpServer: new (handler: () => { status: number; headers: Record<string, string>; body: string }) => { listen(port?: number, host?: string): Promise<{ port: number }> };
        };
        const server = new HttpServer(() => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: BODY }));
        port = (await server.listen(0, '127.0.0.1')).port;
      }
      ready(port);
      await new Promise(() => {});
    },
  },
  async trial(ctx) {
    const timing = ctx.quick ? TIMING.quick : TIMING.normal;
    const server = await ctx.startHelper('serve', [ctx.subject, ctx.dir]);
    const port = server.ready as number;
    try {
      const responseBytes = await checkReplies(port);
      const rate: Record<string, number[]> = {};
      const tail: Record<string, number[]> = {};
      for (const n of CONNECTIONS) {
        let r: Load;
        if (LOAD === 'wrk') {
          if (timing.warmS > 0) await wrkRun(port, n, timing.warmS, responseBytes);
          r = await wrkRun(port, n, timing.measureS, responseBytes);
        } else {
          if (timing.warmS > 0) await autocannonRun(port, n, timing.warmS, false);
          r = await autocannonRun(port, n, ctx.quick ? 0.3 : timing.measureS, true);
        }
        rate[String(n)] = [r.rate];
        tail[String(n)] = [r.p99];
      }
      await checkReplies(port);
      return { samples: { rate, p99: tail } };
    } finally {
      await server.stop();
    }
  },
});
