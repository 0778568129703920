/**
 * Tests of the RFC 9162 proofs (§2.1.3 inclusion, §2.1.4 consistency): the
 * published Certificate Transparency reference proofs, a differential check
 * against literal transcriptions of PATH and SUBPROOF for every pair up to
 * n = 64, exhaustive tampering of every proof up to n = 64, and misuse.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { emptyHash, HASH_ALGORITHMS, leafHash, type HashAlgorithm } from '../src/hash.js';
import {
  compactRangeAt,
  consistencyProof,
  inclusionProof,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
  type LeafSource,
} from '../src/merkle-proof.js';
import { CompactRange } from '../src/merkle-tree.js';
import {
  CT_CONSISTENCY,
  CT_INCLUSION,
  CT_INPUTS,
  CT_ROOTS,
  refMth,
  refPath,
  refSubproof,
} from './support/rfc9162-reference.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (h: string): Buffer => Buffer.from(h, 'hex');
const ctLeaves = (): Buffer[] => CT_INPUTS.map((h) => leafHash('sha256', unhex(h)));

const randomLeaves = (alg: HashAlgorithm, n: number): Buffer[] =>
  Array.from({ length: n }, () => leafHash(alg, randomBytes(8)));

/** A copy of `b` with one bit of byte `i` flipped. */
function flip(b: Uint8Array, i: number): Buffer {
  const c = Buffer.from(b);
  c[i] = c[i]! ^ 0x10;
  return c;
}
/** Byte positions to tamper with: every byte for small trees, a spread otherwise. */
function positions(len: number, every: boolean, salt: number): number[] {
  if (every) return Array.from({ length: len }, (_, i) => i);
  return [...new Set([0, len - 1, salt % len])];
}

const N = 64;
const SIZES = Array.from({ length: N }, (_, i) => i + 1);

describe('merkleRoot', () => {
  it('reproduces the Certificate Transparency reference roots for sizes 0..8', () => {
    const leaves = ctLeaves();
    for (let size = 0; size <= 8; size++) {
      expect(hex(merkleRoot('sha256', leaves, size))).toBe(CT_ROOTS[size]);
    }
  });

  it('reads leaves from a function source the same way', () => {
    const leaves = randomLeaves('sha256', 100);
    const reads: number[] = [];
    const source: LeafSource = (i) => {
      reads.push(i);
      return leaves[i]!;
    };
    expect(merkleRoot('sha256', source, 77)).toEqual(refMth('sha256', leaves.slice(0, 77)));
    expect(Math.max(...reads)).toBe(76);
  });

  it('handles a larger log (2^13 + 5 leaves) in one pass', () => {
    const n = 2 ** 13 + 5;
    const leaves = Array.from({ length: n }, (_, i) => leafHash('sha256', String(i)));
    const log = new CompactRange('sha256');
    for (const l of leaves) log.append(l);
    const root = merkleRoot('sha256', leaves, n);
    expect(root).toEqual(log.root());
    for (const index of [0, 1, 2 ** 12, n - 6, n - 1]) {
      const proof = inclusionProof('sha256', index, n, leaves);
      expect(verifyInclusion('sha256', index, n, leaves[index]!, proof, root)).toBe(true);
    }
    const oldRoot = merkleRoot('sha256', leaves, 5_003);
    const proof = consistencyProof('sha256', 5_003, n, leaves);
    expect(verifyConsistency('sha256', 5_003, n, oldRoot, root, proof)).toBe(true);
  });
});

describe('compactRangeAt', () => {
  it('equals the state of a CompactRange fed the same leaves, for every size 0..130', () => {
    const leaves = randomLeaves('sha256', 130);
    const log = new CompactRange('sha256');
    for (let size = 0; size <= 130; size++) {
      if (size > 0) log.append(leaves[size - 1]!);
      const state = compactRangeAt('sha256', leaves, size);
      expect(state).toEqual(log.state());
      expect(CompactRange.restore('sha256', state).root()).toEqual(refMth('sha256', leaves.slice(0, size)));
    }
  });
});

