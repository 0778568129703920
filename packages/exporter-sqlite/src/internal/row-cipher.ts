/**
 * Encryption at rest of the sealed columns (DESIGN §6): `details`,
 * `old_values`, `new_values` and `actor_user_agent` are stored as
 * AES-256-GCM ciphertext with a fresh 96-bit nonce per value, bound by the
 * associated data to the row's `event_id` and the column name (so a sealed
 * value cannot be moved to another row or column unnoticed). The hash chain
 * covers the plaintext record, so verification decrypts first. The key
 * check values (HMAC of a fixed label) that let a store refuse a wrong key
 * at open are compared in key-check.ts.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { EncryptionKeyError } from '../errors.js';

/** A 256-bit key and the id stored beside every row it sealed. */
export interface EncryptionKey {
  keyId: string;
  /** 32 bytes. */
  key: Uint8Array;
}

/** The columns sealed when encryption at rest is on. */
export const SEALED_COLUMNS = ['actor_user_agent', 'details', 'old_values', 'new_values'] as const;

/** What a key id may be. */
export const KEY_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** HMAC-SHA256(key, a fixed label) as hex: identifies a key without revealing it. */
export function keyCheckValue(key: Uint8Array): string {
  return createHmac('sha256', key).update('otel-audit key check v1').digest('hex');
}

/** Seals and opens column values with one current key and any older ones. */
export class RowCipher {
  readonly keyId: string;
  readonly #keys = new Map<string, Buffer>();
  readonly #current: Buffer;

  constructor(current: EncryptionKey, older: readonly EncryptionKey[] = []) {
    for (const [i, k] of [current, ...older].entries()) {
      const name = i === 0 ? 'encryption' : `encryption.previousKeys[${i - 1}]`;
      if (typeof k !== 'object' || k === null) throw new TypeError(`${name} must be { keyId, key }`);
      if (typeof k.keyId !== 'string' || !KEY_ID.test(k.keyId)) throw new RangeError(`${name}.keyId must be 1-64 characters of [A-Za-z0-9._:-]`);
      if (!(k.key instanceof Uint8Array)) throw new TypeError(`${name}.key must be a Uint8Array of 32 bytes`);
      if (k.key.length !== 32) throw new RangeError(`${name}.key must be 32 bytes (AES-256); got ${k.key.length}`);
      const same = this.#keys.get(k.keyId);
      // One id, two keys: rows sealed under it could be opened with only one of them.
      if (same !== undefined && !same.equals(k.key)) throw new RangeError(`${name} has key id "${k.keyId}", which an earlier key already has with other key material; give each key its own id`);
      this.#keys.set(k.keyId, Buffer.from(k.key));
    }
    this.keyId = current.keyId;
    this.#current = this.#keys.get(current.keyId)!;
  }

  /** Key check values by key id: HMAC-SHA256(key, label), safe to store. */
  checkValues(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [id, key] of this.#keys) out.set(id, keyCheckValue(key));
    return out;
  }

  /** Ciphertext of `plaintext` as base64(nonce || tag || ciphertext). */
  seal(plaintext: string, eventId: string, column: string): string {
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#current, nonce);
    c.setAAD(Buffer.from(`${eventId}\0${column}`));
    const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    return Buffer.concat([nonce, c.getAuthTag(), body]).toString('base64');
  }

  /** Sealed bytes (nonce || tag || ciphertext) of `data`, bound to `label`. */
  sealBytes(data: Uint8Array, label: string): Buffer {
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#current, nonce);
    c.setAAD(Buffer.from(label));
    const body = Buffer.concat([c.update(data), c.final()]);
    return Buffer.concat([nonce, c.getAuthTag(), body]);
  }

  /** The bytes sealed by {@link RowCipher.sealBytes}, or undefined if altered. */
  openBytes(sealed: Uint8Array, keyId: string, label: string): Buffer | undefined {
    const key = this.#key(keyId);
    if (sealed.length < 28) return undefined;
    try {
      const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
      d.setAAD(Buffer.from(label));
      d.setAuthTag(sealed.subarray(12, 28));
      return Buffer.concat([d.update(sealed.subarray(28)), d.final()]);
    } catch {
      return undefined;
    }
  }

  #key(keyId: string): Buffer {
    const key = this.#keys.get(keyId);
    if (key === undefined) {
      throw new EncryptionKeyError(keyId, `data of the audit store is sealed with key id "${keyId}", which is not among the configured keys (${[...this.#keys.keys()].join(', ')}); supply it as encryption or encryption.previousKeys`);
    }
    return key;
  }

  /**
   * The plaintext, or `undefined` if the value was altered (authentication
   * failed). Throws `EncryptionKeyError` when no key has `keyId`.
   */
  open(sealed: string, keyId: string, eventId: string, column: string): string | undefined {
    const key = this.#key(keyId);
    const bytes = Buffer.from(sealed, 'base64');
    if (bytes.length < 28) return undefined;
    try {
      const d = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
      d.setAAD(Buffer.from(`${eventId}\0${column}`));
      d.setAuthTag(bytes.subarray(12, 28));
      return Buffer.concat([d.update(bytes.subarray(28)), d.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
