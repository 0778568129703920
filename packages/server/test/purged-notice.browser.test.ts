/**
 * The dashboard's purged-records notice in a real browser (DESIGN §6
 * retention): when the log's window reaches records that retention purged,
 * a one-line notice above the table names the stream, the purged seq range
 * and the archive holding it; over a window of live records only it is
 * hidden. Debian's Chromium driven by playwright-core against the real
 * server over a real store purged by its own retention.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { chromiumPresent, launchBrowser } from './browser.js';
import { AuditChain } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { createAuditServer, type AuditServer } from '../src/index.js';
import { ADMIN_TOKEN, appendEvents, keys, seededEvent, STREAM, TOKENS } from './helpers.js';

const haveChromium = chromiumPresent('purged-notice');
describe.skipIf(!haveChromium)('dashboard purged-records notice in Chromium', () => {
  let dir: string;
  let store: SqliteAuditStore;
  let server: AuditServer;
  let url: string;
  let archiveId: number;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-server-'));
    store = new SqliteAuditStore(path.join(dir, 'audit.db'));
    const chain = new AuditChain({ stream: STREAM });
    // 20 records about 4 hours old, signed at size 20, then 5 from the last minutes.
    appendEvents(store, chain, Array.from({ length: 20 }, (_, i) => seededEvent(i, 240 - i)));
    appendEvents(store, chain, Array.from({ length: 5 }, (_, i) => seededEvent(20 + i, 5 - i)));
    const before = new Date(Date.now() - 2 * 3_600_000);
    archiveId = store.archive({ olderThan: before })[0]!.archiveId;
    expect(await store.purge({ olderThan: before })).toMatchObject([{ stream: STREAM, firstSeq: 0, lastSeq: 19 }]);
    server = createAuditServer({ store, tokens: TOKENS, verifierKeys: [keys.verifierKey], signerKey: keys.signerKey, stream: 'otel-audit-server/test' });
    ({ url } = await server.listen(0));
    ({ browser, page } = await launchBrowser());
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows the notice while the window reaches the purged records, and hides it over live records only', async () => {
    await page.goto(url);
    await page.fill('#token', ADMIN_TOKEN);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#app:not([hidden])');
    // The default window (7 days) reaches the purged records.
    const notice = page.locator('#logs-purged');
    await expect.poll(() => notice.isVisible(), { timeout: 15_000 }).toBe(true);
    const text = await notice.textContent();
    expect(text).toContain(`${STREAM} seq 0..19`);
    expect(text).toContain('was purged by retention');
    expect(text).toContain(`archive(s) ${archiveId}.`);
    // The last hour holds live records only.
    await page.selectOption('#window', '1');
    await expect.poll(() => notice.isVisible(), { timeout: 15_000 }).toBe(false);
    await expect.poll(async () => page.locator('#log-rows tr').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    // And back: the notice returns.
    await page.selectOption('#window', '168');
    await expect.poll(() => notice.isVisible(), { timeout: 15_000 }).toBe(true);
    // An export over the same window says so too (its Audit-Purged header), and saves the records kept.
    await page.selectOption('#export-format', 'ndjson');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const streams = fs.readFileSync((await download.path())!, 'utf8').trim().split('\n').map((l) => JSON.parse(l).record.stream as string);
    // The 5 kept and the purge record the store wrote in the stream; none of the server's own.
    expect(streams.filter((s) => s === STREAM)).toHaveLength(6);
    expect(streams).not.toContain('otel-audit-server/test');
    await expect.poll(() => page.isVisible('#export-purged'), { timeout: 15_000 }).toBe(true);
    expect(await page.textContent('#export-purged')).toContain(`${STREAM} seq 0..19`);
  });
});
