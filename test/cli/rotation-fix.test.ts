/**
 * The fix line of a store sealed partly with a key that is no longer the
 * current one (after a rotation): with a key given, it names
 * AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS and the key id to list there, never a
 * key; with no key given at all, it says to set the key as before.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuditChain } from '@otel-audit/core';
import { encryptionFromEnv, SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { chainStore, runCli, seal } from './helpers.js';

describe('the fix line after an encryption key rotation', () => {
  it('names AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS when only the new key is given; the key settings when none is', async () => {
    const oldKey = randomBytes(32).toString('hex');
    const newKey = randomBytes(32).toString('hex');
    const { db } = chainStore(5, { encryption: encryptionFromEnv({ AUDIT_LOG_ENCRYPTION: 'true', AUDIT_LOG_ENCRYPTION_KEY: oldKey, AUDIT_LOG_ENCRYPTION_KEY_ID: 'k-old' }) });
    const rotated = { AUDIT_LOG_ENCRYPTION: 'true', AUDIT_LOG_ENCRYPTION_KEY: newKey, AUDIT_LOG_ENCRYPTION_KEY_ID: 'k-new', AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS: `k-old:${oldKey}` };
    const store = new SqliteAuditStore(db, { encryption: encryptionFromEnv(rotated) });
    store.appendSync(seal(new AuditChain({ stream: 'svc/1', head: await store.head('svc/1') }), 5, 5));
    store.close();

    const newOnly = { AUDIT_LOG_ENCRYPTION: 'true', AUDIT_LOG_ENCRYPTION_KEY: newKey, AUDIT_LOG_ENCRYPTION_KEY_ID: 'k-new' };
    const query = await runCli(['query', '--db', db], { env: newOnly });
    expect(query.code).toBe(2);
    expect(query.stderr).toContain('sealed with key id "k-old", which is not among the configured keys');
    expect(query.stderr).toMatch(/\n {2}fix: set AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS to the earlier key the store's data was sealed with, as "k-old":KEY /);
    expect(query.stderr).not.toContain(newKey);
    expect(query.stderr).not.toContain(oldKey);

    const none = await runCli(['query', '--db', db], { env: {} });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('fix: set AUDIT_LOG_ENCRYPTION=true, AUDIT_LOG_ENCRYPTION_KEY and AUDIT_LOG_ENCRYPTION_KEY_ID to the key the store was written with');
    expect(none.stderr).not.toContain('PREVIOUS_KEYS');

    expect((await runCli(['query', '--db', db], { env: rotated })).code).toBe(0);
  });
});
