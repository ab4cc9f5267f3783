/**
 * `npm start` on a terminal, driven through a pseudo-terminal as a learner would: the current
 * chapter's results, save -> re-run -> pass -> next, and the keys h l n r s q.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_FILES } from './support/fixture.ts';
import { PtySession, ptyUnavailable } from './support/pty.ts';
import { Sandbox } from './support/sandbox.ts';

const noPty = ptyUnavailable();
if (noPty) console.warn(`[workbook] interactive CLI tests skipped: ${noPty}`);

let box: Sandbox;
let term: PtySession | undefined;
beforeAll(async () => {
  box = await Sandbox.create();
});
afterAll(async () => {
  await term?.stop();
  await box?.remove();
});

/** Save like an editor that writes a temp file and renames it over the original. */
function editorSave(rel: string, data: Buffer | string): void {
  const tmp = box.path(`${rel}.swp-tmp`);
  writeFileSync(tmp, data);
  renameSync(tmp, box.path(rel));
}

describe.skipIf(noPty)('npm start on a terminal', () => {
  it('shows the current chapter, re-runs on save, passes, moves on, and handles h l n r s q', async () => {
    term = new PtySession(['npm', 'start'], { cwd: box.root });
    let screen = await term.waitFor(/0 of 4 tests pass/, 20_000);
    expect(screen).toMatch(/\[░+\] 0\/2 chapters/);
    expect(screen).toMatch(/01 · Adding/);
    expect(screen).toMatch(/✗ adds two small numbers/);
    expect(screen).toMatch(/h hint · l list · n next · r reset · s solution · q quit/);

    // n and s wait for a pass.
    term.press('n');
    await term.waitFor(/Chapter 01 has not passed yet; n moves on once it passes/);
    term.press('s');
    await term.waitFor(/The solution of chapter 01 opens once the chapter passes/);
    expect(box.exists('chapters/01-adder/exercise.solution.ts')).toBe(false);

    // h shows the next hint.
    term.press('h');
    await term.waitFor(/Hint 1 of 3\n\s+Which operator adds two numbers\?/);

    // Saving a fix re-runs the tests (an editor-style replace), and they pass.
    const t0 = performance.now();
    editorSave('chapters/01-adder/exercise.ts', box.bytes('solutions/01-adder/exercise.ts'));
    screen = await term.waitFor(/All 4 tests pass/, 15_000);
    console.log(`[workbook] save -> result on screen: ${Math.round(performance.now() - t0)} ms`);
    expect(screen).toMatch(/✓ All 4 tests pass\. Chapter 01 is done/);
    expect(screen).toMatch(/press s, or run npm run workbook -- solution 01/);
    expect(screen).toMatch(/Next: 02 · Greeting: press n/);
    expect(screen).toMatch(/\[█+░+\] 1\/2 chapters/);

    // s writes the solution beside the learner's file.
    term.press('s');
    await term.waitFor(/Wrote the reference solution beside your code/);
    expect(box.exists('chapters/01-adder/exercise.solution.ts')).toBe(true);

    // n moves on to the next chapter and runs its tests.
    term.press('n');
    screen = await term.waitFor(/02 · Greeting[\s\S]*0 of 2 tests pass/, 15_000);
    expect(screen).not.toMatch(/01 · Adding/);

    // l lists the progress.
    term.press('l');
    screen = await term.waitFor(/✓ passed\s+01\s+Adding/);
    expect(screen).toMatch(/▶ current\s+02\s+Greeting/);

    // r asks first; anything but y cancels.
    box.write('chapters/02-greeter/exercise.ts', 'export function greet(name: string): string {\n  return name;\n}\n');
    await term.waitFor(/greet\("Bram"\) returned "Bram"/, 15_000);
    term.press('r');
    await term.waitFor(/Reset chapters\/02-greeter\/exercise\.ts to the stub\? Your file is backed up first\. \[y\/N\]/);
    term.press('x');
    await term.waitFor(/Reset cancelled; your file is unchanged\./);
    expect(box.read('chapters/02-greeter/exercise.ts')).toMatch(/return name;/);
    term.press('r');
    await term.waitFor(/\[y\/N\]/);
    term.press('y');
    screen = await term.waitFor(/Backed up your files to \.workbook\/backups\/02-greeter\/[^/\s]+\//);
    expect(box.read('chapters/02-greeter/exercise.ts')).toBe(FIXTURE_FILES['chapters/02-greeter/exercise.ts']);
    // The reset file is re-run, and the backup path stays on screen.
    screen = await term.waitFor(/NotImplementedError: greet is not implemented yet[\s\S]*Backed up your files/, 15_000);

    // q quits cleanly, with progress saved.
    term.press('q');
    expect(await term.exited).toBe(0);
    expect(term.output).toMatch(/Bye! Your progress is saved/);
    const progress = JSON.parse(box.read('.workbook/progress.json'));
    expect(progress.chapters['01-adder']).toMatchObject({ passed: true, hintsSeen: 1 });
    expect(progress.chapters['02-greeter']).toMatchObject({ passed: false });
  }, 60_000);
});
