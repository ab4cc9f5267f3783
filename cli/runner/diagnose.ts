/** Turn runner errors into what a learner needs: where in their file, and a few lines of it. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Chapter } from '../../chapters/manifest.ts';
import { abs, rel, root } from '../core/workbook.ts';
import { style } from '../core/output.ts';
import type { ErrorInfo, Frame } from '../../engine/types.ts';

/** A place in a file. */
export interface Location {
  file: string;
  line: number;
  column: number;
  method?: string;
}

/** Lines around `line` of `file`, with a caret under `column`. Empty if the file cannot be read. */
export function codeFrame(file: string, line: number, column: number, context = 2): string {
  const full = path.isAbsolute(file) ? file : abs(file);
  if (!existsSync(full)) return '';
  const lines = readFileSync(full, 'utf8').split('\n');
  if (line < 1 || line > lines.length) return '';
  const from = Math.max(1, line - context);
  const to = Math.min(lines.length, line + context);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    const gutter = `${n === line ? style.red('>') : ' '} ${String(n).padStart(width)} | `;
    out.push(`${gutter}${lines[n - 1]}`);
    if (n === line && column > 0) out.push(`  ${' '.repeat(width)} | ${' '.repeat(column - 1)}${style.red('^')}`);
  }
  return out.join('\n');
}

const inChapter = (chapter: Chapter) => (file: string) => {
  const full = path.resolve(root, file.replace(/^file:\/\//, ''));
  return full.startsWith(path.join(root, 'chapters', chapter.id) + path.sep);
};

/** The first stack frame inside the learner's chapter folder. */
export function learnerFrame(chapter: Chapter, error: ErrorInfo | undefined): Frame | undefined {
  if (!error) return undefined;
  const mine = inChapter(chapter);
  return error.frames.find((f) => mine(f.file)) ?? learnerFrame(chapter, error.cause);
}

/** A syntax error found while vitest transformed a file: where it is and what the parser said. */
export interface CompileError extends Location {
  message: string;
}

/** If this load error is a syntax error, where and what; otherwise undefined. */
export function compileError(error: ErrorInfo): CompileError | undefined {
  const text = error.message;
  const isTransform = Boolean(error.transformOf) || /Transform failed|PARSE_ERROR|SyntaxError/.test(text);
  if (!isTransform) return undefined;
  // vite/oxc: "[PARSE_ERROR] Unexpected token\n ╭─[ chapters/x/exercise.ts:8:17 ]"; esbuild: "file:8:17: ERROR: msg".
  const loc = /([^\s[\]()]+\.(?:[cm]?[jt]sx?)):(\d+):(\d+)/.exec(text);
  const reason =
    /\[[A-Z_]+\]\s*([^\n]+)/.exec(text)?.[1] ?? /ERROR:\s*([^\n]+)/.exec(text)?.[1] ?? /SyntaxError:\s*([^\n]+)/.exec(text)?.[1] ?? text.split('\n').find((l) => l.trim()) ?? text;
  const file = loc ? loc[1]! : (error.transformOf ?? '');
  return {
    file: rel(path.resolve(root, file)),
    line: loc ? Number(loc[2]) : 0,
    column: loc ? Number(loc[3]) : 0,
    message: reason.trim(),
  };
}

/** "chapters/04-sockets/exercise.ts:42:7" */
export function where(loc: Location): string {
  return `${rel(path.resolve(root, loc.file.replace(/^file:\/\//, '')))}:${loc.line}:${loc.column}`;
}
