/**
 * `GET /api/audit/stats` (issue 7 "summary cards ... computed by the store's
 * stats over the chosen window"): the store's `stats` over [since, until)
 * — default the last 7 days — plus the events-over-time series by type and
 * outcome for the chart (internal/window-stats.ts). Buckets: minutes up to
 * 6 hours, hours up to 14 days, UTC days beyond (a 6-month window of hours
 * was 2.4 MB); `bucket` chooses, minute buckets for windows of at most a
 * day. Computed in a search worker (internal/search-pool.ts): over months
 * the reads take seconds (2.5–3.2 s over 3 million records with 5,000
 * actors), which on the main thread would stall every other request.
 */
import { callerInputAsync, HttpError } from '../errors.js';
import type { Route } from '../internal/context.js';
import { sendJson } from '../internal/http.js';
import { DEFAULT_WINDOW_DAYS, millis } from '../internal/params.js';
import type { SeriesBucket } from '../internal/series.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Windows up to this long get hour buckets by default (the dashboard's 7 days: 168 bars); longer ones, days. */
const MAX_HOURLY_DEFAULT_MS = 14 * DAY_MS;

/** The route. */
export const statsRoute: Route = {
  method: 'GET',
  path: '/api/audit/stats',
  role: 'auditor',
  params: { since: { kind: 'time' }, until: { kind: 'time' }, bucket: { kind: 'enum', values: ['minute', 'hour', 'day'] } },
  async handle(ctx, params) {
    const untilMs = params.until === undefined ? Date.now() : millis(params.until as string);
    const sinceMs = params.since === undefined ? untilMs - DEFAULT_WINDOW_DAYS * DAY_MS : millis(params.since as string);
    if (sinceMs > untilMs) throw new HttpError('AUDIT_HTTP_BAD_REQUEST', 'since must not be after until');
    const span = untilMs - sinceMs;
    const bucket = (params.bucket as SeriesBucket | undefined) ?? (span <= 6 * HOUR_MS ? 'minute' : span <= MAX_HOURLY_DEFAULT_MS ? 'hour' : 'day');
    if (bucket === 'minute' && span > DAY_MS) throw new HttpError('AUDIT_HTTP_BAD_REQUEST', 'bucket=minute is limited to windows of at most one day; use bucket=hour or bucket=day, or a shorter window');
    const answer = await callerInputAsync(() => ctx.state.search.stats({ sinceMs, untilMs, bucket }));
    await ctx.audit('view', 'success', { query: params, count: answer.total });
    sendJson(ctx.res, 200, answer);
  },
};
