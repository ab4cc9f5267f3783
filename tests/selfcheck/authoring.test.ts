/**
 * The maintainer's tools around chapters: known mistakes as patches (engine/mistakes.ts and
 * `npm run mistake`), the self-check's rule that a suite's peers are listed in the manifest, and its
 * rule that a lesson's diagrams are authored SVG that follows the theme.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chapters } from '../../chapters/manifest.ts';
import { repoRoot } from '../../engine/impl.ts';
import { diffAgainstSolution, mistakePaths, variantFiles } from '../../engine/mistakes.ts';
import { Sandbox } from '../cli/support/sandbox.ts';
import { diagramProblems, unlistedPeers } from './structure.ts';

describe('known mistakes as patches', () => {
  it('every patch builds a variant whose diff against the solution is the patch itself', () => {
    for (const ch of chapters) {
      for (const m of ch.mistakes) {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'workbook-variant-'));
        try {
          for (const [rel, text] of variantFiles(ch, m)) {
            writeFileSync(path.join(dir, rel), text);
          }
          const patch = diffAgainstSolution(ch, dir);
          expect(patch, `${ch.id}/${m.name}`).not.toBe('');
          // Patches are kept in the form `npm run mistake -- save` writes, so a save never reformats one.
          expect(patch, `${ch.id}/${m.name}: not in canonical form; run npm run mistake -- edit/save`).toBe(readFileSync(path.join(repoRoot, mistakePaths(ch, m).patch), 'utf8'));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  });

  describe('npm run mistake', () => {
    let box: Sandbox;
    const mistake = (...args: string[]) => box.run(['engine/mistake-command.ts', ...args], { argv0: [process.execPath, '--import', 'tsx'], timeoutMs: 15_000 });
    beforeAll(async () => {
      box = await Sandbox.create({ git: false });
    }, 20_000);
    afterAll(async () => box?.remove());

    it('edits a mistake as code and saves the change back as the patch', async () => {
      const edit = await mistake('edit', '01', 'off-by-one');
      expect(edit.code, edit.output).toBe(0);
      const file = 'tests/.generated/editing/01-adder/off-by-one/exercise.ts';
      expect(box.read(file)).toContain('a > 0 ? a * 2 + 1 : a * 2');
      box.write(file, box.read(file).replace('a * 2 + 1', 'a * 2 + 2'));
      const save = await mistake('save', '01', 'off-by-one');
      expect(save.code, save.output).toBe(0);
      expect(save.stdout).toMatch(/Wrote tests\/mistakes\/01-adder\/off-by-one.patch \(\+2\/-1 lines\)/);
      expect(box.read('tests/mistakes/01-adder/off-by-one.patch')).toMatch(/^\+ {2}return a > 0 \? a \* 2 \+ 2 : a \* 2;$/m);
      const build = await mistake('build', '01');
      expect(build.code, build.output).toBe(0);
      expect(box.read('tests/.generated/mistakes/01-adder/off-by-one/exercise.ts')).toContain('a * 2 + 2');
    }, 40_000);

    it('never throws away edits that are not saved yet', async () => {
      expect((await mistake('edit', '01', 'off-by-one')).code).toBe(0);
      const file = 'tests/.generated/editing/01-adder/off-by-one/exercise.ts';
      box.write(file, `${box.read(file)}// an unsaved thought\n`);
      const again = await mistake('edit', '01', 'off-by-one');
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/holds changes not saved to tests\/mistakes\/01-adder\/off-by-one.patch/);
      expect(box.read(file)).toContain('an unsaved thought');
      expect((await mistake('edit', '01', 'off-by-one', '--force')).code).toBe(0);
      expect(box.read(file)).not.toContain('an unsaved thought');
    }, 40_000);

    it('starts a new mistake from the solution and refuses to save one that changes nothing', async () => {
      const edit = await mistake('edit', '01', 'adds-nothing');
      expect(edit.code, edit.output).toBe(0);
      expect(edit.stdout).toMatch(/add \{ name: 'adds-nothing', what, caughtBy \}/);
      const save = await mistake('save', '01', 'adds-nothing');
      expect(save.code).toBe(1);
      expect(save.stderr).toMatch(/is the same as solutions\/01-adder\/: a mistake must change something/);
      expect(box.exists('tests/mistakes/01-adder/adds-nothing.patch')).toBe(false);
    }, 40_000);

    it('repairs a patch that no longer applies: the solution with the hunks that still apply, and the rest to redo', async () => {
      const solution = box.read('solutions/01-adder/exercise.ts');
      const patch = box.read('tests/mistakes/01-adder/off-by-one.patch');
      box.write('solutions/01-adder/exercise.ts', solution.replace(/return a \* 2;/, 'return a + a;'));
      try {
        const edit = await mistake('edit', '01', 'off-by-one', '--force');
        expect(edit.code, edit.output).toBe(0);
        expect(edit.stdout).toMatch(/off-by-one.patch no longer applies to solutions\/01-adder\/exercise.ts: hunk @@ -5,5/);
        expect(edit.stdout).toMatch(/the others are in tests\/.generated\/editing\/01-adder\/off-by-one.rejected.patch/);
        expect(box.read('tests/.generated/editing/01-adder/off-by-one/exercise.ts')).toContain('return a + a;');
        expect(box.read('tests/.generated/editing/01-adder/off-by-one.rejected.patch')).toMatch(/^-\s+return a \* 2;$/m);
        // Redo the mistake on the new code and save: the patch applies again.
        const file = 'tests/.generated/editing/01-adder/off-by-one/exercise.ts';
        box.write(file, box.read(file).replace('return a + a;', 'return a > 0 ? a + a + 1 : a + a;'));
        expect((await mistake('save', '01', 'off-by-one')).code).toBe(0);
        expect((await mistake('build', '01')).code).toBe(0);
        expect(box.read('tests/.generated/mistakes/01-adder/off-by-one/exercise.ts')).toContain('a + a + 1');
      } finally {
        box.write('solutions/01-adder/exercise.ts', solution);
        box.write('tests/mistakes/01-adder/off-by-one.patch', patch);
      }
    }, 40_000);

    it('starts from the solution a mistake that the manifest lists but that has no patch yet', async () => {
      const patchFile = 'tests/mistakes/01-adder/off-by-one.patch';
      const patch = box.read(patchFile);
      rmSync(box.path(patchFile));
      try {
        const edit = await mistake('edit', '01', 'off-by-one', '--force');
        expect(edit.code, edit.output).toBe(0);
        expect(edit.stdout).toMatch(/off-by-one is in the manifest but has no patch yet/);
        expect(box.read('tests/.generated/editing/01-adder/off-by-one/exercise.ts')).toBe(box.read('solutions/01-adder/exercise.ts'));
      } finally {
        box.write(patchFile, patch);
      }
    }, 40_000);

    it('refuses to save a folder made from an older solution, whose patch would undo the newer changes', async () => {
      const file = 'tests/.generated/editing/01-adder/off-by-one/exercise.ts';
      const solution = box.read('solutions/01-adder/exercise.ts');
      const patch = box.read('tests/mistakes/01-adder/off-by-one.patch');
      expect((await mistake('edit', '01', 'off-by-one', '--force')).code).toBe(0);
      box.write('solutions/01-adder/exercise.ts', `${solution}// a newer comment in the solution\n`);
      try {
        box.write(file, box.read(file).replace('a * 2 + 1', 'a * 2 + 3'));
        const save = await mistake('save', '01', 'off-by-one');
        expect(save.code).toBe(1);
        expect(save.stderr).toMatch(/solutions\/01-adder\/ changed after tests\/.generated\/editing\/01-adder\/off-by-one\/ was made/);
        expect(box.read('tests/mistakes/01-adder/off-by-one.patch')).toBe(patch);
        // Made again from the new solution, it saves.
        expect((await mistake('edit', '01', 'off-by-one', '--force')).code).toBe(0);
        box.write(file, box.read(file).replace('a * 2 + 1', 'a * 2 + 3'));
        expect((await mistake('save', '01', 'off-by-one')).code).toBe(0);
      } finally {
        box.write('solutions/01-adder/exercise.ts', solution);
        box.write('tests/mistakes/01-adder/off-by-one.patch', patch);
      }
    }, 40_000);

    it('names an unknown chapter or command', async () => {
      const bad = await mistake('edit', '99', 'x');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/No chapter "99"/);
      const unknown = await mistake('frobnicate');
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/Unknown command "frobnicate"/);
    }, 40_000);
  });
});

describe('peers in the manifest', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'workbook-peers-'));
    writeFileSync(path.join(dir, 'x.test.ts'), "it('talks to curl', (ctx) => { const curl = needPeer(ctx, 'curl'); const nc = needPeer( ctx , \"nc\"); });\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('flags a needPeer call for a program the chapter does not list, naming file and program', () => {
    const problems = unlistedPeers({ peers: ['nc'] }, dir);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/x\.test\.ts calls needPeer for "curl", which the manifest entry's peers \(nc\) does not list/);
  });

  it('accepts the calls when every program is listed', () => {
    expect(unlistedPeers({ peers: ['nc', 'curl'] }, dir)).toEqual([]);
    expect(unlistedPeers({}, dir)).toHaveLength(2);
  });
});

describe('diagrams in lessons', () => {
  const lessonPath = 'tests/selfcheck/fixtures/figures/lesson.md';

  it('accepts an SVG drawn in currentColor with alt text that describes it', () => {
    expect(diagramProblems(lessonPath, '# x\n\n![Two boxes, Ada on the left](diagrams/themed.svg "Two boxes")\n')).toEqual([]);
  });

  it('asks for a diagram, for alt text, for the file, and for theme colours instead of fixed ones', () => {
    expect(diagramProblems(lessonPath, '# x\n\n```text\n[a] -> [b]\n```\n')).toEqual([expect.stringContaining('has no authored SVG diagram')]);
    expect(diagramProblems(lessonPath, '![](diagrams/themed.svg)')).toEqual([expect.stringContaining('needs alt text')]);
    expect(diagramProblems(lessonPath, '![A picture of nothing](diagrams/missing.svg)')).toEqual([expect.stringContaining('does not exist')]);
    const coloured = diagramProblems(lessonPath, '![Two boxes in fixed colours](diagrams/coloured.svg)');
    expect(coloured).toEqual([expect.stringMatching(/hard-codes colours \(#3b5bdb, black\)/)]);
  });
});
