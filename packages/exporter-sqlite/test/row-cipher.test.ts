import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { AuditChain } from '@otel-audit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { EncryptionKeyError, SqliteAuditStore, verifyArchive } from '../src/index.js';
import { attacker, codes, keyring, MINUTE, sealBatch, T0, tempDb } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => { while (cleanups.length) cleanups.pop()!(); });

const k1 = { keyId: 'k1', key: randomBytes(32) };
const k2 = { keyId: 'k2', key: randomBytes(32) };

function setup(n = 20) {
  const tmp = tempDb();
  cleanups.push(tmp.cleanup);
  const store = new SqliteAuditStore(tmp.file, { encryption: k1 });
  const chain = new AuditChain({ stream: 'enc/1' });
  const batch = sealBatch(chain, n);
  store.appendSync(batch);
  return { ...tmp, store, chain, batch };
}

describe('encryption at rest', () => {
  it('stores details, old/new values and the user agent sealed, with the key id, and reads them back', async () => {
    const { store, file, batch } = setup();
    const raw = new Database(file, { readonly: true });
    const row = raw.prepare('SELECT details, old_values, new_values, actor_user_agent, enc_key_id, actor_id FROM audit_logs WHERE seq = 3').get() as Record<string, string>;
    raw.close();
    expect(row.enc_key_id).toBe('k1');
    expect(row.actor_id).toBe('user-0');
    for (const c of ['details', 'old_values', 'new_values', 'actor_user_agent']) {
      expect(row[c]).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(row[c]).not.toMatch(/quoted|before|after|Mozilla/);
    }
    const page = store.query({ order: 'oldest', limit: 1000 });
    expect(page.records.map((r) => r.record)).toEqual(batch.records.map((r) => JSON.parse(r.canonical)));
    const report = await store.verify({ keyring });
    expect(report.ok).toBe(true);
    expect(codes(report)).toEqual([]);
    store.close();
  });

  it('refuses a wrong key with a clear error that carries no key material', () => {
    const { store, file } = setup();
    store.close();
    const wrong = { keyId: 'k1', key: randomBytes(32) };
    let error: unknown;
    try { new SqliteAuditStore(file, { encryption: wrong }); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(EncryptionKeyError);
    expect(error).toMatchObject({ code: 'AUDIT_STORE_KEY_INVALID', keyId: 'k1' });
    expect((error as Error).message).toMatch(/not the key this store was encrypted with/);
    expect((error as Error).message).not.toContain(wrong.key.toString('hex').slice(0, 8));
    expect((error as Error).message).not.toContain(wrong.key.toString('base64').slice(0, 8));
  });

  it('tells the user to supply the key when an encrypted store is opened without it', async () => {
    const { store, file } = setup();
    store.close();
    expect(() => new SqliteAuditStore(file)).toThrow(/holds data encrypted at rest \(key id "k1"\), but no encryption key is configured/);
    const plain = new SqliteAuditStore(file, { readOnly: true });
    expect(() => plain.query()).toThrow(/encrypted with key id "k1"; open it with the encryption option/);
    await expect(plain.verify({ keyring })).rejects.toBeInstanceOf(EncryptionKeyError);
    plain.close();
  });

  it('rotates keys: new rows use the new key id, old rows open with previousKeys', async () => {
    const { store, file, chain } = setup(10);
    store.close();
    const rotated = new SqliteAuditStore(file, { encryption: { ...k2, previousKeys: [k1] } });
    rotated.appendSync(sealBatch(chain, 10));
    expect(rotated.database.prepare('SELECT enc_key_id, count(*) FROM audit_logs GROUP BY 1 ORDER BY 1').raw().all()).toEqual([['k1', 10], ['k2', 10]]);
    expect((await rotated.verify({ keyring })).ok).toBe(true);
    rotated.close();
    const onlyNew = new SqliteAuditStore(file, { encryption: k2 });
    await expect(onlyNew.verify({ keyring })).rejects.toThrow(/key id "k1", which is not among the configured keys \(k2\)/);
    onlyNew.close();
  });

  it('reports altered or moved ciphertext as hash_mismatch', async () => {
    const { store, file } = setup();
    const db = attacker(file);
    const other = db.prepare('SELECT details FROM audit_logs WHERE seq = 8').pluck().get();
    db.prepare('UPDATE audit_logs SET details = ? WHERE seq = 2').run(other);
    const ua = db.prepare('SELECT actor_user_agent FROM audit_logs WHERE seq = 4').pluck().get() as string;
    db.prepare('UPDATE audit_logs SET actor_user_agent = ? WHERE seq = 4').run((ua[0] === 'A' ? 'B' : 'A') + ua.slice(1));
    db.close();
    expect(codes(await store.verify({ keyring }))).toEqual(expect.arrayContaining(['hash_mismatch@2', 'hash_mismatch@4']));
    store.close();
  });

  it('refuses free-text search over sealed details', () => {
    const { store } = setup(1);
    expect(() => store.query({ text: 'quoted' })).toThrow(/^query.text cannot search details: encryption at rest is on/);
    store.close();
  });

  it('seals archives too, and they verify after decryption', () => {
    const { store, file } = setup(20);
    const [a] = store.archive({ olderThan: T0 + 1000n * MINUTE });
    const raw = new Database(file, { readonly: true });
    const blob = raw.prepare('SELECT data FROM audit_log_archives').pluck().get() as Buffer;
    raw.close();
    expect(blob.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b]))).toBe(false);
    expect(verifyArchive(store.readArchive(a!.archiveId), keyring).ok).toBe(true);
    store.close();
  });

  it('refuses malformed keys with the option name first', () => {
    const t = tempDb();
    cleanups.push(t.cleanup);
    expect(() => new SqliteAuditStore(t.file, { encryption: { keyId: 'k', key: randomBytes(16) } })).toThrow(/^encryption.key must be 32 bytes/);
    expect(() => new SqliteAuditStore(t.file, { encryption: { keyId: 'bad id!', key: randomBytes(32) } })).toThrow(/^encryption.keyId/);
    expect(() => new SqliteAuditStore(t.file, { encryption: { keyId: 'k', key: 'secret' as never } })).toThrow(TypeError);
  });
});

