/**
 * A real kernel firewall, as root: two network namespaces joined by a veth pair, nftables rules in the
 * server's namespace (REJECT one port, DROP another, accept 80 and 443), real servers behind them and
 * your FilteringProxy beside them with the same rules, and your callOnce run from the client's namespace
 * against both. Everything is built with unique names per run and torn down after the test, even when
 * it fails (the cleanup is registered before anything is built). Without root, `ip` or `nft`: skipped,
 * with the reason printed.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { it } from 'vitest';
import type { Policy } from '@impl/12-firewalls-and-timeouts/exercise.ts';
import { check, implFile, needPeer, onCleanup, skipWithReason, track, within } from '../helpers/index.ts';
import { repoRoot } from '../../engine/impl.ts';
import { ID, lesson } from './harness.ts';

/** `node --import tsx`, wherever the working directory is. */
const TSX = pathToFileURL(path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const WORKERS = path.join(import.meta.dirname, 'workers');

/** The guarded ports, what the kernel does with each, and the port of the proxy that guards it the same way. */
const CASES = [
  { port: 80, proxyPort: 8080, kernel: 'accept' },
  { port: 443, proxyPort: 8443, kernel: 'accept' },
  { port: 7001, proxyPort: 8001, kernel: 'reject' },
  { port: 7002, proxyPort: 8002, kernel: 'drop' },
] as const;

/** The client's timeouts in the namespace test: short, so that the DROPs cost well under a second. */
const CONNECT_MS = 400;
const IDLE_MS = 400;

/** The same policy for your Firewall, deciding on the port behind each proxy. */
const POLICY: Policy = {
  rules: [
    { action: 'reject', direction: 'in', port: 7001, comment: 'tcp dport 7001 reject with tcp reset' },
    { action: 'drop', direction: 'in', port: 7002, comment: 'tcp dport 7002 drop' },
    { action: 'accept', direction: 'in', port: 80 },
    { action: 'accept', direction: 'in', port: 443 },
  ],
  defaultAction: 'drop',
};

/** The nftables ruleset of the server's namespace (multi-line: nft parses a one-line version with ';' in braces badly). */
const NFT_RULESET = `table inet wb12 {
  chain input {
    type filter hook input priority 0; policy drop;
    iif "lo" accept
    ct state established,related accept
    tcp dport 7001 reject with tcp reset
    tcp dport 7002 drop
    tcp dport { 80, 443 } accept
    tcp dport { 8001, 8002, 8080, 8443 } accept
  }
}
`;

let runs = 0;

/** Run a command; throws with its stderr when it fails. */
function run(cmd: string, args: string[], input?: string): void {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 5_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').trim()}`);
}

/** What the kernel says when root is not enough (a container without CAP_NET_ADMIN, a kernel without nf_tables). */
const NOT_ALLOWED_HERE = /not permitted|permission denied|not supported|no such file or directory/i;

/** Run a setup step; when the machine forbids it (not our code's fault), skip the test with the reason. */
function setupStep(ctx: { skip: (note?: string) => never }, what: string, cmd: string, args: string[], input?: string): void {
  try {
    run(cmd, args, input);
  } catch (err) {
    const message = (err as Error).message;
    if (NOT_ALLOWED_HERE.test(message)) skipWithReason(ctx, `this machine does not allow ${what} (${message.split('\n')[0]})`);
    throw err;
  }
}

/** Start `node --import tsx <worker> <arg>` inside namespace `ns`: the child, and a promise of its first JSON line. */
function inNamespace(ns: string, ip: string, worker: string, arg: string, label: string) {
  const child = track(spawn(ip, ['netns', 'exec', ns, process.execPath, '--import', TSX, path.join(WORKERS, worker), arg], { stdio: ['pipe', 'pipe', 'pipe'] }), label);
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d));
  child.stdin.on('error', () => {});
  const line = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl !== -1) resolve(JSON.parse(out.slice(0, nl)) as Record<string, unknown>);
    });
    child.once('exit', (code) => reject(new Error(`${label} exited (code ${code}) before reporting: ${err.trim().split('\n').slice(-3).join(' | ')}`)));
  });
  // Never an unhandled rejection when the test stops before reading it.
  line.catch(() => {});
  return { child, line: within(line, 5_000, label, 'It starts node with tsx inside the namespace and loads your code.') };
}

/** What one call came to, in the chapter's terms. */
function verdictOf(r: { reply?: string; error?: { name?: string; code?: string; phase?: string } } | undefined): string {
  if (!r) return 'no result';
  if (r.reply !== undefined) return 'ok';
  if (r.error?.code === 'ERR_REFUSED') return 'refused';
  if (r.error?.code === 'ERR_TIMEOUT') return `dropped (${r.error.phase} timeout)`;
  return `${r.error?.name} ${r.error?.code}`;
}

