import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditChain } from '@otel-audit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteAuditStore } from '../src/index.js';
import { codes, keyring, sealBatch, signer, tempDb } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cleanups: (() => void)[] = [];
afterEach(() => { while (cleanups.length) cleanups.pop()!(); });

/** A store with `n` old records on stream r/1, a signed checkpoint every 100. */
function bigStore(n: number) {
  const tmp = tempDb();
  const store = new SqliteAuditStore(tmp.file);
  cleanups.push(() => { store.close(); tmp.cleanup(); });
  const chain = new AuditChain({ stream: 'r/1' });
  for (let done = 0; done < n; done += 10_000) store.appendSync(sealBatch(chain, Math.min(10_000, n - done), 100));
  return { ...tmp, store };
}

/** Every year older than now: everything is old enough to archive and purge. */
const NOW = BigInt(Date.now()) * 1_000_000n;

interface Writer { child: ChildProcess; lines: string[]; stop: () => Promise<void> }

/** Start the live writer (a separate process, as a service is) and wait until it has committed a few records. */
function startWriter(file: string, busyMillis = 5_000): Promise<Writer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures', 'retention-writer.ts'), file, String(busyMillis)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: string[] = [];
    let pending = '';
    let started = false;
    const exited = new Promise<void>((done) => child.on('close', () => done()));
    const writer: Writer = { child, lines, stop: async () => { child.stdin!.end(); await exited; } };
    cleanups.push(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop()!;
      lines.push(...parts);
      if (!started && lines.includes('ready')) {
        started = true;
        resolve(writer);
      }
    });
    child.on('error', reject);
    void exited.then(() => { if (!started) reject(new Error('the writer exited before it wrote')); });
  });
}

/**
 * The writer's commits strictly between two instants that retention stamped
 * inside its write transactions (wall ms of both processes: only counted,
 * never compared with a duration), and its failures.
 */
function between(lines: readonly string[], stamps: { lo: bigint; hi: bigint }) {
  const [lo, hi] = [Number(stamps.lo / 1_000_000n), Number(stamps.hi / 1_000_000n)];
  const at = (l: string) => Number(l.split(' ')[1]);
  return {
    ok: lines.filter((l) => l.startsWith('ok ') && at(l) > lo && at(l) < hi).length,
    failed: lines.filter((l) => l.startsWith('fail ')),
  };
}

const stampsOf = (store: SqliteAuditStore, sql: string) => store.database.prepare(sql).safeIntegers().get() as { lo: bigint; hi: bigint };

describe('retention beside a live writer', () => {
  it('archives without locking out another connection that is appending', async () => {
    const { file, store } = bigStore(20_000);
    const writer = await startWriter(file);
    const created = store.archive({ olderThan: NOW, streams: ['r/1'], maxRecordsPerArchive: 10_000 });
    await writer.stop();
    expect(created.map((a) => a.records)).toEqual([10_000, 10_000]);
    // Between the first archive's insert and the second's, the second was read, checked and
    // compressed: the writer kept committing meanwhile (before, it held the write lock throughout).
    const seen = between(writer.lines, stampsOf(store, 'SELECT min(created_unix_nano) AS lo, max(created_unix_nano) AS hi FROM audit_log_archives'));
    expect(seen.failed).toEqual([]);
    expect(seen.ok).toBeGreaterThan(10);
    const report = await store.verify({ keyring });
    expect(codes(report).filter((c) => !c.startsWith('unsigned_tail'))).toEqual([]);
  }, 60_000);

  it('purges without locking out another connection that is appending', async () => {
    const { file, store } = bigStore(40_000);
    expect(store.archive({ olderThan: NOW, streams: ['r/1'], maxRecordsPerArchive: 2_000 })).toHaveLength(20);
    const writer = await startWriter(file);
    const [result] = await store.purge({ olderThan: NOW, streams: ['r/1'], signers: [signer] });
    await writer.stop();
    expect(result).toMatchObject({ firstSeq: 0, lastSeq: 39_999, records: 40_000 });
    // Between the first archive's deletion and the last's, the writer kept committing (before, one
    // transaction deleted them all, holding the write lock throughout).
    const seen = between(writer.lines, stampsOf(store, 'SELECT min(purged_unix_nano) AS lo, max(purged_unix_nano) AS hi FROM audit_log_purges'));
    expect(seen.failed).toEqual([]);
    expect(seen.ok).toBeGreaterThan(10);
    const report = await store.verify({ keyring });
    expect(codes(report).filter((c) => !c.startsWith('unsigned_tail'))).toEqual([]);
  }, 60_000);
});
