/**
 * Generates `streams/` (DESIGN §4.4): whole streams of sealed records with
 * signed checkpoints — intact, and negatives named by their mutation — each
 * with the findings a verifier must report, checked against Verifier.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import {
  AuditChain,
  canonicalize,
  emptyHash,
  leafHash,
  merkleRoot,
  normalizeRecord,
  signCheckpoint,
  Verifier,
  type AuditEventInput,
  type AuditRecordInput,
  type HashAlgorithm,
  type NoteSigner,
} from '@otel-audit/core';
import { keyringOf, type KeyringEntryJson } from '../../test/support/keyring-json.js';
import { flipSignatureByte } from './checkpoint.js';
import { fixedId, independentLeafHash, ROTATED, T0, TRUSTED, UNTRUSTED } from './fixtures.js';
import { check, put } from './output.js';

// ---------------------------------------------------------------------------
// streams/: §4.4

interface Row {
  record: Record<string, unknown>;
  checksum: string;
}

interface CheckpointAt {
  size: number;
  rootHex: string;
  time: bigint;
}

interface BuiltStream {
  stream: string;
  alg: HashAlgorithm;
  rows: Row[];
  checkpoints: CheckpointAt[];
}

interface FindingJson {
  code: string;
  seq?: number;
  lastSeq?: number;
  size?: number;
}

const RECORDS = 25;
const recordTime = (i: number): bigint => T0 + BigInt(i) * 1_250_000_000n;
const checkpointTime = (size: number): bigint => recordTime(size - 1) + 500_000_000n;

/** The event of record i: a plausible mix of what a service audits. */
function event(stream: string, i: number): AuditEventInput {
  const id = fixedId(recordTime(i) / 1_000_000n, `${stream} ${i}`);
  const base = { id, time: recordTime(i) };
  const user = `u-${1000 + (i % 4)}`;
  const actor = { id: user, type: 'user', ip: `198.51.100.${10 + (i % 7)}` };
  switch (i % 6) {
    case 0:
      return { ...base, type: 'auth', action: 'login', outcome: 'success', actor, details: { method: 'password', mfa: 'totp', n: i } };
    case 1:
      return {
        ...base, type: 'auth', action: 'login', outcome: 'failure', severity: 'warning', actor: { ...actor, user_agent: 'curl/8.5.0' },
        details: { note: 'bad password', attempt: (i % 3) + 1 }, error: 'invalid credentials',
      };
    case 2:
      return {
        ...base, type: 'crud', action: 'update', outcome: 'success', actor,
        target: { type: 'invoice', id: `inv-${i}`, name: `Invoice ${i} — Müller GmbH` },
        request: { id: `req-${i}`, method: 'PATCH', endpoint: '/api/invoices/:id', trace_id: createHash('md5').update(`t${i}`).digest('hex') },
        old: { amount: 100 + i, status: 'draft' }, new: { amount: 100.5 + i, status: 'sent' }, details: { n: i },
      };
    case 3:
      return {
        ...base, type: 'access', action: 'view', outcome: 'success', actor, target: { type: 'report', id: `r-${i}` },
        details: { note: 'quarterly report', rows: 1200 + i, filters: { region: 'EU', year: 2024 } },
      };
    case 4:
      return {
        ...base, type: 'admin', action: 'grant', outcome: 'success', severity: 'warning', actor: { id: 'admin-1', type: 'user' },
        target: { type: 'user', id: user }, details: { role: 'billing-editor', n: i, api_key: '[REDACTED]' }, redacted: ['/details/api_key'],
      };
    default:
      return {
        ...base, type: 'security', action: 'rate_limit', outcome: 'failure', severity: 'error', actor: { type: 'anonymous', ip: '203.0.113.9' },
        request: { method: 'POST', endpoint: '/auth/login' }, details: { note: 'limit exceeded', limit: 10, window_s: 60, n: i },
      };
  }
}

