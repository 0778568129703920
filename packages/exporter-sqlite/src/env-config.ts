/**
 * The store's settings from the environment (DESIGN §7):
 * `AUDIT_LOG_ARCHIVE_AFTER_DAYS` / `AUDIT_LOG_RETENTION_DAYS` for retention
 * and `AUDIT_LOG_ENCRYPTION` / `_KEY` / `_KEY_ID` / `_PREVIOUS_KEYS` for
 * encryption at rest (with key rotation).
 * The node package maps otel-config.yaml onto the same options; these are
 * for users who configure the store by environment alone.
 */
import { KEY_ID, keyCheckValue, type EncryptionKey } from './internal/row-cipher.js';

/**
 * Days after which records are archived, by default.
 *
 * @example
 * store.archive({ olderThan: new Date(Date.now() - DEFAULT_ARCHIVE_AFTER_DAYS * 864e5) });
 */
export const DEFAULT_ARCHIVE_AFTER_DAYS = 30;
/**
 * Days after which archived records are purged from the log, by default.
 *
 * @example
 * await store.purge({ olderThan: new Date(Date.now() - DEFAULT_RETENTION_DAYS * 864e5) });
 */
export const DEFAULT_RETENTION_DAYS = 90;

/**
 * The retention periods of DESIGN §7 from the environment
 * (`AUDIT_LOG_ARCHIVE_AFTER_DAYS`, `AUDIT_LOG_RETENTION_DAYS`), defaulting to
 * 30 and 90 days. A value that is not a non-negative number is refused with
 * the variable's name.
 *
 * @example
 * const { archiveAfterDays, retentionDays } = retentionFromEnv();
 * store.archive({ olderThan: new Date(Date.now() - archiveAfterDays * 864e5) });
 */
export function retentionFromEnv(env: Record<string, string | undefined> = process.env): { archiveAfterDays: number; retentionDays: number } {
  const read = (name: string, fallback: number): number => {
    const v = env[name];
    if (v === undefined || v === '') return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new RangeError(`${name} must be a non-negative number of days; got ${JSON.stringify(v)}`);
    return n;
  };
  const archiveAfterDays = read('AUDIT_LOG_ARCHIVE_AFTER_DAYS', DEFAULT_ARCHIVE_AFTER_DAYS);
  const retentionDays = read('AUDIT_LOG_RETENTION_DAYS', DEFAULT_RETENTION_DAYS);
  if (retentionDays < archiveAfterDays) throw new RangeError(`AUDIT_LOG_RETENTION_DAYS (${retentionDays}) must not be less than AUDIT_LOG_ARCHIVE_AFTER_DAYS (${archiveAfterDays}): records are purged only after they were archived`);
  return { archiveAfterDays, retentionDays };
}

/** What {@link encryptionFromEnv} returns: the current key and any previous ones. */
export type EnvEncryption = EncryptionKey & { previousKeys?: EncryptionKey[] };

/**
 * Encryption at rest from the environment (DESIGN §7): when
 * `AUDIT_LOG_ENCRYPTION` is `true`/`1`, `AUDIT_LOG_ENCRYPTION_KEY` must hold
 * 32 bytes as 64 hex digits or base64; `AUDIT_LOG_ENCRYPTION_KEY_ID` names
 * the key (default: `env-` and 8 hex digits of the key's check value, so a
 * new key gets a new id). `AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS` lists the
 * keys of a rotation, comma-separated, each `KEY` (its id the default
 * `env-…` one) or `KEY_ID:KEY` (the id it was used under): rows they sealed
 * stay readable, and a writer accepts a new key only when every key the
 * store has seen is given here. Undefined when encryption is off. Errors
 * name the variable, never its value.
 *
 * @example
 * const store = new SqliteAuditStore('audit.db', { encryption: encryptionFromEnv() });
 */
export function encryptionFromEnv(env: Record<string, string | undefined> = process.env): EnvEncryption | undefined {
  const on = (env.AUDIT_LOG_ENCRYPTION ?? '').trim().toLowerCase();
  if (on === '' || on === 'false' || on === '0') return undefined;
  if (on !== 'true' && on !== '1') throw new RangeError('AUDIT_LOG_ENCRYPTION must be true, false, 1 or 0');
  const current = keyOf(env.AUDIT_LOG_ENCRYPTION_KEY ?? '', env.AUDIT_LOG_ENCRYPTION_KEY_ID?.trim(), 'AUDIT_LOG_ENCRYPTION_KEY', 'AUDIT_LOG_ENCRYPTION_KEY_ID');
  const list = (env.AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (list.length === 0) return current;
  const previousKeys = list.map((entry, i) => {
    // Hex and base64 hold no ':', key ids may: the key follows the last one.
    const at = entry.lastIndexOf(':');
    const name = `AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS entry ${i + 1}`;
    return keyOf(at < 0 ? entry : entry.slice(at + 1), at < 0 ? undefined : entry.slice(0, at), name, `${name} key id`);
  });
  return { ...current, previousKeys };
}

function keyOf(value: string, id: string | undefined, name: string, idName: string): EncryptionKey {
  const text = value.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(text)) key = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) key = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
  if (key === undefined || key.length !== 32) {
    throw new RangeError(`${name} must be a 32-byte key as 64 hex digits or base64 (generate one with: openssl rand -base64 32)`);
  }
  const keyId = id || `env-${keyCheckValue(key).slice(0, 8)}`;
  if (!KEY_ID.test(keyId)) throw new RangeError(`${idName} must be 1-64 characters of [A-Za-z0-9._:-]`);
  return { keyId, key };
}
