/** The main column of the home page, the chapter pages and the not-found page. */
import type { Chapter } from '../../chapters/manifest.ts';
import { chapterPage, href, nn, type SiteContext } from './layout.ts';
import { html, type SafeHtml } from './html.ts';
import { heroArt } from './hero-art.ts';
import { icons } from './icons.ts';

/** The home page's rendered markdown parts. */
export interface HomeParts {
  /** site/content/home.md: the story in brief. */
  intro: SafeHtml;
  /** The README's "Start" section, without its heading. */
  start: SafeHtml;
  tagline: string;
}

/** Ids the home template uses itself, so markdown headings never take them. */
export const HOME_IDS = ['the-map', 'how-to-start'];

function passedDate(iso: string | undefined): string {
  return iso ? new Date(iso).toISOString().slice(0, 10) : '';
}

function progressSummary(site: SiteContext, from: string): SafeHtml {
  const passed = site.chapters.filter((c) => site.progress.chapters.get(c.id)?.passed);
  if (passed.length === 0) return html``;
  const next = site.chapters.find((c) => !site.progress.chapters.get(c.id)?.passed);
  const pct = Math.round((100 * passed.length) / site.chapters.length);
  return html`<div class="progress-summary"><p><strong>${passed.length} of ${site.chapters.length}</strong> chapters passed${next ? html`. Next up: <a href="${href(from, chapterPage(next))}">${nn(next)} · ${next.title}</a>` : ' — all done!'}</p><div class="progress-bar" role="progressbar" aria-label="Chapters passed" aria-valuemin="0" aria-valuemax="${site.chapters.length}" aria-valuenow="${passed.length}"><span style="width:${pct}%"></span></div></div>`;
}

/** The home page: hero, the story in brief, the map of parts and chapters, how to start. */
export function homeMain(site: SiteContext, parts: HomeParts): SafeHtml {
  const from = 'index.html';
  const first = site.chapters[0];
  const map = site.parts.map((part) => {
    const items = site.chapters.filter((c) => c.part === part.number);
    const cards = items.map((c) => {
      const p = site.progress.chapters.get(c.id);
      return html`<li><a class="chapter-card${p?.passed ? ' passed' : ''}" href="${href(from, chapterPage(c))}"><span class="card-num">${nn(c)}</span><span class="card-title">${c.title}</span><span class="card-summary">${c.summary}</span>${p?.passed ? html`<span class="badge badge-passed">${icons.check} Passed</span>` : ''}</a></li>`;
    });
    return html`<section class="map-part"><h3 class="map-part-title"><span>Part ${part.number}</span> ${part.title}</h3>${
      items.length ? html`<ol class="chapter-grid">${cards}</ol>` : html`<p class="map-empty">Chapters to come.</p>`
    }</section>`;
  });
  return html`<div class="hero">
<div class="hero-text">
<p class="hero-eyebrow">A TypeScript workbook</p>
<h1 class="hero-title">${site.title}</h1>
<p class="hero-tagline">${parts.tagline}</p>
<p class="hero-actions">${first ? html`<a class="button button-primary" href="${href(from, chapterPage(first))}">Start with chapter ${nn(first)}${icons.arrowRight}</a>` : ''}<a class="button" href="#how-to-start">How to start</a></p>
${progressSummary(site, from)}
</div>
${heroArt}
</div>
<div class="doc home-doc">${parts.intro}</div>
<section class="map" aria-labelledby="the-map"><h2 id="the-map" tabindex="-1">The map</h2>${map}</section>
<section class="doc home-doc" aria-labelledby="how-to-start"><h2 id="how-to-start" tabindex="-1">How to start</h2>${parts.start}</section>`;
}

/** A chapter page: its place in the story, the lesson, and the way to the neighbours. */
export function chapterMain(site: SiteContext, chapter: Chapter, lesson: SafeHtml): SafeHtml {
  const from = chapterPage(chapter);
  const i = site.chapters.indexOf(chapter);
  const prev = site.chapters[i - 1];
  const next = site.chapters[i + 1];
  const part = site.parts.find((p) => p.number === chapter.part);
  const progress = site.progress.chapters.get(chapter.id);
  const badge = progress?.passed
    ? html`<span class="badge badge-passed" title="${progress.passedAt ? `Passed on ${passedDate(progress.passedAt)}` : 'Passed'}">${icons.check} Passed${progress.passedAt ? html` <time datetime="${progress.passedAt}">${passedDate(progress.passedAt)}</time>` : ''}</span>`
    : '';
  const pagerLink = (c: Chapter | undefined, dir: 'prev' | 'next') => {
    if (!c && dir === 'prev') return html`<a class="pager-link prev" href="${href(from, 'index.html')}"><span class="pager-label">${icons.arrowLeft} Home</span><span class="pager-title">The map</span></a>`;
    if (!c) return html`<span></span>`;
    return html`<a class="pager-link ${dir}" href="${href(from, chapterPage(c))}" rel="${dir}"><span class="pager-label">${dir === 'prev' ? html`${icons.arrowLeft} Previous` : html`Next ${icons.arrowRight}`}</span><span class="pager-title">${nn(c)} · ${c.title}</span></a>`;
  };
  return html`<article class="doc lesson">
<p class="eyebrow"><span>Part ${chapter.part}${part ? ` · ${part.title}` : ''}</span><span class="eyebrow-sep" aria-hidden="true">/</span><span>Chapter ${nn(chapter)}</span>${badge}</p>
${lesson}
</article>
<nav class="pager" aria-label="Previous and next chapter">${pagerLink(prev, 'prev')}${pagerLink(next, 'next')}</nav>`;
}

/** The page a static host shows for a missing path. */
export function notFoundMain(): SafeHtml {
  return html`<article class="doc not-found"><h1>Page not found</h1><p>This page does not exist. The map of all chapters is on the <a href="index.html">home page</a>.</p></article>`;
}
