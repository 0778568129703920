/**
 * Credentials never reach the SQLite store (DESIGN §4.5 as docs/format.md
 * "Redaction" extends it): an audit event carries a secret in every form
 * that masking handles — `name: value` and JSON text, schemes in any case
 * and after any blank, member names, PEM private keys, prefixed tokens,
 * actor/target/request text, the added default names — through the real
 * processor into a real SQLite file; no stored row and no byte of the
 * database holds one, and the stream still verifies.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { afterEach, describe, expect, it } from 'vitest';
import { Keyring, generateNoteKey, requestReceipt } from '@otel-audit/core';
import { AuditLogRecordProcessor } from '@otel-audit/processor';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';

const KEY = generateNoteKey('keys.example/redaction');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

// Every secret contains "Zq8", so one search finds any that survived.
const EVENT = {
  type: 'api',
  action: 'call',
  actor: { id: 'deploy-bot', type: 'service', user_agent: 'deploy-bot https://ci:Zq8ua@git.example.com' },
  target: { type: 'url', name: 'https://u:Zq8tn@h/x' },
  request: { endpoint: '/api/m;access_token=Zq8ep/items', method: 'POST', session_id: 'sess-42' },
  error: 'Authorization: token ghp_Zq8err',
  details: {
    notes: ['password: Zq8colon', '{"password":"Zq8json"}', 'BEARER Zq8upper', 'Bearer\tZq8tab', 'api_key: Zq8api', 'x-api-key: Zq8hdr', 'pushed ghp_Zq8a1B2c3D4e5F6'],
    key: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaZq8\n-----END OPENSSH PRIVATE KEY-----',
    names: { 'postgres://app:Zq8pg@db/x': 'ok', 'Bearer Zq8name': 1, sess_Zq8a1b2c3d4: { user: 'alice' } },
    db: { pwd: 'Zq8pwd', passphrase: 'Zq8phrase', credentials: { user: 'Zq8cred' } },
    ordinary: ['password reset requested', 'tokenizer', 'Basic plan', 'author: bob'],
  },
};

describe('redaction into a SQLite store', () => {
  it('stores no secret in any form, lists every replacement, and the stream verifies', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-redact-'));
    dirs.push(dir);
    const file = path.join(dir, 'audit.db');
    const store = new SqliteAuditStore(file);
    const processor = new AuditLogRecordProcessor({ stream: 'redact/1', sinks: [store], signerKey: KEY.signerKey, flushIntervalMillis: 5 });
    const provider = new LoggerProvider({ processors: [processor] });
    await processor.ready();
    const receipt = requestReceipt(EVENT);
    provider.getLogger('otel-audit').emit({ body: EVENT });
    await receipt;
    await provider.shutdown();

    const reader = new SqliteAuditStore(file);
    try {
      const [stored] = reader.query({ stream: 'redact/1', eventAction: 'call', limit: 10 }).records;
      const record = stored!.record;
      expect(record.actor?.user_agent).toBe('deploy-bot https://***@git.example.com');
      expect(record.request).toEqual({ endpoint: '/api/m;access_token=***/items', method: 'POST', session_id: 'sess-42' });
      expect(record.error).toBe('Authorization: token ***');
      expect(record.details).toMatchObject({
        notes: ['password: ***', '{"password":"***"}', 'BEARER ***', 'Bearer\t***', 'api_key: ***', 'x-api-key: ***', 'pushed ghp_***'],
        key: '-----BEGIN OPENSSH PRIVATE KEY-----\n***\n-----END OPENSSH PRIVATE KEY-----',
        names: { 'postgres://***@db/x': 'ok', 'Bearer ***': 1, 'sess_***': { user: 'alice' } },
        db: { pwd: '[REDACTED]', passphrase: '[REDACTED]', credentials: '[REDACTED]' },
        ordinary: EVENT.details.ordinary,
      });
      expect(record.redacted).toContain('/details/names/sess_***');
      expect(record.redacted).toContain('/target/name');
      const report = await reader.verify({ keyring: Keyring.from([KEY.verifierKey]) });
      expect(report.ok).toBe(true);
    } finally {
      reader.close();
    }

    const db = new Database(file, { readonly: true });
    try {
      const rows = db.prepare('SELECT * FROM audit_logs').all();
      expect(rows.length).toBeGreaterThan(0);
      expect(JSON.stringify(rows)).not.toContain('Zq8');
    } finally {
      db.close();
    }
    for (const name of fs.readdirSync(dir)) expect(fs.readFileSync(path.join(dir, name)).includes('Zq8'), name).toBe(false);
  });
});
