/**
 * Fixture tests, one folder per plugin: tests/site/fixtures/plugins/<plugin>/<case>.md is rendered
 * and compared with <case>.html next to it (or <case>.json for what a plugin collects).
 * After a deliberate change, regenerate with UPDATE_FIXTURES=1 and review the diff.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import markdownit, { type MarkdownIt } from 'markdown-it';
import { describe, expect, it } from 'vitest';
import type { Chapter } from '../../chapters/manifest.ts';
import { createEnv, type RenderEnv } from '../../site/env.ts';
import { containersPlugin } from '../../site/plugins/containers.ts';
import { diagramsPlugin } from '../../site/plugins/diagrams.ts';
import { exercisePlugin } from '../../site/plugins/exercise.ts';
import { headingAnchorsPlugin } from '../../site/plugins/heading-anchors.ts';
import { highlightPlugin } from '../../site/plugins/highlight.ts';
import { linksPlugin } from '../../site/plugins/links.ts';
import { measuredPlugin } from '../../site/plugins/measured.ts';
import { chapters as realChapters } from '../../chapters/manifest.ts';
import { sectionsPlugin } from '../../site/plugins/sections.ts';
import { tablesPlugin } from '../../site/plugins/tables.ts';
import { createRenderer } from '../../site/render.ts';
import type { SiteBuildError } from '../../site/errors.ts';
import { anchorOf } from '../../site/slug.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures/plugins');
const update = process.env.UPDATE_FIXTURES === '1';

/** Pages of the imaginary workbook the link fixtures point into. */
const pageFor = (p: string) => ({ 'chapters/01-this/lesson.md': '01-this/index.html', 'chapters/02-other/lesson.md': '02-other/index.html' })[p];

const chapter: Chapter = {
  id: '01-this', number: 1, slug: 'this', title: 'This', part: 1, summary: 'A chapter.', points: 10,
  files: ['exercise.ts', 'helper.ts'], hints: ['Gentle `nudge`.', 'Stronger:\n\n```ts\nring.push(x);\n```', 'Nearly the answer.'], mistakes: [],
};

/** How each plugin's fixtures are rendered: the plugin alone (with what it requires), and its env. */
const cases: Record<string, { md: () => MarkdownIt; env?: (dir: string, name: string) => Partial<RenderEnv>; collect?: (env: RenderEnv) => unknown }> = {
  containers: { md: () => markdownit().use(containersPlugin) },
  'heading-anchors': { md: () => markdownit().use(headingAnchorsPlugin) },
  highlight: { md: () => markdownit().use(highlightPlugin) },
  diagrams: { md: () => markdownit().use(diagramsPlugin), env: () => ({ page: '01-this/index.html' }), collect: (env) => ({ assets: env.assets?.map((a) => [path.relative(FIXTURES, a.from), a.to]), warnings: env.warnings }) },
  links: {
    md: () => markdownit({ linkify: true }).use(linksPlugin, { root: path.join(FIXTURES, 'links'), pageFor }),
    env: (dir) => ({ sourceDir: path.join(dir, 'chapters/01-this'), page: '01-this/index.html' }),
  },
  exercise: { md: () => markdownit().use(containersPlugin).use(exercisePlugin), env: () => ({ chapter, hintsSeen: 1 }) },
  tables: { md: () => markdownit().use(tablesPlugin) },
  sections: { md: () => markdownit().use(headingAnchorsPlugin).use(sectionsPlugin).use(containersPlugin), collect: (env) => ({ outline: env.outline, sections: env.sections }) },
  renderer: {
    md: () => createRenderer({ root: path.join(FIXTURES, 'renderer'), pageFor }),
    env: (dir, name) => ({ sourceDir: path.join(dir, 'chapters/01-this'), page: '01-this/index.html', chapter: name === 'lesson.md' ? chapter : undefined }),
  },
};

