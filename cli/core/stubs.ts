/**
 * Pristine copies of the exercise stubs, for `reset`. The learner edits chapters/<id>/ in place,
 * so the CLI keeps its own copy in .workbook/stubs/<id>/<file>, taken the first time it sees a
 * chapter: from git's HEAD when the workbook is a git checkout (so edits made before the first run
 * do not count), otherwise from the file as it is (then edits made before the first run are in it). Without a snapshot, `git show HEAD:<file>` is
 * the fallback. After pulling a new version of the workbook, delete .workbook/stubs/ to re-take them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Chapter } from '../../chapters/manifest.ts';
import { chapterPaths, chapters } from '../../chapters/manifest.ts';
import { CliError } from './errors.ts';
import { writeAtomic } from './fsutil.ts';
import { abs, cmd, root, stateDir } from './workbook.ts';

const snapshotPath = (chapter: Chapter, file: string) => path.join(stateDir, 'stubs', chapter.id, file);
/** Marks a snapshot that came from git's HEAD. */
const FROM_GIT = '.from-git';

let gitWorks: boolean | undefined;

const isGitCheckout = () => {
  try {
    execFileSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: root, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** The file as committed in git's HEAD, or undefined (no git, not a checkout, not committed). */
function fromGit(relFile: string): Buffer | undefined {
  if (gitWorks === false) return undefined;
  try {
    const out = execFileSync('git', ['show', `HEAD:./${relFile}`], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 16 << 20 });
    gitWorks = true;
    return out;
  } catch {
    // Not committed, or not a checkout at all: then stop asking git for the rest of this run.
    gitWorks ??= isGitCheckout();
    return undefined;
  }
}

/** Take a snapshot of every chapter whose learner files exist and that has none yet. Cheap when all exist. */
export function ensureSnapshots(list: Chapter[] = chapters): void {
  for (const ch of list) {
    ch.files.forEach((file, i) => {
      const snap = snapshotPath(ch, file);
      const learner = abs(chapterPaths(ch).stubs[i]!);
      if (existsSync(snap) || !existsSync(learner)) return;
      const committed = fromGit(chapterPaths(ch).stubs[i]!);
      writeAtomic(snap, committed ?? readFileSync(learner));
      // Only a copy from git is known to be the stub; a copy of the file may already hold work.
      if (committed) writeAtomic(`${snap}${FROM_GIT}`, '');
    });
  }
}

/** The pristine stub of one learner file, or a CliError saying how to get it back another way. */
export function stubContent(chapter: Chapter, file: string): Buffer {
  const snap = snapshotPath(chapter, file);
  if (existsSync(snap)) return readFileSync(snap);
  const relFile = `chapters/${chapter.id}/${file}`;
  const committed = fromGit(relFile);
  if (committed) return committed;
  throw new CliError(`No pristine copy of ${relFile} is known (no snapshot in .workbook/stubs/ and no git history).`, `git checkout -- ${relFile}   (or: ${cmd(`list`)})`, 1);
}

/**
 * Whether all of a chapter's learner files are byte-identical to their stubs as committed in git,
 * and so known to fail every test (the self-check proves it). Without git this is never assumed.
 */
export function isUntouched(chapter: Chapter): boolean {
  return chapter.files.every((file, i) => {
    const snap = snapshotPath(chapter, file);
    const learner = abs(chapterPaths(chapter).stubs[i]!);
    return existsSync(`${snap}${FROM_GIT}`) && existsSync(learner) && readFileSync(snap).equals(readFileSync(learner));
  });
}
