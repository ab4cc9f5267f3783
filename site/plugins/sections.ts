/**
 * Collects, into the render env, the page outline (h2/h3 with their anchors) and the page's text
 * heading by heading, for the "On this page" box and the search index. Hints are left out of the
 * search on purpose: a search should not give them away. Requires headingAnchorsPlugin.
 */
import type { MarkdownIt } from 'markdown-it';
import type { StateCore } from 'markdown-it';
import type { RenderEnv, SectionText } from '../env.ts';
import { TEXT_DIAGRAM_LANGS } from './diagrams.ts';
import { fenceLang } from './highlight.ts';
import { attr, inlineText } from './text.ts';

/** Record the outline and the searchable text of the page. */
export function sectionsPlugin(md: MarkdownIt): void {
  // After heading_anchors: it reads the ids that plugin gives the headings (throws if it is missing).
  md.core.ruler.after('heading_anchors', 'sections', (state: StateCore) => {
    if (state.inlineMode) return;
    const env = state.env as RenderEnv;
    const outline = (env.outline ??= []);
    const sections = (env.sections ??= []);
    let current: SectionText = { anchor: '', heading: '', text: '' };
    const add = (text: string) => {
      if (text) current.text += (current.text ? ' ' : '') + text.replace(/\s+/g, ' ').trim();
    };
    let inHint = 0;
    const tokens = state.tokens;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.type === 'container_hint_open') inHint++;
      else if (t.type === 'container_hint_close') inHint--;
      else if (inHint > 0) continue;
      else if (t.type === 'heading_open') {
        const text = inlineText(tokens[i + 1]!.children).trim();
        const level = Number(t.tag.slice(1));
        const anchor = attr(t, 'id') ?? '';
        if (level === 2 || level === 3) outline.push({ level, anchor, text });
        if (current.text || current.heading) sections.push(current);
        current = { anchor, heading: text, text: '' };
        i += 2;
      } else if (t.type === 'inline') add(inlineText(t.children));
      else if (t.type === 'diagram_figure') add(String(t.meta?.alt ?? ''));
      else if (t.type === 'fence' && !TEXT_DIAGRAM_LANGS.has(fenceLang(t.info))) add(t.content);
      else if (t.type === 'code_block') add(t.content);
    }
    if (current.text || current.heading) sections.push(current);
  });
}
