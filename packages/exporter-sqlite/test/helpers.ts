/**
 * Shared fixtures of the exporter-sqlite tests: temp-dir stores, sealed
 * streams with signed checkpoints (built with core's AuditChain, as the
 * processor would), and the attacker's raw connection with the append-only
 * triggers dropped.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import {
  AuditChain, createRecordId, generateNoteKey, Keyring, parseSignerKey,
  type AuditBatch, type AuditEventInput, type SealedCheckpoint, type SealedRecord,
} from '@otel-audit/core';
import { SqliteAuditStore, type SqliteAuditStoreOptions } from '../src/index.js';

export const T0 = 1_700_000_000_000_000_000n;
export const MINUTE = 60_000_000_000n;
export const keys = generateNoteKey('test.example/audit');
export const signer = parseSignerKey(keys.signerKey);
export const keyring = Keyring.from([keys.verifierKey]);

/** A temp dir with a database path; `cleanup` removes it. */
export function tempDb(): { dir: string; file: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-sqlite-'));
  return { dir, file: path.join(dir, 'audit.db'), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** An event with every member set, so every column of its row holds a value. */
export function fullEvent(i: number, time: bigint = T0 + BigInt(i) * MINUTE): AuditEventInput {
  return {
    id: createRecordId(), time, type: i % 4 === 0 ? 'auth' : 'crud', action: i % 4 === 0 ? 'login' : 'update',
    outcome: i % 5 === 0 ? 'failure' : 'success', severity: i % 5 === 0 ? 'warning' : 'info',
    actor: { id: `user-${i % 3}`, type: 'user', ip: '10.0.0.' + (i % 250), user_agent: 'Mozilla/5.0 test' },
    target: { type: 'tool', id: String(i % 7), name: `tool ${i % 7}` },
    request: { id: `req-${i}`, session_id: 'sess-1', endpoint: '/admin/tools/:id', method: 'PUT', trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331' },
    details: { i, note: 'a "quoted" value', nested: { list: [1, 2.5, null, true] } },
    error: i % 5 === 0 ? 'permission denied' : null,
    old: { name: 'before' }, new: { name: 'after' }, redacted: ['/details/password'],
  };
}

/** Checkpoint of a chain in the sink's shape. */
export function sealedCheckpoint(chain: AuditChain, time: bigint, signed = true): SealedCheckpoint {
  return { stream: chain.stream, size: chain.size, rootHash: chain.rootHex(), timeUnixNano: time, note: chain.checkpoint(time, signed ? [signer] : []) };
}

/** Append `n` records to `chain` in one batch with a signed checkpoint every `every`. */
export function sealBatch(chain: AuditChain, n: number, every = 10, make: (i: number) => AuditEventInput = (i) => fullEvent(i)): AuditBatch & { records: SealedRecord[]; checkpoints: SealedCheckpoint[] } {
  const records: SealedRecord[] = [];
  const checkpoints: SealedCheckpoint[] = [];
  for (let k = 0; k < n; k++) {
    const i = chain.size;
    records.push(chain.append(make(i)));
    if (chain.size % every === 0) checkpoints.push(sealedCheckpoint(chain, T0 + BigInt(i) * MINUTE));
  }
  return { records, checkpoints };
}

/** A store in a temp dir holding one stream of `n` records (signed every 10). */
export function storeWith(n: number, options: SqliteAuditStoreOptions = {}, stream = 'svc/1') {
  const tmp = tempDb();
  const store = new SqliteAuditStore(tmp.file, options);
  const chain = new AuditChain({ stream });
  const batch = sealBatch(chain, n);
  store.appendSync(batch);
  return { ...tmp, store, chain, batch, close: () => { store.close(); tmp.cleanup(); } };
}

/** The attacker: a raw connection with every append-only trigger dropped. */
export function attacker(file: string): Database.Database {
  const db = new Database(file);
  for (const name of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all() as string[]) db.exec(`DROP TRIGGER "${name}"`);
  return db;
}

/** Findings as `code@seq` strings. */
export function codes(report: { streams: { findings: { code: string; seq?: number; size?: number }[] }[] }): string[] {
  return report.streams.flatMap((s) => s.findings.map((f) => `${f.code}@${f.seq ?? f.size}`));
}

/**
 * Registers cleanup after each test of the calling file and returns
 * `setup(n)`, which opens a store in a temp dir holding `n` sealed records.
 */
export function storesPerTest(): (n?: number) => ReturnType<typeof storeWith> {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    while (cleanups.length) cleanups.pop()!();
  });
  return (n = 30) => {
    const s = storeWith(n);
    cleanups.push(s.close);
    return s;
  };
}

/** All chunks of an export, joined. */
export async function collectText(it: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of it) out += chunk;
  return out;
}
