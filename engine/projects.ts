/**
 * vitest projects: one implementation (the `@impl` aliases of a WORKBOOK_IMPL value), some test files,
 * the shared test options. The learner's runner, the self-check, `grade` and the mutation tool all
 * configure vitest through here, so a learner's run and the self-check judge the same way.
 */
import type { Chapter } from '../chapters/manifest.ts';
import { chapterPaths } from '../chapters/manifest.ts';
import { implAliases, repoRoot, resolveImpl } from './impl.ts';
import { baseTestOptions } from './options.ts';

/** A vitest project: a name, the implementation it imports, the test files it runs. */
export interface ProjectSpec {
  name: string;
  /** A WORKBOOK_IMPL value: "chapters", "solutions", or a folder (resolved against the repository root). */
  impl: string;
  files: string[];
  /** Run only the tests whose name contains this fragment (case-insensitive). */
  onlyTestsNamed?: string;
  /** The watchdog's limit for a blocked event loop, when not the default. */
  blockedLoopLimitMs?: number;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The inline vitest project for one spec; a relative `impl` folder is resolved against `cwd`. */
export function projectConfig(s: ProjectSpec, cwd = repoRoot) {
  const impl = resolveImpl(s.impl, cwd);
  const opts = baseTestOptions(impl);
  const limit = s.blockedLoopLimitMs ? { WORKBOOK_BLOCKED_LOOP_LIMIT_MS: String(s.blockedLoopLimitMs) } : {};
  return {
    resolve: { alias: implAliases(impl) },
    test: {
      ...opts,
      env: { ...opts.env, ...limit, WORKBOOK_PROJECT: s.name } as Record<string, string>,
      name: s.name,
      root: repoRoot,
      include: s.files,
      exclude: ['tests/mistakes/**', 'tests/.generated/**'],
      ...(s.onlyTestsNamed ? { testNamePattern: new RegExp(escapeRegExp(s.onlyTestsNamed), 'i') } : {}),
    },
  };
}

/** The options for `createVitest` that run the given projects quietly (results are read from vitest's state). */
export function vitestOptions(projects: ReturnType<typeof projectConfig>[], maxWorkers: number) {
  return { watch: false, config: false, root: repoRoot, reporters: [{}], projects, maxWorkers };
}

/** The spec files of these chapters (relative to the repository root). */
export function chapterTests(list: Chapter[]): string[] {
  return list.map((c) => chapterPaths(c).test);
}

/** The project name of a known mistake's variant. */
export const mistakeProject = (chapter: Chapter, name: string) => `mistake:${chapter.id}/${name}`;

/** Projects for a chapter list: the solutions; then the stubs and one per known-mistake variant. */
export function chapterProjects(list: Chapter[]): { reference: ProjectSpec[]; broken: ProjectSpec[] } {
  const tests = chapterTests(list);
  return {
    reference: [{ name: 'solutions', impl: 'solutions', files: tests }],
    broken: [
      { name: 'stubs', impl: 'chapters', files: tests },
      ...list.flatMap((c) =>
        // A variant must fail the test named for its concept, so only that test needs to run.
        c.mistakes.map((m, i) => ({
          name: mistakeProject(c, m.name),
          impl: chapterPaths(c).mistakes[i]!,
          files: [chapterPaths(c).test],
          onlyTestsNamed: m.caughtBy,
        })),
      ),
    ],
  };
}
