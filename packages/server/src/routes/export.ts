/**
 * `GET /api/audit/export?format=json|ndjson|csv|bundle` (issue 7): the
 * store's streamed export written to the response with backpressure —
 * records matching the filters (oldest first, last 7 days unless `since`
 * is given) as a JSON array, NDJSON or CSV (RFC 4180, spreadsheet formulas
 * neutralised by the store), or a verifiable bundle of a stream or seq
 * range. An access record is committed before the first byte (fail closed)
 * and another with the record count when the export ends. A client that
 * reads nothing for `exportDrainTimeoutMillis` is cut off, so it cannot
 * hold the export's read transaction (and a slot) open. On an encrypted
 * store an auditor gets json/ndjson with the sealed members withheld; csv
 * and bundle, which carry decrypted values, need the admin role. The
 * `Audit-Purged` header lists the runs of records the export's stream,
 * time or seq range reaches but that retention purged from the log (they
 * are only in the store's archives): the body's shape stays as it was.
 */
import type { ServerResponse } from 'node:http';
import { callerInput, HttpError } from '../errors.js';
import type { Route } from '../internal/context.js';
import { toJson } from '../internal/http.js';
import { purgedHeaders } from '../internal/purged-header.js';
import { recordCounter } from '../internal/record-counter.js';
import { FILTER_SPECS, toStoreFilter, type Params } from '../internal/params.js';
import { withholdSealed, type ApiRecord } from '../internal/withhold.js';

const TYPES = { json: 'application/json', ndjson: 'application/x-ndjson', csv: 'text/csv', bundle: 'application/json' } as const;
const BUNDLE_PARAMS = new Set(['format', 'stream', 'since', 'until', 'from_seq', 'to_seq']);

/** Store options of an export request. */
function exportOptions(params: Params): Record<string, unknown> {
  const format = params.format as keyof typeof TYPES;
  if (format !== 'bundle') {
    for (const k of ['from_seq', 'to_seq']) if (params[k] !== undefined) throw new HttpError('AUDIT_HTTP_BAD_REQUEST', `${k} applies to format=bundle only`);
    return { format, order: params.order ?? 'oldest', ...toStoreFilter(params) };
  }
  const extra = Object.keys(params).filter((k) => !BUNDLE_PARAMS.has(k));
  if (extra.length > 0) throw new HttpError('AUDIT_HTTP_BAD_REQUEST', `format=bundle exports whole streams or ranges and takes only stream, since, until, from_seq, to_seq; remove ${extra.join(', ')}`);
  if ((params.from_seq !== undefined || params.to_seq !== undefined) && params.stream === undefined) throw new HttpError('AUDIT_HTTP_BAD_REQUEST', 'from_seq and to_seq need stream');
  return {
    format, ...(params.stream === undefined ? {} : { streams: [params.stream] }), ...(params.since === undefined ? {} : { since: params.since }),
    ...(params.until === undefined ? {} : { until: params.until }), ...(params.from_seq === undefined ? {} : { fromSeq: params.from_seq }),
    ...(params.to_seq === undefined ? {} : { toSeq: params.to_seq }),
  };
}

/** NDJSON/JSON chunks re-emitted with the sealed members withheld. */
async function* withheldChunks(chunks: AsyncIterable<string>, format: 'json' | 'ndjson'): AsyncGenerator<string> {
  let rest = '';
  let first = true;
  if (format === 'json') yield '[';
  for await (const chunk of chunks) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    let out = '';
    for (const line of lines) {
      if (line.length === 0) continue;
      const text = toJson(withholdSealed(JSON.parse(line) as ApiRecord));
      out += format === 'json' ? `${first ? '\n' : ',\n'}${text}` : `${text}\n`;
      first = false;
    }
    if (out.length > 0) yield out;
  }
  if (format === 'json') yield first ? ']\n' : '\n]\n';
}

