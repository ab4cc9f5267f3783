/**
 * The search index, built with the site and searched in the browser (no server):
 * one entry per section of each lesson, with the words under that heading.
 */
import type { SectionText } from './env.ts';

/** One searchable section. Short keys keep the JSON small. */
export interface SearchEntry {
  /** Site path with the anchor: "04-sockets/index.html#half-close". */
  u: string;
  /** Page title: "04 · The socket's lifecycle". */
  p: string;
  /** Heading of the section ('' for the page's opening). */
  h: string;
  /** The section's text. */
  t: string;
}

/** The index file's shape. */
export interface SearchIndex {
  version: 1;
  entries: SearchEntry[];
}

/** The name of the index file in the built site. */
export const SEARCH_INDEX_FILE = 'search-index.json';

/** Index entries for one page's sections. */
export function pageEntries(page: string, title: string, sections: SectionText[]): SearchEntry[] {
  return sections
    .filter((s) => s.text || s.heading)
    .map((s, i) => ({ u: i === 0 && !s.anchor ? page : `${page}${s.anchor ? `#${s.anchor}` : ''}`, p: title, h: i === 0 ? '' : s.heading, t: s.text }));
}
