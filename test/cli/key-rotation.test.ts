/**
 * Key rotation without code: a store whose key was rotated (rows sealed by
 * the old key and the new one) is verified and queried by `otel-audit` when
 * AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS names the old key beside
 * AUDIT_LOG_ENCRYPTION_KEY; without it, the old rows cannot be read.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuditChain } from '@otel-audit/core';
import { encryptionFromEnv, SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { chainStore, runCli, seal, writeKeys } from './helpers.js';

describe('encryption key rotation', () => {
  it('verify and query read a rotated store with AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS', async () => {
    const oldKey = randomBytes(32).toString('hex');
    const newKey = randomBytes(32).toString('base64');
    const oldEnv = { AUDIT_LOG_ENCRYPTION: 'true', AUDIT_LOG_ENCRYPTION_KEY: oldKey };
    const env = { AUDIT_LOG_ENCRYPTION: 'true', AUDIT_LOG_ENCRYPTION_KEY: newKey, AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS: oldKey };
    const { dir, db } = chainStore(10, { encryption: encryptionFromEnv(oldEnv) });
    const { vkey } = writeKeys(dir);
    const store = new SqliteAuditStore(db, { encryption: encryptionFromEnv(env) });
    const chain = new AuditChain({ stream: 'svc/1', head: await store.head('svc/1') });
    store.appendSync(seal(chain, 10, 10));
    store.close();

    const verified = await runCli(['verify', db, '--key', vkey], { env });
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    const page = JSON.parse((await runCli(['query', '--db', db, '--limit', '100', '--json'], { env })).stdout);
    expect(page.records).toHaveLength(20);
    expect(page.records.map((r: { record: { details: { i: number } } }) => r.record.details.i).sort((a: number, b: number) => a - b)[0]).toBe(0);

    const { AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS: _, ...newOnly } = env;
    const without = await runCli(['verify', db, '--key', vkey], { env: newOnly });
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/key id "env-[0-9a-f]{8}", which is not among the configured keys/);
  });
});
