/**
 * `npm run bench [-- <name>]`: the workbook's benchmark scripts. Performance is measured here,
 * by scripts that print figures, never by timed tests.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../../engine/impl.ts';

/** Every benchmark: name, script, what it measures. */
const benches = [
  { name: 'cli', script: 'tests/bench/cli.ts', what: 'median time of `check <ch>` and of save -> result in `npm start`' },
  { name: 'site', script: 'site/bench.ts', what: 'build time of the whole site' },
  { name: '07', script: 'tests/bench/07-relay.ts', what: "chapter 07: the relay's throughput and peak buffered bytes vs pipe() and a write()-ignoring relay" },
  { name: '08', script: 'tests/bench/08-goodput.ts', what: 'chapter 08: goodput at 0%, 5% and 20% loss as a fraction of the lossless run' },
];

const [name, ...rest] = process.argv.slice(2);
const chosen = name ? benches.filter((b) => b.name === name) : benches;
if (name && chosen.length === 0) {
  console.error(`No benchmark "${name}". Benchmarks: ${benches.map((b) => b.name).join(', ')}\n  -> npm run bench -- ${benches[0]!.name}`);
  process.exit(2);
}
let failed = false;
for (const b of chosen) {
  console.log(`\n== ${b.name}: ${b.what}\n   npx tsx ${b.script}\n`);
  const tsx = path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs');
  const res = spawnSync(process.execPath, [tsx, b.script, ...rest], { cwd: repoRoot, stdio: 'inherit' });
  if (res.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
