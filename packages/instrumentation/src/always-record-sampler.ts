/**
 * A sampler wrapper that closes the "unsampled traceparent" hole (DESIGN §3):
 * with a parent-based sampler, a client sending `traceparent: ...-00` makes
 * the server span non-recording, and an audit built on spans would never see
 * the request. This wrapper keeps the delegate's decision for everything
 * except SERVER spans that the delegate would drop: those become
 * `RECORD` (recorded, still not sampled — exporters of traces see nothing
 * new, the propagated flags are unchanged) unless the audit hooks marked
 * the request's level `none`.
 */
import { SpanKind, type Attributes, type Context, type Link } from '@opentelemetry/api';
import { SamplingDecision, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace-base';
import { ATTR_OTEL_AUDIT_LEVEL } from './semconv.js';

/**
 * Always-record wrapper for server spans of audited routes.
 *
 * @example
 * new NodeTracerProvider({ sampler: new AlwaysRecordSampler(new ParentBasedSampler({ root: new AlwaysOnSampler() })) });
 */
export class AlwaysRecordSampler implements Sampler {
  readonly #delegate: Sampler;

  constructor(delegate: Sampler) {
    if (typeof delegate !== 'object' || delegate === null || typeof delegate.shouldSample !== 'function') {
      throw new TypeError('delegate must be an OpenTelemetry Sampler (with shouldSample)');
    }
    this.#delegate = delegate;
  }

  shouldSample(context: Context, traceId: string, spanName: string, spanKind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    const result = this.#delegate.shouldSample(context, traceId, spanName, spanKind, attributes, links);
    if (result.decision !== SamplingDecision.NOT_RECORD || spanKind !== SpanKind.SERVER || attributes[ATTR_OTEL_AUDIT_LEVEL] === 'none') return result;
    return { ...result, decision: SamplingDecision.RECORD };
  }

  toString(): string {
    return `AlwaysRecordSampler{${this.#delegate.toString()}}`;
  }
}
