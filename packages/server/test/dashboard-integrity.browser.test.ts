/**
 * What the compliance reviewer and the analyst see of integrity and
 * navigation in a real browser (Debian's Chromium driven by playwright-core,
 * a real server over a real SQLite store): a window with a stream no trusted
 * checkpoint vouches for reads "not verified", never "intact", and says why
 * on the page; tampering is listed finding by finding; a record whose columns
 * were edited says so in its details, opened from the keyboard and brought
 * into view; pages go back one at a time; and the live stream comes back by
 * itself after the server was stopped and started again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { chromiumPresent, launchBrowser } from './browser.js';
import { AuditChain, createRecordId } from '@otel-audit/core';
import { createAuditServer } from '../src/index.js';
import { ADMIN_TOKEN, keys, startFixture, TOKENS, type Fixture } from './helpers.js';

const haveChromium = chromiumPresent('dashboard integrity');
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 15_000 });

async function signIn(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.fill('#token', ADMIN_TOKEN);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#app:not([hidden])');
}

describe.skipIf(!haveChromium)('dashboard integrity and navigation in Chromium', () => {
  let browser: Browser;
  const open: Fixture[] = [];
  const fixture = async (n: number, options: Parameters<typeof startFixture>[1] = {}) => {
    const fx = await startFixture(n, { pollIntervalMillis: 200, ...options });
    open.push(fx);
    return fx;
  };

  beforeAll(async () => {
    ({ browser } = await launchBrowser());
  });

  afterAll(async () => {
    await browser?.close();
    for (const fx of open) await fx.close();
  });

  it('calls a window with a stream no trusted checkpoint vouches for "not verified", and names the stream on the page', async () => {
    // The server's own checkpoints an hour apart: its access records of the sign-in must not count against the window either.
    const fx = await fixture(20, { checkpointIntervalMillis: 3_600_000 });
    const unsigned = new AuditChain({ stream: 'batch/unsigned' });
    fx.store.appendSync({ records: Array.from({ length: 5 }, (_, i) => unsigned.append({ id: createRecordId(), time: new Date(Date.now() - 60_000 + i), type: 'job', action: 'run' })), checkpoints: [] });
    const page = await browser.newPage();
    await signIn(page, fx.url);
    await poll(() => page.textContent('#integrity')).toContain('not verified');
    expect(await page.getAttribute('#integrity', 'class')).toContain('badge-warn');
    expect(await page.textContent('#integrity')).not.toContain('intact');
    expect(await page.isVisible('#integrity-panel')).toBe(true);
    const findings = await page.locator('#integrity-findings li').allTextContents();
    expect(findings).toHaveLength(1);
    expect(findings[0]).toContain('"batch/unsigned"');
    await page.close();
  });

  it('says intact for a signed window right after sign-in, with the panel closed until the badge is pressed', async () => {
    const fx = await fixture(20, { checkpointIntervalMillis: 3_600_000 });
    const page = await browser.newPage();
    await signIn(page, fx.url);
    await poll(() => page.textContent('#integrity')).toContain('intact');
    expect(await page.getAttribute('#integrity', 'class')).toContain('badge-ok');
    expect(await page.isHidden('#integrity-panel')).toBe(true);
    await page.click('#integrity');
    expect(await page.isVisible('#integrity-panel')).toBe(true);
    expect(await page.getAttribute('#integrity', 'aria-expanded')).toBe('true');
    await page.close();
  });

  it('lists each tampering finding with its seq, and flags the edited record in details opened from the keyboard', async () => {
    const fx = await fixture(30);
    const db = fx.store.database;
    for (const name of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all() as string[]) db.exec(`DROP TRIGGER "${name}"`);
    // Who failed to log in is rewritten; the checksum column is left as signed.
    db.prepare("UPDATE audit_logs SET actor_id = 'nobody' WHERE stream = 'svc/1' AND seq = 25").run();
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await signIn(page, fx.url);
    await poll(() => page.getAttribute('#integrity', 'class')).toContain('badge-bad');
    expect(await page.isVisible('#integrity-panel')).toBe(true);
    await poll(() => page.textContent('#integrity-findings')).toContain('hash_mismatch · svc/1 seq 25');

    await page.fill('#filters input[name=actor]', 'nobody');
    await page.click('#filters button[type=submit]');
    await poll(() => page.locator('#log-rows tr').count()).toBe(1);
    await page.locator('#log-rows tr').first().focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('#details:not([hidden])');
    // Brought into view with focus on its heading: the panel sits below the log.
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id)).toBe('details-title');
    const top = (await page.locator('#details').boundingBox())!.y;
    expect(top).toBeGreaterThanOrEqual(0);
    expect(top).toBeLessThan(1000);
    await poll(() => page.textContent('#meta-inclusion')).toContain('EDITED');
    expect(await page.getAttribute('#meta-inclusion', 'class')).toBe('included-no');
    await page.close();
  });

  it('goes back one page at a time', async () => {
    const fx = await fixture(130);
    const page = await browser.newPage();
    await signIn(page, fx.url);
    await page.fill('#filters input[name=type]', 'crud');
    await page.click('#filters button[type=submit]');
    await poll(async () => (await page.locator('#log-rows td:nth-child(2)').allTextContents()).every((t) => t === 'crud')).toBe(true);
    expect(await page.isDisabled('#prev-page')).toBe(true);
    const seqOf = () => page.locator('#log-rows tr:first-child td:nth-child(9)').textContent();
    await page.click('#next-page');
    await poll(() => page.textContent('#page-info')).toContain('page 2');
    const second = await seqOf();
    await page.click('#next-page');
    await poll(() => page.textContent('#page-info')).toContain('page 3');
    await page.click('#prev-page');
    await poll(() => page.textContent('#page-info')).toContain('page 2');
    expect(await seqOf()).toBe(second);
    // Cleared, one page on and back: the first page again, not a page browsed before the reset.
    await page.click('#filters button[type=reset]');
    await poll(() => page.textContent('#page-info')).toContain('page 1');
    const first = await seqOf();
    await page.click('#next-page');
    await poll(() => page.textContent('#page-info')).toContain('page 2');
    await page.click('#prev-page');
    await poll(() => page.textContent('#page-info')).toContain('page 1');
    await poll(seqOf).toBe(first);
    await page.close();
  });

  it('keeps reconnecting the live stream while the server is down, and is live again when it is back', async () => {
    const fx = await fixture(10);
    const page = await browser.newPage();
    await signIn(page, fx.url);
    await poll(() => page.textContent('#live-status')).toBe('connected');
    const port = Number(new URL(fx.url).port);
    await fx.server.close();
    await poll(() => page.textContent('#live-status')).toContain('cannot reach the otel-audit server');
    expect(await page.textContent('#live-status')).toMatch(/retrying in \d+ s/);
    const again = createAuditServer({ store: fx.store, tokens: TOKENS, verifierKeys: [keys.verifierKey], signerKey: keys.signerKey, stream: 'otel-audit-server/test' });
    try {
      await again.listen(port);
      await expect.poll(() => page.textContent('#live-status'), { timeout: 30_000 }).toBe('connected');
    } finally {
      await again.close();
    }
    await page.close();
  });
});
