/**
 * Which purged prefixes a query or export reaches (DESIGN §6 retention).
 * After a purge the records of an archived prefix live only in
 * `audit_log_archives`; a query whose range reaches into that prefix
 * returns fewer records, and this says which and where they are. It reads
 * only `audit_log_purges` joined to the archives' descriptions (one row per
 * archive, never the records or the archive data), so it is cheap enough to
 * run beside every query. Only the stream(s), the time range and the seq
 * range of a filter are matched; the other filters (actor, type, text, …)
 * would need the archived records, so a reported range may hold no record
 * that they match.
 */
import type Database from 'better-sqlite3';
import { describe } from './describe.js';
import { toNanos, type TimeInput } from './time-input.js';

/**
 * The stream, time and seq bounds that {@link purgedRanges} matches. Any
 * `AuditQuery`, `ExportOptions` or `BundleExportOptions` may be passed as
 * is: their other members are accepted and ignored.
 */
export interface PurgedRangeFilter {
  /** One stream (as in `AuditQuery`). */
  stream?: string;
  /** Several streams (as in a bundle export). */
  streams?: readonly string[];
  /** Every stream but this one (as in `AuditQuery`). */
  excludeStream?: string;
  /** Records at or after this time. */
  since?: TimeInput;
  /** Records before this time. */
  until?: TimeInput;
  /** First seq (as in a bundle export). */
  fromSeq?: number;
  /** Last seq, inclusive. */
  toSeq?: number;
}

/**
 * A run of consecutive purged archives of one stream that a filter
 * reaches: the records `firstSeq..lastSeq` are no longer in the log, only
 * in the archives `archiveIds` of the store (`SqliteAuditStore.readArchive`).
 */
export interface PurgedRange {
  stream: string;
  firstSeq: number;
  /** Inclusive. */
  lastSeq: number;
  records: number;
  /** Unix nanoseconds of the first and the last purged record of the run. */
  firstTimeUnixNano: bigint;
  lastTimeUnixNano: bigint;
  /** When the first and the last archive of the run were purged, Unix nanoseconds (a purge stamps each archive it deletes). */
  firstPurgedUnixNano: bigint;
  lastPurgedUnixNano: bigint;
  /** Ids of the `system/retention_purge` records that announced the purges, oldest first. */
  purgeRecordIds: string[];
  /** The archives holding the records, in seq order. */
  archiveIds: number[];
}

/** Members of queries and exports that are not bounds: accepted, not matched. */
const IGNORED = new Set([
  'eventType', 'eventAction', 'actorId', 'targetType', 'targetId', 'severity', 'result', 'requestId', 'text',
  'order', 'limit', 'cursor', 'offset', 'format',
]);
const BOUNDS = new Set(['stream', 'streams', 'excludeStream', 'since', 'until', 'fromSeq', 'toSeq']);
const MAX_NS = (1n << 63n) - 1n;

interface PurgedRow {
  archive_id: bigint; stream: string; first_seq: bigint; last_seq: bigint; record_count: bigint;
  first_time_unix_nano: bigint; last_time_unix_nano: bigint; purge_record_id: string; purged_unix_nano: bigint;
}

const SELECT = `SELECT a.archive_id, a.stream, a.first_seq, a.last_seq, a.record_count, a.first_time_unix_nano, a.last_time_unix_nano,
  p.purge_record_id, p.purged_unix_nano
  FROM audit_log_purges p JOIN audit_log_archives a ON a.archive_id = p.archive_id
  WHERE a.last_time_unix_nano >= ? AND a.first_time_unix_nano < ? AND a.last_seq >= ? AND a.first_seq <= ?`;

