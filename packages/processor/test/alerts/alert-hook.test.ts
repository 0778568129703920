import { afterEach, describe, expect, it } from 'vitest';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { AuditChain } from '@otel-audit/core';
import { AuditLogRecordProcessor, InMemoryAuditSink } from '../../src/index.js';
import { AlertDispatcher } from '../../src/alerts/alert-dispatcher.js';
import { AlertEngine } from '../../src/alerts/alert-engine.js';
import { ACTION_ALERT_NOTIFY_FAILED, alertNotifyFailureEvent, createAlertHook } from '../../src/alerts/alert-hook.js';
import { builtinAlertRules } from '../../src/alerts/builtin-rules.js';
import { CallbackNotifier } from '../../src/alerts/callback-notifier.js';
import type { AlertEvent } from '../../src/alerts/alert-event.js';
import { AlertNotifyError } from '../../src/alerts/errors.js';
import { KEYS, until, verifySink } from '../helpers.js';
import { failedLogin } from './helpers.js';

const providers: LoggerProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
});

describe('createAlertHook', () => {
  it('returns nothing for a quiet record and the alert events otherwise, dispatching each alert', async () => {
    const delivered: AlertEvent[] = [];
    const dispatcher = new AlertDispatcher({ notifiers: [new CallbackNotifier((a) => void delivered.push(a))] });
    const hook = createAlertHook({ engine: new AlertEngine({ rules: builtinAlertRules({ bruteForceSuccess: false }) }), dispatcher });
    for (let i = 0; i < 4; i++) expect(hook(failedLogin('eve', '192.0.2.9', i))).toBeUndefined();
    const events = hook(failedLogin('eve', '192.0.2.9', 4))!;
    expect(events.map((e) => [e.type, e.action])).toEqual([['alert', 'failed_logins'], ['alert', 'failed_logins_by_ip']]);
    expect(delivered).toEqual([]); // notifiers run later
    await dispatcher.flush();
    expect(delivered.map((a) => a.id)).toEqual(events.map((e) => e.id));
    expect(() => createAlertHook({ engine: {} as AlertEngine })).toThrow(/^options\.engine must be/);
  });

  it('records a notifier failure as a system/alert_notify_failed event that seals', () => {
    const error = new AlertNotifyError('AUDIT_ALERT_NOTIFY_FAILED', 'webhook', { rule: 'failed_logins', id: '019b8b7d-5348-7359-9f7f-71c5c8b60bf2' }, 4, 'webhook https://h.example did not accept …');
    const event = alertNotifyFailureEvent(error, 1_767_571_200_000);
    const sealed = new AuditChain({ stream: 's/1' }).append(event);
    expect(sealed.record).toMatchObject({
      type: 'system', action: ACTION_ALERT_NOTIFY_FAILED, outcome: 'failure', severity: 'error', time: '1767571200000000000',
      target: { type: 'alert', id: error.alertId, name: 'failed_logins' },
      details: { code: 'AUDIT_ALERT_NOTIFY_FAILED', notifier: 'webhook', rule: 'failed_logins', alert_id: error.alertId, attempts: 4 },
    });
  });

  it('wired into AuditLogRecordProcessor.onSealed: alerts are sealed in the same chain and a failing notifier is recorded', async () => {
    const sink = new InMemoryAuditSink();
    let logger!: ReturnType<LoggerProvider['getLogger']>;
    const dispatcher = new AlertDispatcher({
      notifiers: [new CallbackNotifier(() => { throw new Error('pager down'); }, { name: 'pager' })],
      onError: (e) => logger.emit({ body: alertNotifyFailureEvent(e) as never }),
    });
    const processor = new AuditLogRecordProcessor({
      stream: 'alerts/1', signerKey: KEYS.signerKey, sinks: [sink], flushIntervalMillis: 20,
      onSealed: createAlertHook({ engine: new AlertEngine({ rules: builtinAlertRules({ bruteForceSuccess: false }) }), dispatcher }),
    });
    const provider = new LoggerProvider({ processors: [processor] });
    providers.push(provider);
    logger = provider.getLogger('otel-audit');
    for (let i = 0; i < 5; i++) logger.emit({ body: { type: 'auth', action: 'login', outcome: 'failure', actor: { id: 'mallory', type: 'user', ip: '198.51.100.23' } } as never });
    await dispatcher.flush();
    await until(() => sink.records.filter((r) => r.record.action === ACTION_ALERT_NOTIFY_FAILED).length === 2);
    await provider.forceFlush();
    const records = sink.records.map((r) => r.record);
    const logins = records.filter((r) => r.type === 'auth');
    const alerts = records.filter((r) => r.type === 'alert');
    expect(alerts.map((r) => r.action)).toEqual(['failed_logins', 'failed_logins_by_ip']);
    // Sealed right after the fifth failure, listing the five.
    expect(alerts[0]!.seq).toBe(logins[4]!.seq + 1);
    expect((alerts[0]!.details as { record_ids: string[] }).record_ids).toEqual(logins.map((r) => r.id));
    const failures = records.filter((r) => r.action === ACTION_ALERT_NOTIFY_FAILED);
    expect(failures.map((r) => r.target?.id).sort()).toEqual(alerts.map((r) => r.id).sort());
    const report = verifySink(sink);
    expect(report.streams.every((s) => s.errors === 0)).toBe(true);
  });
});
