/** Plain text of markdown-it inline tokens, shared by the plugins that need a heading's or a section's words. */
import type { Token } from 'markdown-it';

/** The text a reader sees in these inline tokens (code spans included, markup dropped). */
export function inlineText(children: Token[] | null | undefined): string {
  let out = '';
  for (const t of children ?? []) {
    if (t.meta?.permalink) continue;
    if (t.type === 'text' || t.type === 'code_inline') out += t.content;
    else if (t.type === 'softbreak' || t.type === 'hardbreak') out += ' ';
    else if (t.type === 'image') out += inlineText(t.children);
  }
  return out;
}

/** A token attribute as a string (markdown-it types allow numbers), or undefined. */
export function attr(token: Token, name: string): string | undefined {
  const value = token.attrGet(name);
  return value === null ? undefined : String(value);
}
