/**
 * A temporary copy of the workbook for the CLI's end-to-end tests and benchmark, so that nothing
 * touches the real chapters/. It holds the CLI, the harness, the config files, a manifest with the
 * fixture chapters (or the real chapters), and a symlink to node_modules.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURE_FILES, FIXTURE_MANIFEST_ENTRIES } from './fixture.ts';

const execFileAsync = promisify(execFile);

/** The real workbook this test runs in. */
export const realRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** What a CLI run printed and how it ended. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, in order of arrival. */
  output: string;
  ms: number;
}

/** Options for a sandbox. */
export interface SandboxOptions {
  /** Use the real chapters instead of the fixtures. */
  realChapters?: boolean;
  /** The watchdog's limit for a blocked event loop, to keep hang tests short. */
  blockedLoopLimitMs?: number;
  /** Make it a git checkout with one commit, as a learner's clone is (default true; skipped without git). */
  git?: boolean;
}

/** An environment without the outer test run's variables (vitest's, WORKBOOK_*), colours off. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(VITEST|WORKBOOK_|TINYPOOL|NODE_ENV$|CI$|FORCE_COLOR$|INIT_CWD$|npm_)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

/** A temporary workbook. Make one with `await Sandbox.create(...)`. */
export class Sandbox {
  private constructor(readonly root: string) {}

  /**
   * Build a sandbox. Copying the workbook and committing it to git take a while, so it is done
   * asynchronously: tests build several at once, and a blocked event loop would trip the watchdog.
   */
  static async create(opts: SandboxOptions = {}): Promise<Sandbox> {
    const box = new Sandbox(await mkdtemp(path.join(os.tmpdir(), 'workbook-cli-')));
    await box.fill(opts);
    return box;
  }

  private async fill(opts: SandboxOptions): Promise<void> {
    const copy = async (rel: string) => {
      const from = path.join(realRoot, rel);
      if (existsSync(from)) await cp(from, path.join(this.root, rel), { recursive: true });
    };
    for (const rel of ['cli', 'engine', 'bench', 'tests/helpers', 'tests/selfcheck', 'chapters/workbook.ts', 'site/slug.ts', 'package.json', 'tsconfig.json', 'vitest.config.ts']) {
      await copy(rel);
    }
    symlinkSync(path.join(realRoot, 'node_modules'), path.join(this.root, 'node_modules'), 'dir');
    const manifest = readFileSync(path.join(realRoot, 'chapters/manifest.ts'), 'utf8');
    if (opts.realChapters) {
      for (const rel of ['chapters', 'solutions']) await copy(rel);
      await cp(path.join(realRoot, 'tests'), path.join(this.root, 'tests'), {
        recursive: true,
        filter: (src) => !/[/\\](cli|mistakes|site|\.generated)([/\\]|$)/.test(path.relative(realRoot, src)),
      });
    } else {
      const start = manifest.indexOf('export const chapters: Chapter[] = [');
      const end = manifest.indexOf('\n];\n', start);
      if (start < 0 || end < 0) throw new Error('chapters/manifest.ts changed shape: cannot splice in the fixture chapters');
      this.write('chapters/manifest.ts', manifest.slice(0, start) + FIXTURE_MANIFEST_ENTRIES + manifest.slice(end + 4));
      for (const [rel, text] of Object.entries(FIXTURE_FILES)) this.write(rel, text);
    }
    if (opts.blockedLoopLimitMs) {
      const base = this.read('engine/options.ts');
      this.write('engine/options.ts', base.replace(/BLOCKED_LOOP_LIMIT_MS = [\d_]+/, `BLOCKED_LOOP_LIMIT_MS = ${opts.blockedLoopLimitMs}`));
    }
    if (opts.git !== false) await this.gitInit();
  }

  /** `git init` and commit everything, like a fresh clone; does nothing where git is missing. */
  private async gitInit(): Promise<void> {
    this.write('.gitignore', 'node_modules\n.workbook/\n');
    const git = (...args: string[]) =>
      execFileAsync('git', ['-c', 'user.name=sandbox', '-c', 'user.email=sandbox@localhost', '-c', 'commit.gpgsign=false', ...args], { cwd: this.root }).then(
        () => true,
        () => false,
      );
    if (!(await git('init', '-q'))) return;
    await git('add', '-A');
    await git('commit', '-q', '-m', 'the workbook');
  }

  /** Absolute path of a sandbox file. */
  path(rel: string): string {
    return path.join(this.root, rel);
  }

  /** Write a file (creating folders). */
  write(rel: string, data: string | Uint8Array): void {
    mkdirSync(path.dirname(this.path(rel)), { recursive: true });
    writeFileSync(this.path(rel), data);
  }

  /** Read a file as text. */
  read(rel: string): string {
    return readFileSync(this.path(rel), 'utf8');
  }

  /** Read a file as bytes. */
  bytes(rel: string): Buffer {
    return readFileSync(this.path(rel));
  }

  /** Whether a file exists. */
  exists(rel: string): boolean {
    return existsSync(this.path(rel));
  }

  /** Copy the reference solution of a fixture chapter over the learner's file. */
  solve(id: string): void {
    this.write(`chapters/${id}/exercise.ts`, this.bytes(`solutions/${id}/exercise.ts`));
  }

  /** Run the CLI as the `workbook` bin does (node cli/bin.mjs ...), or any command with `argv0`. */
  run(args: string[], opts: { env?: Record<string, string>; argv0?: string[]; timeoutMs?: number; cwd?: string } = {}): Promise<CliRun> {
    const [bin, ...pre] = opts.argv0 ?? [process.execPath, this.path('cli/bin.mjs')];
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const child = spawn(bin!, [...pre, ...args], { cwd: opts.cwd ?? this.root, env: cleanEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let output = '';
      child.stdout.on('data', (d: Buffer) => ((stdout += d), (output += d)));
      child.stderr.on('data', (d: Buffer) => ((stderr += d), (output += d)));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`workbook ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 20_000} ms. Output so far:\n${output}`));
      }, opts.timeoutMs ?? 20_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, output, ms: performance.now() - t0 });
      });
    });
  }

  /** Remove the sandbox. */
  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

/** A test body that runs in its own sandbox (so that no test sees another's files), removed afterwards. */
export function inSandbox(body: (box: Sandbox) => Promise<void>, opts: SandboxOptions = {}): () => Promise<void> {
  return async () => {
    const box = await Sandbox.create(opts);
    try {
      await body(box);
    } finally {
      await box.remove();
    }
  };
}
