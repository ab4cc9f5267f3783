/** A grade as JUnit XML (the format CI systems and LMS importers read). */
import type { ChapterGrade } from './score.ts';

// XML 1.0 allows tab, LF, CR and most of Unicode; everything else (and ANSI escapes) is dropped.
const INVALID_XML = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const clean = (s: string) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(INVALID_XML, '');

/** Escape text content. */
export function xmlText(s: string): string {
  return clean(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escape an attribute value (double-quoted); newlines are kept as character references. */
export function xmlAttr(s: string): string {
  return xmlText(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

const attrs = (o: Record<string, string | number>) =>
  Object.entries(o)
    .map(([k, v]) => `${k}="${xmlAttr(String(v))}"`)
    .join(' ');

/** The whole grade as a JUnit XML document. */
export function toJUnit(label: string, grades: ChapterGrade[], at: Date): string {
  const graded = grades.filter((g) => g.status !== 'no-suite');
  const suites = graded.map((g) => {
    const tests = g.groups.flatMap((gr) => gr.tests.map((t) => ({ group: gr.name, ...t })));
    const failures = tests.filter((t) => t.state === 'failed' || t.state === 'pending').length;
    const skipped = tests.filter((t) => t.state === 'skipped').length;
    const errors = g.status === 'did-not-load' ? 1 : 0;
    const props = [
      `      <property ${attrs({ name: 'title', value: g.title })}/>`,
      `      <property ${attrs({ name: 'points', value: g.points })}/>`,
      `      <property ${attrs({ name: 'maxPoints', value: g.maxPoints })}/>`,
      ...g.groups.map((gr) => `      <property ${attrs({ name: `group: ${gr.name}`, value: `${gr.points}/${gr.maxPoints}` })}/>`),
    ];
    const cases = tests.map((t) => {
      const open = `    <testcase ${attrs({ classname: `${g.id}.${t.group}`, name: t.name, time: 0 })}`;
      if (t.state === 'passed') return `${open}/>`;
      if (t.state === 'skipped') return `${open}>\n      <skipped ${attrs({ message: t.note ?? 'skipped' })}/>\n    </testcase>`;
      const message = t.state === 'pending' ? (g.hung ? `did not finish: ${g.hung}` : 'did not finish') : (t.error ?? 'failed').split('\n')[0]!;
      return `${open}>\n      <failure ${attrs({ message, type: t.state === 'pending' ? 'unfinished' : 'failed' })}>${xmlText(t.error ?? message)}</failure>\n    </testcase>`;
    });
    if (g.status === 'did-not-load') {
      cases.push(
        `    <testcase ${attrs({ classname: g.id, name: 'the suite loads the code', time: 0 })}>\n      <error ${attrs({ message: (g.error ?? '').split('\n')[0] ?? '', type: 'load' })}>${xmlText(g.error ?? '')}</error>\n    </testcase>`,
      );
    }
    const head = attrs({ name: g.id, tests: tests.length + errors, failures, errors, skipped, time: 0, timestamp: at.toISOString().slice(0, 19) });
    return [`  <testsuite ${head}>`, '    <properties>', ...props, '    </properties>', ...cases, '  </testsuite>'].join('\n');
  });
  const totals = graded.reduce(
    (a, g) => {
      const tests = g.groups.flatMap((gr) => gr.tests);
      a.tests += tests.length + (g.status === 'did-not-load' ? 1 : 0);
      a.failures += tests.filter((t) => t.state === 'failed' || t.state === 'pending').length;
      a.errors += g.status === 'did-not-load' ? 1 : 0;
      a.skipped += tests.filter((t) => t.state === 'skipped').length;
      return a;
    },
    { tests: 0, failures: 0, errors: 0, skipped: 0 },
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ${attrs({ name: `workbook grade: ${label}`, ...totals, time: 0 })}>\n${suites.join('\n')}\n</testsuites>\n`;
}
