/**
 * Generates `record-hash/` (DESIGN §4.1–4.2): a full record per hash
 * algorithm and a producer input that normalisation changes, each with its
 * canonical text and leaf hash, cross-checked with node:crypto.
 */
import { createHash } from 'node:crypto';
import {
  canonicalize,
  genesisPrev,
  HASH_ALGORITHMS,
  leafHash,
  normalizeRecord,
  type AuditRecordInput,
  type HashAlgorithm,
} from '@otel-audit/core';
import { fixedId, independentLeafHash, T0 } from './fixtures.js';
import { check, put } from './output.js';

// ---------------------------------------------------------------------------
// record-hash/: §4.1–4.2

export function generateRecordHash(): void {
  for (const alg of HASH_ALGORITHMS) {
    const input: AuditRecordInput = {
      v: 1,
      alg,
      stream: `billing-api/test-vectors-${alg}`,
      seq: 0,
      prev: genesisPrev(alg),
      id: fixedId(T0 / 1_000_000n, `record-hash ${alg}`),
      time: T0.toString(),
      type: 'crud',
      action: 'update',
      outcome: 'success',
      severity: 'info',
      actor: { id: 'u-1001', type: 'user', ip: '2001:db8::7', user_agent: 'Mozilla/5.0 (X11; Linux x86_64)' },
      target: { type: 'invoice', id: 'inv-2024-0042', name: 'Rechnung Nr. 42 — Müller & Söhne' },
      request: {
        id: 'req-7f3a', session_id: 'sess-91', endpoint: '/api/invoices/:id', method: 'PATCH',
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7',
      },
      details: { reason: 'customer asked', items: [1, 2.5, -3e-7, 1e21], flags: { urgent: true, note: null }, 'ключ': '値', '\ud83d\ude00': 'emoji key' },
      old: { amount: 100, currency: 'EUR', password: '[REDACTED]' },
      new: { amount: 120.75, currency: 'EUR', password: '[REDACTED]' },
      redacted: ['/old/password', '/new/password'],
    };
    const record = normalizeRecord(input);
    const canonical = canonicalize(record);
    const hash = leafHash(alg, canonical).toString('hex');
    check(hash === independentLeafHash(alg, canonical), `record-hash ${alg}: leafHash differs from H(0x00 || canonical)`);
    check(record.alg === alg, `record-hash ${alg}: record.alg is ${record.alg}`);
    const genesis = genesisPrev(alg);
    check(genesis === createHash(alg).digest('hex'), `record-hash ${alg}: genesisPrev is not the hash of the empty string`);
    put('record-hash', `record-${alg}`, {
      description: `A full record of a ${alg} stream at seq 0 (prev = genesis prev), with every member of DESIGN §4.1.`,
      alg,
      record: JSON.parse(canonical),
      canonical,
      hash,
      genesisPrev: genesis,
    });
  }

  // Producer input that normalisation changes (JSON-representable), and the record it becomes.
  const alg: HashAlgorithm = 'sha256';
  const input = {
    alg,
    stream: 'billing-api/test-vectors-sha256',
    seq: 1,
    prev: 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855',
    id: fixedId(T0 / 1_000_000n + 1n, 'record-hash minimal').toUpperCase(),
    time: (T0 + 1n).toString(),
    type: 'auth',
    action: 'logout',
    outcome: null,
    actor: { id: 42, ip: null },
    target: {},
    details: { kept: null, token: '[REDACTED]', password: '[REDACTED]' },
    redacted: ['/details/token', '/details/password', '/details/token'],
  };
  const record = normalizeRecord(input);
  const canonical = canonicalize(record);
  const hash = leafHash(alg, canonical).toString('hex');
  check(hash === independentLeafHash(alg, canonical), 'record-hash normalised: hash');
  put('record-hash', 'record-sha256-normalised', {
    description:
      'Producer input and the record normalisation makes of it (DESIGN §4.1): v added, outcome "unknown" and severity "info" by default, ' +
      'null members and the empty target omitted, numeric actor.id as a decimal string, id and prev lower-cased, redacted sorted and ' +
      'de-duplicated; nested nulls in details kept.',
    alg,
    input,
    record: JSON.parse(canonical),
    canonical,
    hash,
    genesisPrev: genesisPrev(alg),
  });
}
