/**
 * Losses the chain itself records (DESIGN §5: "every dropped record leaves
 * a `system/records_dropped` record in the chain with the count, so the loss
 * itself is audited and shows in verification"): `otel-audit verify` lists
 * them under its report. The chain is intact all the same — the records
 * were dropped before they were sealed, or not delivered to one sink — so
 * the verdict does not change; an auditor still has to see what is missing.
 */
import type { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { escapeControl } from './table.js';

/** One system record that says records were lost or not delivered. */
export interface RecordedLoss {
  stream: string;
  seq: number;
  action: string;
  /** How many it says (records, lines or bytes: `what` names the unit), when it says. */
  count?: number;
  /** What it says happened, for people. */
  what: string;
}

const LOSS_ACTIONS = ['records_dropped', 'spill_not_replayed', 'spill_replayed', 'integrity_failure', 'stream_abandoned', 'pipeline_started', 'stream_started'] as const;

/** Codes of the collector's findings that mean records were refused or are missing (its `integrity_failure` records). */
const COLLECTOR_RECORD_CODES = new Set(['seq_gap', 'parked_limit', 'duplicate', 'chain_break', 'hash_mismatch', 'malformed', 'stream_not_allowed']);

/** Losses listed at most; the rest are counted. */
const LISTED = 10;

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
}

/**
 * A writer that ended without stopping (killed, or stopped while its store
 * failed): what it had sealed and not committed is gone, and nobody knows
 * how much. Said by the `stream_abandoned` record another process sealed
 * for it, or by `previous_writer_ended_without_stopping` on the start
 * record of the process that took its stream over.
 */
function writerGone(writer: unknown): string | undefined {
  if (typeof writer !== 'object' || writer === null) return undefined;
  const w = writer as Record<string, unknown>;
  const part = (v: unknown): string => escapeControl(String(v ?? '?'));
  const unsigned = num(w['unsigned_from_seq']);
  return `records a writer that ended without stopping may have sealed and not committed (pid ${part(w['pid'])} on host ${part(w['host'])}, running since ${part(w['since'])}; the count is unknown`
    + `${unsigned !== undefined ? `; records from seq ${unsigned} were not covered by its checkpoints` : ''})`;
}

/** Why records_dropped says records were dropped: the queue full, the spill file failing, or one then the other. */
function dropReasons(details: Record<string, unknown>): string {
  const code = typeof details['error_code'] === 'string' ? `: ${escapeControl(details['error_code'])}` : '';
  const text = (reason: unknown): string => (reason === 'spill_failed' ? `the spill file could not be written${code}` : 'queue full');
  return details['also_reason'] === undefined ? text(details['reason']) : `${text(details['reason'])}, then ${text(details['also_reason'])}`;
}

/**
 * The loss a system record says, or undefined when it says none (a spill
 * file replayed whole; a collector finding about a refused request or a
 * checkpoint).
 */
