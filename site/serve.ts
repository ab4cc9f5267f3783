/**
 * `npm run site:serve`: build the site, serve it on 127.0.0.1, and rebuild and reload the open
 * pages when a lesson, the manifest, the site's code, the README or the learner's progress changes.
 * Each rebuild runs in a fresh process, so changes to the manifest and the plugins are picked up too.
 */
import { spawn } from 'node:child_process';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIVE_RELOAD_PATH, startServer } from './server.ts';

const siteDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(siteDir, '..');
const portArg = process.argv.indexOf('--port');
const port = Number(portArg > 0 ? process.argv[portArg + 1] : (process.env.PORT ?? 4173));

/** Build in a child process; resolves true when the build succeeded. */
function build(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(siteDir, 'build.ts'), '--live-reload', LIVE_RELOAD_PATH], { cwd: root, stdio: 'inherit' });
    child.on('exit', (code) => resolve(code === 0));
  });
}

let building = false;
let again = false;
let timer: NodeJS.Timeout | undefined;

async function rebuild(server: { reload(): void }): Promise<void> {
  if (building) {
    again = true;
    return;
  }
  building = true;
  const ok = await build();
  building = false;
  if (ok) server.reload();
  else console.error('Keeping the previous build; fix the problem above and save again.');
  if (again) {
    again = false;
    await rebuild(server);
  }
}

/** Whether a changed file (relative to the repository) should trigger a rebuild. */
function relevant(rel: string): boolean {
  const p = rel.split(path.sep).join('/');
  // The build's own output must never trigger a build (it would loop).
  if (p === 'site/dist' || p.startsWith('site/dist/') || p.includes('node_modules/')) return false;
  return p === 'README.md' || p.startsWith('chapters/') || p.startsWith('site/') || p === '.workbook/progress.json';
}

const first = await build();
if (!first) console.error('The first build failed; serving whatever site/dist holds until a change fixes it.');
const server = await startServer({ dir: path.join(siteDir, 'dist'), host: '127.0.0.1', port });
console.log(`Serving the site at ${server.url} (Ctrl-C to stop). Rebuilding on changes.`);

const watchers: FSWatcher[] = [];
const progressDir = path.join(root, '.workbook');
let progressWatched = false;
/** The CLI creates .workbook/ on the first check: start watching it as soon as it exists. */
function watchProgress(): void {
  if (progressWatched || !existsSync(progressDir)) return;
  progressWatched = true;
  watchers.push(watch(progressDir, onChange('.workbook')));
}
function onChange(base: string) {
  return (_event: string, name: string | Buffer | null) => {
    if (name && String(name) === '.workbook' && base === '') watchProgress();
    if (!name || !relevant(path.join(base, String(name)))) return;
    clearTimeout(timer);
    timer = setTimeout(() => void rebuild(server), 120);
  };
}
for (const dir of ['chapters', 'site']) watchers.push(watch(path.join(root, dir), { recursive: true }, onChange(dir)));
watchers.push(watch(root, onChange('')));
watchProgress();

function stop(): void {
  for (const w of watchers) w.close();
  clearTimeout(timer);
  void server.close().then(() => process.exit(0));
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
