/**
 * core-verify-text: records/s for verifying a 200,000-record stream given as
 * text — the canonical record bytes with their claimed hashes, as read from
 * OTLP JSON lines or a bundle — with a signed checkpoint every 1,000
 * records, beside the same run's baseline of JSON.parse + one SHA-256 per
 * record over the same texts (the least any reader of text must do: parse
 * and hash it). It measures the verifier's text path, which must show each
 * text is its own canonical form (isCanonicalText) before it trusts the
 * claimed hash. ratio = ours / baseline.
 */
import * as crypto from 'node:crypto';
import { AuditChain } from '../src/audit-chain.js';
import { Keyring } from '../src/keyring.js';
import { generateNoteKey, parseSignerKey } from '../src/note-keys.js';
import { Verifier } from '../src/verifier.js';
import { realisticEvent } from './fixtures.js';

const N = Number(process.env.BENCH_RECORDS ?? 200_000);
const keys = generateNoteKey('bench-key');
const signer = parseSignerKey(keys.signerKey);
const keyring = Keyring.from([keys.verifierKey]);

const chain = new AuditChain({ stream: 'bench/1' });
const rows: { text: string; checksum: string }[] = [];
const checkpoints: string[] = [];
for (let i = 0; i < N; i++) {
  const s = chain.append(realisticEvent(i));
  rows.push({ text: s.canonical, checksum: s.hash });
  if ((i + 1) % 1000 === 0) checkpoints.push(chain.checkpoint(BigInt(i), [signer]));
}

function baseline(): number {
  const start = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < N; i++) {
    const text = rows[i]!.text;
    sink ^= (JSON.parse(text) as { seq: number }).seq ^ crypto.createHash('sha256').update(text).digest('hex').charCodeAt(0);
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink === -1) console.log('');
  return N / secs;
}

function ours(): number {
  const start = process.hrtime.bigint();
  const v = new Verifier({ keyring });
  for (const c of checkpoints) v.addCheckpoint(c);
  for (let i = 0; i < N; i++) v.addRecord(rows[i]!.text, rows[i]!.checksum);
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
console.log(`core-verify-text: ours ${Math.round(o)} records/s (${N / 1000} checkpoints verified), baseline (JSON.parse + createHash sha256) ${Math.round(b)} records/s, ratio ${(o / b).toFixed(3)}`);
console.log(JSON.stringify({ name: 'core-verify-text', unit: 'records/s', ours: Math.round(o), baseline: Math.round(b), ratio: Number((o / b).toFixed(3)), records: N, checkpoints: N / 1000 }));
