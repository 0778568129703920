/**
 * `otel-audit collect` and encryption at rest (DESIGN §6, §7): the central
 * store is encrypted with `AUDIT_LOG_ENCRYPTION(_KEY)` as every other verb
 * reads it, so what `collect` writes under the key is sealed on disk,
 * readable by `query`/`verify` with the key and by nothing without it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { JsonLogsSerializer } from '@opentelemetry/otlp-transformer';
import { InMemoryLogRecordExporter } from '@opentelemetry/sdk-logs';
import { AuditChain, createRecordId, generateNoteKey, parseSignerKey } from '@otel-audit/core';
import { LogRecordExporterSink } from '@otel-audit/processor';
import { KEYS, startService } from '../forwarding/support.js';
import { runBin, startBin, tempDir, until } from './helpers.js';

const HEX_KEY = 'ab'.repeat(32);
const ENCRYPTED = { AUDIT_LOG_ENCRYPTION: 'true', AUDIT_LOG_ENCRYPTION_KEY: HEX_KEY, AUDIT_LOG_ENCRYPTION_KEY_ID: 'central-1' };

describe('otel-audit collect with AUDIT_LOG_ENCRYPTION', () => {
  it('seals the details of the records it stores; query and verify read them with the key, not without; a wrong key is refused', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'central.db');
    const vkey = path.join(dir, 'audit.vkey');
    fs.writeFileSync(vkey, `${KEYS.verifierKey}\n`);
    const collect = startBin(['collect', '--listen', '127.0.0.1:0', '--db', db, '--key', vkey], { env: ENCRYPTED });
    await until(() => /logs: (\S+)/.test(collect.stdout()) || collect.stderr() !== '', 'collect listening');
    const endpoint = /logs: (\S+)\/v1\/logs/.exec(collect.stdout())![1]!;
    const svc = startService({ endpoint, outboxPath: path.join(dir, 'outbox.db') });
    for (let i = 0; i < 10; i++) svc.emit({ marker: `value-${i}` });
    await svc.shutdown();
    const stopped = await collect.stop();
    expect(stopped.code, stopped.stderr + stopped.stdout).toBe(0);

    const raw = new Database(db, { readonly: true });
    const rows = raw.prepare("SELECT details, enc_key_id FROM audit_logs WHERE event_type = 'crud'").all() as { details: string; enc_key_id: string }[];
    raw.close();
    expect(rows).toHaveLength(10);
    for (const r of rows) {
      expect(r.enc_key_id).toBe('central-1');
      expect(r.details).not.toContain('value-');
    }

    const query = runBin(['query', '--db', db, '--type', 'crud', '--limit', '100', '--json'], { env: ENCRYPTED });
    expect(query.code, query.stderr).toBe(0);
    expect(JSON.parse(query.stdout).records.map((r: { record: { details: { marker: string } } }) => r.record.details.marker).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `value-${i}`).sort());
    expect(runBin(['verify', db, '--key', vkey], { env: ENCRYPTED }).code).toBe(0);
    const without = runBin(['query', '--db', db]);
    expect(without.code).toBe(2);
    expect(without.stderr).toContain('AUDIT_LOG_ENCRYPTION');

    const wrong = runBin(['collect', '--listen', '127.0.0.1:0', '--db', db], { env: { ...ENCRYPTED, AUDIT_LOG_ENCRYPTION_KEY: 'cd'.repeat(32) } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/not the key this store was encrypted with[\s\S]*fix: set AUDIT_LOG_ENCRYPTION_KEY to the key the central store was written with/);
  });
});

describe('otel-audit collect --token-env', () => {
  it('stores what a service sends with the token in its exporter headers; a sender without it gets 401 and its records go to its outbox\'s dead letters, not the store', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'central.db');
    const vkey = path.join(dir, 'audit.vkey');
    fs.writeFileSync(vkey, `${KEYS.verifierKey}\n`);
    const token = 'collect-token-Zq8-0123456789abcdef';
    const collect = startBin(['collect', '--listen', '127.0.0.1:0', '--db', db, '--key', vkey, '--token-env', 'COLLECT_TOKEN'], { env: { COLLECT_TOKEN: token } });
    await until(() => /logs: (\S+)/.test(collect.stdout()) || collect.stderr() !== '', 'collect listening');
    expect(collect.stdout()).toContain('senders need a token (1)');
    const endpoint = /logs: (\S+)\/v1\/logs/.exec(collect.stdout())![1]!;
    const dead: number[] = [];
    const stranger = startService({ endpoint, outboxPath: path.join(dir, 'stranger.db'), stream: 'stranger', onDeadLetter: (d) => dead.push(d.status ?? 0) });
    stranger.emit();
    await until(() => dead.length > 0, 'the stranger refused');
    expect(dead[0]).toBe(401);
    await stranger.shutdown();
    const svc = startService({ endpoint, outboxPath: path.join(dir, 'svc.db'), headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < 5; i++) svc.emit();
    await svc.shutdown();
    const stopped = await collect.stop();
    // The stranger's refusal is reported, but says nothing about the stored records: exit 0.
    expect(stopped.code, stopped.stderr + stopped.stdout).toBe(0);
    expect(stopped.stdout).toMatch(/finding request_refused \(unknown\): a request from \S+ was refused with 401/);
    expect(stopped.stdout + stopped.stderr).not.toContain(token);
    const raw = new Database(db, { readonly: true });
    try {
      const n = (stream: string) => raw.prepare('SELECT count(*) FROM audit_logs WHERE stream = ?').pluck().get(stream) as number;
      expect(n('stranger')).toBe(0);
      expect(n('svc')).toBeGreaterThan(5);
    } finally {
      raw.close();
    }
    const short = runBin(['collect', '--listen', '127.0.0.1:0', '--db', db, '--token-env', 'COLLECT_TOKEN'], { env: { COLLECT_TOKEN: 'short' } });
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('COLLECT_TOKEN holds a token of 5 characters; a sender token needs at least 16');
  });
});

describe('otel-audit collect --token-env VAR=PREFIX', () => {
  it('stores a service\'s records under its token\'s prefixes, refuses them elsewhere with a finding naming the variable; warns by name about a token bound to nothing', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'central.db');
    const billing = 'billing-token-Zq8-0123456789abcdef';
    const other = 'other-token-Zq8-0123456789abcdefgh';
    const env = { BILLING_TOKEN: billing, OTHER_TOKEN: other };
    const collect = startBin(['collect', '--listen', '127.0.0.1:0', '--db', db, '--token-env', 'BILLING_TOKEN=billing-api/', '--token-env', 'OTHER_TOKEN'], { env });
    // stdout and stderr are two pipes: the warning may arrive after the listening line.
    await until(() => /logs: (\S+)/.test(collect.stdout()) && collect.stderr().includes('warning:'), 'collect listening, and its warning');
    expect(collect.stderr()).toContain('warning: the token in OTHER_TOKEN may write any stream');
    expect(collect.stderr()).toContain('--token-env OTHER_TOKEN=<service.name>/');
    expect(collect.stderr()).not.toContain('BILLING_TOKEN');
    const endpoint = /logs: (\S+)\/v1\/logs/.exec(collect.stdout())![1]!;
    const dead: number[] = [];
    const squatter = startService({ endpoint, outboxPath: path.join(dir, 'squat.db'), stream: 'orders-api/1', headers: { authorization: `Bearer ${billing}` }, onDeadLetter: () => dead.push(1) });
    squatter.emit();
    await until(() => dead.length > 0, 'the records of orders-api/1 refused');
    await squatter.shutdown();
    const svc = startService({ endpoint, outboxPath: path.join(dir, 'svc.db'), stream: 'billing-api/1', headers: { authorization: `Bearer ${billing}` } });
    for (let i = 0; i < 5; i++) svc.emit();
    await svc.shutdown();
    const stopped = await collect.stop();
    expect(stopped.code, stopped.stderr + stopped.stdout).toBe(1);
    expect(stopped.stdout).toContain('finding stream_not_allowed orders-api/1: sender token BILLING_TOKEN may not write stream orders-api/1 (it may write streams starting with billing-api/)');
    expect(stopped.stdout + stopped.stderr).not.toContain(billing);
    expect(stopped.stdout + stopped.stderr).not.toContain(other);
    const raw = new Database(db, { readonly: true });
    try {
      const n = (stream: string) => raw.prepare('SELECT count(*) FROM audit_logs WHERE stream = ?').pluck().get(stream) as number;
      expect(n('orders-api/1')).toBe(0);
      expect(n('billing-api/1')).toBeGreaterThan(5);
    } finally {
      raw.close();
    }
    const noPrefix = runBin(['collect', '--listen', '127.0.0.1:0', '--db', db, '--token-env', 'BILLING_TOKEN=,'], { env });
    expect(noPrefix.code).toBe(2);
    expect(noPrefix.stderr).toContain('each stream prefix must be non-empty');
    const padded = 'dG9rZW4tdGhhdC1lbmRzLWluLXBhZA==';
    const pasted = runBin(['collect', '--listen', '127.0.0.1:0', '--db', db, '--token-env', padded], { env });
    expect(pasted.code).toBe(2);
    expect(pasted.stderr).not.toContain(padded.slice(0, 12));
    const same = runBin(['collect', '--listen', '127.0.0.1:0', '--db', db, '--token-env', 'BILLING_TOKEN=billing-api/', '--token-env', 'AGAIN'], { env: { ...env, AGAIN: billing } });
    expect(same.code).toBe(2);
    expect(same.stderr).toContain('environment variables BILLING_TOKEN and AGAIN hold the same token');
  });
});

describe('otel-audit collect limits', () => {
  it('--max-body-mib bounds the request body (413 beyond, with the flag to raise it); a bad value is refused before anything opens', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'central.db');
    const collect = startBin(['collect', '--listen', '127.0.0.1:0', '--db', db, '--max-body-mib', '1', '--max-records', '50']);
    await until(() => /logs: (\S+)/.test(collect.stdout()) || collect.stderr() !== '', 'collect listening');
    const url = /logs: (\S+)/.exec(collect.stdout())![1]!;
    const post = (bytes: number) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(bytes) });
    const big = await post(1024 * 1024 + 1);
    expect(big.status).toBe(413);
    // An OTLP failure: a google.rpc.Status in the request's encoding, the explanation in its message.
    expect(big.headers.get('content-type')).toBe('application/json');
    expect(((await big.json()) as { message: string }).message).toContain('--max-body-mib');
    expect((await post(1024)).status).toBe(400); // under the limit: read, then refused as not OTLP JSON
    const stopped = await collect.stop();
    // Each refused request is reported, but says nothing about the stored records: exit 0.
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toMatch(/finding request_refused \(unknown\): a request from \S+ was refused with 413 .*--max-body-mib/);
    expect(stopped.stdout).toMatch(/finding request_refused \(unknown\): a request from \S+ was refused with 400/);

    const bad = runBin(['collect', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'never.db'), '--max-records', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-records must be a positive whole number');
    expect(fs.existsSync(path.join(dir, 'never.db'))).toBe(false);
  });
});

describe('otel-audit collect --max-parked', () => {
  it('bounds the records waiting for a predecessor: further ones are refused naming the flag and reported, one that continues its stream is stored; a bad value is refused', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'central.db');
    const collect = startBin(['collect', '--listen', '127.0.0.1:0', '--db', db, '--max-parked', '3']);
    await until(() => /logs: (\S+)/.test(collect.stdout()) || collect.stderr() !== '', 'collect listening');
    const url = /logs: (\S+)/.exec(collect.stdout())![1]!;
    const chain = new AuditChain({ stream: 'svc/1' });
    const records = Array.from({ length: 8 }, (_, i) => chain.append({ id: createRecordId(), time: 1_700_000_000_000_000_000n + BigInt(i), type: 'crud', action: 'update', actor: { id: 'alice' } }));
    const mem = new InMemoryLogRecordExporter();
    await new LogRecordExporterSink({ exporter: mem }).append({ records, checkpoints: [] });
    const logs = mem.getFinishedLogRecords();
    const send = async (l: typeof logs) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from(JsonLogsSerializer.serializeRequest(l)!) });
      expect(res.status).toBe(200);
      return (await res.json()) as { partialSuccess?: { rejectedLogRecords: string; errorMessage: string } };
    };
    // Seq 0 is late: 1..3 wait, 4..7 are refused.
    const ahead = await send(logs.slice(1));
    expect(ahead.partialSuccess).toMatchObject({ rejectedLogRecords: '4', errorMessage: expect.stringContaining('3 records wait for their predecessors already') });
    expect(ahead.partialSuccess!.errorMessage).toContain('--max-parked');
    expect(await send([logs[0]!])).toEqual({});
    expect(await send(logs.slice(4))).toEqual({}); // the sender's requeue
    await until(() => collect.stdout().includes('finding parked_limit svc/1 seq 4'), 'the finding printed');
    const stopped = await collect.stop();
    expect(stopped.code).toBe(1);
    const verify = runBin(['verify', db, '--json']);
    const report = JSON.parse(verify.stdout) as { streams: { stream: string; records: number; errors: number }[] };
    expect(report.streams.find((s) => s.stream === 'svc/1')).toMatchObject({ records: 8, errors: 0 });

    const bad = runBin(['collect', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'never.db'), '--max-parked', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-parked must be a positive whole number');
    expect(fs.existsSync(path.join(dir, 'never.db'))).toBe(false);
  });
});

describe('otel-audit collect --signer-key', () => {
  it('signs a checkpoint with each finding record, so verify --key with both keys passes without --unsigned-ok; refuses a verifier key or a missing file without echoing a key', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'central.db');
    const own = generateNoteKey('collector.example/findings');
    const files = { vkey: path.join(dir, 'svc.vkey'), ownKey: path.join(dir, 'collector.key'), ownVkey: path.join(dir, 'collector.vkey') };
    fs.writeFileSync(files.vkey, `${KEYS.verifierKey}\n`);
    fs.writeFileSync(files.ownKey, `${own.signerKey}\n`, { mode: 0o600 });
    fs.writeFileSync(files.ownVkey, `${own.verifierKey}\n`);
    const collect = startBin(['collect', '--listen', '127.0.0.1:0', '--db', db, '--key', files.vkey, '--signer-key', files.ownKey]);
    await until(() => /logs: (\S+)/.test(collect.stdout()) || collect.stderr() !== '', 'collect listening');
    const url = /logs: (\S+)/.exec(collect.stdout())![1]!;
    // Two records of a signed stream; the second altered on the way: a hash_mismatch finding.
    const chain = new AuditChain({ stream: 'svc/1' });
    const records = [0, 1].map((i) => chain.append({ id: createRecordId(), time: 1_700_000_000_000_000_000n + BigInt(i), type: 'crud', action: 'update', actor: { id: 'alice' } }));
    const t = 1_700_000_000_000_000_002n;
    const checkpoints = [{ stream: 'svc/1', size: 2, rootHash: chain.rootHex(), timeUnixNano: t, note: chain.checkpoint(t, [parseSignerKey(KEYS.signerKey)]) }];
    const mem = new InMemoryLogRecordExporter();
    await new LogRecordExporterSink({ exporter: mem }).append({ records, checkpoints });
    const logs = mem.getFinishedLogRecords();
    const altered = { ...logs[1]!, body: String(logs[1]!.body).replace('"alice"', '"mallory"') };
    const send = (l: typeof logs) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from(JsonLogsSerializer.serializeRequest(l)!) });
    expect((await send([logs[0]!, altered])).status).toBe(200);
    expect((await send([logs[1]!, logs[2]!])).status).toBe(200);
    await until(() => collect.stdout().includes('finding hash_mismatch'), 'the finding printed');
    const stopped = await collect.stop();
    expect(stopped.code).toBe(1); // findings were raised

    const both = runBin(['verify', db, '--key', files.vkey, '--key', files.ownVkey, '--json']);
    expect(both.code, both.stdout + both.stderr).toBe(0);
    const report = JSON.parse(both.stdout) as { streams: { stream: string; checkpoints: { verified: number } }[] };
    expect(report.streams.map((s) => [s.stream.startsWith('otel-audit-collector/') ? 'collector' : s.stream, s.checkpoints.verified]).sort()).toEqual([['collector', 1], ['svc/1', 1]]);
    // Without the collector's key its stream is not trusted.
    expect(runBin(['verify', db, '--key', files.vkey]).code).toBe(1);

    const secret = own.signerKey.split('+').slice(4).join('+');
    const broken = path.join(dir, 'broken.key');
    fs.writeFileSync(broken, own.signerKey.replace(/\+[0-9a-f]{8}\+/, '+00000000+'));
    for (const [value, message] of [[files.ownVkey, 'holds no signer key'], [path.join(dir, 'missing.key'), 'cannot read --signer-key file'], [broken, 'holds no valid signer key']] as const) {
      const bad = runBin(['collect', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'never.db'), '--signer-key', value]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(message);
      expect(bad.stderr + bad.stdout).not.toContain(secret);
      expect(fs.existsSync(path.join(dir, 'never.db'))).toBe(false);
    }
  });
});