/** The test group's one test. */
export function kernelFirewallGroup(): void {
  it('your client tells a kernel REJECT from a DROP as it tells your proxy\'s, and gets through on 80 and 443', async (ctx) => {
    const ip = needPeer(ctx, 'ip');
    const nft = needPeer(ctx, 'nft');
    if (process.getuid?.() !== 0) skipWithReason(ctx, 'the real-firewall test needs root (network namespaces and nftables); run the suite as root, e.g. in a container or VM, to see it');

    const tag = `wb12-${process.pid}-${++runs}`;
    const nsClient = `${tag}-c`;
    const nsServer = `${tag}-s`;
    // Interface names have at most 15 characters.
    const vethClient = `w12c${process.pid % 1_000_000}${runs}`.slice(0, 15);
    const vethServer = `w12s${process.pid % 1_000_000}${runs}`.slice(0, 15);
    // A private /30 (RFC 1918) of our own; the namespaces are isolated, so no other network sees it.
    const net3 = `10.213.${process.pid % 250}`;
    const clientAddr = `${net3}.1`;
    const serverAddr = `${net3}.2`;
    // Registered first, so it runs last (after the child processes are killed), even if building fails half-way.
    onCleanup(`network namespaces ${tag}`, () => {
      for (const ns of [nsClient, nsServer]) spawnSync(ip, ['netns', 'del', ns], { timeout: 3_000 });
    });

    setupStep(ctx, 'network namespaces', ip, ['netns', 'add', nsClient]);
    run(ip, ['netns', 'add', nsServer]);
    setupStep(ctx, 'a veth pair', ip, ['link', 'add', vethClient, 'type', 'veth', 'peer', 'name', vethServer]);
    run(ip, ['link', 'set', vethClient, 'netns', nsClient]);
    run(ip, ['link', 'set', vethServer, 'netns', nsServer]);
    run(ip, ['-n', nsClient, 'addr', 'add', `${clientAddr}/30`, 'dev', vethClient]);
    run(ip, ['-n', nsServer, 'addr', 'add', `${serverAddr}/30`, 'dev', vethServer]);
    for (const [ns, dev] of [[nsClient, vethClient], [nsServer, vethServer]] as const) {
      run(ip, ['-n', ns, 'link', 'set', dev, 'up']);
      run(ip, ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    setupStep(ctx, 'nftables rules in a namespace', ip, ['netns', 'exec', nsServer, nft, '-f', '-'], NFT_RULESET);

    // Both children start at once (node and tsx take a moment); the client waits for its job until the servers are up.
    const client = inNamespace(nsClient, ip, 'client-side.ts', implFile(ID, 'client.ts'), 'your callOnce in the client namespace');
    const setup = { host: serverAddr, exercise: implFile(ID, 'exercise.ts'), proxy: implFile(ID, 'proxy.ts'), cases: CASES.map(({ port, proxyPort }) => ({ port, proxyPort })), policy: POLICY };
    const servers = await inNamespace(nsServer, ip, 'server-side.ts', JSON.stringify(setup), 'the servers and your proxies in the server namespace').line;
    check(servers.ready === true, {
      did: `the server namespace could not start your proxies: ${String(servers.error)}`,
      expected: 'a FilteringProxy in front of each server, listening on the host and port it was given',
      lesson: lesson('A firewall you can run: the filtering proxy'),
    });
    const ports = CASES.flatMap(({ port, proxyPort }) => [port, proxyPort]);
    client.child.stdin.write(`${JSON.stringify({ host: serverAddr, ports, connectTimeoutMs: CONNECT_MS, idleTimeoutMs: IDLE_MS })}\n`);
    const report = await client.line;
    check(Array.isArray(report.results), {
      did: `the client namespace could not run your callOnce: ${String(report.failed)}`,
      expected: 'a callOnce that loads and runs',
      lesson: lesson('Refused or dropped: what the client sees'),
    });
    const results = report.results as { port: number; reply?: string; error?: { name?: string; code?: string; phase?: string; cause?: string } }[];
    const at = (port: number) => results.find((r) => r.port === port);
    const table = CASES.map(({ port, proxyPort, kernel }) => `  ${kernel.padEnd(6)}  kernel :${port} -> ${verdictOf(at(port))}${at(port)?.error?.cause ? ` [${at(port)!.error!.cause}]` : ''};  your proxy :${proxyPort} -> ${verdictOf(at(proxyPort))}${at(proxyPort)?.error?.cause ? ` [${at(proxyPort)!.error!.cause}]` : ''}`).join('\n');
    const want: Record<string, [string, string]> = {
      accept: ['ok', 'ok'],
      reject: ['refused', 'refused'],
      drop: ['dropped (connect timeout)', 'dropped (idle timeout)'],
    };
    for (const { port, proxyPort, kernel } of CASES) {
      const [k, p] = want[kernel]!;
      const replyOk = kernel !== 'accept' || (at(port)?.reply === `reply:${port}:hi\xff` && at(proxyPort)?.reply === `reply:${port}:hi\xff`);
      check(verdictOf(at(port)) === k && verdictOf(at(proxyPort)) === p && replyOk, {
        did: `from ${clientAddr} to ${serverAddr} through nftables and through your proxy, your callOnce saw:\n${table}`,
        expected:
          `for the ${kernel} rule: kernel ${k}, proxy ${p}${kernel === 'accept' ? ', each with the reply "reply:<port>:hi\\xff"' : ''}. ` +
          'A kernel REJECT answers the SYN with an RST (ECONNREFUSED); your proxy resets right after the handshake (ECONNRESET): both are refused. ' +
          'A kernel DROP swallows the SYN, so the connect timeout fires; your proxy has already accepted, so the idle timeout fires: both are dropped.',
        lesson: lesson('REJECT and DROP in a real kernel'),
        reproduce: `ip netns exec <server ns> nft list ruleset   (the rules: ${NFT_RULESET.split('\n').slice(4, 7).map((l) => l.trim()).join('; ')})`,
      });
    }
  }, 15_000);
}
