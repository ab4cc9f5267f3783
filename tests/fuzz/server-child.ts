/**
 * The fuzz target in a process of its own: chapter 13's HttpServer with the fuzz handler, so that
 * a crash (an uncaught exception, an unhandled rejection) ends this process and the fuzzer sees it,
 * and a parser stuck in a loop stops answering the fuzzer's pings.
 *
 * Started by tests/fuzz/runner.ts with tsx's loader and one JSON argument: { serverFile, options }.
 * IPC: sends { ready: port }; answers 'ping' with 'pong', 'sockets' with { sockets: n } (TCP sockets
 * still open in this process), 'close' with { closed: ms } once server.close() resolves.
 * Nothing here catches errors: a crash must stay a crash.
 */
import { pathToFileURL } from 'node:url';
import { fuzzHandler } from './responses.ts';

interface ServerModule {
  HttpServer: new (
    handler: typeof fuzzHandler,
    options?: Record<string, unknown>,
  ) => { listen(port?: number, host?: string): Promise<{ port: number; host: string }>; close(): Promise<void> };
}

const { serverFile, options } = JSON.parse(process.argv[2] ?? '{}') as { serverFile: string; options: Record<string, unknown> };
const { HttpServer } = (await import(pathToFileURL(serverFile).href)) as ServerModule;
const server = new HttpServer(fuzzHandler, options);
const { port } = await server.listen(0, '127.0.0.1');

/** Open TCP sockets of this process (the listening one and the IPC channel are not TCP sockets of a client). */
function openSockets(): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h) => h?.constructor?.name === 'Socket' && typeof (h as { remotePort?: unknown }).remotePort === 'number').length;
}

process.on('message', (m: unknown) => {
  if (m === 'ping') process.send!('pong');
  else if (m === 'sockets') process.send!({ sockets: openSockets() });
  else if (m === 'close') {
    const started = performance.now();
    void server.close().then(() => process.send!({ closed: performance.now() - started }));
  }
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: port });
