import { describe, expect, it } from 'vitest';
import { AuditError } from '@otel-audit/core';
import { AuditQueueFullError, AuditRecordRejectedError, AuditShutdownError, AuditSinkError } from '../src/index.js';

describe('processor errors', () => {
  it('are AuditErrors with stable codes and their evidence', () => {
    const full = new AuditQueueFullError(10);
    const sink = new AuditSinkError('sqlite', 3, new Error('disk full'));
    const rejected = new AuditRecordRejectedError('bad', '/outcome', 'id-1', undefined);
    const shut = new AuditShutdownError('stopped');
    for (const e of [full, sink, rejected, shut]) expect(e).toBeInstanceOf(AuditError);
    expect([full.code, sink.code, rejected.code, shut.code]).toEqual(['AUDIT_QUEUE_FULL', 'AUDIT_SINK_FAILED', 'AUDIT_RECORD_REJECTED', 'AUDIT_SHUTDOWN']);
    expect(full.maxQueueSize).toBe(10);
    expect(sink).toMatchObject({ sink: 'sqlite', attempts: 3 });
    expect(sink.message).toContain('disk full');
    expect((sink.cause as Error).message).toBe('disk full');
    expect(rejected).toMatchObject({ pointer: '/outcome', rejectionId: 'id-1', name: 'AuditRecordRejectedError' });
  });
});
