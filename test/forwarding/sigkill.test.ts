import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { readOutboxStatus } from '@otel-audit/exporter-sqlite';
import { collector, KEYS, keyring, tempDir, until } from './support.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'service.ts');
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function service(endpoint: string, outbox: string, stream: string): { child: ChildProcess; ids: string[]; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, endpoint, outbox, stream, KEYS.signerKey], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => child.kill('SIGKILL'));
  const ids: string[] = [];
  let buffer = '';
  let markReady: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) if (line === 'ready') markReady(); else if (line) ids.push(line);
  });
  return { child, ids, ready };
}

it('a service killed with SIGKILL while the receiver is down loses nothing it committed: the restarted outbox delivers it', async () => {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const db = path.join(tmp.dir, 'central.db');
  const outbox = path.join(tmp.dir, 'outbox.db');
  const probe = await collector(db);
  const port = Number(new URL(probe.url).port);
  await probe.close(); // the receiver is down from here on

  const first = service(`http://127.0.0.1:${port}`, outbox, 'svc-run1');
  await first.ready;
  await until(() => first.ids.length >= 300, 30_000, '300 receipts');
  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.once('exit', r));
  const committed = [...first.ids];
  expect(readOutboxStatus(outbox).depth).toBeGreaterThanOrEqual(committed.length);

  const c = await collector(db, { port });
  cleanups.push(() => c.close());
  const second = service(`http://127.0.0.1:${port}`, outbox, 'svc-run2');
  await second.ready;
  const has = c.store.database.prepare('SELECT count(*) FROM audit_logs WHERE event_id = ?').pluck();
  await until(() => committed.every((id) => has.get(id) === 1), 30_000, 'every committed record delivered');
  second.child.kill('SIGKILL');
  const report = await c.store.verify({ keyring });
  const run1 = report.streams.find((s) => s.stream === 'svc-run1')!;
  expect(run1.records).toBeGreaterThanOrEqual(committed.length);
  expect(run1.errors).toBe(0);
  expect(c.findings()).toEqual([]);
});
