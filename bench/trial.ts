/**
 * The child process of one trial (or of one helper a trial starts). bench/run.ts forks it with
 * tsx's loader and one JSON argument, and hears back over IPC:
 *   { ok: true, result }   the trial's samples
 *   { ok: false, error }   what went wrong, for the report
 * A helper sends { ready: value } once, then runs until it is stopped or its parent goes away.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Benchmark, Helper, SubjectKind, TrialResult } from './framework.ts';

/** What bench/run.ts asks of this process. */
export type TrialSpec =
  | { mode: 'trial'; file: string; subject: SubjectKind; dir: string; quick: boolean; round: number }
  | { mode: 'helper'; file: string; name: string; args: string[] };

/** A message from this process to its parent. */
export type TrialMessage = { ok: true; result: TrialResult } | { ok: false; error: string } | { ready: unknown };

const self = fileURLToPath(import.meta.url);

/**
 * Fork this file for one trial or helper: tsx's loader, IPC, and its output (stdout and stderr
 * together) captured, the last few KiB of it kept for the error report.
 */
export function forkChild(spec: TrialSpec, cwd: string): { child: ChildProcess; output(): string } {
  const child = fork(self, [JSON.stringify(spec)], { cwd, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced' });
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-8192));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => output };
}

/** Send a message to the parent; resolves once it is on its way. */
const send = (m: TrialMessage) => new Promise<void>((resolve) => process.send!(m, () => resolve()));

/** Start one of the benchmark's helpers in its own process; resolves once it is ready. */
async function startHelper(file: string, name: string, args: string[]): Promise<Helper> {
  const { child, output } = forkChild({ mode: 'helper', file, name, args }, process.cwd());
  const exited = once(child, 'exit');
  const ready = await Promise.race([
    once(child, 'message').then(([m]) => m as TrialMessage),
    exited.then(([code]) => {
      throw new Error(`the helper "${name}" exited (code ${code}) before it was ready:\n${output()}`);
    }),
  ]);
  if (!('ready' in ready)) throw new Error(`the helper "${name}" failed: ${'error' in ready ? ready.error : 'no ready message'}`);
  return {
    ready: ready.ready,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const kill = setTimeout(() => child.kill('SIGKILL'), 2_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(kill);
    },
  };
}

async function main(spec: TrialSpec): Promise<void> {
  const benchmark = ((await import(pathToFileURL(spec.file).href)) as { default: Benchmark }).default;
  if (spec.mode === 'helper') {
    const helper = benchmark.helpers?.[spec.name];
    if (!helper) throw new Error(`${spec.file} has no helper "${spec.name}"`);
    // The parent went away (finished, or was killed): so do we.
    process.on('disconnect', () => process.exit(0));
    process.on('SIGTERM', () => process.exit(0));
    await helper(spec.args, (value) => void send({ ready: value }));
    return;
  }
  const result = await benchmark.trial({
    subject: spec.subject,
    dir: spec.dir,
    quick: spec.quick,
    round: spec.round,
    startHelper: (name, args) => startHelper(spec.file, name, args),
  });
  await send({ ok: true, result });
}

if (process.argv[1] === self) {
  const spec = JSON.parse(process.argv[2] ?? '{}') as TrialSpec;
  main(spec).then(
    // Exit at once: a trial may leave a Worker or a socket behind, and its numbers are already sent.
    () => spec.mode === 'trial' && process.exit(0),
    async (err: unknown) => {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      if (process.connected) await send({ ok: false, error });
      process.exit(1);
    },
  );
}
