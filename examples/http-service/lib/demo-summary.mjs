// The "what was recorded" part of the demo: reads the SQLite store the
// service wrote (DESIGN §6) through @otel-audit/exporter-sqlite's public
// query API, prints a table of record counts by type, action and outcome,
// and checks that the families of events the traffic produced are there
// (logins both ways, denied authorizations, changes with before/after
// values, the rate-limit violation, checkpoints).
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';

/** Every record of the store, oldest first (pages of 1,000). */
function allRecords(store) {
  const out = [];
  let cursor;
  do {
    const page = store.query({ order: 'oldest', limit: 1000, ...(cursor ? { cursor } : {}) });
    out.push(...page.records.map((r) => r.record));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return out;
}

/**
 * Print the summary table of `dbPath`; returns `{ records, problems }` where
 * `problems` lists expected record families that are missing.
 *
 * @example
 * const { problems } = summarize('demo-output/audit.db', console.log);
 */
export function summarize(dbPath, print) {
  const store = new SqliteAuditStore(dbPath);
  try {
    const records = allRecords(store);
    const streams = store.streams();
    const checkpoints = store.database.prepare('SELECT count(*) AS n FROM audit_checkpoints').get().n;
    const groups = new Map();
    for (const r of records) {
      const key = `${r.type}\t${r.action}\t${r.outcome}`;
      groups.set(key, (groups.get(key) ?? 0) + 1);
    }
    const rows = [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => [...k.split('\t'), String(n)]);
    const head = ['type', 'action', 'outcome', 'records'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells) => '  ' + cells.map((c, i) => (i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
    print(line(head));
    print(line(widths.map((w) => '-'.repeat(w))));
    for (const r of rows) print(line(r));
    print('  (a login, change or denial appears twice: the HTTP record — who, route, status — and the explicit one — reason, policy, before/after)');
    print(`  ${records.length} records in ${streams.length} stream(s) (${streams.map((s) => s.stream).join(', ')}), ${checkpoints} signed checkpoint(s)`);

    const has = (pred) => records.some(pred);
    const expect = [
      ['a successful login', (r) => r.type === 'auth' && r.action === 'login' && r.outcome === 'success'],
      ['a failed login with its reason', (r) => r.type === 'auth' && r.action === 'login' && r.outcome === 'failure' && typeof r.details?.reason === 'string'],
      ['a denied authorization with its policy', (r) => r.type === 'access' && r.outcome === 'failure' && r.details?.decision === 'deny' && typeof r.details?.policy === 'string'],
      ['a change with old and new values', (r) => r.action === 'update' && r.old !== undefined && r.new !== undefined],
      ['a creation with the new value', (r) => r.action === 'create' && r.new !== undefined],
      ['a deletion with the old value', (r) => r.action === 'delete' && r.old !== undefined],
      ['a rate-limit violation', (r) => r.type === 'security' && r.action === 'rate_limit'],
    ];
    const problems = expect.filter(([, pred]) => !has(pred)).map(([what]) => `no record of ${what}`);
    if (checkpoints === 0) problems.push('no signed checkpoint');
    if (records.some((r) => JSON.stringify(r).includes('correct-horse'))) problems.push('a password reached a record');
    return { records: records.length, streams, problems };
  } finally {
    store.close();
  }
}
