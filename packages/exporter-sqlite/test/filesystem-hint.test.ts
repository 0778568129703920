/**
 * A store on a full or read-only filesystem (src/internal/filesystem-hint.ts):
 * the error says which it is and what to do, not only SQLite's "disk I/O
 * error". Real filesystems: a small tmpfs mounted for the test, so it runs
 * where the test may mount (root, as CI is) and is skipped elsewhere.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditChain } from '@otel-audit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteAuditStore } from '../src/index.js';
import { sealBatch } from './helpers.js';

function mountTmpfs(sizeKib: number): string | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-fs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKib}k`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

const mounted: string[] = [];
const stores: SqliteAuditStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) {
    try { s.close(); } catch { /* the filesystem may refuse the last checkpoint */ }
  }
  for (const dir of mounted.splice(0)) {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Fill `dir`'s filesystem to the last byte. */
function fill(dir: string): void {
  const fd = fs.openSync(path.join(dir, 'filler'), 'w');
  const block = Buffer.alloc(4096, 1);
  try {
    for (;;) fs.writeSync(fd, block);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
}

const probe = mountTmpfs(64);
if (probe !== undefined) mounted.push(probe);
const canMount = probe !== undefined;

describe.skipIf(!canMount)('a store on a failing filesystem', () => {
  it('says the filesystem is full, and how full, when a new store cannot be created on it', () => {
    const dir = mountTmpfs(256)!;
    mounted.push(dir);
    fill(dir);
    expect(() => stores.push(new SqliteAuditStore(path.join(dir, 'audit.db')))).toThrow(/the filesystem of \S+ is full \(0 bytes free\): remove other files there .* or move the store to a larger disk/);
  });

  it('says the filesystem is full when a batch cannot be committed, and commits it once there is room', async () => {
    const dir = mountTmpfs(1024)!;
    mounted.push(dir);
    const store = new SqliteAuditStore(path.join(dir, 'audit.db'));
    stores.push(store);
    const chain = new AuditChain({ stream: 'svc/1' });
    store.appendSync(sealBatch(chain, 5));
    fill(dir);
    const batch = sealBatch(new AuditChain({ stream: 'svc/1', head: chain.head() }), 400);
    expect(() => store.appendSync(batch)).toThrow(/the batch was not committed .*the filesystem of \S+ is full/);
    fs.rmSync(path.join(dir, 'filler'));
    store.appendSync(batch);
    expect((await store.head('svc/1'))?.size).toBe(405);
  });

  it('says the filesystem is read-only when the store is opened on one', () => {
    const dir = mountTmpfs(1024)!;
    mounted.push(dir);
    const file = path.join(dir, 'audit.db');
    const store = new SqliteAuditStore(file);
    store.appendSync(sealBatch(new AuditChain({ stream: 'svc/1' }), 5));
    store.close();
    // A filesystem remounted read-only after a disk error looks like this one.
    execFileSync('mount', ['-o', 'remount,ro', dir]);
    expect(() => stores.push(new SqliteAuditStore(file))).toThrow(/cannot open audit store .*the filesystem of \S+ is read-only/);
  });
});
