/**
 * Two tiny fixture chapters for the CLI's end-to-end tests and benchmark: deterministic, fast,
 * and independent of the real chapters being written. They follow the real layout (stub with
 * todo(), solution, suite with top-level describe groups, a known-mistake variant).
 */

/** Manifest entries, as TypeScript source for the sandbox's chapters/manifest.ts. */
export const FIXTURE_MANIFEST_ENTRIES = `export const chapters: Chapter[] = [
  {
    id: '01-adder',
    number: 1,
    slug: 'adder',
    title: 'Adding',
    part: 1,
    summary: 'Add and double numbers.',
    points: 10,
    files: ['exercise.ts'],
    hints: ['Which operator adds two numbers?', 'Use \`a + b\` and \`a * 2\`.', 'return a + b;'],
    mistakes: [{ name: 'off-by-one', what: 'double adds one too many', caughtBy: 'doubles a positive number' }],
  },
  {
    id: '02-greeter',
    number: 2,
    slug: 'greeter',
    title: 'Greeting',
    part: 1,
    summary: 'Greet a peer by name.',
    points: 6,
    files: ['exercise.ts'],
    hints: ['Use a template string.', 'Hello, then the name, then !'],
    mistakes: [],
  },
];`;

/** Files of the fixture chapters, relative to the sandbox root. */
export const FIXTURE_FILES: Record<string, string> = {
  'chapters/01-adder/lesson.md': '# 01 · Adding\n\n## The exercise\nAdd numbers: `npm run workbook -- check 01`.\n',
  'chapters/01-adder/exercise.ts': `import { todo } from '../workbook.ts';

/** Add two numbers. */
export function add(a: number, b: number): number {
  // TODO: return the sum
  return todo(import.meta.url, 'add');
}

/** Double a number. */
export function double(a: number): number {
  // TODO: return twice a
  return todo(import.meta.url, 'double');
}
`,
  'solutions/01-adder/exercise.ts': `/** Add two numbers. */
export function add(a: number, b: number): number {
  return a + b;
}

/** Double a number. */
export function double(a: number): number {
  return a * 2;
}
`,
  'tests/mistakes/01-adder/off-by-one.patch': `--- a/exercise.ts
+++ b/exercise.ts
@@ -5,5 +5,6 @@
 
 /** Double a number. */
 export function double(a: number): number {
-  return a * 2;
+  // Mistake: double adds one too many to positive numbers.
+  return a > 0 ? a * 2 + 1 : a * 2;
 }
`,
  'tests/01-adder/adder.test.ts': `import { describe, expect, it } from 'vitest';
import { add, double } from '@impl/01-adder/exercise.ts';

describe('adding', () => {
  it('adds two small numbers', () => {
    expect(add(1, 2)).toBe(3);
  });
  it('adds negative numbers', () => {
    expect(add(-1, -2)).toBe(-3);
  });
});

describe('doubling', () => {
  it('doubles zero', () => {
    expect(double(0)).toBe(0);
  });
  it('doubles a positive number', () => {
    expect(double(4), 'double(4) -> 8, twice 4 & "not" <more>').toBe(8);
  });
});
`,
  'chapters/02-greeter/lesson.md': '# 02 · Greeting\n\n## The exercise\nGreet: `npm run workbook -- check 02`.\n',
  'chapters/02-greeter/exercise.ts': `import { todo } from '../workbook.ts';

/** "Hello, <name>!" */
export function greet(name: string): string {
  // TODO: greet by name
  return todo(import.meta.url, 'greet');
}
`,
  'solutions/02-greeter/exercise.ts': `/** "Hello, <name>!" */
export function greet(name: string): string {
  return \`Hello, \${name}!\`;
}
`,
  'tests/02-greeter/greeter.test.ts': `import { describe, it } from 'vitest';
import { greet } from '@impl/02-greeter/exercise.ts';
import { check, Transcript } from '../helpers/index.ts';

const exchange = (name: string) => {
  const t = new Transcript({ out: 'Ada', inn: 'your greet()' });
  t.sent(name);
  const reply = greet(name);
  t.received(reply);
  return { t, reply };
};

describe('greeting', () => {
  it('greets Bram by name', () => {
    const { t, reply } = exchange('Bram');
    check(reply === 'Hello, Bram!', { did: \`greet("Bram") returned \${JSON.stringify(reply)}\`, expected: '"Hello, Bram!"', transcript: t });
  });
  it('greets Ada too, & says "hi" <politely>', () => {
    const { t, reply } = exchange('Ada');
    check(reply === 'Hello, Ada!', { did: \`greet("Ada") returned \${JSON.stringify(reply)}\`, expected: '"Hello, Ada!"', transcript: t });
  });
});
`,
};

/** Learner code for the fixture chapters, by situation. */
export const LEARNER = {
  adderSyntaxError: `/** Add two numbers. */
export function add(a: number, b: number): number {
  return a + b;
}

/** Double a number. */
export function double(a: number): number {
  return a * 2 +;
}
`,
  adderEndlessLoop: `export function add(a: number, b: number): number {
  return a + b;
}

export function double(a: number): number {
  if (a === 4) for (;;) {}
  return a * 2;
}
`,
  greeterWrong: `export function greet(name: string): string {
  console.log('greeting', name);
  return 'Hi ' + name;
}
`,
};
