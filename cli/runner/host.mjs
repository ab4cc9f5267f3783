// The vitest host: a worker thread that keeps one vitest instance warm and runs chapter suites on
// request. It is plain JavaScript and runs without tsx's loader hooks, because those hooks make
// importing vitest about three times slower (0.6 s instead of 0.16 s), and the test processes it
// forks inherit a clean execArgv. The main thread (cli/runner/runner.ts) builds the project config
// with engine/projects.ts and sends plain data; results come back as the engine's one result type
// (engine/types.ts), made by engine/results.mjs, which the self-check and `grade` use too. It may be started before the configuration is known
// (cli/runner/prestart.ts), so that loading vitest overlaps with loading the CLI.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import { clearHangs, collect, strip } from '../../engine/results.mjs';

// Start loading vitest at once; the configuration arrives as the first message ('init').
const vitestModule = import('vitest/node');
const inbox = [];
let deliver;
parentPort.on('message', (m) => (deliver ? deliver(m) : inbox.push(m)));
const init = await new Promise((resolve) => {
  deliver = (m) => (m.type === 'init' ? resolve(m) : inbox.push(m));
});
deliver = undefined;

/** @type {{ root: string, options: Record<string, unknown>, cacheDir: string }} */
const { root, options, cacheDir } = init;
const hangDir = mkdtempSync(path.join(os.tmpdir(), 'workbook-hangs-'));
process.env.WORKBOOK_HANG_DIR = hangDir;
for (const p of options.projects) p.test.env = { ...p.test.env, WORKBOOK_HANG_DIR: hangDir };

// Console output of tests, by test id; raw output of the test processes (the watchdog writes there).
const logs = new Map();
let rawOutput = '';
const sink = () => {
  const s = new PassThrough();
  s.on('data', (d) => {
    if (rawOutput.length < 20_000) rawOutput += d.toString();
  });
  return s;
};
const collector = {
  onUserConsoleLog(log) {
    const key = log.taskId ?? '';
    const list = logs.get(key) ?? [];
    if (list.join('').length < 8_000) list.push(log.content);
    logs.set(key, list);
  },
};

const t0 = performance.now();
const { createVitest } = await vitestModule;
// fsModuleCache keeps transformed files on disk between runs (keyed by content): a cold check saves ~20%.
const experimental = { fsModuleCache: true, fsModuleCachePath: cacheDir };
const vitest = await createVitest('test', { ...options, experimental, reporters: [collector] }, {}, { stdout: sink(), stderr: sink() });
parentPort.postMessage({ type: 'ready', ms: performance.now() - t0 });

async function run({ files, invalidate }) {
  const t = performance.now();
  clearHangs(hangDir);
  logs.clear();
  rawOutput = '';
  for (const f of invalidate ?? []) vitest.invalidateFile(f);
  const project = vitest.projects[0];
  const specs = files.map((f) => project.createSpecification(f));
  try {
    await vitest.runTestSpecifications(specs);
  } catch (err) {
    // A failing run is reported through the collected results, not thrown.
    if (!(err instanceof Error) || !/failed|error/i.test(err.message)) throw err;
  }
  return { ...collect(vitest, { root, hangDir, files, logs }), output: strip(rawOutput), durationMs: performance.now() - t };
}

// One request at a time: a run asked for while another runs waits for it.
let queue = Promise.resolve();
deliver = (msg) => {
  if (msg.type === 'close') {
    queue = queue.then(async () => {
      await vitest.close();
      rmSync(hangDir, { recursive: true, force: true });
      parentPort.postMessage({ type: 'closed' });
    });
    return;
  }
  if (msg.type === 'run') {
    queue = queue.then(async () => {
      try {
        parentPort.postMessage({ type: 'result', id: msg.id, result: await run(msg) });
      } catch (err) {
        parentPort.postMessage({ type: 'error', id: msg.id, message: String(err?.stack ?? err) });
      }
    });
  }
};
for (const m of inbox.splice(0)) deliver(m);
