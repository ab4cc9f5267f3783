/**
 * Heading anchors: every heading gets `id = anchorOf(its source text)` (the one function the tests
 * use to link lesson sections), made unique on the page GitHub-style (-1, -2), and a permalink.
 */
import type { MarkdownIt } from 'markdown-it';
import type { StateCore, Token } from 'markdown-it';
import { anchorOf } from '../slug.ts';
import type { RenderEnv } from '../env.ts';
import { attr } from './text.ts';

/** Options: which heading levels get anchors, and whether to add a visible permalink. */
export interface HeadingAnchorsOptions {
  levels?: number[];
  permalink?: boolean;
}

/** A page-unique anchor for a heading's text. */
export function uniqueAnchor(text: string, used: Set<string>): string {
  const base = anchorOf(text) || 'section';
  let anchor = base;
  for (let n = 1; used.has(anchor); n++) anchor = `${base}-${n}`;
  used.add(anchor);
  return anchor;
}

/** Give headings ids from anchorOf and a "#" permalink. */
export function headingAnchorsPlugin(md: MarkdownIt, options: HeadingAnchorsOptions = {}): void {
  const levels = new Set(options.levels ?? [1, 2, 3, 4]);
  const permalink = options.permalink ?? true;

  // After 'inline': the permalink goes into the heading's parsed children.
  md.core.ruler.after('inline', 'heading_anchors', (state: StateCore) => {
    const env = state.env as Partial<RenderEnv>;
    const used = (env.anchors ??= new Set());
    const tokens = state.tokens;
    for (let i = 0; i < tokens.length; i++) {
      const open = tokens[i]!;
      if (open.type !== 'heading_open' || !levels.has(Number(open.tag.slice(1)))) continue;
      const inline = tokens[i + 1]!;
      // The raw source text, exactly what tests pass to seeLesson(), so both sides agree.
      const anchor = attr(open, 'id') ?? uniqueAnchor(inline.content, used);
      open.attrSet('id', anchor);
      open.attrSet('tabindex', '-1');
      if (permalink) inline.children = [...permalinkTokens(state, anchor, inline.content), ...(inline.children ?? [])];
    }
  });
}

function permalinkTokens(state: StateCore, anchor: string, heading: string): Token[] {
  const open = new state.Token('link_open', 'a', 1);
  open.attrs = [
    ['class', 'header-anchor'],
    ['href', `#${anchor}`],
    ['aria-label', `Permalink to “${heading.replace(/`/g, '')}”`],
  ];
  open.meta = { permalink: true };
  const close = new state.Token('link_close', 'a', -1);
  close.meta = { permalink: true };
  return [open, close];
}
