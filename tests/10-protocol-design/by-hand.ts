/**
 * Chapter 10's child processes: your exercise.ts run by hand (npx tsx exercise.ts <port>), as a learner
 * runs it to talk to it with nc, and a program that only imports it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Explanation } from '../helpers/index.ts';
import { eventually, implFile, onCleanup, track, within } from '../helpers/index.ts';
import { repoRoot } from '../../engine/impl.ts';
import { ID, LIMIT, TestClient, show } from './harness.ts';

/** `node --import tsx`, wherever the working directory is. */
const TSX = pathToFileURL(path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** Run exercise.ts with `port`: it must announce itself, greet a client, and exit with code 0 after SIGINT. */
export async function runByHand(port: number): Promise<{ ok: boolean; explanation: Explanation }> {
  const file = implFile(ID, 'exercise.ts');
  const child = track(spawn(process.execPath, ['--import', TSX, file, String(port)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] }), 'tsx exercise.ts <port>');
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (err += d));
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const shown = () => `its output: ${JSON.stringify(out.trim().split('\n')[0] ?? '')}${err.trim() ? `, errors: ${JSON.stringify(err.trim().split('\n')[0])}` : ''}`;
  const up = await eventually(() => out.includes(`Chat server on 127.0.0.1:${port}`) || child.exitCode !== null, 5_000);
  if (!up || child.exitCode !== null) {
    return { ok: false, explanation: { did: `npx tsx exercise.ts ${port} ${child.exitCode !== null ? `exited with code ${child.exitCode}` : 'printed no "Chat server on ..." within 5 s'}; ${shown()}`, expected: `"Chat server on 127.0.0.1:${port}. ...": a server on the port given` } };
  }
  const c = await TestClient.connect(port, 'by hand');
  c.send({ type: 'hello', versions: [1], name: 'ada' });
  const welcome = await c.nextMessage();
  child.kill('SIGINT');
  const code = await within(exited, LIMIT, 'the process after Ctrl-C (SIGINT)').then(
    ([n]) => n,
    () => undefined,
  );
  const ok = welcome?.type === 'welcome' && code === 0 && /closed/.test(out);
  return {
    ok,
    explanation: {
      did: `the server run by hand answered a hello with ${show(welcome)}; after Ctrl-C the process ${code === undefined ? 'did not exit: something is still open (a socket, a timer)' : `exited with code ${code}`}; ${shown()}`,
      expected: 'a welcome, then on Ctrl-C: close() resolves, "closed" is printed, and the process exits with code 0 by itself',
      transcript: c.transcript,
    },
  };
}

/** Importing exercise.ts must start nothing: the by-hand server runs only when the file is the program itself. */
export async function importOnly(): Promise<{ ok: boolean; explanation: Explanation }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'workbook-10-'));
  onCleanup(`temp dir ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  // A program of its own (a file, so that process.argv[1] is set), which imports yours.
  const program = path.join(dir, 'imports-exercise.mjs');
  writeFileSync(program, `await import(${JSON.stringify(pathToFileURL(implFile(ID, 'exercise.ts')).href)});\nconsole.log('imported');\n`);
  const child = track(spawn(process.execPath, ['--import', TSX, program, '4010'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }), 'importing exercise.ts');
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  const r = await within(once(child, 'exit') as Promise<[number | null]>, 5_000, 'a program that only imports exercise.ts').then(
    ([c]) => `exited with code ${c}`,
    () => 'never exited',
  );
  return {
    ok: r === 'exited with code 0' && !/Chat server on/.test(out),
    explanation: {
      did: `a program that only imports your exercise.ts ${r}; it printed ${JSON.stringify(out.trim())}`,
      expected: 'it exits at once with code 0: importing the module starts no server (runByHand runs only when the file itself is the program)',
    },
  };
}
