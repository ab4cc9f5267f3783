/**
 * Step 3 of the self-check: run the chapter suites against solutions, stubs and every
 * known-mistake variant, as vitest projects in one vitest instance per phase.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Chapter } from '../../chapters/manifest.ts';
import { chapterPaths } from '../../chapters/manifest.ts';
import { implAliases, repoRoot, resolveImpl } from '../../engine/impl.ts';
import { baseTestOptions } from '../../engine/options.ts';

/** One test's outcome in one project. */
export interface TestOutcome {
  project: string;
  file: string;
  name: string;
  state: 'passed' | 'failed' | 'skipped' | 'pending';
  error?: string;
  note?: string;
  /** The names of the enclosing describe blocks, outermost first (the first is the test group). */
  suites?: string[];
}

/** What the watchdog wrote for a test process it stopped (see tests/helpers/watchdog-worker.mjs). */
export interface HangRecord {
  test: string;
  file: string;
  blockedMs: number;
  limitMs?: number;
  project?: string;
}

/** Everything a phase produced. */
export interface PhaseResult {
  tests: TestOutcome[];
  /** Per project: errors that were not a test's (a file that failed to load, a killed process). */
  moduleErrors: Map<string, string[]>;
  /** Tests the watchdog stopped because they blocked the event loop. */
  hangs: HangRecord[];
}

/** A vitest project: a name, the implementation it imports, the test files it runs. */
export interface ProjectSpec {
  name: string;
  impl: string;
  files: string[];
  /** Run only the tests whose name contains this fragment (case-insensitive). */
  onlyTestsNamed?: string;
  /** The watchdog's limit for a blocked event loop, when not the default. */
  blockedLoopLimitMs?: number;
}

/** The tooling suites (CLI, site, harness) that do not depend on an implementation. */
export const TOOLING_GLOBS = ['tests/cli/**/*.test.ts', 'tests/site/**/*.test.ts', 'tests/helpers/**/*.test.ts', 'tests/selfcheck/**/*.test.ts'];

/** Projects for one chapter list: solutions, stubs, and one per mistake variant. */
export function chapterProjects(chapters: Chapter[]): { reference: ProjectSpec[]; broken: ProjectSpec[] } {
  const tests = chapters.map((c) => chapterPaths(c).test);
  return {
    reference: [{ name: 'solutions', impl: 'solutions', files: tests }],
    broken: [
      { name: 'stubs', impl: 'chapters', files: tests },
      ...chapters.flatMap((c) =>
        // A variant must fail the test named for its concept, so only that test needs to run.
        chapterPaths(c).mistakes.map((dir, i) => ({
          name: `mistake:${c.id}/${c.mistakes[i]!.name}`,
          impl: dir,
          files: [chapterPaths(c).test],
          onlyTestsNamed: c.mistakes[i]!.caughtBy,
        })),
      ),
    ],
  };
}

function base(impl: ReturnType<typeof resolveImpl>, s: ProjectSpec) {
  const opts = baseTestOptions(impl);
  const limit = s.blockedLoopLimitMs ? { WORKBOOK_BLOCKED_LOOP_LIMIT_MS: String(s.blockedLoopLimitMs) } : {};
  return { ...opts, env: { ...opts.env, ...limit, WORKBOOK_PROJECT: s.name } };
}

/**
 * The inline vitest project for one spec: the `@impl` aliases of its implementation and the shared
 * test options. Also used by the workbook CLI (cli/runner/), so that a learner's run and the
 * self-check configure vitest the same way. `s.impl` is resolved against the repository root.
 */
export function projectConfig(s: ProjectSpec) {
  const impl = resolveImpl(s.impl, repoRoot);
  return {
    resolve: { alias: implAliases(impl) },
    test: {
      ...base(impl, s),
      name: s.name,
      root: repoRoot,
      include: s.files,
      exclude: ['tests/mistakes/**'],
      ...(s.onlyTestsNamed ? { testNamePattern: new RegExp(s.onlyTestsNamed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i') } : {}),
    },
  };
}

/** The options for `createVitest` that run the given projects quietly (results are read from vitest's state). */
export function vitestOptions(projects: ReturnType<typeof projectConfig>[], maxWorkers: number) {
  return { watch: false, config: false, root: repoRoot, reporters: [{}], projects, maxWorkers };
}

/** The records the watchdog left in `hangDir`, one per test process it stopped. */
function readHangs(hangDir: string): HangRecord[] {
  return readdirSync(hangDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(path.join(hangDir, f), 'utf8')) as HangRecord);
}

/** The describe blocks around a test, outermost first. */
function suiteNames(t: { parent: { type: string; name?: string; parent?: unknown } }): string[] {
  const names: string[] = [];
  for (let p = t.parent; p && p.type === 'suite'; p = p.parent as typeof p) names.unshift(p.name ?? '');
  return names;
}

/** Run the given projects in one vitest instance and collect every test's outcome. */
export async function runPhase(specs: ProjectSpec[], opts: { maxWorkers?: number } = {}): Promise<PhaseResult> {
  const hangDir = mkdtempSync(path.join(os.tmpdir(), 'workbook-hangs-'));
  process.env.WORKBOOK_HANG_DIR = hangDir;
  const projects = specs.map(projectConfig);
  // Loaded here, not at the top: the workbook CLI imports this module for projectConfig only.
  const { createVitest } = await import('vitest/node');
  const vitest = await createVitest('test', vitestOptions(projects, opts.maxWorkers ?? 2) as never);
  try {
    await vitest.start();
  } catch (err) {
    // A failing run is reported through the collected results below, not thrown.
    if (!(err instanceof Error) || !/failed|error/i.test(err.message)) throw err;
  }
  const tests: TestOutcome[] = [];
  const moduleErrors = new Map<string, string[]>();
  for (const mod of vitest.state.getTestModules()) {
    const project = mod.project.name;
    const file = path.relative(repoRoot, mod.moduleId);
    for (const e of mod.errors()) {
      moduleErrors.set(project, [...(moduleErrors.get(project) ?? []), `${file}: ${e.message}`]);
    }
    for (const t of mod.children.allTests()) {
      const r = t.result();
      tests.push({
        project,
        file,
        name: t.fullName,
        state: r.state as TestOutcome['state'],
        error: r.errors?.[0]?.message,
        note: (r as { note?: string }).note,
        suites: suiteNames(t),
      });
    }
  }
  for (const e of vitest.state.getUnhandledErrors() as Error[]) {
    moduleErrors.set('(run)', [...(moduleErrors.get('(run)') ?? []), String(e?.message ?? e)]);
  }
  const hangs = readHangs(hangDir);
  rmSync(hangDir, { recursive: true, force: true });
  await vitest.close();
  return { tests, moduleErrors, hangs };
}
