/**
 * The outbox file gives the space of shipped records back (outbox-db.ts,
 * the shipper's compaction): a backlog built while the receiver was down
 * (a real loopback receiver answering 503) no longer stays on disk once it
 * has been shipped, and a file made before auto_vacuum (`auto_vacuum=NONE`)
 * is converted and shrunk at open when nothing waits in it. Sizes are those
 * on disk, the -wal included.
 */
import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { OutboxLogRecordExporter } from '../../src/index.js';
import { tempDb } from '../helpers.js';
import { exportNow, jsonExporter, log, receiver, until } from './helpers.js';

const fast = { initialBackoffMillis: 10, maxBackoffMillis: 50, shutdownTimeoutMillis: 2_000 };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Bytes of the file and its -wal. */
function onDisk(file: string): number {
  return [file, `${file}-wal`].reduce((sum, f) => sum + (existsSync(f) ? statSync(f).size : 0), 0);
}

const PAD = 'p'.repeat(3_000);

describe('the outbox file shrinks after its backlog was shipped', () => {
  it('a 24 MB backlog from a receiver outage: once shipped, the file and its -wal are back under 2 MB while the outbox stays open', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    let down = true;
    const rx = await receiver((_bodies, res) => {
      if (!down) return false;
      res.writeHead(503).end();
      return true;
    });
    cleanups.push(rx.close);
    const outbox = new OutboxLogRecordExporter({ path: tmp.file, exporter: jsonExporter(rx.url), ...fast });
    cleanups.push(() => outbox.shutdown());
    for (let b = 0; b < 16; b++) {
      const r = await exportNow(outbox, Array.from({ length: 500 }, (_, i) => log(`r${b * 500 + i}`, { pad: PAD })));
      expect(r.code).toBe(0);
    }
    const peak = onDisk(tmp.file);
    expect(peak).toBeGreaterThan(20e6);

    down = false;
    await outbox.forceFlush();
    await until(() => rx.accepted.length === 8_000);
    await until(() => onDisk(tmp.file) < 2e6, 10_000);
    // Still a working outbox: new records are taken and shipped.
    await exportNow(outbox, [log('after')]);
    await outbox.forceFlush();
    expect(rx.accepted.at(-1)).toBe('after');
  });
});

describe('an outbox file made without auto_vacuum', () => {
  /** A file as earlier versions left it: tables made under auto_vacuum=NONE, many pages free after a drain. */
  function legacyFile(file: string, waiting: number): void {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE outbox_resources (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE);
      CREATE TABLE outbox_records (id INTEGER PRIMARY KEY AUTOINCREMENT, enqueued_at INTEGER NOT NULL, resource_id INTEGER NOT NULL REFERENCES outbox_resources (id), log TEXT NOT NULL);
      INSERT INTO outbox_resources (id, body) VALUES (1, '{}');`);
    const insert = db.prepare('INSERT INTO outbox_records (enqueued_at, resource_id, log) VALUES (?, 1, ?)');
    db.transaction(() => {
      for (let i = 0; i < 5_000; i++) insert.run(Date.now(), PAD + i);
    })();
    db.exec(`DELETE FROM outbox_records WHERE id > ${waiting}`);
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(0);
    db.close();
  }

  it('is converted to incremental auto_vacuum and shrunk at open when nothing waits in it', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    legacyFile(tmp.file, 0);
    expect(onDisk(tmp.file)).toBeGreaterThan(15e6);
    const outbox = new OutboxLogRecordExporter({ path: tmp.file, exporter: jsonExporter('http://127.0.0.1:9/v1/logs'), ...fast });
    cleanups.push(() => outbox.shutdown());
    expect(onDisk(tmp.file)).toBeLessThan(1e6);
    const db = new Database(tmp.file, { readonly: true });
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
    db.close();
  });

  it('is left as it is when records wait in it (they ship first; it is converted at a later open)', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    legacyFile(tmp.file, 1);
    const outbox = new OutboxLogRecordExporter({ path: tmp.file, exporter: jsonExporter('http://127.0.0.1:9/v1/logs'), ...fast, shutdownTimeoutMillis: 50 });
    const db = new Database(tmp.file, { readonly: true });
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(0);
    db.close();
    await outbox.shutdown();
  });
});
