/**
 * The Merkle log state of a stream (DESIGN §4.2): an append-only compact
 * range over the leaves [0, size) of the RFC 9162 §2.1.1 Merkle tree. It keeps
 * only the roots of the perfect subtrees that the binary decomposition of
 * `size` yields (one per set bit, largest first), so the state is O(log n)
 * hashes, an append costs amortized O(1) node hashes, and the tree head
 * MTH(D[0:size]) is their fold from the right (RFC 9162 §2.1.1, the
 * "compact range" of transparency-dev/merkle). The record processor keeps one
 * per stream and persists `state()` beside each checkpoint.
 */
import { assertHashAlgorithm, digestLength, emptyHash, nodeHashHex, type HashAlgorithm } from './hash.js';

/**
 * A serializable snapshot of a {@link CompactRange}: the tree size and the
 * perfect-subtree roots as lowercase hex, largest subtree first.
 * `hashes.length` is always the number of set bits of `size`.
 *
 * @example
 * const s: CompactRangeState = { size: 3, hashes: [rootOfLeaves0and1Hex, leaf2Hex] };
 */
export interface CompactRangeState {
  size: number;
  hashes: string[];
}

const LOWER_HEX = /^[0-9a-f]*$/;

/**
 * Append-only Merkle log state: the compact range [0, size) of an RFC 9162
 * tree. Leaves are leaf hashes (`H(0x00 || data)`), not data.
 *
 * @example
 * const log = new CompactRange('sha256');
 * log.append(leafHash('sha256', canonicalBytes));
 * log.rootHex();            // RFC 9162 MTH of the records so far
 * const saved = log.state(); // { size: 1, hashes: ['…'] }
 * CompactRange.restore('sha256', saved).rootHex() === log.rootHex(); // true
 */
/**
 * Append without validating the hex: for AuditChain, whose leaves come from
 * its own hash function. Internal to the package (not exported by index).
 */
export let appendTrustedLeafHex: (range: CompactRange, leaf: string) => void;

export class CompactRange {
  static {
    appendTrustedLeafHex = (range, leaf) => range.#push(leaf);
  }

  readonly #alg: HashAlgorithm;
  readonly #hexChars: number;
  /**
   * Perfect-subtree roots as lowercase hex, largest first. Hex strings are
   * immutable and feed the one-shot hash directly, which is ~3x faster than
   * hashing Buffers through a Hash object (see hash.ts).
   */
  readonly #nodes: string[];
  #size: number;

  /**
   * An empty range (size 0) for a stream hashed with `alg`.
   *
   * @example
   * new CompactRange('sha256').rootHex() // 'e3b0c442…b855', the empty tree
   */
  constructor(alg: HashAlgorithm) {
    this.#alg = assertHashAlgorithm(alg, 'alg');
    this.#hexChars = digestLength(this.#alg) * 2;
    this.#nodes = [];
    this.#size = 0;
  }

