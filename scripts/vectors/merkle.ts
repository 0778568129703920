/**
 * Generates `merkle/` (RFC 9162 §2.1): trees with their roots at every size,
 * inclusion and consistency proofs, and mutated proofs that must not verify,
 * cross-checked with a direct transcription of the RFC definitions.
 */
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
  type HashAlgorithm,
} from '@otel-audit/core';
import { CT_INPUTS, CT_ROOTS, refMth, refPath, refSubproof } from '../../packages/core/test/support/rfc9162-reference.js';
import { check, files, put } from './output.js';

// ---------------------------------------------------------------------------
// merkle/: RFC 9162 §2.1, cross-checked with a direct transcription of its
// definitions (packages/core/test/support/rfc9162-reference.ts)

const hexList = (list: readonly Uint8Array[]): string[] => list.map((b) => Buffer.from(b).toString('hex'));
const sameBytes = (a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean =>
  a.length === b.length && a.every((x, i) => Buffer.compare(x, b[i]!) === 0);

interface Tree {
  name: string;
  alg: HashAlgorithm;
  data: Buffer[];
  leaves: Buffer[];
}

function makeTree(name: string, alg: HashAlgorithm, data: Buffer[]): Tree {
  return { name, alg, data, leaves: data.map((d) => leafHash(alg, d)) };
}

/** `published[size]`, when given, is the published root of the first `size` leaves. */
function treeCase(tree: Tree, description: string, published?: readonly string[]): void {
  const roots = [];
  for (let size = 0; size <= tree.leaves.length; size++) {
    const root = merkleRoot(tree.alg, tree.leaves, size);
    check(root.equals(refMth(tree.alg, tree.leaves.slice(0, size))), `merkle ${tree.name}: root at ${size} differs from the RFC definition`);
    if (published !== undefined) {
      check(root.toString('hex') === published[size], `merkle ${tree.name}: root at ${size} differs from the published value`);
    }
    roots.push({ size, root: root.toString('hex') });
  }
  put('merkle', `tree-${tree.name}`, {
    description,
    alg: tree.alg,
    leafData: tree.data.map((d) => d.toString('hex')),
    leaves: hexList(tree.leaves),
    roots,
  });
}

function inclusionCase(tree: Tree, index: number, size: number): void {
  const leaves = tree.leaves.slice(0, size);
  const proof = inclusionProof(tree.alg, index, size, tree.leaves);
  check(sameBytes(proof, refPath(tree.alg, index, leaves)), `merkle ${tree.name}: inclusion ${index}/${size} differs from PATH`);
  const root = merkleRoot(tree.alg, tree.leaves, size);
  check(verifyInclusion(tree.alg, index, size, tree.leaves[index]!, proof, root), `merkle ${tree.name}: inclusion ${index}/${size} does not verify`);
  put('merkle', `inclusion-${tree.name}-i${index}-n${size}`, {
    description: `Inclusion proof of leaf ${index} in the first ${size} leaves of the ${tree.name} tree (RFC 9162 §2.1.3).`,
    alg: tree.alg,
    leaves: hexList(leaves),
    index,
    size,
    leaf: tree.leaves[index]!.toString('hex'),
    proof: hexList(proof),
    root: root.toString('hex'),
    valid: true,
  });
}

function consistencyCase(tree: Tree, oldSize: number, newSize: number): void {
  const leaves = tree.leaves.slice(0, newSize);
  const proof = consistencyProof(tree.alg, oldSize, newSize, tree.leaves);
  check(sameBytes(proof, refSubproof(tree.alg, oldSize, leaves, true)), `merkle ${tree.name}: consistency ${oldSize}/${newSize} differs from PROOF`);
  const oldRoot = merkleRoot(tree.alg, tree.leaves, oldSize);
  const newRoot = merkleRoot(tree.alg, tree.leaves, newSize);
  check(verifyConsistency(tree.alg, oldSize, newSize, oldRoot, newRoot, proof), `merkle ${tree.name}: consistency ${oldSize}/${newSize} does not verify`);
  put('merkle', `consistency-${tree.name}-m${oldSize}-n${newSize}`, {
    description: `Consistency proof between the first ${oldSize} and the first ${newSize} leaves of the ${tree.name} tree (RFC 9162 §2.1.4).`,
    alg: tree.alg,
    leaves: hexList(leaves),
    oldSize,
    newSize,
    oldRoot: oldRoot.toString('hex'),
    newRoot: newRoot.toString('hex'),
    proof: hexList(proof),
    valid: true,
  });
}

function flipFirstByte(hex: string): string {
  return ((parseInt(hex.slice(0, 2), 16) ^ 0x01).toString(16).padStart(2, '0')) + hex.slice(2);
}

/** A mutated copy of a generated inclusion or consistency case that must not verify. */
function negativeCase(source: string, mutation: string, description: string, mutate: (c: Record<string, unknown>) => void): void {
  const text = files.get(`merkle/${source}.json`);
  check(text !== undefined, `merkle: no case ${source} to mutate`);
  const c = JSON.parse(text) as Record<string, unknown>;
  mutate(c);
  c.description = description;
  c.valid = false;
  const alg = c.alg as HashAlgorithm;
  const bytes = (h: unknown): Buffer => Buffer.from(h as string, 'hex');
  const proof = (c.proof as string[]).map(bytes);
  const ok = 'index' in c
    ? verifyInclusion(alg, c.index as number, c.size as number, bytes(c.leaf), proof, bytes(c.root))
    : verifyConsistency(alg, c.oldSize as number, c.newSize as number, bytes(c.oldRoot), bytes(c.newRoot), proof);
  check(!ok, `merkle ${source}-${mutation}: the mutated proof still verifies`);
  put('merkle', `${source}-${mutation}`, c);
}

export function generateMerkle(): void {
  // The RFC 6962 reference tree (certificate-transparency and
  // transparency-dev/merkle test data) and its published roots, sizes 0..8.
  const rfc = makeTree('rfc6962', 'sha256', CT_INPUTS.map((h) => Buffer.from(h, 'hex')));
  treeCase(rfc, 'The RFC 6962 reference tree: 8 leaves of the data given in leafData; roots for every size, as published.', CT_ROOTS);
  for (let size = 1; size <= rfc.leaves.length; size++) {
    for (let index = 0; index < size; index++) inclusionCase(rfc, index, size);
  }
  for (let newSize = 1; newSize <= rfc.leaves.length; newSize++) {
    for (let oldSize = 1; oldSize <= newSize; oldSize++) consistencyCase(rfc, oldSize, newSize);
  }

  const big = makeTree('sha256-77', 'sha256', Array.from({ length: 77 }, (_, i) => Buffer.from(`leaf ${i}`, 'utf8')));
  treeCase(big, 'A 77-leaf sha256 tree (leaf i is the UTF-8 text "leaf <i>"): roots for every size 0..77.');
  for (const [index, size] of [[0, 1], [0, 77], [76, 77], [38, 77], [64, 77], [63, 64], [31, 45], [12, 13], [44, 45], [5, 33]] as const) {
    inclusionCase(big, index, size);
  }
  for (const [oldSize, newSize] of [[1, 77], [32, 77], [64, 77], [63, 64], [45, 77], [7, 8], [33, 65], [76, 77], [77, 77], [13, 50]] as const) {
    consistencyCase(big, oldSize, newSize);
  }

  const sha3 = makeTree('sha3-512-13', 'sha3-512', Array.from({ length: 13 }, (_, i) => Buffer.from([i, i, i])));
  treeCase(sha3, 'A 13-leaf sha3-512 tree (leaf i is the three bytes i, i, i): 64-byte nodes, roots for every size 0..13.');
  inclusionCase(sha3, 9, 13);
  consistencyCase(sha3, 5, 13);

  negativeCase('inclusion-rfc6962-i5-n8', 'flipped-proof-byte', 'Inclusion proof of leaf 5 of 8 with one bit of its first element flipped: must not verify.',
    (c) => { const p = c.proof as string[]; p[0] = flipFirstByte(p[0]!); });
  negativeCase('inclusion-rfc6962-i5-n8', 'wrong-index', 'The proof of leaf 5 of 8 presented for index 4: must not verify.',
    (c) => { c.index = 4; });
  negativeCase('inclusion-rfc6962-i5-n8', 'wrong-size', 'The proof of leaf 5 of 8 presented for a tree of 6 with the same root: must not verify.',
    (c) => { c.size = 6; });
  negativeCase('inclusion-rfc6962-i5-n8', 'extra-proof-element', 'The proof of leaf 5 of 8 with the root appended as a fourth element: must not verify.',
    (c) => { (c.proof as string[]).push(c.root as string); });
  negativeCase('inclusion-rfc6962-i5-n8', 'missing-proof-element', 'The proof of leaf 5 of 8 without its last element: must not verify.',
    (c) => { (c.proof as string[]).pop(); });
  negativeCase('inclusion-sha256-77-i76-n77', 'wrong-leaf', 'The proof of the last leaf of 77 presented for leaf 75\'s hash: must not verify.',
    (c) => { c.leaf = big.leaves[75]!.toString('hex'); });
  negativeCase('consistency-rfc6962-m3-n7', 'flipped-proof-byte', 'Consistency proof 3 → 7 with one bit of its second element flipped: must not verify.',
    (c) => { const p = c.proof as string[]; p[1] = flipFirstByte(p[1]!); });
  negativeCase('consistency-rfc6962-m3-n7', 'wrong-old-root', 'Consistency proof 3 → 7 checked against the root of 2 leaves as the old root: must not verify.',
    (c) => { c.oldRoot = CT_ROOTS[2]; });
  negativeCase('consistency-rfc6962-m4-n8', 'old-root-prepended', 'Consistency proof 4 → 8 (old size a power of two) with the old root wrongly included as first element: must not verify.',
    (c) => { (c.proof as string[]).unshift(c.oldRoot as string); });
  negativeCase('consistency-sha256-77-m32-n77', 'wrong-new-root', 'Consistency proof 32 → 77 checked against the root of 76 leaves as the new root: must not verify.',
    (c) => { c.newRoot = merkleRoot('sha256', big.leaves, 76).toString('hex'); });
}
