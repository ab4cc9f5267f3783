/**
 * The one switch that picks which implementation the tests check.
 *
 *   WORKBOOK_IMPL=chapters      the learner's work (default)
 *   WORKBOOK_IMPL=solutions     the reference solutions
 *   WORKBOOK_IMPL=<dir>         any tree with the same layout (<dir>/04-sockets/exercise.ts ...),
 *                               e.g. a student's submission
 *   WORKBOOK_IMPL=<dir>         a single chapter folder such as tests/.generated/mistakes/04-sockets/ignores-half-close
 *                               (a built mistake variant, see engine/mistakes.ts): that chapter comes from <dir>,
 *                               every other chapter from solutions/
 *
 * Tests import `@impl/<chapter id>/<file>`; engine/projects.ts (and vitest.config.ts) turn that into a path with `implAliases`.
 * Code that cannot go through the alias (a Worker loading the learner's file) uses `implFile`
 * from tests/helpers/impl.ts, which reads the same decision from WORKBOOK_IMPL_RESOLVED.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chapters } from '../chapters/manifest.ts';

/** The repository root. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where each chapter's implementation comes from. */
export interface ResolvedImpl {
  /** What the user asked for, for messages. */
  label: string;
  /** The tree that chapters come from by default (absolute). */
  root: string;
  /** Chapters taken from somewhere else: chapter id -> absolute directory. */
  overrides: Record<string, string>;
}

/** An error in the WORKBOOK_IMPL setting, phrased for the person who set it. */
export class ImplSwitchError extends Error {
  readonly code = 'ERR_WORKBOOK_IMPL';
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** Turn a WORKBOOK_IMPL value into the directories tests import from. */
export function resolveImpl(value: string | undefined, cwd = repoRoot): ResolvedImpl {
  const label = value && value.trim() !== '' ? value.trim() : 'chapters';
  if (label === 'chapters' || label === 'solutions') {
    return { label, root: path.join(repoRoot, label), overrides: {} };
  }
  const dir = path.resolve(cwd, label);
  if (!isDir(dir)) {
    throw new ImplSwitchError(
      `WORKBOOK_IMPL=${label}: no such directory (${dir}). Use "chapters", "solutions", or a folder laid out like chapters/.`,
    );
  }
  // A single chapter folder: its parent is named after a chapter (tests/.generated/mistakes/<id>/<name>).
  const parentId = path.basename(path.dirname(dir));
  if (chapters.some((c) => c.id === parentId) && !chapters.some((c) => isDir(path.join(dir, c.id)))) {
    requireEsmScope(label, dir);
    return { label, root: path.join(repoRoot, 'solutions'), overrides: { [parentId]: dir } };
  }
  if (!chapters.some((c) => isDir(path.join(dir, c.id)))) {
    throw new ImplSwitchError(
      `WORKBOOK_IMPL=${label}: ${dir} holds none of the chapter folders (${chapters[0]?.id}, ...). Point it at a copy of chapters/.`,
    );
  }
  requireEsmScope(label, dir);
  return { label, root: dir, overrides: {} };
}

/**
 * Exercise files are ES modules. Inside this repository the root package.json says so; a student's
 * folder elsewhere needs its own, or Workers and child processes (which load files with tsx, not
 * vite) would read the files as CommonJS and fail with a confusing error.
 */
function requireEsmScope(label: string, dir: string): void {
  for (let d = dir; ; d = path.dirname(d)) {
    const pkg = path.join(d, 'package.json');
    if (existsSync(pkg)) {
      if (JSON.parse(readFileSync(pkg, 'utf8')).type === 'module') return;
      break;
    }
    if (path.dirname(d) === d) break;
  }
  throw new ImplSwitchError(
    `WORKBOOK_IMPL=${label}: the exercise files there are ES modules, but no package.json with "type": "module" covers ${dir}. ` +
      `Fix: echo '{ "type": "module" }' > ${path.join(dir, 'package.json')}`,
  );
}

/** The absolute directory that holds one chapter's implementation. */
export function chapterDir(impl: ResolvedImpl, chapterId: string): string {
  return impl.overrides[chapterId] ?? path.join(impl.root, chapterId);
}

/** Vite aliases that send `@impl/<chapter>/<file>` to the chosen implementation. */
export function implAliases(impl: ResolvedImpl) {
  const specific = Object.entries(impl.overrides).map(([id, dir]) => ({
    find: new RegExp(`^@impl/${id}/(.*)$`),
    replacement: `${dir}/$1`,
  }));
  return [...specific, { find: /^@impl\/(.*)$/, replacement: `${impl.root}/$1` }];
}
