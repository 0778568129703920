import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { OutboxLogRecordExporter, readOutboxStatus, type DeadLetterInfo } from '../../src/index.js';
import { tempDb } from '../helpers.js';
import { downReceiver, exportNow, jsonExporter, log, receiver, until } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fast = { initialBackoffMillis: 20, maxBackoffMillis: 200 };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

function outboxAt(file: string, url: string, extra: Partial<ConstructorParameters<typeof OutboxLogRecordExporter>[0]> = {}): OutboxLogRecordExporter {
  const o = new OutboxLogRecordExporter({ path: file, exporter: jsonExporter(url), ...fast, ...extra });
  cleanups.push(() => o.shutdown());
  return o;
}

function deadRows(file: string): { status: number | null; reason: string; log: string }[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT status, reason, log FROM outbox_dead_letters ORDER BY id').all() as never;
  } finally {
    db.close();
  }
}


/** A metric reader to collect the outbox's gauges on demand, and its provider. */
function gaugeReader(): { reader: MetricReader; meterProvider: MeterProvider } {
  class Reader extends MetricReader {
    protected override onShutdown(): Promise<void> { return Promise.resolve(); }
    protected override onForceFlush(): Promise<void> { return Promise.resolve(); }
  }
  const reader = new Reader();
  return { reader, meterProvider: new MeterProvider({ readers: [reader] }) };
}
describe('OutboxLogRecordExporter', () => {
  it('answers SUCCESS once the records are committed, keeps them while the receiver is down, and ships them in order after a restart', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const down = await receiver();
    await down.close(); // nothing listens on this port now: connection refused
    const warnings: string[] = [];
    const first = new OutboxLogRecordExporter({ path: tmp.file, exporter: jsonExporter(down.url), ...fast, shutdownTimeoutMillis: 100, onWarning: (m) => warnings.push(m) });
    for (let b = 0; b < 3; b++) {
      const result = await exportNow(first, [0, 1, 2, 3].map((i) => log(`r${b * 4 + i}`)));
      expect(result.code).toBe(ExportResultCode.SUCCESS);
    }
    await until(() => readOutboxStatus(tmp.file).lastError !== undefined);
    const status = readOutboxStatus(tmp.file);
    expect(status).toMatchObject({ depth: 12, deadLetters: 0 });
    expect(status.lastError?.message).toMatch(/ECONNREFUSED/);
    await first.shutdown();
    // Not lost, but a person is told they wait.
    expect(warnings).toEqual([`otel-audit outbox ${tmp.file}: 12 record(s) the receiver has not taken yet stay in the outbox; they are sent after the next start (\`otel-audit status\` shows them and the last error)`]);

    const up = await receiver(() => false, down.port);
    cleanups.push(() => up.close());
    const second = outboxAt(tmp.file, up.url);
    await until(() => up.accepted.length === 12);
    expect(up.accepted).toEqual(Array.from({ length: 12 }, (_, i) => `r${i}`));
    await second.forceFlush();
    expect(readOutboxStatus(tmp.file)).toMatchObject({ depth: 0, deadLetters: 0, oldestAgeMillis: 0 });
    await second.shutdown();
    expect(warnings).toHaveLength(1); // an emptied outbox says nothing
    expect(readOutboxStatus(tmp.file).lastSuccessAt).toBeDefined();
  });

  it('retries 429/502/503/504 and honours Retry-After, then delivers every record once', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const answers = [429, 502, 504, 503];
    const times: number[] = [];
    const r = await receiver((_b, res) => {
      times.push(Date.now());
      const status = answers.shift();
      if (status === undefined) return false;
      res.writeHead(status, status === 503 ? { 'retry-after': '1' } : {}).end();
      return true;
    });
    cleanups.push(() => r.close());
    const outbox = outboxAt(tmp.file, r.url);
    await exportNow(outbox, [log('a'), log('b')]);
    await until(() => r.accepted.length === 2);
    expect(r.accepted).toEqual(['a', 'b']);
    expect(r.requests).toBe(5);
    expect(times[4]! - times[3]!).toBeGreaterThanOrEqual(950); // Retry-After: 1
  });

  it.each(['0', 'Thu, 01 Jan 1970 00:00:00 GMT'])('backs off as usual when a receiver answers Retry-After: %s to every request (no tight retry loop)', async (retryAfter) => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    let refusing = true;
    const r = await receiver((_b, res) => {
      if (!refusing) return false;
      res.writeHead(503, { 'retry-after': retryAfter }).end();
      return true;
    });
    cleanups.push(() => r.close());
    const outbox = outboxAt(tmp.file, r.url, { initialBackoffMillis: 50, maxBackoffMillis: 400 });
    await exportNow(outbox, [log('a')]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // Backoff 50, 100, 200, 400, 400 ms … (jittered): about ten attempts in 1.5 s; the receiver's 0 gave ~800.
    expect(r.requests).toBeLessThan(40);
    refusing = false;
    await until(() => r.accepted.length === 1);
    expect(r.accepted).toEqual(['a']);
  });

  it.each([400, 401, 403])('moves a batch answered %i to the dead-letter table and reports it (413: see below)', async (status) => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const r = await receiver((bodies, res) => {
      if (!bodies.includes('poison')) return false;
      res.writeHead(status).end('refused');
      return true;
    });
    cleanups.push(() => r.close());
    const dead: DeadLetterInfo[] = [];
    const outbox = outboxAt(tmp.file, r.url, { onDeadLetter: (i) => dead.push(i) });
    await exportNow(outbox, [log('poison'), log('x')]);
    await until(() => dead.length === 1);
    await exportNow(outbox, [log('after')]);
    await until(() => r.accepted.length === 1);
    expect(r.accepted).toEqual(['after']);
    expect(dead[0]).toMatchObject({ records: 2, status });
    expect(deadRows(tmp.file).map((d) => [d.status, JSON.parse(d.log).b])).toEqual([[status, 'poison'], [status, 'x']]);
    expect(readOutboxStatus(tmp.file)).toMatchObject({ depth: 0, deadLetters: 2, lastError: { status } });
  });

  it('treats a partial success as a failure of the rejected records only: exactly those are dead-lettered', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const r = await receiver((bodies, res) => {
      const bad = bodies.filter((b) => b.startsWith('bad')).length;
      if (bad === 0) return false;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ partialSuccess: { rejectedLogRecords: String(bad), errorMessage: 'hash mismatch' } }));
      return true;
    });
    cleanups.push(() => r.close());
    const outbox = outboxAt(tmp.file, r.url);
    await exportNow(outbox, ['ok0', 'bad1', 'ok2', 'ok3', 'bad4', 'ok5'].map((b) => log(b)));
    await until(() => readOutboxStatus(tmp.file).depth === 0);
    expect(deadRows(tmp.file).map((d) => JSON.parse(d.log).b)).toEqual(['bad1', 'bad4']);
    expect(new Set(r.accepted)).toEqual(new Set(['ok0', 'ok2', 'ok3', 'ok5']));
  });

  it('answers a 413 by sending the same rows one at a time: only a record too large on its own is dead-lettered', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    // A receiver whose body limit fits three small records, or one large one alone but for `huge`.
    const r = await receiver((bodies, res) => {
      if (bodies.length <= 3 && !bodies.includes('huge')) return false;
      res.writeHead(413, { 'content-type': 'text/plain' }).end('request body too large');
      return true;
    });
    cleanups.push(() => r.close());
    const outbox = outboxAt(tmp.file, r.url);
    const sent = ['r0', 'r1', 'r2', 'r3', 'huge', 'r5', 'r6'];
    await exportNow(outbox, sent.map((b) => log(b)));
    await until(() => readOutboxStatus(tmp.file).depth === 0);
    expect(deadRows(tmp.file).map((d) => [d.status, JSON.parse(d.log).b])).toEqual([[413, 'huge']]);
    expect(r.accepted).toEqual(sent.filter((b) => b !== 'huge'));
  });

  it('dead-letters records that kept failing past maxAgeMillis', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const r = await receiver((_b, res) => {
      res.writeHead(503).end();
      return true;
    });
    cleanups.push(() => r.close());
    const outbox = outboxAt(tmp.file, r.url, { maxAgeMillis: 300 });
    await exportNow(outbox, [log('old')]);
    await until(() => readOutboxStatus(tmp.file).deadLetters === 1);
    expect(deadRows(tmp.file)[0]!.reason).toMatch(/^expired/);
  });

  it('gives up only the rows past maxAgeMillis: younger rows of the same batch are delivered once the receiver is back', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const r = await downReceiver();
    cleanups.push(() => r.close());
    const outbox = outboxAt(tmp.file, r.url, { maxAgeMillis: 2_000 });
    await exportNow(outbox, [log('old')]);
    await new Promise((res) => setTimeout(res, 1_000));
    await exportNow(outbox, [log('young')]); // from now on the retried batch holds both
    await until(() => readOutboxStatus(tmp.file).deadLetters === 1);
    r.up = true;
    await until(() => r.accepted.length === 1);
    expect(deadRows(tmp.file).map((d) => JSON.parse(d.log).b)).toEqual(['old']);
    expect(r.accepted).toEqual(['young']);
  });

  it('works over the stock OTLPLogExporter: delivers, and dead-letters its final HTTP errors', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const r = await receiver((bodies, res) => {
      if (!bodies.includes('deny')) return false;
      res.writeHead(401).end();
      return true;
    });
    cleanups.push(() => r.close());
    const outbox = new OutboxLogRecordExporter({ path: tmp.file, exporter: new OTLPLogExporter({ url: r.url }), ...fast });
    cleanups.push(() => outbox.shutdown());
    await exportNow(outbox, [log('s1'), log('s2')]);
    await until(() => r.accepted.length === 2);
    await exportNow(outbox, [log('deny')]);
    await until(() => readOutboxStatus(tmp.file).deadLetters === 1);
    expect(deadRows(tmp.file)[0]!.status).toBe(401);
  });

  it('masks what a refusing receiver echoes (credentials, query token, header) in last_error, dead letters, onDeadLetter, diag and the file', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const basic = Buffer.from('audit:Zq8pass').toString('base64');
    const r = await receiver((_b, res, req) => {
      res.writeHead(401, 'Unauthorized').end(`denied: bad creds for ${req.url} (Authorization: ${req.headers.authorization}, x-api-key: ${req.headers['x-api-key']})`);
      return true;
    });
    cleanups.push(() => r.close());
    const logged: string[] = [];
    diag.setLogger({ error: (...a: unknown[]) => logged.push(a.join(' ')), warn: () => undefined, info: () => undefined, debug: () => undefined, verbose: () => undefined }, DiagLogLevel.ERROR);
    cleanups.push(() => diag.disable());
    const dead: DeadLetterInfo[] = [];
    const url = `http://audit:Zq8pass@127.0.0.1:${r.port}/base/v1/logs?api_key=Zq8query&tenant=acme`;
    const outbox = new OutboxLogRecordExporter({ path: tmp.file, exporter: jsonExporter(url, { 'x-api-key': 'Zq8header' }), ...fast, onDeadLetter: (i) => dead.push(i) });
    await exportNow(outbox, [log('refused')]);
    await until(() => dead.length === 1);
    await outbox.shutdown();

    const secrets = /Zq8pass|Zq8query|Zq8header/;
    const status = readOutboxStatus(tmp.file);
    // What the receiver said stays readable, its secrets do not (a value in prose is masked to the next blank, `)` and all).
    expect(status.lastError?.message).toBe('the receiver answered HTTP 401 Unauthorized: denied: bad creds for /base/v1/logs?api_key=***&tenant=acme (Authorization: Basic ***, x-api-key: ***');
    expect(dead[0]!.reason).toBe(status.lastError?.message);
    expect(deadRows(tmp.file)[0]!.reason).toBe(status.lastError?.message);
    expect(logged.join('\n')).toContain('api_key=***');
    expect(logged.join('\n')).not.toMatch(secrets);
    for (const f of fs.readdirSync(tmp.dir).filter((n) => n.startsWith(path.basename(tmp.file)))) {
      const bytes = fs.readFileSync(path.join(tmp.dir, f)).toString('latin1');
      expect(bytes, f).not.toMatch(secrets);
      expect(bytes, f).not.toContain(basic);
    }
  });

  it('status masks a last error stored unmasked (a file written by an earlier version)', () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const db = new Database(tmp.file);
    db.exec("CREATE TABLE outbox_records (id INTEGER PRIMARY KEY, enqueued_at INTEGER, resource_id INTEGER, log TEXT); CREATE TABLE outbox_dead_letters (id INTEGER PRIMARY KEY); CREATE TABLE outbox_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);");
    db.prepare("INSERT INTO outbox_state VALUES ('last_error', ?)").run(JSON.stringify({ at: 0, status: 401, message: 'HTTP 401: bad creds for /v1/logs?api_key=Zq8query&tenant=a' }));
    db.close();
    expect(readOutboxStatus(tmp.file).lastError).toEqual({ at: '1970-01-01T00:00:00.000Z', status: 401, message: 'HTTP 401: bad creds for /v1/logs?api_key=***&tenant=a' });
  });

  it('publishes its depth and the age of the oldest record as gauges', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const { reader, meterProvider } = gaugeReader();
    const outbox = outboxAt(tmp.file, 'http://127.0.0.1:9/v1/logs', { meterProvider, shutdownTimeoutMillis: 50 });
    await exportNow(outbox, [log('m1'), log('m2'), log('m3')]);
    await new Promise((r) => setTimeout(r, 30));
    const { resourceMetrics } = await reader.collect();
    const points = new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m.dataPoints[0]?.value]));
    expect(points.get('otel_audit.outbox.depth')).toBe(3);
    expect(points.get('otel_audit.outbox.oldest_age')).toBeGreaterThan(0);
  });

  it('publishes the age of the oldest record on the monotonic clock: a wall-clock step does not make it 8 days old', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const { reader, meterProvider } = gaugeReader();
    const outbox = outboxAt(tmp.file, 'http://127.0.0.1:9/v1/logs', { meterProvider, shutdownTimeoutMillis: 50 });
    const real = Date.now.bind(Date);
    let step = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => real() + step);
    await exportNow(outbox, [log('m1')]);
    step = 8 * 86_400_000; // NTP fixes a clock that was 8 days behind
    await exportNow(outbox, [log('m2')]); // enqueued on the corrected clock
    await new Promise((r) => setTimeout(r, 300));
    const ages = async () => {
      const { resourceMetrics } = await reader.collect();
      return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'otel_audit.outbox.oldest_age')!.dataPoints[0]!.value as number;
    };
    const forward = await ages();
    expect(forward).toBeGreaterThanOrEqual(0.3);
    expect(forward).toBeLessThan(5);
    step = -3_600_000; // and one back: m2 now looks enqueued in the future
    expect(await ages()).toBeGreaterThanOrEqual(forward);
  });

  it('refuses exports after shutdown (FAILED, exactly once) and checks its options', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const outbox = new OutboxLogRecordExporter({ path: tmp.file, exporter: jsonExporter('http://127.0.0.1:9/v1/logs'), shutdownTimeoutMillis: 50 });
    await outbox.shutdown();
    await outbox.shutdown();
    expect((await exportNow(outbox, [log('late')])).code).toBe(ExportResultCode.FAILED);
    expect(() => new OutboxLogRecordExporter({ path: tmp.file, exporter: {} as never })).toThrow(TypeError);
    expect(() => new OutboxLogRecordExporter({ path: tmp.file, exporter: jsonExporter('http://x/'), maxBatchSize: 0 })).toThrow(/maxBatchSize/);
    expect(() => readOutboxStatus(`${tmp.dir}/missing.db`)).toThrow(/no outbox/);
  });

  it.each([
    ['shutdown within its timeout', 'shutdown', 5],
    ['forceFlush once the shipper backs off', 'flush', 3],
  ])('settles %s while the receiver is down, even as a process\'s last await; the records stay in the outbox', async (_, mode, records) => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const down = await receiver();
    await down.close();
    const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, '..', 'fixtures', 'outbox-last-await-child.ts'), String(mode), tmp.file, down.url], { encoding: 'utf8', timeout: 20_000 });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0); // 13: Node ended the process under the unsettled await
    const ms = Number(/^settled (\d+)$/m.exec(child.stdout)?.[1]);
    expect(ms).toBeLessThan(2_000);
    expect(readOutboxStatus(tmp.file)).toMatchObject({ depth: records, deadLetters: 0 });
  });
});
