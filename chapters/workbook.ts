/**
 * Shared by every exercise stub: the error an unfinished function throws.
 * Solutions do not use it.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Thrown by an exercise function whose TODOs are not done yet. */
export class NotImplementedError extends Error {
  readonly code = 'ERR_NOT_IMPLEMENTED';
  override name = 'NotImplementedError';

  constructor(
    /** The exercise file, relative to the workbook. */
    readonly file: string,
    /** The function or method still to write. */
    readonly fn: string,
  ) {
    super(`${fn} is not implemented yet. Open ${file} and work through its TODOs.`);
  }
}

/** Throw NotImplementedError for `fn`; pass `import.meta.url` as `file`. */
export function todo(file: string, fn: string): never {
  throw new NotImplementedError(relative(file), fn);
}

function relative(file: string): string {
  const abs = file.startsWith('file:') ? fileURLToPath(file) : file;
  // Show "chapters/04-sockets/exercise.ts" rather than a long absolute path.
  const parts = abs.split(path.sep);
  return parts.slice(-3).join('/');
}
