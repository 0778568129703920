import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonLogsSerializer } from '@opentelemetry/otlp-transformer';
import { InMemoryLogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AuditChain, Keyring, canonicalize, createRecordId, generateNoteKey, leafHash, parseSignerKey, type AuditBatch, type SealedCheckpoint } from '@otel-audit/core';
import { LogRecordExporterSink } from '@otel-audit/processor';
import { startCollector, type CollectorOptions, type RunningCollector } from '../../src/collector/index.js';
import { DEFAULT_MAX_PARKED, MAX_PARKED_PER_SEQ } from '../../src/collector/parked-candidates.js';

const KEYS = generateNoteKey('collector.test/audit');
const signer = parseSignerKey(KEYS.signerKey);
const keyring = Keyring.from([KEYS.verifierKey]);
const T0 = 1_700_000_000_000_000_000n;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function collector(options: Omit<CollectorOptions, 'port' | 'dbPath'> = {}): Promise<RunningCollector> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-collector-'));
  const c = await startCollector({ port: 0, dbPath: path.join(dir, 'central.db'), verifierKeys: [KEYS.verifierKey], ...options });
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }), () => c.close());
  return c;
}

/** The §4.6 LogRecords the processor's exporter sink makes of `n` records of `chain`, with a signed checkpoint at the end. */
async function logsOf(chain: AuditChain, n: number): Promise<ReadableLogRecord[]> {
  const records = Array.from({ length: n }, () => chain.append({ id: createRecordId(), time: T0 + BigInt(chain.size), type: 'crud', action: 'update', actor: { id: 'alice' }, details: { i: chain.size } }));
  const t = T0 + BigInt(chain.size);
  const checkpoints: SealedCheckpoint[] = [{ stream: chain.stream, size: chain.size, rootHash: chain.rootHex(), timeUnixNano: t, note: chain.checkpoint(t, [signer]) }];
  const batch: AuditBatch = { records, checkpoints };
  const mem = new InMemoryLogRecordExporter();
  await new LogRecordExporterSink({ exporter: mem }).append(batch);
  return mem.getFinishedLogRecords();
}

/** `n` valid, self-consistent records with ids of their own, all claiming the seq of `genuine` (a log record) without continuing its predecessor. */
function forgeriesOf(genuine: ReadableLogRecord, n: number): ReadableLogRecord[] {
  const record = JSON.parse(String(genuine.body)) as Record<string, unknown>;
  return Array.from({ length: n }, (_, i) => {
    const body = canonicalize({ ...record, id: createRecordId(), prev: leafHash('sha256', `forged ${i}`).toString('hex'), action: 'delete', details: { forged: i } });
    return { ...genuine, body, attributes: { ...genuine.attributes, 'audit.record.hash': leafHash('sha256', body).toString('hex') } };
  });
}

