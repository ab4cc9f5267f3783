/**
 * A tagged template for the page shell: every interpolated value is escaped unless it is
 * already `SafeHtml` (markdown-it output, or another `html` result). Lesson content never
 * goes through here; it is rendered by markdown-it.
 */

/** A string known to be HTML (markup we built, or markdown-it's output). */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Values an `html` template accepts. Falsy values other than 0 render as nothing. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | HtmlValue[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for use in HTML content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false || value === true) return '';
  return escapeHtml(String(value));
}

/** Build markup; interpolations are escaped unless they are SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** Mark trusted markup (markdown-it's output) as SafeHtml. */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
