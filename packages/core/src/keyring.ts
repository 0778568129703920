/**
 * The keyring of checkpoint verification (DESIGN §4.3, "Keyring"): the
 * trusted verifier keys, looked up by (key name, key hash) as C2SP
 * signed-note identifies a key, each with the validity windows in which its
 * signatures count. A window bounds the checkpoint's own `time` (Unix
 * nanoseconds, both ends inclusive), which is what makes key rotation safe:
 * a retired key's window is closed, so a checkpoint it signs later fails.
 */
import { isValidKeyName, noteKeyId, parseVerifierKey, type NoteVerifier } from './note-keys.js';
import type { NoteVerifierLookup } from './signed-note.js';

/**
 * When a key's signatures count, by the checkpoint's `time`; both ends inclusive, absent = unbounded.
 *
 * @example
 * keyring.add(oldKey, { notAfter: rotatedAtNanos - 1n } satisfies KeyValidityWindow);
 */
export interface KeyValidityWindow {
  /** First Unix nanosecond the key may sign for. */
  readonly notBefore?: bigint;
  /** Last Unix nanosecond the key may sign for. */
  readonly notAfter?: bigint;
}

/**
 * A trusted key and its windows.
 *
 * @example
 * keyring.get(name, keyHash)?.covers(checkpoint.timeUnixNano)
 */
export interface KeyringEntry {
  /** `<name>+<8 hex key hash>`. */
  readonly keyId: string;
  readonly verifier: NoteVerifier;
  /** The windows the key was added with; the key is valid in their union. */
  readonly windows: readonly KeyValidityWindow[];
  /** Whether `timeUnixNano` lies in one of the windows. */
  covers(timeUnixNano: bigint): boolean;
}

/**
 * What `Keyring.from` accepts: a key (valid forever) or a key with a window.
 *
 * @example
 * const entries: KeyringEntryInput[] = [verifierKey, { key: oldKey, notAfter: 1700000000000000000n }];
 */
export type KeyringEntryInput =
  | string
  | NoteVerifier
  | ({ readonly key: string | NoteVerifier } & KeyValidityWindow);

/**
 * Trusted verifier keys with validity windows. Adding the same key again adds
 * a window (the key is valid in the union); adding a different key under the
 * same name and key hash is refused, since a signature line could not say
 * which of the two signed.
 *
 * @example
 * const keyring = Keyring.from([
 *   { key: oldVerifierKey, notAfter: rotatedAtNanos - 1n },
 *   { key: newVerifierKey, notBefore: rotatedAtNanos },
 * ]);
 * verifyCheckpoint(noteText, keyring).status // 'valid'
 */
export class Keyring implements Iterable<KeyringEntry>, NoteVerifierLookup {
  readonly #entries = new Map<string, { keyId: string; verifier: NoteVerifier; windows: KeyValidityWindow[] }>();

  /**
   * A keyring holding `entries`.
   *
   * @example
   * const keyring = Keyring.from([verifierKey, { key: oldKey, notAfter: 1700000000000000000n }]);
   */
  static from(entries: Iterable<KeyringEntryInput>): Keyring {
    if (entries === null || typeof entries !== 'object' || typeof entries[Symbol.iterator] !== 'function') {
      throw new TypeError('entries must be an iterable of verifier keys or { key, notBefore?, notAfter? }');
    }
    const keyring = new Keyring();
    for (const entry of entries) {
      if (entry !== null && typeof entry === 'object' && 'key' in entry) {
        keyring.add(entry.key, { notBefore: entry.notBefore, notAfter: entry.notAfter });
      } else {
        keyring.add(entry);
      }
    }
    return keyring;
  }

  /**
   * Trusts `verifierKey` (a verifier key string or a `NoteVerifier`) for
   * checkpoints whose time lies in `window` (default: always). Returns `this`.
   * A malformed key string throws `AuditError` `AUDIT_KEY_INVALID`.
   *
   * @example
   * keyring.add('audit.example+c74f20a3+ARpc...', { notBefore: 1700000000000000000n });
   */
  add(verifierKey: string | NoteVerifier, window: KeyValidityWindow = {}): this {
    const verifier = toVerifier(verifierKey);
    const normalized = normalizeWindow(window);
    const keyId = noteKeyId(verifier.name, verifier.keyHash);
    const entry = this.#entries.get(keyId);
    if (entry === undefined) {
      this.#entries.set(keyId, { keyId, verifier, windows: [normalized] });
      return this;
    }
    if (entry.verifier !== verifier && entry.verifier.verifierKey !== verifier.verifierKey) {
      throw new RangeError(`verifierKey: a different key with the same name and key hash ${keyId} is already in the keyring`);
    }
    if (!entry.windows.some((w) => w.notBefore === normalized.notBefore && w.notAfter === normalized.notAfter)) {
      entry.windows.push(normalized);
    }
    return this;
  }

