/**
 * `GET /api/audit/logs` (issue 7 "API"): one page of records matching the
 * filters (type, action, outcome, severity, actor, target, stream, request
 * id, time range, free text), newest first by default, keyset-paginated by
 * the store's opaque cursor, limit 1..1000 (default 100), over the last 7
 * days unless `since` is given. `purged` lists the runs of records that the
 * stream and time range reach but that retention purged from the log (they
 * are only in the store's archives), so a short page is not read as "nothing
 * happened". `exclude_stream` leaves one stream out (the dashboard leaves
 * out this server's own access records). The read is an access record listing the filters and the
 * number of records returned. A page that may read much more of the table
 * than it returns — free text (`q`), or filters no index narrows, such as
 * `type` alone (internal/slow-query.ts) — runs in a search worker
 * (internal/search-pool.ts), so its scan does not stall the event loop and
 * every other request; the page is the one the store's `query` returns.
 */
import type { AuditQueryPage } from '@otel-audit/exporter-sqlite';
import { callerInput, callerInputAsync } from '../errors.js';
import type { Route } from '../internal/context.js';
import { sendJson } from '../internal/http.js';
import { FILTER_SPECS, toStoreFilter } from '../internal/params.js';
import { logsRunInWorker } from '../internal/slow-query.js';
import { withholdSealed, type ApiRecord } from '../internal/withhold.js';

/** The route. */
export const logsRoute: Route = {
  method: 'GET',
  path: '/api/audit/logs',
  role: 'auditor',
  params: { ...FILTER_SPECS, limit: { kind: 'int', min: 1, max: 1000 }, cursor: { kind: 'string', max: 200 }, order: { kind: 'enum', values: ['newest', 'oldest'] } },
  async handle(ctx, params) {
    const filter = toStoreFilter(params);
    const query = {
      ...filter,
      limit: (params.limit as number | undefined) ?? 100,
      order: (params.order as 'newest' | 'oldest' | undefined) ?? 'newest',
      ...(params.cursor === undefined ? {} : { cursor: params.cursor as string }),
    };
    const page = logsRunInWorker(filter, ctx.state.encrypted)
      ? await callerInputAsync(() => ctx.state.search.query<AuditQueryPage>(query))
      : callerInput(() => ctx.state.store.query(query));
    const withhold = ctx.state.encrypted && ctx.principal.role !== 'admin';
    const records = page.records.map((r) => (withhold ? withholdSealed(r as unknown as ApiRecord) : r));
    // After the query, so a purge committed in between is reported rather than missed.
    const purged = callerInput(() => ctx.state.store.purgedRanges(filter));
    await ctx.audit('view', 'success', { query: params, count: records.length });
    sendJson(ctx.res, 200, { records, nextCursor: page.nextCursor ?? null, since: filter.since, until: filter.until ?? null, purged });
  },
};
