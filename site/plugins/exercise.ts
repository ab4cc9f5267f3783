/**
 * The exercise box and the hints, from the manifest: at the end of the lesson's "The exercise"
 * section (or before "Further reading", or at the end), a box naming the file(s) to edit and the
 * command that checks them, then the chapter's hints, each collapsed on its own.
 * Requires containersPlugin (the hints are `hint` containers).
 */
import type { MarkdownIt } from 'markdown-it';
import type { StateCore, Token } from 'markdown-it';
import { chapterPaths, checkCommand, lessonSections, type Chapter } from '../../chapters/manifest.ts';
import type { RenderEnv } from '../env.ts';
import { escapeHtml } from '../template/html.ts';

/** Headings (source text) the plugin looks for, compared case-insensitively: the manifest's lesson sections. */
export const EXERCISE_HEADING = lessonSections.exercise;
export const FURTHER_READING_HEADING = lessonSections.furtherReading;

/** The command that checks a chapter (the manifest's, as the CLI spells it). */
export { checkCommand };

function headingIndex(tokens: Token[], text: string): number {
  return tokens.findIndex((t, i) => t.type === 'heading_open' && t.tag === 'h2' && tokens[i + 1]!.content.trim().toLowerCase() === text.toLowerCase());
}

/** Where the box goes: the end of "The exercise", else before "Further reading", else the end. */
function insertionPoint(tokens: Token[]): number {
  const exercise = headingIndex(tokens, EXERCISE_HEADING);
  if (exercise >= 0) {
    const next = tokens.findIndex((t, i) => i > exercise && t.type === 'heading_open' && (t.tag === 'h1' || t.tag === 'h2'));
    return next < 0 ? tokens.length : next;
  }
  const reading = headingIndex(tokens, FURTHER_READING_HEADING);
  return reading >= 0 ? reading : tokens.length;
}

function exerciseTokens(state: StateCore, chapter: Chapter, hintsSeen: number): Token[] {
  const box = new state.Token('exercise_box', 'div', 0);
  box.block = true;
  box.meta = { files: chapterPaths(chapter).stubs, check: checkCommand(chapter), test: `${chapterPaths(chapter).testDir}/` };
  const out = [box];
  if (chapter.hints.length === 0) return out;

  const open = new state.Token('heading_open', 'h3', 1);
  open.markup = '###';
  open.block = true;
  const title = new state.Token('inline', '', 0);
  title.content = 'Hints';
  title.children = [];
  const close = new state.Token('heading_close', 'h3', -1);
  close.markup = '###';
  close.block = true;
  out.push(open, title, close);
  // Block-parse only: the core 'inline' rule, which runs next, parses inline markdown.
  state.md.block.parse('Stuck? Open one hint at a time; each gives away a little more than the one before.', state.md, state.env, out);

  chapter.hints.forEach((hint, i) => {
    const start = new state.Token('container_hint_open', 'div', 1);
    start.block = true;
    start.markup = ':::';
    start.info = `hint Hint ${i + 1} of ${chapter.hints.length}`;
    if (i < hintsSeen) start.attrSet('data-seen', '');
    const end = new state.Token('container_hint_close', 'div', -1);
    end.block = true;
    end.markup = ':::';
    out.push(start);
    state.md.block.parse(hint, state.md, state.env, out);
    out.push(end);
  });
  return out;
}

/** Add the exercise box and the manifest's hints to a chapter page. */
export function exercisePlugin(md: MarkdownIt): void {
  if (!md.renderer.rules.container_hint_open) throw new Error('exercisePlugin needs containersPlugin registered first (hints are hint containers)');

  // After 'block', before 'inline': the inserted heading and hints get their inline content parsed
  // by the core rules that follow, and anchors like every other heading.
  md.core.ruler.after('block', 'exercise_box', (state: StateCore) => {
    const env = state.env as RenderEnv;
    if (state.inlineMode || !env.chapter) return;
    state.tokens.splice(insertionPoint(state.tokens), 0, ...exerciseTokens(state, env.chapter, env.hintsSeen ?? 0));
  });

  md.renderer.rules.exercise_box = (tokens, idx) => {
    const { files, check, test } = tokens[idx]!.meta as unknown as { files: string[]; check: string; test: string };
    const fileItems = files.map((f) => `<li><code>${escapeHtml(f)}</code></li>`).join('');
    return [
      '<div class="exercise-box">',
      '<p class="exercise-box-title">Your turn</p>',
      `<dl><dt>Edit</dt><dd><ul class="exercise-files">${fileItems}</ul></dd>`,
      `<dt>Check</dt><dd><code class="command">${escapeHtml(check)}</code></dd>`,
      `<dt>Or run the tests</dt><dd><code class="command">npx vitest run ${escapeHtml(test)}</code></dd></dl>`,
      '</div>\n',
    ].join('\n');
  };
}
