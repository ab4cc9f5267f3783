/**
 * Diagrams are first-class:
 * - `![alt](diagrams/x.svg "caption")` inlines the authored SVG at build time, named by its alt
 *   text (role="img"); alone in a paragraph it becomes a <figure>, with the title as caption.
 * - ```text fences (ASCII diagrams) become figures; words after `text` are the caption.
 * SVG files are checked, never rewritten: anything that could run script or fetch is refused.
 * Other local images (PNG, ...) are listed in env.assets for the build to copy next to the page.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { MarkdownIt } from 'markdown-it';
import type { StateCore, Token } from 'markdown-it';
import type { RenderEnv } from '../env.ts';
import { SiteBuildError } from '../errors.ts';
import { escapeHtml } from '../template/html.ts';
import { fenceLang } from './highlight.ts';
import { attr, inlineText } from './text.ts';

/** Fence languages that mean "this is an ASCII diagram". */
export const TEXT_DIAGRAM_LANGS = new Set(['text', 'txt', 'ascii', 'diagram']);

/** What would let an SVG run script, load something or smuggle markup; each is refused. */
const UNSAFE: [RegExp, string][] = [
  [/<script\b/i, 'a <script> element'],
  [/<foreignObject\b/i, 'a <foreignObject> element'],
  [/\son[a-z]+\s*=/i, 'an on* event attribute'],
  [/javascript:/i, 'a javascript: URL'],
  [/\s(?:xlink:)?href\s*=\s*["'](?!\s*#)/i, 'a link to something outside the SVG (only #id references are allowed)'],
  [/<!ENTITY/i, 'an XML entity declaration'],
  [/url\(\s*(?!["']?\s*#)/i, 'a url() to something outside the SVG'],
  [/@import\b/i, 'a CSS @import'],
];

/** An SVG read from disk and checked: the markup from `<svg` on, and the ids it defines. */
export interface LoadedSvg {
  markup: string;
  ids: string[];
}

/** Read and check an authored SVG; `source` names the lesson in error messages. */
export function loadSvg(file: string, source: string, src: string): LoadedSvg {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new SiteBuildError('ERR_DIAGRAM_MISSING', `${source}: the diagram ${src} does not exist (looked for ${file}). Add the file or fix the path, then run: npm run site`);
  }
  const start = text.search(/<svg[\s>]/i);
  if (start < 0) throw new SiteBuildError('ERR_DIAGRAM_UNSAFE', `${source}: ${src} has no <svg> element. Save it as a plain SVG, then run: npm run site`);
  for (const [pattern, what] of UNSAFE) {
    if (pattern.test(text)) {
      throw new SiteBuildError('ERR_DIAGRAM_UNSAFE', `${source}: ${src} contains ${what}; diagrams are inlined into the page, so they must be plain drawings. Remove it, then run: npm run site`);
    }
  }
  // Drop what comes before <svg> (XML prolog, doctype, comments): it is not valid inside HTML.
  const markup = text.slice(start).trim();
  const ids = [...markup.matchAll(/\sid\s*=\s*["']([^"']+)["']/g)].map((m) => m[1]!);
  return { markup, ids };
}

function isLocal(src: string): boolean {
  return src !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(src) && !src.startsWith('/') && !src.startsWith('#');
}

/** A local image that is not SVG: the build copies it next to the page, at the same relative path. */
function noteAsset(env: RenderEnv, src: string): void {
  const file = src.split(/[?#]/)[0]!;
  const to = path.posix.join(path.posix.dirname(env.page ?? 'index.html'), file);
  if (to.startsWith('..')) {
    (env.warnings ??= []).push(`${env.source}: the image ${src} lies outside the site; keep images next to the lesson.`);
    return;
  }
  const from = path.resolve(env.sourceDir, decodeURI(file));
  if (!existsSync(from)) {
    throw new SiteBuildError('ERR_DIAGRAM_MISSING', `${env.source}: the image ${src} does not exist (looked for ${from}). Add the file or fix the path, then run: npm run site`);
  }
  (env.assets ??= []).push({ from, to });
}

/** Load every local SVG image of the page into its token, and turn lone images into figures. */
function inlineSvgs(state: StateCore): void {
  const env = state.env as RenderEnv;
  const tokens = state.tokens;
  for (let i = 0; i < tokens.length; i++) {
    const inline = tokens[i]!;
    if (inline.type !== 'inline') continue;
    for (const child of inline.children ?? []) {
      const src = attr(child, 'src') ?? '';
      if (child.type !== 'image' || !isLocal(src)) continue;
      if (!/\.svg$/i.test(src.split(/[?#]/)[0]!)) {
        noteAsset(env, src);
        continue;
      }
      const svg = loadSvg(path.resolve(env.sourceDir, src.split(/[?#]/)[0]!), env.source, src);
      noteIds(env, src, svg.ids);
      child.meta = { ...child.meta, svg: svg.markup, alt: inlineText(child.children) };
    }
    // A paragraph holding only a diagram becomes a figure block.
    const only = inline.children?.length === 1 ? inline.children[0]! : undefined;
    if (svgOf(only) && tokens[i - 1]?.type === 'paragraph_open' && tokens[i + 1]?.type === 'paragraph_close') {
      const figure = new state.Token('diagram_figure', 'figure', 0);
      figure.block = true;
      figure.meta = { ...only!.meta, caption: attr(only!, 'title') ?? '' };
      tokens.splice(i - 1, 3, figure);
      i -= 1;
    }
  }
}

/** Two diagrams on one page defining the same id would cross-reference each other: warn. */
function noteIds(env: RenderEnv, src: string, ids: string[]): void {
  const seen = (env.svgIds ??= new Map());
  for (const id of ids) {
    const owner = seen.get(id);
    if (owner && owner !== src) (env.warnings ??= []).push(`${env.source}: diagrams ${owner} and ${src} both define id "${id}"; rename one.`);
    seen.set(id, src);
  }
}

/** What an image token carries once its SVG is loaded. */
interface SvgMeta {
  svg: string;
  alt: string;
}

function svgOf(token: Token | undefined): SvgMeta | undefined {
  return typeof token?.meta?.svg === 'string' ? (token.meta as unknown as SvgMeta) : undefined;
}

function svgBox(tag: 'div' | 'span', alt: string, svg: string): string {
  return `<${tag} class="diagram-svg" role="img" aria-label="${escapeHtml(alt)}">${svg}</${tag}>`;
}

/** Inline authored SVG diagrams and render ```text diagrams as figures. */
export function diagramsPlugin(md: MarkdownIt): void {
  // After 'inline': images exist only once inline content is parsed.
  md.core.ruler.after('inline', 'diagrams', inlineSvgs);

  md.renderer.rules.diagram_figure = (tokens, idx, _opts, env) => {
    const { svg, alt, caption } = tokens[idx]!.meta as unknown as SvgMeta & { caption: string };
    const figcaption = caption ? `<figcaption>${md.renderInline(caption, env)}</figcaption>` : '';
    return `<figure class="diagram">${svgBox('div', alt, svg)}${figcaption}</figure>\n`;
  };

  const image = md.renderer.rules.image!;
  md.renderer.rules.image = (tokens, idx, opts, env, self) => {
    const token: Token = tokens[idx]!;
    const meta = svgOf(token);
    if (!meta) return image(tokens, idx, opts, env, self);
    return svgBox('span', meta.alt, meta.svg);
  };

  const fence = md.renderer.rules.fence!;
  md.renderer.rules.fence = (tokens, idx, opts, env, self) => {
    const token = tokens[idx]!;
    const lang = fenceLang(token.info);
    if (!TEXT_DIAGRAM_LANGS.has(lang)) return fence(tokens, idx, opts, env, self);
    const caption = token.info.trim().slice(lang.length).trim();
    const figcaption = caption ? `<figcaption>${md.renderInline(caption, env)}</figcaption>` : '';
    // The widest line, in characters: the stylesheet shrinks the font so the drawing fits its column.
    const cols = Math.max(1, ...token.content.split('\n').map((line) => [...line].length));
    return `<figure class="diagram diagram-text" style="--cols: ${cols}"><pre><code>${escapeHtml(token.content)}</code></pre>${figcaption}</figure>\n`;
  };
}