describe('encryptionFromEnv', () => {
  it('reads AUDIT_LOG_ENCRYPTION and the key as hex or base64, never echoing the key', async () => {
    const { encryptionFromEnv } = await import('../src/index.js');
    const key = randomBytes(32);
    expect(encryptionFromEnv({})).toBeUndefined();
    expect(encryptionFromEnv({ AUDIT_LOG_ENCRYPTION: 'false', AUDIT_LOG_ENCRYPTION_KEY: 'x' })).toBeUndefined();
    const hex = encryptionFromEnv({ AUDIT_LOG_ENCRYPTION: 'true', AUDIT_LOG_ENCRYPTION_KEY: key.toString('hex') })!;
    expect(Buffer.from(hex.key).equals(key)).toBe(true);
    expect(hex.keyId).toMatch(/^env-[0-9a-f]{8}$/);
    const b64 = encryptionFromEnv({ AUDIT_LOG_ENCRYPTION: '1', AUDIT_LOG_ENCRYPTION_KEY: key.toString('base64'), AUDIT_LOG_ENCRYPTION_KEY_ID: 'prod-2026' })!;
    expect(b64).toMatchObject({ keyId: 'prod-2026' });
    expect(Buffer.from(b64.key).equals(key)).toBe(true);
    let message = '';
    try { encryptionFromEnv({ AUDIT_LOG_ENCRYPTION: 'true', AUDIT_LOG_ENCRYPTION_KEY: 'hunter2-not-a-key' }); } catch (e) { message = (e as Error).message; }
    expect(message).toMatch(/^AUDIT_LOG_ENCRYPTION_KEY must be a 32-byte key/);
    expect(message).not.toContain('hunter2');
    expect(() => encryptionFromEnv({ AUDIT_LOG_ENCRYPTION: 'yes' })).toThrow(/^AUDIT_LOG_ENCRYPTION must be/);
  });
});
