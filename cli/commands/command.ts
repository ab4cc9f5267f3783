/** The shape of a CLI command: main.ts parses its options and calls `run`. */
import type { ParseArgsConfig } from 'node:util';

/** Parsed arguments of one command. */
export interface Args {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

/** One workbook command. */
export interface Command {
  name: string;
  /** e.g. "check [chapter]" */
  usage: string;
  /** One line for the help text. */
  summary: string;
  options?: ParseArgsConfig['options'];
  /** Run; resolves to the process exit code. */
  run(args: Args): Promise<number>;
}
