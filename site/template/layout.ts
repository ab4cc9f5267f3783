/** The page shell every page shares: top bar, chapter sidebar, main column, outline, search dialog. */
import path from 'node:path';
import type { Chapter } from '../../chapters/manifest.ts';
import { chapterNumber } from '../../chapters/manifest.ts';
import type { OutlineItem } from '../env.ts';
import type { Progress } from '../progress.ts';
import { html, type SafeHtml } from './html.ts';
import { icons, logo } from './icons.ts';

/** A part of the story, as in the manifest. */
export interface Part {
  readonly number: number;
  readonly title: string;
}

/** What every page knows about the whole site. */
export interface SiteContext {
  title: string;
  chapters: Chapter[];
  parts: readonly Part[];
  progress: Progress;
  /** Serve mode: pages subscribe to rebuilds and reload themselves. */
  liveReload?: string;
}

/** One page to lay out. */
export interface PageSpec {
  /** Path in the built site, e.g. "04-sockets/index.html". */
  path: string;
  title: string;
  description: string;
  kind: 'home' | 'chapter' | 'not-found';
  main: SafeHtml;
  outline?: OutlineItem[];
  /** Id of the chapter the page shows, to mark it in the sidebar. */
  current?: string;
}

/** The site path of a chapter's page. */
export function chapterPage(chapter: Chapter): string {
  return `${chapter.id}/index.html`;
}

/** A link from one site path to another, relative, so the site works under any base path. */
export function href(from: string, to: string, hash = ''): string {
  const rel = path.posix.relative(path.posix.dirname(from), to);
  return `${rel || path.posix.basename(to)}${hash}`;
}

/** Two-digit chapter number, as learners type it. */
export function nn(chapter: Chapter): string {
  return chapterNumber(chapter);
}

function sidebar(site: SiteContext, page: PageSpec): SafeHtml {
  const parts = site.parts.map((part) => {
    const items = site.chapters.filter((c) => c.part === part.number);
    if (items.length === 0) return html``;
    return html`<section class="sidebar-part"><h2 class="sidebar-part-title">Part ${part.number} · ${part.title}</h2><ol>${items.map((c) => {
      const passed = site.progress.chapters.get(c.id)?.passed;
      const current = c.id === page.current;
      return html`<li><a href="${href(page.path, chapterPage(c))}"${current ? html` aria-current="page"` : ''}${passed ? html` class="passed"` : ''}><span class="num">${nn(c)}</span><span class="label">${c.title}</span>${passed ? html`<span class="passed-mark" title="Passed">${icons.check}<span class="visually-hidden">(passed)</span></span>` : ''}</a></li>`;
    })}</ol></section>`;
  });
  return html`<nav id="site-sidebar" class="sidebar" aria-label="Chapters"><a class="sidebar-home" href="${href(page.path, 'index.html')}"${page.kind === 'home' ? html` aria-current="page"` : ''}>Home</a>${parts}</nav>`;
}

function outlineBox(items: OutlineItem[] | undefined): SafeHtml {
  const shown = (items ?? []).filter((i) => i.anchor);
  if (shown.length < 2) return html``;
  return html`<aside class="outline" aria-labelledby="site-outline-title"><p id="site-outline-title" class="outline-title">On this page</p><ul>${shown.map(
    (i) => html`<li class="outline-h${i.level}"><a href="#${i.anchor}">${i.text}</a></li>`,
  )}</ul></aside>`;
}

const searchDialog = html`<dialog id="site-search" class="search-dialog" aria-label="Search the lessons">
<form method="dialog" class="search-form" role="search"><label class="search-field">${icons.search}<span class="visually-hidden">Search the lessons</span><input id="site-search-input" type="search" placeholder="Search the lessons" autocomplete="off" spellcheck="false" aria-controls="site-search-results"></label><button class="search-close" type="submit" aria-label="Close search">${icons.close}</button></form>
<p id="site-search-status" class="search-status" role="status"></p>
<ol id="site-search-results" class="search-results"></ol>
<p class="search-keys"><kbd>↑</kbd><kbd>↓</kbd> to move, <kbd>Enter</kbd> to open, <kbd>Esc</kbd> to close</p>
</dialog>`;

/** A whole HTML page. */
export function layout(site: SiteContext, page: PageSpec): string {
  const root = href(page.path, 'index.html').replace(/index\.html$/, '') || './';
  const asset = (name: string) => href(page.path, `assets/${name}`);
  const fullTitle = page.kind === 'home' ? site.title : `${page.title} · ${site.title}`;
  return html`<!doctype html>
<html lang="en" data-root="${root}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${fullTitle}</title>
<meta name="description" content="${page.description}">
<meta name="color-scheme" content="light dark">
${site.liveReload ? html`<meta name="workbook-live-reload" content="${site.liveReload}">` : ''}
<link rel="icon" href="${asset('favicon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${asset('style.css')}">
<script src="${asset('theme.js')}"></script>
<script src="${asset('site.js')}" defer></script>
</head>
<body class="page-${page.kind}">
<a class="skip-link" href="#site-main">Skip to content</a>
<header class="topbar">
<button class="menu-button" type="button" aria-controls="site-sidebar" aria-expanded="false" aria-label="Chapters">${icons.menu}</button>
<a class="brand" href="${href(page.path, 'index.html')}">${logo}<span>${site.title}</span></a>
<div class="topbar-actions">
<button class="search-button" type="button" aria-haspopup="dialog" aria-controls="site-search" aria-keyshortcuts="Control+K /">${icons.search}<span class="search-button-label">Search</span><kbd>/</kbd></button>
<button class="theme-toggle" type="button" aria-label="Dark theme" aria-pressed="false" title="Toggle dark theme">${icons.sun}${icons.moon}</button>
</div>
</header>
<div class="layout">
${sidebar(site, page)}
<div class="sidebar-scrim" hidden></div>
<main id="site-main" class="main" tabindex="-1">
${page.main}
</main>
${outlineBox(page.outline)}
</div>
${searchDialog}
</body>
</html>
`.value;
}
