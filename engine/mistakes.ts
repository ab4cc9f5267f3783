/**
 * Known mistakes as patches. Each is `tests/mistakes/<id>/<name>.patch`, a unified diff against
 * `solutions/<id>/`. A variant is built by copying the chapter's solution folder and applying the
 * patch, into the git-ignored `tests/.generated/mistakes/<id>/<name>/`. From there it runs like any
 * implementation: relative imports, Workers and the typecheck work unchanged.
 *
 * Building is idempotent and safe to run from two processes at once: a file is written (through a
 * temporary file and a rename) only when its content differs, and nothing is wiped first.
 */
import { createTwoFilesPatch, applyPatch, parsePatch } from 'diff';
import type { StructuredPatch } from 'diff';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Chapter, Mistake } from '../chapters/manifest.ts';
import { VARIANTS_DIR, chapterNumber, chapterPaths, chapters } from '../chapters/manifest.ts';
import { repoRoot } from './impl.ts';

/** A patch that does not apply, or is malformed: named, with the hunk that failed. */
export class PatchError extends Error {
  readonly code = 'ERR_MISTAKE_PATCH';
}

/** Where maintainers edit a mistake as code (`npm run mistake -- edit`); never touched by a build. */
export const EDIT_DIR = 'tests/.generated/editing';

