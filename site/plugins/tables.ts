/** Tables scroll sideways inside their own box, so a wide table never widens the page on a phone. */
import type { MarkdownIt } from 'markdown-it';

/** Wrap every table in a horizontally scrolling container. */
export function tablesPlugin(md: MarkdownIt): void {
  const open = md.renderer.rules.table_open ?? ((t, i, o, _e, self) => self.renderToken(t, i, o));
  const close = md.renderer.rules.table_close ?? ((t, i, o, _e, self) => self.renderToken(t, i, o));
  md.renderer.rules.table_open = (tokens, idx, opts, env, self) =>
    `<div class="table-wrap">\n${open(tokens, idx, opts, env, self)}`;
  md.renderer.rules.table_close = (tokens, idx, opts, env, self) => `${close(tokens, idx, opts, env, self)}</div>\n`;
}
