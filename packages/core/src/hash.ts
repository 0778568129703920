/**
 * Hash functions of a stream (DESIGN §4.2): the record hash, which is the
 * RFC 9162 leaf hash `H(0x00 || canonical bytes)`, the interior node hash
 * `H(0x01 || left || right)`, and the genesis `prev` (hash of the empty
 * byte string). The algorithm is a property of the stream.
 */
import { createHash } from 'node:crypto';

/** Hash algorithms a stream may use; `sha256` is the default. */
export type HashAlgorithm = 'sha256' | 'sha384' | 'sha512' | 'sha3-256' | 'sha3-512';

/** Every supported algorithm, in the order they are documented. */
export const HASH_ALGORITHMS: readonly HashAlgorithm[] = Object.freeze([
  'sha256',
  'sha384',
  'sha512',
  'sha3-256',
  'sha3-512',
]);

/** The default algorithm of a new stream. */
export const DEFAULT_HASH_ALGORITHM: HashAlgorithm = 'sha256';

const DIGEST_BYTES: Readonly<Record<HashAlgorithm, number>> = {
  sha256: 32,
  sha384: 48,
  sha512: 64,
  'sha3-256': 32,
  'sha3-512': 64,
};

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/**
 * Throws unless `name` is a supported algorithm; returns it typed.
 *
 * @example
 * const alg = assertHashAlgorithm(process.env.AUDIT_LOG_HASH_ALGORITHM ?? 'sha256');
 */
export function assertHashAlgorithm(name: unknown, argName = 'algorithm'): HashAlgorithm {
  if (typeof name !== 'string') {
    throw new TypeError(`${argName} must be a string, one of ${HASH_ALGORITHMS.join(', ')}; got ${typeof name}`);
  }
  if (!Object.hasOwn(DIGEST_BYTES, name)) {
    throw new RangeError(
      `${argName} "${name}" is not supported; use one of ${HASH_ALGORITHMS.join(', ')}`,
    );
  }
  return name as HashAlgorithm;
}

/**
 * Digest length in bytes of an algorithm.
 *
 * @example
 * digestLength('sha384') // 48
 */
export function digestLength(alg: HashAlgorithm): number {
  return DIGEST_BYTES[assertHashAlgorithm(alg)];
}

/**
 * `H(0x00 || bytes)`: the RFC 9162 leaf hash. For canonical record bytes this
 * is the record hash (its `checksum`, the next record's `prev`).
 *
 * @example
 * leafHash('sha256', Buffer.from(canonicalize(record))).toString('hex')
 */
export function leafHash(alg: HashAlgorithm, bytes: Uint8Array | string): Buffer {
  const h = createHash(alg).update(LEAF_PREFIX);
  if (typeof bytes === 'string') h.update(bytes, 'utf8');
  else h.update(bytes);
  return h.digest();
}

/**
 * `H(0x01 || left || right)`: the RFC 9162 interior node hash.
 *
 * @example
 * nodeHash('sha256', leftHash, rightHash)
 */
export function nodeHash(alg: HashAlgorithm, left: Uint8Array, right: Uint8Array): Buffer {
  return createHash(alg).update(NODE_PREFIX).update(left).update(right).digest();
}

/**
 * `H("")`: the hash of the empty byte string — the `prev` of `seq` 0 and the
 * Merkle root of the empty tree.
 *
 * @example
 * emptyHash('sha256').toString('hex') // e3b0c442...b855
 */
export function emptyHash(alg: HashAlgorithm): Buffer {
  return createHash(assertHashAlgorithm(alg)).digest();
}

/**
 * The genesis `prev` of a stream, as lowercase hex.
 *
 * @example
 * genesisPrev('sha256') // 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
 */
export function genesisPrev(alg: HashAlgorithm): string {
  return emptyHash(alg).toString('hex');
}
