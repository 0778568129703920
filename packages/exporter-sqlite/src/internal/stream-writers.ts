/**
 * Who writes which stream of a store (core's `AuditSink.claimStream`): one
 * row per claimed stream in `audit_meta` (`writer:<stream>` → the writer as
 * JSON), taken and given up in write transactions, so two processes that
 * open one store under one stream id (replicas with a fixed id, a rolling
 * restart) do not both resume it and race for its next seqs — the second
 * gets told who holds it and opens a new stream instead. A claim left by a
 * process that is gone (a crash) is taken over when it was made on this
 * host; one made on another host stays until released there. "Gone" also
 * covers a pid that was reused: in a container every restart is pid 1, so
 * the claim records the holder's start identity (`start`) and a live pid
 * that started at another time is a different process. The same test
 * lists the dead claims of this host, whose streams a starting pipeline
 * seals (`abandonedStreams`, core's `AuditSink.abandonedStreams`).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { AbandonedStream, StreamClaim, StreamWriter } from '@otel-audit/core';
import type Database from 'better-sqlite3';

const KEY = (stream: string): string => `writer:${stream}`;

/** A claim row: the writer, since when, and (rows written since pid reuse was handled) its process's start identity. */
type Holder = StreamWriter & { since: string; start?: string };

function holderOf(value: string | undefined): Holder | undefined {
  if (value === undefined) return undefined;
  try {
    const h = JSON.parse(value) as Partial<Holder>;
    if (typeof h.id === 'string' && typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.since === 'string'
      && (h.start === undefined || typeof h.start === 'string')) return h as Holder;
  } catch {
    // An unreadable row holds nothing: taken over below.
  }
  return undefined;
}

/** The holder as callers see it: the start identity is this file's business. */
function publicHolder(h: Holder): StreamWriter & { since: string } {
  return { id: h.id, pid: h.pid, host: h.host, since: h.since };
}

/**
 * When process `pid` of this host started, as an opaque text, or undefined
 * when that cannot be told. On Linux `proc:<starttime>` — field 22 of
 * /proc/<pid>/stat, clock ticks since boot, read after the LAST ')' because
 * the command name before it may hold spaces and parentheses. Elsewhere (or
 * /proc unreadable) only our own start is known: `origin:<timeOrigin>`,
 * which Node shares between the main thread and its workers.
 */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // After ')': field 3 (state) is index 0, so field 22 is index 19.
    const ticks = stat.slice(stat.lastIndexOf(')') + 1).trim().split(' ')[19];
    if (ticks !== undefined && /^\d+$/.test(ticks)) return `proc:${ticks}`;
  } catch {
    // No /proc (macOS, Windows) or not ours to read: fall through.
  }
  return pid === process.pid ? `origin:${performance.timeOrigin}` : undefined;
}

/**
 * Whether the holder's process of this host is alive: its pid answers
 * (EPERM: it does, someone else's) and, when the claim recorded a start
 * identity that can be compared now, the process behind the pid started
 * then — else the pid was reused by another process. A row without `start`
 * (written before), or one whose start cannot be read now, is judged by
 * the pid alone, as before: a live pid is never taken over on a guess.
 */
function alive(holder: Holder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (holder.start === undefined) return true;
  const now = processStart(holder.pid);
  const kind = (text: string): string => text.slice(0, text.indexOf(':'));
  return now === undefined || kind(now) !== kind(holder.start) || now === holder.start;
}

/** Whether `holder` keeps its claim against `writer` (another pipeline that is, or may be, alive). */
function holds(holder: Holder, writer: StreamWriter): boolean {
  return holder.id !== writer.id && (holder.host !== writer.host || alive(holder));
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
    if (holder !== undefined && holds(holder, writer)) return { ok: false, holder: publicHolder(holder) };
    const value = JSON.stringify({ id: writer.id, pid: writer.pid, host: writer.host, since: new Date().toISOString(), start: processStart(writer.pid) });
    db.prepare('INSERT INTO audit_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(KEY(stream), value);
    return holder !== undefined && holder.id !== writer.id ? { ok: true, tookOverFrom: publicHolder(holder) } : { ok: true };
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

/**
 * The claims of `writer`'s host whose process is gone (the test of
 * {@link claimStream}, pid reuse included), oldest first: streams left by
 * processes that ended without stopping, their tails never checkpointed.
 * Rows of other hosts, live holders, `writer`'s own and unreadable rows
 * are not listed.
 *
 * @example
 * abandonedStreams(db, writer) // [{ stream: 'api/01J…', holder: { id, pid: 1, host: 'web-1', since: '2026-…' } }]
 */
export function abandonedStreams(db: Database.Database, writer: StreamWriter): AbandonedStream[] {
  checkWriter(writer);
  const rows = db.prepare("SELECT key, value FROM audit_meta WHERE key LIKE 'writer:%'").all() as { key: string; value: string }[];
  const found: AbandonedStream[] = [];
  for (const row of rows) {
    const holder = holderOf(row.value);
    // LIKE ignores case: the prefix is checked exactly.
    if (holder === undefined || !row.key.startsWith('writer:') || holder.host !== writer.host || holder.id === writer.id || alive(holder)) continue;
    found.push({ stream: row.key.slice('writer:'.length), holder: publicHolder(holder) });
  }
  return found.sort((a, b) => (a.holder.since < b.holder.since ? -1 : a.holder.since > b.holder.since ? 1 : 0));
}
