/**
 * Who writes which stream of a store (core's `AuditSink.claimStream`): one
 * row per claimed stream in `audit_meta` (`writer:<stream>` → the writer as
 * JSON), taken and given up in write transactions, so two processes that
 * open one store under one stream id (replicas with a fixed id, a rolling
 * restart) do not both resume it and race for its next seqs — the second
 * gets told who holds it and opens a new stream instead. A claim left by a
 * process that is gone (a crash) is taken over when it was made on this
 * host; one made on another host stays until released there.
 */
import type { StreamClaim, StreamWriter } from '@otel-audit/core';
import type Database from 'better-sqlite3';

const KEY = (stream: string): string => `writer:${stream}`;

type Holder = StreamWriter & { since: string };

function holderOf(value: string | undefined): Holder | undefined {
  if (value === undefined) return undefined;
  try {
    const h = JSON.parse(value) as Partial<Holder>;
    if (typeof h.id === 'string' && typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.since === 'string') return h as Holder;
  } catch {
    // An unreadable row holds nothing: taken over below.
  }
  return undefined;
}

/** Whether process `pid` of this host is alive (EPERM: it is, someone else's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function checkWriter(writer: StreamWriter): void {
  if (typeof writer !== 'object' || writer === null || typeof writer.id !== 'string' || writer.id === ''
    || !Number.isSafeInteger(writer.pid) || typeof writer.host !== 'string') {
    throw new TypeError('writer must be { id: string, pid: number, host: string }');
  }
}

/**
 * Claim `stream` for `writer` (see file comment).
 *
 * @example
 * claimStream(db, 'billing/api', { id, pid: process.pid, host: os.hostname() }) // { ok: true }
 */
export function claimStream(db: Database.Database, stream: string, writer: StreamWriter): StreamClaim {
  if (typeof stream !== 'string' || stream === '') throw new TypeError('stream must be a non-empty string');
  checkWriter(writer);
  return db.transaction((): StreamClaim => {
    const row = db.prepare('SELECT value FROM audit_meta WHERE key = ?').pluck().get(KEY(stream)) as string | undefined;
    const holder = holderOf(row);
    if (holder !== undefined && holder.id !== writer.id && (holder.host !== writer.host || alive(holder.pid))) return { ok: false, holder };
    const value = JSON.stringify({ id: writer.id, pid: writer.pid, host: writer.host, since: new Date().toISOString() });
    db.prepare('INSERT INTO audit_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(KEY(stream), value);
    return { ok: true };
  }).immediate();
}

/**
 * Give up `writer`'s claim of `stream`; another writer's claim is left alone.
 *
 * @example
 * releaseStream(db, 'billing/api', writer);
 */
export function releaseStream(db: Database.Database, stream: string, writer: StreamWriter): void {
  checkWriter(writer);
  db.transaction(() => {
    const holder = holderOf(db.prepare('SELECT value FROM audit_meta WHERE key = ?').pluck().get(KEY(stream)) as string | undefined);
    if (holder?.id === writer.id) db.prepare('DELETE FROM audit_meta WHERE key = ?').run(KEY(stream));
  }).immediate();
}
