/**
 * Shared setup of the start-collector*.test.ts files: the test signing key,
 * a collector on a fresh database file (closed and deleted after each test
 * through `cleanups`), batches of sealed records with signed checkpoints,
 * the LogRecords the processor makes of them, and POSTing them as OTLP.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { InMemoryLogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import {
  AuditChain, Keyring, canonicalize, createRecordId, generateNoteKey, leafHash, parseSignerKey, type AuditBatch, type SealedCheckpoint,
} from '@otel-audit/core';
import { LogRecordExporterSink } from '@otel-audit/processor';
import { startCollector, type CollectorOptions, type RunningCollector } from '../../src/collector/index.js';

export const KEYS = generateNoteKey('collector.test/audit');
export const signer = parseSignerKey(KEYS.signerKey);
export const T0 = 1_700_000_000_000_000_000n;

/** Run in reverse after each test by the afterEach of every start-collector*.test.ts file. */
export const cleanups: (() => unknown)[] = [];

export async function collector(options: Omit<CollectorOptions, 'port' | 'dbPath'> = {}, prepare?: (file: string) => void): Promise<RunningCollector & { file: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-collector-'));
  const file = path.join(dir, 'central.db');
  prepare?.(file);
  const c = await startCollector({ port: 0, dbPath: file, verifierKeys: [KEYS.verifierKey], ...options });
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }), () => c.close());
  return Object.assign(c, { file });
}

/** `n` records of `chain` with a signed checkpoint after every `every`. */
export function batchOf(chain: AuditChain, n: number, every = 5): AuditBatch & { checkpoints: SealedCheckpoint[] } {
  const records = [];
  const checkpoints: SealedCheckpoint[] = [];
  for (let i = 0; i < n; i++) {
    records.push(chain.append({ id: createRecordId(), time: T0 + BigInt(chain.size), type: 'crud', action: 'update', actor: { id: 'alice' }, details: { i: chain.size } }));
    if (chain.size % every === 0) {
      const t = T0 + BigInt(chain.size);
      checkpoints.push({ stream: chain.stream, size: chain.size, rootHash: chain.rootHex(), timeUnixNano: t, note: chain.checkpoint(t, [signer]) });
    }
  }
  return { records, checkpoints };
}

/** The §4.6 LogRecords the processor's exporter sink makes of a batch. */
export async function logsOf(batch: AuditBatch): Promise<ReadableLogRecord[]> {
  const mem = new InMemoryLogRecordExporter();
  await new LogRecordExporterSink({ exporter: mem }).append(batch);
  return mem.getFinishedLogRecords();
}

export async function post(c: RunningCollector, logs: ReadableLogRecord[], as: 'json' | 'proto' = 'json', gzip = false, extra: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const raw = (as === 'json' ? JsonLogsSerializer : ProtobufLogsSerializer).serializeRequest(logs)!;
  const res = await fetch(`${c.url}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': as === 'json' ? 'application/json' : 'application/x-protobuf', ...(gzip ? { 'content-encoding': 'gzip' } : {}), ...extra },
    body: gzip ? gzipSync(raw) : raw,
  });
  return { status: res.status, body: as === 'json' ? await res.text() : Buffer.from(await res.arrayBuffer()).toString('hex'), headers: res.headers };
}

export const keyring = Keyring.from([KEYS.verifierKey]);

/**
 * `record` as a sender would put it on the wire: body its canonical text,
 * `audit.record.hash` its own hash — self-consistent, whatever it holds.
 */
export function selfConsistentLog(template: ReadableLogRecord, record: Record<string, unknown>): ReadableLogRecord {
  const body = canonicalize(record);
  return { ...template, body, attributes: { ...template.attributes, 'audit.record.hash': leafHash('sha256', body).toString('hex') } };
}