function seqBound(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer; got ${describe(value)}`);
  return value;
}

/** The stream names `filter` keeps, or undefined for every stream. */
function streamsOf(filter: Record<string, unknown>): string[] | undefined {
  const { stream, streams } = filter;
  if (stream !== undefined && typeof stream !== 'string') throw new TypeError(`filter.stream must be a string; got ${describe(stream)}`);
  if (streams !== undefined && (!Array.isArray(streams) || streams.some((s) => typeof s !== 'string'))) throw new TypeError(`filter.streams must be an array of stream ids; got ${describe(streams)}`);
  const list = streams as string[] | undefined;
  if (stream === undefined) return list === undefined ? undefined : [...new Set(list)];
  return list === undefined || list.includes(stream) ? [stream] : [];
}

/**
 * The purged runs that `filter` reaches, by stream then seq. Throws
 * TypeError/RangeError for a bound of the wrong type or value and for an
 * unknown member, naming it.
 */
export function purgedRanges(db: Database.Database, filter: object = {}): PurgedRange[] {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) throw new TypeError(`filter must be an object; got ${describe(filter)}`);
  const f = filter as Record<string, unknown>;
  for (const key of Object.keys(f)) {
    if (!BOUNDS.has(key) && !IGNORED.has(key)) throw new RangeError(`filter.${key} is not a known option; bounds are ${[...BOUNDS].join(', ')} (other query and export options are accepted and ignored)`);
  }
  const names = streamsOf(f);
  const since = toNanos(f.since as TimeInput | undefined, 'filter.since') ?? 0n;
  const until = toNanos(f.until as TimeInput | undefined, 'filter.until') ?? MAX_NS;
  if (since > until) throw new RangeError('filter.since must not be after filter.until');
  const fromSeq = seqBound(f.fromSeq, 'filter.fromSeq') ?? 0;
  const toSeq = seqBound(f.toSeq, 'filter.toSeq') ?? Number.MAX_SAFE_INTEGER;
  if (since === until) return [];
  const rows: PurgedRow[] = [];
  if (names === undefined) {
    rows.push(...(db.prepare(`${SELECT} ORDER BY a.stream, a.first_seq`).safeIntegers().all(since, until, fromSeq, toSeq) as PurgedRow[]));
  } else {
    const one = db.prepare(`${SELECT} AND a.stream = ? ORDER BY a.first_seq`).safeIntegers();
    for (const name of [...names].sort()) rows.push(...(one.all(since, until, fromSeq, toSeq, name) as PurgedRow[]));
  }
  const excluded = f.excludeStream;
  if (excluded !== undefined && typeof excluded !== 'string') throw new TypeError(`filter.excludeStream must be a string; got ${describe(excluded)}`);
  return runsOf(excluded === undefined ? rows : rows.filter((r) => r.stream !== excluded));
}

/** Consecutive archives of a stream (each starting where the last ended) merged into runs. */
function runsOf(rows: readonly PurgedRow[]): PurgedRange[] {
  const runs: PurgedRange[] = [];
  let run: PurgedRange | undefined;
  for (const r of rows) {
    const purged = BigInt(r.purged_unix_nano);
    if (run !== undefined && run.stream === r.stream && run.lastSeq + 1 === Number(r.first_seq)) {
      run.lastSeq = Number(r.last_seq);
      run.records += Number(r.record_count);
      run.lastTimeUnixNano = BigInt(r.last_time_unix_nano);
      if (purged < run.firstPurgedUnixNano) run.firstPurgedUnixNano = purged;
      if (purged > run.lastPurgedUnixNano) run.lastPurgedUnixNano = purged;
      // Archives come in seq order, so the archives of one purge are adjacent.
      if (run.purgeRecordIds.at(-1) !== r.purge_record_id) run.purgeRecordIds.push(r.purge_record_id);
      run.archiveIds.push(Number(r.archive_id));
      continue;
    }
    run = {
      stream: r.stream, firstSeq: Number(r.first_seq), lastSeq: Number(r.last_seq), records: Number(r.record_count),
      firstTimeUnixNano: BigInt(r.first_time_unix_nano), lastTimeUnixNano: BigInt(r.last_time_unix_nano),
      firstPurgedUnixNano: purged, lastPurgedUnixNano: purged, purgeRecordIds: [r.purge_record_id], archiveIds: [Number(r.archive_id)],
    };
    runs.push(run);
  }
  return runs;
}
