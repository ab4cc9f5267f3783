/** `doctor`: is this machine ready for the workbook? Each problem comes with its fix. */
import { lookup } from 'node:dns/promises';
import { existsSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chapterNumber, chapters, peerPrograms } from '../../chapters/manifest.ts';
import { mark, style } from '../core/output.ts';
import { abs, cmd } from '../core/workbook.ts';
import type { Command } from './command.ts';

/** One finding: ok, a warning (optional), or a problem; with the fix for anything not ok. */
export interface Finding {
  name: string;
  level: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

const MIN_NODE = [20, 19] as const;

/** Node's version against package.json's engines. */
export function checkNode(version = process.versions.node): Finding {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return ok
    ? { name: 'Node.js', level: 'ok', detail: `v${version} (needs ${MIN_NODE.join('.')} or newer)` }
    : { name: 'Node.js', level: 'fail', detail: `v${version} is too old; the workbook needs ${MIN_NODE.join('.')} or newer`, fix: 'install Node.js 20.19+ from https://nodejs.org, or: nvm install 20 && nvm use 20' };
}

function bindOnce(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Can a TCP server bind an ephemeral port on this loopback address? */
export async function checkLoopback(host: '127.0.0.1' | '::1'): Promise<Finding> {
  const name = `loopback ${host}`;
  try {
    const port = await bindOnce(host);
    return { name, level: 'ok', detail: `a server can listen (got port ${port})` };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const fix =
      host === '::1'
        ? 'enable IPv6 on loopback: sudo sysctl -w net.ipv6.conf.lo.disable_ipv6=0   (in Docker: run with --sysctl net.ipv6.conf.lo.disable_ipv6=0)'
        : 'bring the loopback interface up: sudo ip link set lo up';
    return { name, level: host === '::1' ? 'warn' : 'fail', detail: `cannot listen: ${e.code ?? e.message}${host === '::1' ? ' (tests that need IPv6 will skip or fail)' : ''}`, fix };
  }
}

/** What `localhost` resolves to, in the order Node tries the addresses. */
export async function checkLocalhost(): Promise<Finding> {
  try {
    const all = await lookup('localhost', { all: true });
    const v4 = all.some((a) => a.family === 4);
    const v6 = all.some((a) => a.family === 6);
    const kinds = v4 && v6 ? 'both IPv4 and IPv6' : v4 ? 'IPv4 only' : 'IPv6 only';
    return { name: 'localhost', level: 'ok', detail: `resolves to ${all.map((a) => a.address).join(', ')} (${kinds}; Node tries them in this order)` };
  } catch (err) {
    return { name: 'localhost', level: 'fail', detail: `does not resolve (${(err as NodeJS.ErrnoException).code})`, fix: 'add "127.0.0.1 localhost" and "::1 localhost" to /etc/hosts' };
  }
}

/** Does fs.watch report a change within a second? (Interactive mode re-runs tests on save through it.) */
export async function checkWatching(timeoutMs = 1_500): Promise<Finding> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'workbook-doctor-'));
  const name = 'file watching';
  const fix = `raise the inotify limit: sudo sysctl fs.inotify.max_user_watches=524288; on WSL keep the workbook on the Linux side (not /mnt/c). Meanwhile run the tests by hand: ${cmd('check <chapter>')}`;
  try {
    const seen = await new Promise<boolean>((resolve) => {
      let watcher: ReturnType<typeof watch> | undefined;
      const timer = setTimeout(() => done(false), timeoutMs);
      const done = (v: boolean) => {
        clearTimeout(timer);
        watcher?.close();
        resolve(v);
      };
      try {
        watcher = watch(dir, () => done(true));
        watcher.on('error', () => done(false));
      } catch {
        done(false);
        return;
      }
      setTimeout(() => writeFileSync(path.join(dir, 'probe.ts'), 'saved'), 50);
    });
    return seen ? { name, level: 'ok', detail: 'a save is noticed at once' } : { name, level: 'fail', detail: `no change event within ${timeoutMs} ms`, fix };
  } catch (err) {
    return { name, level: 'fail', detail: (err as Error).message, fix };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Absolute path of a program on PATH, or undefined. */
function which(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const p = path.join(dir, program);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** The chapters whose manifest entry lists a peer, as "04, 05". */
function usedBy(program: string): string {
  const list = chapters.filter((c) => (c.peers as string[] | undefined)?.includes(program)).map((c) => chapterNumber(c));
  return list.length ? `; chapters ${list.join(', ')}` : '';
}

/** Optional peers (the manifest's peerPrograms): tests that need a missing one skip with a printed reason. */
export function checkPeers(): Finding[] {
  return Object.entries(peerPrograms).map(([program, { why: purpose, install }]) => {
    const why = `${purpose}${usedBy(program)}`;
    const found = which(program) ?? (program === 'chromium' ? (which('chromium-browser') ?? which('google-chrome')) : undefined);
    return found
      ? { name: program, level: 'ok', detail: `${found} (${why})` }
      : { name: program, level: 'warn', detail: `not installed: the tests that use it (${why}) will be skipped`, fix: install };
  });
}

/** The dependencies from npm ci. */
export function checkDependencies(): Finding {
  const has = ['vitest', 'tsx', 'typescript'].filter((p) => !existsSync(abs(`node_modules/${p}/package.json`)));
  if (has.length) return { name: 'dependencies', level: 'fail', detail: `missing: ${has.join(', ')}`, fix: 'npm ci' };
  const version = (JSON.parse(readFileSync(abs('node_modules/vitest/package.json'), 'utf8')) as { version?: string }).version;
  return { name: 'dependencies', level: 'ok', detail: `installed${version ? ` (vitest ${version})` : ''}` };
}

/** Every check, in the order shown. */
export async function runDoctor(): Promise<Finding[]> {
  const [v4, v6, localhost, watching] = await Promise.all([checkLoopback('127.0.0.1'), checkLoopback('::1'), checkLocalhost(), checkWatching()]);
  return [checkNode(), checkDependencies(), v4, v6, localhost, watching, ...checkPeers()];
}

/** The `doctor` command. */
export const doctor: Command = {
  name: 'doctor',
  usage: 'doctor',
  summary: `Check this machine: Node version, loopback ports, localhost, file watching, optional peers (${Object.keys(peerPrograms).join(', ')}).`,
  async run() {
    const findings = await runDoctor();
    const icon = { ok: mark.pass, warn: style.yellow('!'), fail: mark.fail };
    for (const f of findings) {
      console.log(`${icon[f.level]} ${style.bold(f.name.padEnd(18))} ${f.detail}`);
      if (f.fix) console.log(`  ${' '.repeat(18)} ${style.cyan('fix:')} ${f.fix}`);
    }
    const fails = findings.filter((f) => f.level === 'fail').length;
    const warns = findings.filter((f) => f.level === 'warn').length;
    console.log(
      fails
        ? `\n${mark.fail} ${fails} problem${fails > 1 ? 's' : ''} to fix (see "fix:" above), then run again: ${cmd('doctor')}`
        : `\n${mark.pass} Ready${warns ? ` (${warns} optional peer${warns > 1 ? 's' : ''} missing: some tests will be skipped, with a reason)` : ''}. Start: npm start`,
    );
    return fails ? 1 : 0;
  },
};
