import { describe, expect, it } from 'vitest';
import { assertHashAlgorithm, digestLength, emptyHash, genesisPrev, HASH_ALGORITHMS, leafHash, nodeHash } from '../src/hash.js';
import { createHash } from 'node:crypto';

describe('hash', () => {
  it('genesis prev is the hash of the empty byte string', () => {
    expect(genesisPrev('sha256')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(genesisPrev('sha3-256')).toBe('a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a');
  });

  it('leaf and node hashes use the RFC 9162 domain separation prefixes', () => {
    const bytes = Buffer.from('{"a":1}');
    expect(leafHash('sha256', bytes).toString('hex')).toBe(
      createHash('sha256').update(Buffer.concat([Buffer.from([0]), bytes])).digest('hex'),
    );
    expect(leafHash('sha256', '{"a":1}')).toEqual(leafHash('sha256', bytes));
    const l = leafHash('sha256', 'l');
    const r = leafHash('sha256', 'r');
    expect(nodeHash('sha256', l, r).toString('hex')).toBe(
      createHash('sha256').update(Buffer.concat([Buffer.from([1]), l, r])).digest('hex'),
    );
  });

  it('supports every documented algorithm with its digest length', () => {
    for (const alg of HASH_ALGORITHMS) {
      expect(emptyHash(alg).length).toBe(digestLength(alg));
    }
  });

  it('rejects an unknown algorithm naming the supported ones', () => {
    expect(() => assertHashAlgorithm('md5')).toThrow(/md5.*sha256, sha384, sha512, sha3-256, sha3-512/);
    expect(() => assertHashAlgorithm(256)).toThrow(TypeError);
  });
});
