/**
 * The store's settings from the environment (DESIGN §7):
 * `AUDIT_LOG_ARCHIVE_AFTER_DAYS` / `AUDIT_LOG_RETENTION_DAYS` for retention
 * and `AUDIT_LOG_ENCRYPTION` / `_KEY` / `_KEY_ID` for encryption at rest.
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

/**
 * Encryption at rest from the environment (DESIGN §7): when
 * `AUDIT_LOG_ENCRYPTION` is `true`/`1`, `AUDIT_LOG_ENCRYPTION_KEY` must hold
 * 32 bytes as 64 hex digits or base64; `AUDIT_LOG_ENCRYPTION_KEY_ID` names
 * the key (default: `env-` and 8 hex digits of the key's check value, so a
 * new key gets a new id). Undefined when encryption is off. Errors name the
 * variable, never its value.
 *
 * @example
 * const store = new SqliteAuditStore('audit.db', { encryption: encryptionFromEnv() });
 */
export function encryptionFromEnv(env: Record<string, string | undefined> = process.env): EncryptionKey | undefined {
  const on = (env.AUDIT_LOG_ENCRYPTION ?? '').trim().toLowerCase();
  if (on === '' || on === 'false' || on === '0') return undefined;
  if (on !== 'true' && on !== '1') throw new RangeError('AUDIT_LOG_ENCRYPTION must be true, false, 1 or 0');
  const text = (env.AUDIT_LOG_ENCRYPTION_KEY ?? '').trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(text)) key = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) key = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
  if (key === undefined || key.length !== 32) {
    throw new RangeError('AUDIT_LOG_ENCRYPTION_KEY must be a 32-byte key as 64 hex digits or base64 (generate one with: openssl rand -base64 32)');
  }
  const keyId = env.AUDIT_LOG_ENCRYPTION_KEY_ID?.trim() || `env-${keyCheckValue(key).slice(0, 8)}`;
  if (!KEY_ID.test(keyId)) throw new RangeError('AUDIT_LOG_ENCRYPTION_KEY_ID must be 1-64 characters of [A-Za-z0-9._:-]');
  return { keyId, key };
}
