/**
 * Builds the static site from the manifest and the lessons: `npm run site` writes site/dist/.
 * Pages are laid out by site/template; everything written in markdown goes through createRenderer().
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MarkdownIt } from 'markdown-it';
import type { Token } from 'markdown-it';
import type { Chapter } from '../chapters/manifest.ts';
import { chapterPaths } from '../chapters/manifest.ts';
import { createEnv, type RenderEnv } from './env.ts';
import { SiteBuildError } from './errors.ts';
import { readLessons } from './lessons.ts';
import { inlineText } from './plugins/text.ts';
import { PROGRESS_FILE, readProgress } from './progress.ts';
import { createRenderer } from './render.ts';
import { pageEntries, SEARCH_INDEX_FILE, type SearchEntry, type SearchIndex } from './search-index.ts';
import { trusted } from './template/html.ts';
import { chapterPage, layout, nn, type PageSpec, type Part, type SiteContext } from './template/layout.ts';
import { chapterMain, HOME_IDS, homeMain, notFoundMain } from './template/pages.ts';

/** The site's own folder (assets, home page text). */
export const SITE_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Stylesheets, concatenated in this order into assets/style.css. */
const STYLESHEETS = ['tokens.css', 'base.css', 'layout.css', 'content.css', 'code.css', 'home.css', 'search.css', 'print.css'];
/** Files copied as they are into assets/. */
const ASSETS = ['theme.js', 'site.js', 'favicon.svg'];
/** Font files copied from their packages into assets/fonts/, with each package's licence. */
const FONTS: Record<string, string[]> = {
  '@fontsource-variable/inter': ['inter-latin-wght-normal.woff2', 'inter-latin-wght-italic.woff2'],
  '@fontsource-variable/jetbrains-mono': ['jetbrains-mono-latin-wght-normal.woff2'],
  '@fontsource-variable/source-serif-4': ['source-serif-4-latin-wght-normal.woff2', 'source-serif-4-latin-wght-italic.woff2'],
};
const require = createRequire(import.meta.url);

/** What to build, from where, into where. */
export interface BuildOptions {
  /** Repository root: lessons, README and links resolve against it. */
  root: string;
  outDir: string;
  chapters: Chapter[];
  parts: readonly Part[];
  /** The learner's progress file; null to build without progress. */
  progressFile?: string | null;
  /** The README whose title, tagline and "Start" section the home page shows. Default: root/README.md. */
  readme?: string;
  /** Serve mode: the URL of the rebuild event stream the pages listen to. */
  liveReload?: string;
}

/** What a build did. */
export interface BuildResult {
  /** Site paths of the pages written. */
  pages: string[];
  /** Problems worth fixing that did not stop the build. */
  warnings: string[];
  /** Things the reader of the build log should know (an ignored progress file). */
  notices: string[];
  ms: number;
}

/** The tokens of the README's `## <heading>` section, without the heading. */
function sectionTokens(tokens: Token[], heading: string): Token[] | undefined {
  const start = tokens.findIndex((t, i) => t.type === 'heading_open' && t.tag === 'h2' && tokens[i + 1]!.content === heading);
  if (start < 0) return undefined;
  const end = tokens.findIndex((t, i) => i > start && t.type === 'heading_open' && (t.tag === 'h1' || t.tag === 'h2'));
  return tokens.slice(start + 3, end < 0 ? undefined : end);
}

/** The README's title, tagline (its first sentence) and "Start" section, rendered. */
function readmeParts(md: MarkdownIt, file: string, root: string) {
  const env = createEnv(path.relative(root, file), path.dirname(file), { page: 'index.html', anchors: new Set(HOME_IDS) });
  const tokens = md.parse(readFileSync(file, 'utf8'), env);
  const h1 = tokens.findIndex((t) => t.type === 'heading_open' && t.tag === 'h1');
  const para = tokens.findIndex((t) => t.type === 'paragraph_open');
  const start = sectionTokens(tokens, 'Start');
  if (h1 < 0 || para < 0 || !start) {
    throw new SiteBuildError('ERR_README_SECTION', `${env.source} needs a "# title", a first paragraph and a "## Start" section: the home page shows them. Restore them, then run: npm run site`);
  }
  const firstParagraph = inlineText(tokens[para + 1]!.children);
  return {
    title: inlineText(tokens[h1 + 1]!.children).trim(),
    tagline: (firstParagraph.match(/^.*?[.!?](?=\s|$)/)?.[0] ?? firstParagraph).trim(),
    start: trusted(md.renderer.render(start, md.options, env)),
    env,
  };
}

