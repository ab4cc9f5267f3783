/**
 * The workbook command: `npm start` (interactive), `npm run workbook -- <command>`, or the
 * `workbook` bin. This file only parses the command line and dispatches; each command is a module
 * in cli/commands/, loaded when it runs.
 */
import { prestartHost } from './runner/prestart.ts';

const argv = process.argv.slice(2);
// Loading vitest is the slowest step of a check: start it before loading the rest of the CLI.
const TESTING = new Set([undefined, 'start', 'check']);
if (TESTING.has(argv[0])) prestartHost();

const { parseArgs } = await import('node:util');
const { commandNames, helpText, loadCommand } = await import('./commands/index.ts');
const { CliError } = await import('./core/errors.ts');
const { mark, style } = await import('./core/output.ts');
const { cmd } = await import('./core/workbook.ts');

async function main([name = 'start', ...rest]: string[]): Promise<number> {
  if (name === 'help' || name === '--help' || name === '-h') {
    console.log(await helpText());
    return 0;
  }
  const command = await loadCommand(name);
  if (!command) throw new CliError(`There is no command "${name}". The commands are: ${commandNames.join(', ')}.`, cmd('help'));
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { help: { type: 'boolean', short: 'h' }, ...command.options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError(`${(err as Error).message.replace(/\. To specify.*$/s, '.')} Usage: ${command.usage}`, cmd(`${command.name} --help`));
  }
  if (parsed.values.help) {
    console.log(`Usage: ${cmd(command.usage)}\n\n${command.summary}`);
    return 0;
  }
  return command.run({ positionals: parsed.positionals, values: parsed.values as Record<string, string | boolean | undefined> });
}

try {
  process.exitCode = await main(argv);
} catch (err) {
  if (err instanceof CliError) {
    console.error(`${mark.fail} ${err.message}\n  ${style.cyan('→')} ${err.fix}`);
    process.exitCode = err.exitCode;
  } else {
    console.error(`${mark.fail} The workbook command failed unexpectedly:\n${(err as Error)?.stack ?? String(err)}\nPlease report this. Meanwhile, check your setup: ${cmd('doctor')}`);
    process.exitCode = 70;
  }
}
