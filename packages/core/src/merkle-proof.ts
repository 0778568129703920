/**
 * Merkle proofs of a stream's log (DESIGN §4.2), computed from the stored leaf
 * hashes: the tree head MTH (RFC 9162 §2.1.1), inclusion proofs PATH(m, D[n])
 * and their iterative verification (§2.1.3.1, §2.1.3.2), consistency proofs
 * SUBPROOF(m, D[n], true) and their verification (§2.1.4.1, §2.1.4.2). The log
 * stores leaves only, so producing a proof hashes the sibling subtrees from
 * their leaves: O(n) node hashes, the price of keeping no interior nodes.
 * Verifiers return false on a bad proof and throw only on misuse.
 */
import { assertHashAlgorithm, digestLength, emptyHash, nodeHash, type HashAlgorithm } from './hash.js';
import { CompactRange, type CompactRangeState } from './merkle-tree.js';

/**
 * Where proofs read leaf hashes from: an array, or a function returning the
 * leaf hash at a 0-based index (e.g. backed by a prepared statement).
 *
 * @example
 * const fromArray: LeafSource = records.map((r) => Buffer.from(r.checksum, 'hex'));
 * const fromDb: LeafSource = (i) => Buffer.from(selectChecksum.get(stream, i).checksum, 'hex');
 */
export type LeafSource = readonly Uint8Array[] | ((index: number) => Uint8Array);

type LeafAt = (index: number) => Uint8Array;

/**
 * The RFC 9162 §2.1.1 Merkle Tree Hash of the first `size` leaves;
 * `emptyHash(alg)` when `size` is 0.
 *
 * @throws RangeError if `size` exceeds an array source or is not a
 *   non-negative safe integer; TypeError/RangeError for a malformed leaf.
 * @example
 * merkleRoot('sha256', leaves, leaves.length).toString('hex')
 */
export function merkleRoot(alg: HashAlgorithm, leaves: LeafSource, size: number): Buffer {
  assertHashAlgorithm(alg, 'alg');
  assertTreeSize(size, 'size');
  const leafAt = leafReader(alg, leaves, size);
  return subtreeHash(alg, leafAt, 0, size);
}

/**
 * The RFC 9162 §2.1.3.1 inclusion proof PATH(index, D[size]): the sibling
 * subtree hashes from the leaf up to the root.
 *
 * @throws RangeError unless 0 <= index < size <= number of leaves.
 * @example
 * const proof = inclusionProof('sha256', 5, 8, leaves);
 * verifyInclusion('sha256', 5, 8, leaves[5], proof, merkleRoot('sha256', leaves, 8)); // true
 */
export function inclusionProof(alg: HashAlgorithm, index: number, size: number, leaves: LeafSource): Buffer[] {
  assertHashAlgorithm(alg, 'alg');
  assertTreeSize(size, 'size');
  assertIndex(index, size);
  const leafAt = leafReader(alg, leaves, size);
  // Walk down from the root, always into the subtree holding the leaf; the
  // other half's hash is one proof element. PATH lists them leaf first.
  const proof: Buffer[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (index < lo + k) {
      proof.push(subtreeHash(alg, leafAt, lo + k, hi));
      hi = lo + k;
    } else {
      proof.push(subtreeHash(alg, leafAt, lo, lo + k));
      lo += k;
    }
  }
  return proof.reverse();
}

/**
 * Verifies an inclusion proof with the iterative algorithm of RFC 9162
 * §2.1.3.2. The proof binds `root` only together with `size`, so both must
 * come from the same signed checkpoint.
 *
 * @returns true iff `proof` proves `leafHash` at `index` in the tree of
 *   `size` leaves with root `root`. False for any bad proof, root or hash.
 * @throws RangeError unless 0 <= index < size (safe integers); TypeError if
 *   a hash or proof element is not a Uint8Array.
 * @example
 * verifyInclusion('sha256', rec.seq, cp.size, Buffer.from(rec.checksum, 'hex'), proof, cp.root)
 */
