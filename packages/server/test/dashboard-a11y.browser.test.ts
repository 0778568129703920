/**
 * The dashboard as a keyboard-only or screen-reader user meets it (WCAG 2.1
 * AA), in a real browser (Debian's Chromium driven by playwright-core, a real
 * server over a real store, no network): the sign-in form is in the main
 * landmark and focus lands in the app after signing in and on the token
 * field after logging out; the filters' names match what they show; the log
 * table has a caption and column headers; the integrity verdict is announced
 * as text in a polite status region; a record opened by keyboard takes focus
 * and Escape or Close gives it back to its row; Export and the pager keep
 * focus when their button is disabled meanwhile; the chart has its numbers as
 * text; notices and focus rings have enough contrast.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { chromiumPresent, launchBrowser } from './browser.js';
import { ADMIN_TOKEN, startFixture, type Fixture } from './helpers.js';

const haveChromium = chromiumPresent('dashboard accessibility');
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 15_000 });

// The browser's globals, typed loosely (the test tsconfig has no DOM lib).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** The id of the focused element, or its tag ('BODY' when focus was lost). */
const focused = (page: Page) => page.evaluate(() => { const a = (globalThis as Any).document.activeElement; return a ? (a.id || a.tagName) : null; });

/** The WCAG contrast ratio of two CSS colours (`rgb(r, g, b)`). */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, gr, bl] = (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((x) => {
      const v = Number(x) / 255;
      return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * gr! + 0.0722 * bl!;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

async function signInByKeyboard(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('#login:not([hidden])');
  await page.focus('#token');
  await page.keyboard.type(ADMIN_TOKEN);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#app:not([hidden])');
  await poll(() => page.textContent('#live-status')).toBe('connected');
}

describe.skipIf(!haveChromium)('dashboard accessibility in Chromium', () => {
  let fx: Fixture;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    // 40 records: two pages of 25 in the log.
    fx = await startFixture(40, { pollIntervalMillis: 200 });
    ({ browser } = await launchBrowser());
  });

  // A fresh page per test: the token is kept in the tab's sessionStorage.
  beforeEach(async () => { page = await browser.newPage({ viewport: { width: 1400, height: 1000 } }); });
  afterEach(async () => { await page?.close(); });

  afterAll(async () => {
    await browser?.close();
    await fx?.close();
  });

  it('keeps the sign-in form in the main landmark and moves focus into the app, and back to the token field on logging out', async () => {
    await page.goto(fx.url);
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.evaluate(() => (globalThis as Any).document.getElementById('login').closest('main, [role=main]') !== null)).toBe(true);
    // Signing in hides the form and its focused button: focus must not fall back to <body>.
    await signInByKeyboard(page, fx.url);
    expect(await focused(page)).toBe('title');
    expect(await page.getAttribute('#who', 'role')).toBe('status');
    // Log out by keyboard: focus goes to the token field, not to <body>.
    await page.focus('#logout');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#login:not([hidden])');
    expect(await focused(page)).toBe('token');
  });

  it('names every control by what it shows, gives the table a caption and column headers, and announces the integrity verdict as text', async () => {
    await signInByKeyboard(page, fx.url);
    // Every visible input, select and button has a name; a filter's name contains its visible placeholder (WCAG 2.5.3).
    const unnamed = await page.evaluate(() => [...(globalThis as Any).document.querySelectorAll('input, select, button')]
      .filter((n: Any) => n.offsetParent !== null && n.type !== 'hidden')
      .filter((n: Any) => !(n.getAttribute('aria-label') || n.labels?.[0]?.textContent.trim() || n.textContent.trim()))
      .map((n: Any) => n.outerHTML));
    expect(unnamed).toEqual([]);
    const mismatched = await page.evaluate(() => [...(globalThis as Any).document.querySelectorAll('#filters [placeholder]')]
      .filter((n: Any) => !(n.getAttribute('aria-label') ?? '').includes(n.getAttribute('placeholder')))
      .map((n: Any) => `${n.getAttribute('aria-label')} / ${n.getAttribute('placeholder')}`));
    expect(mismatched).toEqual([]);
    expect(await page.textContent('#log-table caption')).toMatch(/Log records/);
    expect(await page.locator('#log-table th[scope=col]').count()).toBe(9);
    // The badge's colour is not the message: the verdict is in a polite status region, as text.
    await poll(() => page.textContent('#integrity')).toContain('intact');
    expect(await page.getAttribute('#integrity-status', 'role')).toBe('status');
    expect(await page.textContent('#integrity-status')).toContain('integrity: intact');
    expect(await page.getAttribute('#integrity-findings', 'tabindex')).toBe('0');
    expect(await page.getAttribute('#integrity-findings', 'aria-label')).toBeTruthy();
    // The live stream's status is polite (role=status), the record list itself is not a live region (no flooding).
    expect(await page.getAttribute('#live-status', 'role')).toBe('status');
    expect(await page.getAttribute('#live', 'aria-live')).toBeNull();
    // The chart's numbers as text.
    expect(await page.getAttribute('#chart-svg', 'aria-label')).toMatch(/auth\/failure \d+/);
  });

  it('moves focus into a record opened by keyboard and back to its row on Escape and on Close', async () => {
    await signInByKeyboard(page, fx.url);
    await poll(() => page.locator('#log-rows tr').count()).toBe(25);
    const third = page.locator('#log-rows tr').nth(2);
    const seq = await third.locator('td:nth-child(9)').textContent();
    await third.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('#details:not([hidden])');
    expect(await focused(page)).toBe('details-title');
    expect(await page.getAttribute('#details', 'aria-labelledby')).toBe('details-title');
    // The heading is "Record", not "Record Close".
    expect((await page.textContent('#details-title'))!.trim()).toBe('Record');
    // The proof's verdict, filled in after the panel opens, is announced politely.
    expect(await page.getAttribute('#meta-inclusion', 'aria-live')).toBe('polite');
    await poll(() => page.textContent('#meta-inclusion')).toContain('included');
    await page.keyboard.press('Escape');
    expect(await page.isHidden('#details')).toBe(true);
    expect(await page.evaluate(() => (globalThis as Any).document.activeElement?.querySelector('td:nth-child(9)')?.textContent)).toBe(seq);
    // Again, closing with the Close button by keyboard.
    await page.keyboard.press('Enter');
    await page.waitForSelector('#details:not([hidden])');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('close-details');
    await page.keyboard.press('Enter');
    expect(await page.isHidden('#details')).toBe(true);
    expect(await page.evaluate(() => (globalThis as Any).document.activeElement?.querySelector('td:nth-child(9)')?.textContent)).toBe(seq);
  });

  it('keeps focus on Export and in the pager when their buttons are disabled meanwhile', async () => {
    await signInByKeyboard(page, fx.url);
    await page.focus('#export');
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    expect(download.suggestedFilename()).toMatch(/\.json$/);
    await poll(() => page.textContent('#export-status')).toMatch(/^saved /);
    expect(await focused(page)).toBe('export');
    // 40 seeded records: Next page reaches the last page, which disables Next while it has focus.
    await page.focus('#next-page');
    await page.keyboard.press('Enter');
    await poll(() => page.textContent('#page-info')).toContain('page 2');
    await poll(() => page.isDisabled('#next-page')).toBe(true);
    expect(await focused(page)).toBe('prev-page');
    await page.keyboard.press('Enter');
    await poll(() => page.textContent('#page-info')).toContain('page 1');
    expect(await focused(page)).toBe('next-page');
  });

  it('gives notices 4.5:1 and the log rows\' focus ring 3:1 against the panel', async () => {
    await signInByKeyboard(page, fx.url);
    const notice = await page.evaluate(() => {
      const n = (globalThis as Any).document.getElementById('logs-purged');
      n.hidden = false;
      n.textContent = 'Not listed: a purged run';
      const s = (globalThis as Any).getComputedStyle(n);
      return { color: s.color, background: s.backgroundColor };
    });
    expect(contrast(notice.color, notice.background)).toBeGreaterThanOrEqual(4.5);
    await page.locator('#log-rows tr').first().focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => {
      const row = (globalThis as Any).document.activeElement;
      return { tag: row.tagName, outline: (globalThis as Any).getComputedStyle(row).outlineColor, panel: (globalThis as Any).getComputedStyle(row.closest('.panel')).backgroundColor };
    });
    expect(ring.tag).toBe('TR');
    expect(contrast(ring.outline, ring.panel)).toBeGreaterThanOrEqual(3);
  });
});
