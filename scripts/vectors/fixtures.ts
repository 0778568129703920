/**
 * Fixed inputs shared by several vector families: the three public Ed25519
 * test keys (seed = SHA-256 of a label), the base time T0, the fixed UUIDv7
 * ids and the independent leaf hash (node:crypto) the generators cross-check
 * against.
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import {
  formatVerifierKey,
  noteKeyHash,
  parseSignerKey,
  type HashAlgorithm,
  type NoteSigner,
} from '@otel-audit/core';
import { check } from './output.js';

// ---------------------------------------------------------------------------
// Fixed test keys (never use them for anything but tests)

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface TestKey {
  name: string;
  signerKey: string;
  verifierKey: string;
  signer: NoteSigner;
}

/** A signed-note key whose 32-byte seed is SHA-256(seedLabel). */
function testKey(name: string, seedLabel: string): TestKey {
  const seed = createHash('sha256').update(seedLabel, 'utf8').digest();
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKey = Buffer.from(spki.subarray(spki.length - 32));
  const hash = noteKeyHash(name, publicKey).toString(16).padStart(8, '0');
  const signerKey = `PRIVATE+KEY+${name}+${hash}+${Buffer.concat([Buffer.from([0x01]), seed]).toString('base64')}`;
  const verifierKey = formatVerifierKey(name, publicKey);
  const signer = parseSignerKey(signerKey);
  check(signer.verifierKey === verifierKey, `test key ${name}: signer and verifier keys disagree`);
  return { name, signerKey, verifierKey, signer };
}

export const TRUSTED = testKey('otel-audit-TEST-KEY-do-not-use', 'otel-audit test vectors');
export const ROTATED = testKey('otel-audit-TEST-KEY-2-do-not-use', 'otel-audit test vectors: second key');
export const UNTRUSTED = testKey('otel-audit-TEST-KEY-untrusted-do-not-use', 'otel-audit test vectors: untrusted key');

// ---------------------------------------------------------------------------
// Fixed times and ids, and the independent leaf hash

export const T0 = 1_731_000_000_000_000_000n;

/** A UUIDv7 for `ms` with rand bits derived from `label`, fixed for the vectors. */
export function fixedId(ms: bigint, label: string): string {
  const r = createHash('sha256').update(label, 'utf8').digest('hex');
  const t = ms.toString(16).padStart(12, '0');
  const variant = ((parseInt(r[3]!, 16) & 0x3) | 0x8).toString(16);
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${r.slice(0, 3)}-${variant}${r.slice(4, 7)}-${r.slice(7, 19)}`;
}

export function independentLeafHash(alg: HashAlgorithm, canonical: string): string {
  return createHash(alg).update(Buffer.from([0x00])).update(canonical, 'utf8').digest('hex');
}
