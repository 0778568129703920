import { describe, expect, it } from 'vitest';
import { LoggerProvider, type LogRecordProcessor, type ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import type { LogRecord } from '@opentelemetry/api-logs';
import { eventInputOf, hrTimeToNanosText } from '../../src/internal/log-record-event.js';

function capture(record: LogRecord): ReadWriteLogRecord {
  let got: ReadWriteLogRecord | undefined;
  const p: LogRecordProcessor = { onEmit: (r) => void (got = r), forceFlush: async () => {}, shutdown: async () => {} };
  new LoggerProvider({ processors: [p] }).getLogger('otel-audit').emit(record);
  return got!;
}

describe('eventInputOf (producer convention)', () => {
  it('takes the body as the event and fills id and time from the LogRecord', () => {
    const e = eventInputOf(capture({ body: { type: 'auth', action: 'login' }, timestamp: [1_700_000_000, 5] }));
    expect(e).toMatchObject({ type: 'auth', action: 'login', time: '1700000000000000005' });
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('prefers body members over attributes, and audit.actor.* over enduser.id', () => {
    const e = eventInputOf(capture({ body: { type: 'auth', action: 'login' }, attributes: { 'audit.type': 'x', 'audit.actor.id': 'a', 'enduser.id': 'b', 'audit.record.id': 'given' } }));
    expect(e.type).toBe('auth');
    expect(e.actor).toEqual({ id: 'a' });
    expect(e.id).toBe('given');
  });

  it('maps severity numbers to audit severities', () => {
    const sev = (n: number) => eventInputOf(capture({ body: { type: 't', action: 'a' }, severityNumber: n })).severity;
    expect([sev(1), sev(5), sev(9), sev(13), sev(17), sev(21), sev(24)]).toEqual(['debug', 'debug', 'info', 'warning', 'error', 'critical', 'critical']);
  });

  it('writes Unix nanoseconds without precision loss', () => {
    expect(hrTimeToNanosText([1_750_000_000, 123])).toBe('1750000000000000123');
    expect(hrTimeToNanosText([0, 42])).toBe('42');
    expect(hrTimeToNanosText([1, 999_999_999])).toBe('1999999999');
  });
});
