/** A small static file server for the built site, with a rebuild event stream for live reload. */
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** The path pages listen on for "reload" events. */
export const LIVE_RELOAD_PATH = '/__reload';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** A running site server. */
export interface SiteServer {
  url: string;
  port: number;
  /** Tell every open page to reload. */
  reload(): void;
  close(): Promise<void>;
}

/** The file a URL path names inside `dir`, or undefined if it is outside or missing. */
function fileFor(dir: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const file = path.join(dir, path.normalize(decoded));
  if (path.relative(dir, file).startsWith('..')) return undefined;
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) return fileFor(dir, `${urlPath.replace(/\/?$/, '/')}index.html`);
    return stat.isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

/** Serve `dir` on host:port (port 0 picks a free one). */
export async function startServer(options: { dir: string; host?: string; port?: number }): Promise<SiteServer> {
  const dir = path.resolve(options.dir);
  const streams = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === LIVE_RELOAD_PATH) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      res.write(': connected\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const file = fileFor(dir, url.pathname);
    const status = file ? 200 : 404;
    const served = file ?? fileFor(dir, '/404.html');
    if (!served) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found. Build the site first: npm run site\n');
      return;
    }
    res.writeHead(status, { 'content-type': TYPES[path.extname(served)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(served).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}/`,
    port,
    reload() {
      for (const res of streams) res.write('event: reload\ndata: now\n\n');
    },
    close() {
      for (const res of streams) res.end();
      streams.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
