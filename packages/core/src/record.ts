/**
 * The audit record of integrity format v1 (DESIGN §4.1): its TypeScript
 * model and the vocabularies of its enumerated members. Validation and
 * normalisation of producer input live in `normalize-record.ts`.
 */
import type { HashAlgorithm } from './hash.js';

/** A JSON value as it appears in a record after normalisation. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Outcome of the audited action. */
export type AuditOutcome = 'success' | 'failure' | 'error' | 'unknown';
/** Every outcome, in documented order. */
export const AUDIT_OUTCOMES: readonly AuditOutcome[] = Object.freeze(['success', 'failure', 'error', 'unknown']);

/** Severity of the record; maps to OpenTelemetry severity numbers (§4.6). */
export type AuditSeverity = 'debug' | 'info' | 'warning' | 'error' | 'critical';
/** Every severity, in increasing order. */
export const AUDIT_SEVERITIES: readonly AuditSeverity[] = Object.freeze(['debug', 'info', 'warning', 'error', 'critical']);

/** Who acted. `type` is usually `user`, `service`, `api_key`, `system` or `anonymous`. */
export interface AuditActor {
  id?: string;
  type?: string;
  ip?: string;
  user_agent?: string;
}

/** What was acted upon. */
export interface AuditTarget {
  type?: string;
  id?: string;
  name?: string;
}

/** The request the action belongs to. `trace_id`/`span_id` are lowercase hex. */
export interface AuditRequest {
  id?: string;
  session_id?: string;
  endpoint?: string;
  method?: string;
  trace_id?: string;
  span_id?: string;
}

/** The members that describe the event, without the chain members. */
export interface AuditEvent {
  /** Record id: a lowercase UUID (v7 preferred), stable across retries. */
  id: string;
  /** Event time in Unix nanoseconds, decimal digits. */
  time: string;
  type: string;
  action: string;
  outcome: AuditOutcome;
  severity: AuditSeverity;
  actor?: AuditActor;
  target?: AuditTarget;
  request?: AuditRequest;
  details?: JsonValue;
  error?: string;
  old?: JsonValue;
  new?: JsonValue;
  /** RFC 6901 pointers of values replaced by redaction, sorted, unique. */
  redacted?: string[];
}

/** The chain members assigned by the processor. */
export interface AuditChainFields {
  /** Format version, always 1. */
  v: 1;
  alg: HashAlgorithm;
  /** Stream id, the checkpoint origin. */
  stream: string;
  /** 0-based index of the record in its stream. */
  seq: number;
  /** Lowercase hex hash of the previous record; hash of "" for seq 0. */
  prev: string;
}

/**
 * A complete, normalised audit record: exactly the object whose RFC 8785
 * serialization is hashed.
 *
 * @example
 * const record: AuditRecord = normalizeRecord({ v: 1, alg: 'sha256', stream: 's', seq: 0,
 *   prev: genesisPrev('sha256'), id: createRecordId(), time: 1700000000000000000n,
 *   type: 'auth', action: 'login', outcome: 'success', severity: 'info' });
 */
export interface AuditRecord extends AuditChainFields, AuditEvent {}

/** The current format version. */
export const FORMAT_VERSION = 1 as const;
