/**
 * `GET /api/audit/proof?stream=&seq=` (issue 7 "details view ... inclusion
 * status"): the RFC 9162 inclusion proof of one record in the smallest
 * stored checkpoint that covers it, computed with core's Merkle functions
 * from the stored checksums and checked with `verifyInclusion` against the
 * checkpoint's root, plus the checkpoint's status. The size, root and time
 * proven against are parsed from the signed note text, not taken from the
 * unsigned columns beside it; a checkpoint whose columns disagree with its
 * note is `mismatch` (internal/checkpoint-row.ts). The log keeps leaves
 * only, so a proof costs O(size) hashes: they are computed in slices that
 * yield to the event loop (sliced-proof.ts), two proofs at a time, and
 * checkpoints larger than `maxProofLeaves` are refused (422).
 */
import { recordHash, verifyInclusion, type AuditRecord, type HashAlgorithm } from '@otel-audit/core';
import { HttpError } from '../errors.js';
import type { CheckpointRow } from '../internal/checkpoint-row.js';
import type { Route, ServerState } from '../internal/context.js';
import { sendJson } from '../internal/http.js';
import { readLeaves, slicedInclusionProof } from '../internal/sliced-proof.js';
import { checkpointView } from './checkpoints.js';

/**
 * Whether the stored record rebuilt from its columns hashes to its stored
 * checksum; null when it could not be read back to check (a read error is
 * no evidence of an edit — `verify` then says what is wrong).
 */
function matchesHash(store: ServerState['store'], stream: string, seq: number, checksum: string): boolean | null {
  let stored;
  try {
    [stored] = store.readStream(stream, { fromSeq: seq, toSeq: seq, limit: 1 });
  } catch {
    return null;
  }
  if (stored === undefined) return null;
  try {
    return recordHash(stored.record as AuditRecord) === checksum && stored.checksum === checksum;
  } catch {
    // Columns that no longer make a record (an edited alg, a malformed member): not what was logged.
    return false;
  }
}

/** The route. */
export const proofRoute: Route = {
  method: 'GET',
  path: '/api/audit/proof',
  role: 'auditor',
  params: { stream: { kind: 'string' }, seq: { kind: 'int', min: 0, max: Number.MAX_SAFE_INTEGER } },
  async handle(ctx, params) {
    const stream = params.stream as string | undefined;
    const seq = params.seq as number | undefined;
    if (stream === undefined || seq === undefined) throw new HttpError('AUDIT_HTTP_BAD_REQUEST', 'stream and seq are required, e.g. ?stream=billing-api%2F1&seq=42');
    const { reader, keyring, limits } = ctx.state;
    const row = reader.prepare('SELECT event_id, checksum, hash_alg FROM audit_logs WHERE stream = ? AND seq = ? ORDER BY log_id LIMIT 1').get(stream, seq) as
      { event_id: string; checksum: string; hash_alg: string } | undefined;
    if (row === undefined) throw new HttpError('AUDIT_HTTP_NOT_FOUND', `no record with seq ${seq} in stream ${JSON.stringify(stream)}`);
    const cp = reader.prepare('SELECT stream, size, root_hash, CAST(time_unix_nano AS TEXT) AS time, note FROM audit_checkpoints WHERE stream = ? AND size > ? ORDER BY size, checkpoint_id LIMIT 1')
      .get(stream, seq) as CheckpointRow | undefined;
    // The proof covers the stored checksum; whether the record as stored still hashes to it is a
    // separate question (an edited column leaves the checksum alone), answered as `recordMatchesHash`.
    const base = { stream, seq, id: row.event_id, hash: row.checksum, alg: row.hash_alg, recordMatchesHash: matchesHash(ctx.state.store, stream, seq, row.checksum) };
    if (cp === undefined) {
      await ctx.audit('view', 'success', { query: params, included: null });
      sendJson(ctx.res, 200, { ...base, included: null, message: 'no checkpoint covers this record yet (unsigned tail)' });
      return;
    }
    const checkpoint = checkpointView(cp, keyring);
    if (checkpoint.size === null || checkpoint.rootHash === null || checkpoint.size <= seq) {
      // Nothing signed covers the record in this row: a note that does not parse, or a size column raised above the note's.
      const message = checkpoint.size === null
        ? `the checkpoint row covering seq ${seq} has no readable signed note, so there is no signed root to prove against: ${checkpoint.problem ?? ''}`
        : `the checkpoint row covering seq ${seq} by its size column is signed for ${checkpoint.size} records only: ${checkpoint.problem ?? ''}`;
      await ctx.audit('view', 'success', { query: params, included: null, checkpoint: checkpoint.status });
      sendJson(ctx.res, 200, { ...base, included: null, message, checkpoint });
      return;
    }
    const size = checkpoint.size;
    const root = Buffer.from(checkpoint.rootHash, 'hex');
    if (size > limits.maxProofLeaves) {
      throw new HttpError('AUDIT_HTTP_RANGE_TOO_LARGE', `the checkpoint covering seq ${seq} spans ${size} records, more than this server proves online (${limits.maxProofLeaves}); use otel-audit verify offline`);
    }
    const alg = row.hash_alg as HashAlgorithm;
    if (ctx.state.busy.proofs >= 2) throw new HttpError('AUDIT_HTTP_BUSY', 'two proofs are being computed already; retry shortly');
    ctx.state.busy.proofs++;
    let proof: Buffer[];
    try {
      const leaves = await readLeaves(reader, stream, size, alg, ctx.state.store);
      if (leaves === undefined) {
        throw new HttpError('AUDIT_PROOF_UNAVAILABLE', `records before seq ${size} of ${JSON.stringify(stream)} are missing from the log and its archives (deleted or tampered); run otel-audit verify on the database file`);
      }
      proof = await slicedInclusionProof(alg, seq, size, leaves);
    } finally {
      ctx.state.busy.proofs--;
    }
    const included = verifyInclusion(alg, seq, size, Buffer.from(row.checksum, 'hex'), proof, root);
    await ctx.audit('view', 'success', { query: params, included, ...(checkpoint.status === 'mismatch' ? { checkpoint: 'mismatch' } : {}) });
    sendJson(ctx.res, 200, { ...base, included, checkpoint, proof: proof.map((p) => p.toString('hex')) });
  },
};
