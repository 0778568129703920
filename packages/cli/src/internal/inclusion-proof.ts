/**
 * Inclusion proofs of one stored record (DESIGN §4.2, §4.3): the record,
 * its hash, its leaf index, and the RFC 9162 audit path to the root of the
 * newest stored checkpoint covering it, with that signed checkpoint note —
 * everything `verifyProofDocument` needs offline with the verifier key.
 * Built with core's `inclusionProof`/`merkleRoot` over the stored checksums
 * (archived prefixes read from their archives); checked with core's
 * `verifyInclusion`, `recordHash` and `verifyCheckpoint`.
 */
import { gunzipSync } from 'node:zlib';
import {
  checkpointOfNote, HASH_ALGORITHMS, Keyring, inclusionProof, merkleRoot, recordHash, verifyCheckpoint, verifyInclusion,
  type AuditRecord, type CheckpointStatus, type HashAlgorithm,
} from '@otel-audit/core';
import type { AuditBundle, SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { CliError } from '../errors.js';
import { storeKeyFacts } from './key-hint.js';

const HEX = /^[0-9a-f]+$/;

/**
 * `format` of a proof document.
 *
 * @example
 * JSON.parse(text).format === PROOF_FORMAT
 */
export const PROOF_FORMAT = 'otel-audit-inclusion-proof';

/**
 * The JSON document `otel-audit proof` prints.
 *
 * @example
 * const doc: ProofDocument = JSON.parse(fs.readFileSync('proof.json', 'utf8'));
 */
export interface ProofDocument {
  format: typeof PROOF_FORMAT;
  version: 1;
  stream: string;
  alg: HashAlgorithm;
  /** The record's seq: its leaf index. */
  leafIndex: number;
  treeSize: number;
  /** Lowercase hex: the record's hash (its checksum) and the checkpoint's root. */
  recordHash: string;
  rootHash: string;
  /** Audit path, leaf first, lowercase hex. */
  proof: string[];
  /** The signed checkpoint note whose root is `rootHash`. */
  checkpoint: string;
  /** The record itself, so its hash can be recomputed. */
  record: AuditRecord;
}

/**
 * What a check of a proof document found.
 *
 * @example
 * const { ok, signature, problems }: ProofCheck = verifyProofDocument(doc, keyring);
 */
export interface ProofCheck {
  ok: boolean;
  /** `valid`, or what is wrong with the checkpoint signature. */
  signature: CheckpointStatus;
  problems: string[];
}

async function collect(it: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const chunk of it) text += chunk;
  return text;
}

/** The stored record at `seq`, from a one-record bundle export (decrypted by the store). */
async function recordAt(store: SqliteAuditStore, stream: string, seq: number): Promise<AuditRecord | undefined> {
  const bundle = JSON.parse(await collect(store.export({ format: 'bundle', streams: [stream], fromSeq: seq, toSeq: seq }))) as AuditBundle;
  const found = bundle.streams[0]?.records.find((r) => (r.record as { seq?: unknown }).seq === seq);
  return found?.record as AuditRecord | undefined;
}

/** The leaf hashes [0, size) of `stream`: stored checksums, archived ones for purged prefixes. */
function leavesOf(store: SqliteAuditStore, stream: string, size: number): { leaves: (Buffer | undefined)[]; archived: Map<number, AuditRecord> } {
  const leaves: (Buffer | undefined)[] = new Array(size);
  const archived = new Map<number, AuditRecord>();
  const reader = store.openReader();
  try {
    const rows = reader.prepare('SELECT seq, checksum FROM audit_logs WHERE stream = ? AND seq < ? ORDER BY seq').raw().iterate(stream, size) as Iterable<[number, string]>;
    for (const [seq, checksum] of rows) if (leaves[seq] === undefined) leaves[seq] = Buffer.from(checksum, 'hex');
  } finally {
    reader.close();
  }
  if (leaves.includes(undefined)) {
    for (const info of store.archives(stream)) {
      if (info.firstSeq >= size) continue;
      const lines = gunzipSync(store.readArchive(info.archiveId).data).toString('utf8').split('\n');
      for (const line of lines) {
        if (line.trim() === '') continue;
        const { record, checksum } = JSON.parse(line) as { record: AuditRecord; checksum: string };
        if (record.seq < size && leaves[record.seq] === undefined) {
          leaves[record.seq] = Buffer.from(checksum, 'hex');
          archived.set(record.seq, record);
        }
      }
    }
  }
  return { leaves, archived };
}

/**
 * Refuses (exit 1) a record that no longer hashes to its stored checksum: a
 * column edited after sealing leaves the checksums, hence the Merkle root,
 * intact, so only rehashing the record as stored catches it — and a proof
 * carrying it would fail `verify-proof`.
 */
