/**
 * The encryption key check at open (DESIGN §6): a store records the key
 * check value (`kcv:<key id>` in `audit_meta`) of every key it was opened
 * with, and refuses a key that would leave it unreadable. A writer must
 * bring the store's key, or declare a rotation — a key the store has not
 * seen, with every key it has seen given as a previous key — and must not
 * write plaintext into a store that holds sealed data. A read-only open
 * writes nothing and refuses only keys the store has never seen.
 */
import type Database from 'better-sqlite3';
import { EncryptionKeyError } from '../errors.js';
import type { RowCipher } from './row-cipher.js';

const SET_KEY = 'set AUDIT_LOG_ENCRYPTION=true and AUDIT_LOG_ENCRYPTION_KEY (or the encryption option) to the key this store was written with';
const ROTATE = 'to rotate to a new key, give every earlier key as a previous key (AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS, or encryption.previousKeys)';

/**
 * Compare the configured keys with the check values the store recorded,
 * then (a writer, `record` true) record the ones it has not seen. Throws
 * `EncryptionKeyError` naming the key ids (never key material) and the fix.
 *
 * @example
 * checkStoreKeys(db, 'audit.db', cipher); // a wrong key throws before anything is written
 */
export function checkStoreKeys(db: Database.Database, path: string, cipher: RowCipher | undefined, record = true): void {
  const rows = db.prepare("SELECT key, value FROM audit_meta WHERE key LIKE 'kcv:%' ORDER BY key").raw().all() as [string, string][];
  const stored = new Map(rows.map(([k, v]) => [k.slice(4), v]));
  const known = [...stored.keys()].map((id) => `"${id}"`).join(', ');
  if (cipher === undefined) {
    if (record && stored.size > 0) {
      throw new EncryptionKeyError(stored.keys().next().value!, `audit store ${path} holds data encrypted at rest (key id ${known}), but no encryption key is configured: refusing to write plaintext into it; ${SET_KEY}`);
    }
    return;
  }
  const configured = cipher.checkValues();
  for (const [keyId, kcv] of configured) {
    const s = stored.get(keyId);
    if (s !== undefined && s !== kcv) throw new EncryptionKeyError(keyId, `the encryption key given for key id "${keyId}" is not the key this store was encrypted with (key check value differs); ${SET_KEY}`);
  }
  if (stored.size > 0 && !stored.has(cipher.keyId)) {
    const missing = [...stored.keys()].filter((id) => !configured.has(id));
    // A reader may read with any subset of the keys; a writer that adds a key must keep all of them readable.
    const refuse = record ? missing.length > 0 : missing.length === stored.size;
    if (refuse) {
      throw new EncryptionKeyError(cipher.keyId, `audit store ${path} is encrypted with key id ${known}, and the configured key (key id "${cipher.keyId}") is not one of them${record ? ` (a rotation needs ${missing.map((id) => `"${id}"`).join(', ')} among the previous keys)` : ''}: probably the wrong key; ${SET_KEY}${record ? `, or ${ROTATE}` : ''}`);
    }
  }
  if (!record) return;
  const put = db.prepare('INSERT INTO audit_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING');
  for (const [keyId, kcv] of configured) if (!stored.has(keyId)) put.run(`kcv:${keyId}`, kcv);
}
