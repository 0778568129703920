/**
 * What `GET /api/audit/stats` answers for a window (issue 7 "summary cards
 * ... computed by the store's stats over the chosen window" and "an
 * events-over-time chart by type and outcome"): the store's `stats` plus
 * the series by type and outcome (series.ts), both in minute, hour or UTC
 * day buckets — a 6-month window of days is 180 points rather than 4,380
 * hours. Computed in the search worker (search-worker.ts): over a long
 * window — distinct actors above all — the reads take seconds, which on
 * the main thread would stall every other request.
 */
import type { AuditStats, SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { seriesByTypeAndOutcome, type SeriesBucket, type SeriesPoint } from './series.js';

/** The window of a stats job: milliseconds since the epoch, [sinceMs, untilMs). */
export interface WindowStatsOptions {
  sinceMs: number;
  untilMs: number;
  bucket: SeriesBucket;
}

/** The stats answer: the store's stats, the bucket width, and the series. */
export type WindowStats = AuditStats & { bucket: SeriesBucket; series: SeriesPoint[] };

/**
 * The stats and series of a window, read through `store` and `reader`.
 *
 * @example
 * const answer = windowStats(store, reader, { sinceMs: Date.now() - 30 * 864e5, untilMs: Date.now(), bucket: 'day' });
 */
export function windowStats(store: SqliteAuditStore, reader: ReturnType<SqliteAuditStore['openReader']>, options: WindowStatsOptions): WindowStats {
  const { sinceMs, untilMs, bucket } = options;
  const stats = store.stats({ since: new Date(sinceMs), until: new Date(untilMs), bucket });
  const series = seriesByTypeAndOutcome(reader, BigInt(sinceMs) * 1_000_000n, BigInt(untilMs) * 1_000_000n, bucket);
  return { ...stats, bucket, series };
}
