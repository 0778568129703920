/**
 * Sender tokens bound to streams (operations §5): a token holder may write
 * only the stream-id prefixes its token names, so it cannot take another
 * service's stream id first; what it tried is a finding naming the token.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonLogsSerializer } from '@opentelemetry/otlp-transformer';
import { InMemoryLogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AuditChain, Keyring, createRecordId, generateNoteKey, parseSignerKey, type AuditBatch, type SealedCheckpoint } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { LogRecordExporterSink } from '@otel-audit/processor';
import { hashToken } from '../../src/auth.js';
import { startCollector, type CollectorOptions, type RunningCollector } from '../../src/collector/index.js';

const KEYS = generateNoteKey('billing-api.test');
const signer = parseSignerKey(KEYS.signerKey);
const T0 = 1_700_000_000_000_000_000n;
const BILLING = 'billing-token-Zq8-0123456789abcdef';
const ORDERS = 'orders-token-Zq8-0123456789abcdef';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function collector(options: Omit<CollectorOptions, 'port' | 'dbPath'>): Promise<RunningCollector> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-senders-'));
  const c = await startCollector({ port: 0, dbPath: path.join(dir, 'central.db'), verifierKeys: [KEYS.verifierKey], ...options });
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }), () => c.close());
  return c;
}

/** `n` records of `chain` by `actor`, with a signed checkpoint after them. */
function batchOf(chain: AuditChain, n: number, actor: string): AuditBatch & { checkpoints: SealedCheckpoint[] } {
  const records = [];
  for (let i = 0; i < n; i++) records.push(chain.append({ id: createRecordId(), time: T0 + BigInt(chain.size), type: 'crud', action: 'update', actor: { id: actor }, details: { i: chain.size } }));
  const t = T0 + BigInt(chain.size);
  return { records, checkpoints: [{ stream: chain.stream, size: chain.size, rootHash: chain.rootHex(), timeUnixNano: t, note: chain.checkpoint(t, [signer]) }] };
}

async function logsOf(...batches: AuditBatch[]): Promise<ReadableLogRecord[]> {
  const mem = new InMemoryLogRecordExporter();
  const sink = new LogRecordExporterSink({ exporter: mem });
  for (const b of batches) await sink.append(b);
  return mem.getFinishedLogRecords();
}

async function post(c: RunningCollector, token: string, logs: ReadableLogRecord[]): Promise<{ status: number; body: string }> {
  const res = await fetch(`${c.url}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JsonLogsSerializer.serializeRequest(logs)!,
  });
  return { status: res.status, body: await res.text() };
}

describe('startCollector senderTokens bound to streams', () => {
  it('refuses a token holder\'s records and checkpoints of a stream its token is not bound to, so the genuine service\'s records are stored; one finding names the token, never its value', async () => {
    const c = await collector({ senderTokens: [
      { digest: hashToken(ORDERS), name: 'ORDERS_TOKEN', streams: ['orders-api/'] },
      { digest: hashToken(BILLING), name: 'BILLING_TOKEN', streams: ['billing-api/'] },
    ] });
    // The orders service squats billing-api/prod before billing-api sends (its first prev is deterministic),
    // in a request that also carries records of its own stream.
    const own = new AuditChain({ stream: 'orders-api/1' });
    const forged = new AuditChain({ stream: 'billing-api/prod' });
    const squat = await post(c, ORDERS, await logsOf(batchOf(own, 2, 'orders'), batchOf(forged, 3, 'mallory')));
    expect(squat.status).toBe(200);
    // 3 records and the checkpoint of billing-api/prod refused; its own 2 records and checkpoint taken.
    expect(JSON.parse(squat.body)).toMatchObject({ partialSuccess: { rejectedLogRecords: '4', errorMessage: expect.stringContaining('sender token ORDERS_TOKEN may not write stream billing-api/prod') } });
    expect((await post(c, ORDERS, await logsOf(batchOf(forged, 1, 'mallory')))).status).toBe(200); // again: no second finding

    const genuine = new AuditChain({ stream: 'billing-api/prod' });
    expect(await post(c, BILLING, await logsOf(batchOf(genuine, 3, 'alice')))).toEqual({ status: 200, body: '{}' });

    const actors = (stream: string) => c.store.query({ stream }).records.map((r) => r.record.actor?.id);
    expect(actors('billing-api/prod')).toEqual(['alice', 'alice', 'alice']);
    expect(actors('orders-api/1')).toEqual(['orders', 'orders']);
    const report = await c.store.verify({ keyring: Keyring.from([KEYS.verifierKey]) });
    expect(report.ok).toBe(true);
    const findings = c.findings();
    expect(findings.map((f) => [f.code, f.stream])).toEqual([['stream_not_allowed', 'billing-api/prod']]);
    expect(findings[0]!.message).toContain('ORDERS_TOKEN');
    expect(JSON.stringify(findings)).not.toContain(ORDERS);
  });

  it('a token given as a bare digest still writes any stream; a bad binding or the same token twice is refused before the store opens', async () => {
    const c = await collector({ senderTokens: [hashToken(ORDERS)] });
    expect(await post(c, ORDERS, await logsOf(batchOf(new AuditChain({ stream: 'billing-api/prod' }), 2, 'x')))).toEqual({ status: 200, body: '{}' });
    const never = path.join(os.tmpdir(), 'never-senders.db');
    await expect(startCollector({ port: 0, dbPath: never, senderTokens: [{ digest: hashToken(ORDERS), streams: [] }] })).rejects.toThrow('options.senderTokens[0].streams must be a non-empty array of stream-id prefixes');
    await expect(startCollector({ port: 0, dbPath: never, senderTokens: [hashToken(ORDERS), { digest: hashToken(ORDERS), name: 'B' }] })).rejects.toThrow('options.senderTokens[1] is the same token as options.senderTokens[0]');
    expect(fs.existsSync(never)).toBe(false);
  });
});
