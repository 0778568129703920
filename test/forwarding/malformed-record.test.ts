/**
 * A record the collector cannot take — self-consistent (its body is
 * canonical and hashes to its `audit.record.hash`) but not a valid audit
 * record — sent through the real `exporters.otlphttp` sink: the collector
 * refuses it on its own (200 with partialSuccess, never a 503 the outbox
 * would retry forever), the outbox narrows the batch down and dead-letters
 * exactly that record, `otel-audit status` shows it, and the records sent
 * with it are stored and verify.
 */
import * as path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { main } from '@otel-audit/cli';
import { AuditChain, canonicalize, createRecordId, genesisPrev, leafHash, type AuditRecord, type SealedRecord } from '@otel-audit/core';
import { readOutboxStatus, type DeadLetterInfo } from '@otel-audit/exporter-sqlite';
import { createOtlpSink } from '@otel-audit/node';
import { collector, keyring, tempDir, until, capture } from './support.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it.each(['http/protobuf', 'http/json'] as const)('over %s, a self-consistent but invalid record is dead-lettered alone and the records around it are stored', async (protocol) => {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const c = await collector(path.join(tmp.dir, 'central.db'));
  cleanups.push(() => c.close());
  const outboxPath = path.join(tmp.dir, 'outbox.db');
  const dead: DeadLetterInfo[] = [];
  const sink = createOtlpSink({ endpoint: c.url, protocol, timeout: '2s', outbox: { path: outboxPath, retry_initial: '20ms', retry_max: '200ms' } }, { onDeadLetter: (i) => dead.push(i) });
  cleanups.push(() => sink.shutdown?.());

  const chain = new AuditChain({ stream: 'svc' });
  const good = Array.from({ length: 6 }, (_, i) => chain.append({ id: createRecordId(), time: new Date(), type: 'crud', action: 'update', details: { i } }));
  // No type: the store could not hold it, yet it hashes to what it claims.
  const invalid = { action: 'update', alg: 'sha256', id: createRecordId(), outcome: 'success', prev: genesisPrev('sha256'), seq: 0, severity: 'info', stream: 'svc-invalid', time: '1700000000000000000', v: 1 };
  const canonical = canonicalize(invalid);
  const sealed: SealedRecord = { record: invalid as unknown as AuditRecord, canonical, hash: leafHash('sha256', canonical).toString('hex') };
  await sink.append({ records: [...good.slice(0, 3), sealed, ...good.slice(3)], checkpoints: [] });

  await until(() => readOutboxStatus(outboxPath).depth === 0, 15_000, 'outbox drained');
  expect(readOutboxStatus(outboxPath)).toMatchObject({ depth: 0, deadLetters: 1 });
  expect(dead).toHaveLength(1);
  expect(dead[0]).toMatchObject({ records: 1, reason: expect.stringMatching(/is not a valid audit record: \/type/) });
  const stream = (await c.store.verify({ keyring })).streams.find((s) => s.stream === 'svc');
  expect(stream).toMatchObject({ records: 6, errors: 0 });
  expect(c.findings().map((f) => [f.code, f.stream, f.id])).toEqual([['malformed', 'svc-invalid', invalid.id]]);

  const out = capture();
  expect(await main(['status', '--outbox', outboxPath], { stdout: out, stderr: capture(), cwd: tmp.dir, env: {} })).toBe(1);
  expect(out.text).toMatch(/dead letters: 1\b/);
  expect(out.text).toMatch(/rejected 1 log record\(s\).*not a valid audit record/);
});
