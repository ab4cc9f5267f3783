/**
 * Optional peers: real programs (nc, curl, openssl, chromium) that talk to the learner's code
 * when they are installed. A test that needs a missing one skips with a printed reason.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { PeerName } from '../../chapters/manifest.ts';
import { peerPrograms } from '../../chapters/manifest.ts';

const found = new Map<string, string | undefined>();

/** Absolute path of a program on PATH, or undefined. */
export function findPeer(program: string): string | undefined {
  if (!found.has(program)) {
    const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
    found.set(program, dirs.map((d) => path.join(d, program)).find((p) => existsSync(p)));
  }
  return found.get(program);
}

/** Whether `nc` is the OpenBSD netcat (which has -N to shut down the write side on EOF). It prints its help on stderr. */
export function ncSupportsN(nc: string): boolean {
  const help = spawnSync(nc, ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 2_000 });
  return /-N\b/.test(`${help.stdout ?? ''}${help.stderr ?? ''}`);
}

/**
 * Skip the current test, loudly, when `program` is not installed; the reason carries the install hint
 * from the manifest's `peerPrograms`. The chapter's manifest entry must list the program in `peers`
 * (the self-check enforces it). Usage: `const nc = needPeer(ctx, 'nc');`
 */
export function needPeer(ctx: { skip: (note?: string) => never }, program: PeerName): string {
  const p = findPeer(program);
  if (!p) skipWithReason(ctx, `optional peer "${program}" is not installed (${peerPrograms[program].install})`);
  return p!;
}

/**
 * Skip the current test with a reason that is printed, never silently: for peers that are not
 * programs (a resolver without an IPv6 entry, a kernel feature). The reason shows in the report.
 */
export function skipWithReason(ctx: { skip: (note?: string) => never }, reason: string): never {
  const note = `${reason}; this test was skipped, not passed`;
  console.warn(`[workbook] ${note}`);
  return ctx.skip(note);
}