/** 25 records sealed by AuditChain, with checkpoints (root, time) after 10, 20 and 25. */
function buildStream(stream: string, alg: HashAlgorithm, edit: (i: number, e: AuditEventInput) => AuditEventInput = (_, e) => e): BuiltStream {
  const chain = new AuditChain({ stream, alg });
  const rows: Row[] = [];
  const checkpoints: CheckpointAt[] = [];
  for (let i = 0; i < RECORDS; i++) {
    const sealed = chain.append(edit(i, event(stream, i)));
    check(sealed.hash === independentLeafHash(alg, sealed.canonical), `stream ${stream}: record ${i} hash`);
    rows.push({ record: JSON.parse(sealed.canonical) as Record<string, unknown>, checksum: sealed.hash });
    const size = i + 1;
    if (size % 10 === 0 || size === RECORDS) {
      const at = { size, rootHex: chain.rootHex(), time: checkpointTime(size) };
      check(chain.checkpoint(at.time, [TRUSTED.signer]) === sign(stream, at, [TRUSTED.signer]), `stream ${stream}: checkpoint ${size}`);
      checkpoints.push(at);
    }
  }
  check(
    merkleRoot(alg, rows.map((r) => Buffer.from(r.checksum, 'hex')), RECORDS).toString('hex') === chain.rootHex(),
    `stream ${stream}: chain root differs from merkleRoot over the checksums`,
  );
  return { stream, alg, rows, checkpoints };
}

function sign(stream: string, at: CheckpointAt, signers: readonly NoteSigner[]): string {
  return signCheckpoint({ origin: stream, size: at.size, rootHash: at.rootHex, timeUnixNano: at.time }, signers, { allowUnsigned: signers.length === 0 });
}

const clone = <T>(value: T): T => structuredClone(value);

/** Re-seals an edited record the way an attacker with the code would: normalise, canonicalize, hash. */
function reseal(alg: HashAlgorithm, record: Record<string, unknown>): Row {
  const normalised = normalizeRecord(record as unknown as AuditRecordInput);
  const canonical = canonicalize(normalised);
  return { record: JSON.parse(canonical) as Record<string, unknown>, checksum: leafHash(alg, canonical).toString('hex') };
}

function pick(f: FindingJson): FindingJson {
  return {
    code: f.code,
    ...(f.seq === undefined ? {} : { seq: f.seq }),
    ...(f.lastSeq === undefined ? {} : { lastSeq: f.lastSeq }),
    ...(f.size === undefined ? {} : { size: f.size }),
  };
}

function streamCase(
  name: string,
  description: string,
  input: { keyring: KeyringEntryJson[]; records: Row[]; checkpoints: string[] },
  expected: { ok: boolean; findings: FindingJson[] },
): void {
  const verifier = new Verifier({ keyring: keyringOf(input.keyring) });
  for (const note of input.checkpoints) verifier.addCheckpoint(note);
  for (const row of input.records) verifier.addRecord(clone(row.record), row.checksum);
  const report = verifier.finish();
  const findings = report.streams.flatMap((s) => s.findings.map(pick));
  const actual = { ok: report.ok, findings };
  check(
    isDeepStrictEqual(actual, expected),
    `streams/${name}: the verifier reports ${JSON.stringify(actual)}, the case declares ${JSON.stringify(expected)}`,
  );
  put('streams', name, { description, keyring: input.keyring, records: input.records, checkpoints: input.checkpoints, expected });
}

