import { describe, expect, it } from 'vitest';
import { AuditChain, Verifier } from '@otel-audit/core';
import { AlertEngine } from '../../src/alerts/alert-engine.js';
import { alertRecordEvent } from '../../src/alerts/alert-event.js';
import { builtinAlertRules } from '../../src/alerts/builtin-rules.js';
import { T0_SECONDS } from './helpers.js';

describe('alertRecordEvent', () => {
  it('seals each alert as a type: alert record in the same chain, right after its trigger', () => {
    const chain = new AuditChain({ stream: 'svc/alerts' });
    const engine = new AlertEngine({ rules: builtinAlertRules() });
    const sealed = [];
    for (let i = 0; i < 5; i++) {
      const s = chain.append({ id: crypto.randomUUID(), time: `${T0_SECONDS + i}000000000`, type: 'auth', action: 'login', outcome: 'failure', severity: 'warning', actor: { id: 'mallory', type: 'user', ip: '192.0.2.1' } });
      sealed.push(s);
      for (const alert of engine.evaluate(s.record)) sealed.push(chain.append(alertRecordEvent(alert)));
    }
    const alerts = sealed.filter((s) => s.record.type === 'alert');
    expect(alerts.map((a) => a.record.action)).toEqual(['failed_logins', 'failed_logins_by_ip']);
    const [first] = alerts;
    expect(first!.record).toMatchObject({
      type: 'alert', action: 'failed_logins', outcome: 'success', severity: 'warning', seq: 5, time: sealed[4]!.record.time,
      actor: { id: 'otel-audit', type: 'system' }, target: { type: 'alert_rule', id: 'failed_logins' },
      details: { group: { 'actor.id': 'mallory' }, count: 5, window: '5m', condition: 'count >= 5', record_ids: sealed.slice(0, 5).map((s) => s.record.id), omitted_record_ids: 0 },
    });
    // Alert records do not raise alerts themselves.
    expect(engine.evaluate(first!.record)).toEqual([]);
    // The chain with its alerts verifies: no finding is an error.
    const verifier = new Verifier();
    for (const s of sealed) verifier.addRecord(s.record, s.hash);
    const report = verifier.finish();
    expect(report.streams[0]!.records).toBe(7);
    expect(report.streams[0]!.errors).toBe(0);
  });
});
