/**
 * Which chapters have a benchmark. A chapter joins by adding its file to bench/chapters/ and one
 * line here; both `npm run workbook -- bench` and `npm run bench` find it through this table.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Benchmark } from './framework.ts';

/** bench/ itself. */
export const benchDir = path.dirname(fileURLToPath(import.meta.url));

/** Chapter id -> its benchmark file, relative to bench/chapters/. */
export const benchmarkFiles: Record<string, string> = {
  '01-shared-memory': '01-shared-memory.ts',
  '04-sockets': '04-sockets.ts',
  '07-streams-and-backpressure': '07-streams-and-backpressure.ts',
  '08-reliable-delivery': '08-reliable-delivery.ts',
  '09-framing': '09-framing.ts',
  '13-http': '13-http.ts',
};

/** The chapter ids that have a benchmark, in order. */
export const benchmarkedChapters = Object.keys(benchmarkFiles).sort();

/** The absolute path of a chapter's benchmark file, or undefined. */
export function benchmarkFile(chapterId: string): string | undefined {
  const file = Object.hasOwn(benchmarkFiles, chapterId) ? benchmarkFiles[chapterId] : undefined;
  return file ? path.join(benchDir, 'chapters', file) : undefined;
}

/** Load a chapter's benchmark; throws for a chapter without one. */
export async function loadBenchmark(chapterId: string): Promise<Benchmark> {
  const file = benchmarkFile(chapterId);
  if (!file) throw new Error(`Chapter ${chapterId} has no benchmark. Chapters with one: ${benchmarkedChapters.join(', ')}.`);
  const mod = (await import(pathToFileURL(file).href)) as { default: Benchmark };
  if (mod.default?.chapter !== chapterId) throw new Error(`${file} must export default defineBenchmark({ chapter: '${chapterId}', ... }).`);
  return mod.default;
}

/** Where a maintainer's recorded reference run lives; the site draws the lesson's chart from it. */
export function resultsFile(chapterId: string): string {
  return path.join(benchDir, 'results', `${chapterId}.json`);
}

/** Every chapter's benchmark, loaded: chapter id -> benchmark. */
export async function loadAllBenchmarks(): Promise<Map<string, Benchmark>> {
  return new Map(await Promise.all(benchmarkedChapters.map(async (id) => [id, await loadBenchmark(id)] as const)));
}
