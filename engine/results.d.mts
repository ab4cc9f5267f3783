import type { ErrorInfo, Hang, ModuleResult } from './types.ts';

export function strip(s: unknown): string;
export function errorInfo(e: unknown): ErrorInfo | undefined;
export function suiteNames(t: { parent: unknown }): string[];
export function readHangs(hangDir: string): Hang[];
export function clearHangs(hangDir: string): void;
export function collect(
  vitest: unknown,
  o: { root: string; hangDir: string; files?: string[]; logs?: Map<string, string[]> },
): { modules: ModuleResult[]; runErrors: ErrorInfo[]; hangs: Hang[] };
