/**
 * What an auditor writes down from a verified store, per stream (auditor
 * review, helper 76): the seq range and the times of its first and last
 * record, and the checkpoint that vouches for it — its size, time and the
 * key id that signed it. `otel-audit verify` prints these lines under the
 * report of a store (`streams` summaries in `--json`).
 */
import { formatKeyTime, verifyCheckpoint, type Keyring, type VerificationReport } from '@otel-audit/core';
import type { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { escapeControl } from './table.js';

/** One stream as an auditor records it. */
export interface StreamSummary {
  stream: string;
  firstSeq: number;
  lastSeq: number;
  /** RFC 3339 times of the first and last record verified. */
  firstTime: string | undefined;
  lastTime: string | undefined;
  /** The newest checkpoint verified with a trusted key: its size, time (RFC 3339) and signing key ids. */
  vouchedBy: { size: number; time: string; keys: readonly string[] } | undefined;
}

/** A stored decimal time as RFC 3339 (core's formatKeyTime), or undefined when there is none or it is not decimal. */
function timeOf(decimal: string | undefined): string | undefined {
  return decimal !== undefined && /^\d{1,20}$/.test(decimal) ? formatKeyTime(BigInt(decimal)) : undefined;
}

/**
 * The summaries of the streams of `report` (those with records), read from
 * `store`: two index lookups for the times, and the stored notes at the
 * size the report verified.
 *
 * @example
 * for (const line of summaryLines(storeSummaries(store, report, keyring))) ctx.stdout.write(`${line}\n`);
 */
export function storeSummaries(store: SqliteAuditStore, report: VerificationReport, keyring: Keyring): StreamSummary[] {
  const db = store.database;
  const timeAt = db.prepare('SELECT CAST(time_unix_nano AS TEXT) FROM audit_logs WHERE stream = ? AND seq = ?').pluck();
  const notesAt = db.prepare('SELECT note FROM audit_checkpoints WHERE stream = ? AND size = ?').pluck();
  const out: StreamSummary[] = [];
  for (const s of report.streams) {
    if (s.firstSeq === undefined || s.lastSeq === undefined) continue;
    const size = s.checkpoints.lastVerifiedSize;
    let vouchedBy: StreamSummary['vouchedBy'];
    if (size > 0 && keyring.size > 0) {
      for (const note of notesAt.all(s.stream, size) as string[]) {
        const v = verifyCheckpoint(note, keyring);
        if (v.ok && v.checkpoint !== undefined) {
          vouchedBy = { size, time: formatKeyTime(v.checkpoint.timeUnixNano), keys: v.keys };
          break;
        }
      }
    }
    out.push({
      stream: s.stream, firstSeq: s.firstSeq, lastSeq: s.lastSeq,
      firstTime: timeOf(timeAt.get(s.stream, s.firstSeq) as string | undefined), lastTime: timeOf(timeAt.get(s.stream, s.lastSeq) as string | undefined),
      vouchedBy,
    });
  }
  return out;
}

/**
 * One line per stream for people.
 *
 * @example
 * summaryLines(summaries) // ['stream "api/1": seq 0..38, 2026-11-29T20:12:00.000Z to ...; vouched for up to seq 38 by the checkpoint of ... signed by api+1a2b3c4d']
 */
export function summaryLines(summaries: readonly StreamSummary[]): string[] {
  return summaries.map((s) => {
    const times = s.firstTime !== undefined && s.lastTime !== undefined ? `, ${s.firstTime} to ${s.lastTime}` : '';
    const vouched = s.vouchedBy === undefined
      ? 'no checkpoint verified with a trusted key'
      : `vouched for up to seq ${s.vouchedBy.size - 1} by the checkpoint of ${s.vouchedBy.time} signed by ${s.vouchedBy.keys.map(escapeControl).join(', ')}`;
    return `stream ${JSON.stringify(escapeControl(s.stream))}: seq ${s.firstSeq}..${s.lastSeq}${times}; ${vouched}`;
  });
}
