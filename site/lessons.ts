/** The lessons the site shows, read in manifest order; a missing lesson stops the build with a clear error. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Chapter } from '../chapters/manifest.ts';
import { chapterPaths } from '../chapters/manifest.ts';
import { SiteBuildError } from './errors.ts';

/** A chapter with its lesson's markdown and where it lives. */
export interface Lesson {
  chapter: Chapter;
  /** Repository-relative path, e.g. "chapters/04-sockets/lesson.md". */
  source: string;
  /** Absolute directory of the lesson. */
  dir: string;
  markdown: string;
}

/** Read every manifest chapter's lesson; throws ERR_LESSON_MISSING naming all the missing ones. */
export function readLessons(root: string, chapters: Chapter[]): Lesson[] {
  const missing = chapters.filter((c) => !existsSync(path.join(root, chapterPaths(c).lesson)));
  if (missing.length > 0) {
    const list = missing.map((c) => `  ${c.id}: ${chapterPaths(c).lesson} does not exist`).join('\n');
    throw new SiteBuildError(
      'ERR_LESSON_MISSING',
      `chapters/manifest.ts lists ${missing.length === 1 ? 'a chapter' : `${missing.length} chapters`} without a lesson:\n${list}\n` +
        'Write the lesson (see CONTRIBUTING.md, "The lesson"), then run: npm run site',
    );
  }
  return chapters.map((chapter) => {
    const source = chapterPaths(chapter).lesson;
    const file = path.join(root, source);
    return { chapter, source, dir: path.dirname(file), markdown: readFileSync(file, 'utf8') };
  });
}
