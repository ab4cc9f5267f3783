/**
 * `bench` end to end, in a sandbox with the real chapters: it refuses while the chapter's tests
 * fail, explains a chapter without a benchmark and a bad --rounds, and once the chapter passes it
 * prints the side-by-side table and writes a self-contained SVG chart and the figures.
 * Chapter 08's benchmark runs on a simulated clock, so what it prints is the same on any machine;
 * no timing is asserted here, only the shape of what the command produces.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliRun } from './support/sandbox.ts';
import { Sandbox } from './support/sandbox.ts';

let box: Sandbox;
const runs: Record<string, CliRun> = {};
const FILES = ['exercise.ts', 'receiver.ts', 'rto.ts', 'segment.ts', 'udp.ts'];

beforeAll(async () => {
  box = await Sandbox.create({ realChapters: true });
  runs.unbenched = await box.run(['bench', '02']);
  runs.badRounds = await box.run(['bench', '08', '--rounds', 'zero']);
  runs.refused = await box.run(['bench', '08', '--quick'], { timeoutMs: 60_000 });
  runs.refusedHadSvg = { code: box.exists('.workbook/bench/08-reliable-delivery.svg') ? 1 : 0, stdout: '', stderr: '', output: '', ms: 0 };
  for (const f of FILES) box.write(`chapters/08-reliable-delivery/${f}`, box.bytes(`solutions/08-reliable-delivery/${f}`));
  runs.passed = await box.run(['bench', '08', '--quick'], { timeoutMs: 90_000 });
}, 200_000);

afterAll(async () => box?.remove());

describe('bench', () => {
  it('names the chapters that have a benchmark when asked for one that has none', () => {
    expect(runs.unbenched!.code).toBe(2);
    expect(runs.unbenched!.stderr).toContain('Chapter 02 has no benchmark. Chapters with one: 01, 04, 07, 08, 09, 13.');
  });

  it('refuses a --rounds that is not a whole number from 1 to 50', () => {
    expect(runs.badRounds!.code).toBe(2);
    expect(runs.badRounds!.stderr).toContain('--rounds takes a whole number from 1 to 50, not "zero"');
  });

  it('refuses while the chapter fails its tests, says why and how to fix it, and writes nothing', () => {
    const r = runs.refused!;
    expect(r.code, r.output).toBe(1);
    expect(r.stderr).toMatch(/Chapter 08 does not pass yet \(0 of \d+ tests pass\), so it is not benchmarked: a broken implementation is not worth timing/);
    expect(r.stderr).toContain('npm run workbook -- check 08');
    expect(r.output).not.toContain('goodput');
    expect(runs.refusedHadSvg!.code, 'no chart is written for a failing chapter').toBe(0);
  });

  it('once the chapter passes, prints learner, reference and baseline side by side with the ratios', () => {
    const r = runs.passed!;
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toMatch(/✓ Chapter 08's \d+ tests pass\. Benchmarking/);
    const lines = r.stdout.split('\n');
    const header = lines.find((l) => l.includes('your protocol') && l.includes('you / reference'));
    expect(header, r.stdout).toBeDefined();
    expect(header).toContain('reference protocol');
    expect(header).toContain('you / lossless run');
    // The same code on the same simulated channel and seeds: identical figures, a ratio of exactly 1.
    for (const loss of ['0%', '5%', '10%', '20%', '30%']) {
      const row = lines.find((l) => l.trimStart().startsWith(`${loss} `));
      expect(row, `a row for ${loss} loss`).toBeDefined();
      expect(row).toMatch(/KiB\/s.*1\.0x/);
    }
    expect(r.stdout).toMatch(/At 5%: your protocol [\d.]+ KiB\/s goodput \(simulated time\), 1\.0x reference protocol and 0\.\d+x lossless run/);
    expect(r.stdout).toContain('Chart: .workbook/bench/08-reliable-delivery.svg');
  });

  it('writes a self-contained SVG chart with a line per subject, described in words, and the figures as JSON', () => {
    const svg = box.read('.workbook/bench/08-reliable-delivery.svg');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const kind of ['learner', 'reference', 'baseline']) expect(svg).toContain(`class="series series-${kind}"`);
    expect(svg).toMatch(/<title id="chart-08-title">Sliding window: goodput by loss rate/);
    expect(svg).toMatch(/<desc id="chart-08-desc">Line chart of goodput \(simulated time\).*your protocol: 0% [\d.]+ KiB\/s/);
    expect(svg).toContain('prefers-color-scheme: dark');
    expect(svg).not.toMatch(/<script|href=|url\(/i);
    const figures = JSON.parse(box.read('.workbook/bench/08-reliable-delivery.json')) as { chapter: string; quick: boolean; subjects: { kind: string }[]; stats: Record<string, Record<string, Record<string, { median: number }>>> };
    expect(figures.chapter).toBe('08-reliable-delivery');
    expect(figures.quick).toBe(true);
    expect(figures.subjects.map((s) => s.kind)).toEqual(['learner', 'reference', 'baseline']);
    expect(figures.stats.goodput!['0.05']!.learner!.median).toBe(figures.stats.goodput!['0.05']!.reference!.median);
  });
});
