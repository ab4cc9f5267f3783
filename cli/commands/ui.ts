/** `ui [chapter] [--port N]`: the vitest UI on the learner's code, listening on 127.0.0.1 only. */
import { spawn } from 'node:child_process';
import { chapterPaths } from '../../chapters/manifest.ts';
import { CliError } from '../core/errors.ts';
import { style } from '../core/output.ts';
import { availableChapters } from '../core/session.ts';
import { abs, assertCheckable, cmd, heading, resolveChapter, root } from '../core/workbook.ts';
import type { Command } from './command.ts';

/** Vitest UI's usual port. */
export const DEFAULT_UI_PORT = 51204;

/** The `ui` command. */
export const ui: Command = {
  name: 'ui',
  usage: 'ui [chapter] [--port N]',
  summary: 'Open the vitest UI on your code (one chapter, or all), listening on 127.0.0.1 only.',
  options: { port: { type: 'string', short: 'p' } },
  async run({ positionals, values }) {
    const port = values.port === undefined ? DEFAULT_UI_PORT : Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CliError(`--port ${String(values.port)} is not a port number (1-65535).`, cmd(`ui --port ${DEFAULT_UI_PORT}`));
    const chapter = positionals[0] === undefined ? undefined : resolveChapter(positionals[0]);
    if (chapter) assertCheckable(chapter);
    const list = chapter ? [chapter] : availableChapters();
    if (list.length === 0) throw new CliError('No chapter has a test suite yet, so there is nothing to show.', cmd('list'), 1);
    const files = list.map((c) => chapterPaths(c).test);
    const args = [abs('node_modules/vitest/vitest.mjs'), '--ui', '--open=false', '--api.host=127.0.0.1', `--api.port=${port}`, '--api.strictPort', ...files];
    console.log(`${style.bold('Vitest UI')} for your code (${chapter ? heading(chapter) : `${list.length} chapters`}), on this machine only:`);
    console.log(`  http://127.0.0.1:${port}/__vitest__/`);
    console.log(style.dim('Tests re-run when you save. Stop with Ctrl-C.\n'));
    // WORKBOOK_IMPL=chapters: the UI always shows the learner's own code.
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, WORKBOOK_IMPL: 'chapters' } });
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    process.on('SIGINT', forward('SIGINT'));
    process.on('SIGTERM', forward('SIGTERM'));
    return new Promise((resolve) => {
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 0 : 1)));
      child.on('error', (err) => {
        console.error(`Could not start vitest: ${err.message}. Reinstall the dependencies: npm ci`);
        resolve(1);
      });
    });
  },
};
