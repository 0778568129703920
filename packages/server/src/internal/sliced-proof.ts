/**
 * Inclusion proofs over large stored streams without blocking the event
 * loop (issue 7 "never block the server"; DESIGN §4.2). The log keeps
 * leaves only, so each proof element — the RFC 9162 §2.1.3.1 hash of a
 * sibling subtree — is computed from its leaves. Core's `inclusionProof`
 * does that in one synchronous call (about 0.5 s for 250,000 leaves here);
 * this walks the same PATH(m, D[n]) but hashes each sibling subtree as
 * core `merkleRoot`s of at most SLICE leaves joined with core's `nodeHash`
 * (a subtree of 2^k leaves is the node of its two halves), yielding to the
 * event loop between slices. Leaves are read in slices into one buffer.
 * The route checks every proof with core's `verifyInclusion` against the
 * signed root, and a test compares it with `inclusionProof`.
 */
import { gunzipSync } from 'node:zlib';
import { digestLength, merkleRoot, nodeHash, type HashAlgorithm } from '@otel-audit/core';
import type { SqliteAuditStore } from '@otel-audit/exporter-sqlite';

const SLICE = 8192;
const READ_SLICE = 50_000;

const yieldNow = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The largest power of two strictly below `n` (n >= 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The checksums of the purged prefix of `stream` below `size`, read from
 * its purged archives into `out`: how many leaves from seq 0 on they give
 * without a hole (0 when nothing was purged). The proof is checked against
 * the signed root afterwards, so an altered archive yields `included: false`.
 */
async function archivedLeaves(store: SqliteAuditStore, stream: string, size: number, d: number, out: Buffer): Promise<number> {
  let next = 0;
  for (const info of store.archives(stream)) {
    if (!info.purged || info.firstSeq !== next || next >= size) break;
    for (const line of gunzipSync(store.readArchive(info.archiveId).data).toString('utf8').split('\n')) {
      if (line === '' || next >= size) continue;
      const { record, checksum } = JSON.parse(line) as { record?: { seq?: unknown }; checksum?: unknown };
      if (record?.seq !== next || typeof checksum !== 'string' || checksum.length !== d * 2) return next;
      out.write(checksum, next * d, d, 'hex');
      next++;
    }
    await yieldNow();
  }
  return next;
}

/**
 * Leaf hashes of seq [0, size) of `stream` in one buffer — the stored
 * checksums, and for a purged prefix those of its archives when `store` is
 * given — or undefined when any is missing.
 */
export async function readLeaves(reader: ReturnType<SqliteAuditStore['openReader']>, stream: string, size: number, alg: HashAlgorithm, store?: SqliteAuditStore): Promise<Buffer | undefined> {
  const d = digestLength(alg);
  const out = Buffer.alloc(size * d);
  const stmt = reader.prepare('SELECT seq, checksum FROM audit_logs WHERE stream = ? AND seq >= ? AND seq < ? ORDER BY seq').raw();
  let expected = 0;
  const firstLive = reader.prepare('SELECT min(seq) FROM audit_logs WHERE stream = ?').pluck().get(stream) as number | bigint | null;
  if (store !== undefined && firstLive !== null && Number(firstLive) > 0) expected = await archivedLeaves(store, stream, Math.min(size, Number(firstLive)), d, out);
  for (let lo = expected; lo < size; lo += READ_SLICE) {
    for (const [seq, checksum] of stmt.iterate(stream, lo, Math.min(size, lo + READ_SLICE)) as Iterable<[number | bigint, string]>) {
      if (Number(seq) !== expected || typeof checksum !== 'string' || checksum.length !== d * 2) return undefined;
      out.write(checksum, expected * d, d, 'hex');
      expected++;
    }
    await yieldNow();
  }
  return expected === size ? out : undefined;
}

/** The inclusion proof of leaf `index` in the tree of the first `size` leaves held in `leaves`. */
export async function slicedInclusionProof(alg: HashAlgorithm, index: number, size: number, leaves: Buffer): Promise<Buffer[]> {
  const d = digestLength(alg);
  const leafAt = (i: number): Uint8Array => leaves.subarray(i * d, (i + 1) * d);
  const subtree = async (lo: number, hi: number): Promise<Buffer> => {
    if (hi - lo <= SLICE) {
      const root = merkleRoot(alg, (i) => leafAt(lo + i), hi - lo);
      await yieldNow();
      return root;
    }
    const k = split(hi - lo);
    return nodeHash(alg, await subtree(lo, lo + k), await subtree(lo + k, hi));
  };
  const path: Buffer[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = split(hi - lo);
    if (index < lo + k) {
      path.push(await subtree(lo + k, hi));
      hi = lo + k;
    } else {
      path.push(await subtree(lo, lo + k));
      lo += k;
    }
  }
  return path.reverse();
}
