/** What a page's markdown render shares with the plugins (markdown-it's `env`). */
import type { Env } from 'markdown-it';
import type { Chapter } from '../chapters/manifest.ts';

/** One `##`/`###` heading of a page, for the outline and the search index. */
export interface OutlineItem {
  level: number;
  anchor: string;
  text: string;
}

/** A searchable piece of a page: the text under one heading. */
export interface SectionText {
  /** Anchor of the heading the text sits under ('' for the text before the first heading). */
  anchor: string;
  heading: string;
  text: string;
}

/** The markdown-it `env` of one page render. */
export interface RenderEnv extends Env {
  /** Repository-relative path of the markdown source, for error messages ("chapters/04-sockets/lesson.md"). */
  source: string;
  /** Absolute directory of the source, against which diagrams and relative links resolve. */
  sourceDir: string;
  /** Path of the page in the built site ("04-sockets/index.html"), against which links are made relative. */
  page?: string;
  /** The chapter this page shows, if it is a chapter page. */
  chapter?: Chapter;
  /** How many of the chapter's hints the learner has already revealed in the CLI. */
  hintsSeen?: number;
  /** Filled by the heading-anchors plugin: the anchors used so far on the page. */
  anchors?: Set<string>;
  /** Filled by the sections plugin: the page outline (h2, h3). */
  outline?: OutlineItem[];
  /** Filled by the sections plugin: the page's text, heading by heading. */
  sections?: SectionText[];
  /** Filled by the diagrams plugin: the ids defined by the SVGs inlined so far on the page. */
  svgIds?: Map<string, string>;
  /** Filled by the diagrams plugin: local images (not SVG) the build copies next to the page. */
  assets?: { from: string; to: string }[];
  /** Problems worth telling the author that do not stop the build. */
  warnings?: string[];
}

/** A fresh env for rendering one markdown source. */
export function createEnv(source: string, sourceDir: string, extra: Partial<RenderEnv> = {}): RenderEnv {
  return { source, sourceDir, ...extra, anchors: new Set(), outline: [], sections: [], svgIds: new Map(), assets: [], warnings: [] };
}