function lossOf(stream: string, seq: number, action: string, details: Record<string, unknown>): RecordedLoss | undefined {
  if (action === 'records_dropped') {
    const count = num(details['count']);
    const what = details['reason'] === 'sink_failing'
      ? `records not delivered to sink ${JSON.stringify(escapeControl(String(details['sink'] ?? '?')))} (they are in the chain; that sink lacks them)`
      : `records dropped before they were sealed (${dropReasons(details)})`;
    return { stream, seq, action, ...(count !== undefined ? { count } : {}), what };
  }
  if (action === 'stream_abandoned') {
    const what = writerGone(details);
    return what === undefined ? undefined : { stream, seq, action, what };
  }
  if (action === 'pipeline_started' || action === 'stream_started') {
    const what = writerGone(details['previous_writer_ended_without_stopping']);
    return what === undefined ? undefined : { stream, seq, action, what };
  }
  if (action === 'spill_not_replayed') {
    const count = details['count_of'] === 'unknown' ? undefined : num(details['records']);
    const unit = details['count_of'] === 'lines' ? 'lines (the file could not be parsed, so counted as lines)' : 'records';
    return { stream, seq, action, ...(count !== undefined ? { count } : {}), what: `${unit} of a spill file that could not be replayed (kept aside as evidence)` };
  }
  if (action === 'spill_replayed') {
    const bytes = num(details['truncated_bytes']);
    if (bytes === undefined || bytes === 0) return undefined;
    return { stream, seq, action, count: bytes, what: `bytes cut from the end of a spill file: the records in them were not replayed (kept in ${JSON.stringify(escapeControl(String(details['truncated_to'] ?? '?')))})` };
  }
  // integrity_failure is also what the collector writes for each of its findings ({ code, seq, record_id }).
  // Those about records say it refused them or found them missing; a refused request (a wrong token) or a
  // mismatching checkpoint is no loss of records.
  if (!('dead_letters' in details)) {
    const code = details['code'];
    if (typeof code !== 'string' || !COLLECTOR_RECORD_CODES.has(code) || details['subject'] === 'checkpoint') return undefined;
    const at = num(details['seq']);
    return { stream, seq, action, what: `records the collector refused or found missing (its finding ${JSON.stringify(code)}${at !== undefined ? `, at seq ${at} of the stream the record names` : ''})` };
  }
  const count = num(details['dead_letters']);
  return { stream, seq, action, ...(count !== undefined ? { count } : {}), what: 'records refused by the OTLP receiver (dead-lettered in the outbox; not at the receiver)' };
}

/**
 * The loss records of `streams` in a store, in stream and seq order.
 *
 * @example
 * const losses = storeLosses(store, report.streams.map((s) => s.stream));
 */
export function storeLosses(store: SqliteAuditStore, streams: readonly string[]): RecordedLoss[] {
  const out: RecordedLoss[] = [];
  for (const stream of streams) {
    for (const action of LOSS_ACTIONS) {
      for (const r of store.query({ stream, eventType: 'system', eventAction: action, order: 'oldest', limit: 1000 }).records) {
        const loss = lossOf(stream, r.record.seq, action, (r.record.details ?? {}) as Record<string, unknown>);
        if (loss !== undefined) out.push(loss);
      }
    }
  }
  return out.sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : a.seq - b.seq));
}

/**
 * The loss records among whole records (a bundle's).
 *
 * @example
 * recordLosses(bundle.streams.flatMap((s) => s.records.map((r) => r.record)))
 */
export function recordLosses(records: Iterable<unknown>): RecordedLoss[] {
  const out: RecordedLoss[] = [];
  for (const value of records) {
    const r = value as { stream?: unknown; seq?: unknown; type?: unknown; action?: unknown; details?: unknown } | null;
    if (r?.type !== 'system' || typeof r.stream !== 'string' || typeof r.seq !== 'number' || !(LOSS_ACTIONS as readonly unknown[]).includes(r.action)) continue;
    const loss = lossOf(r.stream, r.seq, r.action as string, typeof r.details === 'object' && r.details !== null ? r.details as Record<string, unknown> : {});
    if (loss !== undefined) out.push(loss);
  }
  return out.sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : a.seq - b.seq));
}

/**
 * Lines for people: one per loss record (the first ten), then how many more.
 *
 * @example
 * for (const line of lossLines(losses)) ctx.stdout.write(`${line}\n`);
 */
export function lossLines(losses: readonly RecordedLoss[]): string[] {
  const lines = losses.slice(0, LISTED).map((l) => `recorded loss: stream ${JSON.stringify(escapeControl(l.stream))} seq ${l.seq} (${l.action}): `
    + `${l.count === undefined ? 'some' : l.count} ${l.what}`);
  if (losses.length > LISTED) lines.push(`recorded loss: and ${losses.length - LISTED} more loss record(s) (--json lists them all)`);
  return lines;
}
