/**
 * `otel-audit status --config` with an OTLP exporter whose settings hold
 * secrets — credentials in the endpoint's userinfo, a token in the query, an
 * API key header: the service uses them, the output of status never shows
 * them, and a refused endpoint is quoted with them masked. A receiver that
 * refuses them and echoes them back (as many proxies do) gets them into no
 * outbox row, no sealed audit record and no line of status.
 */
import * as fs from 'node:fs';
import { createServer } from 'node:http';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { startAudit } from '@otel-audit/node';
import { shipOnce, startService, until } from '../forwarding/support.js';
import { runCli, tempDir } from './helpers.js';

const SECRETS = /Zq8pass|Zq8query|Zq8header/;

function configFile(dir: string, endpoint: string): void {
  fs.writeFileSync(path.join(dir, 'otel-config.yaml'), [
    'exporters:',
    '  otlphttp:',
    `    endpoint: "${endpoint}"`,
    `    logs_endpoint: "${endpoint}/v1/logs?api_key=Zq8query"`,
    '    headers: { x-api-key: Zq8header }',
    '    outbox: { path: ./outbox.db }',
    'service:',
    '  pipelines:',
    '    audit: { processors: [], exporters: [otlphttp] }',
    '',
  ].join('\n'));
}

describe('otel-audit status --config never shows the exporter\'s secrets', () => {
  it('shows the outbox of an endpoint with credentials, a token and an API key header, and none of them', async () => {
    const dir = tempDir();
    const authorizations: (string | undefined)[] = [];
    const receiver = createServer((req, res) => { authorizations.push(req.headers.authorization); req.resume(); req.on('end', () => res.writeHead(200).end()); });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    try {
      const endpoint = `http://audit:Zq8pass@127.0.0.1:${(receiver.address() as { port: number }).port}`;
      const svc = startService({ endpoint, outboxPath: path.join(dir, 'outbox.db') });
      svc.emit();
      await svc.shutdown();
      expect(authorizations[0]).toBe(`Basic ${Buffer.from('audit:Zq8pass').toString('base64')}`); // the credentials are used ...
      configFile(dir, endpoint);
      for (const json of [[], ['--json']]) {
        const run = await runCli(['status', '--config', 'otel-config.yaml', ...json], { cwd: dir });
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toContain(path.join(dir, 'outbox.db'));
        expect(run.stdout + run.stderr).not.toMatch(SECRETS); // ... and never shown
      }
    } finally {
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  });

  it('an error the receiver answered before a later success is shown as resolved', async () => {
    const dir = tempDir();
    let requests = 0;
    // The first export meets a 503; the retry (50 ms later) goes through.
    const receiver = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(requests++ === 0 ? 503 : 200).end()); });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    try {
      const svc = startService({ endpoint: `http://127.0.0.1:${(receiver.address() as { port: number }).port}`, outboxPath: path.join(dir, 'outbox.db') });
      svc.emit();
      await until(() => requests >= 2, 5_000);
      await svc.shutdown();
    } finally {
      await new Promise<void>((r) => receiver.close(() => r()));
    }
    const run = await runCli(['status', '--outbox', path.join(dir, 'outbox.db')], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/last error: +\S+ \(before the last success: resolved\) HTTP 503/);
  });

  it('a receiver answering 401 with the request URL and credentials echoed: none of them in the outbox file, the audit store or status', async () => {
    const dir = tempDir();
    const basic = Buffer.from('audit:Zq8pass').toString('base64');
    const receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(401).end(`denied: bad creds for ${req.url} (authorization: ${req.headers.authorization}; ${req.headers.authorization}; x-api-key: ${req.headers['x-api-key']})`));
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    try {
      fs.writeFileSync(path.join(dir, 'otel-config.yaml'), [
        'exporters:',
        '  sqlite: { path: ./audit.db }',
        '  otlphttp:',
        `    endpoint: "http://audit:Zq8pass@127.0.0.1:${(receiver.address() as { port: number }).port}/base?api_key=Zq8query"`,
        '    headers: { x-api-key: Zq8header }',
        '    outbox: { path: ./outbox.db, retry_initial: 20ms }',
        'processors:',
        '  chain: { stream: svc/1, delivery: { flush_interval: 20ms } }',
        'service:',
        '  pipelines:',
        '    audit: { processors: [chain], exporters: [sqlite, otlphttp] }',
        '',
      ].join('\n'));
      const running = await startAudit({ path: path.join(dir, 'otel-config.yaml'), env: {} });
      try {
        await running.audit.log({ type: 'crud', action: 'update', target: { type: 'doc', id: '1' } });
        const failures = running.store!.database.prepare("SELECT count(*) FROM audit_logs WHERE event_type = 'system' AND event_action = 'integrity_failure'").pluck();
        await until(() => (failures.get() as number) > 0, 10_000, 'system/integrity_failure record');
      } finally {
        await running.shutdown();
      }

      const secrets = /Zq8pass|Zq8query|Zq8header/;
      const files = fs.readdirSync(dir).filter((f) => f.startsWith('outbox.db'));
      expect(files).toContain('outbox.db');
      for (const f of files) {
        const bytes = fs.readFileSync(path.join(dir, f)).toString('latin1');
        expect(bytes, f).not.toMatch(secrets);
        expect(bytes, f).not.toContain(basic);
      }
      const store = new Database(path.join(dir, 'audit.db'), { readonly: true });
      try {
        const tables = store.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
        const rows = tables.flatMap((t) => store.prepare(`SELECT * FROM "${t}"`).all());
        const text = JSON.stringify(rows);
        expect(text).toContain('integrity_failure');
        expect(text).toContain('api_key=***'); // the reason is kept, readable ...
        expect(text).not.toMatch(secrets); // ... and masked
        expect(text).not.toContain(basic);
      } finally {
        store.close();
      }

      const run = await runCli(['status', '--config', 'otel-config.yaml'], { cwd: dir });
      expect(run.code, run.stderr).toBe(1); // records were dead-lettered
      expect(run.stdout).toMatch(/last error: .* HTTP 401 the receiver answered HTTP 401 Unauthorized: denied: bad creds for \/base\/v1\/logs\?api_key=\*\*\* \(authorization: Basic \*\*\*; Basic \*\*\*; x-api-key: \*\*\*/);
      const json = await runCli(['status', '--config', 'otel-config.yaml', '--json'], { cwd: dir });
      for (const out of [run.stdout + run.stderr, json.stdout + json.stderr]) {
        expect(out).not.toMatch(secrets);
        expect(out).not.toContain(basic);
      }
    } finally {
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  });

  it('quotes a refused endpoint with its userinfo and token masked', async () => {
    const dir = tempDir();
    configFile(dir, 'http://127.0.0.1:4318');
    const run = await runCli(['status', '--config', 'otel-config.yaml'], { cwd: dir, env: { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'ftp://audit:Zq8pass@collector:4318/v1/logs?api_key=Zq8query' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: must be an http(s) URL; got "ftp://***@collector:4318/v1/logs?api_key=***"');
    expect(run.stderr).toContain('fix: fix the keys named above');
    expect(run.stdout + run.stderr).not.toMatch(SECRETS);
  });
});

describe('otel-audit status --config lists the outboxes the pipeline forwards through', () => {
  it('shows the outbox of the otlphttp exporter in the pipeline, not one that is only defined; refuses a config whose pipeline forwards nowhere', async () => {
    const dir = tempDir();
    const yaml = (exporters: string) => [
      'exporters:',
      '  sqlite: { path: ./audit.db }',
      '  otlphttp: { endpoint: "http://127.0.0.1:4318", outbox: { path: ./used-outbox.db } }',
      '  otlphttp/spare: { endpoint: "http://127.0.0.1:4319", outbox: { path: ./spare-outbox.db } }',
      'service:',
      '  pipelines:',
      `    audit: { processors: [], exporters: [${exporters}] }`,
      '',
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'otel-config.yaml'), yaml('sqlite, otlphttp'));
    await shipOnce(path.join(dir, 'used-outbox.db'));
    const run = await runCli(['status', '--config', 'otel-config.yaml', '--json'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { path: string }[]).map((s) => s.path)).toEqual([path.join(dir, 'used-outbox.db')]);

    fs.writeFileSync(path.join(dir, 'otel-config.yaml'), yaml('sqlite'));
    const none = await runCli(['status', '--config', 'otel-config.yaml'], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('defines exporters.otlphttp, exporters.otlphttp/spare but its pipeline does not use them: nothing is forwarded, so there is no outbox');
    expect(none.stderr).toContain('add otlphttp to service.pipelines.audit.exporters, or pass --outbox FILE');
  });
});

describe('otel-audit status --config reads no keys', () => {
  it('runs with a config whose signer key file is not on this machine, and says the key was not checked', async () => {
    const dir = tempDir();
    await shipOnce(path.join(dir, 'outbox.db'));
    fs.writeFileSync(path.join(dir, 'otel-config.yaml'), [
      'processors:',
      '  chain: { signer_key_file: ./keys/audit.key }',
      'exporters:',
      '  otlphttp: { endpoint: "http://127.0.0.1:4318", outbox: { path: ./outbox.db } }',
      'service:',
      '  pipelines:',
      '    audit: { processors: [chain], exporters: [otlphttp] }',
      '',
    ].join('\n'));
    const run = await runCli(['status', '--config', 'otel-config.yaml'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`outbox ${path.join(dir, 'outbox.db')}`);
    expect(run.stderr).toBe('note: processors.chain.signer_key_file was not checked: status reads no keys (the service checks it when it starts)\n');
    const json = await runCli(['status', '--config', 'otel-config.yaml', '--json'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ path: path.join(dir, 'outbox.db'), depth: 0 })]);
    // The rest of the file is still checked as the service checks it.
    fs.appendFileSync(path.join(dir, 'otel-config.yaml'), 'bogus: 1\n');
    const broken = await runCli(['status', '--config', 'otel-config.yaml'], { cwd: dir });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('bogus');
  });
});
