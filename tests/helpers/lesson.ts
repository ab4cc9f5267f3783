/**
 * Messages that teach: what the learner's code did, what was expected, and where the lesson
 * explains it. Lesson references are checked against the lesson file, so they never go stale.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../engine/impl.ts';
import { anchorOf } from '../../site/slug.ts';
import type { Transcript } from './transcript.ts';

const headingsCache = new Map<string, string[]>();

/** The `##`/`###` headings of a chapter's lesson. */
export function lessonHeadings(chapterId: string): string[] {
  let hs = headingsCache.get(chapterId);
  if (!hs) {
    const text = readFileSync(path.join(repoRoot, 'chapters', chapterId, 'lesson.md'), 'utf8');
    hs = [...text.matchAll(/^#{2,4}\s+(.+?)\s*#*\s*$/gm)].map((m) => m[1]!.trim());
    headingsCache.set(chapterId, hs);
  }
  return hs;
}

export { anchorOf };

/**
 * "chapters/04-sockets/lesson.md#half-close", after checking that the section exists.
 * A reference to a missing section is an authoring bug and throws at once.
 */
export function seeLesson(chapterId: string, heading: string): string {
  const hs = lessonHeadings(chapterId);
  if (!hs.includes(heading)) {
    throw new Error(`Authoring bug: lesson ${chapterId} has no section "${heading}". Sections: ${hs.join(' | ')}`);
  }
  return `chapters/${chapterId}/lesson.md#${anchorOf(heading)} ("${heading}")`;
}

/** A chapter's `seeLesson`, for a suite's `const lesson = lessonOf(ID)`. */
export function lessonOf(chapterId: string): (heading: string) => string {
  return (heading) => seeLesson(chapterId, heading);
}

/** The parts of a teaching failure message. */
export interface Explanation {
  /** What the learner's code did, in plain words. */
  did: string;
  /** What a correct implementation does. */
  expected: string;
  /** A `seeLesson(...)` reference. */
  lesson?: string;
  /** Bytes on the wire, both directions. */
  transcript?: Transcript;
  /** A command that reproduces the situation by hand. */
  reproduce?: string;
  /** Anything else: the seed, a hint. */
  extra?: string;
}

/** Format a teaching failure message. */
export function explain(e: Explanation): string {
  const lines = [`What happened: ${e.did}`, `Expected:      ${e.expected}`];
  if (e.lesson) lines.push(`Read:          ${e.lesson}`);
  if (e.extra) lines.push(e.extra);
  if (e.transcript) lines.push('Wire transcript:', e.transcript.render());
  if (e.reproduce) lines.push(`Try it by hand: ${e.reproduce}`);
  return lines.join('\n');
}

/** A failed expectation, with a teaching message. */
export class LearnerFacingError extends Error {
  override name = 'WorkbookCheckFailed';
}

/** Fail the test with a teaching message. */
export function fail(e: Explanation): never {
  throw new LearnerFacingError(explain(e));
}

/** Fail the test with a teaching message unless `condition` holds. */
export function check(condition: unknown, e: Explanation | (() => Explanation)): asserts condition {
  if (!condition) fail(typeof e === 'function' ? e() : e);
}
