/**
 * `GET /api/audit/proof?stream=&seq=` (issue 7 "details view ... inclusion
 * status"): the RFC 9162 inclusion proof of one record in the smallest
 * stored checkpoint that covers it, computed with core's Merkle functions
 * from the stored checksums and checked with `verifyInclusion` against the
 * checkpoint's root, plus the checkpoint's signature status. The log keeps
 * leaves only, so a proof costs O(size) hashes: they are computed in slices
 * that yield to the event loop (sliced-proof.ts), two proofs at a time, and
 * checkpoints larger than `maxProofLeaves` are refused (422).
 */
import { Keyring, verifyCheckpoint, verifyInclusion, type HashAlgorithm } from '@otel-audit/core';
import { HttpError } from '../errors.js';
import type { Route } from '../internal/context.js';
import { sendJson } from '../internal/http.js';
import { readLeaves, slicedInclusionProof } from '../internal/sliced-proof.js';
import { isoOfNanos } from './checkpoints.js';

const NO_KEYS = Keyring.from([]);

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
    const cp = reader.prepare('SELECT size, root_hash, CAST(time_unix_nano AS TEXT) AS time, note FROM audit_checkpoints WHERE stream = ? AND size > ? ORDER BY size, checkpoint_id LIMIT 1')
      .get(stream, seq) as { size: number; root_hash: string; time: string; note: string } | undefined;
    const base = { stream, seq, id: row.event_id, hash: row.checksum, alg: row.hash_alg };
    if (cp === undefined) {
      await ctx.audit('view', 'success', { query: params, included: null });
      sendJson(ctx.res, 200, { ...base, included: null, message: 'no checkpoint covers this record yet (unsigned tail)' });
      return;
    }
    const size = Number(cp.size);
    if (size > limits.maxProofLeaves) {
      throw new HttpError('AUDIT_HTTP_RANGE_TOO_LARGE', `the checkpoint covering seq ${seq} spans ${size} records, more than this server proves online (${limits.maxProofLeaves}); use otel-audit verify offline`);
    }
    const alg = row.hash_alg as HashAlgorithm;
    if (ctx.state.busy.proofs >= 2) throw new HttpError('AUDIT_HTTP_BUSY', 'two proofs are being computed already; retry shortly');
    ctx.state.busy.proofs++;
    let proof: Buffer[];
    try {
      const leaves = await readLeaves(reader, stream, size, alg);
      if (leaves === undefined) {
        throw new HttpError('AUDIT_PROOF_UNAVAILABLE', `records before seq ${size} of ${JSON.stringify(stream)} are missing (purged or tampered); verify the archives with otel-audit verify`);
      }
      proof = await slicedInclusionProof(alg, seq, size, leaves);
    } finally {
      ctx.state.busy.proofs--;
    }
    // The root is taken from the note text (what was signed), not from the unsigned root_hash column.
    const opened = verifyCheckpoint(cp.note, keyring ?? NO_KEYS);
    const root = opened.checkpoint?.rootHash ?? Buffer.from(cp.root_hash, 'hex');
    const included = verifyInclusion(alg, seq, size, Buffer.from(row.checksum, 'hex'), proof, root);
    const signature = keyring === undefined ? { status: 'no_keys', keys: [] as readonly string[] } : opened;
    await ctx.audit('view', 'success', { query: params, included });
    sendJson(ctx.res, 200, {
      ...base, included,
      checkpoint: { size, rootHash: root.toString('hex'), time: isoOfNanos(cp.time), status: signature.status, keys: signature.keys, note: cp.note },
      proof: proof.map((p) => p.toString('hex')),
    });
  },
};
