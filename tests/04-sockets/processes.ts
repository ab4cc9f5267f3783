/**
 * Chapter 04's child processes: a peer program (nc, ...) fed from stdin, and your exercise.ts run
 * by hand (npx tsx exercise.ts <port or path>) or only imported.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LOOPBACK } from '@impl/04-sockets/exercise.ts';
import { check, connect, connectPath, eventually, readToEnd, track, within } from '../helpers/index.ts';
import { repoRoot } from '../../engine/impl.ts';
import { LIMIT, RUN_BY_HAND, lesson, settle, show } from './harness.ts';

/** Run an external program with `input` on stdin; resolves when it exits (tracked, 2 s deadline). */
export async function runPeer(cmd: string, args: string[], input: string): Promise<{ stdout: Buffer; stderr: string; code: number | null }> {
  const child = track(spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] }), `${path.basename(cmd)} ${args.join(' ')}`);
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  child.stdin.on('error', () => {});
  const exited = once(child, 'exit') as Promise<[number | null]>;
  child.stdin.end(input);
  const [code] = await within(exited, LIMIT, `${path.basename(cmd)} ${args.join(' ')}`, 'It exits once your server ends its side (FIN).');
  return { stdout: Buffer.concat(out), stderr, code };
}

/** `node --import tsx`, wherever the working directory is. */
const TSX = pathToFileURL(path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** `npx tsx exercise.ts <arg>` (as node --import tsx), in `cwd`: it must serve, echo, and exit by itself on Ctrl-C. */
export async function runByHandOnce(file: string, cwd: string, arg: string): Promise<void> {
  const child = track(spawn(process.execPath, ['--import', TSX, file, arg], { cwd, stdio: ['ignore', 'pipe', 'pipe'] }), `tsx exercise.ts ${arg}`);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (err += d));
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const shown = () => `its output: ${JSON.stringify(out.trim())}${err.trim() ? `, errors: ${JSON.stringify(err.trim().split('\n')[0])}` : ''}`;
  const up = await eventually(() => /Echo server on /.test(out) || child.exitCode !== null, 5_000);
  const at = /Echo server on (?:unix:(\S+?)|\S+:(\d+))\. /.exec(out);
  const isPath = !/^\d+$/.test(arg);
  // It also tells you how to talk to it: nc with the path, or with the host and port.
  const nc = isPath ? `nc -N -U ${arg}` : `nc -N ${LOOPBACK} ${arg}`;
  check(up && at && (isPath ? at[1] === arg : at[2] === arg) && out.includes(nc), {
    did: `${RUN_BY_HAND} ${arg} ${child.exitCode !== null ? `exited with code ${child.exitCode}` : 'is running'}; ${shown()}`,
    expected: isPath
      ? `"Echo server on unix:${arg}. ... ${nc}": a non-numeric argument is a socket path`
      : `"Echo server on 127.0.0.1:${arg}. ... ${nc}": an argument of digits alone is a port`,
    lesson: lesson('The exercise'),
  });
  const socket = isPath ? await connectPath(path.join(cwd, at[1]!)) : await connect(Number(at[2]), LOOPBACK);
  socket.on('error', () => {});
  socket.end('Ada: by hand\nbye');
  const echo = await readToEnd(socket, LIMIT).catch(() => Buffer.from('(no FIN)'));
  child.kill('SIGINT');
  const r = await settle(exited, 'the process after Ctrl-C (SIGINT)');
  const code = r.value?.[0];
  check(echo.equals(Buffer.from('Ada: by hand\nbye')) && code === 0 && /closed/.test(out), {
    did: `the echo was ${show(echo)}; after Ctrl-C the process ${r.error ? 'did not exit: something of the server is still open (a socket or a timer)' : `exited with code ${code}`}; ${shown()}`,
    expected: 'the echo, then on Ctrl-C: close() resolves, "closed" is printed, and the process exits with code 0 by itself, because nothing is left open',
    lesson: lesson('Closing a server'),
  });
}

/** Run by hand on a path where a server already listens: it must say why and exit with code 1. */
export async function runByHandOnBusyPath(file: string, busy: string): Promise<void> {
  const child = track(spawn(process.execPath, ['--import', TSX, file, busy], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] }), 'tsx exercise.ts <busy path>');
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d));
  const code = await within(once(child, 'exit') as Promise<[number | null]>, 5_000, `${RUN_BY_HAND} on a path in use`).then(
    ([c]) => c,
    () => undefined,
  );
  check(code === 1 && /EADDRINUSE/.test(err), {
    did: `${RUN_BY_HAND} ${busy}, where a server already listens: ${code === undefined ? 'it did not exit' : `it exited with code ${code}`}, and printed ${JSON.stringify(err.trim().split('\n')[0] ?? '')}`,
    expected: 'start() rejects with ListenError EADDRINUSE, and the script prints it and exits with code 1',
    lesson: lesson('Errors have codes'),
  });
}

/** Importing the exercise must start nothing: the by-hand server runs only when the file is the program itself. */
export async function importOnly(file: string, dir: string): Promise<void> {
  // A program of its own (a file, so that process.argv[1] is set), which imports yours.
  const program = path.join(dir, 'imports-exercise.mjs');
  writeFileSync(program, `await import(${JSON.stringify(pathToFileURL(file).href)});\nconsole.log('imported');\n`);
  const child = track(spawn(process.execPath, ['--import', TSX, program], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }), 'importing exercise.ts');
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  const r = await within(once(child, 'exit') as Promise<[number | null]>, 5_000, 'a program that only imports exercise.ts').then(
    ([c]) => `exited with code ${c}`,
    () => 'never exited',
  );
  check(r === 'exited with code 0' && !/Echo server on/.test(out), {
    did: `a program that only imports your exercise.ts ${r}; it printed ${JSON.stringify(out.trim())}`,
    expected: 'it exits at once with code 0: importing the module starts no server (runByHand runs only when the file itself is the program)',
    lesson: lesson('The exercise'),
  });
}

