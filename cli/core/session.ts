/**
 * Opening the learner's workbook: stub snapshots, and progress that is rebuilt from real test
 * results when the file is missing or corrupt. Also which chapter is current.
 */
import { renameSync } from 'node:fs';
import type { Chapter } from '../../chapters/manifest.ts';
import { chapters } from '../../chapters/manifest.ts';
import type { ChapterRunner } from '../runner/runner.ts';
import { chapterPassed } from '../runner/runner.ts';
import { stamp } from './fsutil.ts';
import { PROGRESS_FILE, Progress } from './progress.ts';
import { ensureSnapshots, isUntouched } from './stubs.ts';
import { isAvailable, missingFiles, rel } from './workbook.ts';

/** Progress, and a one-line notice when it had to be rebuilt. */
export interface Opened {
  progress: Progress;
  notice?: string;
}

/**
 * Read the progress file; when it is missing or corrupt, rebuild it by running the suites of the
 * chapters the learner has changed (an untouched stub fails every test, as the self-check proves).
 */
export async function openProgress(runner: () => ChapterRunner): Promise<Opened> {
  ensureSnapshots();
  const read = Progress.read();
  if (read.ok) return { progress: read.progress };

  const progress = new Progress();
  const worked = chapters.filter((c) => isAvailable(c) && missingFiles(c).length === 0 && !isUntouched(c));
  if (worked.length > 0) {
    const result = await runner().run(worked);
    for (const c of worked) progress.setPassed(c, chapterPassed(result, c));
  }
  let kept = '';
  if (read.problem === 'corrupt') {
    const aside = `${PROGRESS_FILE}.corrupt-${stamp()}`;
    try {
      renameSync(PROGRESS_FILE, aside);
      kept = ` (the old file is kept as ${rel(aside)})`;
    } catch {
      /* unreadable and unmovable: it is overwritten below */
    }
  }
  progress.save();
  const passed = chapters.filter((c) => progress.passed(c)).length;
  const why = read.problem === 'missing' ? `No progress file yet (${rel(PROGRESS_FILE)})` : `${rel(PROGRESS_FILE)} was corrupt (${read.detail})${kept}`;
  return { progress, notice: `${why}; rebuilt it from your test results: ${passed} of ${chapters.length} chapters pass.` };
}

/** The chapters that exist so far (their suites are written), in order. */
export function availableChapters(): Chapter[] {
  return chapters.filter(isAvailable);
}

/** The current chapter: the first available one not passed; undefined when all are passed. */
export function currentChapter(progress: Progress): Chapter | undefined {
  return availableChapters().find((c) => !progress.passed(c));
}

/** The first available chapter after `chapter` that is not passed (wrapping to earlier ones), if any. */
export function chapterAfter(chapter: Chapter, progress: Progress): Chapter | undefined {
  const list = availableChapters();
  const i = list.findIndex((c) => c.id === chapter.id);
  const order = [...list.slice(i + 1), ...list.slice(0, Math.max(0, i))];
  return order.find((c) => !progress.passed(c));
}
