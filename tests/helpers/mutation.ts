/**
 * Lets mutation testing (`npm run mutation`, Stryker) reach code that the tests run in Workers and
 * child processes. Stryker's instrumented code decides which mutant is active, and records which
 * mutants a test covers, in a global of the thread it runs in; a Worker or child process starts
 * without it. Outside a mutation run every function here does nothing.
 *
 * - In a mutant run, the active mutant's id goes to new Workers and processes through the
 *   environment variable that Stryker's instrumented code reads at start.
 * - In Stryker's first (coverage) run, they append each mutant id they reach to a file
 *   (mutation-child.mjs); after each test we add those ids to this thread's coverage as "static",
 *   so that Stryker runs the whole suite against those mutants rather than calling them uncovered.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { threadId } from 'node:worker_threads';

/** The global in which Stryker's instrumented code keeps its state (@stryker-mutator/api INSTRUMENTER_CONSTANTS). */
const NAMESPACE = '__stryker__';
/** The variable Stryker's instrumented code reads the active mutant from when its global has none. */
const ACTIVE_MUTANT_ENV = '__STRYKER_ACTIVE_MUTANT__';
/** Where Workers and child processes record the mutants they reach (read by mutation-child.mjs). */
export const COVERAGE_FILE_ENV = 'WORKBOOK_MUTANT_COVERAGE_FILE';

interface StrykerState {
  activeMutant?: string;
  mutantCoverage?: { static: Record<string, number>; perTest: Record<string, Record<string, number>> };
}

const state = () => (globalThis as Record<string, unknown>)[NAMESPACE] as StrykerState | undefined;
const coverageFile = path.join(os.tmpdir(), `workbook-mutant-coverage-${process.pid}-${threadId}.txt`);
// Quoted, as NODE_OPTIONS allows, in case the path has spaces.
const preload = `--import="${pathToFileURL(path.join(import.meta.dirname, 'mutation-child.mjs')).href}"`;

/**
 * Before each test: put the mutation run's state where Workers and child processes started by the
 * test (or by the code under test) inherit it, in this thread's process.env.
 */
export function shareMutationState(): void {
  const ns = state();
  if (!ns) return;
  if (ns.activeMutant !== undefined) {
    process.env[ACTIVE_MUTANT_ENV] = String(ns.activeMutant);
    delete process.env[COVERAGE_FILE_ENV];
  } else {
    delete process.env[ACTIVE_MUTANT_ENV];
    process.env[COVERAGE_FILE_ENV] = coverageFile;
    // Child processes load the recorder before anything else; Workers load it in ts-worker-entry.mjs.
    if (!(process.env.NODE_OPTIONS ?? '').includes(preload)) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} ${preload}`.trim();
  }
}

/** After each test (once its Workers and processes are gone): count what they covered as this run's static coverage. */
export function collectChildCoverage(): void {
  const ns = state();
  if (!ns || ns.activeMutant !== undefined || !existsSync(coverageFile)) return;
  const cov = (ns.mutantCoverage ??= { static: {}, perTest: {} });
  for (const id of readFileSync(coverageFile, 'utf8').split('\n')) {
    if (id) cov.static[id] = (cov.static[id] ?? 0) + 1;
  }
  rmSync(coverageFile, { force: true });
}
