/**
 * Stream claims (core's AuditSink.claimStream; internal/stream-writers.ts):
 * two writers never both hold a stream of one store; a claim left by a
 * process that is gone is taken over on its host; a read-only store claims
 * nothing.
 */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { SqliteAuditStore } from '../src/index.js';
import { storesPerTest } from './helpers.js';

const setup = storesPerTest();
const host = hostname();
const writer = (id: string, pid = process.pid, on = host) => ({ id, pid, host: on });

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('SqliteAuditStore.claimStream', () => {
  it('holds a stream for one writer: a second live writer is told who holds it, the holder may claim again', async () => {
    const s = setup(0);
    expect(await s.store.claimStream('api/1', writer('a'))).toEqual({ ok: true });
    const refused = await s.store.claimStream('api/1', writer('b'));
    expect(refused).toEqual({ ok: false, holder: { id: 'a', pid: process.pid, host, since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) } });
    expect(await s.store.claimStream('api/1', writer('a'))).toEqual({ ok: true });
    expect(await s.store.claimStream('api/2', writer('b'))).toEqual({ ok: true });
    // Another process opening the same file sees the claim too.
    const other = new SqliteAuditStore(s.file);
    try {
      expect((await other.claimStream('api/1', writer('c'))).ok).toBe(false);
    } finally {
      other.close();
    }
  });

  it('takes over a claim whose process is gone on this host, not one held on another host', async () => {
    const s = setup(0);
    expect(await s.store.claimStream('api/1', writer('crashed', deadPid()))).toEqual({ ok: true });
    expect(await s.store.claimStream('api/1', writer('next'))).toEqual({ ok: true, tookOverFrom: expect.objectContaining({ id: 'crashed' }) });
    expect(await s.store.claimStream('api/3', writer('remote', deadPid(), 'other-host.example'))).toEqual({ ok: true });
    expect((await s.store.claimStream('api/3', writer('local'))).ok).toBe(false);
  });

  it('releases only the holder\'s claim; a read-only store refuses to claim', async () => {
    const s = setup(0);
    await s.store.claimStream('api/1', writer('a'));
    await s.store.releaseStream('api/1', writer('b'));
    expect((await s.store.claimStream('api/1', writer('b'))).ok).toBe(false);
    await s.store.releaseStream('api/1', writer('a'));
    expect(await s.store.claimStream('api/1', writer('b'))).toEqual({ ok: true });
    const ro = new SqliteAuditStore(s.file, { readOnly: true });
    try {
      await expect(ro.claimStream('api/9', writer('x'))).rejects.toThrow(/opened read-only/);
    } finally {
      ro.close();
    }
    await expect(s.store.claimStream('api/1', { id: '', pid: 1, host })).rejects.toThrow(TypeError);
  });
});