function copyAssets(outDir: string): void {
  const assets = path.join(outDir, 'assets');
  mkdirSync(assets, { recursive: true });
  const css = STYLESHEETS.map((f) => `/* ${f} */\n${readFileSync(path.join(SITE_DIR, 'assets/css', f), 'utf8')}`).join('\n');
  writeFileSync(path.join(assets, 'style.css'), css);
  for (const f of ASSETS) copyFileSync(path.join(SITE_DIR, 'assets', f), path.join(assets, f));
  mkdirSync(path.join(assets, 'fonts'));
  for (const [pkg, files] of Object.entries(FONTS)) {
    for (const f of files) copyFileSync(require.resolve(`${pkg}/files/${f}`), path.join(assets, 'fonts', f));
    copyFileSync(require.resolve(`${pkg}/LICENSE`), path.join(assets, 'fonts', `${pkg.split('/')[1]}.LICENSE.txt`));
  }
}

/** Remove a previous build, refusing anything that does not look like a build folder. */
function cleanOutDir(outDir: string, root: string): void {
  const resolved = path.resolve(outDir);
  if (resolved === path.parse(resolved).root || resolved === path.resolve(root) || path.relative(resolved, root).split(path.sep)[0] !== '..') {
    throw new Error(`refusing to clear ${resolved}: it is not a build folder`);
  }
  rmSync(resolved, { recursive: true, force: true });
  mkdirSync(resolved, { recursive: true });
}

/** Build the whole site into `outDir`. */
export function buildSite(options: BuildOptions): BuildResult {
  const started = performance.now();
  const { root, outDir, chapters, parts } = options;
  const lessons = readLessons(root, chapters);
  const progress = readProgress(options.progressFile === undefined ? path.join(root, PROGRESS_FILE) : options.progressFile);
  const pagesBySource = new Map(chapters.map((c) => [chapterPaths(c).lesson, chapterPage(c)]));
  const md = createRenderer({ root, pageFor: (p) => pagesBySource.get(p) });
  const warnings: string[] = [];
  const notices = progress.notice ? [progress.notice] : [];

  const readme = readmeParts(md, options.readme ?? path.join(root, 'README.md'), root);
  const site: SiteContext = { title: readme.title, chapters, parts, progress, liveReload: options.liveReload };
  const pages: PageSpec[] = [];
  const index: SearchEntry[] = [];
  const assets: { from: string; to: string }[] = [];

  for (const lesson of lessons) {
    const { chapter } = lesson;
    const page = chapterPage(chapter);
    const env: RenderEnv = createEnv(lesson.source, lesson.dir, { chapter, page, hintsSeen: progress.chapters.get(chapter.id)?.hintsSeen ?? 0 });
    const body = trusted(md.render(lesson.markdown, env));
    warnings.push(...(env.warnings ?? []));
    assets.push(...(env.assets ?? []));
    const title = `${nn(chapter)} · ${chapter.title}`;
    index.push(...pageEntries(page, title, env.sections ?? []));
    pages.push({ path: page, title, description: chapter.summary, kind: 'chapter', main: chapterMain(site, chapter, body), outline: env.outline, current: chapter.id });
  }

  const homeFile = path.join(SITE_DIR, 'content/home.md');
  const homeEnv = createEnv('site/content/home.md', path.dirname(homeFile), { page: 'index.html', anchors: readme.env.anchors });
  const intro = trusted(md.render(readFileSync(homeFile, 'utf8'), homeEnv));
  warnings.push(...(homeEnv.warnings ?? []), ...(readme.env.warnings ?? []));
  pages.push({ path: 'index.html', title: site.title, description: readme.tagline, kind: 'home', main: homeMain(site, { intro, start: readme.start, tagline: readme.tagline }) });
  pages.push({ path: '404.html', title: 'Page not found', description: 'This page does not exist.', kind: 'not-found', main: notFoundMain() });

  cleanOutDir(outDir, root);
  for (const page of pages) {
    const file = path.join(outDir, page.path);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, layout(site, page));
  }
  const searchIndex: SearchIndex = { version: 1, entries: index };
  writeFileSync(path.join(outDir, SEARCH_INDEX_FILE), JSON.stringify(searchIndex));
  copyAssets(outDir);
  for (const asset of assets) {
    mkdirSync(path.dirname(path.join(outDir, asset.to)), { recursive: true });
    copyFileSync(asset.from, path.join(outDir, asset.to));
  }
  return { pages: pages.map((p) => p.path), warnings, notices, ms: performance.now() - started };
}

async function main(): Promise<void> {
  const root = path.resolve(SITE_DIR, '..');
  const { chapters, parts } = await import('../chapters/manifest.ts');
  const arg = (name: string) => {
    const at = process.argv.indexOf(name);
    return at > 0 ? process.argv[at + 1] : undefined;
  };
  const liveReload = arg('--live-reload');
  const outDir = path.resolve(arg('--out') ?? path.join(SITE_DIR, 'dist'));
  try {
    const result = buildSite({ root, outDir, chapters, parts, liveReload });
    for (const n of result.notices) console.log(`notice: ${n}`);
    for (const w of result.warnings) console.warn(`warning: ${w}`);
    console.log(`Built ${result.pages.length} pages into ${path.relative(process.cwd(), outDir) || '.'} in ${Math.round(result.ms)} ms.`);
  } catch (err) {
    if (!(err instanceof SiteBuildError)) throw err;
    console.error(`The site was not built: ${err.message}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await main();
