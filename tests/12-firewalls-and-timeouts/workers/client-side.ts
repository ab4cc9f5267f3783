/**
 * Runs inside the client's network namespace (started with `ip netns exec`): calls each target with
 * your callOnce, all at once, and prints one JSON line: per target, the reply or the error's class,
 * code, phase and cause code. It loads your code first, then waits for its job, one JSON line on stdin
 * (sent once the servers are up): { client, host, ports, connectTimeoutMs, idleTimeoutMs }.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

interface Job {
  host: string;
  ports: number[];
  connectTimeoutMs: number;
  idleTimeoutMs: number;
}

try {
  const { callOnce } = (await import(pathToFileURL(process.argv[2]!).href)) as typeof import('../../../chapters/12-firewalls-and-timeouts/client.ts');
  const [line] = (await once(createInterface({ input: process.stdin }), 'line')) as [string];
  const job = JSON.parse(line) as Job;
  const results = await Promise.all(
    job.ports.map(async (port) => {
      try {
        const reply = await callOnce({ host: job.host, port, request: Buffer.from([0x68, 0x69, 0xff]), connectTimeoutMs: job.connectTimeoutMs, idleTimeoutMs: job.idleTimeoutMs });
        return { port, reply: reply.toString('latin1') };
      } catch (err) {
        const e = err as { name?: string; code?: string; phase?: string; cause?: { code?: string } };
        return { port, error: { name: e.name, code: e.code, phase: e.phase, cause: e.cause?.code } };
      }
    }),
  );
  console.log(JSON.stringify({ results }));
  process.exit(0);
} catch (err) {
  console.log(JSON.stringify({ failed: `${(err as Error).name}: ${(err as Error).message}` }));
  process.exit(1);
}
