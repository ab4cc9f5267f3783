/** Terminal output: colours (off for pipes, NO_COLOR, CI logs without FORCE_COLOR), symbols, the progress bar. */

const colorOn = (): boolean => {
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(process.stdout.isTTY) && process.env.TERM !== 'dumb';
};
const enabled = colorOn();
const wrap = (open: number, close: number) => (s: string) => (enabled ? `\x1b[${open}m${s}\x1b[${close}m` : s);

/** ANSI styles (no-ops when colour is off). */
export const style = {
  bold: wrap(1, 22),
  dim: wrap(2, 22),
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  cyan: wrap(36, 39),
};

/** Symbols for test states. */
export const mark = {
  pass: style.green('✓'),
  fail: style.red('✗'),
  skip: style.yellow('○'),
  hang: style.red('⧗'),
  current: style.cyan('▶'),
};

/** Remove ANSI escapes. */
export function stripAnsi(s: string): string {
  return s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}

/** "[██████░░░░░░] 3/8 chapters" */
export function progressBar(done: number, total: number, width = 24): string {
  const filled = total === 0 ? 0 : Math.round((done / total) * width);
  return `[${style.green('█'.repeat(filled))}${style.dim('░'.repeat(width - filled))}] ${done}/${total} chapters`;
}

/** Indent every line of a block. */
export function indent(text: string, by = '  '): string {
  return text
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n');
}

/** Pad a string that may contain ANSI escapes to a visible width. */
export function pad(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - stripAnsi(s).length));
}
