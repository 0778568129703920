/**
 * core-append: records/s for normalize → canonicalize → hash → Merkle append
 * over 200,000 realistic records, beside the same run's baseline of
 * JSON.stringify + one SHA-256 per record. ratio = ours / baseline.
 */
import * as crypto from 'node:crypto';
import { AuditChain } from '../src/audit-chain.js';
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
const events = Array.from({ length: N }, (_, i) => realisticEvent(i));

function baseline(sha256Hex: (text: string) => string): number {
  const start = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < N; i++) {
    const text = JSON.stringify(events[i]);
    sink ^= sha256Hex(text).charCodeAt(0);
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink === 256) console.log('');
  return N / secs;
}

function ours(): { rate: number; bytes: number } {
  const start = process.hrtime.bigint();
  // AuditChain.append: normalize → canonicalize → hash → Merkle append.
  const chain = new AuditChain({ stream: 'bench/1', alg: 'sha256' });
  let bytes = 0;
  for (let i = 0; i < N; i++) bytes += chain.append(events[i]!).canonical.length;
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  return { rate: N / secs, bytes: bytes / N };
}

// Warm up both paths, then alternate and keep the best of three each.
baseline(conventional);
baseline(fastest);
ours();
let b = 0;
let b1 = 0;
let o = { rate: 0, bytes: 0 };
for (let r = 0; r < 3; r++) {
  b = Math.max(b, baseline(conventional));
  b1 = Math.max(b1, baseline(fastest));
  const x = ours();
  if (x.rate > o.rate) o = x;
}
console.log(`core-append: ours ${Math.round(o.rate)} records/s, baseline (JSON.stringify + createHash sha256) ${Math.round(b)} records/s, ratio ${(o.rate / b).toFixed(3)}; with one-shot crypto.hash in the baseline ${Math.round(b1)} records/s, ratio ${(o.rate / b1).toFixed(3)}; ~${Math.round(o.bytes)} bytes/record`);
console.log(JSON.stringify({
  name: 'core-append', unit: 'records/s', ours: Math.round(o.rate), baseline: Math.round(b), ratio: Number((o.rate / b).toFixed(3)),
  baselineOneShot: Math.round(b1), ratioOneShot: Number((o.rate / b1).toFixed(3)), records: N, bytesPerRecord: Math.round(o.bytes),
}));