export function verifyInclusion(
  alg: HashAlgorithm,
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  const d = digestLength(assertHashAlgorithm(alg, 'alg'));
  assertTreeSize(size, 'size');
  assertIndex(index, size);
  assertBytes(leafHash, 'leafHash');
  assertBytes(root, 'root');
  assertProof(proof);
  if (leafHash.length !== d || root.length !== d) return false;

  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leafHash;
  for (const p of proof) {
    // More elements than the path from this leaf is long: a forged proof.
    if (sn === 0 || p.length !== d) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(alg, p, r);
      // The leaf's subtree is the right edge here: it is promoted unhashed
      // through the levels where it has no right sibling.
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(alg, r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(r, root);
}

/**
 * The RFC 9162 §2.1.4.1 consistency proof SUBPROOF(oldSize, D[newSize], true)
 * between the tree heads of `oldSize` and `newSize` leaves. Empty when
 * `oldSize` is 0 or equals `newSize` (the RFC defines 0 < m < n; those two
 * cases need no proof).
 *
 * @throws RangeError unless 0 <= oldSize <= newSize <= number of leaves.
 * @example
 * const proof = consistencyProof('sha256', prev.size, cp.size, leaves);
 */
export function consistencyProof(
  alg: HashAlgorithm,
  oldSize: number,
  newSize: number,
  leaves: LeafSource,
): Buffer[] {
  assertHashAlgorithm(alg, 'alg');
  assertTreeSize(oldSize, 'oldSize');
  assertTreeSize(newSize, 'newSize');
  if (oldSize > newSize) {
    throw new RangeError(`oldSize must not exceed newSize; got oldSize ${oldSize}, newSize ${newSize}`);
  }
  const leafAt = leafReader(alg, leaves, newSize);
  if (oldSize === 0 || oldSize === newSize) return [];
  // SUBPROOF unrolled: descend towards the subtree whose right edge is oldSize.
  // Once the descent has gone right, the old tree's root is no longer an
  // ancestor (b = false in the RFC), so the matching subtree's own hash must
  // be included; going left only, the verifier already holds it (old root).
  const proof: Buffer[] = [];
  let lo = 0;
  let hi = newSize;
  let haveOldRoot = true;
  while (oldSize !== hi) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (oldSize - lo <= k) {
      proof.push(subtreeHash(alg, leafAt, lo + k, hi));
      hi = lo + k;
    } else {
      proof.push(subtreeHash(alg, leafAt, lo, lo + k));
      lo += k;
      haveOldRoot = false;
    }
  }
  if (!haveOldRoot) proof.push(subtreeHash(alg, leafAt, lo, hi));
  return proof.reverse();
}

/**
 * Verifies a consistency proof with the algorithm of RFC 9162 §2.1.4.2: that
 * the tree of `newSize` leaves with root `newRoot` extends the tree of
 * `oldSize` leaves with root `oldRoot`. For `oldSize` 0 the proof must be
 * empty and `oldRoot` the empty tree's hash; for equal sizes the proof must
 * be empty and the roots equal.
 *
 * @returns false for any bad proof or root, never throws for those.
 * @throws RangeError unless 0 <= oldSize <= newSize (safe integers): a
 *   shrinking log is for the caller to report, not a proof to check.
 *   TypeError if a root or proof element is not a Uint8Array.
 * @example
 * verifyConsistency('sha256', prev.size, cp.size, prev.root, cp.root, proof)
 */
export function verifyConsistency(
  alg: HashAlgorithm,
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  const d = digestLength(assertHashAlgorithm(alg, 'alg'));
  assertTreeSize(oldSize, 'oldSize');
  assertTreeSize(newSize, 'newSize');
  if (oldSize > newSize) {
    throw new RangeError(`oldSize must not exceed newSize; got oldSize ${oldSize}, newSize ${newSize}`);
  }
  assertBytes(oldRoot, 'oldRoot');
  assertBytes(newRoot, 'newRoot');
  assertProof(proof);
  if (oldRoot.length !== d || newRoot.length !== d) return false;

  if (oldSize === 0) {
    // Every tree extends the empty one, whose root is known: check it.
    return proof.length === 0 && bytesEqual(oldRoot, emptyHash(alg)) && (newSize > 0 || bytesEqual(newRoot, oldRoot));
  }
  if (oldSize === newSize) return proof.length === 0 && bytesEqual(oldRoot, newRoot);
  if (proof.length === 0) return false;

  // When oldSize is a power of two the old root is itself a node of the new
  // tree and the prover omits it (SUBPROOF with b = true): put it back.
  let next = 0;
  let seed: Uint8Array;
  if (isPowerOfTwo(oldSize)) {
    seed = oldRoot;
  } else {
    seed = proof[0] as Uint8Array;
    next = 1;
    if (seed.length !== d) return false;
  }
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fr: Uint8Array = seed;
  let sr: Uint8Array = seed;
  for (; next < proof.length; next++) {
    const c = proof[next] as Uint8Array;
    if (sn === 0 || c.length !== d) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(alg, c, fr);
      sr = nodeHash(alg, c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      // A subtree that only the new tree has: it extends the new root alone.
      sr = nodeHash(alg, sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(fr, oldRoot) && bytesEqual(sr, newRoot);
}

/**
 * The compact range of [0, size) — what {@link CompactRange.state} would be
 * after appending the first `size` leaves — computed from stored leaves, e.g.
 * to resume a log or to archive a prefix. O(size) node hashes.
 *
 * @example
 * const state = compactRangeAt('sha256', leaves, 1000);
 * CompactRange.restore('sha256', state).rootHex() === merkleRoot('sha256', leaves, 1000).toString('hex'); // true
 */
export function compactRangeAt(alg: HashAlgorithm, leaves: LeafSource, size: number): CompactRangeState {
  assertHashAlgorithm(alg, 'alg');
  assertTreeSize(size, 'size');
  const leafAt = leafReader(alg, leaves, size);
  const range = new CompactRange(alg);
  for (let i = 0; i < size; i++) range.append(leafAt(i));
  return range.state();
}

/**
 * MTH(D[lo:hi]). Merging equal-height subtrees left to right, as a compact
 * range does, yields exactly RFC 9162's split at the largest power of two,
 * with one pass over the leaves and no intermediate arrays.
 */
function subtreeHash(alg: HashAlgorithm, leafAt: LeafAt, lo: number, hi: number): Buffer {
  const range = new CompactRange(alg);
  for (let i = lo; i < hi; i++) range.append(leafAt(i));
  return range.root();
}

/** A validating reader over the first `size` leaves of `leaves`. */
function leafReader(alg: HashAlgorithm, leaves: LeafSource, size: number): LeafAt {
  const d = digestLength(alg);
  let read: LeafAt;
  if (typeof leaves === 'function') {
    read = leaves;
  } else if (Array.isArray(leaves)) {
    if (size > leaves.length) {
      throw new RangeError(`size ${size} exceeds the ${leaves.length} leaves given`);
    }
    const arr = leaves as readonly Uint8Array[];
    read = (i) => arr[i] as Uint8Array;
  } else {
    throw new TypeError(`leaves must be an array of leaf hashes or a function (index) => leaf hash; got ${typeof leaves}`);
  }
  return (i) => {
    const leaf = read(i);
    if (!(leaf instanceof Uint8Array)) {
      throw new TypeError(`leaves[${i}] must be a Uint8Array (a leaf hash); got ${typeof leaf}`);
    }
    if (leaf.length !== d) {
      throw new RangeError(`leaves[${i}] must be ${d} bytes (a ${alg} leaf hash); got ${leaf.length}`);
    }
    return leaf;
  };
}

function assertTreeSize(n: unknown, name: string): asserts n is number {
  if (typeof n !== 'number') throw new TypeError(`${name} must be a number; got ${typeof n}`);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer; got ${n}`);
  }
}

function assertIndex(index: unknown, size: number): asserts index is number {
  assertTreeSize(index, 'index');
  if (index >= size) throw new RangeError(`index must be less than size; got index ${index}, size ${size}`);
}

function assertBytes(b: unknown, name: string): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array; got ${typeof b}`);
}

function assertProof(proof: unknown): asserts proof is readonly Uint8Array[] {
  if (!Array.isArray(proof)) throw new TypeError(`proof must be an array of Uint8Array; got ${typeof proof}`);
  for (let i = 0; i < proof.length; i++) assertBytes(proof[i], `proof[${i}]`);
}

/** The largest power of two strictly less than n (n >= 2): RFC 9162's k. */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  while (n % 2 === 0 && n > 1) n /= 2;
  return n === 1;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}
