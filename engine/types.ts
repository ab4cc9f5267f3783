/**
 * The one result type of a test run, as plain data: what engine/results.mjs makes of vitest's state,
 * for the learner's runner (cli/runner/host.mjs, in a worker thread), the self-check, `grade` and the
 * mutation tool alike.
 */

/** One stack frame. */
export interface Frame {
  file: string;
  line: number;
  column: number;
  method?: string;
}

/** An error as vitest serialized it, with ANSI colours removed. */
export interface ErrorInfo {
  name?: string;
  message: string;
  stack?: string;
  diff?: string;
  /** For assertions: the two values, serialized. */
  expected?: string;
  actual?: string;
  frames: Frame[];
  /** Set when a file failed to transform (a syntax error): the file's absolute path. */
  transformOf?: string;
  cause?: ErrorInfo;
}

/** One test's outcome. */
export interface TestInfo {
  /** The test's own sentence. */
  name: string;
  /** The enclosing describe blocks, outermost first; the first is the test group. */
  suites: string[];
  fullName: string;
  state: 'passed' | 'failed' | 'skipped' | 'pending';
  /** Why a test skipped itself (a missing optional peer). */
  note?: string;
  durationMs?: number;
  error?: ErrorInfo;
  /** What the test (and the learner's code) printed with console.*. */
  logs?: string[];
}

/** What the watchdog recorded when it stopped a test process (tests/helpers/watchdog-worker.mjs). */
export interface Hang {
  test: string;
  /** The test file (absolute). */
  file: string;
  blockedMs: number;
  limitMs?: number;
  /** The vitest project the process belonged to. */
  project?: string;
}

/** One test file's outcome. */
export interface ModuleResult {
  /** The vitest project that ran it (one per implementation in the self-check). */
  project: string;
  /** Relative to the workbook root, e.g. tests/04-sockets/sockets.test.ts. */
  file: string;
  state: string;
  /** Errors that belong to the file, not to a test: it failed to load, or its process died. */
  errors: ErrorInfo[];
  tests: TestInfo[];
  hang?: Hang;
}

/** Everything one run produced. */
export interface RunResult {
  modules: ModuleResult[];
  /** Errors outside any test file. */
  runErrors: ErrorInfo[];
  /** Every process the watchdog stopped in this run (each is also on its module). */
  hangs: Hang[];
  /** Raw output of the test processes (the watchdog writes its notice there). */
  output: string;
  durationMs: number;
}
