import { describe, expect, it, vi } from 'vitest';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { AlertDispatcher } from '../../src/alerts/alert-dispatcher.js';
import { CallbackNotifier } from '../../src/alerts/callback-notifier.js';
import { ConsoleNotifier, formatAlertLine } from '../../src/alerts/console-notifier.js';
import { AlertNotifyError } from '../../src/alerts/errors.js';
import type { AlertEvent } from '../../src/alerts/alert-event.js';
import type { AlertNotifier } from '../../src/alerts/alert-notifier.js';

const alert = (rule = 'config_changes', severity: 'warning' | 'critical' = 'warning'): AlertEvent => ({
  id: '019b8b7d-5348-7359-9f7f-71c5c8b60bf2', rule, severity, description: 'An administrative change', condition: 'count >= 1',
  group: { 'actor.id': 'ops' }, count: 1, window: '1m', window_ms: 60_000, first_time: '1', last_time: '1', record_ids: ['r'], omitted_record_ids: 0, stream: 's',
});

describe('AlertDispatcher', () => {
  it('returns before any notifier runs and delivers to every notifier', async () => {
    const seen: string[] = [];
    const dispatcher = new AlertDispatcher({ notifiers: [new CallbackNotifier((a) => void seen.push(`one:${a.rule}`)), new CallbackNotifier(async (a) => void seen.push(`two:${a.rule}`), { name: 'two' })] });
    dispatcher.dispatch(alert());
    expect(seen).toEqual([]);
    expect(dispatcher.pending).toBe(2);
    await dispatcher.flush();
    expect(seen.sort()).toEqual(['one:config_changes', 'two:config_changes']);
    expect(dispatcher.counts).toEqual({ delivered: 2, failed: 0, dropped: 0 });
  });

  it('reports a throwing or rejecting notifier through onError and never throws', async () => {
    const errors: AlertNotifyError[] = [];
    const delivered: string[] = [];
    const dispatcher = new AlertDispatcher({
      notifiers: [
        new CallbackNotifier(() => { throw new Error('sync boom'); }, { name: 'sync' }),
        { name: 'async', notify: async () => { throw new Error('async boom'); } },
        { name: 'not-a-promise', notify: (() => { throw new Error('raw throw'); }) as unknown as AlertNotifier['notify'] },
        new CallbackNotifier((a) => void delivered.push(a.id)),
      ],
      onError: (e) => {
        errors.push(e);
        throw new Error('onError itself throws');
      },
    });
    expect(() => dispatcher.dispatch(alert())).not.toThrow();
    await dispatcher.flush();
    expect(delivered).toHaveLength(1);
    errors.sort((a, b) => a.notifier.localeCompare(b.notifier));
    expect(errors.map((e) => [e.code, e.notifier, e.rule, e.alertId])).toEqual([
      ['AUDIT_ALERT_NOTIFY_FAILED', 'async', 'config_changes', alert().id],
      ['AUDIT_ALERT_NOTIFY_FAILED', 'not-a-promise', 'config_changes', alert().id],
      ['AUDIT_ALERT_NOTIFY_FAILED', 'sync', 'config_changes', alert().id],
    ]);
    expect(dispatcher.counts).toEqual({ delivered: 1, failed: 3, dropped: 0 });
    expect(errors[2]!.message).toMatch(/notifier "sync" failed to deliver alert config_changes .*: sync boom/);
    expect((errors[2]!.cause as Error).message).toBe('sync boom');
  });

  it('drops and reports deliveries beyond maxPendingDeliveries and after shutdown', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const errors: AlertNotifyError[] = [];
    const dispatcher = new AlertDispatcher({ notifiers: [{ name: 'slow', notify: () => gate }], maxPendingDeliveries: 2, onError: (e) => errors.push(e) });
    for (let i = 0; i < 5; i++) dispatcher.dispatch(alert());
    expect(dispatcher.pending).toBe(2);
    expect(errors.map((e) => e.code)).toEqual(['AUDIT_ALERT_QUEUE_FULL', 'AUDIT_ALERT_QUEUE_FULL', 'AUDIT_ALERT_QUEUE_FULL']);
    release();
    await dispatcher.shutdown();
    await dispatcher.shutdown(); // idempotent
    dispatcher.dispatch(alert());
    expect(errors.at(-1)!.message).toMatch(/shut down/);
    expect(dispatcher.counts).toEqual({ delivered: 2, failed: 0, dropped: 4 });
  });

  it('shutdown resolves at timeoutMillis when a notifier never settles, and reports each abandoned delivery with the count and the notifiers', async () => {
    const errors: AlertNotifyError[] = [];
    const delivered: string[] = [];
    const dispatcher = new AlertDispatcher({
      notifiers: [
        { name: 'hung', notify: () => new Promise<void>(() => {}) },
        { name: 'hung-shutdown', notify: () => new Promise<void>(() => {}), shutdown: () => new Promise<void>(() => {}) },
        new CallbackNotifier((a) => void delivered.push(a.id)),
      ],
      onError: (e) => errors.push(e),
    });
    dispatcher.dispatch(alert());
    dispatcher.dispatch(alert('failed_logins', 'critical'));
    const started = Date.now();
    await dispatcher.shutdown({ timeoutMillis: 200 });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(2_000);
    expect(delivered).toHaveLength(2);
    expect(errors.map((e) => [e.code, e.notifier, e.rule]).sort()).toEqual([
      ['AUDIT_ALERT_NOTIFY_FAILED', 'hung', 'config_changes'],
      ['AUDIT_ALERT_NOTIFY_FAILED', 'hung', 'failed_logins'],
      ['AUDIT_ALERT_NOTIFY_FAILED', 'hung-shutdown', 'config_changes'],
      ['AUDIT_ALERT_NOTIFY_FAILED', 'hung-shutdown', 'failed_logins'],
    ]);
    for (const e of errors) expect(e.message).toMatch(/within the shutdown timeout \(200 ms\): abandoned; 4 deliveries abandoned \("hung": 2, "hung-shutdown": 2\)$/);
    expect(dispatcher.pending).toBe(0);
    expect(dispatcher.counts).toEqual({ delivered: 2, failed: 4, dropped: 0 });
    await dispatcher.shutdown({ timeoutMillis: 10_000 }); // idempotent: the same, finished shutdown
    expect(errors).toHaveLength(4);
  });

  it('shutdown reports nothing when deliveries settle within timeoutMillis, and ignores a late outcome after abandoning', async () => {
    const errors: AlertNotifyError[] = [];
    const slow = new AlertDispatcher({ notifiers: [{ name: 'slow', notify: () => new Promise<void>((r) => setTimeout(r, 50)) }], onError: (e) => errors.push(e) });
    slow.dispatch(alert());
    await slow.shutdown({ timeoutMillis: 2_000 });
    expect(errors).toEqual([]);
    expect(slow.counts).toEqual({ delivered: 1, failed: 0, dropped: 0 });

    let fail!: (e: Error) => void;
    const late = new AlertDispatcher({ notifiers: [{ name: 'late', notify: () => new Promise<void>((_, reject) => (fail = reject)) }], onError: (e) => errors.push(e) });
    late.dispatch(alert());
    await late.shutdown({ timeoutMillis: 20 });
    fail(new Error('receiver answered 500 after all'));
    await new Promise((r) => setTimeout(r, 10));
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/abandoned; 1 delivery abandoned \("late": 1\)$/)]);
    expect(late.counts).toEqual({ delivered: 0, failed: 1, dropped: 0 });
  });

  it('rejects misuse with the argument name first', () => {
    expect(() => new AlertDispatcher({ notifiers: [{} as AlertNotifier] })).toThrow(/^options\.notifiers must be/);
    expect(() => new AlertDispatcher({ notifiers: [], maxPendingDeliveries: 0 })).toThrow(RangeError);
    expect(() => new AlertDispatcher({ notifiers: [] }).shutdown({ timeoutMillis: -1 })).toThrow(/^options\.timeoutMillis must be/);
    expect(() => new AlertDispatcher({ notifiers: [] }).shutdown({ timeoutMillis: '5s' as unknown as number })).toThrow(TypeError);
    expect(() => new CallbackNotifier('x' as unknown as () => void)).toThrow(/^callback must be a function/);
  });
});

