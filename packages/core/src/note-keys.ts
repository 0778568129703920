/**
 * Ed25519 keys of C2SP signed notes (DESIGN §4.3; c2sp.org/signed-note,
 * "Ed25519 signatures"): generating a key pair and parsing the verifier key
 * `<name>+<8 hex key hash>+<base64(0x01 || public key)>` and the signer key
 * `PRIVATE+KEY+<name>+<8 hex key hash>+<base64(0x01 || seed)>` into objects
 * that sign and verify. These are the strings Go's golang.org/x/mod/sumdb/note
 * reads and writes, so keys move freely between otel-audit and existing
 * signed-note tooling. Ed25519 comes from node:crypto, which imports no raw
 * Ed25519 keys: the 32-byte seed and public key are wrapped in the fixed
 * PKCS#8 and SPKI DER prefixes of RFC 8410.
 */
import { decodeBase64Canonical } from './internal/base64.js';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { AuditError } from './errors.js';

/** Signature type byte of Ed25519 in C2SP signed-note. */
const ALG_ED25519 = 0x01;
const ED25519_KEY_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;
// RFC 8410 DER headers: what precedes the raw 32 bytes in a PKCS#8 private
// key and in an SPKI public key of algorithm id-Ed25519 (1.3.101.112).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PRIVATE_PREFIX = 'PRIVATE+KEY+';

const WHITE_SPACE = /\p{White_Space}/u; // Go's unicode.IsSpace is this property
const CONTROL = /[\u0000-\u001f]/;
const LONE_SURROGATE = /\p{Cs}/u; // in u-mode only unpaired surrogates match
const HEX8 = /^[0-9a-fA-F]{8}$/;

/**
 * Verifies signatures of one Ed25519 key; what a verifier key string parses to.
 *
 * @example
 * const v: NoteVerifier = parseVerifierKey(verifierKey);
 * v.verify(text, signature) // boolean
 */
export interface NoteVerifier {
  /** Key name, e.g. `billing-api.example/audit`. */
  readonly name: string;
  /** Key hash (the C2SP key ID) as an unsigned 32-bit integer. */
  readonly keyHash: number;
  /** Raw 32-byte Ed25519 public key (a copy: mutating it changes nothing). */
  readonly publicKey: Buffer;
  /** The canonical verifier key string `<name>+<hash>+<base64>`. */
  readonly verifierKey: string;
  /** Whether `signature` (the bytes after the key hash) signs `message`. Never throws on bad signatures. */
  verify(message: Uint8Array | string, signature: Uint8Array): boolean;
}

/**
 * Signs with one Ed25519 key; what a signer key string parses to. The seed is not reachable from it.
 *
 * @example
 * const s: NoteSigner = parseSignerKey(signerKey);
 * s.sign('text\n') // 64-byte Buffer
 */
export interface NoteSigner {
  readonly name: string;
  readonly keyHash: number;
  readonly publicKey: Buffer;
  /** The verifier key string of this signer, to give to verifiers. */
  readonly verifierKey: string;
  /** The 64-byte Ed25519 signature of `message` (strings are signed as UTF-8). */
  sign(message: Uint8Array | string): Buffer;
}

/**
 * A freshly generated key pair as strings.
 *
 * @example
 * const { signerKey, verifierKey }: NoteKeyPair = generateNoteKey('audit.example/k1');
 */
export interface NoteKeyPair {
  /** Private: `PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)>`. Keep it secret. */
  readonly signerKey: string;
  /** Public: `<name>+<hash>+<base64(0x01 || public key)>`. */
  readonly verifierKey: string;
}

/**
 * Whether `name` may name a signed-note key: non-empty, well-formed Unicode,
 * no Unicode white space and no `+` (C2SP signed-note). Control characters are
 * refused too, since a note may not contain them and such a key could never
 * appear on a signature line.
 *
 * @example
 * isValidKeyName('billing-api.example/audit') // true
 * isValidKeyName('a+b') // false
 */
export function isValidKeyName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name !== '' &&
    !name.includes('+') &&
    !WHITE_SPACE.test(name) &&
    !CONTROL.test(name) &&
    !LONE_SURROGATE.test(name)
  );
}

/**
 * The key hash (C2SP key ID) of an Ed25519 key: the first 4 bytes, big-endian,
 * of SHA-256(name || 0x0A || 0x01 || 32-byte public key).
 *
 * @example
 * noteKeyHash('PeterNeumann', publicKey).toString(16) // 'c74f20a3'
 */
export function noteKeyHash(name: string, publicKey: Uint8Array): number {
  assertName(name, 'name');
  assertPublicKey(publicKey, 'publicKey');
  return keyHashOf(name, publicKey);
}

