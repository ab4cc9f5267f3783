/**
 * `npm run fuzz -- 13`: a seeded fuzz run of chapter 13's HTTP server (the reference solution by
 * default) with malformed and mutated requests, over real sockets, the server in a process of its
 * own. Passes with 0 crashes, 0 hangs past the deadline, 0 resets without a reply and every reply a
 * well-formed HTTP/1.1 response or a clean close; exits 1 otherwise, 2 on a bad command line.
 *
 *   npm run fuzz -- 13 [--seed 1] [--count 100000] [--concurrency 48] [--json]
 *   npm run fuzz -- 13 --seed 1 --only 81234,90001 --verbose    replay inputs alone, with what each sent and got
 *   npm run fuzz -- 13 --server chapters/13-http/server.ts       fuzz your own server instead
 *
 * Failing inputs are kept in .workbook/fuzz/13-http/ (the bytes in hex, and a note of what happened).
 * `npm test` runs a small slice of the same inputs: tests/fuzz/fuzz.test.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../../engine/impl.ts';
import { type FuzzInput, fuzzInput } from './generator.ts';
import { type Outcome, type Summary, childHost, deadlineFor, FAILING, FUZZ_SERVER_OPTIONS, runFuzz } from './runner.ts';

const CHAPTERS: Record<string, string> = { '13': '13-http', '13-http': '13-http', http: '13-http' };
export const DEFAULT_SEED = 1;

function usage(problem: string): never {
  console.error(`${problem}\n  Usage: npm run fuzz -- 13 [--seed N] [--count N] [--concurrency N] [--only i,j] [--verbose] [--json] [--server <file>]`);
  process.exit(2);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      options: {
        seed: { type: 'string' },
        count: { type: 'string' },
        concurrency: { type: 'string' },
        only: { type: 'string' },
        server: { type: 'string' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
      },
      allowPositionals: true,
    });
  } catch (err) {
    return usage((err as Error).message);
  }
})();

const chapter = CHAPTERS[positionals[0] ?? ''];
if (!chapter) usage(`Name a chapter to fuzz: 13 (the only one with a fuzzer)${positionals[0] ? `, not "${positionals[0]}"` : ''}.`);
const whole = (name: string, value: string | undefined, fallback: number, min: number) => {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min) usage(`--${name} takes a whole number of at least ${min}, not "${value}".`);
  return Number(value);
};
const seed = whole('seed', values.seed, DEFAULT_SEED, 0);
const count = whole('count', values.count, 100_000, 1);
const concurrency = whole('concurrency', values.concurrency, 48, 1);
const only = values.only?.split(',').map((s) => whole('only', s.trim(), 0, 0));
const serverFile = path.resolve(values.server ?? path.join(repoRoot, 'solutions', chapter, 'server.ts'));
const deadlineMs = deadlineFor();
const keepDir = path.join(repoRoot, '.workbook', 'fuzz', chapter);
const log = (line: string) => !values.json && console.log(line);

/** Bytes as printable text: \r\n shown, other control and high bytes as \xNN. */
const shown = (b: Uint8Array, max = 600) => {
  let s = '';
  for (const c of b.subarray(0, max)) s += c === 0x0d ? '\\r' : c === 0x0a ? '\\n\n' : c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return b.length > max ? `${s}... (${b.length - max} more bytes)` : s;
};

const describe = (input: FuzzInput) =>
  `input #${input.index} (seed ${input.seed}): ${input.base}${input.mutations.length ? ` + ${input.mutations.join(', ')}` : ' (unmutated)'}; ${input.bytes.length} bytes in ${input.writes.length} write(s), then ${input.ending === 'hold' ? 'kept open' : 'half-closed'}`;

let kept = 0;
const KEEP_AT_MOST = 200;
/** Keep a failing input: its bytes in hex, and a note of what it is and what came back. */
function keep(input: FuzzInput, outcome: Outcome): void {
  if (kept++ >= KEEP_AT_MOST) return;
  mkdirSync(keepDir, { recursive: true });
  const base = path.join(keepDir, `seed${input.seed}-${input.index}-${outcome.kind}`);
  writeFileSync(`${base}.hex`, `${Buffer.from(input.bytes).toString('hex')}\n`);
  writeFileSync(
    `${base}.txt`,
    [
      describe(input),
      `writes: ${input.writes.join(' + ')}`,
      `outcome: ${outcome.kind}${outcome.problem ? `: ${outcome.problem}` : ''}`,
      `replay: npm run fuzz -- 13 --seed ${input.seed} --only ${input.index} --verbose`,
      input.ending === 'hold'
        ? `send it by hand, keeping the connection open: (xxd -r -p ${path.relative(repoRoot, base)}.hex; sleep 15) | nc 127.0.0.1 <port>`
        : `send it by hand, then half-close: xxd -r -p ${path.relative(repoRoot, base)}.hex | nc -N 127.0.0.1 <port>`,
      '',
      '--- sent ---',
      shown(input.bytes, 4000),
      '',
      '--- received ---',
      shown(outcome.received, 4000),
      '',
    ].join('\n'),
  );
}

