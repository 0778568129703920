/**
 * The `Audit-Purged` header of an export (DESIGN §6 retention): an export's
 * body is a file — a bare JSON array, NDJSON, CSV or a bundle — whose shape
 * clients rely on, so the purged runs that its range reaches travel beside
 * it, as the JSON array that `GET /api/audit/logs` returns in `purged`.
 * Header values must be ASCII, so every other character is written as a
 * JSON `\uXXXX` escape (the value stays JSON). Headers are bounded (clients
 * refuse more than 16 KiB in all), so runs past {@link MAX_PURGED_HEADER_CHARS}
 * are left out and `Audit-Purged-Omitted` counts them.
 */
import type { PurgedRange } from '@otel-audit/exporter-sqlite';
import { toJson } from './http.js';

/**
 * The header that lists the purged runs an export reaches (`[]` when none).
 *
 * @example
 * const purged = JSON.parse(res.headers.get(PURGED_HEADER) ?? '[]');
 */
export const PURGED_HEADER = 'Audit-Purged';

/**
 * Present when runs were left out of {@link PURGED_HEADER}: how many.
 *
 * @example
 * if (res.headers.has(PURGED_OMITTED_HEADER)) console.warn('more purged runs: ask /api/audit/logs with the same filters');
 */
export const PURGED_OMITTED_HEADER = 'Audit-Purged-Omitted';

/** Longest value of {@link PURGED_HEADER}. */
export const MAX_PURGED_HEADER_CHARS = 8192;

function ascii(json: string): string {
  return json.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The headers that carry `purged`.
 *
 * @example
 * res.writeHead(200, { ...purgedHeaders(store.purgedRanges(options)), 'Content-Type': 'text/csv' });
 */
export function purgedHeaders(purged: readonly PurgedRange[]): Record<string, string> {
  const items: string[] = [];
  let chars = 2;
  for (const run of purged) {
    const item = ascii(toJson(run));
    if (chars + item.length + 1 > MAX_PURGED_HEADER_CHARS) break;
    items.push(item);
    chars += item.length + 1;
  }
  const headers: Record<string, string> = { [PURGED_HEADER]: `[${items.join(',')}]` };
  if (items.length < purged.length) headers[PURGED_OMITTED_HEADER] = String(purged.length - items.length);
  return headers;
}
