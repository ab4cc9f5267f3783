/**
 * Runs inside the server's network namespace (started with `ip netns exec`): reply servers on the
 * ports the kernel firewall guards, and your FilteringProxy in front of each of them, on ports the
 * kernel lets through, deciding by the same rules. Prints one JSON line when everything listens;
 * exits when its stdin closes (the test ended) so that nothing outlives the test.
 * argv[2]: JSON { host, exercise, proxy, cases: [{ port, proxyPort }], policy }
 */
import net from 'node:net';
import { pathToFileURL } from 'node:url';

interface Setup {
  host: string;
  exercise: string;
  proxy: string;
  cases: { port: number; proxyPort: number }[];
  policy: unknown;
}

const setup = JSON.parse(process.argv[2]!) as Setup;
process.stdin.on('end', () => process.exit(0)).resume();

try {
  const { Firewall } = (await import(pathToFileURL(setup.exercise).href)) as typeof import('../../../chapters/12-firewalls-and-timeouts/exercise.ts');
  const { FilteringProxy } = (await import(pathToFileURL(setup.proxy).href)) as typeof import('../../../chapters/12-firewalls-and-timeouts/proxy.ts');
  const firewall = new Firewall(setup.policy as ConstructorParameters<typeof Firewall>[0]);
  for (const { port, proxyPort } of setup.cases) {
    // The real server: reads the request to its end, answers "reply:<port>:" + request, and ends.
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      const parts: Buffer[] = [];
      s.on('error', () => {});
      s.on('data', (d: Buffer) => parts.push(d));
      s.on('end', () => s.end(Buffer.concat([Buffer.from(`reply:${port}:`), ...parts])));
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, setup.host, resolve));
    const proxy = new FilteringProxy({ firewall, target: { host: setup.host, port }, host: setup.host, port: proxyPort });
    await proxy.start();
  }
  console.log(JSON.stringify({ ready: true }));
} catch (err) {
  console.log(JSON.stringify({ ready: false, error: `${(err as Error).name}: ${(err as Error).message}` }));
  process.exit(1);
}