describe('inclusion proofs', () => {
  it.each(CT_INCLUSION)('reproduce the reference proof of leaf $index in a tree of $size', ({ index, size, proof }) => {
    const leaves = ctLeaves();
    const got = inclusionProof('sha256', index, size, leaves);
    expect(got.map(hex)).toEqual(proof);
    expect(verifyInclusion('sha256', index, size, leaves[index]!, proof.map(unhex), unhex(CT_ROOTS[size]!))).toBe(
      true,
    );
  });

  it('match the RFC PATH definition for every (index, size) up to 64 leaves', () => {
    const leaves = randomLeaves('sha256', N);
    for (let size = 1; size <= N; size++) {
      const d = leaves.slice(0, size);
      for (let index = 0; index < size; index++) {
        expect(inclusionProof('sha256', index, size, leaves)).toEqual(refPath('sha256', index, d));
      }
    }
  });

  const leaves = randomLeaves('sha256', N);
  const roots = Array.from({ length: N + 1 }, (_, n) => refMth('sha256', leaves.slice(0, n)));
  it.each(SIZES)('in a tree of %i leaves: each verifies, and no tampered variant does', (size) => {
    const root = roots[size]!;
    const every = size <= 12;
    for (let index = 0; index < size; index++) {
      const leaf = leaves[index]!;
      const proof = inclusionProof('sha256', index, size, leaves);
      const ok = (i: number, n: number, l: Uint8Array, p: readonly Uint8Array[], r: Uint8Array): boolean =>
        verifyInclusion('sha256', i, n, l, p, r);
      expect(ok(index, size, leaf, proof, root)).toBe(true);

      // Any flipped bit, in any proof element, the root or the leaf.
      proof.forEach((p, j) => {
        for (const at of positions(p.length, every, index + j)) {
          const bad = proof.slice();
          bad[j] = flip(p, at);
          expect(ok(index, size, leaf, bad, root)).toBe(false);
        }
      });
      for (const at of positions(32, every, index)) {
        expect(ok(index, size, leaf, proof, flip(root, at))).toBe(false);
        expect(ok(index, size, flip(leaf, at), proof, root)).toBe(false);
      }
      // The same proof presented for any other leaf position of this tree.
      for (let other = 0; other < size; other++) {
        if (other !== index) expect(ok(other, size, leaf, proof, root)).toBe(false);
      }
      // Wrong tree sizes (the mutations of the CT verifier tests).
      expect(ok(index, size * 2, leaf, proof, root)).toBe(false);
      const half = Math.floor(size / 2);
      if (index < half) expect(ok(index, half, leaf, proof, root)).toBe(false);
      else expect(() => ok(index, half, leaf, proof, root)).toThrow(RangeError);
      // Wrong roots, and elements added, removed, reordered or replaced.
      expect(ok(index, size, leaf, proof, emptyHash('sha256'))).toBe(false);
      if (size > 1) expect(ok(index, size, leaf, proof, roots[size - 1]!)).toBe(false);
      expect(ok(index, size, leaf, [...proof, root], root)).toBe(false);
      expect(ok(index, size, leaf, [...proof, Buffer.alloc(0)], root)).toBe(false);
      expect(ok(index, size, leaf, [root, ...proof], root)).toBe(false);
      expect(ok(index, size, leaf, [Buffer.alloc(0), ...proof], root)).toBe(false);
      if (proof.length > 0) {
        expect(ok(index, size, leaf, proof.slice(0, -1), root)).toBe(false);
        expect(ok(index, size, leaf, proof.slice(1), root)).toBe(false);
        expect(ok(index, size, leaf, proof.map(() => emptyHash('sha256')), root)).toBe(false);
      }
      if (proof.length > 1) {
        expect(ok(index, size, leaf, [proof[0]!, randomBytes(32), ...proof.slice(1)], root)).toBe(false);
        expect(ok(index, size, leaf, [proof[1]!, proof[0]!, ...proof.slice(2)], root)).toBe(false);
      }
    }
  });

  it('verify a one-leaf tree only against its own leaf hash', () => {
    const leaf = leafHash('sha256', 'data');
    expect(verifyInclusion('sha256', 0, 1, leaf, [], leaf)).toBe(true);
    expect(verifyInclusion('sha256', 0, 1, leaf, [], emptyHash('sha256'))).toBe(false);
    expect(verifyInclusion('sha256', 0, 1, Buffer.alloc(0), [], leaf)).toBe(false);
    expect(verifyInclusion('sha256', 0, 1, Buffer.alloc(0), [], Buffer.alloc(0))).toBe(false);
  });

  it('reject hashes of the wrong length instead of throwing', () => {
    const leaves = ctLeaves();
    const proof = inclusionProof('sha256', 5, 8, leaves);
    const root = unhex(CT_ROOTS[8]!);
    const leaf = leaves[5]!;
    expect(verifyInclusion('sha256', 5, 8, leaf.subarray(1), proof, root)).toBe(false);
    expect(verifyInclusion('sha256', 5, 8, leaf, proof, Buffer.concat([root, Buffer.alloc(1)]))).toBe(false);
    expect(verifyInclusion('sha256', 5, 8, leaf, [proof[0]!, proof[1]!.subarray(0, 31), proof[2]!], root)).toBe(false);
    expect(verifyInclusion('sha256', 5, 8, leaf, proof, root.subarray(0, 16))).toBe(false);
    // A huge forged proof is rejected after at most log2(size) hashes.
    expect(verifyInclusion('sha256', 5, 8, leaf, Array(100_000).fill(root), root)).toBe(false);
  });

  it('throw on misuse, naming the argument', () => {
    const leaves = ctLeaves();
    const root = unhex(CT_ROOTS[8]!);
    expect(() => inclusionProof('sha256', 8, 8, leaves)).toThrow(/^index must be less than size/);
    expect(() => inclusionProof('sha256', 0, 0, leaves)).toThrow(RangeError);
    expect(() => inclusionProof('sha256', -1, 8, leaves)).toThrow(/^index must be a non-negative/);
    expect(() => inclusionProof('sha256', 0.5, 8, leaves)).toThrow(RangeError);
    expect(() => inclusionProof('sha256', 0, 9, leaves)).toThrow(/^size 9 exceeds the 8 leaves/);
    expect(() => inclusionProof('sha256', 0, 4, () => Buffer.alloc(31))).toThrow(/^leaves\[\d\] must be 32 bytes/);
    expect(() => inclusionProof('sha384', 0, 4, leaves)).toThrow(/^leaves\[\d\] must be 48 bytes/);
    expect(() => inclusionProof('sha256', 0, 4, 'leaves' as unknown as LeafSource)).toThrow(TypeError);
    expect(() => verifyInclusion('sha256', 8, 8, leaves[0]!, [], root)).toThrow(/^index must be less than size/);
    expect(() => verifyInclusion('sha256', 0, 0, leaves[0]!, [], root)).toThrow(RangeError);
    expect(() => verifyInclusion('sha256', 0, 2 ** 53, leaves[0]!, [], root)).toThrow(/^size must be/);
    expect(() => verifyInclusion('sha256', '0' as unknown as number, 1, leaves[0]!, [], root)).toThrow(TypeError);
    expect(() => verifyInclusion('sha256', 0, 1, hex(leaves[0]!) as unknown as Uint8Array, [], root)).toThrow(
      /^leafHash must be a Uint8Array/,
    );
    expect(() => verifyInclusion('sha256', 0, 2, leaves[0]!, [hex(root)] as unknown as Uint8Array[], root)).toThrow(
      /^proof\[0\] must be a Uint8Array/,
    );
    expect(() => verifyInclusion('sha256', 0, 2, leaves[0]!, null as unknown as Uint8Array[], root)).toThrow(
      /^proof must be an array/,
    );
    expect(() => verifyInclusion('md5' as HashAlgorithm, 0, 1, leaves[0]!, [], root)).toThrow(/^alg "md5"/);
  });
});

