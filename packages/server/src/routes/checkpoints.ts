/**
 * `GET /api/audit/checkpoints` (issue 7 "integrity badge ... signed
 * checkpoint age"): the newest stored checkpoints — of one stream, largest
 * first; of all, the last stored first — each with its status against the
 * configured verifier keys — `valid`, `unsigned`, `unknown_key`, ... — and
 * `latestValid`, the first of them a trusted key signed, with its age. The
 * order never follows the checkpoints' times: a clock stepped back dates
 * newer checkpoints before older ones. The size, root hash and time shown are
 * parsed from the signed note text, never taken from the unsigned columns
 * beside it; a row whose columns disagree with its note is `mismatch`, with
 * a `problem` naming the columns (internal/checkpoint-row.ts).
 */
import type { Route } from '../internal/context.js';
import { openCheckpointRow, type CheckpointRow, type CheckpointRowStatus, type ColumnMismatch, type SignatureStatus } from '../internal/checkpoint-row.js';
import { sendJson } from '../internal/http.js';

/** One checkpoint as the API returns it; `size`, `rootHash` and `time` are null when the note does not parse (`malformed`). */
export interface CheckpointView {
  /** The note's origin (the row's `stream` column when the note does not parse). */
  stream: string;
  size: number | null;
  rootHash: string | null;
  time: string | null;
  /** `mismatch` when the row's columns disagree with its note, otherwise the signature status. */
  status: CheckpointRowStatus;
  /** The note's signature status, whatever the columns say. */
  signature: SignatureStatus;
  keys: readonly string[];
  note: string;
  /** For `mismatch` and `malformed`: what is wrong, for people. */
  problem?: string;
  /** For `mismatch`: each disagreeing column with its stored and signed value. */
  mismatches?: ColumnMismatch[];
}

/**
 * The view of one stored row: every value from the parsed note.
 *
 * @example
 * const view = checkpointView(row, ctx.state.keyring); // { size, rootHash, time, status, signature, ... }
 */
export function checkpointView(row: CheckpointRow, keyring: Parameters<typeof openCheckpointRow>[1]): CheckpointView {
  const opened = openCheckpointRow(row, keyring);
  const cp = opened.checkpoint;
  return {
    stream: cp?.origin ?? row.stream,
    size: cp?.size ?? null,
    rootHash: cp?.rootHash.toString('hex') ?? null,
    time: cp === undefined ? null : isoOfNanos(cp.timeUnixNano.toString()),
    status: opened.status, signature: opened.signature, keys: opened.keys, note: row.note,
    ...(opened.problem === undefined ? {} : { problem: opened.problem }),
    ...(opened.mismatches.length === 0 ? {} : { mismatches: opened.mismatches }),
  };
}

/** The route. */
export const checkpointsRoute: Route = {
  method: 'GET',
  path: '/api/audit/checkpoints',
  role: 'auditor',
  params: { stream: { kind: 'string' }, limit: { kind: 'int', min: 1, max: 1000 } },
  async handle(ctx, params) {
    const { reader, keyring } = ctx.state;
    const limit = (params.limit as number | undefined) ?? 100;
    const stream = params.stream as string | undefined;
    // Never by time: after the clock stepped back, newer checkpoints carry older times (and an hour of them could fall off the page).
    const order = stream === undefined ? 'checkpoint_id DESC' : 'size DESC, checkpoint_id DESC';
    const sql = `SELECT stream, size, root_hash, CAST(time_unix_nano AS TEXT) AS time, note FROM audit_checkpoints${stream === undefined ? '' : ' WHERE stream = ?'} ORDER BY ${order} LIMIT ?`;
    const rows = reader.prepare(sql).all(...(stream === undefined ? [] : [stream]), limit) as CheckpointRow[];
    const checkpoints = rows.map((r) => checkpointView(r, keyring));
    const latest = checkpoints.find((c) => c.status === 'valid');
    const mismatched = checkpoints.filter((c) => c.status === 'mismatch').length;
    await ctx.audit('view', 'success', { query: params, count: checkpoints.length, ...(mismatched > 0 ? { mismatched } : {}) });
    sendJson(ctx.res, 200, {
      checkpoints,
      latestValid: latest === undefined ? null : { ...latest, ageSeconds: Math.max(0, Math.round((Date.now() - Date.parse(latest.time!)) / 1000)) },
      verifierKeys: keyring !== undefined,
    });
  },
};

/** ISO-8601 (milliseconds) of a decimal Unix-nanosecond text. */
export function isoOfNanos(decimal: string): string {
  return new Date(Number(BigInt(decimal) / 1_000_000n)).toISOString();
}
