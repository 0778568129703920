/**
 * Which logs pages run in the search worker (search-pool.ts): those that
 * may read far more of the table than the page returns. A page is cheap
 * when one index holds exactly its equality filters, followed by the time:
 * SQLite then walks that index in time order and stops after `limit` rows
 * (the index names are those of the store's schema). Any other equality
 * filter is checked entry by entry, so a rare value — `type=system`, or
 * `stream=a&type=system` — reads the whole window before the page fills:
 * 1.0–1.2 s for `type=system` over 3 million records, on the main thread a
 * stall of every other request. Free text (`q=`) always scans. The
 * excluded stream is the server's own access stream, one record per request:
 * leaving it out skips few entries, so it does not count.
 */

/** The equality filters of each index that serves them in time order. */
const NARROWED_BY: readonly (readonly string[])[] = [
  [], // audit_logs_time: the window alone
  ['stream'], // audit_logs_stream_time
  ['requestId'], // audit_logs_request
  ['actorId'], // audit_logs_actor
  ['targetType', 'targetId'], // audit_logs_target
];

/** The store filter's equality filters (record-filter.ts). */
const EQUALITY = ['stream', 'eventType', 'eventAction', 'actorId', 'targetType', 'targetId', 'severity', 'result', 'requestId'] as const;

/**
 * Whether the logs page of `filter` runs in a search worker: it has free
 * text, or its equality filters are not exactly those of one index — unless
 * the store is encrypted at rest, where only the main thread's store holds
 * the key that opens the sealed columns of the page (and refuses `text`
 * before reading a row).
 *
 * @example
 * logsRunInWorker({ eventType: 'system', since }, false) // true: the time index is read entry by entry
 * logsRunInWorker({ stream: 'api/1', since }, false) // false: (stream, time) serves the page
 */
export function logsRunInWorker(filter: Record<string, unknown>, encrypted: boolean): boolean {
  if (encrypted) return false;
  if (filter.text !== undefined) return true;
  const given = EQUALITY.filter((key) => filter[key] !== undefined);
  return !NARROWED_BY.some((index) => index.length === given.length && index.every((key) => given.includes(key as (typeof EQUALITY)[number])));
}