function assertRecordHashes(stream: string, seq: number, record: AuditRecord, checksum: string): void {
  let computed: string;
  try {
    computed = recordHash(record);
  } catch (e) {
    computed = `nothing (it cannot be hashed: ${(e as Error).message})`;
  }
  if (computed !== checksum) {
    throw new CliError('AUDIT_CLI_INPUT', `the stored record ${JSON.stringify(stream)} seq ${seq} no longer hashes to its checksum (it was edited after sealing): expected ${checksum}, got ${computed}; no proof printed`, 'the log was altered: run `otel-audit verify` on the database to see every changed record', 1);
  }
}

/**
 * Builds the proof of `stream`/`seq` against the newest stored checkpoint
 * covering it. Throws {@link CliError}: exit 2 when there is no such record
 * or checkpoint, exit 1 when the stored records no longer match the
 * checkpoint or the record no longer hashes to its stored checksum
 * (tampering: run `otel-audit verify`).
 *
 * @example
 * const doc = await buildProof(store, 'api/1', 42);
 */
export async function buildProof(store: SqliteAuditStore, stream: string, seq: number): Promise<ProofDocument> {
  const reader = store.openReader();
  let note: string | undefined;
  let stored: number;
  try {
    note = reader.prepare('SELECT note FROM audit_checkpoints WHERE stream = ? AND size > ? ORDER BY size DESC, checkpoint_id DESC LIMIT 1').pluck().get(stream, seq) as string | undefined;
    stored = Number(reader.prepare('SELECT count(*) FROM audit_checkpoints WHERE stream = ?').pluck().get(stream));
  } finally {
    reader.close();
  }
  if (note === undefined) {
    // A stream that was signed (its start record names a key) and holds no checkpoint at all lost them.
    const key = stored === 0 ? storeKeyFacts(store, [stream]).signed.get(stream) : undefined;
    if (key !== undefined) {
      throw new CliError('AUDIT_CLI_INPUT', `stream ${JSON.stringify(stream)} holds no checkpoint, although its start record names checkpoint key ${key}: its checkpoints were deleted`, 'run `otel-audit verify` on the database (with --checkpoints FILE if checkpoints were kept apart)', 1);
    }
    throw new CliError('AUDIT_CLI_INPUT', `no checkpoint of stream ${JSON.stringify(stream)} covers seq ${seq} yet`, 'wait for the next checkpoint (processors.chain.checkpoint) or shut the service down cleanly, which writes one');
  }
  const cp = checkpointOfNote(note);
  if (cp === undefined) throw new CliError('AUDIT_CLI_INPUT', `the stored checkpoint of ${JSON.stringify(stream)} does not parse`, 'run `otel-audit verify` on the database', 1);
  const { leaves, archived } = leavesOf(store, stream, cp.size);
  const missing = leaves.findIndex((l) => l === undefined);
  if (missing !== -1 || leaves.length < cp.size) {
    throw new CliError('AUDIT_CLI_INPUT', `records of ${JSON.stringify(stream)} below the checkpoint size ${cp.size} are missing (first missing seq ${missing === -1 ? leaves.length : missing})`, 'run `otel-audit verify` on the database', 1);
  }
  const record = archived.get(seq) ?? (await recordAt(store, stream, seq));
  if (record === undefined) throw new CliError('AUDIT_CLI_INPUT', `stream ${JSON.stringify(stream)} has no record at seq ${seq}`, 'check --seq and --stream (otel-audit query shows both)');
  const full = leaves as Buffer[];
  assertRecordHashes(stream, seq, record, full[seq]!.toString('hex'));
  const alg = record.alg;
  const root = merkleRoot(alg, full, cp.size);
  if (!root.equals(cp.rootHash)) {
    throw new CliError('AUDIT_CLI_INPUT', `the stored records of ${JSON.stringify(stream)} do not hash to the root of the checkpoint at size ${cp.size}`, 'the log was altered: run `otel-audit verify` to find where', 1);
  }
  return {
    format: PROOF_FORMAT,
    version: 1,
    stream,
    alg,
    leafIndex: seq,
    treeSize: cp.size,
    recordHash: full[seq]!.toString('hex'),
    rootHash: root.toString('hex'),
    proof: inclusionProof(alg, seq, cp.size, full).map((b) => b.toString('hex')),
    checkpoint: note,
    record,
  };
}

/**
 * The answer of the server's `GET /api/audit/proof` (`{ stream, seq, hash,
 * alg, checkpoint: { size, rootHash, note }, proof }`) as a proof document
 * without the record, so a proof taken from the dashboard checks offline too.
 */
