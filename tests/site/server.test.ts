/** The static server behind `npm run site:serve`: files, directories, 404s, no escape, live reload. */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_RELOAD_PATH, startServer, type SiteServer } from '../../site/server.ts';
import { buildFixture, tempDir } from './fixtures/harness.ts';

const out = tempDir('workbook-serve-');
let server: SiteServer;

beforeAll(async () => {
  buildFixture(out.dir);
  server = await startServer({ dir: out.dir, host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await server?.close();
  out.remove();
});

/** GET a raw path (not normalized by a URL parser). */
function get(rawPath: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: server.port, path: rawPath }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.setTimeout(2_000, () => req.destroy(new Error(`GET ${rawPath} timed out`)));
  });
}

describe('the site server', () => {
  it('listens on 127.0.0.1 on the port it was given (0: any free one)', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    expect(server.port).toBeGreaterThan(0);
  });

  it('serves pages, directories as their index.html, and assets with their types', async () => {
    expect(await get('/')).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect((await get('/03-echo/')).body).toContain('The socket’s lifecycle');
    expect((await get('/assets/style.css')).type).toBe('text/css; charset=utf-8');
    expect((await get('/search-index.json')).type).toBe('application/json; charset=utf-8');
  });

  it('answers a missing page with 404 and the not-found page', async () => {
    const r = await get('/no-such-page.html');
    expect(r.status).toBe(404);
    expect(r.body).toContain('Page not found');
  });

  it('never serves a file outside the site folder', async () => {
    for (const p of ['/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/etc/passwd', '/%E0%A4%A']) expect((await get(p)).status).toBe(404);
  });

  it('tells open pages to reload after a rebuild', async () => {
    const event = await new Promise<string>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: server.port, path: LIVE_RELOAD_PATH }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
          if (text.includes(': connected')) server.reload();
          if (text.includes('event: reload')) {
            resolve(text);
            req.destroy();
          }
        });
      });
      req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
      req.setTimeout(2_000, () => req.destroy(new Error('no reload event within 2 s')));
    });
    expect(event).toContain('event: reload');
  });
});
