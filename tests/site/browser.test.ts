/**
 * End to end, in real headless Chromium (Debian's, driven by playwright-core): a reader opens the
 * home page, goes to a chapter, opens a hint, searches and follows a result, switches the theme,
 * and reads on a phone. No console error and no failed request is allowed anywhere.
 * Screenshots land in artifacts/site/ (ignored by git).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chapters as realChapters, parts as realParts } from '../../chapters/manifest.ts';
import { buildSite } from '../../site/build.ts';
import { startServer, type SiteServer } from '../../site/server.ts';
import { buildFixture, CHROMIUM, CHROMIUM_ARGS, chromiumMissing, REPO_ROOT, tempDir } from './fixtures/harness.ts';

const ARTIFACTS = path.join(REPO_ROOT, 'artifacts/site');
const missing = chromiumMissing();
if (missing) console.warn(`[workbook] skipping the browser tests: ${missing}`);

const out = tempDir('workbook-e2e-');
let server: SiteServer;
let browser: Browser;
let desktop: BrowserContext;
let page: Page;
/** Console errors, page errors, failed requests and HTTP errors, from every page opened. */
const problems: string[] = [];

function watch(p: Page): Page {
  p.on('console', (m) => m.type() === 'error' && problems.push(`console error on ${p.url()}: ${m.text()}`));
  p.on('pageerror', (e) => problems.push(`uncaught error on ${p.url()}: ${e.message}`));
  p.on('requestfailed', (r) => {
    // A request cut short by the reader moving on (ERR_ABORTED) is not a failure; a missing file is a 404 below.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`);
  });
  p.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()} for ${r.url()}`));
  return p;
}

const shot = (p: Page, name: string) => p.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), animations: 'disabled' });

beforeAll(async () => {
  if (missing) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  buildFixture(out.dir);
  server = await startServer({ dir: out.dir, host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 15_000 });
  desktop = await browser.newContext({ viewport: { width: 1366, height: 900 }, colorScheme: 'light' });
  page = watch(await desktop.newPage());
  page.setDefaultTimeout(5_000);
}, 20_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  out.remove();
});

beforeEach((ctx) => {
  if (missing) ctx.skip(missing);
});

// Generous limits: under `npm test` the browser shares two cores with the chapter suites.
describe('the site in a real browser', { timeout: 15_000 }, () => {
  it('opens the home page and navigates to a chapter from the map', async () => {
    await page.goto(server.url);
    expect(await page.locator('h1.hero-title').innerText()).toBe('Fixture Workbook');
    await shot(page, 'desktop-home');
    await page.locator('.chapter-card', { hasText: 'Finding each other' }).click();
    await page.waitForURL('**/02-ports/index.html');
    expect(await page.locator('main h1').innerText()).toContain('Finding each other');
    expect(await page.locator('.sidebar a[aria-current="page"]').innerText()).toContain('Finding each other');
    // The inline SVG diagram has an accessible name.
    expect(await page.getByRole('img', { name: /Two endpoints joined by a line/ }).count()).toBe(1);
  });

  it('keeps hints collapsed and opens them one at a time', async () => {
    const hints = page.locator('details.hint');
    expect(await hints.count()).toBe(3);
    expect(await hints.nth(0).locator('.hint-body').isVisible()).toBe(false);
    await hints.nth(0).locator('summary').click();
    await hints.nth(0).locator('.hint-body').waitFor({ state: 'visible' });
    expect(await hints.nth(0).innerText()).toContain('[::1]:8080');
    expect(await hints.nth(1).locator('.hint-body').isVisible()).toBe(false);
  });

  it('finds a lesson section by search and follows the result', async () => {
    await page.locator('.search-button').click();
    await page.locator('#site-search-input').fill('half-close');
    const first = page.locator('#site-search-results a').first();
    await first.filter({ hasText: 'Closing politely' }).waitFor();
    await shot(page, 'desktop-search');
    await page.keyboard.press('Enter');
    await page.waitForURL('**/03-echo/index.html#closing-politely');
    await page.waitForFunction(() => { const r = document.getElementById('closing-politely')!.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; });
    expect(await page.locator('#site-search').isVisible()).toBe(false);
  });

  it('toggles the theme and remembers it on the next page', async () => {
    expect(await page.getAttribute('html', 'data-theme')).toBe('light');
    await page.locator('.theme-toggle').click();
    expect(await page.getAttribute('html', 'data-theme')).toBe('dark');
    expect(await page.getAttribute('.theme-toggle', 'aria-pressed')).toBe('true');
    await page.goto(`${server.url}01-ring/index.html`);
    expect(await page.getAttribute('html', 'data-theme')).toBe('dark');
    await shot(page, 'desktop-chapter-dark');
  });

  it('follows the system theme when the reader has not chosen one', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 }, colorScheme: 'dark' });
    try {
      const p = watch(await ctx.newPage());
      await p.goto(`${server.url}01-ring/index.html`);
      expect(await p.getAttribute('html', 'data-theme')).toBe('dark');
    } finally {
      await ctx.close();
    }
  });

  it('reads well on a phone, with the chapter menu behind a button', async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme: 'light' });
    try {
      const p = watch(await ctx.newPage());
      p.setDefaultTimeout(5_000);
      await p.goto(`${server.url}01-ring/index.html`);
      expect(await p.locator('#site-sidebar').isVisible()).toBe(false);
      const width = await p.evaluate(() => document.documentElement.scrollWidth);
      expect(width, 'nothing is wider than the screen').toBeLessThanOrEqual(390);
      await shot(p, 'mobile-chapter');
      await p.locator('.menu-button').click();
      await p.locator('#site-sidebar').waitFor({ state: 'visible' });
      await shot(p, 'mobile-menu');
      await p.locator('#site-sidebar a', { hasText: 'The socket' }).click();
      await p.waitForURL('**/03-echo/index.html');
      expect(await p.locator('#site-sidebar').isVisible()).toBe(false);
    } finally {
      await ctx.close();
    }
  });

  it("draws a chapter's benchmark chart as inline SVG that follows the theme, with its figures as text", async () => {
    // The real lessons, whose "Measure it" sections draw bench/results/*.json at build time.
    const real = tempDir('workbook-e2e-real-');
    const realServer = await startServer({ dir: real.dir, host: '127.0.0.1', port: 0 });
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 }, colorScheme: 'light' });
    try {
      buildSite({ root: REPO_ROOT, outDir: real.dir, chapters: realChapters, parts: realParts, progressFile: null });
      const p = watch(await ctx.newPage());
      p.setDefaultTimeout(5_000);
      await p.goto(`${realServer.url}07-streams-and-backpressure/index.html#measure-it`);
      const figure = p.locator('figure.bench-figure');
      await figure.scrollIntoViewIfNeeded();
      expect(await p.locator('figure.bench-figure script').count(), 'no script in the chart').toBe(0);
      const svg = figure.locator('svg.bench-chart');
      const box = await svg.boundingBox();
      expect(box?.width, 'the chart is drawn at a readable size').toBeGreaterThan(300);
      const label = await figure.locator('.diagram-svg').getAttribute('aria-label');
      expect(label, 'the chart is described in words').toMatch(/reference relay peaks at/);
      // Its ink is currentColor: the title's colour follows the theme, and stands out from the page.
      const ink = () => svg.locator('text').first().evaluate((el) => getComputedStyle(el).fill);
      const light = await ink();
      await figure.screenshot({ path: path.join(ARTIFACTS, 'bench-chart-light.png'), animations: 'disabled' });
      await p.locator('.theme-toggle').click();
      expect(await p.getAttribute('html', 'data-theme')).toBe('dark');
      const dark = await ink();
      await figure.screenshot({ path: path.join(ARTIFACTS, 'bench-chart-dark.png'), animations: 'disabled' });
      expect(dark, 'the chart changes ink with the theme').not.toBe(light);
      const luminance = (rgb: string) => {
        const [r, g, b] = (rgb.match(/\d+/g) ?? []).map(Number);
        return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
      };
      expect(luminance(light), 'dark ink on the light page').toBeLessThan(100);
      expect(luminance(dark), 'light ink on the dark page').toBeGreaterThan(150);
      // The figures behind the chart, as a table.
      await figure.locator('details.bench-figures summary').click();
      expect(await figure.locator('details.bench-figures table').first().isVisible()).toBe(true);
      expect(await figure.locator('details.bench-figures th[scope="col"]').allTextContents()).toEqual(expect.arrayContaining(['reference relay', 'pipeline()']));
    } finally {
      await ctx.close();
      await realServer.close();
      real.remove();
    }
  });

  it('recorded no console errors and no failed requests', () => {
    expect(problems).toEqual([]);
  });
});