/**
 * Resolve when `res` has drained; reject when it closes first or nothing
 * was taken for `timeoutMillis`. Either way no listener is left behind (an
 * export waits thousands of times on one response).
 */
function drained(res: ServerResponse, timeoutMillis: number): Promise<void> {
  if (res.destroyed) return Promise.reject(new Error('client went away'));
  if (!res.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const settle = (error?: Error): void => {
      clearTimeout(timer);
      res.off('drain', onDrain);
      res.off('close', onClose);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onDrain = (): void => settle();
    const onClose = (): void => settle(new Error('client went away'));
    const timer = setTimeout(() => settle(new Error(`the client read nothing for ${timeoutMillis} ms`)), timeoutMillis);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/** The route. */
export const exportRoute: Route = {
  method: 'GET',
  path: '/api/audit/export',
  role: 'auditor',
  params: {
    ...FILTER_SPECS, format: { kind: 'enum', values: ['json', 'ndjson', 'csv', 'bundle'] }, order: { kind: 'enum', values: ['newest', 'oldest'] },
    from_seq: { kind: 'int', min: 0, max: Number.MAX_SAFE_INTEGER }, to_seq: { kind: 'int', min: 0, max: Number.MAX_SAFE_INTEGER },
  },
  async handle(ctx, params) {
    const { state, res } = ctx;
    const format = params.format as keyof typeof TYPES | undefined;
    if (format === undefined) throw new HttpError('AUDIT_HTTP_BAD_REQUEST', 'format is required: json, ndjson, csv or bundle');
    const withhold = state.encrypted && ctx.principal.role !== 'admin';
    if (withhold && (format === 'csv' || format === 'bundle')) {
      throw new HttpError('AUDIT_HTTP_FORBIDDEN', `the store is encrypted at rest: a ${format} export carries decrypted values and needs the admin role; auditors export json or ndjson, with the sealed members withheld`);
    }
    const options = exportOptions(params);
    if (state.busy.exports >= state.limits.maxConcurrentExports) throw new HttpError('AUDIT_HTTP_BUSY', `${state.limits.maxConcurrentExports} exports are already running; retry later`);
    state.busy.exports++;
    try {
      // Created first so a bad filter is a 400 before anything is recorded.
      const source = callerInput(() => state.store.export((withhold ? { ...options, format: 'ndjson' } : options) as unknown as Parameters<typeof state.store.export>[0]));
      const chunks = withhold ? withheldChunks(source, format as 'json' | 'ndjson') : source;
      let purged: Record<string, string>;
      try {
        await ctx.audit('export', 'unknown', { query: params, phase: 'started' });
        // Just before the export reads its snapshot: a purge committed in between is reported, not missed.
        purged = purgedHeaders(callerInput(() => state.store.purgedRanges(options)));
      } catch (e) {
        // The store opened a read connection for the export; running it one step and returning closes it.
        const it = source[Symbol.asyncIterator]();
        await it.next().catch(() => undefined);
        await it.return?.();
        throw e;
      }
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      res.writeHead(200, {
        ...purged,
        'Content-Type': `${TYPES[format]}; charset=utf-8`,
        'Content-Disposition': `attachment; filename="audit-${stamp}.${format === 'bundle' ? 'bundle.json' : format}"`,
      });
      const counter = recordCounter(format);
      let outcome: 'success' | 'error' = 'success';
      try {
        for await (const chunk of chunks) {
          counter.add(chunk);
          if (!res.write(chunk)) await drained(res, state.limits.exportDrainTimeoutMillis);
          if (res.destroyed) throw new Error('client went away');
        }
        res.end();
      } catch {
        // Leaving the loop closed the export's read connection; the client gets a cut-off response.
        outcome = 'error';
        res.destroy();
      }
      // The data has left already: a failure to record the end is not reported to the client.
      await ctx.audit('export', outcome, { query: params, phase: 'finished', count: counter.records }).catch(() => undefined);
    } finally {
      state.busy.exports--;
    }
  },
};