/**
 * The key ID string `<name>+<8 hex key hash>` that names a key in reports and
 * is the prefix of its verifier key.
 *
 * @example
 * noteKeyId('PeterNeumann', 0xc74f20a3) // 'PeterNeumann+c74f20a3'
 */
export function noteKeyId(name: string, keyHash: number): string {
  if (typeof name !== 'string') throw new TypeError(`name must be a string; got ${typeof name}`);
  if (!Number.isInteger(keyHash) || keyHash < 0 || keyHash > 0xffffffff) {
    throw new RangeError(`keyHash must be an unsigned 32-bit integer; got ${String(keyHash)}`);
  }
  return `${name}+${hex8(keyHash)}`;
}

/**
 * The verifier key string of a raw 32-byte Ed25519 public key.
 *
 * @example
 * formatVerifierKey('PeterNeumann', publicKey) // 'PeterNeumann+c74f20a3+ARpc2Q...'
 */
export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  const hash = noteKeyHash(name, publicKey);
  return `${name}+${hex8(hash)}+${withAlg(publicKey).toString('base64')}`;
}

/**
 * Generates an Ed25519 key pair for signing notes as `name`.
 *
 * @example
 * const { signerKey, verifierKey } = generateNoteKey('billing-api.example/audit');
 * // store signerKey as a secret; publish verifierKey to whoever verifies
 */
export function generateNoteKey(name: string): NoteKeyPair {
  assertName(name, 'name');
  const seed = randomBytes(ED25519_KEY_BYTES);
  try {
    const publicKey = publicKeyOf(privateKeyFromSeed(seed));
    const hash = hex8(keyHashOf(name, publicKey));
    return {
      signerKey: `${PRIVATE_PREFIX}${name}+${hash}+${withAlg(seed).toString('base64')}`,
      verifierKey: `${name}+${hash}+${withAlg(publicKey).toString('base64')}`,
    };
  } finally {
    seed.fill(0);
  }
}

/**
 * Parses a verifier key `<name>+<8 hex key hash>+<base64(0x01 || public key)>`.
 * Throws `AuditError` `AUDIT_KEY_INVALID` saying what is wrong: bad name,
 * key hash not 8 hex digits or not matching the key, non-canonical base64,
 * an algorithm other than 0x01 (Ed25519), or a key that is not 32 bytes.
 *
 * @example
 * const v = parseVerifierKey('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW');
 * v.verify(text, signature) // boolean
 */
export function parseVerifierKey(text: string): NoteVerifier {
  if (typeof text !== 'string') throw new TypeError(`verifierKey must be a string; got ${typeof text}`);
  if (text.startsWith(PRIVATE_PREFIX)) {
    throw keyError('verifier key: this is a private signer key (PRIVATE+KEY+...); pass the public verifier key instead');
  }
  const parts = splitKey(text, false);
  const raw = decodeKeyBytes(parts);
  const hash = keyHashOf(parts.name, raw);
  if (hash !== parts.hash) {
    throw keyError(
      `verifier key ${quote(parts.name)}: key hash ${hex8(parts.hash)} does not match the key (its hash is ${hex8(hash)})`,
    );
  }
  return createVerifier(parts.name, hash, raw);
}

/**
 * Parses a signer key `PRIVATE+KEY+<name>+<8 hex key hash>+<base64(0x01 || seed)>`.
 * Errors are `AuditError` `AUDIT_KEY_INVALID`; their messages never contain
 * the key material.
 *
 * @example
 * const signer = parseSignerKey(process.env.AUDIT_SIGNING_KEY!);
 * signNote(text, [signer]);
 */
export function parseSignerKey(text: string): NoteSigner {
  if (typeof text !== 'string') throw new TypeError(`signerKey must be a string; got ${typeof text}`);
  if (!text.startsWith(PRIVATE_PREFIX)) {
    throw keyError('signer key: must start with PRIVATE+KEY+ (is this a public verifier key?)');
  }
  const parts = splitKey(text.slice(PRIVATE_PREFIX.length), true);
  const seed = decodeKeyBytes(parts);
  let privateKey: KeyObject;
  try {
    privateKey = privateKeyFromSeed(seed);
  } finally {
    seed.fill(0);
  }
  const publicKey = publicKeyOf(privateKey);
  // The hash is over the public key, which only exists after derivation.
  const hash = keyHashOf(parts.name, publicKey);
  if (hash !== parts.hash) {
    throw keyError(`${parts.label}: key hash does not match the key derived from the private key`);
  }
  const verifierKey = `${parts.name}+${hex8(hash)}+${withAlg(publicKey).toString('base64')}`;
  return Object.freeze({
    name: parts.name,
    keyHash: hash,
    publicKey: Buffer.from(publicKey),
    verifierKey,
    sign(message: Uint8Array | string): Buffer {
      return cryptoSign(null, toBytes(message, 'message'), privateKey);
    },
  });
}

