/**
 * Custom containers, the one way lessons carry asides:
 *   ::: story / note / tip / warning [title]  -> a styled callout with a title
 *   ::: hint [title]                          -> a collapsed <details> (also used for the manifest's hints)
 * Built on markdown-it-container; titles may hold inline markdown.
 */
import type { MarkdownIt, RendererRule } from 'markdown-it';
import container from 'markdown-it-container';
import { escapeHtml } from '../template/html.ts';

/** The callout kinds and their default titles. */
export const CALLOUTS = { story: 'The story', note: 'Note', tip: 'Tip', warning: 'Warning' } as const;

/** Options: override the default titles, e.g. for another language. */
export interface ContainersOptions {
  titles?: Partial<Record<keyof typeof CALLOUTS | 'hint', string>>;
}

/** The title after the container's name (`::: tip Before you start`), or undefined. */
function customTitle(info: string, name: string): string | undefined {
  const rest = info.trim().slice(name.length).trim();
  return rest || undefined;
}

/** Register the story, note, tip, warning and hint containers. */
export function containersPlugin(md: MarkdownIt, options: ContainersOptions = {}): void {
  for (const [kind, fallback] of Object.entries(CALLOUTS) as [keyof typeof CALLOUTS, string][]) {
    const defaultTitle = options.titles?.[kind] ?? fallback;
    const render: RendererRule = (tokens, idx, _opts, env, self) => {
      const token = tokens[idx]!;
      if (token.nesting !== 1) return '</div>\n';
      token.attrJoin('class', `callout callout-${kind}`);
      const title = customTitle(token.info, kind);
      const titleHtml = title ? md.renderInline(title, env) : escapeHtml(defaultTitle);
      const titleClass = title ? 'callout-title callout-title-custom' : 'callout-title';
      return `<div${self.renderAttrs(token)}>\n<p class="${titleClass}">${titleHtml}</p>\n`;
    };
    md.use(container, kind, { render });
  }
  const hintTitle = options.titles?.hint ?? 'Hint';
  const render: RendererRule = (tokens, idx, _opts, env, self) => {
    const token = tokens[idx]!;
    if (token.nesting !== 1) return '</div>\n</details>\n';
    token.attrJoin('class', 'hint');
    const title = customTitle(token.info, 'hint');
    const titleHtml = title ? md.renderInline(title, env) : escapeHtml(hintTitle);
    return `<details${self.renderAttrs(token)}>\n<summary>${titleHtml}</summary>\n<div class="hint-body">\n`;
  };
  md.use(container, 'hint', { render });
}