export function generateStreams(): void {
  const stream = 'billing-api/test-vectors-sha256';
  const alg: HashAlgorithm = 'sha256';
  const base = buildStream(stream, alg);
  const keyring: KeyringEntryJson[] = [{ verifierKey: TRUSTED.verifierKey }];
  const notes = (signers: readonly NoteSigner[] = [TRUSTED.signer], b: BuiltStream = base): string[] =>
    b.checkpoints.map((at) => sign(b.stream, at, signers));
  const rows = (): Row[] => clone(base.rows);
  const intact = { keyring, records: base.rows, checkpoints: notes() };

  streamCase('intact',
    `${RECORDS} sha256 records with signed checkpoints at sizes 10, 20 and 25: nothing to report.`,
    intact, { ok: true, findings: [] });

  {
    const records = rows();
    const details = records[7]!.record.details as Record<string, unknown>;
    const note = details.note as string;
    details.note = String.fromCharCode(note.charCodeAt(0) ^ 0x01) + note.slice(1);
    streamCase('flip-bit-in-details',
      `One bit flipped in details.note of seq 7 ("${note}" → "${details.note as string}"), stored checksum kept: the record no longer hashes to its checksum ` +
        '(hash_mismatch at 7); the recomputed tree no longer matches the checkpoints at sizes 10, 20 and 25 (root_mismatch, one per checkpoint); ' +
        'no checkpoint verifies, so every record is an unsigned tail.',
      { ...intact, records },
      {
        ok: false,
        findings: [
          { code: 'hash_mismatch', seq: 7 }, { code: 'root_mismatch', seq: 9, size: 10 }, { code: 'root_mismatch', seq: 19, size: 20 },
          { code: 'root_mismatch', seq: 24, size: 25 }, { code: 'unsigned_tail', seq: 0, lastSeq: 24 },
        ],
      });
  }
  {
    const records = rows();
    (records[12]!.record.actor as Record<string, unknown>).id = 'mallory';
    records[12] = reseal(alg, records[12]!.record);
    streamCase('edit-actor-and-rehash',
      'actor.id of seq 12 changed to "mallory" and its checksum recomputed: seq 13 no longer links to it (chain_break at 13) and ' +
        'the checkpoints at sizes 20 and 25 no longer match (root_mismatch for each); records after the last verified checkpoint (10) are an unsigned tail.',
      { ...intact, records },
      {
        ok: false,
        findings: [
          { code: 'chain_break', seq: 13 }, { code: 'root_mismatch', seq: 19, size: 20 }, { code: 'root_mismatch', seq: 24, size: 25 },
          { code: 'unsigned_tail', seq: 10, lastSeq: 24 },
        ],
      });
  }
  streamCase('deleted-record',
    'The record at seq 5 removed: seq_gap 5..5. The tree cannot be rebuilt past the gap, so no checkpoint can be checked and all records are an unsigned tail.',
    { ...intact, records: base.rows.filter((_, i) => i !== 5) },
    { ok: false, findings: [{ code: 'seq_gap', seq: 5, lastSeq: 5 }, { code: 'unsigned_tail', seq: 0, lastSeq: 24 }] });
  {
    const records = rows();
    const third = records[3]!.record;
    const fourth = records[4]!.record;
    records[3] = reseal(alg, { ...fourth, seq: 3, prev: records[2]!.checksum });
    records[4] = reseal(alg, { ...third, seq: 4, prev: records[3].checksum });
    streamCase('swapped-3-4',
      'The events at seq 3 and 4 swapped, with seq and prev rewritten and both rehashed so that they chain: seq 5 still links to the old seq 4 ' +
        '(chain_break at 5) and no checkpoint matches any more (root_mismatch at sizes 10, 20 and 25).',
      { ...intact, records },
      {
        ok: false,
        findings: [
          { code: 'chain_break', seq: 5 }, { code: 'root_mismatch', seq: 9, size: 10 }, { code: 'root_mismatch', seq: 19, size: 20 },
          { code: 'root_mismatch', seq: 24, size: 25 }, { code: 'unsigned_tail', seq: 0, lastSeq: 24 },
        ],
      });
  }
  {
    const records = rows();
    const forged = reseal(alg, { ...records[3]!.record, id: fixedId(recordTime(3) / 1_000_000n, 'forged'), action: 'delete' });
    records.splice(4, 0, forged);
    streamCase('duplicate-seq',
      'A second, different record claiming seq 3 (new id, action "delete", self-consistent hash) inserted after the genuine one: duplicate at 3.',
      { ...intact, records },
      { ok: false, findings: [{ code: 'duplicate', seq: 3 }] });
  }
  {
    const b = buildStream(stream, alg, (i, e) => (i === 6 ? { ...e, id: event(stream, 5).id } : e));
    streamCase('duplicate-id',
      'The producer sealed the event at seq 6 with the id of seq 5 (a retried event sealed twice); chain and checkpoints are otherwise consistent: duplicate at 6.',
      { keyring, records: b.rows, checkpoints: notes([TRUSTED.signer], b) },
      { ok: false, findings: [{ code: 'duplicate', seq: 6 }] });
  }
  streamCase('truncated-tail',
    'The newest 3 records (seq 22..24) removed: the signed checkpoint at size 25 covers records that are not there (truncated, found at seq 22); ' +
      'records 20..21 after the last verified checkpoint are an unsigned tail.',
    { ...intact, records: base.rows.slice(0, 22) },
    { ok: false, findings: [{ code: 'truncated', seq: 22, size: 25 }, { code: 'unsigned_tail', seq: 20, lastSeq: 21 }] });
  streamCase('unsigned-tail',
    'No checkpoint after size 20: records 20..24 are covered by no signature. A warning only, so the stream is ok.',
    { ...intact, checkpoints: notes().slice(0, 2) },
    { ok: true, findings: [{ code: 'unsigned_tail', seq: 20, lastSeq: 24 }] });
  {
    const checkpoints = notes();
    checkpoints[1] = flipSignatureByte(checkpoints[1]!);
    streamCase('bad-signature',
      'One bit flipped in the signature of the checkpoint at size 20: bad_signature. The checkpoint at size 25 still verifies.',
      { ...intact, checkpoints },
      { ok: false, findings: [{ code: 'bad_signature', size: 20 }] });
  }
  streamCase('stripped-signatures',
    'The signature lines removed from every checkpoint while trusted keys are given: a checkpoint with no valid trusted signature fails (bad_signature), so nothing is covered.',
    { ...intact, checkpoints: notes([]) },
    { ok: false, findings: [{ code: 'bad_signature', size: 10 }, { code: 'bad_signature', size: 20 }, { code: 'bad_signature', size: 25 }, { code: 'unsigned_tail', seq: 0, lastSeq: 24 }] });
  streamCase('keyless-unsigned',
    'A deployment without a signing key writes unsigned checkpoints and is verified without keys: roots are still compared, and the stream is reported as an unsigned tail (a warning).',
    { ...intact, keyring: [], checkpoints: notes([]) },
    { ok: true, findings: [{ code: 'unsigned_tail', seq: 0, lastSeq: 24 }] });
  streamCase('unknown-key',
    'Every checkpoint signed by a key that is not in the keyring: unknown_key for each, and no record is covered by a trusted signature.',
    { ...intact, checkpoints: notes([UNTRUSTED.signer]) },
    { ok: false, findings: [{ code: 'unknown_key', size: 10 }, { code: 'unknown_key', size: 20 }, { code: 'unknown_key', size: 25 }, { code: 'unsigned_tail', seq: 0, lastSeq: 24 }] });
  streamCase('key-out-of-window',
    'The trusted key was retired at the time of the checkpoint at size 10 (notAfter = that time, inclusive): the later checkpoints fall outside its window.',
    { ...intact, keyring: [{ verifierKey: TRUSTED.verifierKey, notAfter: checkpointTime(10).toString() }] },
    { ok: false, findings: [{ code: 'key_out_of_window', size: 20 }, { code: 'key_out_of_window', size: 25 }, { code: 'unsigned_tail', seq: 10, lastSeq: 24 }] });
  {
    const rotatedAt = checkpointTime(10) + 1n;
    const checkpoints = base.checkpoints.map((at) => sign(stream, at, [at.size <= 10 ? TRUSTED.signer : ROTATED.signer]));
    streamCase('key-rotation',
      'The first key signs until the checkpoint at size 10, the second key from one nanosecond later: every checkpoint is in its key\'s window.',
      {
        keyring: [
          { verifierKey: TRUSTED.verifierKey, notAfter: (rotatedAt - 1n).toString() },
          { verifierKey: ROTATED.verifierKey, notBefore: rotatedAt.toString() },
        ],
        records: base.rows,
        checkpoints,
      },
      { ok: true, findings: [] });
  }
  {
    const fork = buildStream(stream, alg, (i, e) => (i === 24 ? { ...e, outcome: 'failure' } : e));
    const forged = sign(stream, { ...fork.checkpoints[2]!, time: checkpointTime(RECORDS) + 1_000_000_000n }, [TRUSTED.signer]);
    check(fork.checkpoints[2]!.rootHex !== base.checkpoints[2]!.rootHex, 'forged-checkpoint: the fork has the same root');
    streamCase('forged-checkpoint',
      'A fourth checkpoint at size 25, correctly signed by the trusted key, commits to the root of a forked history (seq 24 with outcome "failure"): ' +
        'the records do not produce its root (root_mismatch).',
      { ...intact, checkpoints: [...notes(), forged] },
      { ok: false, findings: [{ code: 'root_mismatch', seq: 24, size: 25 }] });
  }
  {
    const empty = { size: 0, rootHex: emptyHash(alg).toString('hex'), time: checkpointTime(0) };
    check(new AuditChain({ stream, alg }).checkpoint(empty.time, [TRUSTED.signer]) === sign(stream, empty, [TRUSTED.signer]), 'empty-tree-checkpoint: AuditChain signs the same note');
    streamCase('empty-tree-checkpoint',
      'A signed checkpoint at size 0, as a producer may write before its first record: its root is the empty tree\'s, H(""), so it verifies ' +
        '(and vouches for no record); nothing to report.',
      { ...intact, checkpoints: [sign(stream, empty, [TRUSTED.signer]), ...notes()] },
      { ok: true, findings: [] });
    const forged = sign(stream, { ...empty, rootHex: base.rows[0]!.checksum }, [TRUSTED.signer]);
    streamCase('forged-empty-tree-checkpoint',
      'A checkpoint at size 0, correctly signed by the trusted key, carrying the root of the tree of size 1 instead of H(""): ' +
        'the empty tree does not produce its root (root_mismatch with size 0 and no seq).',
      { ...intact, checkpoints: [forged, ...notes()] },
      { ok: false, findings: [{ code: 'root_mismatch', size: 0 }] });
  }
  streamCase('reordered-rows',
    'The intact rows given in a shuffled order (position p holds seq 7·p mod 25): order is by seq, never position, so nothing to report.',
    { ...intact, records: base.rows.map((_, p) => base.rows[(7 * p) % RECORDS]!) },
    { ok: true, findings: [] });
  {
    const records = rows();
    records.splice(11, 0, clone(base.rows[3]!));
    records.push(clone(base.rows[17]!), clone(base.rows[24]!));
    records.unshift(clone(base.rows[24]!));
    streamCase('redelivered-duplicates',
      'Exact copies of seq 3, 17 and 24 (twice) delivered again, as a retrying exporter would: ignored, nothing to report.',
      { ...intact, records },
      { ok: true, findings: [] });
  }

  const sha3Stream = 'billing-api/test-vectors-sha3-256';
  const sha3 = buildStream(sha3Stream, 'sha3-256');
  const sha3Intact = { keyring, records: sha3.rows, checkpoints: notes([TRUSTED.signer], sha3) };
  streamCase('sha3-256-intact',
    `${RECORDS} sha3-256 records with signed checkpoints at sizes 10, 20 and 25: nothing to report.`,
    sha3Intact, { ok: true, findings: [] });
  {
    const records = clone(sha3.rows);
    const details = records[7]!.record.details as Record<string, unknown>;
    const note = details.note as string;
    details.note = String.fromCharCode(note.charCodeAt(0) ^ 0x01) + note.slice(1);
    streamCase('sha3-256-flip-bit-in-details',
      'The sha3-256 stream with one bit flipped in details.note of seq 7, stored checksum kept: hash_mismatch at 7 and root_mismatch at sizes 10, 20 and 25.',
      { ...sha3Intact, records },
      {
        ok: false,
        findings: [
          { code: 'hash_mismatch', seq: 7 }, { code: 'root_mismatch', seq: 9, size: 10 }, { code: 'root_mismatch', seq: 19, size: 20 },
          { code: 'root_mismatch', seq: 24, size: 25 }, { code: 'unsigned_tail', seq: 0, lastSeq: 24 },
        ],
      });
  }
  {
    const records = clone(sha3.rows);
    records[18]!.record.severity = 'debug';
    records[18] = reseal('sha3-256', records[18]!.record);
    streamCase('sha3-256-edit-severity-and-rehash',
      'The sha3-256 stream with severity of seq 18 changed and its checksum recomputed: chain_break at 19 and root_mismatch at sizes 20 and 25.',
      { ...sha3Intact, records },
      {
        ok: false,
        findings: [
          { code: 'chain_break', seq: 19 }, { code: 'root_mismatch', seq: 19, size: 20 }, { code: 'root_mismatch', seq: 24, size: 25 },
          { code: 'unsigned_tail', seq: 10, lastSeq: 24 },
        ],
      });
  }
}
