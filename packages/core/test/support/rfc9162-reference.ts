/**
 * Test oracle for the Merkle tree code (RFC 9162 §2.1), shared by
 * merkle-tree.test.ts, merkle-proof.test.ts and scripts/generate-vectors.ts:
 * the published reference vectors of the RFC 6962 test tree, and literal
 * transcriptions of the RFC's MTH, PATH and SUBPROOF definitions — recursive
 * over array slices and hashing with node:crypto directly, so independent of
 * the iterative code under test. Imports nothing from the package.
 */
import { createHash } from 'node:crypto';

// ---------------------------------------------------------------------------
// Published vectors

// Reference vectors of the RFC 6962 test tree, values only, from
// google/certificate-transparency cpp/merkletree/merkle_tree_test.cc
// (kInputs, kSHA256Roots, kSHA256EmptyTreeHash, kSHA256Paths, kSHA256Proofs),
// transparency-dev/merkle testonly/constants.go (LeafInputs, NodeHashes,
// RootHashes, CompactTrees) and transparency-dev/merkle proof/verify_test.go
// (inclusionProofs, consistencyProofs, roots; it adds the 6 -> 7 consistency
// proof). Both list leaves 1-based in their path vectors; the indices below
// are 0-based.

/** Leaf data (hex) of the 8 leaves. */
export const CT_INPUTS: readonly string[] = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
];
/** CT_ROOTS[n]: the root of the first n leaves, n = 0..8. */
export const CT_ROOTS: readonly string[] = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', // size 0: SHA-256("")
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
/** NodeHashes()[level][index]: every perfect subtree of the 8-leaf tree. */
export const CT_NODES: readonly (readonly string[])[] = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  [
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
];
const node = (level: number, index: number): string => CT_NODES[level]![index]!;
/** CompactTrees(): the compact range after each of sizes 0..8, largest first. */
export const CT_COMPACT: readonly (readonly string[])[] = [
  [],
  [node(0, 0)],
  [node(1, 0)],
  [node(1, 0), node(0, 2)],
  [node(2, 0)],
  [node(2, 0), node(0, 4)],
  [node(2, 0), node(1, 2)],
  [node(2, 0), node(1, 2), node(0, 6)],
  [node(3, 0)],
];
/** Inclusion proofs (PATH) of leaf `index` in the first `size` leaves. */
export const CT_INCLUSION: ReadonlyArray<{ index: number; size: number; proof: string[] }> = [
  { index: 0, size: 1, proof: [] },
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];
/** Consistency proofs (PROOF) between the first `oldSize` and the first `newSize` leaves. */
export const CT_CONSISTENCY: ReadonlyArray<{ oldSize: number; newSize: number; proof: string[] }> = [
  { oldSize: 1, newSize: 1, proof: [] },
  {
    oldSize: 1,
    newSize: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    oldSize: 6,
    newSize: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    oldSize: 2,
    newSize: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    oldSize: 6,
    newSize: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

// ---------------------------------------------------------------------------
// RFC 9162 §2.1 definitions, transcribed literally. `alg` is any node:crypto
// hash name; leaves are leaf hashes H(0x00 || data).

/** k of RFC 9162 §2.1.1: the largest power of two smaller than n (n > 1). */
export function refSplit(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** An interior node: H(0x01 || left || right). */
export function refNode(alg: string, left: Buffer, right: Buffer): Buffer {
  return createHash(alg).update(Buffer.from([0x01])).update(left).update(right).digest();
}

/** MTH(D[n]) of RFC 9162 §2.1.1. */
export function refMth(alg: string, d: readonly Buffer[]): Buffer {
  if (d.length === 0) return createHash(alg).digest();
  if (d.length === 1) return d[0]!;
  const k = refSplit(d.length);
  return refNode(alg, refMth(alg, d.slice(0, k)), refMth(alg, d.slice(k)));
}

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1. */
export function refPath(alg: string, m: number, d: readonly Buffer[]): Buffer[] {
  if (d.length <= 1) return [];
  const k = refSplit(d.length);
  return m < k
    ? [...refPath(alg, m, d.slice(0, k)), refMth(alg, d.slice(k))]
    : [...refPath(alg, m - k, d.slice(k)), refMth(alg, d.slice(0, k))];
}

/** SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1; PROOF(m, D[n]) is SUBPROOF(m, D[n], true). */
export function refSubproof(alg: string, m: number, d: readonly Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [refMth(alg, d)];
  const k = refSplit(d.length);
  return m <= k
    ? [...refSubproof(alg, m, d.slice(0, k), b), refMth(alg, d.slice(k))]
    : [...refSubproof(alg, m - k, d.slice(k), false), refMth(alg, d.slice(0, k))];
}
