/**
 * Issue 4, "Faults and bad input": the processor writing to a real SQLite
 * store while the database becomes read-only, full or locked. The store
 * reports each as a retryable error, the processor's retry policy takes
 * over, producers' receipts wait instead of failing, and once the fault
 * clears every record is committed exactly once in an intact chain.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { afterEach, describe, expect, it } from 'vitest';
import { Keyring, generateNoteKey } from '@otel-audit/core';
import { AuditLogRecordProcessor } from '@otel-audit/processor';
import { SqliteAuditStore, StoreOpenError } from '@otel-audit/exporter-sqlite';
import { createAuditLogger } from '@otel-audit/instrumentation';

const keys = generateNoteKey('faults.example/audit');
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function pipeline() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-faults-'));
  const file = path.join(dir, 'audit.db');
  const store = new SqliteAuditStore(file, { busyTimeoutMillis: 20 });
  const processor = new AuditLogRecordProcessor({
    stream: 'faults/1',
    sinks: [store],
    signerKey: keys.signerKey,
    flushIntervalMillis: 10,
    retryInitialMillis: 10,
    retryMaxMillis: 50,
  });
  const provider = new LoggerProvider({ processors: [processor] });
  const audit = createAuditLogger({ loggerProvider: provider, receiptTimeoutMillis: 0 });
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return { file, store, processor, provider, audit };
}

const settled = <T>(p: Promise<T>) => {
  const state = { done: false };
  void p.then(() => (state.done = true), () => (state.done = true));
  return state;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Emit `n` awaited records; the returned promise holds their receipts. */
function emit(audit: ReturnType<typeof createAuditLogger>, n: number, from: number) {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      audit.log({ type: 'crud', action: 'update', outcome: 'success', actor: { id: `user-${from + i}` }, details: { i: from + i } }),
    ),
  );
}

async function expectIntact(p: ReturnType<typeof pipeline>, records: number) {
  await p.provider.shutdown();
  const reopened = new SqliteAuditStore(p.file);
  try {
    const report = await reopened.verify({ keyring: Keyring.from([keys.verifierKey]) });
    expect(report.streams.flatMap((s) => s.findings)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.streams[0]!.checkpoints.verified).toBeGreaterThan(0);
    const rows = reopened.database.prepare("SELECT count(*) AS n FROM audit_logs WHERE event_type = 'crud'").get() as { n: number };
    expect(rows.n).toBe(records);
  } finally {
    reopened.close();
  }
}

describe('the processor over a SQLite store that fails', () => {
  const faults: { name: string; code: string; start(p: ReturnType<typeof pipeline>): () => void }[] = [
    {
      name: 'read-only database',
      code: 'SQLITE_READONLY',
      start: (p) => {
        p.store.database.pragma('query_only = ON');
        return () => p.store.database.pragma('query_only = OFF');
      },
    },
    {
      name: 'full disk',
      code: 'SQLITE_FULL',
      start: (p) => {
        const pages = p.store.database.pragma('page_count', { simple: true }) as number;
        p.store.database.pragma(`max_page_count = ${pages}`);
        return () => p.store.database.pragma('max_page_count = 1073741823');
      },
    },
    {
      name: 'database locked by another writer',
      code: 'SQLITE_BUSY',
      start: (p) => {
        const other = new Database(p.file);
        other.exec('BEGIN IMMEDIATE');
        return () => {
          other.exec('ROLLBACK');
          other.close();
        };
      },
    },
  ];

  for (const fault of faults) {
    it(`keeps every record through a ${fault.name} and commits them once it clears`, async () => {
      const p = pipeline();
      const first = await emit(p.audit, 20, 0);
      expect(first.map((r) => r.seq)).toEqual(first.map((_, i) => first[0]!.seq + i));

      const errors: unknown[] = [];
      const realAppend = p.store.append.bind(p.store);
      p.store.append = (batch) => realAppend(batch).catch((e: unknown) => {
        errors.push(e);
        throw e;
      });
      const clear = fault.start(p);
      const during = emit(p.audit, 200, 20);
      const state = settled(during);
      await sleep(300);
      expect(state.done).toBe(false); // receipts wait: nothing was committed, nothing was dropped
      expect(errors.length).toBeGreaterThan(0);
      expect(errors[0]).toMatchObject({ sqliteCode: expect.stringMatching(new RegExp(`^${fault.code}`)), retryable: true });

      clear();
      const receipts = await during;
      expect(new Set(receipts.map((r) => r.seq)).size).toBe(200);
      await expectIntact(p, 220);
    });
  }

  it('refuses to open a store in a directory that does not exist, naming the path', () => {
    const missing = path.join(os.tmpdir(), `otel-audit-missing-${process.pid}`, 'sub', 'audit.db');
    expect(() => new SqliteAuditStore(missing)).toThrow(StoreOpenError);
    expect(() => new SqliteAuditStore(missing)).toThrow(missing);
  });
});
