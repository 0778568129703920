/**
 * What an analyst notices first, in a real browser (Debian's Chromium driven
 * by playwright-core, a real server over a real SQLite store): the log and the
 * Live panel are not flooded by the dashboard's own access records (a
 * checkbox brings them back; the integrity check is never filtered); Export
 * downloads the current filters' records with the token in a header only;
 * the log has a stream column; alerts say whom they are about and open their
 * record; times are local and say so; the chart spans the whole window; the
 * page has an icon.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { chromiumPresent, launchBrowser } from './browser.js';
import { AuditChain, createRecordId } from '@otel-audit/core';
import { ADMIN_TOKEN, appendEvents, call, startFixture, type Fixture } from './helpers.js';

const haveChromium = chromiumPresent('dashboard review');
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 15_000 });
const OWN = 'otel-audit-server/test';

async function signIn(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.fill('#token', ADMIN_TOKEN);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#app:not([hidden])');
  await poll(() => page.textContent('#live-status')).toBe('connected');
}

const streams = (page: Page) => page.locator('#log-rows td:nth-child(8)').allTextContents();

describe.skipIf(!haveChromium)('dashboard review fixes in Chromium', () => {
  let browser: Browser;
  let fx: Fixture;

  beforeAll(async () => {
    fx = await startFixture(12, { pollIntervalMillis: 200 });
    ({ browser } = await launchBrowser());
  });

  afterAll(async () => {
    await browser?.close();
    await fx?.close();
  });

  it('leaves its own access records out of the log and Live by default, and brings them back with the checkbox', async () => {
    const page = await browser.newPage();
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    await signIn(page, fx.url);
    await poll(async () => (await streams(page)).length).toBe(12);
    expect(new Set(await streams(page))).toEqual(new Set(['svc/1']));
    expect(await page.isChecked('#include-own')).toBe(false);
    expect(await page.textContent('label.own')).toContain("include this server's access records");
    // Reads by another client arrive live as the server's access records: not shown; a service record is.
    for (let i = 0; i < 3; i++) expect((await call(fx, '/api/audit/stats', ADMIN_TOKEN)).status).toBe(200);
    appendEvents(fx.store, fx.chain, [{ id: createRecordId(), time: new Date(), type: 'crud', action: 'after-reads', actor: { id: 'carol' } }], false);
    await poll(() => page.textContent('#live')).toContain('crud/after-reads');
    await poll(() => page.locator('#live li.own').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#live li:not([hidden])', { hasText: 'access/' }).count()).toBe(0);
    expect(await page.textContent('#log-rows tr:first-child')).toContain('after-reads');
    // Ticked: the access records are in the log (stream column) and Live.
    await page.check('#include-own');
    await poll(async () => (await streams(page)).includes(OWN)).toBe(true);
    expect(await page.locator('#live li:not([hidden])', { hasText: 'access/view' }).count()).toBeGreaterThanOrEqual(3);
    // Reads leave it out with exclude_stream; the integrity check never does.
    expect(urls.some((u) => u.includes('/api/audit/logs?') && u.includes('exclude_stream='))).toBe(true);
    expect(urls.filter((u) => u.includes('/api/audit/integrity')).every((u) => !u.includes('exclude_stream'))).toBe(true);
    await page.close();
  });

  it('exports the current filters as CSV through a header-authenticated fetch', async () => {
    const page = await browser.newPage();
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    await signIn(page, fx.url);
    await page.fill('#filters input[name=type]', 'auth');
    await page.click('#filters button[type=submit]');
    await poll(async () => (await page.locator('#log-rows td:nth-child(2)').allTextContents()).every((t) => t === 'auth')).toBe(true);
    await page.selectOption('#export-format', 'csv');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    expect(download.suggestedFilename()).toMatch(/^audit-.*\.csv$/);
    const csv = fs.readFileSync((await download.path())!, 'utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toMatch(/^event_id,timestamp,stream,seq,event_type/);
    expect(lines.slice(1).map((l) => l.split(',')[4])).toEqual(Array(6).fill('auth'));
    expect(csv).not.toContain(OWN);
    await poll(() => page.textContent('#export-status')).toMatch(/saved audit-.*\.csv \(\d+ bytes\)/);
    expect(await page.isHidden('#export-purged')).toBe(true);
    expect(urls.filter((u) => u.includes(ADMIN_TOKEN))).toEqual([]);
    expect(urls.some((u) => u.includes('/api/audit/export?') && u.includes('type=auth') && u.includes('format=csv'))).toBe(true);
    await page.close();
  });

  it('shows long stream ids cut with an ellipsis and whole in the title, and fits an 800 px window', async () => {
    const long = `svc/${'very-long-stream-name-'.repeat(6)}end`;
    appendEvents(fx.store, new AuditChain({ stream: long }), [{ id: createRecordId(), time: new Date(), type: 'job', action: 'long-stream', actor: { id: 'cron' } }], false);
    const page = await browser.newPage({ viewport: { width: 800, height: 900 } });
    await signIn(page, fx.url);
    await page.fill('#filters input[name=type]', 'job');
    await page.click('#filters button[type=submit]');
    await poll(() => page.locator('#log-rows tr').count()).toBe(1);
    expect(await page.textContent('#log-table thead')).toContain('stream');
    const cell = page.locator('#log-rows td:nth-child(8)');
    expect(await cell.getAttribute('title')).toBe(long);
    expect(await cell.evaluate((n) => (n as unknown as { scrollWidth: number; clientWidth: number }).scrollWidth > (n as unknown as { clientWidth: number }).clientWidth)).toBe(true);
    const fits = await page.evaluate(() => {
      const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number }; getElementById(id: string): { getBoundingClientRect(): { right: number } } } }).document;
      return { page: d.documentElement.scrollWidth, table: d.getElementById('log-table').getBoundingClientRect().right };
    });
    expect(fits.page).toBeLessThanOrEqual(800);
    expect(fits.table).toBeLessThanOrEqual(800);
    await page.close();
  });

  it('says whom an alert is about, with its count, and opens its record by click or Enter', async () => {
    const id = createRecordId();
    appendEvents(fx.store, fx.chain, [{
      id, time: new Date(), type: 'alert', action: 'failed_logins', outcome: 'success', severity: 'critical', actor: { id: 'otel-audit', type: 'system' },
      target: { type: 'alert_rule', id: 'failed_logins' }, details: { group: { 'actor.id': 'mallory\u202E' }, count: 7, condition: 'count >= 5' },
    }], false);
    const page = await browser.newPage();
    await signIn(page, fx.url);
    const item = page.locator('#alerts li', { hasText: 'failed_logins' }).first();
    await poll(() => item.textContent()).toContain('actor.id: mallory\\u202E');
    expect(await item.textContent()).toContain('count 7');
    expect(await item.textContent()).not.toContain('otel-audit');
    await item.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('#details:not([hidden])');
    expect(await page.textContent('#meta-id')).toBe(id);
    await page.click('#close-details');
    await item.click();
    await page.waitForSelector('#details:not([hidden])');
    await page.close();
  });

  it('shows local times and says so, spans the chart over the whole window, and serves an icon', async () => {
    const context = await browser.newContext({ timezoneId: 'Asia/Kolkata', viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const failed: string[] = [];
    page.on('response', (r) => { if (r.status() >= 400) failed.push(r.url()); });
    await signIn(page, fx.url);
    expect(await page.textContent('#log-table thead th:first-child')).toBe('time (local)');
    expect(await page.textContent('#filters')).toContain('from (local time)');
    await page.fill('#filters input[name=type]', 'auth');
    await page.click('#filters button[type=submit]');
    await poll(async () => (await page.locator('#log-rows td:nth-child(2)').allTextContents()).every((t) => t === 'auth')).toBe(true);
    const first = page.locator('#log-rows tr:first-child td:first-child');
    const utc = (await first.getAttribute('title'))!;
    const ist = new Date(Date.parse(utc.slice(0, 23) + 'Z') + 5.5 * 3_600_000).toISOString().slice(0, 23).replace('T', ' ');
    expect(await first.textContent()).toBe(ist);
    // 24 hours: the seeded records lie in the last two hours, so the bars sit at the right end.
    await page.selectOption('#window', '24');
    await poll(() => page.locator('#chart-svg rect.bar').count()).toBeGreaterThan(0);
    const xs = (await page.locator('#chart-svg rect.bar').evaluateAll((ns) => ns.map((n) => Number((n as unknown as { getAttribute(a: string): string }).getAttribute('x')))));
    expect(Math.min(...xs)).toBeGreaterThan(700);
    const start = (await page.textContent('#chart-svg .axis-start'))!;
    const startMs = Date.parse(`${start.replace(' ', 'T')}:00+05:30`);
    expect(Math.abs(startMs - (Date.now() - 24 * 3_600_000))).toBeLessThan(10 * 60_000);
    expect(await page.getAttribute('link[rel=icon]', 'href')).toBe('/favicon.svg');
    const icon = await call(fx, '/favicon.svg');
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(failed).toEqual([]);
    await context.close();
  });
});
