/**
 * The encryption key check at open (src/internal/key-check.ts) on real
 * SQLite files: a writer refuses a wrong key and a missing key on an
 * encrypted store, accepts a rotation only when the earlier keys are given
 * as previous keys (environment or options), and the rotated store stays
 * readable; a reader refuses a key the store never saw.
 */
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { AuditChain } from '@otel-audit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { EncryptionKeyError, encryptionFromEnv, SqliteAuditStore } from '../src/index.js';
import { keyring, sealBatch, tempDb } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => { while (cleanups.length) cleanups.pop()!(); });

const hexA = randomBytes(32).toString('hex');
const hexB = randomBytes(32).toString('hex');
const envA = { AUDIT_LOG_ENCRYPTION: 'true', AUDIT_LOG_ENCRYPTION_KEY: hexA };
const envB = { AUDIT_LOG_ENCRYPTION: 'true', AUDIT_LOG_ENCRYPTION_KEY: hexB };

/** A store of 10 records sealed with key A from the environment (default key id). */
function storeSealedWithA() {
  const tmp = tempDb();
  cleanups.push(tmp.cleanup);
  const chain = new AuditChain({ stream: 'enc/1' });
  const store = new SqliteAuditStore(tmp.file, { encryption: encryptionFromEnv(envA) });
  store.appendSync(sealBatch(chain, 10));
  store.close();
  return { ...tmp, chain };
}

function keyIds(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT key FROM audit_meta WHERE key LIKE 'kcv:%' ORDER BY key").pluck().all() as string[];
  } finally {
    db.close();
  }
}

function openError(file: string, options: ConstructorParameters<typeof SqliteAuditStore>[1]): Error {
  try {
    new SqliteAuditStore(file, options).close();
  } catch (e) {
    return e as Error;
  }
  throw new Error('the store opened');
}

describe('the key check of a writer', () => {
  it('refuses a different key (a new default key id) at open, naming the fix, and records nothing', () => {
    const { file } = storeSealedWithA();
    const before = keyIds(file);
    const error = openError(file, { encryption: encryptionFromEnv(envB) });
    expect(error).toBeInstanceOf(EncryptionKeyError);
    expect(error).toMatchObject({ code: 'AUDIT_STORE_KEY_INVALID' });
    expect(error.message).toMatch(/is encrypted with key id "env-[0-9a-f]{8}", and the configured key \(key id "env-[0-9a-f]{8}"\) is not one of them/);
    expect(error.message).toContain('AUDIT_LOG_ENCRYPTION_KEY');
    expect(error.message).toContain('AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS');
    expect(error.message).not.toContain(hexB.slice(0, 8));
    expect(keyIds(file)).toEqual(before);
  });

  it('refuses to write plaintext into an encrypted store when no key is configured', () => {
    const { file } = storeSealedWithA();
    const error = openError(file, {});
    expect(error).toBeInstanceOf(EncryptionKeyError);
    expect(error.message).toMatch(/holds data encrypted at rest .* no encryption key is configured: refusing to write plaintext/);
    expect(error.message).toContain('AUDIT_LOG_ENCRYPTION=true and AUDIT_LOG_ENCRYPTION_KEY');
    // A reader without the key still opens (and refuses row by row), as before.
    const reader = new SqliteAuditStore(file, { readOnly: true });
    expect(() => reader.query()).toThrow(EncryptionKeyError);
    reader.close();
  });

  it('accepts a rotation declared in the environment; old and new rows stay readable and verify', async () => {
    const { file, chain } = storeSealedWithA();
    const rotated = encryptionFromEnv({ ...envB, AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS: hexA })!;
    const store = new SqliteAuditStore(file, { encryption: rotated });
    store.appendSync(sealBatch(chain, 10));
    expect(store.database.prepare('SELECT enc_key_id, count(*) FROM audit_logs GROUP BY 1 ORDER BY 2').raw().all().map((r) => (r as unknown[])[1])).toEqual([10, 10]);
    expect((await store.verify({ keyring })).ok).toBe(true);
    store.close();
    // Later runs may bring only the current key; readers with both keys read everything.
    new SqliteAuditStore(file, { encryption: encryptionFromEnv(envB) }).close();
    const reader = new SqliteAuditStore(file, { readOnly: true, encryption: rotated });
    expect(reader.query({ order: 'oldest', limit: 1000 }).records).toHaveLength(20);
    expect((await reader.verify({ keyring })).ok).toBe(true);
    reader.close();
  });

  it('refuses a rotation that leaves out one of the earlier keys', () => {
    const { file, chain } = storeSealedWithA();
    const b = encryptionFromEnv(envB)!;
    const rotated = new SqliteAuditStore(file, { encryption: { ...b, previousKeys: [encryptionFromEnv(envA)!] } });
    rotated.appendSync(sealBatch(chain, 2));
    rotated.close();
    const c = { keyId: 'k-c', key: randomBytes(32) };
    const error = openError(file, { encryption: { ...c, previousKeys: [b] } });
    expect(error.message).toMatch(/a rotation needs "env-[0-9a-f]{8}" among the previous keys/);
  });

  it('refuses a new key given the id of an earlier one: the earlier key would silently stay in use', () => {
    const { file } = storeSealedWithA();
    const a = encryptionFromEnv(envA)!;
    const b = { keyId: a.keyId, key: Buffer.from(hexB, 'hex') };
    const error = openError(file, { encryption: { ...b, previousKeys: [a] } });
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(`encryption.previousKeys[0] has key id "${a.keyId}", which an earlier key already has with other key material; give each key its own id`);
    // The same key listed twice is harmless.
    new SqliteAuditStore(file, { encryption: { ...a, previousKeys: [a] } }).close();
  });
});

describe('the key check of a reader', () => {
  it('refuses a key the store never saw, without writing', () => {
    const { file } = storeSealedWithA();
    const error = openError(file, { readOnly: true, encryption: encryptionFromEnv(envB) });
    expect(error).toBeInstanceOf(EncryptionKeyError);
    expect(error.message).toMatch(/is not one of them: probably the wrong key/);
  });
});

describe('AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS', () => {
  it('reads comma-separated KEY or KEY_ID:KEY entries, naming a bad entry by number, never by value', () => {
    const b64 = randomBytes(32).toString('base64');
    const enc = encryptionFromEnv({ ...envB, AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS: ` ${hexA}, prod:2025:${b64} ` })!;
    expect(enc.previousKeys!.map((k) => k.keyId)).toEqual([encryptionFromEnv(envA)!.keyId, 'prod:2025']);
    expect(Buffer.from(enc.previousKeys![1]!.key).toString('base64')).toBe(b64);
    expect(encryptionFromEnv(envB)).not.toHaveProperty('previousKeys');
    let message = '';
    try { encryptionFromEnv({ ...envB, AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS: `${hexA},hunter2-secret` }); } catch (e) { message = (e as Error).message; }
    expect(message).toMatch(/^AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS entry 2 must be a 32-byte key/);
    expect(message).not.toContain('hunter2');
    expect(() => encryptionFromEnv({ ...envB, AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS: `bad id!:${hexA}` })).toThrow(/^AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS entry 1 key id must be/);
  });
});