const host = await childHost(serverFile, FUZZ_SERVER_OPTIONS);
const indexes = only ?? (function* () {
  for (let i = 0; i < count; i++) yield i;
})();
log(
  `Fuzzing ${path.relative(repoRoot, serverFile)}: ${only ? `inputs ${only.join(', ')}` : `${count} inputs`}, seed ${seed}, ${concurrency} connections in flight; server timeouts headers ${FUZZ_SERVER_OPTIONS.headersTimeoutMs} ms, idle ${FUZZ_SERVER_OPTIONS.idleTimeoutMs} ms; a hang is no close within ${deadlineMs} ms. ${os.cpus().length} cores, Node ${process.version}.`,
);
const runStarted = performance.now();
let lastProgress = runStarted;
const summary: Summary = await runFuzz({
  seed,
  indexes,
  concurrency: only ? 1 : concurrency,
  deadlineMs,
  host,
  onProgress(done, s) {
    if (performance.now() - lastProgress < 5_000) return;
    lastProgress = performance.now();
    const bad = FAILING.reduce((n, k) => n + s.counts[k], 0);
    log(`  ${done} inputs, ${Math.round(done / ((performance.now() - runStarted) / 1000))}/s, ${bad} failing so far`);
  },
  onFailure(input, outcome) {
    keep(input, outcome);
    if (values.verbose || only) return;
    if (kept <= 10) log(`  ${outcome.kind}: ${describe(input)}\n    ${outcome.problem ?? ''}`);
  },
});

if (only || values.verbose) {
  for (const index of only ?? summary.failures.map((f) => f.index).slice(0, 20)) {
    const input = fuzzInput(seed, index);
    const failure = summary.failures.find((f) => f.index === index);
    log(`\n${describe(input)}\n  writes ${input.writes.join(' + ')}\n  outcome: ${failure ? `${failure.kind}: ${failure.problem ?? ''}` : 'passed'}\n--- sent ---\n${shown(input.bytes)}`);
  }
}

// After the run: the server should hold no connection once every client has gone, and close promptly.
let leftOpen: number | undefined;
let closeMs: number | undefined;
let closeProblem: string | undefined;
if (!host.down()) {
  const settleUntil = performance.now() + deadlineMs;
  do {
    await new Promise((r) => setTimeout(r, 200));
    leftOpen = await host.openSockets!().catch(() => undefined);
  } while (leftOpen !== undefined && leftOpen > 0 && performance.now() < settleUntil);
  closeMs = await host.close(5_000).catch((err: Error) => ((closeProblem = `server.close() ${err.message}`), undefined));
}
const warnings = host.stderr();
await host.dispose();

const failing = FAILING.reduce((n, k) => n + summary.counts[k], 0) + (leftOpen ? 1 : 0) + (closeProblem ? 1 : 0);
const statuses = Object.entries(summary.statuses).sort(([a], [b]) => (a === 'close' ? 1 : b === 'close' ? -1 : Number(a) - Number(b)));
if (values.json) {
  console.log(
    JSON.stringify(
      {
        chapter,
        server: path.relative(repoRoot, serverFile),
        seed,
        count: only ? only.length : count,
        concurrency,
        deadlineMs,
        serverOptions: FUZZ_SERVER_OPTIONS,
        inputs: summary.inputs,
        counts: summary.counts,
        statuses: Object.fromEntries(statuses),
        crashes: summary.crashes,
        failures: summary.failures.slice(0, 1000),
        openSocketsAfter: leftOpen ?? null,
        closeMs: closeMs ?? null,
        closeProblem: closeProblem ?? null,
        serverOutput: warnings || null,
        seconds: Math.round(summary.ms) / 1000,
        passed: failing === 0,
      },
      null,
      1,
    ),
  );
} else {
  const rows: [string, string][] = [
    ['inputs tried', String(summary.inputs)],
    ['answered (well-formed replies)', String(summary.counts.answered)],
    ['clean close, no reply', String(summary.counts['clean-close'])],
    ['crashes', String(summary.counts.crash)],
    ['hangs (no close within deadline)', String(summary.counts.hang)],
    ['malformed replies', String(summary.counts.malformed)],
    ['resets with no reply', String(summary.counts.reset)],
    ['server sockets open after the run', leftOpen === undefined ? '-' : String(leftOpen)],
    ['server.close() took', closeMs === undefined ? (closeProblem ?? '-') : `${closeMs.toFixed(0)} ms`],
    ['time', `${(summary.ms / 1000).toFixed(1)} s (${Math.round(summary.inputs / (summary.ms / 1000))} inputs/s)`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  log('');
  for (const [k, v] of rows) log(`  ${k.padEnd(w)}  ${v}`);
  log(`\n  status codes: ${statuses.map(([s, n]) => `${s === 'close' ? 'closed without reply' : s} x${n}`).join(', ')}`);
  for (const c of summary.crashes) {
    log(`\n  crash: ${c.why}\n    in flight: ${c.suspects.length} input(s); ${c.culprit === undefined ? 'none of them crashes the server alone' : `input #${c.culprit} crashes it alone`}`);
  }
  if (warnings) log(`\n  the server printed:\n${warnings.split('\n').slice(-10).map((l) => `    ${l}`).join('\n')}`);
  if (kept > 0) log(`\n  ${Math.min(kept, KEEP_AT_MOST)} failing input(s) kept in ${path.relative(repoRoot, keepDir)}/ (hex, and a note of each)`);
  log(`\n${failing === 0 ? 'PASS' : 'FAIL'}: ${failing === 0 ? 'no crash, no hang, every reply well-formed.' : `${failing} problem(s).`}  Replay: npm run fuzz -- 13 --seed ${seed}${only ? ` --only ${only.join(',')}` : ` --count ${count}`}`);
}
process.exit(failing === 0 ? 0 : 1);
