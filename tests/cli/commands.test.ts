/**
 * The workbook's commands end to end, spawned as a learner runs them (the `workbook` bin) in a
 * temporary copy of the workbook with two fixture chapters: names and bad input, the progress
 * file, hints, reset and its backups, solutions, list, next, doctor and help.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FIXTURE_FILES } from './support/fixture.ts';
import { inSandbox, Sandbox } from './support/sandbox.ts';

const execFileAsync = promisify(execFile);
const STUB = FIXTURE_FILES['chapters/01-adder/exercise.ts']!;
const lastLine = (s: string) => s.trim().split('\n').pop() ?? '';
const progressOf = (box: Sandbox) => JSON.parse(box.read('.workbook/progress.json')) as { version: number; chapters: Record<string, { passed: boolean; passedAt?: string; hintsSeen: number }> };


describe('naming chapters, and bad input', () => {
  it('rejects an unknown chapter with the list of valid ones, ending with the command that fixes it', inSandbox(async (box) => {
    const r = await box.run(['check', 'sockets-and-stuff']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no chapter "sockets-and-stuff"/);
    expect(r.stderr).toMatch(/01 adder, 02 greeter/);
    expect(lastLine(r.stderr)).toMatch(/npm run workbook -- list$/);
  }), 10_000);

  it('rejects an unknown command, an unknown option or a missing chapter name, ending with the command that fixes it', inSandbox(async (box) => {
    const cmd = await box.run(['chekc', '1']);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toMatch(/no command "chekc"/);
    expect(lastLine(cmd.stderr)).toMatch(/npm run workbook -- help$/);
    const opt = await box.run(['check', '1', '--verbose']);
    expect(opt.code).toBe(2);
    expect(lastLine(opt.stderr)).toMatch(/npm run workbook -- check --help$/);
    const reset = await box.run(['reset']);
    expect(reset.code).toBe(2);
    expect(lastLine(reset.stderr)).toMatch(/npm run workbook -- reset <chapter>$/);
  }), 15_000);

  it('says a missing exercise file is missing, and reset brings the stub back (also without git)', async () => {
    const plain = await Sandbox.create({ git: false });
    try {
      await plain.run(['list']); // the CLI sees the stub once and keeps a pristine copy
      execFileSync('rm', [plain.path('chapters/01-adder/exercise.ts')]);
      const check = await plain.run(['check', '01']);
      expect(check.code).toBe(1);
      expect(check.stderr).toMatch(/exercise file chapters\/01-adder\/exercise\.ts is missing/);
      expect(lastLine(check.stderr)).toMatch(/npm run workbook -- reset 01$/);
      const reset = await plain.run(['reset', '01']);
      expect(reset.code, reset.output).toBe(0);
      expect(reset.stdout).toMatch(/nothing to back up/);
      expect(plain.read('chapters/01-adder/exercise.ts')).toBe(STUB);
    } finally {
      await plain.remove();
    }
  }, 20_000);

  it('prints the help with every command', inSandbox(async (box) => {
    const r = await box.run(['help']);
    expect(r.code).toBe(0);
    for (const c of ['start', 'list', 'check', 'hint', 'next', 'reset', 'solution', 'doctor', 'ui', 'grade']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  }), 10_000);
});

describe('the progress file', () => {
  it('starts it on first use with a one-line notice, in the agreed format', inSandbox(async (box) => {
    const r = await box.run(['list']);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^No progress file yet \(\.workbook\/progress\.json\); rebuilt it from your test results: 0 of 2 chapters pass\.$/);
    expect(progressOf(box)).toEqual({ version: 1, chapters: {} });
    expect(r.stdout).toMatch(/▶ current\s+01\s+Adding/);
  }), 10_000);

  it('rebuilds a corrupt file from real test results, keeps the old one aside, never crashes', inSandbox(async (box) => {
    box.solve('01-adder');
    box.write('.workbook/progress.json', '{"version": 1, "chapters": {"01-adder": {"passed": tru');
    const r = await box.run(['list']);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^\.workbook\/progress\.json was corrupt \(.+\) \(the old file is kept as \.workbook\/progress\.json\.corrupt-.+\); rebuilt it from your test results: 1 of 2 chapters pass\.$/);
    const p = progressOf(box);
    expect(p.version).toBe(1);
    expect(p.chapters['01-adder']).toMatchObject({ passed: true, hintsSeen: 0 });
    expect(Date.parse(p.chapters['01-adder']!.passedAt!)).not.toBeNaN();
    expect(p.chapters['02-greeter']).toBeUndefined();
    expect(r.stdout).toMatch(/✓ passed\s+01/);
    // Atomic writes leave no temp files behind.
    expect(readdirSync(box.path('.workbook')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }), 20_000);

  it('rebuilds a file of the wrong shape too', inSandbox(async (box) => {
    box.write('.workbook/progress.json', JSON.stringify({ version: 2, chapters: [] }));
    const r = await box.run(['next']);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/was corrupt \(expected \{ "version": 1/);
    expect(r.stdout).toMatch(/Next: 01 · Adding/);
  }), 10_000);
});

describe('hints', () => {
  it('shows the next unseen hint each time, counts them in progress, and --all shows every hint (chapters named by number, slug or id)', inSandbox(async (box) => {
    const first = await box.run(['hint', '1']);
    expect(first.stdout).toMatch(/Hint 1 of 3\n\s+Which operator adds two numbers\?/);
    expect(lastLine(first.stdout)).toMatch(/npm run workbook -- hint 01$/);
    const second = await box.run(['hint', 'adder']);
    expect(second.stdout).toMatch(/Hint 2 of 3/);
    expect(second.stdout).not.toMatch(/Hint 1 of 3/);
    expect(progressOf(box).chapters['01-adder']!.hintsSeen).toBe(2);
    const all = await box.run(['hint', '01-adder', '--all']);
    expect(all.stdout.match(/Hint \d of 3/g)).toEqual(['Hint 1 of 3', 'Hint 2 of 3', 'Hint 3 of 3']);
    expect(progressOf(box).chapters['01-adder']!.hintsSeen).toBe(3);
  }), 15_000);
});

describe('reset and backups', () => {
  it("backs up the learner's exact bytes, restores the stub, and the printed undo command restores the bytes", inSandbox(async (box) => {
    await box.run(['list']);
    // CRLF, a BOM, non-ASCII, a NUL byte and no final newline: the backup must keep every byte.
    const mine = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('export const add = (a: number, b: number) => a + b; // é ✓\r\n'), Buffer.from([0]), Buffer.from('// end')]);
    box.write('chapters/01-adder/exercise.ts', mine);
    const r = await box.run(['reset', 'adder']);
    expect(r.code, r.output).toBe(0);
    const dir = /Backed up your files to (\.workbook\/backups\/01-adder\/[^/\s]+)\//.exec(r.stdout)?.[1];
    expect(dir, r.stdout).toBeDefined();
    expect(box.bytes(`${dir}/exercise.ts`).equals(mine)).toBe(true);
    expect(box.read('chapters/01-adder/exercise.ts')).toBe(STUB);
    const undo = /To undo: (.+)$/m.exec(r.stdout)?.[1];
    expect(undo).toMatch(/^cp \.workbook\/backups\/01-adder\/.+\/exercise\.ts chapters\/01-adder\/exercise\.ts$/);
    execFileSync('sh', ['-c', undo!], { cwd: box.root });
    expect(box.bytes('chapters/01-adder/exercise.ts').equals(mine)).toBe(true);
    // A second reset makes a second backup; the first is never overwritten.
    await box.run(['reset', '01']);
    expect(readdirSync(box.path('.workbook/backups/01-adder'))).toHaveLength(2);
    expect(box.bytes(`${dir}/exercise.ts`).equals(mine)).toBe(true);
  }), 20_000);
});

describe('solutions', () => {
  it('refuses before a pass (ending with the check command); --force writes beside the learner file, never over it', inSandbox(async (box) => {
    const before = box.read('chapters/02-greeter/exercise.ts');
    const no = await box.run(['solution', 'greeter']);
    expect(no.code).toBe(1);
    expect(no.stderr).toMatch(/has not passed yet/);
    expect(lastLine(no.stderr)).toMatch(/npm run workbook -- check 02$/);
    expect(box.exists('chapters/02-greeter/exercise.solution.ts')).toBe(false);
    const yes = await box.run(['solution', 'greeter', '--force']);
    expect(yes.code, yes.output).toBe(0);
    expect(yes.stdout).toMatch(/chapters\/02-greeter\/exercise\.solution\.ts/);
    expect(lastLine(yes.stdout)).toMatch(/^Compare: diff -u chapters\/02-greeter\/exercise\.ts chapters\/02-greeter\/exercise\.solution\.ts$/);
    expect(box.read('chapters/02-greeter/exercise.ts')).toBe(before);
    expect(box.read('chapters/02-greeter/exercise.solution.ts')).toContain(box.read('solutions/02-greeter/exercise.ts'));
  }), 15_000);

  it('opens after a pass without --force, and leaves alone a .solution.ts it did not write', inSandbox(async (box) => {
    box.solve('01-adder');
    expect((await box.run(['check', '1'])).code).toBe(0);
    box.write('chapters/01-adder/exercise.solution.ts', '// my own notes\n');
    const refused = await box.run(['solution', '1']);
    expect(refused.code).toBe(1);
    expect(box.read('chapters/01-adder/exercise.solution.ts')).toBe('// my own notes\n');
    execFileSync('rm', [box.path('chapters/01-adder/exercise.solution.ts')]);
    const ok = await box.run(['solution', '1']);
    expect(ok.code, ok.output).toBe(0);
    expect(box.read('chapters/01-adder/exercise.solution.ts').split('\n')[0]).toMatch(/^\/\/ @ts-nocheck/);
  }), 20_000);

  it('writes a file that cannot break the typecheck and is not a test file', inSandbox(async (box) => {
    await box.run(['solution', '2', '--force']);
    const file = box.path('chapters/02-greeter/exercise.solution.ts');
    // Make it as hostile as a solution can be in chapters/: an import that does not resolve there, a type error.
    box.write('chapters/02-greeter/exercise.solution.ts', `${box.read('chapters/02-greeter/exercise.solution.ts')}\nimport { only } from './only-in-solutions.ts';\nexport const n: number = only;\n`);
    // The TypeScript compiler runs in a child process: it is synchronous and heavy.
    const script = `
      const ts = require('typescript');
      const [config, file] = process.argv.slice(1);
      const parsed = ts.getParsedCommandLineOfConfigFile(config, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic() {} });
      const program = ts.createProgram([file], parsed.options);
      const diagsOf = (f) => ts.getPreEmitDiagnostics(program, program.getSourceFile(f)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
      // The control: the same file without its first line (// @ts-nocheck) has errors.
      const control = file.replace(/\\.ts$/, '.control.ts');
      require('fs').writeFileSync(control, require('fs').readFileSync(file, 'utf8').split('\\n').slice(1).join('\\n'));
      const controlDiags = ts.getPreEmitDiagnostics(ts.createProgram([control], parsed.options)).length;
      console.log(JSON.stringify({ included: parsed.fileNames.includes(file), diags: diagsOf(file), controlDiags }));`;
    const { stdout } = await execFileAsync(process.execPath, ['-e', script, box.path('tsconfig.json'), file], { cwd: box.root });
    const { included, diags, controlDiags } = JSON.parse(stdout) as { included: boolean; diags: string[]; controlDiags: number };
    expect(included).toBe(true); // tsconfig includes chapters/, so the typecheck sees the file...
    expect(diags).toEqual([]); // ...and reports nothing,
    expect(controlDiags).toBeGreaterThan(0); // where the same code without the marker fails
    expect(path.relative(box.root, file)).not.toMatch(/^tests\/.*\.test\.ts$/); // vitest runs tests/**/*.test.ts only
  }), 20_000);
});