/** Compare with the expected file, or write it when updating. */
function expectFixture(file: string, actual: string): void {
  if (update || !existsSync(file)) {
    writeFileSync(file, actual);
    if (!update) throw new Error(`wrote the missing expected output ${path.relative(process.cwd(), file)}: review it, then run again`);
    return;
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

for (const [plugin, spec] of Object.entries(cases)) {
  describe(`${plugin} plugin fixtures`, () => {
    const dir = path.join(FIXTURES, plugin);
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.md')).sort()) {
      it(`renders ${name} as expected`, () => {
        const env = createEnv(`fixtures/${plugin}/${name}`, dir, spec.env?.(dir, name));
        const html = spec.md().render(readFileSync(path.join(dir, name), 'utf8'), env);
        expectFixture(path.join(dir, name.replace(/\.md$/, '.html')), html);
        if (spec.collect) expectFixture(path.join(dir, name.replace(/\.md$/, '.json')), `${JSON.stringify(spec.collect(env), null, 2)}\n`);
      });
    }
  });
}

describe('diagrams plugin safety', () => {
  const dir = path.join(FIXTURES, 'diagrams');
  const render = (src: string) => {
    const env = createEnv('lesson.md', dir, { page: '01-this/index.html' });
    return { html: markdownit().use(diagramsPlugin).render(src, env), env };
  };
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return (err as SiteBuildError).code;
    }
    return 'no error';
  };

  it.each(['script', 'onload', 'external', 'not-svg'])('refuses an SVG that is not a plain drawing (%s.svg)', (name) => {
    expect(codeOf(() => render(`![x](diagrams/${name}.svg)`))).toBe('ERR_DIAGRAM_UNSAFE');
  });

  it('stops the build with a clear error when a diagram file is missing', () => {
    expect(codeOf(() => render('![x](diagrams/nope.svg)'))).toBe('ERR_DIAGRAM_MISSING');
    expect(codeOf(() => render('![x](nope.png)'))).toBe('ERR_DIAGRAM_MISSING');
  });

  it('warns when two diagrams on one page define the same id', () => {
    const { env } = render('![a](diagrams/boxes.svg)\n\n![b](diagrams/same-id.svg)');
    expect(env.warnings).toEqual([expect.stringContaining('"boxes-arrow"')]);
  });

  it('leaves remote images alone', () => {
    expect(render('![remote](https://example.com/x.svg)').html).toContain('<img src="https://example.com/x.svg" alt="remote">');
  });
});

describe('the measured plugin draws a chapter\'s recorded benchmark', () => {
  const render = (chapterOf?: Chapter) => {
    const env = createEnv('lesson.md', FIXTURES, chapterOf ? { chapter: chapterOf } : {});
    return markdownit().use(measuredPlugin).render('::: measured\nWhat the chart shows.\n:::\n', env);
  };
  const codeAndMessage = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return `${(err as SiteBuildError).code}: ${(err as Error).message}`;
    }
    return 'no error';
  };

  it('renders a figure: the chart as an image with a description, the caption, how it was measured, and the figures', () => {
    const html = render(realChapters.find((c) => c.id === '08-reliable-delivery'));
    expect(html).toMatch(/^<figure class="diagram bench-figure"><div class="diagram-svg" role="img" aria-label="Line chart of goodput/);
    expect(html).toContain('<svg viewBox="0 0 640 380"');
    expect(html).toContain('<p>What the chart shows.</p>');
    expect(html).toContain('Measured with <code>npm run bench -- 08</code>');
    expect(html).toContain('<code>npm run workbook -- bench 08</code>');
    expect(html).toMatch(/<details class="bench-figures"><summary>The figures<\/summary><table><caption>goodput \(simulated time\), higher is better/);
    expect(html).not.toMatch(/<script|<style/);
  });

  it('stops the build with a clear error outside a chapter, or for a chapter without a benchmark', () => {
    expect(codeAndMessage(() => render())).toMatch(/^ERR_MEASURED: .*belongs in a chapter's lesson/);
    expect(codeAndMessage(() => render(chapter))).toMatch(/^ERR_MEASURED: .*needs a benchmark for 01-this in bench\/registry\.ts/);
  });
});

describe('plugin order is enforced where it matters', () => {
  it('exercisePlugin refuses to run without the hint container', () => {
    expect(() => markdownit().use(exercisePlugin)).toThrow(/containersPlugin/);
  });

  it('sectionsPlugin refuses to run without heading anchors', () => {
    expect(() => markdownit().use(sectionsPlugin)).toThrow(/heading_anchors/);
  });
});

describe('heading anchors agree with the tests\' links', () => {
  it.each(['Half-close', "The socket's lifecycle", 'The `write()` return value', 'Timeouts: the only way to hear silence', 'RFC 6298 §2'])(
    'gives "%s" the id anchorOf() links to',
    (heading) => {
      const html = markdownit().use(headingAnchorsPlugin).render(`## ${heading}`, createEnv('x.md', FIXTURES));
      expect(html).toContain(`id="${anchorOf(heading)}"`);
    },
  );
});
