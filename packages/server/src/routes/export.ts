/**
 * `GET /api/audit/export?format=json|ndjson|csv|bundle` (issue 7): the
 * store's streamed export written to the response with backpressure —
 * records matching the filters (oldest first, last 7 days unless `since`
 * is given) as a JSON array, NDJSON or CSV (RFC 4180, spreadsheet formulas
 * neutralised by the store), or a verifiable bundle of a stream or seq
 * range. An access record is committed before the first byte (fail closed)
 * and another when the export ends, with the number of records the store
 * wrote (its own count, not a scan of the text) when it ended complete. A client that
 * reads nothing for `exportDrainTimeoutMillis` is cut off, so it cannot
 * hold the export's read transaction (and a slot) open. On an encrypted
 * store an auditor gets json/ndjson with the sealed members withheld; csv
 * and bundle, which carry decrypted values, need the admin role. The
 * `Audit-Purged` header lists the runs of records the export's stream,
 * time or seq range reaches but that retention purged from the log (they
 * are only in the store's archives): the body's shape stays as it was. A
 * bundle of a range that starts past a stream's first record is refused
 * (422) when building its start — hashing the stored checksums before it,
 * back to seq 0 or an archive, synchronously — would read more than
 * `maxIntegrityRecords` rows, as the integrity route counts them. An
 * export with free text (`q`) runs in a search worker
 * (internal/search-pool.ts): its scan — long between matches — does not
 * stall the event loop; its chunks come back one at a time, with the
 * client's backpressure.
 */
import { callerInput, HttpError } from '../errors.js';
import type { Route, ServerState } from '../internal/context.js';
import { toJson } from '../internal/http.js';
import { purgedHeaders } from '../internal/purged-header.js';
import { rangeStartText } from '../internal/range-start-text.js';
import { ResponseSink, type ChunkRewrite } from '../internal/response-sink.js';
import { FILTER_SPECS, toStoreFilter, type Params } from '../internal/params.js';
import { runsInWorker, type SearchPool } from '../internal/search-pool.js';
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

/**
 * A bundle's start is built before its first byte, on the event loop: a
 * range deep in a long stream would block the server as long as verifying
 * the stream up to it. Refused beyond `maxIntegrityRecords` rows.
 */
function refuseDeepStart(state: ServerState, options: Record<string, unknown>): void {
  const { rows, longest } = callerInput(() => state.store.rangeStartCost(options));
  const max = state.limits.maxIntegrityRecords;
  if (rows <= max || longest === undefined) return;
  const { stream, seq } = longest;
  throw new HttpError('AUDIT_HTTP_RANGE_TOO_LARGE', `this bundle starts deep in stream ${JSON.stringify(stream)}: at seq ${seq}, with ${longest.rows} records before it back to `
    + `${rangeStartText(longest)}, whose stored hashes are all read to build the bundle's start — ${rows} in all, more than ${max} per request; `
    + 'export it offline with otel-audit export --format bundle on the database file, or raise the server\'s maxIntegrityRecords');
}

/** NDJSON chunks re-emitted as `format` with the sealed members withheld. */
function withholding(format: 'json' | 'ndjson'): ChunkRewrite {
  let rest = '';
  let first = true;
  let opened = format !== 'json';
  return {
    push(chunk) {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      let out = opened ? '' : '[';
      opened = true;
      for (const line of lines) {
        if (line.length === 0) continue;
        const text = toJson(withholdSealed(JSON.parse(line) as ApiRecord));
        out += format === 'json' ? `${first ? '\n' : ',\n'}${text}` : `${text}\n`;
        first = false;
      }
      return out;
    },
    end() {
      if (format === 'ndjson') return '';
      return `${opened ? '' : '['}${first ? ']\n' : '\n]\n'}`;
    },
  };
}

/** `store.exportTo(sink, options)`, run by a search worker. */
async function exportInWorker(pool: SearchPool, sink: ResponseSink, options: Record<string, unknown>): Promise<{ records: number }> {
  // Errors reach the callbacks below; the listener keeps a failed write from being an uncaught 'error'.
  sink.on('error', () => undefined);
  const write = (chunk: string): Promise<void> => new Promise((resolve, reject) => {
    sink.write(chunk, (e) => (e ? reject(e) : resolve()));
  });
  const result = await pool.export(options, write);
  await new Promise<void>((resolve, reject) => {
    sink.end((e?: Error | null) => (e ? reject(e) : resolve()));
  });
  return result;
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
    if (format === 'bundle') refuseDeepStart(state, options);
    if (state.busy.exports >= state.limits.maxConcurrentExports) throw new HttpError('AUDIT_HTTP_BUSY', `${state.limits.maxConcurrentExports} exports are already running; retry later`);
    state.busy.exports++;
    try {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const sink = new ResponseSink(res, {
        drainTimeoutMillis: state.limits.exportDrainTimeoutMillis,
        ...(withhold ? { rewrite: withholding(format as 'json' | 'ndjson') } : {}),
        // Before the first byte: the access record committed, then the purged runs, read once the export's snapshot began (a purge committed in between is reported, not missed).
        async start() {
          await ctx.audit('export', 'unknown', { query: params, phase: 'started' });
          const purged = purgedHeaders(callerInput(() => state.store.purgedRanges(options)));
          res.writeHead(200, {
            ...purged,
            'Content-Type': `${TYPES[format]}; charset=utf-8`,
            'Content-Disposition': `attachment; filename="audit-${stamp}.${format === 'bundle' ? 'bundle.json' : format}"`,
          });
        },
      });
      // The store counts the records it writes: the access record's count does not depend on what they contain.
      let result: { outcome: 'success'; count: number } | { outcome: 'error' };
      try {
        // A bad filter rejects before the sink is written to: a 400 before anything is recorded.
        const storeOptions = withhold ? { ...options, format: 'ndjson' } : options;
        const { records } = runsInWorker(options, state.encrypted)
          ? await exportInWorker(state.search, sink, storeOptions)
          : await state.store.exportTo(sink, storeOptions as unknown as Parameters<typeof state.store.exportTo>[1]);
        result = { outcome: 'success', count: records };
      } catch (e) {
        if (!(await sink.sent())) throw e instanceof TypeError || e instanceof RangeError ? new HttpError('AUDIT_HTTP_BAD_REQUEST', e.message, { cause: e }) : e;
        // The pipeline closed the export's read connection; the client gets a cut-off response.
        result = { outcome: 'error' };
        res.destroy();
      }
      // The data has left already: a failure to record the end is not reported to the client.
      await ctx.audit('export', result.outcome, { query: params, phase: 'finished', ...(result.outcome === 'success' ? { count: result.count } : {}) }).catch(() => undefined);
    } finally {
      state.busy.exports--;
    }
  },
};
