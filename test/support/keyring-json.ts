/**
 * The keyring of the checkpoint/ and streams/ test vectors as JSON, and the
 * Keyring it stands for: shared by scripts/generate-vectors.ts, which writes
 * the vectors, and test/vectors.test.ts, which runs them.
 */
import { Keyring } from '@otel-audit/core';

/** One trusted key with its optional window; nanoseconds as decimal strings. */
export interface KeyringEntryJson {
  verifierKey: string;
  notBefore?: string;
  notAfter?: string;
}

export function keyringOf(entries: readonly KeyringEntryJson[]): Keyring {
  const keyring = new Keyring();
  for (const e of entries) {
    keyring.add(e.verifierKey, {
      ...(e.notBefore === undefined ? {} : { notBefore: BigInt(e.notBefore) }),
      ...(e.notAfter === undefined ? {} : { notAfter: BigInt(e.notAfter) }),
    });
  }
  return keyring;
}
