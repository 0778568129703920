/**
 * Adoption: a service that already runs its own OpenTelemetry SDK (NodeSDK
 * with its own HttpInstrumentation and span exporter, loaded as a preload)
 * adds `--import @otel-audit/node/register` (adoption review, helper 102).
 * Two HTTP instrumentations cannot share `node:http`: OpenTelemetry's `_wrap`
 * unwraps what is there first, so the one enabled last owns it.
 *  - team preload first, register hook second: ours takes node:http over and
 *    every request is audited, but the team's exporter gets no server span;
 *  - register hook first, team preload second: the team's instrumentation
 *    takes node:http over, and no request is audited.
 * Both used to happen without a word. Making both work is not done (the
 * supported way is examples/own-sdk); what a team must at least see is a
 * warning on stderr that names what broke and the fix — tested here, with
 * what each order really does.
 *
 * Real processes, a real SQLite file in a temp dir, loopback only.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateNoteKey } from '@otel-audit/core';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'packages', 'cli', 'bin', 'otel-audit.js');
const keys = generateNoteKey('adoption-e2e');
const AUDITED = 8;

/** The team's preload: NodeSDK, a plain HttpInstrumentation and an exporter that prints each server span. */
const TEAM_PRELOAD = `
import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(join(ROOT, 'package.json'))});
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { SpanKind } = require('@opentelemetry/api');
const exporter = {
  export(spans, done) {
    for (const s of spans) if (s.kind === SpanKind.SERVER) process.stdout.write('TEAM_SERVER_SPAN ' + (s.attributes['url.path'] ?? s.attributes['http.target']) + '\\n');
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};
new NodeSDK({ serviceName: 'team', spanProcessors: [new SimpleSpanProcessor(exporter)], instrumentations: [new HttpInstrumentation()], metricReaders: [] }).start();
`;

const APP = `
import http from 'node:http';
const server = http.createServer((req, res) => res.end('ok'));
server.listen(0, '127.0.0.1', () => console.log('LISTENING ' + server.address().port));
`;

const CONFIG = `
receivers:
  http: {}
  api: {}
processors:
  chain: { stream: adoption/1, signer_key_file: ./signer.key }
exporters:
  sqlite: { path: ./audit.db }
service:
  pipelines:
    audit: { receivers: [http, api], processors: [chain], exporters: [sqlite] }
`;

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AUDIT_') && !k.startsWith('OTEL_') && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, OTEL_LOGS_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_TRACES_EXPORTER: 'none', ...extra };
}

function send(port: number, path: string): Promise<number> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? 0));
    });
    req.on('error', fail);
    req.end();
  });
}

async function runService(order: 'audit-first' | 'team-first'): Promise<{ teamSpans: string[]; auditedPaths: string[]; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'otel-audit-adoption-'));
  writeFileSync(join(dir, 'signer.key'), keys.signerKey, { mode: 0o600 });
  writeFileSync(join(dir, 'otel-config.yaml'), CONFIG);
  writeFileSync(join(dir, 'team-tracing.mjs'), TEAM_PRELOAD);
  writeFileSync(join(dir, 'app.mjs'), APP);
  const ours = ['--import', '@otel-audit/node/register'];
  const team = ['--import', join(dir, 'team-tracing.mjs')];
  const args = [...(order === 'audit-first' ? [...ours, ...team] : [...team, ...ours]), join(dir, 'app.mjs')];
  // cwd inside the repository so that `@otel-audit/node/register` resolves; the config names the temp dir's files.
  const child = spawn(process.execPath, args, { cwd: import.meta.dirname, env: childEnv({ OTEL_AUDIT_CONFIG: join(dir, 'otel-config.yaml') }), stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<void>((done) => child.on('exit', () => done()));
  const t0 = Date.now();
  while (!/LISTENING (\d+)/.test(out)) {
    if (child.exitCode !== null || Date.now() - t0 > 15_000) throw new Error(`service did not listen: ${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const port = Number(/LISTENING (\d+)/.exec(out)![1]);
  for (let i = 0; i < AUDITED; i++) expect(await send(port, `/api/items/${i}`)).toBe(200);
  // The check for a later patch of node:http runs 2 s after start.
  while (!/otel-audit: warning: (another OpenTelemetry SDK|HTTP requests are NOT audited)/.test(err) && Date.now() - t0 < 6_000) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGTERM');
  await exit;
  const rows = execFileSync(process.execPath, [CLI, 'query', '--db', join(dir, 'audit.db'), '--ndjson', '--limit', '1000'], { encoding: 'utf8' })
    .split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { record: { request?: { endpoint?: string } } }).record);
  return {
    teamSpans: out.split('\n').filter((l) => l.startsWith('TEAM_SERVER_SPAN ')).map((l) => l.slice('TEAM_SERVER_SPAN '.length)),
    auditedPaths: rows.map((r) => r.request?.endpoint).filter((e): e is string => e !== undefined).sort(),
    stderr: err,
  };
}

const expectedPaths = Array.from({ length: AUDITED }, (_, i) => `/api/items/${i}`).sort();

describe('register hook next to a team preload that already runs NodeSDK with HttpInstrumentation', () => {
  it('team preload first: every request is audited, and stderr says the team\'s SDK gets no HTTP spans now, with the fix', async () => {
    const r = await runService('team-first');
    expect(r.auditedPaths, `audit records (stderr: ${r.stderr})`).toEqual(expectedPaths);
    expect(r.teamSpans).toEqual([]);
    expect(r.stderr).toMatch(/otel-audit: warning: another OpenTelemetry SDK registered its tracer provider before otel-audit started: .*records no HTTP spans of its own .*fix: do not combine --import @otel-audit\/node\/register with another OpenTelemetry SDK; wire otel-audit into that SDK instead, with its own instrumentation-http disabled \(examples\/own-sdk/);
  }, 40_000);

  it('register hook first: the team\'s instrumentation takes node:http over, and stderr says that HTTP requests are NOT audited, with the fix', async () => {
    const r = await runService('audit-first');
    expect(r.auditedPaths).toEqual([]);
    expect(r.stderr).toMatch(/otel-audit: warning: HTTP requests are NOT audited: another instrumentation patched node:http after otel-audit started .*fix: do not combine/);
  }, 40_000);
});
