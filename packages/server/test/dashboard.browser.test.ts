/**
 * The dashboard in a real browser (issue 7 "Browser"): Debian's Chromium
 * driven by playwright-core against a real server over a real store. Signs
 * in with a token, sees the cards and the chart, filters, pages, opens a
 * record (old/new side by side, hash, inclusion), sees a record appended by
 * the test arrive live, and checks that records carrying HTML/script
 * payloads render as text and run nothing, that bidi and invisible
 * formatting controls show as visible escapes, and that a checkpoint row whose
 * unsigned columns were edited is flagged. Saves a screenshot to
 * test-artifacts/dashboard.png.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { chromiumPresent, launchBrowser } from './browser.js';
import { createRecordId } from '@otel-audit/core';
import { ADMIN_TOKEN, appendEvents, seededEvent, startFixture, type Fixture } from './helpers.js';

const haveChromium = chromiumPresent('dashboard');
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const SCRIPT = '<script>window.__pwned=1</script>';
const IMG = '<img src=x onerror="window.__pwned=1">';

/** expect.poll with room for a loaded CI machine (the default gives up after 1 s). */
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 15_000 });

describe.skipIf(!haveChromium)('dashboard in Chromium', () => {
  let fx: Fixture;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    fx = await startFixture(70, { pollIntervalMillis: 200 });
    // Hostile strings in every field a page shows.
    appendEvents(fx.store, fx.chain, [{
      ...seededEvent(1, 0.5), type: 'crud', action: SCRIPT, actor: { id: IMG, type: 'user', user_agent: SCRIPT },
      target: { type: IMG, id: SCRIPT, name: IMG }, details: { note: IMG }, old: { name: SCRIPT }, new: { name: IMG },
    }]);
    ({ browser, page } = await launchBrowser());
  });

  afterAll(async () => {
    await browser?.close();
    await fx?.close();
  });

  it('signs in, shows cards and chart, filters, pages, opens a record, receives live records, and renders payloads as text', async () => {
    const violations: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) violations.push(m.text()); });
    await page.goto(fx.url);
    await page.fill('#token', ADMIN_TOKEN);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#app:not([hidden])');

    // Cards come from /api/audit/stats over the window: 71 seeded records plus the server's own access records.
    await poll(async () => Number(await page.textContent('#card-events'))).toBeGreaterThanOrEqual(71);
    expect(await page.textContent('#card-failed')).toBe('14');
    expect(await page.textContent('#card-config')).toBe('14');
    expect(Number(await page.textContent('#card-actors'))).toBeGreaterThanOrEqual(4);
    // The chart drew bars and a legend naming type/outcome pairs.
    expect(await page.locator('#chart-svg rect.bar').count()).toBeGreaterThan(3);
    await poll(() => page.textContent('#legend')).toContain('auth/failure');
    await poll(() => page.textContent('#integrity')).toContain('intact');

    // Hostile payloads are text, not markup.
    await poll(() => page.textContent('#log-rows')).toContain(SCRIPT);
    expect(await page.textContent('#log-rows')).toContain(IMG);
    expect(await page.locator('#log-rows img, #log-rows script').count()).toBe(0);

    // Filter: failed logins only.
    await page.selectOption('#filters select[name=outcome]', 'failure');
    await page.fill('#filters input[name=type]', 'auth');
    await page.click('#filters button[type=submit]');
    await poll(() => page.locator('#log-rows tr').count()).toBe(14);
    const outcomes = await page.locator('#log-rows td:nth-child(4)').allTextContents();
    expect(new Set(outcomes)).toEqual(new Set(['failure']));

    // Page: 25 per page over the 29 crud records (28 seeded + the hostile one): the second page holds 4.
    await page.click('#filters button[type=reset]');
    await page.fill('#filters input[name=type]', 'crud');
    await page.click('#filters button[type=submit]');
    // The reset may render a page of every type first (the server's own access records are the
    // newest): wait for the crud page itself, 25 rows all of type crud.
    await poll(async () => {
      const types = await page.locator('#log-rows td:nth-child(2)').allTextContents();
      return types.length === 25 && types.every((t) => t === 'crud');
    }).toBe(true);
    const firstSeq = await page.locator('#log-rows tr:first-child td:nth-child(9)').textContent();
    await page.click('#next-page');
    await poll(() => page.textContent('#page-info')).toContain('page 2');
    expect(await page.locator('#log-rows tr').count()).toBe(4);
    expect(await page.isDisabled('#next-page')).toBe(true);
    expect(await page.locator('#log-rows tr:first-child td:nth-child(9)').textContent()).not.toBe(firstSeq);
    await page.click('#first-page');
    await poll(() => page.locator('#log-rows tr:first-child td:nth-child(9)').textContent()).toBe(firstSeq);

    // Open the hostile record: old/new side by side as text, hash, inclusion proven against the signed checkpoint.
    await page.locator('#log-rows tr', { hasText: SCRIPT }).first().click();
    await page.waitForSelector('#details:not([hidden])');
    expect(await page.textContent('#details-old')).toContain(SCRIPT);
    expect(await page.textContent('#details-new')).toContain(JSON.stringify(IMG).slice(1, -1));
    expect(await page.textContent('#meta-hash')).toMatch(/^[0-9a-f]{64}$/);
    await poll(() => page.textContent('#meta-inclusion')).toContain('included in checkpoint');
    expect(await page.locator('#details img, #details script').count()).toBe(0);

    // Live: a record appended by another writer shows up without reloading.
    await poll(() => page.textContent('#live-status')).toBe('connected');
    expect(await page.textContent('#who')).toBe('signed in as alice (admin)');
    appendEvents(fx.store, fx.chain, [{ id: createRecordId(), time: new Date(), type: 'crud', action: 'live-arrival', outcome: 'success', actor: { id: 'carol' } }], false);
    await poll(() => page.textContent('#live')).toContain('crud/live-arrival');
    await poll(() => page.textContent('#log-rows')).toContain('live-arrival');
    // An alert goes to the alerts panel.
    appendEvents(fx.store, fx.chain, [{ id: createRecordId(), time: new Date(), type: 'alert', action: 'failed_logins', outcome: 'success', severity: 'critical', actor: { id: IMG } }], false);
    await poll(() => page.textContent('#alerts')).toContain('failed_logins');

    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(violations).toEqual([]);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  });

  it('keeps the token out of URLs and refuses a wrong token with a message', async () => {
    const urls: string[] = [];
    const p2 = await browser.newPage();
    p2.on('request', (r) => urls.push(r.url()));
    await p2.goto(fx.url);
    await p2.fill('#token', 'not-a-token');
    await p2.click('#login-form button[type=submit]');
    await poll(() => p2.textContent('#login-error')).toContain('refused');
    expect(await p2.isHidden('#app')).toBe(true);
    await p2.fill('#token', ADMIN_TOKEN);
    await p2.click('#login-form button[type=submit]');
    await poll(() => p2.textContent('#live-status')).toBe('connected');
    expect(urls.filter((u) => u.includes(ADMIN_TOKEN))).toEqual([]);
    expect(urls.some((u) => u.includes('/api/audit/stream?ticket='))).toBe(true);
    await p2.close();
  });

  it('shows bidi and invisible formatting controls in record text as visible escapes, not as reordered text', async () => {
    const spoof = (i: number, actor: string) => ({
      id: createRecordId(), time: new Date(), type: 'spoof', action: `delete\u200B_all${i}`, outcome: 'success' as const, actor: { id: actor, type: 'user' },
      target: { type: 'doc\u2066', id: '\uFEFF7' }, details: { note: 'x\u202Ay\u202C' }, old: { name: '\u2067a\u2069' }, new: { name: '\u200Fb\u200E\u061C' },
    });
    appendEvents(fx.store, fx.chain, [spoof(1, '\u202Eecila\u2060\u00AD')], false);
    const p4 = await browser.newPage();
    await p4.goto(fx.url);
    await p4.fill('#token', ADMIN_TOKEN);
    await p4.click('#login-form button[type=submit]');
    await poll(() => p4.textContent('#live-status')).toBe('connected');
    await p4.fill('#filters input[name=type]', 'spoof');
    await p4.click('#filters button[type=submit]');
    await poll(() => p4.locator('#log-rows tr').count()).toBe(1);
    // The word joiner and soft hyphen too: invisible, `ecila` would look like another account's name.
    expect(await p4.textContent('#log-rows tr td:nth-child(6)')).toBe('\\u202Eecila\\u2060\\u00AD');
    expect(await p4.textContent('#log-rows tr td:nth-child(3)')).toBe('delete\\u200B_all1');
    expect(await p4.textContent('#log-rows tr td:nth-child(7)')).toBe('doc\\u2066:\\uFEFF7');
    await p4.locator('#log-rows tr').first().click();
    await p4.waitForSelector('#details:not([hidden])');
    expect(await p4.textContent('#meta-actor')).toContain('\\u202Eecila');
    expect(await p4.textContent('#details-old')).toContain('\\u2067a\\u2069');
    expect(await p4.textContent('#details-new')).toContain('\\u200Fb\\u200E\\u061C');
    expect(await p4.textContent('#details-record')).toContain('x\\u202Ay\\u202C');
    // Indented over lines, not one line of escaped newlines.
    expect(await p4.textContent('#details-record')).toMatch(/^\{\n {2}"/);
    expect(await p4.textContent('#details-record')).not.toContain('\\u000A');
    // A record arriving live is shown the same way, in the live list and the log.
    appendEvents(fx.store, fx.chain, [spoof(2, '\u202Dbob')], false);
    await poll(() => p4.textContent('#live')).toContain('spoof/delete\\u200B_all2 success · \\u202Dbob');
    await poll(() => p4.locator('#log-rows tr').count()).toBe(2);
    // Nowhere on the page does a control character reach the rendered text.
    const titles = await Promise.all((await p4.locator('[title]').all()).map((n) => n.getAttribute('title')));
    const shown = [await p4.locator('body').innerText(), ...titles, ...(await p4.locator('#chart-svg title').allTextContents())].join('\n');
    expect(shown).not.toMatch(/[\u061C\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/);
    await p4.close();
  });

  // Last: it edits the fixture's store.
  it('flags a checkpoint row whose root_hash column was edited in the badge and in the record details', async () => {
    const db = fx.store.database;
    for (const name of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all() as string[]) db.exec(`DROP TRIGGER "${name}"`);
    db.prepare("UPDATE audit_checkpoints SET root_hash = (CASE WHEN substr(root_hash, 1, 1) = '0' THEN '1' ELSE '0' END) || substr(root_hash, 2) WHERE stream = 'svc/1'").run();
    const p3 = await browser.newPage();
    await p3.goto(fx.url);
    await p3.fill('#token', ADMIN_TOKEN);
    await p3.click('#login-form button[type=submit]');
    await p3.waitForSelector('#app:not([hidden])');
    // The records themselves still verify (the note is intact): only the comparison with the columns shows the edit.
    await poll(() => p3.textContent('#integrity')).toMatch(/\d+ checkpoint row\(s\) disagree with their signed note/);
    expect(await p3.getAttribute('#integrity', 'class')).toContain('badge-bad');
    expect(await p3.textContent('#integrity')).not.toContain('intact');
    await p3.fill('#filters input[name=type]', 'auth');
    await p3.click('#filters button[type=submit]');
    await poll(async () => (await p3.locator('#log-rows td:nth-child(2)').allTextContents()).every((t) => t === 'auth')).toBe(true);
    await p3.locator('#log-rows tr').first().click();
    await poll(() => p3.textContent('#meta-inclusion')).toContain('MISMATCH: the stored checkpoint row disagrees with its signed note');
    expect(await p3.getAttribute('#meta-inclusion', 'class')).toBe('included-no');
    await p3.close();
  });
});
