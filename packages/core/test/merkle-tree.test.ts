/**
 * Tests of CompactRange, the Merkle log state of a stream (RFC 9162 §2.1.1):
 * the published Certificate Transparency reference vectors, a differential
 * check against a straight transcription of the RFC's recursive MTH
 * definition for every size 0..300, snapshot/restore, and misuse.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestLength, emptyHash, HASH_ALGORITHMS, leafHash, type HashAlgorithm } from '../src/hash.js';
import { compactRangeAt, merkleRoot } from '../src/merkle-proof.js';
import { CompactRange, type CompactRangeState } from '../src/merkle-tree.js';
import { CT_COMPACT, CT_INPUTS, CT_NODES, CT_ROOTS, refMth } from './support/rfc9162-reference.js';

const ctLeaves = (): Buffer[] => CT_INPUTS.map((hex) => leafHash('sha256', Buffer.from(hex, 'hex')));

const randomLeaves = (alg: HashAlgorithm, n: number): Buffer[] =>
  Array.from({ length: n }, () => leafHash(alg, randomBytes(1 + Math.floor(Math.random() * 40))));

describe('CompactRange', () => {
  it('reproduces the Certificate Transparency reference roots, leaf-by-leaf', () => {
    const leaves = ctLeaves();
    expect(leaves.map((l) => l.toString('hex'))).toEqual(CT_NODES[0]);
    const log = new CompactRange('sha256');
    expect(log.size).toBe(0);
    expect(log.rootHex()).toBe(CT_ROOTS[0]);
    leaves.forEach((leaf, i) => {
      log.append(leaf);
      expect(log.size).toBe(i + 1);
      expect(log.rootHex()).toBe(CT_ROOTS[i + 1]);
    });
  });

  it('holds exactly the reference compact range (perfect-subtree roots, largest first) at each size', () => {
    const leaves = ctLeaves();
    const log = new CompactRange('sha256');
    for (let size = 0; size <= 8; size++) {
      if (size > 0) log.append(leaves[size - 1]!);
      expect(log.state()).toEqual({ size, hashes: CT_COMPACT[size] });
      expect(compactRangeAt('sha256', leaves, size)).toEqual(log.state());
    }
  });

  it('the empty tree root is the hash of the empty string, for every algorithm', () => {
    expect(new CompactRange('sha256').rootHex()).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    for (const alg of HASH_ALGORITHMS) {
      expect(new CompactRange(alg).root()).toEqual(emptyHash(alg));
    }
  });

  it('root equals merkleRoot and the recursive RFC definition for every size 0..300', () => {
    const leaves = randomLeaves('sha256', 300);
    const log = new CompactRange('sha256');
    for (let size = 0; size <= 300; size++) {
      if (size > 0) log.append(leaves[size - 1]!);
      const want = refMth('sha256', leaves.slice(0, size));
      expect(log.root()).toEqual(want);
      expect(merkleRoot('sha256', leaves, size)).toEqual(want);
    }
  });

  it.each([...HASH_ALGORITHMS])('works with %s', (alg) => {
    const leaves = randomLeaves(alg, 70);
    const log = new CompactRange(alg);
    expect(log.algorithm).toBe(alg);
    for (let size = 1; size <= 70; size++) {
      log.append(leaves[size - 1]!);
      const root = log.root();
      expect(root.length).toBe(digestLength(alg));
      expect(root).toEqual(refMth(alg, leaves.slice(0, size)));
    }
    const restored = CompactRange.restore(alg, JSON.parse(JSON.stringify(log.state())) as CompactRangeState);
    expect(restored.root()).toEqual(log.root());
  });

  it('a restored snapshot continues exactly like the uninterrupted log', () => {
    const n = 150;
    const leaves = randomLeaves('sha256', n);
    const full = new CompactRange('sha256');
    const states: CompactRangeState[] = [];
    const roots: string[] = [];
    for (let size = 0; size <= n; size++) {
      if (size > 0) full.append(leaves[size - 1]!);
      states.push(JSON.parse(JSON.stringify(full.state())) as CompactRangeState);
      roots.push(full.rootHex());
    }
    for (let from = 0; from <= n; from++) {
      const log = CompactRange.restore('sha256', states[from]!);
      expect(log.size).toBe(from);
      expect(log.rootHex()).toBe(roots[from]);
      for (let size = from + 1; size <= n; size++) {
        log.append(leaves[size - 1]!);
        if (size - from <= 3 || size === n) expect(log.rootHex()).toBe(roots[size]);
      }
      expect(log.state()).toEqual(full.state());
    }
  });

  it('state() is a detached snapshot and restore() accepts huge sizes', () => {
    const log = new CompactRange('sha256');
    log.append(ctLeaves()[0]!);
    const s = log.state();
    s.hashes[0] = '00'.repeat(32);
    expect(log.rootHex()).toBe(CT_ROOTS[1]);
    // 2^53 - 1 has 53 set bits: the largest log a JS number can count.
    const h = '11'.repeat(32);
    const big = CompactRange.restore('sha256', { size: Number.MAX_SAFE_INTEGER, hashes: Array(53).fill(h) });
    expect(big.size).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => big.append(ctLeaves()[0]!)).toThrow(RangeError);
    const almost = CompactRange.restore('sha256', { size: 2 ** 52 - 1, hashes: Array(52).fill(h) });
    almost.append(ctLeaves()[0]!);
    expect(almost.size).toBe(2 ** 52);
    expect(almost.state().hashes).toHaveLength(1);
  });

  it('copies the appended leaf: the caller may reuse its buffer', () => {
    const leaves = ctLeaves();
    const scratch = Buffer.alloc(32);
    const log = new CompactRange('sha256');
    for (const leaf of leaves.slice(0, 7)) {
      leaf.copy(scratch);
      log.append(scratch);
      scratch.fill(0xee);
    }
    expect(log.rootHex()).toBe(CT_ROOTS[7]);
    // root() of a single leaf must not expose internal storage either.
    const one = new CompactRange('sha256');
    one.append(leaves[0]!);
    one.root().fill(0);
    expect(one.rootHex()).toBe(CT_ROOTS[1]);
  });

  it('clone() is independent of the original, also with a pending odd leaf', () => {
    const leaves = ctLeaves();
    const log = new CompactRange('sha256');
    for (const leaf of leaves.slice(0, 5)) log.append(leaf);
    const copy = log.clone();
    // Growing the original rewrites its storage for the lone 5th leaf.
    log.append(leaves[5]!);
    log.append(leaves[6]!);
    expect(log.rootHex()).toBe(CT_ROOTS[7]);
    expect(copy.size).toBe(5);
    expect(copy.rootHex()).toBe(CT_ROOTS[5]);
    copy.append(leaves[5]!);
    expect(copy.rootHex()).toBe(CT_ROOTS[6]);
    copy.append(leaves[0]!); // a different 7th leaf
    expect(copy.rootHex()).not.toBe(CT_ROOTS[7]);
    expect(log.rootHex()).toBe(CT_ROOTS[7]);
    expect(log.size).toBe(7);
  });

  it('rejects a malformed leaf or algorithm naming the argument', () => {
    const log = new CompactRange('sha256');
    expect(() => log.append(Buffer.alloc(31))).toThrow(/^leaf must be 32 bytes/);
    expect(() => log.append(Buffer.alloc(48))).toThrow(RangeError);
    expect(() => log.append('ab'.repeat(32) as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => log.append(null as unknown as Uint8Array)).toThrow(/^leaf must be a Uint8Array/);
    expect(log.size).toBe(0);
    expect(() => new CompactRange('md5' as HashAlgorithm)).toThrow(/^alg "md5" is not supported/);
    expect(() => new CompactRange('sha384').append(Buffer.alloc(32))).toThrow(/48 bytes/);
  });

  const h32 = 'ab'.repeat(32);
  const badStates: Array<[string, unknown, ErrorConstructor, RegExp]> = [
    ['null', null, TypeError, /^state must be an object/],
    ['a string', '{"size":0,"hashes":[]}', TypeError, /^state must be an object/],
    ['size missing', { hashes: [] }, TypeError, /^state\.size/],
    ['size as a string', { size: '1', hashes: [h32] }, TypeError, /^state\.size/],
    ['negative size', { size: -1, hashes: [] }, RangeError, /^state\.size/],
    ['fractional size', { size: 1.5, hashes: [h32] }, RangeError, /^state\.size/],
    ['NaN size', { size: NaN, hashes: [] }, RangeError, /^state\.size/],
    ['size beyond 2^53-1', { size: 2 ** 53, hashes: [h32] }, RangeError, /^state\.size/],
    ['hashes missing', { size: 0 }, TypeError, /^state\.hashes/],
    ['too few hashes', { size: 3, hashes: [h32] }, RangeError, /^state\.hashes must hold 2/],
    ['too many hashes', { size: 4, hashes: [h32, h32] }, RangeError, /^state\.hashes must hold 1/],
    ['hashes for an empty tree', { size: 0, hashes: [h32] }, RangeError, /^state\.hashes must hold 0/],
    ['a non-string hash', { size: 1, hashes: [Buffer.alloc(32)] }, TypeError, /^state\.hashes\[0\]/],
    ['uppercase hex', { size: 1, hashes: [h32.toUpperCase()] }, RangeError, /^state\.hashes\[0\] must be 64 lowercase/],
    ['short hash', { size: 2, hashes: ['ab'.repeat(31)] }, RangeError, /^state\.hashes\[0\]/],
    ['sha384-length hash', { size: 1, hashes: ['ab'.repeat(48)] }, RangeError, /^state\.hashes\[0\]/],
    ['non-hex', { size: 3, hashes: [h32, 'zz'.repeat(32)] }, RangeError, /^state\.hashes\[1\]/],
    ['odd-length hex', { size: 1, hashes: [`${h32}a`] }, RangeError, /^state\.hashes\[0\]/],
  ];
  it.each(badStates)('restore rejects %s', (_name, state, type, message) => {
    expect(() => CompactRange.restore('sha256', state as CompactRangeState)).toThrow(type);
    expect(() => CompactRange.restore('sha256', state as CompactRangeState)).toThrow(message);
  });
});