/** Every file under `dir`, relative to it, sorted; `.d.ts`-free trees of sources. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((f) => String(f))
    .filter((f) => statSync(path.join(dir, f)).isFile())
    .map((f) => f.split(path.sep).join('/'))
    .sort();
}

/** Write `text` to `file` unless it already holds exactly that; atomic for concurrent readers. */
function writeIfChanged(file: string, text: string): void {
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return;
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** The file a patch section changes, relative to the chapter folder ("a/exercise.ts" -> "exercise.ts"). */
function targetOf(p: StructuredPatch, patchFile: string): string {
  const name = (p.newFileName && p.newFileName !== '/dev/null' ? p.newFileName : p.oldFileName) ?? '';
  const rel = name.replace(/^[ab]\//, '').trim();
  if (!rel || rel.includes('..') || path.isAbsolute(rel)) throw new PatchError(`${patchFile}: a section names no usable file ("${name}")`);
  return rel;
}

/** "@@ -156,5 +157,1 @@ socket.on('end', () => {" for a message. */
function hunkLabel(h: StructuredPatch['hunks'][number]): string {
  const first = h.lines.find((l) => l.startsWith('-') || l.startsWith('+')) ?? h.lines[0] ?? '';
  return `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@, first change: ${first.trim().slice(0, 80)}`;
}

/** A hunk that does not apply to today's solution (or whose file the solution no longer has). */
interface RejectedHunk {
  target: string;
  hunk: StructuredPatch['hunks'][number];
  missingFile: boolean;
}

/**
 * The solution's files with the patch applied as far as it goes: each file's hunks all at once, or,
 * when that fails, one by one, keeping every hunk that applies and returning the others.
 */
function patchSolution(chapter: Chapter, mistake: Mistake): { files: Map<string, string>; rejected: RejectedHunk[]; patchRel: string } {
  const solutionDir = path.join(repoRoot, 'solutions', chapter.id);
  const patchRel = mistakePaths(chapter, mistake).patch;
  const patchFile = path.join(repoRoot, patchRel);
  if (!existsSync(patchFile)) throw new PatchError(`${patchRel} is missing (the manifest lists mistake "${mistake.name}")`);
  const files = new Map(filesUnder(solutionDir).map((f) => [f, readFileSync(path.join(solutionDir, f), 'utf8')]));
  const sections = parsePatch(readFileSync(patchFile, 'utf8')).filter((s) => s.hunks.length > 0);
  if (sections.length === 0) throw new PatchError(`${patchRel} holds no hunks`);
  const rejected: RejectedHunk[] = [];
  for (const section of sections) {
    const target = targetOf(section, patchRel);
    const original = files.get(target);
    if (original === undefined) {
      rejected.push(...section.hunks.map((hunk) => ({ target, hunk, missingFile: true })));
      continue;
    }
    const whole = applyPatch(original, section);
    if (whole !== false) {
      files.set(target, whole);
      continue;
    }
    let text = original;
    for (const hunk of section.hunks) {
      const applied = applyPatch(text, { ...section, hunks: [hunk] });
      if (applied === false) rejected.push({ target, hunk, missingFile: false });
      else text = applied;
    }
    files.set(target, text);
  }
  return { files, rejected, patchRel };
}

/**
 * The files of one variant: the solution's files with the patch applied. Throws a PatchError that
 * names the patch, the file and the first hunk that does not apply.
 */
export function variantFiles(chapter: Chapter, mistake: Mistake): Map<string, string> {
  const { files, rejected, patchRel } = patchSolution(chapter, mistake);
  const [first] = rejected;
  if (first?.missingFile) throw new PatchError(`${patchRel} changes ${first.target}, which solutions/${chapter.id}/ does not have`);
  if (first) {
    throw new PatchError(
      `${patchRel} no longer applies to solutions/${chapter.id}/${first.target}: hunk ${hunkLabel(first.hunk)}. Rebuild it with: npm run mistake -- edit ${chapterNumber(chapter)} ${mistake.name}`,
    );
  }
  return files;
}

/**
 * The best that can be made of a patch that no longer applies: the solution's files with every hunk
 * that still applies, and the hunks that do not, as patch text to redo by hand.
 */
export function salvageVariant(chapter: Chapter, mistake: Mistake): { files: Map<string, string>; rejected: string } {
  const { files, rejected } = patchSolution(chapter, mistake);
  const text = rejected.map(({ target, hunk: h }) => `--- a/${target}\n+++ b/${target}\n@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@\n${h.lines.join('\n')}\n`);
  return { files, rejected: text.join('') };
}

/** The folder a variant is built into (absolute). */
export function variantDir(chapter: Chapter, mistake: Mistake): string {
  return path.join(repoRoot, mistakePaths(chapter, mistake).variant);
}

/** Build one variant; returns its folder. */
export function buildVariant(chapter: Chapter, mistake: Mistake): string {
  const dir = variantDir(chapter, mistake);
  const files = variantFiles(chapter, mistake);
  for (const stale of filesUnder(dir)) if (!files.has(stale)) rmSync(path.join(dir, stale), { force: true });
  for (const [rel, text] of files) writeIfChanged(path.join(dir, rel), text);
  return dir;
}

/** What building a list of chapters' variants gave: the folders, and the patches that failed. */
export interface BuildReport {
  built: { chapter: Chapter; mistake: Mistake; dir: string }[];
  failed: { chapter: Chapter; mistake: Mistake; error: string }[];
}

/** Build every variant of these chapters; a broken patch is reported, not thrown. */
export function buildVariants(list: Chapter[] = chapters): BuildReport {
  const report: BuildReport = { built: [], failed: [] };
  for (const chapter of list) {
    for (const mistake of chapter.mistakes) {
      try {
        report.built.push({ chapter, mistake, dir: buildVariant(chapter, mistake) });
      } catch (err) {
        report.failed.push({ chapter, mistake, error: err instanceof PatchError ? err.message : String((err as Error)?.stack ?? err) });
      }
    }
    // Variants of mistakes no longer in the manifest go, so that nothing stale is typechecked or run.
    const chapterVariants = path.join(repoRoot, VARIANTS_DIR, chapter.id);
    if (existsSync(chapterVariants)) {
      for (const d of readdirSync(chapterVariants)) {
        if (!chapter.mistakes.some((m) => m.name === d)) rmSync(path.join(chapterVariants, d), { recursive: true, force: true });
      }
    }
  }
  return report;
}

/**
 * The patch that turns `solutions/<id>/` into the files in `dir`: one section per changed file,
 * git-style names (a/<file>, b/<file>), three lines of context.
 */
export function diffAgainstSolution(chapter: Chapter, dir: string): string {
  const solutionDir = path.join(repoRoot, 'solutions', chapter.id);
  const names = [...new Set([...filesUnder(solutionDir), ...filesUnder(dir)])].sort();
  const sections: string[] = [];
  for (const f of names) {
    const before = existsSync(path.join(solutionDir, f)) ? readFileSync(path.join(solutionDir, f), 'utf8') : undefined;
    const after = existsSync(path.join(dir, f)) ? readFileSync(path.join(dir, f), 'utf8') : undefined;
    if (before === after) continue;
    if (before === undefined || after === undefined) {
      throw new PatchError(`${f} is in only one of solutions/${chapter.id}/ and ${path.relative(repoRoot, dir)}: a mistake changes files, it does not add or remove them`);
    }
    sections.push(createTwoFilesPatch(`a/${f}`, `b/${f}`, before, after, '', '', { context: 3 }).replace(/^=+\n/, '').replace(/^(---|\+\+\+) (\S+)\t\n/gm, '$1 $2\n'));
  }
  return sections.join('');
}

/** The paths of one mistake's patch and folders, for messages (relative to the repository root). */
export function mistakePaths(chapter: Chapter, mistake: Mistake | string) {
  const name = typeof mistake === 'string' ? mistake : mistake.name;
  return {
    patch: `tests/mistakes/${chapter.id}/${name}.patch`,
    variant: `${VARIANTS_DIR}/${chapter.id}/${name}`,
    editing: `${EDIT_DIR}/${chapter.id}/${name}`,
  };
}

/** Find "04/ignores-half-close" (or "sockets/ignores-half-close", "04-sockets/..."): the chapter and the mistake. */
export function findMistake(spec: string, find: (name: string) => Chapter | undefined): { chapter: Chapter; mistake: Mistake } | string {
  const m = /^([^/]+)\/([^/]+)$/.exec(spec.trim());
  if (!m) return `"${spec}" is not <chapter>/<mistake>, e.g. 04/ignores-half-close`;
  const chapter = find(m[1]!);
  if (!chapter) return `no chapter "${m[1]}"`;
  const mistake = chapter.mistakes.find((x) => x.name === m[2]);
  if (!mistake) return `chapter ${chapter.id} has no known mistake "${m[2]}". Its mistakes: ${chapter.mistakes.map((x) => x.name).join(', ')}`;
  return { chapter, mistake };
}

export { chapterPaths };
