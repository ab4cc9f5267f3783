/**
 * Code blocks highlighted at build time with highlight.js (no client JS), framed with the
 * language's name. Only the languages lessons use are loaded, which keeps the build fast.
 */
import type { MarkdownIt } from 'markdown-it';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import diff from 'highlight.js/lib/languages/diff';
import http from 'highlight.js/lib/languages/http';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import shell from 'highlight.js/lib/languages/shell';
import typescript from 'highlight.js/lib/languages/typescript';
import { escapeHtml } from '../template/html.ts';

hljs.registerLanguage('typescript', typescript);
hljs.registerLanguage('javascript', javascript);
hljs.registerLanguage('json', json);
hljs.registerLanguage('bash', bash);
hljs.registerLanguage('shell', shell);
hljs.registerLanguage('diff', diff);
hljs.registerLanguage('http', http);

/** The label shown on a code block for each fence language a lesson may use. */
const LABELS: Record<string, string> = {
  ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js', mjs: 'js', json: 'json',
  bash: 'bash', sh: 'sh', shell: 'shell', console: 'shell', diff: 'diff', http: 'http',
};

/** The fence's language: the first word of its info string, lowercased. */
export function fenceLang(info: string): string {
  return info.trim().split(/\s+/, 1)[0]!.toLowerCase();
}

/** Highlight fenced code at build time and frame it with its language. */
export function highlightPlugin(md: MarkdownIt): void {
  md.options.highlight = (code, lang) => {
    const name = lang.toLowerCase();
    // An unknown language stays plain: markdown-it escapes it.
    if (!hljs.getLanguage(name)) return '';
    return hljs.highlight(code, { language: name, ignoreIllegals: true }).value;
  };

  const previous = md.renderer.rules.fence!;
  md.renderer.rules.fence = (tokens, idx, opts, env, self) => {
    const lang = fenceLang(tokens[idx]!.info);
    const label = LABELS[lang] ?? lang;
    const frame = label ? `<div class="code-block" data-lang="${escapeHtml(label)}">` : '<div class="code-block">';
    return `${frame}${previous(tokens, idx, opts, env, self)}</div>\n`;
  };
}
