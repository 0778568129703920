/**
 * Events over time by type and outcome, for the dashboard's chart (issue 7
 * "an events-over-time chart by type and outcome"). The store's `stats`
 * gives totals per bucket; the chart needs them split. Whole hours are read
 * from the store's derived hourly counts (`audit_stats_hourly`, kept by
 * append and purge), the partial hours at the window's edges and minute
 * buckets from the `audit_logs_time` index, which covers type and result,
 * so no row is read. Day buckets (UTC) add up the hourly counts in SQL, so
 * a 6-month window answers 180 points rather than 4,380. Like the stats,
 * these counts are not verified.
 */
import type { SqliteAuditStore } from '@otel-audit/exporter-sqlite';

/** One bucket's counts by `type/outcome`. */
export interface SeriesPoint {
  start: string;
  counts: Record<string, number>;
}

const HOUR = 3_600_000_000_000n;
const MINUTE = 60_000_000_000n;
const DAY = 24n * HOUR;
const WIDTH = { minute: MINUTE, hour: HOUR, day: DAY } as const;

/** A bucket width of the stats and the series. */
export type SeriesBucket = keyof typeof WIDTH;

/**
 * Counts by type and outcome per bucket over [since, until), in time order.
 *
 * @example
 * seriesByTypeAndOutcome(reader, since, until, 'day') // [{ start: '2026-05-01T00:00:00.000Z', counts: { 'auth/failure': 3 } }, ...]
 */
export function seriesByTypeAndOutcome(reader: ReturnType<SqliteAuditStore['openReader']>, since: bigint, until: bigint, bucket: SeriesBucket): SeriesPoint[] {
  const points = new Map<bigint, Record<string, number>>();
  const add = (b: bigint, type: string, result: string, n: number): void => {
    const counts = points.get(b) ?? {};
    const key = `${type}/${result}`;
    counts[key] = (counts[key] ?? 0) + n;
    points.set(b, counts);
  };
  const width = WIDTH[bucket];
  const fromRows = reader.prepare(
    'SELECT time_unix_nano / ? AS b, event_type AS t, event_result AS r, count(*) AS n FROM audit_logs WHERE time_unix_nano >= ? AND time_unix_nano < ? GROUP BY 1, 2, 3',
  ).safeIntegers();
  const rows = (from: bigint, to: bigint): void => {
    if (from >= to) return;
    for (const r of fromRows.all(width, from, to) as { b: bigint; t: string; r: string; n: bigint }[]) add(r.b * width, r.t, r.r, Number(r.n));
  };
  const firstHour = (since + HOUR - 1n) / HOUR;
  const endHour = until / HOUR;
  if (bucket !== 'minute' && endHour > firstHour) {
    rows(since, firstHour * HOUR);
    rows(endHour * HOUR, until);
    const hours = width / HOUR;
    const hourly = reader.prepare(
      'SELECT hour / ? AS b, event_type AS t, event_result AS r, sum(n) AS n FROM audit_stats_hourly WHERE hour >= ? AND hour < ? GROUP BY 1, 2, 3',
    ).safeIntegers();
    for (const r of hourly.all(hours, firstHour, endHour) as { b: bigint; t: string; r: string; n: bigint }[]) if (r.n > 0n) add(r.b * width, r.t, r.r, Number(r.n));
  } else {
    rows(since, until);
  }
  return [...points].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([b, counts]) => ({ start: new Date(Number(b / 1_000_000n)).toISOString(), counts }));
}
