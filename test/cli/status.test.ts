/**
 * `otel-audit status --config` with an OTLP exporter whose settings hold
 * secrets — credentials in the endpoint's userinfo, a token in the query, an
 * API key header: the service uses them, the output of status never shows
 * them, and a refused endpoint is quoted with them masked.
 */
import * as fs from 'node:fs';
import { createServer } from 'node:http';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startService } from '../forwarding/support.js';
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
    const receiver = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200).end()); });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    try {
      const svc = startService({ endpoint: `http://127.0.0.1:${(receiver.address() as { port: number }).port}`, outboxPath: path.join(dir, 'used-outbox.db') });
      await svc.shutdown();
    } finally {
      await new Promise<void>((r) => receiver.close(() => r()));
    }
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
