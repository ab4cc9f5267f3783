/** Every command, in the order the help lists them. Each module is loaded only when it runs. */
import { cmd } from '../core/workbook.ts';
import type { Command } from './command.ts';

const table: Record<string, () => Promise<Command>> = {
  start: async () => (await import('./start.ts')).start,
  list: async () => (await import('./list.ts')).list,
  check: async () => (await import('./check.ts')).check,
  hint: async () => (await import('./hint.ts')).hint,
  next: async () => (await import('./next.ts')).next,
  reset: async () => (await import('./reset.ts')).reset,
  solution: async () => (await import('./solution.ts')).solution,
  doctor: async () => (await import('./doctor.ts')).doctor,
  ui: async () => (await import('./ui.ts')).ui,
  grade: async () => (await import('./grade.ts')).grade,
  bench: async () => (await import('./bench.ts')).bench,
};

/** The commands' names. */
export const commandNames = Object.keys(table);


/** The command with this name, loaded. */
export async function loadCommand(name: string): Promise<Command | undefined> {
  return Object.hasOwn(table, name) ? table[name]!() : undefined;
}

/** The help text. */
export async function helpText(): Promise<string> {
  const commands = await Promise.all(commandNames.map((n) => table[n]!()));
  const width = Math.max(...commands.map((c) => c.usage.length));
  return [
    'From Shared Memory to Sockets: the workbook command',
    '',
    `Usage: npm start                 the interactive workbook`,
    `       ${cmd('<command> [options]')}`,
    '',
    ...commands.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    'A chapter is named by number (4, 04), slug (sockets) or id (04-sockets).',
    'Keys in npm start: h hint, l list, n next chapter (once passed), r reset, s solution (once passed), q quit.',
  ].join('\n');
}
