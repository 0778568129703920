/**
 * core-verify: records/s for verifying a 200,000-record stream with a signed
 * checkpoint every 1,000 records (records given as objects, as a store
 * rebuilds them from columns, with their stored checksums), beside the same
 * run's baseline of JSON.stringify + one SHA-256 per record over the same
 * objects. ratio = ours / baseline.
 */
import * as crypto from 'node:crypto';
import { AuditChain } from '../src/audit-chain.js';
import { Keyring } from '../src/keyring.js';
import { generateNoteKey, parseSignerKey } from '../src/note-keys.js';
import { Verifier } from '../src/verifier.js';
import { realisticEvent } from './fixtures.js';

// The baseline is the conventional one SHA-256 per record,
// createHash('sha256').update(text).digest('hex'). Ours hashes with the
// one-shot crypto.hash where Node has it (>= 20.12); so that the reader can
// tell how much of the ratio that is, the run also measures the baseline
// with the one-shot primitive and prints that ratio too (ratioOneShot).
const oneShot = (crypto as unknown as { hash?: (a: string, d: string, e: 'hex') => string }).hash;
const conventional = (text: string): string => crypto.createHash('sha256').update(text).digest('hex');
const fastest = (text: string): string => (oneShot ? oneShot('sha256', text, 'hex') : conventional(text));

const N = Number(process.env.BENCH_RECORDS ?? 200_000);
const keys = generateNoteKey('bench-key');
const signer = parseSignerKey(keys.signerKey);
const keyring = Keyring.from([keys.verifierKey]);

const chain = new AuditChain({ stream: 'bench/1' });
const rows: { record: object; checksum: string }[] = [];
const checkpoints: string[] = [];
for (let i = 0; i < N; i++) {
  const s = chain.append(realisticEvent(i));
  // A store rebuilds a fresh, mutable object from its columns.
  rows.push({ record: JSON.parse(s.canonical), checksum: s.hash });
  if ((i + 1) % 1000 === 0) checkpoints.push(chain.checkpoint(BigInt(i), [signer]));
}

function baseline(sha256Hex: (text: string) => string): number {
  const start = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < N; i++) sink ^= sha256Hex(JSON.stringify(rows[i]!.record)).charCodeAt(0);
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink === 256) console.log('');
  return N / secs;
}

function ours(): number {
  const start = process.hrtime.bigint();
  const v = new Verifier({ keyring });
  for (const c of checkpoints) v.addCheckpoint(c);
  for (let i = 0; i < N; i++) v.addRecord(rows[i]!.record, rows[i]!.checksum);
  const report = v.finish();
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  if (!report.ok || report.streams[0]!.checkpoints.verified !== N / 1000) throw new Error('benchmark stream did not verify');
  return N / secs;
}

baseline(conventional);
baseline(fastest);
ours();
let b = 0;
let b1 = 0;
let o = 0;
for (let r = 0; r < 3; r++) {
  b = Math.max(b, baseline(conventional));
  b1 = Math.max(b1, baseline(fastest));
  o = Math.max(o, ours());
}
console.log(`core-verify: ours ${Math.round(o)} records/s (${N / 1000} checkpoints verified), baseline (JSON.stringify + createHash sha256) ${Math.round(b)} records/s, ratio ${(o / b).toFixed(3)}; with one-shot crypto.hash in the baseline ${Math.round(b1)} records/s, ratio ${(o / b1).toFixed(3)}`);
console.log(JSON.stringify({
  name: 'core-verify', unit: 'records/s', ours: Math.round(o), baseline: Math.round(b), ratio: Number((o / b).toFixed(3)),
  baselineOneShot: Math.round(b1), ratioOneShot: Number((o / b1).toFixed(3)), records: N, checkpoints: N / 1000,
}));
