/**
 * The interactive workbook on a terminal: the current chapter's results, re-run on every save
 * through a warm vitest, and single-key commands (h l n r s q).
 */
import path from 'node:path';
import type { Chapter } from '../../chapters/manifest.ts';
import { chapterPaths, chapters } from '../../chapters/manifest.ts';
import { chapterHeader, checkChapter, verdict } from '../commands/check.ts';
import { showHint } from '../commands/hint.ts';
import { progressTable } from '../commands/list.ts';
import { resetChapter } from '../commands/reset.ts';
import { writeSolution } from '../commands/solution.ts';
import { CliError } from '../core/errors.ts';
import { mark, progressBar, style } from '../core/output.ts';
import type { Progress } from '../core/progress.ts';
import { chapterAfter } from '../core/session.ts';
import { abs, cmd, heading, missingFiles, ref } from '../core/workbook.ts';
import type { ChapterReport } from '../runner/format.ts';
import type { ChapterRunner } from '../runner/runner.ts';
import { watchFiles } from './watch.ts';

const CLEAR = '\x1b[2J\x1b[3J\x1b[H';

/** What the session reads keys from and draws on. */
export interface Terminal {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
}

/** One interactive session; `run()` resolves with the exit code when the learner quits. */
export class Session {
  private report?: ChapterReport;
  private running = false;
  private again = false;
  private readonly changed = new Set<string>();
  private panel = '';
  /** A sticky panel (a hint, a backup path) stays until the next key; others go with the next result. */
  private sticky = false;
  private listShown = false;
  private confirmingReset = false;
  private stopWatching?: () => void;
  private finish?: (code: number) => void;

  constructor(
    private readonly runner: ChapterRunner,
    private readonly progress: Progress,
    private chapter: Chapter,
    private readonly term: Terminal,
    private readonly notice?: string,
  ) {}

  /** Draw, watch, run the tests once, and handle keys until the learner quits. */
  run(): Promise<number> {
    const { input } = this.term;
    input.setRawMode?.(true);
    input.resume();
    input.setEncoding('utf8');
    const onKey = (key: string) => void this.key(key);
    input.on('data', onKey);
    this.watch();
    void this.test();
    return new Promise<number>((resolve) => {
      this.finish = (code) => {
        input.off('data', onKey);
        input.setRawMode?.(false);
        input.pause();
        this.stopWatching?.();
        resolve(code);
      };
    });
  }

  private watch(): void {
    this.stopWatching?.();
    const dir = abs(`chapters/${this.chapter.id}`);
    this.stopWatching = watchFiles(dir, this.chapter.files, (files) => {
      for (const f of files) this.changed.add(f);
      void this.test();
    });
  }

  /** Run the chapter's tests; a save during a run queues one more run. */
  private async test(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    const chapter = this.chapter;
    if (missingFiles(chapter).length) {
      this.report = undefined;
      this.draw();
      return;
    }
    this.running = true;
    this.draw();
    try {
      const changed = [...this.changed];
      this.changed.clear();
      const report = await checkChapter(this.runner, chapter, this.progress, changed);
      if (chapter === this.chapter) this.report = report;
    } catch (err) {
      this.panel = `${mark.fail} ${(err as Error).message}`;
    } finally {
      this.running = false;
    }
    if (this.again) {
      this.again = false;
      return this.test();
    }
    if (!this.sticky) this.panel = '';
    this.draw();
  }

  private async key(key: string): Promise<void> {
    if (this.confirmingReset) {
      this.confirmingReset = false;
      const yes = key === 'y' || key === 'Y';
      this.panel = yes ? this.attempt(() => resetChapter(this.chapter, this.progress).join('\n')) : 'Reset cancelled; your file is unchanged.';
      this.sticky = yes;
      this.draw();
      return;
    }
    if ('hlnrs'.includes(key)) this.sticky = 'hrs'.includes(key);
    const r = ref(this.chapter);
    switch (key) {
      case 'q':
      case '\x03': // Ctrl-C
      case '\x04': // Ctrl-D
        this.term.output.write(`\n${style.dim(`Bye! Your progress is saved. Continue any time: npm start`)}\n`);
        this.finish?.(0);
        return;
      case 'h':
        this.listShown = false;
        this.panel = showHint(this.chapter, this.progress);
        break;
      case 'l':
        this.listShown = !this.listShown;
        this.panel = '';
        break;
      case 'n': {
        if (!this.progress.passed(this.chapter)) {
          this.panel = `Chapter ${r} has not passed yet; n moves on once it passes. Stuck? Press h for a hint.`;
          break;
        }
        const next = chapterAfter(this.chapter, this.progress);
        if (!next) {
          this.panel = `${mark.pass} Every chapter written so far passes. Well done! See them all: ${cmd('list')}`;
          break;
        }
        this.chapter = next;
        this.report = undefined;
        this.panel = '';
        this.listShown = false;
        this.watch();
        void this.test();
        return;
      }
      case 'r':
        this.confirmingReset = true;
        this.panel = style.yellow(`Reset ${chapterPaths(this.chapter).stubs.join(', ')} to the stub? Your file is backed up first. [y/N]`);
        break;
      case 's':
        this.panel = this.progress.passed(this.chapter)
          ? this.attempt(() => writeSolution(this.chapter, this.progress, false).join('\n'))
          : `The solution of chapter ${r} opens once the chapter passes (or, to look anyway: ${cmd(`solution ${r} --force`)}).`;
        break;
      default:
        return;
    }
    this.draw();
  }

  private attempt(action: () => string): string {
    try {
      return action();
    } catch (err) {
      return err instanceof CliError ? `${mark.fail} ${err.message} ${err.fix}` : `${mark.fail} ${(err as Error).message}`;
    }
  }

  private draw(): void {
    const ch = this.chapter;
    const done = chapters.filter((c) => this.progress.passed(c)).length;
    const files = chapterPaths(ch).stubs;
    const lines = [`${style.bold('From Shared Memory to Sockets')}   ${progressBar(done, chapters.length)}`];
    if (this.notice) lines.push(style.dim(this.notice));
    lines.push('', chapterHeader(ch), style.dim(`Lesson: ${chapterPaths(ch).lesson}`), '');
    const missing = missingFiles(ch);
    if (missing.length) {
      lines.push(`${mark.fail} Your file ${missing.join(', ')} is missing. Press r to restore the stub (or run ${cmd(`reset ${ref(ch)}`)}).`);
    } else if (this.report) {
      lines.push(this.report.text, '', verdict(ch, this.report, this.progress, true));
    }
    lines.push('', this.running ? style.cyan(`⟳ Running the tests of ${heading(ch)}...`) : style.dim(`Watching ${files.map((f) => path.basename(f)).join(', ')}: save to run the tests again.`));
    if (this.listShown) lines.push('', progressTable(this.progress));
    if (this.panel) lines.push('', this.panel);
    const passed = this.progress.passed(ch);
    const k = (key: string, label: string, on = true) => (on ? `${style.bold(key)} ${label}` : style.dim(`${key} ${label}`));
    lines.push('', [k('h', 'hint'), k('l', 'list'), k('n', 'next', passed), k('r', 'reset'), k('s', 'solution', passed), k('q', 'quit')].join(style.dim(' · ')));
    this.term.output.write(CLEAR + lines.join('\n') + '\n');
  }
}
