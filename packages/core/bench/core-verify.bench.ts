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

const oneShot = (crypto as unknown as { hash?: (a: string, d: string, e: 'hex') => string }).hash;
const sha256Hex = (text: string): string =>
  oneShot ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');

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

function baseline(): number {
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

baseline();
ours();
let b = 0;
let o = 0;
for (let r = 0; r < 3; r++) {
  b = Math.max(b, baseline());
  o = Math.max(o, ours());
}
console.log(`core-verify: ours ${Math.round(o)} records/s (${N / 1000} checkpoints verified), baseline (JSON.stringify + sha256) ${Math.round(b)} records/s`);
console.log(JSON.stringify({ name: 'core-verify', unit: 'records/s', ours: Math.round(o), baseline: Math.round(b), ratio: Number((o / b).toFixed(3)), records: N, checkpoints: N / 1000 }));