describe('consistency proofs', () => {
  it.each(CT_CONSISTENCY)(
    'reproduce the reference proof from $oldSize to $newSize leaves',
    ({ oldSize, newSize, proof }) => {
      const leaves = ctLeaves();
      expect(consistencyProof('sha256', oldSize, newSize, leaves).map(hex)).toEqual(proof);
      expect(
        verifyConsistency(
          'sha256',
          oldSize,
          newSize,
          unhex(CT_ROOTS[oldSize]!),
          unhex(CT_ROOTS[newSize]!),
          proof.map(unhex),
        ),
      ).toBe(true);
    },
  );

  it('match the RFC SUBPROOF definition for every 0 < m <= n <= 64', () => {
    const leaves = randomLeaves('sha256', N);
    for (let n = 1; n <= N; n++) {
      const d = leaves.slice(0, n);
      for (let m = 1; m <= n; m++) {
        expect(consistencyProof('sha256', m, n, leaves)).toEqual(refSubproof('sha256', m, d, true));
      }
    }
  });

  const leaves = randomLeaves('sha256', N);
  const roots = Array.from({ length: N + 1 }, (_, n) => refMth('sha256', leaves.slice(0, n)));
  it.each(SIZES)('to a tree of %i leaves: each verifies, and no tampered variant does', (newSize) => {
    const newRoot = roots[newSize]!;
    const every = newSize <= 12;
    const ok = (m: number, n: number, r1: Uint8Array, r2: Uint8Array, p: readonly Uint8Array[]): boolean =>
      verifyConsistency('sha256', m, n, r1, r2, p);
    for (let oldSize = 0; oldSize <= newSize; oldSize++) {
      const oldRoot = roots[oldSize]!;
      const proof = consistencyProof('sha256', oldSize, newSize, leaves);
      expect(ok(oldSize, newSize, oldRoot, newRoot, proof)).toBe(true);

      // Any flipped bit, in any proof element or either root.
      proof.forEach((p, j) => {
        for (const at of positions(p.length, every, oldSize + j)) {
          const bad = proof.slice();
          bad[j] = flip(p, at);
          expect(ok(oldSize, newSize, oldRoot, newRoot, bad)).toBe(false);
        }
      });
      for (const at of positions(32, every, oldSize)) {
        expect(ok(oldSize, newSize, flip(oldRoot, at), newRoot, proof)).toBe(false);
        // (From the empty tree, any new root is consistent: nothing to flip.)
        if (oldSize > 0) expect(ok(oldSize, newSize, oldRoot, flip(newRoot, at), proof)).toBe(false);
      }
      // Appended or prepended elements.
      expect(ok(oldSize, newSize, oldRoot, newRoot, [...proof, newRoot])).toBe(false);
      expect(ok(oldSize, newSize, oldRoot, newRoot, [...proof, Buffer.alloc(0)])).toBe(false);
      expect(ok(oldSize, newSize, oldRoot, newRoot, [oldRoot, ...proof])).toBe(false);
      expect(ok(oldSize, newSize, oldRoot, newRoot, [Buffer.alloc(0), ...proof])).toBe(false);
      if (oldSize === 0 || oldSize === newSize) continue;

      // Below: non-trivial proofs, 0 < oldSize < newSize, as in the CT tests.
      expect(ok(oldSize, newSize, newRoot, oldRoot, proof)).toBe(false);
      expect(ok(oldSize, newSize, emptyHash('sha256'), newRoot, proof)).toBe(false);
      expect(ok(oldSize, newSize, oldRoot, newRoot, [])).toBe(false);
      expect(ok(oldSize, newSize, oldRoot, newRoot, proof.slice(0, -1))).toBe(false);
      expect(ok(oldSize, newSize, oldRoot, newRoot, proof.slice(1))).toBe(false);
      expect(ok(oldSize, newSize, oldRoot, newRoot, [proof[0]!, ...proof])).toBe(false);
      expect(ok(oldSize, newSize, oldRoot, newRoot, [...proof, proof[proof.length - 1]!])).toBe(false);
      if (proof.length > 1) {
        expect(ok(oldSize, newSize, oldRoot, newRoot, [proof[1]!, proof[0]!, ...proof.slice(2)])).toBe(false);
      }
      for (const [m, n] of [
        [oldSize - 1, newSize],
        [oldSize + 1, newSize],
        [oldSize ^ 2, newSize],
        [oldSize, newSize * 2],
        [oldSize, Math.floor(newSize / 2)],
      ] as const) {
        if (m <= n) expect(ok(m, n, oldRoot, newRoot, proof)).toBe(false);
        else expect(() => ok(m, n, oldRoot, newRoot, proof)).toThrow(RangeError);
      }
    }
  });

  it('treat the empty and the unchanged tree by their definitions', () => {
    const leaves = ctLeaves();
    const empty = emptyHash('sha256');
    const r3 = unhex(CT_ROOTS[3]!);
    const r5 = unhex(CT_ROOTS[5]!);
    // Every tree extends the empty tree, whose root is known.
    expect(verifyConsistency('sha256', 0, 0, empty, empty, [])).toBe(true);
    expect(verifyConsistency('sha256', 0, 5, empty, r5, [])).toBe(true);
    expect(verifyConsistency('sha256', 0, 5, r3, r5, [])).toBe(false);
    expect(verifyConsistency('sha256', 0, 0, r3, r3, [])).toBe(false);
    expect(verifyConsistency('sha256', 0, 0, empty, r3, [])).toBe(false);
    expect(verifyConsistency('sha256', 0, 5, empty, r5, [empty])).toBe(false);
    expect(verifyConsistency('sha256', 0, 0, empty, empty, [empty])).toBe(false);
    // Equal sizes: no proof, same root.
    expect(verifyConsistency('sha256', 3, 3, r3, r3, [])).toBe(true);
    expect(verifyConsistency('sha256', 3, 3, r3, r5, [])).toBe(false);
    expect(verifyConsistency('sha256', 3, 3, r3, r3, [r3])).toBe(false);
    expect(consistencyProof('sha256', 0, 8, leaves)).toEqual([]);
    expect(consistencyProof('sha256', 0, 0, leaves)).toEqual([]);
    expect(consistencyProof('sha256', 8, 8, leaves)).toEqual([]);
  });

  it('reject roots and elements of the wrong length instead of throwing', () => {
    const leaves = ctLeaves();
    const r6 = unhex(CT_ROOTS[6]!);
    const r8 = unhex(CT_ROOTS[8]!);
    const proof = consistencyProof('sha256', 6, 8, leaves);
    expect(verifyConsistency('sha256', 6, 8, r6.subarray(1), r8, proof)).toBe(false);
    expect(verifyConsistency('sha256', 6, 8, r6, Buffer.alloc(0), proof)).toBe(false);
    expect(verifyConsistency('sha256', 6, 8, r6, r8, [proof[0]!.subarray(0, 31), proof[1]!, proof[2]!])).toBe(false);
    expect(verifyConsistency('sha256', 6, 8, r6, r8, [proof[0]!, proof[1]!, Buffer.alloc(64)])).toBe(false);
    expect(verifyConsistency('sha256', 6, 8, r6, r8, Array(100_000).fill(r8))).toBe(false);
  });

  it('throw on misuse, naming the argument', () => {
    const leaves = ctLeaves();
    const r = unhex(CT_ROOTS[8]!);
    expect(() => consistencyProof('sha256', 5, 3, leaves)).toThrow(/^oldSize must not exceed newSize/);
    expect(() => consistencyProof('sha256', 3, 9, leaves)).toThrow(/^size 9 exceeds the 8 leaves/);
    expect(() => consistencyProof('sha256', -1, 3, leaves)).toThrow(/^oldSize must be a non-negative/);
    expect(() => consistencyProof('sha256', 1, Infinity, leaves)).toThrow(/^newSize must be a non-negative/);
    expect(() => verifyConsistency('sha256', 2, 1, r, r, [r])).toThrow(/^oldSize must not exceed newSize/);
    expect(() => verifyConsistency('sha256', 1, 2 ** 53, r, r, [r])).toThrow(/^newSize/);
    expect(() => verifyConsistency('sha256', 1, 2, hex(r) as unknown as Uint8Array, r, [r])).toThrow(
      /^oldRoot must be a Uint8Array/,
    );
    expect(() => verifyConsistency('sha256', 1, 2, r, r, [r, 'x' as unknown as Uint8Array])).toThrow(
      /^proof\[1\] must be a Uint8Array/,
    );
  });
});

describe.each([...HASH_ALGORITHMS])('with %s', (alg) => {
  it('proofs and roots agree with the RFC definitions and verify', () => {
    const leaves = randomLeaves(alg, 20);
    for (let n = 1; n <= 20; n++) {
      const d = leaves.slice(0, n);
      const root = merkleRoot(alg, leaves, n);
      expect(root).toEqual(refMth(alg, d));
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(alg, i, n, leaves);
        expect(proof).toEqual(refPath(alg, i, d));
        expect(verifyInclusion(alg, i, n, leaves[i]!, proof, root)).toBe(true);
        expect(verifyInclusion(alg, i, n, leaves[(i + 1) % 20]!, proof, root)).toBe(false);
      }
      for (let m = 0; m <= n; m++) {
        const proof = consistencyProof(alg, m, n, leaves);
        expect(verifyConsistency(alg, m, n, merkleRoot(alg, leaves, m), root, proof)).toBe(true);
      }
    }
  });
});
