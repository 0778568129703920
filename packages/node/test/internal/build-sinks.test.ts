/**
 * The alert hook's shutdown (src/internal/build-sinks.ts `stopAlertDelivery`):
 * a webhook answering 503 with a long Retry-After cannot hold the pipeline's
 * shutdown past `delivery.shutdown_timeout`. The final signed checkpoint and
 * `pipeline_stopped` are written in time, the notification given up is said
 * on onWarning and recorded as `alert_notify_failed`; the alert itself is in
 * the chain. A notifier that never answers at all is abandoned at the end of
 * the budget by the dispatcher's own shutdown timeout, and recorded the same way.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring, generateNoteKey } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { AlertDispatcher, type AlertEvent, type AlertNotifyError } from '@otel-audit/processor';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startAudit } from '../../src/index.js';
import { stopAlertDelivery } from '../../src/internal/build-sinks.js';

const keys = generateNoteKey('build-sinks-test');
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('shutdown while an alert webhook is retrying', () => {
  it('ends within delivery.shutdown_timeout, with the final checkpoint and pipeline_stopped written, and says what it gave up', async () => {
    let posts = 0;
    const hook: Server = createServer((req, res) => {
      posts++;
      req.resume();
      req.on('end', () => res.writeHead(503, { 'retry-after': '10' }).end());
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => {
      hook.closeAllConnections();
      hook.close(() => r());
    }));
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-build-sinks-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'signer.key'), `${keys.signerKey}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'otel-config.yaml'), [
      'receivers:',
      '  api: {}',
      'processors:',
      '  alerts:',
      '    builtins: { failed_logins: 1 }',
      `    notifiers: [ { type: webhook, url: "http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook", secret_env: HOOK_SECRET, max_attempts: 2 } ]`,
      '  chain: { stream: build-sinks/1, signer_key_file: ./signer.key, delivery: { batch_size: 1, flush_interval: 10ms, shutdown_timeout: 2s } }',
      'exporters:',
      '  sqlite: { path: ./audit.db }',
      'service:',
      '  pipelines:',
      '    audit: { receivers: [api], processors: [alerts, chain], exporters: [sqlite] }',
    ].join('\n'));
    const lines: string[] = [];
    const handle = await startAudit({ path: join(dir, 'otel-config.yaml'), env: { HOOK_SECRET: 'h'.repeat(32) } }, { registerGlobal: false, onWarning: (m) => lines.push(m) });
    await handle.audit.login({ actor: 'mallory', outcome: 'failure' });
    const end = Date.now() + 5_000;
    while (posts === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(posts).toBe(1); // the first attempt was answered 503; the next waits 10 s

    const started = Date.now();
    await handle.shutdown();
    // Without the bound it waits out every Retry-After (over 10 s); a wide margin over the 2 s timeout.
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(lines).toEqual([expect.stringMatching(/^otel-audit: 1 alert notification not delivered within the shutdown timeout \(2000 ms, processors\.chain\.delivery\.shutdown_timeout\) given up, recorded as system\/alert_notify_failed; the alerts themselves are in the audit chain/)]);

    const store = new SqliteAuditStore(join(dir, 'audit.db'));
    try {
      const report = await store.verify({ keyring: Keyring.from([keys.verifierKey]) });
      expect(report).toMatchObject({ ok: true, errors: 0, warnings: 0 });
      const actions = (store.database.prepare('SELECT event_action FROM audit_logs ORDER BY seq').all() as { event_action: string }[]).map((r) => r.event_action);
      expect(actions).toContain('failed_logins');
      expect(actions.slice(-2)).toEqual(['alert_notify_failed', 'pipeline_stopped']);
    } finally {
      store.close();
    }
  }, 20_000);
});

describe('stopAlertDelivery', () => {
  it('ends within the budget when a notifier never settles, and the abandoned delivery goes to onError (which the pipeline seals as alert_notify_failed)', async () => {
    const failures: AlertNotifyError[] = [];
    const dispatcher = new AlertDispatcher({ notifiers: [{ name: 'pager', notify: () => new Promise<void>(() => {}) }], onError: (e) => failures.push(e) });
    dispatcher.dispatch({ id: 'alert-1', rule: 'failed_logins', severity: 'warning' } as AlertEvent);
    const lines: string[] = [];
    const started = Date.now();
    await stopAlertDelivery(dispatcher, 300, (line) => lines.push(line));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(failures.map((e) => [e.code, e.notifier, e.alertId])).toEqual([['AUDIT_ALERT_NOTIFY_FAILED', 'pager', 'alert-1']]);
    expect(failures[0]!.message).toMatch(/abandoned; 1 delivery abandoned \("pager": 1\)$/);
    expect(lines).toEqual([expect.stringMatching(/^otel-audit: 1 alert notification not delivered within the shutdown timeout \(300 ms, .*\) given up, recorded as system\/alert_notify_failed;/)]);
  });
  it('keeps to the budget when the wall clock steps back an hour during shutdown', async () => {
    const failures: AlertNotifyError[] = [];
    const dispatcher = new AlertDispatcher({ notifiers: [{ name: 'hung-webhook', notify: () => new Promise<void>(() => {}) }], onError: (e) => failures.push(e) });
    dispatcher.dispatch({ id: 'alert-1', rule: 'failed_logins', severity: 'warning' } as AlertEvent);
    const real = Date.now.bind(Date);
    let stepMillis = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => real() + stepMillis);
    const step = setTimeout(() => { stepMillis = -3_600_000; }, 500); // NTP steps the clock back 1 h
    cleanup.push(() => clearTimeout(step));
    const started = performance.now();
    const lines: string[] = [];
    // Without the monotonic clock the second half of the budget is 1 h long: give up waiting after 6 s.
    const outcome = await Promise.race([
      stopAlertDelivery(dispatcher, 2_000, (line) => lines.push(line)).then(() => 'returned'),
      new Promise((r) => setTimeout(r, 6_000).unref()).then(() => `still running after ${Math.round(performance.now() - started)} ms`),
    ]);
    expect(outcome).toBe('returned');
    expect(performance.now() - started).toBeLessThan(3_500);
    expect(failures.map((e) => e.notifier)).toEqual(['hung-webhook']);
    expect(lines).toHaveLength(1);
  }, 10_000);
});
