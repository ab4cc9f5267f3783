/**
 * Links written for the repository work on the site:
 * - `lesson.md#x` and `../04-sockets/lesson.md#x` point at the chapter pages;
 * - a link to another file of the repository (`exercise.ts`, `../../README.md`) becomes its path
 *   in code style, since the site does not publish source files;
 * - external links are marked so the reader sees they leave the site.
 */
import path from 'node:path';
import type { MarkdownIt } from 'markdown-it';
import type { StateCore, Token } from 'markdown-it';
import type { RenderEnv } from '../env.ts';
import { attr } from './text.ts';

/** Where the repository is and which repository files are pages of the site. */
export interface LinksOptions {
  /** Absolute path of the repository root. */
  root: string;
  /** The site path ("04-sockets/index.html") of a repository file that is a page, else undefined. */
  pageFor: (repoPath: string) => string | undefined;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/** The link_close that matches the link_open at `start`. */
function matchingClose(children: Token[], start: number): number {
  let depth = 0;
  for (let j = start; j < children.length; j++) {
    if (children[j]!.type === 'link_open') depth++;
    else if (children[j]!.type === 'link_close' && --depth === 0) return j;
  }
  return -1;
}

function rewrite(children: Token[], env: RenderEnv, options: LinksOptions): void {
  for (let i = 0; i < children.length; i++) {
    const link = children[i]!;
    if (link.type !== 'link_open' || link.meta?.permalink) continue;
    const href = attr(link, 'href') ?? '';
    if (SCHEME.test(href)) {
      if (/^https?:/i.test(href)) link.attrJoin('class', 'external');
      continue;
    }
    if (href.startsWith('#') || href === '') continue;
    const [file, hash] = splitHash(href);
    const repoPath = path.relative(options.root, path.resolve(env.sourceDir, decodeURI(file))).split(path.sep).join('/');
    const page = options.pageFor(repoPath);
    if (page !== undefined) {
      const here = env.page ?? 'index.html';
      const target = page === here ? '' : path.posix.relative(path.posix.dirname(here), page);
      link.attrSet('href', `${target}${hash}` || '#');
      continue;
    }
    // A repository file the site does not publish: show its path instead of a dead link.
    const close = matchingClose(children, i);
    link.type = 'repo_path_open';
    link.meta = { ...link.meta, repoPath };
    if (close > 0) children[close]!.type = 'repo_path_close';
  }
}

function splitHash(href: string): [string, string] {
  const at = href.indexOf('#');
  return at < 0 ? [href, ''] : [href.slice(0, at), href.slice(at)];
}

/** Point lesson links at the site's pages and mark external links. */
export function linksPlugin(md: MarkdownIt, options: LinksOptions): void {
  md.core.ruler.after('inline', 'site_links', (state: StateCore) => {
    for (const token of state.tokens) {
      if (token.type === 'inline' && token.children) rewrite(token.children, state.env as RenderEnv, options);
    }
  });
  md.renderer.rules.repo_path_open = (tokens, idx) =>
    `<span class="repo-path" title="${md.utils.escapeHtml(String(tokens[idx]!.meta?.repoPath))} in the workbook">`;
  md.renderer.rules.repo_path_close = () => '</span>';
}
