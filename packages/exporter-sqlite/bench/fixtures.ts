/**
 * Shared fixtures of the exporter-sqlite benchmarks: realistic events
 * (~20 members, nested details, ~700 bytes of canonical JSON, UUIDv7 ids as
 * in production), and a fast builder of large stores — records sealed with
 * core's AuditChain, then inserted raw in transactions of 10,000 with a
 * signed checkpoint every 1,000 records, hourly counts filled at the end — so the 1,000,000-row benchmarks
 * spend their time measuring, not setting up.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { AuditChain, createRecordId, generateNoteKey, Keyring, parseSignerKey, type AuditEventInput } from '@otel-audit/core';
import { SqliteAuditStore } from '../src/index.js';
import { recordToRow, RECORD_COLUMNS } from '../src/internal/row-mapping.js';

const ACTIONS = ['login', 'logout', 'view', 'create', 'update', 'delete', 'grant', 'export'];
const TYPES = ['auth', 'crud', 'access', 'admin', 'api'];
export const ACTORS = 200;

/** The i-th realistic event at `timeNs`. */
export function benchEvent(i: number, timeNs: bigint): AuditEventInput {
  const hex = ((i * 2654435761) >>> 0).toString(16).padStart(8, '0');
  return {
    id: createRecordId(),
    time: timeNs,
    type: TYPES[i % TYPES.length]!,
    action: ACTIONS[i % ACTIONS.length]!,
    outcome: i % 7 === 0 ? 'failure' : 'success',
    severity: i % 7 === 0 ? 'warning' : 'info',
    actor: { id: `user-${(i * 7919) % ACTORS}`, type: 'user', ip: `10.0.${i % 256}.${(i * 7) % 256}`, user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36' },
    target: { type: 'tool', id: `tool-${(i * 104729) % 5000}`, name: `Tool number ${i % 5000}` },
    request: { id: `req-${hex}`, session_id: `sess-${i % 300}`, endpoint: `/admin/tools/${i % 1000}`, method: 'PUT', trace_id: `${hex}${hex}${hex}${hex}`, span_id: `${hex}${hex}` },
    details: { reason: 'scheduled maintenance', ticket: `OPS-${i}`, tags: ['prod', 'eu-west-1'], attempt: i % 3, quota: { used: i % 100, limit: 100 } },
  };
}

export const benchKeys = generateNoteKey('bench.example/audit');
export const benchSigner = parseSignerKey(benchKeys.signerKey);
export const benchKeyring = Keyring.from([benchKeys.verifierKey]);

/** A temp dir for one benchmark run. */
export function benchDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-bench-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The raw INSERT of a record row, exactly as the store writes it. */
export const INSERT_SQL = `INSERT INTO audit_logs (${RECORD_COLUMNS.join(', ')}) VALUES (${RECORD_COLUMNS.map(() => '?').join(', ')})`;

/**
 * Build a store at `file` with `n` records of one stream spread evenly over
 * the `spanDays` days before `endNs`; returns the build time in seconds.
 */
export function buildStore(file: string, n: number, endNs: bigint, spanDays = 30): number {
  const started = process.hrtime.bigint();
  new SqliteAuditStore(file).close();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const insert = db.prepare(INSERT_SQL);
  const insertCp = db.prepare('INSERT INTO audit_checkpoints (stream, size, root_hash, time_unix_nano, note) VALUES (?, ?, ?, ?, ?)');
  const chain = new AuditChain({ stream: 'bench/1' });
  const step = (BigInt(spanDays) * 86_400_000_000_000n) / BigInt(n);
  const start = endNs - step * BigInt(n);
  const chunk = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const t = start + step * BigInt(i);
      const sealed = chain.append(benchEvent(i, t));
      insert.run(recordToRow(sealed.record as never, sealed.hash, undefined));
      if (chain.size % 1000 === 0) insertCp.run(chain.stream, chain.size, chain.rootHex(), t, chain.checkpoint(t, [benchSigner]));
    }
  });
  for (let i = 0; i < n; i += 10_000) chunk(i, Math.min(n, i + 10_000));
  // The derived hourly counts the appender keeps, filled in one pass.
  db.exec(`INSERT INTO audit_stats_hourly (hour, event_type, event_action, event_result, severity, n)
    SELECT time_unix_nano / 3600000000000, event_type, event_action, event_result, severity, count(*) FROM audit_logs WHERE true GROUP BY 1, 2, 3, 4, 5`);
  const h = chain.head();
  db.prepare('INSERT INTO audit_stream_heads (stream, hash_alg, size, prev, compact_range) VALUES (?, ?, ?, ?, ?)').run(h.stream, h.alg, h.size, h.prev, JSON.stringify(h.compactRange));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Percentile (0..1) of a sorted array of numbers. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}
