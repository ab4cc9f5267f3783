/** Where the implementation under test lives, for code that cannot use the `@impl` alias (Workers). */
import path from 'node:path';
import type { ResolvedImpl } from '../../engine/impl.ts';
import { chapterDir, resolveImpl } from '../../engine/impl.ts';

/** The implementation choice this test process was started with. */
export function currentImpl(): ResolvedImpl {
  const raw = process.env.WORKBOOK_IMPL_RESOLVED;
  return raw ? (JSON.parse(raw) as ResolvedImpl) : resolveImpl(process.env.WORKBOOK_IMPL);
}

/** Absolute path of one file of a chapter's implementation under test, e.g. implFile('01-shared-memory', 'exercise.ts'). */
export function implFile(chapterId: string, file: string): string {
  return path.join(chapterDir(currentImpl(), chapterId), file);
}
