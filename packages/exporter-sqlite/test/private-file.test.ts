/**
 * Owner-only files (src/internal/private-file.ts): a store or outbox this
 * package creates is 0600 with its -wal and -shm, under the common 022
 * umask; a file that already exists keeps the mode its owner gave it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AuditChain } from '@otel-audit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { OutboxLogRecordExporter, SqliteAuditStore } from '../src/index.js';
import { sealBatch, tempDb } from './helpers.js';
import { exportNow, jsonExporter, log } from './outbox/helpers.js';

const cleanups: (() => unknown)[] = [];
let umask: number;
afterEach(async () => {
  process.umask(umask);
  for (const c of cleanups.splice(0).reverse()) await c();
});

function modes(dir: string, base: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(dir).filter((n) => n.startsWith(base)).sort()) out[f] = (fs.statSync(path.join(dir, f)).mode & 0o777).toString(8);
  return out;
}

describe('files created owner-only', () => {
  it('creates the audit store, its -wal and -shm 0600', () => {
    umask = process.umask(0o022);
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const store = new SqliteAuditStore(tmp.file);
    cleanups.push(() => store.close());
    store.appendSync(sealBatch(new AuditChain({ stream: 'perm/1' }), 3));
    expect(modes(tmp.dir, 'audit.db')).toEqual({ 'audit.db': '600', 'audit.db-shm': '600', 'audit.db-wal': '600' });
  });

  it('creates the outbox, its -wal and -shm 0600', async () => {
    umask = process.umask(0o022);
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const file = path.join(tmp.dir, 'outbox.db');
    const outbox = new OutboxLogRecordExporter({ path: file, exporter: jsonExporter('http://127.0.0.1:9/v1/logs'), shutdownTimeoutMillis: 50 });
    cleanups.push(() => outbox.shutdown());
    await exportNow(outbox, [log('r0')]);
    expect(modes(tmp.dir, 'outbox.db')).toEqual({ 'outbox.db': '600', 'outbox.db-shm': '600', 'outbox.db-wal': '600' });
  });

  it('keeps the mode of a store file that already exists', () => {
    umask = process.umask(0o022);
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    new SqliteAuditStore(tmp.file).close();
    fs.chmodSync(tmp.file, 0o640);
    const store = new SqliteAuditStore(tmp.file);
    store.appendSync(sealBatch(new AuditChain({ stream: 'perm/1' }), 3));
    expect(modes(tmp.dir, 'audit.db')).toMatchObject({ 'audit.db': '640', 'audit.db-wal': '640' });
    store.close();
  });
});
