/**
 * Debian's Chromium for the dashboard's browser tests, driven by
 * playwright-core: where it is, whether it is there (on CI a missing
 * browser is a failure, not a skip: .ci/run installs it), and a headless
 * launch with one page.
 */
import * as fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * Whether Chromium is installed; says why a test file is skipped when not.
 * Throws on CI, where .ci/run installs it.
 *
 * @example
 * describe.skipIf(!chromiumPresent('dashboard'))('dashboard in Chromium', () => { … });
 */
export function chromiumPresent(what: string): boolean {
  const have = fs.existsSync(CHROMIUM);
  if (!have && process.env['CI'] !== undefined && process.env['CI'] !== '') {
    throw new Error(`${CHROMIUM} is missing on CI: .ci/run installs it with apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  if (!have) console.warn(`${what} browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
  return have;
}

/** Headless Chromium and a 1400×1000 page. */
export async function launchBrowser(): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return { browser, page: await browser.newPage({ viewport: { width: 1400, height: 1000 } }) };
}
