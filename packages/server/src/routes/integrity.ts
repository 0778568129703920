/**
 * `GET /api/audit/integrity` (issue 7, DESIGN §4.4): the store's
 * verification report for a range — a stream, a seq range, a time range, or
 * everything. The store verifies on its own read connection and yields to
 * the event loop between slices of rows, so other requests are served
 * meanwhile; one verification runs at a time (429 otherwise) and a range
 * holding more than `maxIntegrityRecords` records is refused (422) with a
 * message naming a smaller range — counting, for a range that starts past a
 * stream's first record, the records before it whose hashes build its start
 * (the store's `rangeStartCost`), as that work blocks the event loop: back
 * to the nearest checkpoint stored with its compact range (a window deep in
 * a long stream reads at most a checkpoint interval of hashes; see the
 * store's checkpoint-snapshot.ts for why an unsigned snapshot cannot make a
 * window read as intact), an archive's end, or seq 0.
 * `progress=true` streams NDJSON progress lines and then the report as the
 * last line.
 */
import { unvouchedStreams, type VerificationReport } from '@otel-audit/core';
import { callerInput, HttpError } from '../errors.js';
import type { Route, ServerState } from '../internal/context.js';
import { sendJson, toJson } from '../internal/http.js';
import { millis } from '../internal/params.js';
import { rangeStartText } from '../internal/range-start-text.js';

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

/**
 * Who wrote `stream` without a signer key, when its start records
 * (`system/stream_started`, `system/pipeline_started`) say so — no
 * `checkpoint_key`, as the processor and the server's access log write
 * them: `server` (this server's access stream) or `service`; undefined
 * when they name a key or there are none.
 */
function unsignedWriter(state: ServerState, stream: string): 'server' | 'service' | undefined {
  for (const action of ['stream_started', 'pipeline_started']) {
    const { records } = state.store.query({ stream, eventType: 'system', eventAction: action, order: 'oldest', limit: 1000 });
    const keyless = records.find((r) => typeof (r.record.details as Record<string, unknown> | undefined)?.['checkpoint_key'] !== 'string');
    if (keyless !== undefined) return keyless.record.actor?.id === 'otel-audit-server' ? 'server' : 'service';
  }
  return undefined;
}

/**
 * The verdict beside the report, as `otel-audit verify` gives it: `intact`
 * only when no error was found AND something was verified — records in the
 * range, and a checkpoint verified with a trusted key over each stream
 * (over the whole range, for a range); without keys, never. `notVerified` says why not;
 * a stream without checkpoints whose records say it was written without a
 * signer key is named as such (unsigned by configuration, not verified),
 * never as one whose checkpoints went missing.
 */
function verdictOf(state: ServerState, report: VerificationReport, keys: boolean, ranged: boolean): { intact: boolean; notVerified?: string[] } {
  const reasons: string[] = [];
  if (report.records === 0) reasons.push('the selected stream and range hold no audit records, so nothing was verified');
  else if (!keys) {
    // A copy stripped of its signatures would read the same as the signed original (whose checkpoints are then unknown_key).
    reasons.push('the server has no verifier key (serve --key, or keys in createAuditServer): no checkpoint can be trusted, so nothing shows these records were not rewritten');
  } else {
    for (const s of unvouchedStreams(report, { ranged })) {
      const writer = s.checkpoints.seen === 0 ? unsignedWriter(state, s.stream) : undefined;
      if (writer !== undefined) {
        reasons.push(`stream ${JSON.stringify(s.stream)}: written without a signer key (unsigned by configuration): nothing vouches for its records; `
          + (writer === 'server' ? 'start otel-audit serve with --signer-key' : 'configure processors.chain.signer_key_file for its service'));
        continue;
      }
      reasons.push(ranged
        ? `stream ${JSON.stringify(s.stream)}: no verified signed checkpoint covers its records up to seq ${s.lastSeq!} yet`
        : `stream ${JSON.stringify(s.stream)}: no checkpoint verified with the trusted keys`);
    }
  }
  return { intact: report.ok && reasons.length === 0, ...(reasons.length > 0 ? { notVerified: reasons } : {}) };
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
    if (range.stream !== undefined) {
      const known = state.store.streams().map((s) => s.stream);
      if (!known.includes(range.stream)) {
        throw new HttpError('AUDIT_HTTP_NOT_FOUND', `no stream ${JSON.stringify(range.stream)} in this store; it holds ${known.length === 0 ? 'no stream' : known.slice(0, 20).map((s) => JSON.stringify(s)).join(', ')}${known.length > 20 ? ', …' : ''}`);
      }
    }
    const records = countRange(state, range);
    const max = state.limits.maxIntegrityRecords;
    if (records > max) {
      throw new HttpError('AUDIT_HTTP_RANGE_TOO_LARGE', `this range holds ${records} records, more than ${max} verified per request; `
        + 'give a smaller range (since/until, or stream with from_seq/to_seq), or run otel-audit verify on the database file');
    }
    // A range deep in a stream costs the hashing of every record before it, back to seq 0 or an archive: counted too.
    const walk = callerInput(() => state.store.rangeStartCost({
      ...(range.stream === undefined ? {} : { streams: [range.stream] }),
      ...(range.fromSeq === undefined ? {} : { fromSeq: range.fromSeq }), ...(range.toSeq === undefined ? {} : { toSeq: range.toSeq }),
      ...(range.since === undefined ? {} : { since: range.since }), ...(range.until === undefined ? {} : { until: range.until }),
    }));
    if (records + walk.rows > max && walk.longest !== undefined) {
      const { stream, seq, rows } = walk.longest;
      const back = rangeStartText(walk.longest);
      throw new HttpError('AUDIT_HTTP_RANGE_TOO_LARGE', `this range holds ${records} records, but it starts deep in stream ${JSON.stringify(stream)}: at seq ${seq}, `
        + `with ${rows} records before it back to ${back}, whose stored hashes are all read to build the range's start — `
        + `${records + walk.rows} records in all, more than ${max} per request; verify it offline with otel-audit verify on the database file, or raise the server's maxIntegrityRecords`);
    }
    if (state.busy.integrity > 0) throw new HttpError('AUDIT_HTTP_BUSY', 'a verification is already running; retry when it has finished');
    // The server's own access records of a moment ago are signed first, or they would read as an unsigned tail.
    state.access.checkpointNow();
    state.busy.integrity++;
    const ranged = range.since !== undefined || range.until !== undefined || range.fromSeq !== undefined || range.toSeq !== undefined;
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
        const verdict = verdictOf(state, report, state.keyring !== undefined, ranged);
        await ctx.audit('verify', verdict.intact ? 'success' : 'failure', { query: params, ...summary(report), intact: verdict.intact });
        ctx.res.end(`${toJson({ report, ...verdict, verifierKeys: state.keyring !== undefined })}\n`);
        return;
      }
      const report = await state.store.verify(options);
      const verdict = verdictOf(state, report, state.keyring !== undefined, ranged);
      await ctx.audit('verify', verdict.intact ? 'success' : 'failure', { query: params, ...summary(report), intact: verdict.intact });
      sendJson(ctx.res, 200, { report, ...verdict, verifierKeys: state.keyring !== undefined, verifiedAt: new Date().toISOString() });
    } finally {
      state.busy.integrity--;
    }
  },
};
