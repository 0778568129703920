/**
 * The `system` records the pipeline writes into the chain itself (DESIGN
 * §5): stream start, pipeline start/stop, drops (`records_dropped`, with the
 * count and the time range of the loss) and rejected producer input
 * (`record_rejected`, an `error`-outcome record naming what was wrong); and
 * the default stream id (`<service.name>/<service.instance.id>`).
 */
import type { AnyValue } from '@opentelemetry/api-logs';
import { createRecordId, isRecordId, normalizeEvent, type AuditEventInput } from '@otel-audit/core';
import type { SinkSkip } from './delivery.js';
import { ACTION_RECORD_REJECTED, ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME, SYSTEM_TYPE } from '../semconv.js';
import { toError } from './to-error.js';

/**
 * Why records were dropped: the queue bound (`queue_full`), or a spill file
 * that cannot be written (`spill_failed`, with the error code when known).
 */
export interface DropCause {
  reason: 'queue_full' | 'spill_failed';
  errorCode?: string;
}

/** Loss accumulated since the last records_dropped record. */
export interface Drops extends DropCause {
  count: number;
  firstTime: string;
  lastTime: string;
  /** The other reason, when the loss went on for it too (the queue was full, then the spill file failed, or back). */
  alsoReason?: DropCause['reason'];
}

/** Now, in Unix nanoseconds (millisecond resolution). */
export function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** A system record event: actor `otel-audit`, time now. */
export function systemEvent(action: string, outcome: 'success' | 'failure', severity: 'info' | 'warning' | 'error', details: Record<string, unknown>): AuditEventInput {
  return { id: createRecordId(), time: String(nowNanos()), type: SYSTEM_TYPE, action, outcome, severity, actor: { id: 'otel-audit', type: 'system' }, details };
}

/** `details` of a records_dropped record. */
export function droppedDetails(d: Drops, maxQueueSize: number): Record<string, unknown> {
  const details: Record<string, unknown> = { count: d.count, first_time: d.firstTime, last_time: d.lastTime, reason: d.reason, max_queue_size: maxQueueSize };
  if (d.errorCode !== undefined) details.error_code = d.errorCode;
  if (d.alsoReason !== undefined) details.also_reason = d.alsoReason;
  return details;
}

/**
 * `details` of the records_dropped record of a secondary sink that skipped
 * records: they are in the chain (and the primary sink), not in that sink.
 */
export function sinkSkipDetails(skip: SinkSkip, maxQueueSize: number): Record<string, unknown> {
  return { count: skip.count, first_seq: skip.firstSeq, last_seq: skip.lastSeq, sink: skip.sink, reason: 'sink_failing', max_queue_size: maxQueueSize };
}

const PROBE = { id: '00000000-0000-7000-8000-000000000000', time: '0', type: SYSTEM_TYPE, action: 'probe' } as const;

/**
 * The valid parts of rejected input, each normalised on its own (a fresh
 * plain copy): the attempted `type`, `action` and `outcome`, and the
 * `actor`, `target` and `request` members — so a record refused for one bad
 * member still says who did what, where. Never throws (hostile input).
 */
function salvage(input: Record<string, unknown> | AuditEventInput | undefined): { attempted: Record<string, string>; members: Partial<Record<'actor' | 'target' | 'request', unknown>> } {
  const attempted: Record<string, string> = {};
  const members: Partial<Record<'actor' | 'target' | 'request', unknown>> = {};
  if (typeof input !== 'object' || input === null) return { attempted, members };
  for (const key of ['type', 'action', 'outcome'] as const) {
    try {
      const probe = normalizeEvent({ ...PROBE, [key]: (input as Record<string, unknown>)[key] } as AuditEventInput);
      if ((input as Record<string, unknown>)[key] !== undefined) attempted[key] = probe[key] as string;
    } catch {
      // Not valid on its own: left out.
    }
  }
  for (const key of ['actor', 'target', 'request'] as const) {
    try {
      const value = (input as Record<string, unknown>)[key];
      if (value !== undefined) members[key] = normalizeEvent({ ...PROBE, [key]: value } as AuditEventInput)[key];
    } catch {
      // Not valid on its own: left out.
    }
  }
  return { attempted, members };
}

/**
 * The record that stands in the chain for invalid producer input: what was
 * wrong (message made well-formed and bounded), where (pointer), the
 * producer's id when it was a valid one, and the parts of the input that
 * are valid on their own — the attempted type/action/outcome in `details`,
 * and its actor, target and request — so the rejection still says who did
 * what, where.
 */
export function rejectionEvent(error: unknown, input: Record<string, unknown> | AuditEventInput | undefined, timeText: string, traceId: string | undefined, spanId: string | undefined): AuditEventInput {
  const message = toError(error).message.toWellFormed().slice(0, 2000);
  const pointer = typeof (error as { pointer?: unknown })?.pointer === 'string' ? (error as { pointer: string }).pointer.toWellFormed().slice(0, 512) : undefined;
  let producerId: string | undefined;
  try {
    producerId = isRecordId(input?.id) ? (input!.id as string) : undefined;
  } catch {
    producerId = undefined;
  }
  const { attempted, members } = salvage(input);
  const details: Record<string, unknown> = {};
  if (pointer !== undefined) details.pointer = pointer;
  if (producerId !== undefined) details.producer_id = producerId;
  if (Object.keys(attempted).length > 0) details.attempted = attempted;
  const request = { ...(members.request as Record<string, unknown> | undefined) };
  if (traceId !== undefined && spanId !== undefined && request.trace_id === undefined) Object.assign(request, { trace_id: traceId, span_id: spanId });
  return {
    id: createRecordId(),
    time: timeText,
    type: SYSTEM_TYPE,
    action: ACTION_RECORD_REJECTED,
    outcome: 'error',
    severity: 'error',
    error: message === '' ? 'invalid audit record' : message,
    ...(members.actor !== undefined ? { actor: members.actor as AuditEventInput['actor'] } : {}),
    ...(members.target !== undefined ? { target: members.target as AuditEventInput['target'] } : {}),
    details,
    request: Object.keys(request).length > 0 ? (request as AuditEventInput['request']) : undefined,
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
