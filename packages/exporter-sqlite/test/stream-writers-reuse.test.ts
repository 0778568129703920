/**
 * Stream claims when pids are reused (internal/stream-writers.ts): in a
 * container every restart is pid 1, so a claim left by a crashed pid-1
 * process must not look alive to the next pid-1 process. The claim records
 * its process's start identity; a live pid that started at another time is
 * another process. And the dead claims of this host are listed
 * (`abandonedStreams`) so a starting pipeline can seal their streams.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { processStart } from '../src/internal/stream-writers.js';
import { storesPerTest } from './helpers.js';

const setup = storesPerTest();
const host = hostname();
const writer = (id: string, pid = process.pid, on = host) => ({ id, pid, host: on });
const linux = existsSync('/proc/self/stat');

const children: ChildProcess[] = [];
afterEach(() => {
  while (children.length) children.pop()!.kill();
});

/** The pid of a process that has exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

/** A live child process that renames itself (its /proc comm) to `title` when told to, answering once done. */
async function liveChild(title: string): Promise<{ pid: number; rename: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-e', `process.stdin.once('data', () => { process.title = ${JSON.stringify(title)}; process.stdout.write('ok'); }); setInterval(() => {}, 1000);`]);
  children.push(child);
  await new Promise((r) => child.once('spawn', r));
  return { pid: child.pid!, rename: () => new Promise((r) => { child.stdout.once('data', r); child.stdin.write('go\n'); }) };
}

/** Raw access to the claim rows, as another process (or an older version) wrote them. */
function claims(file: string) {
  const db = new Database(file);
  return {
    get: (stream: string) => JSON.parse(db.prepare('SELECT value FROM audit_meta WHERE key = ?').pluck().get(`writer:${stream}`) as string) as Record<string, unknown>,
    set: (stream: string, value: Record<string, unknown>) => db.prepare('INSERT INTO audit_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(`writer:${stream}`, JSON.stringify(value)),
    close: () => db.close(),
  };
}

/** Another start identity of the same kind (`proc:` ticks or `origin:` time). */
const other = (start: unknown): string => `${String(start)}1`;

describe('stream claims and pid reuse', () => {
  it('takes over a claim of our own pid whose recorded start is another process\'s; the same pid and start under another writer id is still refused', async () => {
    const s = setup(0);
    const rows = claims(s.file);
    try {
      expect(await s.store.claimStream('api/1', writer('a'))).toEqual({ ok: true });
      const row = rows.get('api/1');
      expect(row.start).toBe(processStart(process.pid));
      // A second pipeline of this very process: refused, and the holder shown as before (no start).
      expect(await s.store.claimStream('api/1', writer('b'))).toEqual({ ok: false, holder: { id: 'a', pid: process.pid, host, since: row.since } });
      // The row left by the previous pid-1 process of a container: same pid, started earlier.
      rows.set('api/1', { ...row, start: other(row.start) });
      expect(await s.store.claimStream('api/1', writer('b'))).toEqual({ ok: true, tookOverFrom: expect.objectContaining({ id: 'a' }) });
      expect(rows.get('api/1')).toMatchObject({ id: 'b', start: processStart(process.pid) });
    } finally {
      rows.close();
    }
  });

  it.runIf(linux)('takes over a claim of another live pid only when its recorded start differs', async () => {
    const s = setup(0);
    const rows = claims(s.file);
    try {
      const child = await liveChild('child');
      expect(await s.store.claimStream('api/2', writer('child', child.pid))).toEqual({ ok: true });
      const row = rows.get('api/2');
      expect(row.start).toMatch(/^proc:\d+$/);
      expect((await s.store.claimStream('api/2', writer('b'))).ok).toBe(false);
      rows.set('api/2', { ...row, start: other(row.start) });
      expect(await s.store.claimStream('api/2', writer('b'))).toEqual({ ok: true, tookOverFrom: expect.objectContaining({ id: 'child' }) });
    } finally {
      rows.close();
    }
  });

  it.runIf(linux)('reads the start after the last ")": a command name with spaces and parentheses does not shift it', async () => {
    const child = await liveChild('x) 1 2 (y');
    const before = processStart(child.pid);
    expect(before).toMatch(/^proc:\d+$/);
    await child.rename();
    expect(processStart(child.pid)).toBe(before);
  });

  it('judges an old claim row without a start by its pid alone, as before', async () => {
    const s = setup(0);
    const rows = claims(s.file);
    try {
      rows.set('api/3', { id: 'old', pid: process.pid, host, since: '2026-01-01T00:00:00.000Z' });
      expect((await s.store.claimStream('api/3', writer('b'))).ok).toBe(false);
      rows.set('api/3', { id: 'old', pid: deadPid(), host, since: '2026-01-01T00:00:00.000Z' });
      expect(await s.store.claimStream('api/3', writer('b'))).toEqual({ ok: true, tookOverFrom: expect.objectContaining({ id: 'old' }) });
    } finally {
      rows.close();
    }
  });

  it('abandonedStreams lists exactly the dead claims of this host, oldest first', async () => {
    const s = setup(0);
    const rows = claims(s.file);
    try {
      const me = writer('me');
      const start = processStart(process.pid);
      const dead = deadPid();
      rows.set('dead/new', { id: 'd1', pid: dead, host, since: '2026-03-01T00:00:00.000Z' });
      rows.set('dead/old', { id: 'd2', pid: dead, host, since: '2026-01-01T00:00:00.000Z' });
      rows.set('reused/pid', { id: 'd3', pid: process.pid, host, since: '2026-02-01T00:00:00.000Z', start: other(start) });
      rows.set('remote/dead', { id: 'r', pid: dead, host: 'other-host.example', since: '2025-01-01T00:00:00.000Z' });
      rows.set('live/same-process', { id: 'l', pid: process.pid, host, since: '2025-01-01T00:00:00.000Z', start });
      rows.set('live/old-row', { id: 'l2', pid: process.pid, host, since: '2025-01-01T00:00:00.000Z' });
      await s.store.claimStream('mine', me);
      const left = await s.store.abandonedStreams(me);
      expect(left).toEqual([
        { stream: 'dead/old', holder: { id: 'd2', pid: dead, host, since: '2026-01-01T00:00:00.000Z' } },
        { stream: 'reused/pid', holder: { id: 'd3', pid: process.pid, host, since: '2026-02-01T00:00:00.000Z' } },
        { stream: 'dead/new', holder: { id: 'd1', pid: dead, host, since: '2026-03-01T00:00:00.000Z' } },
      ]);
      // Listing takes nothing: each is still there to be claimed.
      expect(await s.store.claimStream('dead/old', me)).toEqual({ ok: true, tookOverFrom: expect.objectContaining({ id: 'd2' }) });
      expect((await s.store.abandonedStreams(me)).map((l) => l.stream)).toEqual(['reused/pid', 'dead/new']);
    } finally {
      rows.close();
    }
  });
});