  /**
   * The entry of the key `name` + `keyHash`, or `undefined`.
   *
   * @example
   * keyring.get('PeterNeumann', 0xc74f20a3)?.covers(checkpoint.timeUnixNano)
   */
  get(name: string, keyHash: number): KeyringEntry | undefined {
    if (typeof name !== 'string' || !Number.isInteger(keyHash) || keyHash < 0 || keyHash > 0xffffffff) return undefined;
    const entry = this.#entries.get(noteKeyId(name, keyHash));
    return entry === undefined ? undefined : snapshot(entry);
  }

  /**
   * Whether the key `name` + `keyHash` is in the keyring.
   *
   * @example
   * keyring.has('PeterNeumann', 0xc74f20a3) // true
   */
  has(name: string, keyHash: number): boolean {
    return this.get(name, keyHash) !== undefined;
  }

  /**
   * The verifier of `name` + `keyHash`, ignoring windows; what `openNote` needs.
   *
   * @example
   * openNote(noteText, keyring) // uses keyring.findVerifier
   */
  findVerifier(name: string, keyHash: number): NoteVerifier | undefined {
    return this.get(name, keyHash)?.verifier;
  }

  /**
   * Number of distinct keys.
   *
   * @example
   * Keyring.from([a, a, b]).size // 2
   */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The entries in insertion order.
   *
   * @example
   * for (const { keyId, windows } of keyring) console.log(keyId, windows);
   */
  *[Symbol.iterator](): Iterator<KeyringEntry> {
    for (const entry of this.#entries.values()) yield snapshot(entry);
  }
}

function toVerifier(key: unknown): NoteVerifier {
  if (typeof key === 'string') return parseVerifierKey(key);
  if (key === null || typeof key !== 'object') {
    throw new TypeError(`verifierKey must be a verifier key string or a NoteVerifier; got ${key === null ? 'null' : typeof key}`);
  }
  const v = key as Partial<NoteVerifier>;
  if (typeof v.verify !== 'function' || typeof v.verifierKey !== 'string' || !isValidKeyName(v.name)) {
    throw new TypeError('verifierKey must be a verifier key string or a NoteVerifier (see parseVerifierKey)');
  }
  return key as NoteVerifier;
}

function normalizeWindow(window: unknown): KeyValidityWindow {
  if (window === null || typeof window !== 'object') {
    throw new TypeError(`window must be an object { notBefore?: bigint, notAfter?: bigint }; got ${window === null ? 'null' : typeof window}`);
  }
  const { notBefore, notAfter } = window as KeyValidityWindow;
  for (const [name, value] of [['window.notBefore', notBefore], ['window.notAfter', notAfter]] as const) {
    if (value !== undefined && typeof value !== 'bigint') {
      throw new TypeError(`${name} must be a bigint of Unix nanoseconds; got ${typeof value}`);
    }
  }
  if (notBefore !== undefined && notAfter !== undefined && notBefore > notAfter) {
    throw new RangeError(`window.notBefore (${notBefore}) must not be after window.notAfter (${notAfter})`);
  }
  return Object.freeze({
    ...(notBefore === undefined ? {} : { notBefore }),
    ...(notAfter === undefined ? {} : { notAfter }),
  });
}

function snapshot(entry: { keyId: string; verifier: NoteVerifier; windows: KeyValidityWindow[] }): KeyringEntry {
  const windows = Object.freeze([...entry.windows]);
  return Object.freeze({
    keyId: entry.keyId,
    verifier: entry.verifier,
    windows,
    covers(timeUnixNano: bigint): boolean {
      if (typeof timeUnixNano !== 'bigint') throw new TypeError(`timeUnixNano must be a bigint; got ${typeof timeUnixNano}`);
      return windows.some(
        (w) => (w.notBefore === undefined || timeUnixNano >= w.notBefore) && (w.notAfter === undefined || timeUnixNano <= w.notAfter),
      );
    },
  });
}
