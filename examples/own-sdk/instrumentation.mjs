// The own-sdk example: a team that already runs its own OpenTelemetry SDK
// (NodeSDK, a sampler, a trace exporter) adds otel-audit to it by hand, with
// no @otel-audit/node and no otel-config.yaml. Load it before the app:
//
//   node --import ./instrumentation.mjs app.mjs
//
// It writes OUT/audit.db and, on first run, a signing key OUT/own-sdk.example.key
// (mode 0600) with its verifier OUT/own-sdk.example.vkey; OUT is $OWN_SDK_OUTPUT,
// default ./own-sdk-output. It exports `audit` (the explicit API), `auditHealthy`
// (for the fail-closed guard) and `shutdown()` for app.mjs.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { register } from 'node:module';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { generateNoteKey } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import {
  AlwaysRecordSampler, AuditSpanProcessor, DEFAULT_HTTP_AUDIT_RULES, createAuditLogger, createHttpAuditInstrumentation, createHttpAuditPolicy,
} from '@otel-audit/instrumentation';
import { AuditLogRecordProcessor } from '@otel-audit/processor';

// ESM apps need the import-in-the-middle loader hook registered before they load, or
// `import http from 'node:http'` is not patched; only node:http/https go through it.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['http', 'https'] } });

// Where the database and the generated keys go; a test points this at a temporary directory.
const out = resolve(process.env.OWN_SDK_OUTPUT ?? 'own-sdk-output');
mkdirSync(out, { recursive: true, mode: 0o700 });

// Checkpoints are signed with an Ed25519 note key. The processor takes the key's text
// (PRIVATE+KEY+...), so the file is read and trimmed. Without OTEL_AUDIT_SIGNER_KEY_FILE
// a key pair is made on first run, as `npx otel-audit keygen --name own-sdk.example` would.
const KEY_NAME = 'own-sdk.example';
const signerKeyFile = process.env.OTEL_AUDIT_SIGNER_KEY_FILE ?? join(out, `${KEY_NAME}.key`);
if (process.env.OTEL_AUDIT_SIGNER_KEY_FILE === undefined && !existsSync(signerKeyFile)) {
  const { signerKey, verifierKey } = generateNoteKey(KEY_NAME);
  writeFileSync(signerKeyFile, `${signerKey}\n`, { mode: 0o600, flag: 'wx' });
  writeFileSync(join(out, `${KEY_NAME}.vkey`), `${verifierKey}\n`);
  const shown = (p) => (relative('.', p).startsWith('..') || isAbsolute(relative('.', p)) ? p : relative('.', p));
  console.log(`own-sdk: created the signing key ${shown(signerKeyFile)} (mode 0600) and its verifier ${shown(join(out, `${KEY_NAME}.vkey`))}`);
}
const signerKey = readFileSync(signerKeyFile, 'utf8').trim();

// The audit LogRecordProcessor: seals each audit record into a hash-chained stream and writes
// signed checkpoints. The first sink is the primary one (receipts, stream head): the SQLite store.
const auditProcessor = new AuditLogRecordProcessor({
  sinks: [new SqliteAuditStore(join(out, 'audit.db'))],
  // A fixed stream id, so a restart continues the same chain instead of starting a new one.
  stream: process.env.OTEL_AUDIT_STREAM ?? 'own-sdk/local',
  signerKey,
  checkpointEveryRecords: 100,
  checkpointIntervalMillis: 5_000,
  // HTTP records are not awaited: they go in batches every second (awaited `audit.*` calls go at once).
  flushIntervalMillis: 1_000,
  // The processor's warnings and errors are silent without an OpenTelemetry diag logger: print them.
  onWarning: (w) => console.error(w.message),
  onError: (e) => console.error(`otel-audit: ${e.message}`),
});

// Which HTTP requests become audit records (first match wins). Our rules come first;
// the defaults then audit /auth/**, /admin/**, /api/** and /rpc and leave everything else out.
const policy = createHttpAuditPolicy({
  rules: [
    // Probes are never audited.
    { match: { path: '/healthz' }, level: 'none' },
    // A settings change names its target: type `setting`, id from `:name`.
    { match: { path: '/admin/settings/:name' }, level: 'metadata', type: 'admin', target: { type: 'setting', idParam: 'name' } },
    ...DEFAULT_HTTP_AUDIT_RULES,
  ],
});

// The team's existing trace export: spans go to their OTLP backend when one is configured.
const traceExport = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? [new BatchSpanProcessor(new OTLPTraceExporter())] : [];

const sdk = new NodeSDK({
  serviceName: process.env.OTEL_SERVICE_NAME ?? 'own-sdk-example',
  // The team samples 10% of traces. AlwaysRecordSampler still records the server span of every
  // audited request (even with `traceparent: ...-00`), so no request escapes the audit.
  sampler: new AlwaysRecordSampler(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) })),
  // AuditSpanProcessor turns each finished server span of an audited route into one audit record,
  // emitted on the global LoggerProvider that NodeSDK registers below.
  spanProcessors: [new AuditSpanProcessor(), ...traceExport],
  // The audit processor first: processors before it would see records before redaction.
  logRecordProcessors: [auditProcessor],
  // The HttpInstrumentation with the audit hooks and our policy (one per process).
  instrumentations: [createHttpAuditInstrumentation(policy)],
  // This example exports no metrics; without this NodeSDK starts an OTLP metric exporter.
  metricReaders: [],
});
sdk.start();

// Records emitted before the store answered the stream head are held; wait for it once here.
await auditProcessor.ready();

// The explicit API, on the global LoggerProvider (the SDK's). `await audit.login(...)` resolves
// with a receipt `{ id, stream, seq, hash }` once the store committed the record.
export const audit = createAuditLogger();

// For the fail-closed guard: false while the store is failing, so audited routes answer 503.
export const auditHealthy = () => !auditProcessor.primarySinkFailing;

// Flushes every record, writes the `pipeline_stopped` record and the final signed checkpoint,
// and closes the store. Call it after the server stopped taking requests.
export const shutdown = () => sdk.shutdown();
