// The dashboard's Export control (issue 7 export): downloads the records of
// the log's current filters from /api/audit/export as json, ndjson or csv.
// The token goes in the Authorization header of a fetch, never in a URL; the
// body becomes a Blob saved through a temporary object URL. When the export's
// range reaches records that retention purged (the `Audit-Purged` header),
// the notice says so, as the log's does. Text reaches the page only through
// textContent and `text` (dom.js).
import { text } from './dom.js';
import { purgedNotice } from './purged.js';

/** The file name of the answer's Content-Disposition, or a default. */
function fileName(res, format) {
  const m = /filename="([\w.-]{1,100})"/.exec(res.headers.get('Content-Disposition') || '');
  return m ? m[1] : `audit-export.${format}`;
}

/** The purged notice of the answer's `Audit-Purged` and `Audit-Purged-Omitted` headers ('' when none). */
export function purgedOfHeaders(headers) {
  let runs = [];
  try {
    runs = JSON.parse(headers.get('Audit-Purged') || '[]');
  } catch {
    return 'The export reaches purged records, but the server\'s Audit-Purged header could not be read.';
  }
  const omitted = Number(headers.get('Audit-Purged-Omitted') || 0);
  const more = omitted > 0 ? ` ${omitted} more purged run(s) are not named here; the log with the same filters lists them all.` : '';
  return (Array.isArray(runs) ? purgedNotice(runs) : '') + more;
}

/**
 * Export the records of `params` (the log's filters) as `format` with bearer
 * `token`; reports progress and the outcome in `status`, purged runs in `notice`.
 * Resolves to the number of bytes saved (0 when it failed).
 */
export async function exportRecords({ params, format, token, status, notice, onUnauthorized }) {
  status.textContent = `exporting ${format}…`;
  notice.hidden = true;
  let res;
  try {
    res = await fetch('/api/audit/export?' + new URLSearchParams({ ...params, format }), { headers: { Authorization: `Bearer ${token}` } });
  } catch {
    status.textContent = 'export failed: cannot reach the otel-audit server';
    return 0;
  }
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    status.textContent = text(`export failed: ${body?.error?.message || `HTTP ${res.status}`}`);
    if (res.status === 401) onUnauthorized();
    return 0;
  }
  const purged = purgedOfHeaders(res.headers);
  notice.textContent = text(purged);
  notice.hidden = purged === '';
  let blob;
  try {
    blob = await res.blob();
  } catch {
    status.textContent = 'export failed: the server cut the export off (see its access record); nothing was saved';
    return 0;
  }
  const name = fileName(res, format);
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  status.textContent = text(`saved ${name} (${blob.size} bytes)`);
  return blob.size;
}
