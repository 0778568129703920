/**
 * `GET /api/audit/stats` (issue 7 "summary cards ... computed by the store's
 * stats over the chosen window"): the store's `stats` over [since, until)
 * — default the last 7 days — plus the events-over-time series by type and
 * outcome for the chart. Minute buckets are limited to windows of a day.
 */
import { callerInput, HttpError } from '../errors.js';
import type { Route } from '../internal/context.js';
import { sendJson } from '../internal/http.js';
import { DEFAULT_WINDOW_DAYS, millis } from '../internal/params.js';
import { seriesByTypeAndOutcome } from '../internal/series.js';

const DAY_MS = 86_400_000;

/** The route. */
export const statsRoute: Route = {
  method: 'GET',
  path: '/api/audit/stats',
  role: 'auditor',
  params: { since: { kind: 'time' }, until: { kind: 'time' }, bucket: { kind: 'enum', values: ['minute', 'hour'] } },
  async handle(ctx, params) {
    const untilMs = params.until === undefined ? Date.now() : millis(params.until as string);
    const sinceMs = params.since === undefined ? untilMs - DEFAULT_WINDOW_DAYS * DAY_MS : millis(params.since as string);
    if (sinceMs > untilMs) throw new HttpError('AUDIT_HTTP_BAD_REQUEST', 'since must not be after until');
    const bucket = (params.bucket as 'minute' | 'hour' | undefined) ?? (untilMs - sinceMs <= 6 * 3_600_000 ? 'minute' : 'hour');
    if (bucket === 'minute' && untilMs - sinceMs > DAY_MS) throw new HttpError('AUDIT_HTTP_BAD_REQUEST', 'bucket=minute is limited to windows of at most one day; use bucket=hour or a shorter window');
    const since = new Date(sinceMs);
    const until = new Date(untilMs);
    const stats = callerInput(() => ctx.state.store.stats({ since, until, bucket }));
    const series = seriesByTypeAndOutcome(ctx.state.reader, BigInt(sinceMs) * 1_000_000n, BigInt(untilMs) * 1_000_000n, bucket);
    await ctx.audit('view', 'success', { query: params, count: stats.total });
    sendJson(ctx.res, 200, { ...stats, bucket, series });
  },
};