  /**
   * Rebuilds a range from a snapshot taken with {@link CompactRange.state},
   * e.g. read back from storage at startup. The snapshot is validated
   * strictly, since a corrupted one would silently fork the log.
   *
   * @throws TypeError or RangeError naming the offending field.
   * @example
   * const log = CompactRange.restore('sha256', JSON.parse(row.merkle_state));
   */
  static restore(alg: HashAlgorithm, state: CompactRangeState): CompactRange {
    const range = new CompactRange(alg);
    if (typeof state !== 'object' || state === null) {
      throw new TypeError(`state must be an object { size, hashes }; got ${state === null ? 'null' : typeof state}`);
    }
    const { size, hashes } = state;
    if (typeof size !== 'number') {
      throw new TypeError(`state.size must be a number; got ${typeof size}`);
    }
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RangeError(`state.size must be a non-negative safe integer; got ${size}`);
    }
    if (!Array.isArray(hashes)) {
      throw new TypeError(`state.hashes must be an array of hex strings; got ${typeof hashes}`);
    }
    const expected = popCount(size);
    if (hashes.length !== expected) {
      throw new RangeError(
        `state.hashes must hold ${expected} hashes (one per set bit of size ${size}); got ${hashes.length}`,
      );
    }
    for (let i = 0; i < hashes.length; i++) {
      const h: unknown = hashes[i];
      if (typeof h !== 'string') {
        throw new TypeError(`state.hashes[${i}] must be a string; got ${typeof h}`);
      }
      if (h.length !== range.#hexChars || !LOWER_HEX.test(h)) {
        throw new RangeError(
          `state.hashes[${i}] must be ${range.#hexChars} lowercase hex digits (a ${range.#alg} hash); got "${truncate(h)}"`,
        );
      }
      range.#nodes.push(h);
    }
    range.#size = size;
    return range;
  }

  /**
   * The hash algorithm of the log.
   *
   * @example
   * new CompactRange('sha384').algorithm // 'sha384'
   */
  get algorithm(): HashAlgorithm {
    return this.#alg;
  }

  /**
   * Number of leaves appended so far (the tree size).
   *
   * @example
   * log.append(h); log.size // 1
   */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends one leaf hash (already `H(0x00 || data)`). Amortized one node
   * hash per append; the buffer is not retained.
   *
   * @throws TypeError if `leaf` is not a Uint8Array, RangeError if its length
   *   is not the digest length or the tree is full.
   * @example
   * log.append(leafHash('sha256', canonicalBytes));
   */
  append(leaf: Uint8Array): void {
    if (!(leaf instanceof Uint8Array)) {
      throw new TypeError(`leaf must be a Uint8Array (a leaf hash); got ${typeof leaf}`);
    }
    if (leaf.length * 2 !== this.#hexChars) {
      throw new RangeError(
        `leaf must be ${this.#hexChars / 2} bytes (a ${this.#alg} leaf hash); got ${leaf.length}`,
      );
    }
    this.#push(Buffer.from(leaf.buffer, leaf.byteOffset, leaf.length).toString('hex'));
  }

  /**
   * {@link CompactRange.append} for a leaf hash given as lowercase hex (a
   * record's checksum) — the hot path of sealing and verifying.
   *
   * @throws RangeError if `leaf` is not lowercase hex of the digest length.
   * @example
   * log.appendHex(leafHashHex('sha256', canonical));
   */
  appendHex(leaf: string): void {
    if (typeof leaf !== 'string' || leaf.length !== this.#hexChars || !LOWER_HEX.test(leaf)) {
      throw new RangeError(`leaf must be ${this.#hexChars} lowercase hex digits (a ${this.#alg} leaf hash)`);
    }
    this.#push(leaf);
  }

  #push(leaf: string): void {
    let size = this.#size;
    if (size === Number.MAX_SAFE_INTEGER) {
      throw new RangeError(`leaf cannot be appended: the tree size would exceed ${Number.MAX_SAFE_INTEGER}`);
    }
    const nodes = this.#nodes;
    if (size % 2 === 0) {
      nodes.push(leaf);
    } else {
      // Each trailing one bit of size is a perfect subtree of the same height
      // as the one being carried: merge them, as a binary counter carries.
      let carry = nodeHashHex(this.#alg, nodes.pop() as string, leaf);
      size = (size - 1) / 2;
      while (size % 2 === 1) {
        carry = nodeHashHex(this.#alg, nodes.pop() as string, carry);
        size = (size - 1) / 2;
      }
      nodes.push(carry);
    }
    this.#size += 1;
  }

  /**
   * The RFC 9162 Merkle Tree Hash of the leaves [0, size); `emptyHash(alg)`
   * for the empty tree. A fresh buffer the caller owns.
   *
   * @example
   * const root = log.root(); // Buffer of digestLength(alg) bytes
   */
  root(): Buffer {
    return Buffer.from(this.rootHex(), 'hex');
  }

  /**
   * {@link CompactRange.root} as lowercase hex.
   *
   * @example
   * new CompactRange('sha256').rootHex() // 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
   */
  rootHex(): string {
    const nodes = this.#nodes;
    const n = nodes.length;
    if (n === 0) return emptyHash(this.#alg).toString('hex');
    // MTH = H(1 || S1 || H(1 || S2 || … || Sk)): RFC 9162 §2.1.1 splits off the
    // largest power of two on the left, so the smaller subtrees nest rightwards.
    let r = nodes[n - 1] as string;
    for (let i = n - 2; i >= 0; i--) r = nodeHashHex(this.#alg, nodes[i] as string, r);
    return r;
  }

  /**
   * A JSON-serializable snapshot, restorable with {@link CompactRange.restore}.
   *
   * @example
   * db.saveMerkleState(stream, JSON.stringify(log.state()));
   */
  state(): CompactRangeState {
    return { size: this.#size, hashes: [...this.#nodes] };
  }

  /**
   * An independent copy: appending to one does not affect the other.
   *
   * @example
   * const next = log.clone(); next.append(h); // log is unchanged
   */
  clone(): CompactRange {
    const copy = new CompactRange(this.#alg);
    for (const h of this.#nodes) copy.#nodes.push(h);
    copy.#size = this.#size;
    return copy;
  }
}

/** Number of set bits of a non-negative safe integer (beyond 32-bit operators). */
function popCount(n: number): number {
  let count = 0;
  while (n > 0) {
    if (n % 2 === 1) count++;
    n = Math.floor(n / 2);
  }
  return count;
}

function truncate(s: string): string {
  return s.length > 20 ? `${s.slice(0, 20)}…` : s;
}
