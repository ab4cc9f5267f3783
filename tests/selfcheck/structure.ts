/** Step 1 of the self-check: every manifest entry has all of its parts. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Chapter } from '../../chapters/manifest.ts';
import { chapterPaths, chapters as allChapters } from '../../chapters/manifest.ts';
import { repoRoot } from '../../engine/impl.ts';
import type { Checks } from './checks.ts';

const MIN_HINTS = 3;
const MIN_MISTAKES = 4;
const read = (rel: string) => readFileSync(path.join(repoRoot, rel), 'utf8');
const exists = (rel: string) => existsSync(path.join(repoRoot, rel));

/** Check the parts of each chapter; add one check per chapter. */
export function checkStructure(chapters: Chapter[], checks: Checks): void {
  const ids = new Set<string>();
  allChapters.forEach((c, i) => {
    if (ids.has(c.id)) checks.add(`manifest: chapter id ${c.id} is unique`, false);
    ids.add(c.id);
    if (c.id !== `${String(c.number).padStart(2, '0')}-${c.slug}`) {
      checks.add(`manifest: ${c.id} is named <number>-<slug>`, false, [`expected ${String(c.number).padStart(2, '0')}-${c.slug}`]);
    }
    if (i > 0 && allChapters[i - 1]!.number >= c.number) checks.add(`manifest: ${c.id} is in order`, false);
  });

  for (const ch of chapters) {
    const p = chapterPaths(ch);
    const problems: string[] = [];
    const need = (rel: string, what: string) => {
      if (!exists(rel)) problems.push(`missing ${what}: ${rel}`);
      return exists(rel);
    };
    if (need(p.lesson, 'lesson')) {
      const lesson = read(p.lesson);
      if (!/^::: story\b/m.test(lesson)) problems.push(`${p.lesson} has no "::: story" beat`);
      if (!/^## Further reading\s*$/m.test(lesson)) problems.push(`${p.lesson} has no "## Further reading" section`);
      if (!/^## The exercise\s*$/m.test(lesson)) problems.push(`${p.lesson} has no "## The exercise" section`);
    }
    p.stubs.forEach((f) => {
      if (need(f, 'stub') && !read(f).includes('// TODO:')) problems.push(`${f} has no "// TODO:" marker`);
    });
    p.solutions.forEach((f) => {
      if (need(f, 'solution') && /\btodo\(/.test(read(f))) problems.push(`${f} still calls todo()`);
    });
    need(p.test, 'test suite');
    if (ch.hints.length < MIN_HINTS) problems.push(`only ${ch.hints.length} hints (at least ${MIN_HINTS})`);
    if (ch.mistakes.length < MIN_MISTAKES) problems.push(`only ${ch.mistakes.length} known-mistake variants (at least ${MIN_MISTAKES})`);
    for (const patch of p.patches) need(patch, 'mistake patch');
    const mistakesRoot = path.join(repoRoot, 'tests/mistakes', ch.id);
    if (existsSync(mistakesRoot)) {
      for (const d of readdirSync(mistakesRoot)) {
        if (!d.endsWith('.patch')) problems.push(`tests/mistakes/${ch.id}/${d} is not a patch: a known mistake is one .patch file (npm run mistake -- edit/save)`);
        else if (!ch.mistakes.some((m) => `${m.name}.patch` === d)) problems.push(`tests/mistakes/${ch.id}/${d} is not listed in the manifest`);
      }
    }
    checks.add(`parts of ${ch.id}: lesson, stub, solution, suite, ${MIN_HINTS}+ hints, ${MIN_MISTAKES}+ mistakes`, problems.length === 0, problems);
  }
}
