/**
 * What the Verifier tests share: a signed stream built with AuditChain
 * (a checkpoint every `every` records), its rows as a store gives them, and
 * a run of the verifier over them.
 */
import { AuditChain, type SealedRecord } from '../../src/audit-chain.js';
import { canonicalize } from '../../src/canonical.js';
import { Keyring } from '../../src/keyring.js';
import { generateNoteKey, parseSignerKey } from '../../src/note-keys.js';
import { createRecordId } from '../../src/record-id.js';
import { leafHash } from '../../src/hash.js';
import { Verifier } from '../../src/verifier.js';
import type { VerificationReport } from '../../src/verification-report.js';

export const T0 = 1_700_000_000_000_000_000n;
export const keys = generateNoteKey('test-key.example/audit');
export const signer = parseSignerKey(keys.signerKey);
export const keyring = Keyring.from([keys.verifierKey]);

export interface Built {
  records: SealedRecord[];
  checkpoints: string[];
}

/** A stream of n records with a signed checkpoint every `every` records and none after the last partial block. */
export function build(n: number, every = 10, stream = 'svc/1'): Built {
  const chain = new AuditChain({ stream });
  const records: SealedRecord[] = [];
  const checkpoints: string[] = [];
  for (let i = 0; i < n; i++) {
    records.push(chain.append({
      id: createRecordId(), time: (T0 + BigInt(i)).toString(), type: 'crud', action: 'update',
      outcome: 'success', actor: { id: `user-${i % 3}` }, details: { i },
    }));
    if ((i + 1) % every === 0) checkpoints.push(chain.checkpoint(T0 + BigInt(i), [signer]));
  }
  return { records, checkpoints };
}

export type Row = { record: Record<string, unknown>; checksum: string };
export const rows = (b: Built): Row[] => b.records.map((r) => ({ record: JSON.parse(r.canonical), checksum: r.hash }));

export function verify(checkpoints: string[], input: Row[], opts: { keyring?: Keyring; window?: number } = {}): VerificationReport {
  const v = new Verifier({ keyring: opts.keyring ?? keyring, ...(opts.window ? { reorderWindow: opts.window } : {}) });
  for (const c of checkpoints) v.addCheckpoint(c);
  for (const r of input) v.addRecord(r.record, r.checksum);
  return v.finish();
}

export function codes(report: VerificationReport): string[] {
  return report.streams.flatMap((s) => s.findings.map((f) => `${f.code}@${f.seq ?? f.size}`));
}

export function rehash(record: Record<string, unknown>): string {
  return leafHash('sha256', canonicalize(record)).toString('hex');
}
