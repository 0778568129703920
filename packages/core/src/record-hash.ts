/**
 * The record hash of DESIGN §4.2: `H(0x00 || JCS(record))` with the stream's
 * algorithm, which is at once the chain link (`prev` of the next record) and
 * the RFC 9162 leaf of the stream's Merkle tree.
 */
import { canonicalize } from './canonical.js';
import { leafHash } from './hash.js';
import type { AuditRecord } from './record.js';

/** A record with its canonical text and its hash. */
export interface EncodedRecord {
  /** The RFC 8785 canonical JSON text; its UTF-8 bytes are what is hashed. */
  canonical: string;
  /** `H(0x00 || canonical)` as raw bytes (the Merkle leaf). */
  hash: Buffer;
}

/**
 * Canonicalize a normalised record and hash it with its own `alg`.
 *
 * @example
 * const { canonical, hash } = encodeRecord(record);
 * next.prev = hash.toString('hex');
 */
export function encodeRecord(record: AuditRecord): EncodedRecord {
  const canonical = canonicalize(record);
  return { canonical, hash: leafHash(record.alg, canonical) };
}

/**
 * The record's hash as lowercase hex (its `checksum`).
 *
 * @example
 * recordHash(record) // '5f0c...'
 */
export function recordHash(record: AuditRecord): string {
  return leafHash(record.alg, canonicalize(record)).toString('hex');
}
