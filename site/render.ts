/**
 * The one markdown-it renderer of the site: every extension is a plugin, registered here.
 * Raw HTML is off (`html: false`): lessons are markdown only, so no page can carry a script or
 * markup the site's styles and tests do not know (see README, "The site").
 */
import markdownit, { type MarkdownIt } from 'markdown-it';
import { containersPlugin } from './plugins/containers.ts';
import { diagramsPlugin } from './plugins/diagrams.ts';
import { exercisePlugin } from './plugins/exercise.ts';
import { headingAnchorsPlugin } from './plugins/heading-anchors.ts';
import { highlightPlugin } from './plugins/highlight.ts';
import { linksPlugin, type LinksOptions } from './plugins/links.ts';
import { measuredPlugin } from './plugins/measured.ts';
import { sectionsPlugin } from './plugins/sections.ts';
import { tablesPlugin } from './plugins/tables.ts';

/** What the renderer needs to know about the repository. */
export type RendererOptions = LinksOptions;

/** The site's markdown-it instance with all plugins, in the order they need. */
export function createRenderer(options: RendererOptions): MarkdownIt {
  const md = markdownit({ html: false, linkify: true, typographer: true });
  // Smart quotes yes; but no (c)->©, -- -> – replacements: lessons quote commands and flags in prose.
  md.disable('replacements');

  md.use(headingAnchorsPlugin)
    // After heading anchors: it reads the ids they give (its core rule is placed after theirs).
    .use(sectionsPlugin)
    // Before exercisePlugin: the hints it adds are rendered by the hint container.
    .use(containersPlugin)
    .use(measuredPlugin)
    .use(exercisePlugin)
    // Before diagramsPlugin: the fence rule registered last runs first, and diagrams must see
    // ```text fences before the code frame does (it renders them as figures, not code).
    .use(highlightPlugin)
    .use(diagramsPlugin)
    .use(linksPlugin, options)
    .use(tablesPlugin);
  return md;
}
