/**
 * The §4.4 verification report for people: one row per stream (records,
 * seq range, checkpoints seen and verified, how many of the records present
 * a verified signed checkpoint covers and how many trail unsigned), then every finding
 * with its seq and evidence, then a one-line verdict: INTACT, PROBLEMS
 * FOUND (an error), or NOT VERIFIED (no error, but nothing was verified:
 * no records, or no checkpoint verified with the keys given).
 */
import type { Finding, StreamReport, VerificationReport } from '@otel-audit/core';
import { escapeControl, renderTable, type Column } from './table.js';

/**
 * Records present after the last verified signed checkpoint: seq
 * max(lastVerifiedSize, firstSeq)..lastSeq less the seqs the verifier found
 * missing there (`seq_gap`), and never more than the records present — a
 * bundle starting at seq 10 or a store with a deleted row has fewer records
 * than its last seq.
 */
function unsigned(s: StreamReport): number {
  if (s.lastSeq === undefined || s.firstSeq === undefined) return 0;
  const from = Math.max(s.checkpoints.lastVerifiedSize, s.firstSeq);
  let missing = 0;
  for (const f of s.findings) {
    if (f.code !== 'seq_gap' || f.seq === undefined) continue;
    const lo = Math.max(f.seq, from);
    const hi = Math.min(f.lastSeq ?? f.seq, s.lastSeq);
    if (hi >= lo) missing += hi - lo + 1;
  }
  return Math.max(0, Math.min(s.records, s.lastSeq + 1 - from - missing));
}

/** Records present that a verified signed checkpoint covers. */
function signed(s: StreamReport): number {
  return s.lastSeq === undefined ? 0 : Math.max(0, s.records - unsigned(s));
}

const STREAM_COLUMNS: readonly Column<StreamReport>[] = [
  { header: 'STREAM', value: (s) => s.stream, maxWidth: 48 },
  { header: 'ALG', value: (s) => s.alg ?? '-' },
  { header: 'RECORDS', value: (s) => s.records, right: true },
  { header: 'SEQ', value: (s) => (s.firstSeq === undefined ? '-' : `${s.firstSeq}..${s.lastSeq}`) },
  { header: 'CHECKPOINTS', value: (s) => s.checkpoints.seen, right: true },
  { header: 'VERIFIED', value: (s) => s.checkpoints.verified, right: true },
  { header: 'SIGNED', value: signed, right: true },
  { header: 'UNSIGNED', value: unsigned, right: true },
  { header: 'ERRORS', value: (s) => s.errors, right: true },
  { header: 'WARNINGS', value: (s) => s.warnings, right: true },
];

function where(f: Finding): string {
  if (f.seq !== undefined) return f.lastSeq !== undefined && f.lastSeq !== f.seq ? `${f.seq}..${f.lastSeq}` : String(f.seq);
  if (f.size !== undefined) return `size ${f.size}`;
  return '-';
}

function evidence(f: Finding): string {
  const parts: string[] = [f.message];
  if (f.expected !== undefined) parts.push(`expected ${f.expected}`);
  if (f.actual !== undefined) parts.push(`actual ${f.actual}`);
  if (f.source !== undefined) parts.push(`checkpoint kept in ${f.source}`);
  if (f.id !== undefined) parts.push(`id ${f.id}`);
  return parts.join('; ');
}

const FINDING_COLUMNS: readonly Column<Finding>[] = [
  { header: 'SEVERITY', value: (f) => f.severity },
  { header: 'STREAM', value: (f) => f.stream, maxWidth: 32 },
  { header: 'CODE', value: (f) => f.code },
  { header: 'SEQ', value: where },
  { header: 'EVIDENCE', value: evidence, maxWidth: 400 },
];

/**
 * What the command knows besides the report.
 *
 * @example
 * formatReport(report, 'audit.db', { keys: keyring.size, notVerified: [] } satisfies ReportContext);
 */
export interface ReportContext {
  /** Trusted keys given (`--key`). */
  readonly keys: number;
  /** Why nothing was verified although no error was found (verdict NOT VERIFIED); empty otherwise. */
  readonly notVerified: readonly string[];
}

/**
 * The report as text.
 *
 * @example
 * ctx.stdout.write(formatReport(report, 'audit.db (SQLite store)', { keys: 1, notVerified: [] }));
 */
export function formatReport(report: VerificationReport, source: string, context: ReportContext): string {
  const out: string[] = [`Verified ${escapeControl(source)}`, ''];
  if (report.streams.length === 0) out.push('No streams: the input holds no audit records or checkpoints.', '');
  else out.push(renderTable(STREAM_COLUMNS, report.streams));
  const findings = report.streams.flatMap((s) => s.findings);
  const omitted = report.streams.reduce((n, s) => n + s.findingsOmitted, 0);
  if (findings.length > 0) {
    out.push('Findings:', renderTable(FINDING_COLUMNS, findings));
    if (omitted > 0) out.push(`(${omitted} more findings not listed)`, '');
  }
  const verdict = !report.ok ? 'PROBLEMS FOUND' : context.notVerified.length > 0 ? 'NOT VERIFIED' : report.warnings > 0 ? 'INTACT (with warnings)' : 'INTACT';
  const verified = report.streams.reduce((n, s) => n + s.checkpoints.verified, 0);
  out.push(`${verdict}: ${report.records} record${report.records === 1 ? '' : 's'} in ${report.streams.length} stream${report.streams.length === 1 ? '' : 's'}, ${verified} signed checkpoint${verified === 1 ? '' : 's'} verified, ${report.errors} error${report.errors === 1 ? '' : 's'}, ${report.warnings} warning${report.warnings === 1 ? '' : 's'}`);
  for (const reason of context.notVerified) out.push(`not verified: ${reason}`);
  if (report.ok && verified === 0 && report.records > 0 && context.keys === 0 && context.notVerified.length === 0) {
    out.push('note: no checkpoint was verified with a trusted key, so nothing is signed; pass --key with the verifier key');
  }
  return `${out.join('\n')}\n`;
}
