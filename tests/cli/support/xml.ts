/**
 * A strict, small XML parser for checking the grader's JUnit output: it throws on anything that is
 * not well-formed (mismatched or unclosed tags, bad attribute syntax, unknown entities, raw '<' or
 * '&', characters XML 1.0 forbids) and returns the element tree.
 */

/** An element. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_:][\w:.-]*/;
const FORBIDDEN = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

function decode(s: string, where: number): string {
  if (/<|&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(s)) throw new Error(`raw '<' or '&' (bad entity) near offset ${where}: ${s.slice(0, 60)}`);
  return s.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (named[e]) return named[e]!;
    return String.fromCodePoint(e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

/** Parse a document; throws on anything malformed. */
export function parseXml(doc: string): XmlElement {
  if (FORBIDDEN.test(doc)) throw new Error(`a character XML 1.0 forbids at offset ${doc.search(FORBIDDEN)}`);
  let i = 0;
  const rest = () => doc.slice(i);
  if (doc.startsWith('<?xml')) {
    const end = doc.indexOf('?>');
    if (end < 0) throw new Error('unterminated XML declaration');
    i = end + 2;
  }
  const stack: XmlElement[] = [];
  let rootEl: XmlElement | undefined;
  while (i < doc.length) {
    const lt = doc.indexOf('<', i);
    const text = lt < 0 ? doc.slice(i) : doc.slice(i, lt);
    if (text.trim()) {
      if (!stack.length) throw new Error(`text outside the root element at ${i}`);
      stack[stack.length - 1]!.text += decode(text, i);
    }
    if (lt < 0) break;
    i = lt;
    if (rest().startsWith('<!--')) {
      const end = doc.indexOf('-->', i);
      if (end < 0) throw new Error('unterminated comment');
      i = end + 3;
      continue;
    }
    if (rest().startsWith('</')) {
      const m = /^<\/([A-Za-z_:][\w:.-]*)\s*>/.exec(rest());
      if (!m) throw new Error(`bad closing tag at ${i}`);
      const open = stack.pop();
      if (!open || open.name !== m[1]) throw new Error(`</${m[1]}> closes <${open?.name ?? 'nothing'}> at ${i}`);
      i += m[0].length;
      continue;
    }
    i += 1;
    const name = NAME.exec(rest());
    if (!name) throw new Error(`bad tag name at ${i}`);
    i += name[0].length;
    const el: XmlElement = { name: name[0], attrs: {}, children: [], text: '' };
    for (;;) {
      const ws = /^\s*/.exec(rest())![0];
      i += ws.length;
      if (rest().startsWith('/>') || rest().startsWith('>')) break;
      if (!ws) throw new Error(`attributes must be separated by space at ${i}`);
      const a = /^([A-Za-z_:][\w:.-]*)="([^"]*)"/.exec(rest());
      if (!a) throw new Error(`bad attribute at ${i}: ${rest().slice(0, 40)}`);
      if (a[1]! in el.attrs) throw new Error(`duplicate attribute ${a[1]} at ${i}`);
      el.attrs[a[1]!] = decode(a[2]!, i);
      i += a[0].length;
    }
    const selfClosing = rest().startsWith('/>');
    i += selfClosing ? 2 : 1;
    if (stack.length) stack[stack.length - 1]!.children.push(el);
    else if (rootEl) throw new Error('more than one root element');
    else rootEl = el;
    if (!selfClosing) stack.push(el);
  }
  if (stack.length) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (!rootEl) throw new Error('no root element');
  return rootEl;
}

/** Every descendant element with this name. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  return el.children.flatMap((c) => [...(c.name === name ? [c] : []), ...findAll(c, name)]);
}
