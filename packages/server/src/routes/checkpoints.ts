/**
 * `GET /api/audit/checkpoints` (issue 7 "integrity badge ... signed
 * checkpoint age"): the newest stored checkpoints (of one stream or all),
 * each with its signature status against the configured verifier keys —
 * `valid`, `unsigned`, `unknown_key`, ... — and `latestValid`, the newest
 * one a trusted key signed, with its age.
 */
import { verifyCheckpoint, type CheckpointStatus } from '@otel-audit/core';
import type { Route } from '../internal/context.js';
import { sendJson } from '../internal/http.js';

/** One checkpoint as the API returns it. */
export interface CheckpointView {
  stream: string;
  size: number;
  rootHash: string;
  time: string;
  status: CheckpointStatus | 'no_keys';
  keys: readonly string[];
  note: string;
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
    const sql = `SELECT stream, size, root_hash, CAST(time_unix_nano AS TEXT) AS time, note FROM audit_checkpoints${stream === undefined ? '' : ' WHERE stream = ?'} ORDER BY time_unix_nano DESC, checkpoint_id DESC LIMIT ?`;
    const rows = reader.prepare(sql).all(...(stream === undefined ? [] : [stream]), limit) as { stream: string; size: number; root_hash: string; time: string; note: string }[];
    const checkpoints: CheckpointView[] = rows.map((r) => {
      const v = keyring === undefined ? undefined : verifyCheckpoint(r.note, keyring);
      return {
        stream: r.stream, size: Number(r.size), rootHash: r.root_hash, time: isoOfNanos(r.time),
        status: v === undefined ? 'no_keys' : v.status, keys: v?.keys ?? [], note: r.note,
      };
    });
    const latest = checkpoints.find((c) => c.status === 'valid');
    await ctx.audit('view', 'success', { query: params, count: checkpoints.length });
    sendJson(ctx.res, 200, {
      checkpoints,
      latestValid: latest === undefined ? null : { ...latest, ageSeconds: Math.max(0, Math.round((Date.now() - Date.parse(latest.time)) / 1000)) },
      verifierKeys: keyring !== undefined,
    });
  },
};

/** ISO-8601 (milliseconds) of a decimal Unix-nanosecond text. */
export function isoOfNanos(decimal: string): string {
  return new Date(Number(BigInt(decimal) / 1_000_000n)).toISOString();
}
