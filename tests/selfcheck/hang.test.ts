/**
 * The runner-level guarantee: learner code that hangs (an endless loop, Atomics.wait with no
 * timeout, a promise that never settles) ends as a failure that names the test, within seconds,
 * and never as a hung runner.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runPhase, testsOf } from '../../engine/run.ts';
import type { RunResult } from '../../engine/types.ts';

const FIXTURE = 'tests/selfcheck/fixtures/hang.fixture.ts';
const STUCK = 'runs learner code that never returns';
let run: RunResult;
let seconds = 0;

describe('the watchdog and timeouts', () => {
  beforeAll(async () => {
    const t0 = Date.now();
    // Three hanging variants at once, as three projects of one run. A short watchdog limit (as the CLI's
    // hang test uses) proves the same mechanism without burning a core for the default 5 s.
    run = await runPhase(['loop', 'atomics', 'promise'].map((mode) => ({ name: `hang-${mode}`, impl: 'solutions', files: [FIXTURE], blockedLoopLimitMs: 1_500 })), {
      maxWorkers: 3,
    });
    seconds = (Date.now() - t0) / 1000;
  }, 40_000);

  it('ends the whole run well under 30 s', () => {
    expect(seconds).toBeLessThan(30);
  });

  it.each(['loop', 'atomics'])('stops a main-thread %s hang and names the test that hung', (mode) => {
    const hang = run.hangs.find((h) => h.project === `hang-${mode}`);
    expect(hang?.test).toBe(STUCK);
    const stuck = testsOf(run, `hang-${mode}`).find((t) => t.name === STUCK);
    expect(stuck?.state).not.toBe('passed');
    // The hang is also on the module it stopped, as the learner's runner reports it.
    expect(run.modules.find((m) => m.project === `hang-${mode}`)?.hang?.test).toBe(STUCK);
  });

  it('fails a never-settling promise by name at the test timeout', () => {
    const stuck = testsOf(run, 'hang-promise').find((t) => t.name === STUCK);
    expect(stuck?.state).toBe('failed');
    expect(stuck?.error?.message).toMatch(/timed out/i);
    expect(testsOf(run, 'hang-promise').find((t) => t.name !== STUCK)?.state).toBe('passed');
  });
});
