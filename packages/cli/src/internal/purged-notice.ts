/**
 * The stderr notice of `query` and `export` when their range reaches records
 * that retention purged (DESIGN §6): the store's `purgedRanges` told as
 * text — the stream, the purged seq and time range, when it was purged, and
 * where the records are now: the archive ids and the `otel-audit archives
 * --read ID --key VKEY` command that prints them, verified (`archives`
 * refuses `--read` without a key or `--unverified`). On stderr, so
 * the records on stdout (a table, JSON, CSV, a bundle) keep their shape.
 */
import type { PurgedRange } from '@otel-audit/exporter-sqlite';
import type { Writer } from '../command.js';
import { escapeControl, isoOfNanos as isoOf } from './table.js';

/** Archive ids as a short list: all of up to 8, else the first and last few and the count. */
function idsOf(ids: readonly number[]): string {
  if (ids.length <= 8) return ids.join(', ');
  return `${ids.slice(0, 4).join(', ')}, …, ${ids.slice(-2).join(', ')} (${ids.length} archives)`;
}

function purgedOn(run: PurgedRange): string {
  const last = isoOf(run.lastPurgedUnixNano);
  // One purge stamps each of its archives as it goes: its times differ by milliseconds, so name one.
  return run.purgeRecordIds.length === 1 ? `on ${last}` : `${run.purgeRecordIds.length} times between ${isoOf(run.firstPurgedUnixNano)} and ${last}`;
}

/**
 * What `verify` says under its report of a whole store about records that
 * retention purged: the stream's report starts after them, and they were
 * verified through their archives (a changed or missing archive is a
 * finding above). One line per purged run.
 *
 * @example
 * for (const line of purgedVerifyLines(store.purgedRanges({ streams }))) ctx.stdout.write(`${line}\n`);
 */
export function purgedVerifyLines(purged: readonly PurgedRange[]): string[] {
  return purged.map((run) => `purged: ${run.records} record${run.records === 1 ? '' : 's'} of stream ${JSON.stringify(escapeControl(run.stream))}, seq ${run.firstSeq}..${run.lastSeq} `
    + `(${isoOf(run.firstTimeUnixNano)} to ${isoOf(run.lastTimeUnixNano)}), were purged by retention ${purgedOn(run)}; they live on in archive(s) ${idsOf(run.archiveIds)}, `
    + 'which were verified with the stream (a changed or missing archive is a finding above)');
}

/**
 * Writes one notice per purged run to `stderr` (nothing when `purged` is
 * empty). `db` is the database as the user named it, for the commands shown.
 *
 * @example
 * writePurgedNotice(ctx.stderr, store.purgedRanges(filter), 'audit.db', 'query');
 */
export function writePurgedNotice(stderr: Writer, purged: readonly PurgedRange[], db: string, verb: 'query' | 'export'): void {
  for (const run of purged) {
    const stream = JSON.stringify(escapeControl(run.stream));
    stderr.write(
      `notice: ${run.records} record(s) of stream ${stream}, seq ${run.firstSeq}..${run.lastSeq} (${isoOf(run.firstTimeUnixNano)} to ${isoOf(run.lastTimeUnixNano)}), `
      + `were purged by retention ${purgedOn(run)} and are not in this ${verb}'s output.\n`
      + `  They are kept only in this store's archive(s) ${idsOf(run.archiveIds)}; print one, verified: `
      + `otel-audit archives --db ${JSON.stringify(escapeControl(db))} --read ${run.archiveIds[0]} --key VKEY\n`
      + '  (VKEY: the verifier key the checkpoints were signed with; without it, --unverified checks the chain alone)\n',
    );
  }
}
