/** Errors the CLI shows to a person: what is wrong, then the command that fixes it. */

/** A problem the user can fix; `fix` is the command (or action) that fixes it. */
export class CliError extends Error {
  override name = 'CliError';

  constructor(
    message: string,
    /** The command that fixes the problem, shown last. */
    readonly fix: string,
    /** Process exit code: 2 for wrong usage, 1 for a problem in the learner's tree. */
    readonly exitCode = 2,
  ) {
    super(message);
  }
}