function createVerifier(name: string, keyHash: number, publicKey: Buffer): NoteVerifier {
  const keyObject = createPublicKey({
    key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]),
    format: 'der',
    type: 'spki',
  });
  return Object.freeze({
    name,
    keyHash,
    publicKey: Buffer.from(publicKey),
    verifierKey: `${name}+${hex8(keyHash)}+${withAlg(publicKey).toString('base64')}`,
    verify(message: Uint8Array | string, signature: Uint8Array): boolean {
      const bytes = toBytes(message, 'message');
      if (!(signature instanceof Uint8Array) || signature.length !== ED25519_SIGNATURE_BYTES) return false;
      try {
        return cryptoVerify(null, bytes, keyObject, signature);
      } catch {
        // A public key that is not a curve point fails here: a bad signature, not a crash.
        return false;
      }
    },
  });
}

interface KeyParts {
  name: string;
  /** How errors name the key: never the signer key's name, which may be seed text. */
  label: string;
  hash: number;
  key64: string;
}

// `<name>+<hash>+<base64>`: the base64 may itself contain '+', so cut at the
// first two '+' only (names cannot contain '+').
function splitKey(text: string, secret: boolean): KeyParts {
  const what = secret ? 'signer key' : 'verifier key';
  if (text.trim() !== text) throw keyError(`${what}: has leading or trailing white space`);
  const a = text.indexOf('+');
  const b = a < 0 ? -1 : text.indexOf('+', a + 1);
  if (b < 0) throw keyError(`${what}: expected <name>+<8 hex key hash>+<base64 key>`);
  const name = text.slice(0, a);
  const hash16 = text.slice(a + 1, b);
  if (!isValidKeyName(name)) {
    // A mangled signer key may put seed characters where the name belongs: never echo it.
    const shown = secret ? '' : ` ${quote(name)}`;
    throw keyError(`${what}: key name${shown} is invalid (must be non-empty, without spaces, '+' or control characters)`);
  }
  const label = secret ? what : `${what} ${quote(name)}`;
  if (!HEX8.test(hash16)) throw keyError(`${label}: key hash must be 8 hexadecimal digits`);
  return { name, label, hash: Number.parseInt(hash16, 16), key64: text.slice(b + 1) };
}

function decodeKeyBytes(parts: KeyParts): Buffer {
  const bytes = decodeBase64Canonical(parts.key64);
  if (bytes === undefined || bytes.length === 0) {
    throw keyError(`${parts.label}: key is not canonical standard base64`);
  }
  if (bytes[0] !== ALG_ED25519) {
    const alg = bytes[0]!.toString(16).padStart(2, '0');
    bytes.fill(0);
    throw keyError(`${parts.label}: unsupported key algorithm 0x${alg}; only 0x01 (Ed25519) is supported`);
  }
  if (bytes.length !== 1 + ED25519_KEY_BYTES) {
    bytes.fill(0);
    throw keyError(`${parts.label}: Ed25519 key must be 32 bytes after the algorithm byte; got ${bytes.length - 1}`);
  }
  const key = Buffer.from(bytes.subarray(1));
  bytes.fill(0);
  return key;
}

function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  const der = Buffer.concat([PKCS8_ED25519_PREFIX, seed]);
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}

function publicKeyOf(privateKey: KeyObject): Buffer {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return Buffer.from(spki.subarray(SPKI_ED25519_PREFIX.length));
}

function keyHashOf(name: string, publicKey: Uint8Array): number {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, ALG_ED25519]))
    .update(publicKey)
    .digest()
    .readUInt32BE(0);
}

function withAlg(key: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([ALG_ED25519]), key]);
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function toBytes(message: Uint8Array | string, argName: string): Uint8Array {
  if (typeof message === 'string') return Buffer.from(message, 'utf8');
  if (message instanceof Uint8Array) return message;
  throw new TypeError(`${argName} must be a string or Uint8Array; got ${typeof message}`);
}

function assertName(name: unknown, argName: string): asserts name is string {
  if (typeof name !== 'string') throw new TypeError(`${argName} must be a string; got ${typeof name}`);
  if (!isValidKeyName(name)) {
    throw new RangeError(`${argName} ${quote(name)} is not a valid key name: it must be non-empty, without spaces, '+' or control characters`);
  }
}

function assertPublicKey(key: unknown, argName: string): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array)) throw new TypeError(`${argName} must be a Uint8Array; got ${typeof key}`);
  if (key.length !== ED25519_KEY_BYTES) throw new RangeError(`${argName} must be 32 bytes (Ed25519); got ${key.length}`);
}

function keyError(message: string): AuditError {
  return new AuditError('AUDIT_KEY_INVALID', message);
}

// Names come from untrusted text: bound what an error message repeats.
function quote(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}
