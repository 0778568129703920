/**
 * `GET /api/audit/integrity` (issue 7, DESIGN §4.4): the store's
 * verification report for a range — a stream, a seq range, a time range, or
 * everything. The store verifies on its own read connection and yields to
 * the event loop between slices of rows, so other requests are served
 * meanwhile; one verification runs at a time (429 otherwise) and a range
 * holding more than `maxIntegrityRecords` records is refused (422) with a
 * message naming a smaller range. `progress=true` streams NDJSON progress
 * lines and then the report as the last line.
 */
import type { VerificationReport } from '@otel-audit/core';
import { HttpError } from '../errors.js';
import type { Route, ServerState } from '../internal/context.js';
import { sendJson, toJson } from '../internal/http.js';
import { millis } from '../internal/params.js';

/** Records a verification of these bounds would read, counted on the indexes. */
function countRange(state: ServerState, p: { stream?: string; since?: string; until?: string; fromSeq?: number; toSeq?: number }): number {
  const terms: string[] = [];
  const args: unknown[] = [];
  if (p.stream !== undefined) { terms.push('stream = ?'); args.push(p.stream); }
  if (p.fromSeq !== undefined) { terms.push('seq >= ?'); args.push(p.fromSeq); }
  if (p.toSeq !== undefined) { terms.push('seq <= ?'); args.push(p.toSeq); }
  if (p.since !== undefined) { terms.push('time_unix_nano >= ?'); args.push(BigInt(millis(p.since)) * 1_000_000n); }
  if (p.until !== undefined) { terms.push('time_unix_nano < ?'); args.push(BigInt(millis(p.until)) * 1_000_000n); }
  if (terms.length === 0 || (terms.length === 1 && p.stream !== undefined)) {
    return state.store.streams().filter((s) => p.stream === undefined || s.stream === p.stream).reduce((n, s) => n + s.size, 0);
  }
  return Number(state.reader.prepare(`SELECT count(*) FROM audit_logs WHERE ${terms.join(' AND ')}`).pluck().get(...args));
}

function summary(report: VerificationReport): Record<string, unknown> {
  return { ok: report.ok, records: report.records, errors: report.errors, warnings: report.warnings };
}

/** The route. */
export const integrityRoute: Route = {
  method: 'GET',
  path: '/api/audit/integrity',
  role: 'auditor',
  params: {
    stream: { kind: 'string' }, since: { kind: 'time' }, until: { kind: 'time' },
    from_seq: { kind: 'int', min: 0, max: Number.MAX_SAFE_INTEGER }, to_seq: { kind: 'int', min: 0, max: Number.MAX_SAFE_INTEGER }, progress: { kind: 'bool' },
  },
  async handle(ctx, params) {
    const { state } = ctx;
    const range = {
      stream: params.stream as string | undefined, since: params.since as string | undefined, until: params.until as string | undefined,
      fromSeq: params.from_seq as number | undefined, toSeq: params.to_seq as number | undefined,
    };
    if ((range.fromSeq !== undefined || range.toSeq !== undefined) && range.stream === undefined) throw new HttpError('AUDIT_HTTP_BAD_REQUEST', 'from_seq and to_seq need stream (seq numbers are per stream)');
    if (range.fromSeq !== undefined && range.toSeq !== undefined && range.fromSeq > range.toSeq) throw new HttpError('AUDIT_HTTP_BAD_REQUEST', 'from_seq must not be after to_seq');
    if (range.since !== undefined && range.until !== undefined && millis(range.since) > millis(range.until)) throw new HttpError('AUDIT_HTTP_BAD_REQUEST', 'since must not be after until');
    const records = countRange(state, range);
    if (records > state.limits.maxIntegrityRecords) {
      throw new HttpError('AUDIT_HTTP_RANGE_TOO_LARGE', `this range holds ${records} records, more than ${state.limits.maxIntegrityRecords} verified per request; `
        + 'give a smaller range (since/until, or stream with from_seq/to_seq), or run otel-audit verify on the database file');
    }
    if (state.busy.integrity > 0) throw new HttpError('AUDIT_HTTP_BUSY', 'a verification is already running; retry when it has finished');
    state.busy.integrity++;
    try {
      const streams = range.stream === undefined ? undefined : [range.stream];
      const options = {
        ...(state.keyring === undefined ? {} : { keyring: state.keyring }), ...(streams === undefined ? {} : { streams }),
        ...(range.since === undefined ? {} : { since: range.since }), ...(range.until === undefined ? {} : { until: range.until }),
        ...(range.fromSeq === undefined ? {} : { fromSeq: range.fromSeq }), ...(range.toSeq === undefined ? {} : { toSeq: range.toSeq }),
      };
      if (params.progress === true) {
        ctx.res.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8' });
        const report = await state.store.verify({
          ...options, progressEveryRecords: 10_000, onProgress: (p) => ctx.res.write(`${toJson({ progress: { records: p.records, of: records } })}\n`),
        });
        await ctx.audit('verify', report.ok ? 'success' : 'failure', { query: params, ...summary(report) });
        ctx.res.end(`${toJson({ report, verifierKeys: state.keyring !== undefined })}\n`);
        return;
      }
      const report = await state.store.verify(options);
      await ctx.audit('verify', report.ok ? 'success' : 'failure', { query: params, ...summary(report) });
      sendJson(ctx.res, 200, { report, verifierKeys: state.keyring !== undefined, verifiedAt: new Date().toISOString() });
    } finally {
      state.busy.integrity--;
    }
  },
};
