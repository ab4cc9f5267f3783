/** `ui`: the vitest UI on the learner's code, reachable on 127.0.0.1 and listening on nothing else. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, Sandbox } from './support/sandbox.ts';

let box: Sandbox;
beforeAll(async () => {
  box = await Sandbox.create();
});
afterAll(async () => box?.remove());

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

/** The local addresses listening on `port`, from /proc/net/tcp{,6} (Linux). */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((cols) => cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A') // 0A = LISTEN
      .map((cols) => cols[1]!.split(':')[0]!),
  );
}

describe('ui', () => {
  it('serves the vitest UI for one chapter on 127.0.0.1 only', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [box.path('cli/bin.mjs'), 'ui', '01', '--port', String(port)], { cwd: box.root, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    try {
      const url = `http://127.0.0.1:${port}/__vitest__/`;
      let status = 0;
      for (let i = 0; i < 150 && status !== 200; i++) {
        status = await fetch(url).then((r) => r.status, () => 0);
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status, output).toBe(200);
      expect(output).toMatch(new RegExp(`http://127\\.0\\.0\\.1:${port}/__vitest__/`));
      if (existsSync('/proc/net/tcp')) expect(listeners(port)).toEqual(['0100007F']); // 127.0.0.1, nothing on 0.0.0.0 or ::
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    }
  }, 30_000);

  it('refuses a port that is not a number, ending with the command that fixes it', async () => {
    const r = await box.run(['ui', '--port', 'eighty']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').pop()).toMatch(/npm run workbook -- ui --port 51204$/);
  }, 10_000);
});
