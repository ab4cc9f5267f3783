// Turning vitest's state into the one result type (engine/types.ts), as plain data. Plain JavaScript,
// so that the learner's vitest host (cli/runner/host.mjs), which runs without tsx's loader for speed,
// shares it with the self-check, `grade` and the mutation tool (engine/run.ts).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

/** Remove terminal colour codes. */
export const strip = (s) => String(s ?? '').replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');

/** A vitest error as plain data (ErrorInfo). */
export function errorInfo(e) {
  if (!e) return undefined;
  const frames = (e.stacks ?? []).map((f) => ({ file: f.file, line: f.line, column: f.column, method: f.method }));
  const plugin = e.__vitest_rollup_error__;
  return {
    name: e.name,
    message: strip(e.message ?? e),
    stack: strip(e.stack),
    diff: e.diff ? strip(e.diff) : undefined,
    expected: typeof e.expected === 'string' ? e.expected : undefined,
    actual: typeof e.actual === 'string' ? e.actual : undefined,
    frames,
    transformOf: plugin?.id,
    cause: e.cause ? errorInfo(e.cause) : undefined,
  };
}

/** The describe blocks around a test, outermost first (the first is the test group). */
export function suiteNames(t) {
  const names = [];
  for (let p = t.parent; p && p.type === 'suite'; p = p.parent) names.unshift(p.name ?? '');
  return names;
}

/** The records the watchdog left in `hangDir`, one per test process it stopped. */
export function readHangs(hangDir) {
  return readdirSync(hangDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(path.join(hangDir, f), 'utf8')));
}

/** Forget the records of an earlier run. */
export function clearHangs(hangDir) {
  for (const f of readdirSync(hangDir)) rmSync(path.join(hangDir, f), { force: true });
}

/**
 * Every test module vitest ran (only `files`, absolute paths, when given), as ModuleResult[], plus the
 * run's own errors and its hangs. `logs` maps a test id to what it printed.
 */
export function collect(vitest, { root, hangDir, files, logs }) {
  const hangs = readHangs(hangDir);
  const wanted = files ? new Set(files) : undefined;
  const modules = [];
  for (const mod of vitest.state.getTestModules()) {
    if (wanted && !wanted.has(mod.moduleId)) continue;
    const project = mod.project.name;
    const tests = [];
    for (const t of mod.children.allTests()) {
      const r = t.result();
      tests.push({
        name: t.name,
        suites: suiteNames(t),
        fullName: t.fullName,
        state: r.state,
        note: r.note,
        durationMs: t.diagnostic()?.duration,
        error: errorInfo(r.errors?.[0]),
        logs: logs?.get(t.id),
      });
    }
    const hang = hangs.find((h) => path.resolve(h.file) === mod.moduleId && (h.project === undefined || h.project === project));
    modules.push({ project, file: path.relative(root, mod.moduleId), state: mod.state(), errors: mod.errors().map(errorInfo), tests, hang });
  }
  return { modules, runErrors: vitest.state.getUnhandledErrors().map(errorInfo), hangs };
}
