/**
 * Benchmark of the whole-site build (target: under 3 s).
 *   npx tsx site/bench.ts [--runs 10] [--only-written]
 * Reports the cold time of `npm run site`'s process (startup included) and the warm time of the
 * build itself, in process. --only-written leaves out manifest chapters whose lesson is not written yet.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chapterPaths, chapters as all, parts } from '../chapters/manifest.ts';
import { buildSite } from './build.ts';

const TARGET_MS = 3_000;
const siteDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(siteDir, '..');
const runsAt = process.argv.indexOf('--runs');
const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 10;
const chapters = process.argv.includes('--only-written') ? all.filter((c) => existsSync(path.join(root, chapterPaths(c).lesson))) : all;
const outAt = process.argv.indexOf('--out');
const out = outAt > 0 ? process.argv[outAt + 1]! : mkdtempSync(path.join(os.tmpdir(), 'workbook-bench-'));

const ms = (n: number) => `${n.toFixed(0)} ms`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Build once in this process (the cold runs start the bench itself with --once). */
function once(): void {
  buildSite({ root, outDir: out, chapters, parts, progressFile: null });
}

try {
  if (process.argv.includes('--once')) {
    once();
    process.exit(0); // the parent owns `out`
  }
  // Cold: a fresh process, as `npm run site` runs it (node + tsx startup, imports, build, writes).
  const cold: number[] = [];
  const flags = ['--once', '--out', out, ...(chapters.length < all.length ? ['--only-written'] : [])];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...flags], { cwd: root, stdio: 'pipe' });
    cold.push(performance.now() - t0);
  }
  // Warm: the build alone, in this process.
  const warm: number[] = [];
  let pages = 0;
  for (let i = 0; i < runs; i++) {
    const r = buildSite({ root, outDir: out, chapters, parts, progressFile: null });
    warm.push(r.ms);
    pages = r.pages.length;
  }
  const worst = Math.max(median(cold), median(warm));
  console.log(`Site build, ${chapters.length} chapters, ${pages} pages (${os.cpus().length} cores, node ${process.version})`);
  console.log(`  cold (new process, like npm run site): median ${ms(median(cold))}, best ${ms(Math.min(...cold))} over ${cold.length} runs`);
  console.log(`  warm (build only, in process):         median ${ms(median(warm))}, best ${ms(Math.min(...warm))} over ${warm.length} runs`);
  console.log(`  target < ${ms(TARGET_MS)}: ${worst < TARGET_MS ? 'met' : 'MISSED'}`);
  process.exitCode = worst < TARGET_MS ? 0 : 1;
} catch (err) {
  const e = err as { stderr?: Buffer; message: string };
  console.error(`The benchmark could not build the site: ${e.stderr?.toString().trim() || e.message}`);
  console.error('While lessons are still being written, run: npx tsx site/bench.ts --only-written');
  process.exitCode = 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
