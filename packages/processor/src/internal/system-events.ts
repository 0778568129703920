/**
 * The `system` records the pipeline writes into the chain itself (DESIGN
 * §5): stream start, pipeline start/stop, drops (`records_dropped`, with the
 * count and the time range of the loss) and rejected producer input
 * (`record_rejected`, an `error`-outcome record naming what was wrong); and
 * the default stream id (`<service.name>/<service.instance.id>`).
 */
import type { AnyValue } from '@opentelemetry/api-logs';
import { createRecordId, isRecordId, type AuditEventInput } from '@otel-audit/core';
import type { SinkSkip } from './delivery.js';
import { ACTION_RECORD_REJECTED, ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME, SYSTEM_TYPE } from '../semconv.js';

/** Loss accumulated since the last records_dropped record. */
export interface Drops {
  count: number;
  firstTime: string;
  lastTime: string;
}

/** Now, in Unix nanoseconds (millisecond resolution). */
export function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** A system record event: actor `otel-audit`, time now. */
export function systemEvent(action: string, outcome: 'success' | 'failure', severity: 'info' | 'warning' | 'error', details: Record<string, unknown>): AuditEventInput {
  return { id: createRecordId(), time: String(nowNanos()), type: SYSTEM_TYPE, action, outcome, severity, actor: { id: 'otel-audit', type: 'system' }, details };
}

/** `details` of a records_dropped record. */
export function droppedDetails(d: Drops, maxQueueSize: number): Record<string, unknown> {
  return { count: d.count, first_time: d.firstTime, last_time: d.lastTime, reason: 'queue_full', max_queue_size: maxQueueSize };
}

/**
 * `details` of the records_dropped record of a secondary sink that skipped
 * records: they are in the chain (and the primary sink), not in that sink.
 */
export function sinkSkipDetails(skip: SinkSkip, maxQueueSize: number): Record<string, unknown> {
  return { count: skip.count, first_seq: skip.firstSeq, last_seq: skip.lastSeq, sink: skip.sink, reason: 'sink_failing', max_queue_size: maxQueueSize };
}

/**
 * The record that stands in the chain for invalid producer input: what was
 * wrong (message made well-formed and bounded), where (pointer), and the
 * producer's id when it was a valid one.
 */
export function rejectionEvent(error: unknown, input: Record<string, unknown> | AuditEventInput | undefined, timeText: string, traceId: string | undefined, spanId: string | undefined): AuditEventInput {
  const message = toError(error).message.toWellFormed().slice(0, 2000);
  const pointer = typeof (error as { pointer?: unknown })?.pointer === 'string' ? (error as { pointer: string }).pointer.toWellFormed().slice(0, 512) : undefined;
  const producerId = isRecordId(input?.id) ? input.id : undefined;
  const details: Record<string, string> = {};
  if (pointer !== undefined) details.pointer = pointer;
  if (producerId !== undefined) details.producer_id = producerId;
  return {
    id: createRecordId(),
    time: timeText,
    type: SYSTEM_TYPE,
    action: ACTION_RECORD_REJECTED,
    outcome: 'error',
    severity: 'error',
    error: message === '' ? 'invalid audit record' : message,
    details,
    request: traceId !== undefined && spanId !== undefined ? { trace_id: traceId, span_id: spanId } : undefined,
  };
}

/** `<service.name>/<service.instance.id or the per-process id>`, one line. */
export function defaultStreamId(attributes: Record<string, AnyValue | undefined> | undefined, processInstanceId: string): string {
  const service = attributes?.[ATTR_SERVICE_NAME];
  const instance = attributes?.[ATTR_SERVICE_INSTANCE_ID];
  const name = typeof service === 'string' && service !== '' ? service : 'unknown_service';
  const inst = typeof instance === 'string' && instance !== '' ? instance : processInstanceId;
  return `${name}/${inst}`.replace(/[\u0000-\u001f\u007f]/g, '_').trim();
}