/** POST as OTLP JSON; how many records the collector refused (partial success), and why. */
async function send(c: RunningCollector, logs: ReadableLogRecord[]): Promise<{ refused: number; message: string }> {
  const res = await fetch(`${c.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JsonLogsSerializer.serializeRequest(logs)! });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { partialSuccess?: { rejectedLogRecords?: string; errorMessage?: string } };
  return { refused: Number(body.partialSuccess?.rejectedLogRecords ?? 0), message: body.partialSuccess?.errorMessage ?? '' };
}

/** POST as OTLP JSON; the number of records the collector refused (partial success). */
async function post(c: RunningCollector, logs: ReadableLogRecord[]): Promise<number> {
  return (await send(c, logs)).refused;
}

function parkedAt(c: RunningCollector, stream: string, seq: number): number {
  return c.store.database.prepare('SELECT count(*) FROM collector_pending WHERE stream = ? AND seq = ?').pluck().get(stream, seq) as number;
}

describe('records parked at one seq', () => {
  it.each([
    ['parked before the flood', 'before'],
    ['refused by the full seq, sent again once the gap closed', 'refused'],
    ['sent ahead of its predecessor in one request, the seq full', 'with-predecessor'],
  ] as const)('a flood of 1,000 forged records at one seq parks at most the cap, is reported once, and the genuine record (%s) is stored', async (_what, when) => {
    const c = await collector();
    const logs = await logsOf(new AuditChain({ stream: 'svc/1' }), 10);
    const forged = forgeriesOf(logs[5]!, 1000);
    if (when === 'before') expect(await post(c, logs.slice(5))).toBe(0); // seq 0..4 missing: 5..9 wait
    if (when === 'with-predecessor') expect(await post(c, logs.slice(6))).toBe(0);
    // Two requests: the second adds neither a record nor a finding.
    const refused = (await post(c, forged.slice(0, 500))) + (await post(c, forged.slice(500)));
    const genuineWaiting = when === 'before' ? 1 : 0;
    expect(refused).toBe(1000 - (MAX_PARKED_PER_SEQ - genuineWaiting));
    expect(parkedAt(c, 'svc/1', 5)).toBe(MAX_PARKED_PER_SEQ);
    expect(c.findings().map((f) => [f.code, f.stream, f.seq])).toEqual([['duplicate', 'svc/1', 5]]);

    if (when === 'refused') {
      // Ahead of the gap and the seq full: refused to the sender (its outbox dead-letters it), not parked.
      expect(await post(c, logs.slice(5))).toBe(1);
      expect(parkedAt(c, 'svc/1', 5)).toBe(MAX_PARKED_PER_SEQ);
      expect(await post(c, logs.slice(0, 5))).toBe(0);
      expect(c.pending()).toBe(4); // 6..9 wait for 5; the forgeries were dropped when 4 arrived
      expect(await post(c, [logs[5]!])).toBe(0); // the sender's requeue
    } else if (when === 'with-predecessor') {
      expect(await post(c, [logs[5]!, ...logs.slice(0, 5)])).toBe(0);
    } else {
      expect(await post(c, logs.slice(0, 5))).toBe(0);
    }
    expect(c.pending()).toBe(0);
    const report = await c.store.verify({ keyring });
    expect(report.streams.find((s) => s.stream === 'svc/1')).toMatchObject({ records: 10, errors: 0, checkpoints: { verified: 1 } });
    // One finding for the flood; then one for each forged record that waited, dropped when the stream reached seq 5.
    const findings = c.findings();
    expect(findings[0]).toMatchObject({ code: 'duplicate', seq: 5, message: expect.stringMatching(/refused/) });
    expect(findings.slice(1).map((f) => [f.code, f.seq])).toEqual(Array.from({ length: MAX_PARKED_PER_SEQ - genuineWaiting }, () => ['chain_break', 5]));
    expect(findings.filter((f) => f.code === 'duplicate')).toHaveLength(1);
  });

  it('a retry of a parked record is taken when its seq is full; another seq has a cap of its own', async () => {
    const c = await collector();
    const logs = await logsOf(new AuditChain({ stream: 'svc/1' }), 10);
    expect(await post(c, [logs[5]!])).toBe(0);
    expect(await post(c, forgeriesOf(logs[5]!, 20))).toBe(20 - (MAX_PARKED_PER_SEQ - 1));
    expect(await post(c, [logs[5]!, logs[7]!, ...forgeriesOf(logs[7]!, MAX_PARKED_PER_SEQ - 1)])).toBe(0);
    expect(await post(c, forgeriesOf(logs[7]!, 3))).toBe(3);
    expect(parkedAt(c, 'svc/1', 5)).toBe(MAX_PARKED_PER_SEQ);
    expect(parkedAt(c, 'svc/1', 7)).toBe(MAX_PARKED_PER_SEQ);
    expect(c.findings().map((f) => [f.code, f.seq])).toEqual([['duplicate', 5], ['duplicate', 7]]);
    expect(await post(c, logs)).toBe(0);
    expect(c.pending()).toBe(0);
    expect((await c.store.verify({ keyring })).streams.find((s) => s.stream === 'svc/1')).toMatchObject({ records: 10, errors: 0 });
  });
});

/** Records that all have to wait, for ever: seqs 1.. of streams whose seq 0 never comes. */
async function waitingFlood(how: 'seqs' | 'streams', n: number): Promise<ReadableLogRecord[]> {
  if (how === 'seqs') return (await logsOf(new AuditChain({ stream: 'flood/1' }), n + 1)).slice(1, n + 1);
  return Promise.all(Array.from({ length: n }, async (_, i) => (await logsOf(new AuditChain({ stream: `flood-${i}/1` }), 2))[1]!));
}

function parkedLimitFindings(c: RunningCollector): string[] {
  return c.findings().filter((f) => f.code === 'parked_limit').map((f) => f.message);
}

describe('records parked across all seqs and streams', () => {
  it.each([
    ['one stream, ever higher seqs', 'seqs'],
    ['ever new streams', 'streams'],
  ] as const)('a flood (%s) parks at most maxParkedRecords, the rest is refused and reported once, and a record that continues its stream is still stored', async (_what, how) => {
    const max = 20;
    const c = await collector({ maxParkedRecords: max });
    const flood = await waitingFlood(how, 60);
    const first = await send(c, flood.slice(0, 30));
    expect(first.refused).toBe(30 - max);
    expect(first.message).toMatch(new RegExp(`${max} records wait for their predecessors already, the collector's limit \\(maxParkedRecords, otel-audit collect --max-parked\\): refused`));
    expect(first.message).toMatch(/send it again once the records before it arrived, or raise the limit/);
    expect(await post(c, flood.slice(30))).toBe(30);
    expect(c.pending()).toBe(max);
    expect(c.store.database.prepare('SELECT count(*) FROM collector_pending').pluck().get()).toBe(max);
    expect(parkedLimitFindings(c)).toHaveLength(1);

    // A genuine stream meanwhile: what continues it is stored, what would have to wait is refused.
    const logs = await logsOf(new AuditChain({ stream: 'svc/1' }), 10);
    expect(await post(c, logs.slice(0, 5))).toBe(0);
    const ahead = await send(c, logs.slice(6, 10));
    expect(ahead.refused).toBe(4);
    expect(ahead.message).toMatch(/claims seq 6 of svc\/1, ahead of the stream \(at seq 5\)/);
    expect(await post(c, [logs[5]!])).toBe(0);
    // The sender's requeue of the refused ones: they continue the stream now.
    expect(await post(c, logs.slice(6))).toBe(0);
    expect((await c.store.verify({ keyring })).streams.find((s) => s.stream === 'svc/1')).toMatchObject({ records: 10, errors: 0, checkpoints: { verified: 1 } });
    expect(c.pending()).toBe(max);
    expect(parkedLimitFindings(c)).toHaveLength(1);
  });

  it('reaching the cap again after records found room is reported again, once', async () => {
    const c = await collector({ maxParkedRecords: 5 });
    const a = await logsOf(new AuditChain({ stream: 'svc-a/1' }), 9);
    expect(await post(c, a.slice(1, 9))).toBe(3);
    expect(await post(c, a.slice(6, 9))).toBe(3);
    expect(parkedLimitFindings(c)).toHaveLength(1);
    // Seq 0 arrives: the five waiting are stored, and so are the three refused when sent again.
    expect(await post(c, [a[0]!])).toBe(0);
    expect(c.pending()).toBe(0);
    expect(await post(c, a.slice(6))).toBe(0);
    expect((await c.store.verify({ keyring })).streams.find((s) => s.stream === 'svc-a/1')).toMatchObject({ records: 9, errors: 0 });
    const b = await waitingFlood('seqs', 8);
    expect(await post(c, b)).toBe(3);
    expect(await post(c, b)).toBe(3);
    expect(parkedLimitFindings(c)).toHaveLength(2);
    expect(c.pending()).toBe(5);
  });

  it(`parks at most ${DEFAULT_MAX_PARKED} records by default`, async () => {
    const c = await collector();
    const flood = await waitingFlood('seqs', DEFAULT_MAX_PARKED + 5);
    let refused = 0;
    for (let i = 0; i < flood.length; i += 2_500) refused += await post(c, flood.slice(i, i + 2_500));
    expect(refused).toBe(5);
    expect(c.pending()).toBe(DEFAULT_MAX_PARKED);
    expect(parkedLimitFindings(c)).toHaveLength(1);
  });
});