function fromServerAnswer(doc: unknown): Partial<ProofDocument> | undefined {
  const a = doc as { format?: unknown; stream?: unknown; seq?: unknown; hash?: unknown; alg?: unknown; proof?: unknown; checkpoint?: { size?: unknown; rootHash?: unknown; note?: unknown } };
  if (typeof a !== 'object' || a === null || a.format !== undefined || typeof a.hash !== 'string' || typeof a.checkpoint !== 'object' || a.checkpoint === null) return undefined;
  return {
    format: PROOF_FORMAT, version: 1, stream: a.stream as string, alg: a.alg as HashAlgorithm, leafIndex: a.seq as number,
    treeSize: a.checkpoint.size as number, recordHash: a.hash, rootHash: a.checkpoint.rootHash as string, proof: a.proof as string[], checkpoint: a.checkpoint.note as string,
  };
}

/**
 * Checks a proof document offline (or the server's proof answer): the record hashes to `recordHash`, the
 * audit path leads to `rootHash`, the checkpoint names the same stream,
 * size and root, and its signature is valid under `keyring`. Never throws on
 * a tampered document; throws {@link CliError} (exit 2) for one that is not
 * a proof document at all.
 *
 * @example
 * const { ok, problems } = verifyProofDocument(JSON.parse(text), keyring);
 */
export function verifyProofDocument(doc: unknown, keyring: Keyring): ProofCheck {
  const d = fromServerAnswer(doc) ?? (doc as Partial<ProofDocument>);
  if (typeof d !== 'object' || d === null || d.format !== PROOF_FORMAT || d.version !== 1) {
    throw new CliError('AUDIT_CLI_INPUT', `not a proof document (expected "format": "${PROOF_FORMAT}", "version": 1)`, 'pass the JSON printed by `otel-audit proof`');
  }
  const problems: string[] = [];
  const alg = d.alg as HashAlgorithm;
  const shapeOk = typeof d.stream === 'string' && (HASH_ALGORITHMS as readonly string[]).includes(alg) &&
    Number.isSafeInteger(d.leafIndex) && Number.isSafeInteger(d.treeSize) && (d.leafIndex as number) >= 0 && (d.leafIndex as number) < (d.treeSize as number) &&
    typeof d.recordHash === 'string' && HEX.test(d.recordHash) && typeof d.rootHash === 'string' && HEX.test(d.rootHash) &&
    Array.isArray(d.proof) && d.proof.every((p) => typeof p === 'string' && HEX.test(p)) && typeof d.checkpoint === 'string';
  if (!shapeOk) return { ok: false, signature: 'malformed', problems: ['the document lacks a valid stream, alg, leafIndex < treeSize, hex hashes, proof or checkpoint'] };
  if (d.record !== undefined) {
    let computed: string | undefined;
    try {
      computed = recordHash(d.record);
    } catch (e) {
      problems.push(`the record cannot be hashed: ${(e as Error).message}`);
    }
    if (computed !== undefined && computed !== d.recordHash) problems.push(`the record hashes to ${computed}, not to recordHash ${d.recordHash}`);
    if (d.record.stream !== d.stream || d.record.seq !== d.leafIndex) problems.push(`the record is ${JSON.stringify(d.record.stream)} seq ${String(d.record.seq)}, not ${JSON.stringify(d.stream)} seq ${d.leafIndex}`);
  }
  let included = false;
  try {
    included = verifyInclusion(alg, d.leafIndex!, d.treeSize!, Buffer.from(d.recordHash!, 'hex'), d.proof!.map((p) => Buffer.from(p, 'hex')), Buffer.from(d.rootHash!, 'hex'));
  } catch {
    // A size or path core refuses outright is just as invalid.
  }
  if (!included) problems.push(`the audit path does not lead from recordHash at leaf ${d.leafIndex} to rootHash over ${d.treeSize} records`);
  const result = verifyCheckpoint(d.checkpoint!, keyring, { alg });
  const cp = result.checkpoint;
  if (cp === undefined) problems.push(`the checkpoint does not parse: ${result.message}`);
  else {
    if (cp.origin !== d.stream) problems.push(`the checkpoint is of stream ${JSON.stringify(cp.origin)}, not ${JSON.stringify(d.stream)}`);
    if (cp.size !== d.treeSize) problems.push(`the checkpoint covers ${cp.size} records, not treeSize ${d.treeSize}`);
    if (cp.rootHash.toString('hex') !== d.rootHash) problems.push(`the checkpoint's root is ${cp.rootHash.toString('hex')}, not rootHash ${d.rootHash}`);
  }
  if (result.status !== 'valid' && cp !== undefined) problems.push(`checkpoint signature: ${result.status} (${result.message})`);
  return { ok: problems.length === 0, signature: result.status, problems };
}
