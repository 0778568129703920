/**
 * The forwarding verbs end to end: `otel-audit collect` receives a service's
 * outbox traffic, `otel-audit verify` checks the central store and the
 * Collector file-exporter format (OTLP JSON lines), `otel-audit status`
 * shows the outbox.
 */
import { createServer } from 'node:http';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '@otel-audit/cli';
import { readOutboxStatus } from '@otel-audit/exporter-sqlite';
import { KEYS, collector, keyring, startService, tempDir, until, capture } from './support.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * A receiver that answers 401 to everything, and a service whose five
 * records (with its start/stop records and checkpoint) all end up in the
 * outbox's dead-letter table.
 */
async function deadLetteredRun(dir: string, stream = 'svc'): Promise<string> {
  const refusing = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(401).end()); });
  await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => refusing.close(() => r())));
  const outbox = path.join(dir, 'outbox.db');
  const svc = startService({ endpoint: `http://127.0.0.1:${(refusing.address() as { port: number }).port}`, outboxPath: outbox, stream, onDeadLetter: () => undefined });
  for (let i = 0; i < 5; i++) svc.emit();
  await svc.shutdown();
  return outbox;
}

describe('otel-audit collect / status / verify', () => {
  it('collect receives a service, status shows an empty outbox, verify finds the central store intact', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    fs.writeFileSync(path.join(tmp.dir, 'audit.vkey'), `${KEYS.verifierKey}\n`);
    const abort = new AbortController();
    const out = capture();
    const err = capture();
    const running = main(['collect', '--listen', '127.0.0.1:0', '--db', 'central.db', '--key', 'audit.vkey', '--json'], { stdout: out, stderr: err, cwd: tmp.dir, env: {}, signal: abort.signal });
    await until(() => out.text.includes('\n') || err.text !== '', 10_000, 'collect listening');
    expect(err.text).toBe('');
    const { url } = JSON.parse(out.text.split('\n')[0]!) as { url: string };
    const outbox = path.join(tmp.dir, 'outbox.db');
    const svc = startService({ endpoint: url, outboxPath: outbox });
    for (let i = 0; i < 100; i++) svc.emit();
    await svc.shutdown();
    abort.abort();
    expect(await running).toBe(0);

    const status = capture();
    expect(await main(['status', '--outbox', outbox, '--json'], { stdout: status, stderr: capture(), cwd: tmp.dir, env: {} })).toBe(0);
    expect(JSON.parse(status.text)).toMatchObject({ depth: 0, deadLetters: 0 });
    const verify = capture();
    expect(await main(['verify', 'central.db', '--key', 'audit.vkey'], { stdout: verify, stderr: capture(), cwd: tmp.dir, env: {} })).toBe(0);
  });

  it('status reports dead letters with exit 1, and says what is wrong with a missing outbox', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const outbox = await deadLetteredRun(tmp.dir);
    const out = capture();
    expect(await main(['status', '--outbox', outbox], { stdout: out, stderr: capture(), cwd: tmp.dir, env: {} })).toBe(1);
    expect(out.text).toMatch(/dead letters: [1-9]/);
    expect(out.text).toMatch(/HTTP 401/);
    const err = capture();
    expect(await main(['status', '--outbox', 'nope.db'], { stdout: capture(), stderr: err, cwd: tmp.dir, env: {} })).toBe(2);
    expect(err.text).toMatch(/no outbox/);

    // --config finds the same outbox through exporters.otlphttp.outbox.path, relative to the file.
    fs.writeFileSync(path.join(tmp.dir, 'otel-config.yaml'), [
      'exporters:',
      '  otlphttp: { endpoint: "http://127.0.0.1:9/", outbox: { path: ./outbox.db } }',
      'service:',
      '  pipelines:',
      '    audit: { processors: [], exporters: [otlphttp] }',
      '',
    ].join('\n'));
    const viaConfig = capture();
    const configErr = capture();
    expect(await main(['status', '--config', 'otel-config.yaml'], { stdout: viaConfig, stderr: configErr, cwd: tmp.dir, env: {} })).toBe(1);
    expect(configErr.text).toBe('');
    expect(viaConfig.text).toContain(outbox);
    expect(viaConfig.text).toMatch(/dead letters: [1-9]/);
  });

  it('status --requeue puts dead letters back once the cause is fixed: the next run ships them and the stream verifies', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    // The receiver refuses the token: every batch of the first run is dead-lettered.
    const outbox = await deadLetteredRun(tmp.dir, 'svc-refused');
    const dead = readOutboxStatus(outbox).deadLetters;
    expect(dead).toBe(9); // stream_started, the checkpoint over it, 5 records, pipeline_stopped and the final checkpoint

    const err = capture();
    expect(await main(['status', '--outbox', outbox, '--requeue'], { stdout: capture(), stderr: err, cwd: tmp.dir, env: {} })).toBe(0);
    expect(err.text).toContain(`requeued ${dead} dead-lettered record(s)`);
    expect(readOutboxStatus(outbox)).toMatchObject({ depth: dead, deadLetters: 0 });

    // The fixed setup: a receiver that accepts; the next run of the service ships the requeued records first.
    const c = await collector(path.join(tmp.dir, 'central.db'));
    cleanups.push(() => c.close());
    const second = startService({ endpoint: c.url, outboxPath: outbox, stream: 'svc-next' });
    second.emit();
    await second.shutdown();
    await until(() => (c.store.database.prepare("SELECT count(*) FROM audit_logs WHERE stream = 'svc-refused'").pluck().get() as number) === 7, 10_000, 'requeued records delivered');
    const report = await c.store.verify({ keyring });
    expect(report.streams.find((s) => s.stream === 'svc-refused')).toMatchObject({ records: 7, errors: 0, warnings: 0 });
    expect(c.findings()).toEqual([]);
  });

  it('verify checks what a Collector file exporter wrote (OTLP JSON lines): intact, and an altered line is found', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const lines: string[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        lines.push(JSON.stringify(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const svc = startService({ endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`, protocol: 'http/json', outboxPath: path.join(tmp.dir, 'outbox.db') });
    for (let i = 0; i < 60; i++) svc.emit();
    await svc.shutdown();
    fs.writeFileSync(path.join(tmp.dir, 'audit.vkey'), `${KEYS.verifierKey}\n`);
    fs.writeFileSync(path.join(tmp.dir, 'logs.jsonl'), `${lines.join('\n')}\n`);
    expect(await main(['verify', 'logs.jsonl', '--key', 'audit.vkey'], { stdout: capture(), stderr: capture(), cwd: tmp.dir, env: {} })).toBe(0);
    fs.writeFileSync(path.join(tmp.dir, 'altered.jsonl'), `${lines.join('\n').replace('\\"user-3\\"', '\\"user-9\\"')}\n`);
    const out = capture();
    expect(await main(['verify', 'altered.jsonl', '--key', 'audit.vkey'], { stdout: out, stderr: capture(), cwd: tmp.dir, env: {} })).toBe(1);
    expect(out.text).toMatch(/hash_mismatch/);
  });
});
