/**
 * The CLI's speed on this machine (a benchmark, not a test): the median time of
 * `npm run workbook -- check <ch>`, and the median time from saving the exercise file to the
 * result on screen in `npm start`. Runs in a temporary copy of the workbook with the CLI's
 * fixture chapter (or a real chapter with --chapter), never in your chapters/.
 *
 *   npx tsx tests/bench/cli.ts [--runs 10] [--chapter 04]
 * Targets: check < 1.2 s, save -> result < 1.5 s.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { chapterPaths, chapters, findChapter } from '../../chapters/manifest.ts';
import { PtySession, ptyUnavailable } from '../cli/support/pty.ts';
import { Sandbox } from '../cli/support/sandbox.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, chapter: { type: 'string' } } });
const runs = Number(values.runs);
const real = values.chapter ? findChapter(values.chapter) : undefined;
if (values.chapter && !real) throw new Error(`No chapter "${values.chapter}"; see npm run workbook -- list`);
const id = real?.id ?? '01-adder';
const ref = id.slice(0, 2);
const main = real ? chapterPaths(real).stubs[0]! : 'chapters/01-adder/exercise.ts';
const solution = real ? chapterPaths(real).solutions[0]! : 'solutions/01-adder/exercise.ts';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const summary = (label: string, xs: number[], target: number) =>
  `${label.padEnd(58)} median ${fmt(median(xs))}  (min ${fmt(Math.min(...xs))}, max ${fmt(Math.max(...xs))}, n=${xs.length})  target < ${fmt(target)} ${median(xs) < target ? 'OK' : 'OVER'}`;

const box = await Sandbox.create({ realChapters: Boolean(real) });
const stub = box.bytes(main);
const solved = box.bytes(solution);
console.log(`Benchmark on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; chapter ${id}; sandbox ${box.root}`);
try {
  // Warm up: tsx's transform cache, the progress file, the stub snapshot.
  await box.run(['check', ref]);

  const times: Record<string, number[]> = { npmFail: [], npmPass: [], binFail: [] };
  for (let i = 0; i < runs; i++) {
    box.write(main, stub);
    times.npmFail!.push((await box.run(['run', '--silent', 'workbook', '--', 'check', ref], { argv0: ['npm'] })).ms);
    times.binFail!.push((await box.run(['check', ref])).ms);
    box.write(main, solved);
    times.npmPass!.push((await box.run(['run', '--silent', 'workbook', '--', 'check', ref], { argv0: ['npm'] })).ms);
  }
  box.write(main, stub);
  console.log(summary(`npm run workbook -- check ${ref} (failing)`, times.npmFail!, 1200));
  console.log(summary(`npm run workbook -- check ${ref} (passing)`, times.npmPass!, 1200));
  console.log(summary(`npm run workbook -- check ${ref} (all)`, [...times.npmFail!, ...times.npmPass!], 1200));
  console.log(summary(`node cli/bin.mjs check ${ref} (the workbook bin, failing)`, times.binFail!, 1200));

  const noPty = ptyUnavailable();
  if (noPty) {
    console.log(`save -> result: skipped (${noPty})`);
  } else {
    // The chapter must be current for npm start: earlier chapters passed, this one not.
    const before = chapters.slice(0, chapters.findIndex((c) => c.id === id));
    const passed = Object.fromEntries(before.map((c) => [c.id, { passed: true, passedAt: new Date().toISOString(), hintsSeen: 0 }]));
    box.write('.workbook/progress.json', JSON.stringify({ version: 1, chapters: passed }));
    const term = new PtySession(['npm', 'start'], { cwd: box.root });
    try {
      await term.waitFor(/tests pass/, 30_000);
      const saves: number[] = [];
      for (let i = 0; i < runs; i++) {
        const pass = i % 2 === 0;
        const mark = term.mark();
        const t0 = performance.now();
        box.write(main, pass ? solved : stub);
        await term.waitFor(pass ? /All \d+ tests pass/ : /\d+ of \d+ tests pass/, 30_000, () => term.since(mark));
        saves.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 150)); // let the screen settle before the next save
      }
      term.press('q');
      await term.exited;
      console.log(summary(`save -> result on screen in npm start`, saves, 1500));
    } finally {
      await term.stop();
    }
  }
} finally {
  await box.remove();
}