describe('list and next', () => {
  it('list shows the progress bar and every chapter; next names the current chapter and its commands', inSandbox(async (box) => {
    box.solve('01-adder');
    await box.run(['check', '01']);
    const list = await box.run(['list']);
    expect(list.stdout).toMatch(/\[█+░+\] 1\/2 chapters/);
    expect(list.stdout).toMatch(/✓ passed\s+01\s+Adding/);
    expect(list.stdout).toMatch(/▶ current\s+02\s+Greeting/);
    expect(lastLine(list.stdout)).toMatch(/npm run workbook -- check 02\)$/);
    const next = await box.run(['next']);
    expect(next.stdout).toMatch(/Next: 02 · Greeting/);
    expect(next.stdout).toMatch(/Edit\s+chapters\/02-greeter\/exercise\.ts/);
    expect(next.stdout).toMatch(/Check\s+npm run workbook -- check 02/);
  }), 20_000);
});

describe('doctor', () => {
  it('checks node, loopback on IPv4 and IPv6, localhost, file watching and the optional peers, with a fix for each problem', inSandbox(async (box) => {
    const r = await box.run(['doctor']);
    expect([0, 1]).toContain(r.code);
    for (const name of ['Node.js', 'loopback 127.0.0.1', 'loopback ::1', 'localhost', 'file watching', 'curl', 'nc', 'chromium', 'openssl']) {
      expect(r.stdout).toMatch(new RegExp(`^[✓!✗] ${name.replace(/\./g, '\\.')}\\s`, 'm'));
    }
    expect(r.stdout).toMatch(/^✓ Node\.js\s+v\d+\.\d+\.\d+ \(needs 20\.19 or newer\)/m);
    expect(r.stdout).toMatch(/^✓ localhost\s+resolves to .*(IPv4|IPv6)/m);
    // Every line that is not ok is followed by its fix.
    const lines = r.stdout.split('\n');
    lines.forEach((l, i) => {
      if (/^[!✗] /.test(l)) expect(lines[i + 1]).toMatch(/^\s+fix: \S/);
    });
  }), 15_000);

  it('flags a Node.js older than 20.19 with the fix', async () => {
    const { checkNode } = await import('../../cli/commands/doctor.ts');
    expect(checkNode('20.18.1')).toMatchObject({ level: 'fail', fix: expect.stringMatching(/nvm install 20/) });
    expect(checkNode('20.19.0').level).toBe('ok');
    expect(checkNode('22.1.0').level).toBe('ok');
  });
});
