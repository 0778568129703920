/**
 * The always-record wrapper: server spans the delegate would drop become
 * RECORD (not sampled) unless the audit level is `none`; every other
 * decision is the delegate's.
 */
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { ATTR_OTEL_AUDIT_LEVEL, AlwaysRecordSampler } from '../src/index.js';

const unsampledParent = trace.setSpanContext(ROOT_CONTEXT, { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.NONE, isRemote: true });
const tid = 'a'.repeat(32);

describe('AlwaysRecordSampler', () => {
  const s = new AlwaysRecordSampler(new ParentBasedSampler({ root: new AlwaysOnSampler() }));
  it('records an unsampled server span of an audited route, without sampling it', () => {
    expect(s.shouldSample(unsampledParent, tid, 'GET', SpanKind.SERVER, { [ATTR_OTEL_AUDIT_LEVEL]: 'metadata' }, []).decision).toBe(SamplingDecision.RECORD);
    expect(s.shouldSample(unsampledParent, tid, 'GET', SpanKind.SERVER, {}, []).decision).toBe(SamplingDecision.RECORD);
  });
  it('leaves level-none server spans, other kinds and sampled spans to the delegate', () => {
    expect(s.shouldSample(unsampledParent, tid, 'GET', SpanKind.SERVER, { [ATTR_OTEL_AUDIT_LEVEL]: 'none' }, []).decision).toBe(SamplingDecision.NOT_RECORD);
    expect(s.shouldSample(unsampledParent, tid, 'GET', SpanKind.CLIENT, {}, []).decision).toBe(SamplingDecision.NOT_RECORD);
    expect(s.shouldSample(ROOT_CONTEXT, tid, 'GET', SpanKind.SERVER, {}, []).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(new AlwaysRecordSampler(new AlwaysOffSampler()).shouldSample(ROOT_CONTEXT, tid, 'x', SpanKind.INTERNAL, {}, []).decision).toBe(SamplingDecision.NOT_RECORD);
    expect(s.toString()).toMatch(/^AlwaysRecordSampler\{/);
  });
  it('refuses a non-sampler', () => {
    expect(() => new AlwaysRecordSampler({} as never)).toThrow(/delegate/);
  });
});
