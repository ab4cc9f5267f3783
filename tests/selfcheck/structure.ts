/** Step 1 of the self-check: every manifest entry has all of its parts. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Chapter } from '../../chapters/manifest.ts';
import { STORY_CONTAINER, chapterPaths, chapters as allChapters, expectedId, lessonSections } from '../../chapters/manifest.ts';
import { repoRoot } from '../../engine/impl.ts';
import type { Checks } from './checks.ts';

const MIN_HINTS = 3;
const MIN_MISTAKES = 5;
/** A learner file given complete (e.g. chapter 11's framing) says so in its doc comment, and needs no TODO. */
const GIVEN = /^ \* Chapter \d+ · Given\b/m;
/** From this part of the story on, every lesson has at least one authored SVG diagram. */
const FIGURES_FROM_PART = 2;
const read = (rel: string) => readFileSync(path.join(repoRoot, rel), 'utf8');
const exists = (rel: string) => existsSync(path.join(repoRoot, rel));

/** Check the parts of each chapter; add one check per chapter. */
export function checkStructure(chapters: Chapter[], checks: Checks): void {
  const ids = new Set<string>();
  allChapters.forEach((c, i) => {
    if (ids.has(c.id)) checks.add(`manifest: chapter id ${c.id} is unique`, false);
    ids.add(c.id);
    if (c.id !== expectedId(c)) {
      checks.add(`manifest: ${c.id} is named <number>-<slug>`, false, [`expected ${expectedId(c)}`]);
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
      const lines = lesson.split('\n').map((l) => l.trim());
      if (!lines.some((l) => l === STORY_CONTAINER || l.startsWith(`${STORY_CONTAINER} `))) problems.push(`${p.lesson} has no "${STORY_CONTAINER}" beat`);
      for (const heading of Object.values(lessonSections)) {
        if (!lines.includes(`## ${heading}`)) problems.push(`${p.lesson} has no "## ${heading}" section`);
      }
      if (ch.part >= FIGURES_FROM_PART) problems.push(...diagramProblems(p.lesson, lesson));
    }
    p.stubs.forEach((f) => {
      if (!need(f, 'stub')) return;
      const stub = read(f);
      if (!stub.includes('// TODO:') && !GIVEN.test(stub)) problems.push(`${f} has no "// TODO:" marker (nor, for a file given complete, a " * Chapter NN · Given: ..." line in its doc comment)`);
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
    // Every program a suite asks for with needPeer must be listed in the chapter's manifest entry, so that
    // doctor and the lesson tell learners about it.
    problems.push(...unlistedPeers(ch, p.testDir));
    checks.add(`parts of ${ch.id}: lesson, stub, solution, suite, ${MIN_HINTS}+ hints, ${MIN_MISTAKES}+ mistakes`, problems.length === 0, problems);
  }
}

/** One problem per `needPeer` call in `testDir` for a program the chapter's `peers` does not list. */
export function unlistedPeers(ch: Pick<Chapter, 'peers'>, testDir: string): string[] {
  const listed = new Set<string>(ch.peers ?? []);
  return peerCalls(testDir)
    .filter(([, program]) => !listed.has(program))
    .map(([file, program]) => `${file} calls needPeer for "${program}", which the manifest entry's peers (${[...listed].join(', ') || 'none'}) does not list`);
}

/** The programs that the files of a chapter's test folder ask for with `needPeer(ctx, '<program>')`. */
export function peerCalls(testDir: string): [file: string, program: string][] {
  const dir = path.resolve(repoRoot, testDir);
  if (!existsSync(dir)) return [];
  const out: [string, string][] = [];
  for (const f of readdirSync(dir, { recursive: true }).map(String)) {
    if (!/\.(ts|mts|mjs|js)$/.test(f)) continue;
    const text = readFileSync(path.join(dir, f), 'utf8');
    for (const m of text.matchAll(/\bneedPeer\(\s*[\w.]+\s*,\s*['"`]([^'"`]+)['"`]/g)) out.push([`${testDir}/${f}`, m[1]!]);
  }
  return out;
}

/**
 * An authored diagram: `![alt](diagrams/<name>.svg ...)` with alt text, the file present, drawn in
 * currentColor so that it follows the theme, with no colour of its own in a fill or stroke.
 */
export function diagramProblems(lessonPath: string, lesson: string): string[] {
  const problems: string[] = [];
  const images = [...lesson.matchAll(/!\[([^\]]*)\]\((diagrams\/[^\s)]+\.svg)(?:\s+"[^"]*")?\)/g)];
  if (images.length === 0) return [`${lessonPath} has no authored SVG diagram: add chapters/<id>/diagrams/<name>.svg and include it as ![what it shows](diagrams/<name>.svg "caption")`];
  for (const [, alt, src] of images) {
    if (alt!.trim().length < 10) problems.push(`${lessonPath}: ${src} needs alt text that describes the picture`);
    const file = path.join(path.dirname(lessonPath), src!);
    if (!exists(file)) {
      problems.push(`${lessonPath}: ${src} does not exist (${file})`);
      continue;
    }
    const svg = read(file);
    if (!svg.includes('currentColor')) problems.push(`${file} is not drawn in currentColor, so it cannot follow the light and dark themes`);
    const colours = [...svg.matchAll(/(?:fill|stroke|color)\s*[:=]\s*["']?\s*(#[0-9a-f]{3,8}|rgba?\([^)]*\)|hsla?\([^)]*\)|(?!none|currentColor|transparent|inherit|url)[a-z]+)/gi)].map((m) => m[1]!);
    if (colours.length > 0) problems.push(`${file} hard-codes colours (${[...new Set(colours)].slice(0, 3).join(', ')}): use currentColor (with opacity for shades), so it follows the theme`);
  }
  return problems;
}
