/**
 * `check` end to end, and `npm start` without a terminal: what a learner sees for a failing
 * stub, a pass, a teaching failure with its transcript, a syntax error, an endless loop; and the
 * commands exactly as the lessons print them (`npm run workbook -- check 01`, `npm start`).
 */
import { describe, expect, it } from 'vitest';
import { LEARNER } from './support/fixture.ts';
import { inSandbox, Sandbox } from './support/sandbox.ts';

const lastLine = (s: string) => s.trim().split('\n').pop() ?? '';
// Nothing of vitest's or Node's insides may leak into what a learner reads.
const INTERNALS = /node_modules|RunnerError|vitest|at async|Transform failed|\[vitest-pool\]/;

// Each test has its own sandbox. They run one at a time: every test starts CLI processes that each run a
// vitest of their own, and several at once on a small machine starve one another into timeouts.
// The watchdog's limit is short to keep the hang test quick.
const test = (body: (box: Sandbox) => Promise<void>) => inSandbox(body, { blockedLoopLimitMs: 1_500 });

describe('check', () => {
  it('fails on the stub: every test sentence, then the first failure in full with the line of the learner code; exit 1', test(async (box) => {
    const r = await box.run(['check', '01']);
    expect(r.code, r.output).toBe(1);
    expect(r.stdout).toMatch(/^adding\n {2}✗ adds two small numbers\n {2}✗ adds negative numbers\ndoubling\n {2}✗ doubles zero\n {2}✗ doubles a positive number$/m);
    expect(r.stdout).toMatch(/── First failure ─+\n✗ adding › adds two small numbers\n\nNotImplementedError: add is not implemented yet\. Open chapters\/01-adder\/exercise\.ts/);
    expect(r.stdout).toMatch(/at chapters\/01-adder\/exercise\.ts:6:10 \(in add\)\n.*\n.*\n> 6 \| {3}return todo\(import\.meta\.url, 'add'\);/);
    expect(r.stdout).toMatch(/0 of 4 tests pass/);
    expect(lastLine(r.stdout)).toMatch(/npm run workbook -- hint 01$/);
    expect(r.stdout).not.toMatch(INTERNALS);
  }), 20_000);

  it("shows a teaching failure's transcript and what the learner code printed", test(async (box) => {
    box.write('chapters/02-greeter/exercise.ts', LEARNER.greeterWrong);
    const r = await box.run(['check', 'greeter']);
    expect(r.code, r.output).toBe(1);
    expect(r.stdout).toMatch(/What happened: greet\("Bram"\) returned "Hi Bram"\nExpected: +"Hello, Bram!"/);
    expect(r.stdout).toMatch(/Wire transcript:[\s\S]*Ada -> your greet\(\), 4 bytes[\s\S]*\|Bram\|[\s\S]*your greet\(\) -> Ada, 7 bytes[\s\S]*\|Hi Bram\|/);
    expect(r.stdout).toMatch(/Printed during this test:\n {2}greeting Bram/);
    expect(r.stdout).toMatch(/The test: tests\/02-greeter\/greeter\.test\.ts:\d+:\d+/);
    expect(r.stdout).not.toMatch(INTERNALS);
  }), 20_000);

  it('shows a syntax error as file:line:col with the line, not a stack of runner internals', test(async (box) => {
    box.write('chapters/01-adder/exercise.ts', LEARNER.adderSyntaxError);
    const r = await box.run(['check', 'adder']);
    expect(r.code, r.output).toBe(1);
    expect(r.stdout).toMatch(/✗ Your code does not compile\.\n\nchapters\/01-adder\/exercise\.ts:8:\d+ {2}\S.*\n(.*\n)*> +8 \| {3}return a \* 2 \+;\n +\| +\^/);
    expect(r.stdout).not.toMatch(INTERNALS);
    expect(r.stdout).not.toMatch(/^\s+at /m);
  }), 20_000);

  it('turns an endless loop into a named failure in seconds, instead of a hung run', test(async (box) => {
    box.write('chapters/01-adder/exercise.ts', LEARNER.adderEndlessLoop);
    const r = await box.run(['check', '1'], { timeoutMs: 30_000 });
    expect(r.code, r.output).toBe(1);
    expect(r.stdout).toMatch(/⧗ doubles a positive number — this test blocked the event loop \(endless loop \/ Atomics\.wait without timeout\)/);
    expect(r.stdout).toMatch(/This test blocked the event loop for \d+\.\d s/);
    expect(r.stdout).not.toMatch(INTERNALS);
  }), 30_000);

  it('passes after the fix: exit 0, congratulations, the solution to compare, the next chapter; progress records it', test(async (box) => {
    box.solve('01-adder');
    const r = await box.run(['check', '01-adder']);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toMatch(/✓ All 4 tests pass\. Chapter 01 is done/);
    expect(r.stdout).toMatch(/reference solution: npm run workbook -- solution 01/);
    expect(lastLine(r.stdout)).toMatch(/Next: 02 · Greeting: npm run workbook -- check 02$/);
    const p = JSON.parse(box.read('.workbook/progress.json'));
    expect(p.chapters['01-adder']).toMatchObject({ passed: true, passedAt: expect.any(String) });
  }), 20_000);

  it('runs as the lessons print it: npm run workbook -- check 02', test(async (box) => {
    const r = await box.run(['run', '--silent', 'workbook', '--', 'check', '02'], { argv0: ['npm'] });
    expect(r.code, r.output).toBe(1);
    expect(r.stdout).toMatch(/^02 · Greeting/m);
  }), 20_000);
});

describe('npm start without a terminal', () => {
  it('checks the current chapter once, prints the result and exits with its code (CI=true)', test(async (box) => {
    const failing = await box.run(['start'], { argv0: ['npm'], env: { CI: 'true' } });
    expect(failing.code, failing.output).toBe(1);
    expect(failing.stdout).toMatch(/^01 · Adding/m); // the first chapter not passed
    expect(failing.stdout).toMatch(/0 of 4 tests pass/);
    box.solve('01-adder');
    const passing = await box.run(['start'], { argv0: ['npm'], env: { CI: 'true' } });
    expect(passing.code, passing.output).toBe(0);
    expect(passing.stdout).toMatch(/✓ All 4 tests pass/);
  }), 30_000);
});

describe('with the real chapters', () => {
  it('checks the first chapter written so far against its untouched stub', async (ctx) => {
    const real = await Sandbox.create({ realChapters: true });
    try {
      const { availableChapters } = await import('../../cli/core/session.ts');
      const first = availableChapters()[0];
      if (!first) ctx.skip('no chapter has a test suite yet');
      const r = await real.run(['check', String(first!.number)], { timeoutMs: 40_000 });
      expect(r.code, r.output).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`^${String(first!.number).padStart(2, '0')} · `, 'm'));
      expect(r.stdout).toMatch(/✗ /);
      expect(r.stdout).not.toMatch(INTERNALS);
    } finally {
      await real.remove();
    }
  }, 45_000);
});
