/** Typed site-build errors with stable codes; tests check the code, not the message. */

/** Why the site could not be built; `code` is stable. */
export class SiteBuildError extends Error {
  override name = 'SiteBuildError';
  constructor(
    readonly code: 'ERR_LESSON_MISSING' | 'ERR_DIAGRAM_MISSING' | 'ERR_DIAGRAM_UNSAFE' | 'ERR_README_SECTION' | 'ERR_MEASURED',
    message: string,
  ) {
    super(message);
  }
}
