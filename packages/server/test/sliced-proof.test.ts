/**
 * The sliced inclusion proof (src/internal/sliced-proof.ts) against core's
 * `inclusionProof`, differentially: every index of small trees, and indexes
 * around the slice boundaries of a tree larger than several slices — the
 * same bytes, and `verifyInclusion` accepts them against `merkleRoot`.
 */
import { createHash } from 'node:crypto';
import { inclusionProof, merkleRoot, verifyInclusion } from '@otel-audit/core';
import { describe, expect, it } from 'vitest';
import { slicedInclusionProof } from '../src/internal/sliced-proof.js';

function leaves(n: number): Buffer {
  return Buffer.concat(Array.from({ length: n }, (_, i) => createHash('sha256').update(`leaf ${i}`).digest()));
}
const leafArray = (buf: Buffer): Buffer[] => Array.from({ length: buf.length / 32 }, (_, i) => buf.subarray(i * 32, (i + 1) * 32));

describe('slicedInclusionProof', () => {
  it('equals core inclusionProof for every index of trees of 1..40 leaves', async () => {
    for (let size = 1; size <= 40; size++) {
      const buf = leaves(size);
      for (let i = 0; i < size; i++) expect(await slicedInclusionProof('sha256', i, size, buf)).toEqual(inclusionProof('sha256', i, size, leafArray(buf)));
    }
  });

  it('equals core inclusionProof across slice boundaries of a 20,001-leaf tree and verifies against its root', async () => {
    const size = 20_001;
    const buf = leaves(size);
    const arr = leafArray(buf);
    const root = merkleRoot('sha256', arr, size);
    for (const i of [0, 1, 8191, 8192, 8193, 16383, 16384, 20_000]) {
      const proof = await slicedInclusionProof('sha256', i, size, buf);
      expect(proof).toEqual(inclusionProof('sha256', i, size, arr));
      expect(verifyInclusion('sha256', i, size, arr[i]!, proof, root)).toBe(true);
    }
  });
});
