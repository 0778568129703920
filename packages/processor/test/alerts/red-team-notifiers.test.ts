import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { AuditLogRecordProcessor, InMemoryAuditSink } from '../../src/index.js';
import { AlertEngine } from '../../src/alerts/alert-engine.js';
import { ACTION_ALERT_NOTIFY_FAILED, alertNotifyFailureEvent, createAlertHook } from '../../src/alerts/alert-hook.js';
import { KEYS } from '../helpers.js';
import { AlertDispatcher } from '../../src/alerts/alert-dispatcher.js';
import type { AlertEvent } from '../../src/alerts/alert-event.js';
import { CallbackNotifier } from '../../src/alerts/callback-notifier.js';
import { ConsoleNotifier } from '../../src/alerts/console-notifier.js';
import { AlertNotifyError } from '../../src/alerts/errors.js';
import { WebhookNotifier } from '../../src/alerts/webhook-notifier.js';

const SECRET = 'a-webhook-secret-of-32-bytes-ok!';

const alert = (n = 0): AlertEvent => ({
  id: `019b8b7d-5348-7359-9f7f-71c5c8b60b${String(n).padStart(2, '0')}`, rule: 'failed_logins', severity: 'warning', description: 'd', condition: 'count >= 5',
  group: { 'actor.id': 'alice' }, count: 5, window: '5m', window_ms: 300_000, first_time: '1', last_time: '2', record_ids: ['x'], omitted_record_ids: 0, stream: 's',
});

const servers: http.Server[] = [];
const providers: LoggerProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); })));
});

/** Settles with the promise's outcome, or 'still pending' after `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'still pending'> {
  return Promise.race([p, new Promise<'still pending'>((r) => setTimeout(() => r('still pending'), ms))]);
}

describe('WebhookNotifier at shutdown', () => {
  it('gives up at once when shut down while an attempt is in flight whose answer asks to retry later', async () => {
    // The receiver answers 503 with Retry-After: 100 (seconds), 300 ms after the request.
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => setTimeout(() => res.writeHead(503, { 'retry-after': '100' }).end(), 300));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    const webhook = new WebhookNotifier({ url, allowedUrls: [url], secret: SECRET });
    const delivery = webhook.notify(alert()).then(() => 'delivered', (e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    await webhook.shutdown();
    const outcome = await within(delivery, 2000);
    expect(outcome).toBeInstanceOf(AlertNotifyError);
    expect((outcome as AlertNotifyError).message).toMatch(/shut down before delivery \(HTTP 503\)/);
  });
});

describe('AlertDispatcher isolation of notifiers', () => {
  it('a notifier that never answers does not use up the pending deliveries of the others', async () => {
    const errors: AlertNotifyError[] = [];
    const delivered: string[] = [];
    const dispatcher = new AlertDispatcher({
      notifiers: [{ name: 'hung', notify: () => new Promise<void>(() => undefined) }, new CallbackNotifier((a) => void delivered.push(a.id), { name: 'ok' })],
      maxPendingDeliveries: 2,
      onError: (e) => errors.push(e),
    });
    for (let i = 0; i < 5; i++) {
      dispatcher.dispatch(alert(i));
      await new Promise((r) => setImmediate(r));
    }
    expect(delivered).toHaveLength(5);
    // What the hung notifier could not take is dropped, counted and reported, naming it.
    expect(errors.map((e) => [e.code, e.notifier])).toEqual(Array.from({ length: 3 }, () => ['AUDIT_ALERT_QUEUE_FULL', 'hung']));
    expect(dispatcher.counts).toEqual({ delivered: 5, failed: 0, dropped: 3 });
    expect(dispatcher.pending).toBe(2);
  });
});

describe('Notifier failures and alert rules', () => {
  it('a failing notifier does not feed a rule on failures: no alert → failure record → alert loop', async () => {
    const sink = new InMemoryAuditSink();
    let logger!: ReturnType<LoggerProvider['getLogger']>;
    // (Failing a few ms later, and a small cap: without the fix the loop doubles every round — with
    // synchronous failures it never yields to the event loop again — and this test must end.)
    const down = () => new Promise<void>((_, reject) => setTimeout(() => reject(new Error('pager down')), 5));
    const dispatcher = new AlertDispatcher({
      notifiers: [new CallbackNotifier(down, { name: 'pager' }), new CallbackNotifier(down, { name: 'chat' })],
      maxPendingDeliveries: 20,
      onError: (e) => logger.emit({ body: alertNotifyFailureEvent(e) as never }),
    });
    // A plausible user rule: tell me about every failed operation.
    const engine = new AlertEngine({ rules: [{ name: 'any_failure', match: { outcome: 'failure' }, condition: 'count >= 1' }] });
    const processor = new AuditLogRecordProcessor({ stream: 'loop/1', signerKey: KEYS.signerKey, sinks: [sink], flushIntervalMillis: 10, onSealed: createAlertHook({ engine, dispatcher }) });
    const provider = new LoggerProvider({ processors: [processor] });
    providers.push(provider);
    logger = provider.getLogger('otel-audit');
    logger.emit({ body: { type: 'app', action: 'deploy', outcome: 'failure', actor: { id: 'ci', type: 'service' } } as never });
    await new Promise((r) => setTimeout(r, 200));
    await provider.forceFlush();
    const records = sink.records.map((r) => r.record);
    // One alert for the failed deploy, and its two failed deliveries recorded; nothing more.
    expect(records.filter((r) => r.type === 'alert')).toHaveLength(1);
    expect(records.filter((r) => r.action === ACTION_ALERT_NOTIFY_FAILED)).toHaveLength(2);
  });
});

/** What the console notifier writes to stderr for `alert`: its text line, then its JSON line. */
async function consoleLines(alert: AlertEvent): Promise<string[]> {
  const lines: string[] = [];
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => lines.push(String(chunk)) > 0);
  try {
    await new ConsoleNotifier().notify(alert);
    await new ConsoleNotifier({ format: 'json' }).notify(alert);
  } finally {
    write.mockRestore();
  }
  return lines;
}

describe('ConsoleNotifier against an account name an attacker chose', () => {
  it('escapes bidi overrides, C1 controls and line separators in text and JSON lines', async () => {
    const name = 'mallory\u202e]gninraw[ trela \u009b31m\u2028otel-audit alert [info] ok\u{e0041}';
    const hostile: AlertEvent = { ...alert(), group: { 'actor.id': name } };
    const [text, json] = await consoleLines(hostile);
    for (const line of [text!, json!]) {
      expect(line).not.toMatch(/[\u0080-\u009f\u2028\u202e\u{e0041}]/u);
      expect(line).toContain('\\u202e');
      expect(line.endsWith('\n') && line.indexOf('\n') === line.length - 1).toBe(true);
    }
    expect(JSON.parse(json!)).toEqual(hostile);
  });

  it('escapes C0 controls and lone surrogates in the text line, wherever they come from', async () => {
    const hostile: AlertEvent = { ...alert(), description: 'five fails\u001b[2J\nfake line', group: { 'actor.id': 'eve\ud800' } };
    const [text, json] = await consoleLines(hostile);
    expect(text).toContain('five fails\\u001b[2J\\nfake line');
    expect(text).toContain('"actor.id":"eve\\ud800"');
    // eslint-disable-next-line no-control-regex
    for (const line of [text!, json!]) expect(line.slice(0, -1)).not.toMatch(/[\u0000-\u001f\p{Cs}]/u);
    expect(JSON.parse(json!)).toEqual(hostile);
  });
});
