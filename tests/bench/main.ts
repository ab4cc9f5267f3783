/**
 * `npm run bench [-- <name>]`: the workbook's benchmark scripts. Performance is measured here,
 * by scripts that print figures, never by timed tests.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { benchmarkedChapters } from '../../bench/registry.ts';
import { repoRoot } from '../../engine/impl.ts';

/**
 * Every benchmark: name, script and arguments, what it measures. The chapters' come from
 * bench/registry.ts: the same modules `npm run workbook -- bench <ch>` runs for learners.
 */
const benches = [
  { name: 'cli', script: 'tests/bench/cli.ts', args: [] as string[], what: 'median time of `check <ch>` and of save -> result in `npm start`' },
  { name: 'site', script: 'site/bench.ts', args: [], what: 'build time of the whole site' },
  ...benchmarkedChapters.map((id) => ({ name: id.slice(0, 2), script: 'bench/reference.ts', args: [id], what: `chapter ${id}: the reference solution against the platform baseline` })),
];

const [name, ...rest] = process.argv.slice(2);
const chosen = name ? benches.filter((b) => b.name === name) : benches;
if (name && chosen.length === 0) {
  console.error(`No benchmark "${name}". Benchmarks: ${benches.map((b) => b.name).join(', ')}\n  -> npm run bench -- ${benches[0]!.name}`);
  process.exit(2);
}
let failed = false;
for (const b of chosen) {
  console.log(`\n== ${b.name}: ${b.what}\n   npx tsx ${[b.script, ...b.args].join(' ')}\n`);
  const tsx = path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs');
  const res = spawnSync(process.execPath, [tsx, b.script, ...b.args, ...rest], { cwd: repoRoot, stdio: 'inherit' });
  if (res.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
