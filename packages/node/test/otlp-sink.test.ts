/**
 * The `exporters.otlphttp` sink refuses an endpoint it cannot send to when
 * it is built (`createOtlpSink` is also called without `loadConfig`), naming
 * the key and the fix, and quoting the endpoint with its credentials and
 * tokens masked — in the message and anywhere else on the error. Records
 * a receiver refuses (partial success, on a real loopback receiver) are all
 * accounted for at shutdown: the summary still waiting for its window is
 * sealed into the chain before the final checkpoint, and what is refused
 * after that is printed with its count.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { audit, createOtlpSink, startAudit } from '../src/index.js';
import { logsUrl } from '../src/otlp-sink.js';

const dir = mkdtempSync(join(tmpdir(), 'otel-audit-node-otlp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const outbox = { path: join(dir, 'outbox.db') };

/** The error `createOtlpSink(config)` throws. */
function refusal(config: Parameters<typeof createOtlpSink>[0]): Error {
  try {
    createOtlpSink(config);
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a refusal');
}

describe('createOtlpSink refuses a bad endpoint without showing its secrets', () => {
  it('a logs_endpoint that is not an http(s) URL: the key, the masked value and the fix', () => {
    const e = refusal({ logs_endpoint: 'ftp://audit:Zq8secret@collector:4318/v1/logs', outbox });
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe('exporters.otlphttp.logs_endpoint must be an http(s) URL; got "ftp://***@collector:4318/v1/logs" (fix: logs_endpoint: http://collector:4318/v1/logs)');
  });

  it('an endpoint without a scheme: its token is masked', () => {
    const e = refusal({ endpoint: 'collector:4318?access_token=Zq8token', outbox });
    expect(e.message).toBe('exporters.otlphttp.endpoint must be an http(s) URL; got "collector:4318?access_token=***" (fix: endpoint: http://collector:4318)');
  });

  it('an http URL that does not parse (port out of range): refused at its key with the URL masked, nothing of it kept on the error', () => {
    const e = refusal({ endpoint: 'http://audit:Zq8secret@collector:99999', outbox });
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe('exporters.otlphttp.endpoint must be an http(s) URL; got "http://***@collector:99999" (fix: endpoint: http://collector:4318)');
    expect(inspect(e)).not.toContain('Zq8secret');
  });
});

describe('logsUrl', () => {
  it('puts /v1/logs on the path of a base endpoint, before its query, and leaves a logs URL as written', () => {
    const cases: [endpoint: string, url: string][] = [
      ['http://collector:4318', 'http://collector:4318/v1/logs'],
      ['http://collector:4318/', 'http://collector:4318/v1/logs'],
      ['http://collector:4318/otlp/?tenant=a&token=t', 'http://collector:4318/otlp/v1/logs?tenant=a&token=t'],
      ['http://collector:4318?tenant=a', 'http://collector:4318/v1/logs?tenant=a'],
      ['http://collector:4318/v1/logs?tenant=a', 'http://collector:4318/v1/logs?tenant=a'],
      ['https://c/v1/logs/', 'https://c/v1/logs/'],
    ];
    for (const [endpoint, url] of cases) expect(logsUrl(endpoint), endpoint).toBe(url);
  });
});

describe('dead letters at shutdown (DESIGN §5, never a silent drop)', () => {
  it('a receiver answering partial success: every refused record is counted by an integrity_failure record in the chain or, after the final checkpoint, in a printed line', async () => {
    let requests = 0;
    const receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        requests++;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ partialSuccess: { rejectedLogRecords: 1, errorMessage: 'one record refused' } }));
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const base = mkdtempSync(join(dir, 'partial-'));
    writeFileSync(join(base, 'otel-config.yaml'), `
resource: { service.name: partial-test }
receivers: { api: {} }
processors:
  chain: { stream: partial-test/1, delivery: { batch_size: 10, flush_interval: 20ms, shutdown_timeout: 2s } }
exporters:
  sqlite: { path: ./audit.db }
  otlphttp: { endpoint: "${url}", protocol: http/json, outbox: { path: ./outbox.db } }
service:
  pipelines:
    audit: { receivers: [api], processors: [chain], exporters: [sqlite, otlphttp] }
`);
    const lines: string[] = [];
    const handle = await startAudit({ path: join(base, 'otel-config.yaml') }, { onWarning: (m) => lines.push(m) });
    try {
      // One at a time, each shipped (and refused) before the next: one dead letter each, all
      // but the first inside the minute the auditor waits before its next summary.
      for (let i = 0; i < 6; i++) {
        const before = requests;
        await audit.log({ type: 'admin', action: 'update', outcome: 'success', details: { i } });
        for (let t = 0; t < 200 && requests === before; t++) await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      await handle.shutdown();
      await new Promise<void>((r) => receiver.close(() => r()));
    }
    const store = new Database(join(base, 'audit.db'), { readonly: true });
    const rows = store.prepare("SELECT seq, event_action, details FROM audit_logs WHERE event_type = 'system' ORDER BY seq").all() as { seq: number; event_action: string; details: string }[];
    store.close();
    const outbox = new Database(join(base, 'outbox.db'), { readonly: true });
    const dead = (outbox.prepare('SELECT COUNT(*) AS n FROM outbox_dead_letters').get() as { n: number }).n;
    outbox.close();
    const failures = rows.filter((r) => r.event_action === 'integrity_failure');
    const sealed = failures.reduce((n, r) => n + (JSON.parse(r.details) as { dead_letters: number }).dead_letters, 0);
    const printed = lines.map((l) => /outbox .*: (\d+) audit record\(s\) in \d+ batch\(es\) were refused by the OTLP receiver/.exec(l)).reduce((n, m) => n + (m ? Number(m[1]) : 0), 0);
    expect(dead).toBeGreaterThanOrEqual(6);
    // The pending summary is sealed, before the pipeline_stopped record (and so the final checkpoint).
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(failures.at(-1)!.seq).toBeLessThan(rows.find((r) => r.event_action === 'pipeline_stopped')!.seq);
    // The stop record, the final checkpoint and the last summary itself are shipped after the seal: refused, they are printed.
    expect(printed).toBeGreaterThan(0);
    expect(sealed + printed).toBe(dead);
  });
});