describe('ConsoleNotifier', () => {
  it('writes one text or JSON line to stderr/stdout', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await new ConsoleNotifier().notify(alert());
      await new ConsoleNotifier({ output: 'stdout', format: 'json' }).notify(alert());
      expect(write).toHaveBeenCalledWith(`${formatAlertLine(alert())}\n`);
      expect(formatAlertLine(alert())).toBe('otel-audit alert [warning] config_changes: An administrative change (count >= 1, count=1 in 1m) group={"actor.id":"ops"} id=019b8b7d-5348-7359-9f7f-71c5c8b60bf2');
      expect(JSON.parse(String(out.mock.calls[0]![0]))).toEqual(alert());
    } finally {
      write.mockRestore();
      out.mockRestore();
    }
  });

  it('logs to diag: critical as error, warning as warn', async () => {
    const lines: string[] = [];
    const logger = { error: (m: string) => lines.push(`error ${m}`), warn: (m: string) => lines.push(`warn ${m}`), info: () => {}, debug: () => {}, verbose: () => {} };
    diag.setLogger(logger, DiagLogLevel.WARN);
    try {
      const notifier = new ConsoleNotifier({ output: 'diag' });
      await notifier.notify(alert('audit_integrity', 'critical'));
      await notifier.notify(alert());
      expect(lines.map((l) => l.split(' ').slice(0, 4).join(' '))).toEqual(['error otel-audit alert [critical]', 'warn otel-audit alert [warning]']);
    } finally {
      diag.disable();
    }
    expect(() => new ConsoleNotifier({ output: 'file' as 'stderr' })).toThrow(/^options\.output must be/);
  });
});
