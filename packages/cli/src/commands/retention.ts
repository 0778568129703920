/**
 * `otel-audit retention` (DESIGN §6): archives, per stream, the records
 * older than the archive age (cut at a signed checkpoint) and purges the
 * archived prefixes older than the retention age, through
 * `SqliteAuditStore.archive` and `purge`. `--dry-run` runs exactly the same
 * calls on a temporary copy of the database and reports what they would do,
 * so the preview cannot disagree with `--apply`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Keyring, parseSignerKey, verifyCheckpoint, type NoteSigner } from '@otel-audit/core';
import { retentionFromEnv, type PurgeResult, type SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { DB_OPTION, JSON_OPTION, type Command, type CommandContext, type ProgressReporter } from '../command.js';
import { CliError } from '../errors.js';
import { storeCall, storeCallAsync } from '../internal/filters.js';
import { withStore } from '../internal/inputs.js';
import { readSignerKeyFile } from '../internal/keys.js';
import { createPrivateFile } from '../internal/private-file.js';
import { createTempDir } from '../internal/temp-dir.js';
import { isoOfNanos as isoOf, renderTable, toJson } from '../internal/table.js';
import {
  CLOCK_LEAD_LIMIT_NANOS, clockAheadError, clockAheadProblem, futureRecordNotice, newestStoredTime, purgeAfter, withSpans, type ArchiveWithSpan, type FutureRecord,
} from '../internal/retention-checks.js';

function days(ctx: CommandContext, name: string, fallback: number): number {
  const v = ctx.options[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new CliError('AUDIT_CLI_USAGE', `--${name} must be a non-negative number of days; got ${String(v)}`, `pass e.g. --${name} 30`);
  return v;
}

function signersOf(ctx: CommandContext): NoteSigner[] {
  const file = ctx.options['signer-key'];
  if (typeof file !== 'string') return [];
  // Read and checked as collect's and serve's: an empty file, a .vkey or a bad key each named, with the fix.
  return [parseSignerKey(readSignerKeyFile(ctx, file, '--signer-key'))];
}

interface Outcome {
  archived: ArchiveWithSpan[];
  purged: PurgeResult[];
  /** Streams not archived because their newest checkpoint carries no signature (without --allow-unsigned). */
  unsigned: string[];
  /** Records dated in the future at which a stream's archiving stops. */
  futureRecords: FutureRecord[];
  /** The newest record or checkpoint time of the database (Unix ns), if any. */
  newestStored: bigint | undefined;
}

/** The reference time of a run: the host's `now`, and whether `--apply` must refuse a clock far ahead of the database. */
interface Clock { now: bigint; refuseAhead: boolean }

/**
 * Where a run reports its steps (the bar, and the words before each phase's
 * label), and whether it runs on a private copy (a preview: no other
 * connection to leave the write lock to between purge steps).
 */
interface RunMode { bar: ProgressReporter; prefix: string; copy: boolean }

async function run(store: SqliteAuditStore, archiveBefore: bigint, purgeBefore: bigint, streams: string[] | undefined, signers: NoteSigner[], allowUnsigned: boolean, clock: Clock, mode: RunMode): Promise<Outcome> {
  const newestStored = newestStoredTime(store, clock.now + CLOCK_LEAD_LIMIT_NANOS);
  const problem = clockAheadProblem(clock.now, newestStored);
  // Before anything is written: a clock far ahead would purge fresh records, for good.
  if (problem !== undefined && clock.refuseAhead) throw clockAheadError(problem);
  const known = store.streams().map((s) => s.stream);
  const unknown = (streams ?? []).filter((s) => !known.includes(s));
  if (unknown.length > 0) {
    throw new CliError('AUDIT_CLI_USAGE', `the store has no stream ${unknown.map((s) => JSON.stringify(s)).join(', ')}; it holds ${known.length === 0 ? 'no stream' : known.slice(0, 10).map((s) => JSON.stringify(s)).join(', ')}${known.length > 10 ? ', …' : ''}`,
      'pass --stream with one of the streams listed, or leave it out for every stream');
  }
  const scope = streams ? { streams } : {};
  const futureRecords: FutureRecord[] = [];
  const onFutureRecord = (stream: string, seq: number, time: bigint) => { futureRecords.push({ stream, seq, time: isoOf(time) }); };
  // Records done so far, after each archive created and each archive purged (a big store takes minutes).
  const onProgress = (p: { doneRecords: number }) => mode.bar.update(p.doneRecords);
  mode.bar.done(); // clears the line: the labels differ in length
  mode.bar.start(`${mode.prefix}archiving records`);
  // The spans are read before the purge, while the archived rows are still in the log.
  const archived = withSpans(store, storeCall(() => store.archive({ olderThan: archiveBefore, ...scope, allowUnsigned, onFutureRecord, onProgress })));
  mode.bar.done();
  mode.bar.start(`${mode.prefix}purging archived records`);
  const purged = await purgeAfter(archived, () => storeCallAsync(() => store.purge({ olderThan: purgeBefore, ...scope, signers, onProgress, pauseBetweenArchives: !mode.copy })));
  const newest = store.database.prepare('SELECT note FROM audit_checkpoints WHERE stream = ? ORDER BY size DESC LIMIT 1').pluck();
  const unsigned = allowUnsigned ? [] : (streams ?? known).filter((s) => {
    const note = newest.get(s) as string | undefined;
    return note !== undefined && verifyCheckpoint(note, new Keyring()).status === 'unsigned';
  });
  return { archived, purged, unsigned, futureRecords, newestStored };
}

async function dryRun(ctx: CommandContext, db: string, archiveBefore: bigint, purgeBefore: bigint, streams: string[] | undefined, allowUnsigned: boolean, clock: Clock): Promise<Outcome> {
  // Removed on Ctrl-C too (an abort listener): the copy holds every record of the database.
  const tmp = createTempDir('otel-audit-retention-', ctx);
  try {
    const copy = path.join(tmp.dir, 'preview.db');
    // An empty 0600 file for the backup to fill; SQLite gives its -wal and -journal the same mode.
    fs.closeSync(createPrivateFile(copy));
    await withStore(ctx, db, (source) => source.database.backup(copy));
    if (ctx.signal.aborted) throw new CliError('AUDIT_CLI_USAGE', 'interrupted; the preview copy was removed', 'run the command again');
    return await withStore({ cwd: tmp.dir, env: ctx.env }, copy, (preview) => run(preview, archiveBefore, purgeBefore, streams, [], allowUnsigned, clock, { bar: ctx.progress, prefix: 'previewing: ', copy: true }), {});
  } finally {
    tmp.remove();
  }
}

/**
 * The `retention` verb.
 *
 * @example
 * await main(['retention', '--db', 'audit.db', '--dry-run', '--archive-after-days', '30', '--retention-days', '90']);
 */
export const retentionCommand: Command = {
  name: 'retention',
  summary: 'archive old records and purge archived ones (--dry-run shows what --apply would do)',
  details: [
    'Defaults come from AUDIT_LOG_ARCHIVE_AFTER_DAYS (30) and AUDIT_LOG_RETENTION_DAYS (90).',
    'Archives are cut at signed checkpoints; each purge first appends a',
    'system/retention_purge record to its stream, so run --apply while no service is',
    'writing the database (or through the service), and pass --signer-key to sign',
    'a checkpoint after that record.',
    'Ages are counted from this host\'s clock; --apply refuses when it reads more than a',
    'week after the newest record or checkpoint in the database (a clock ahead would purge',
    'fresh records) unless --trust-clock is passed.',
  ].join('\n'),
  options: [
    DB_OPTION,
    { name: 'dry-run', type: 'boolean', description: 'report what would be archived and purged; change nothing' },
    { name: 'apply', type: 'boolean', description: 'archive and purge' },
    { name: 'archive-after-days', type: 'number', valueName: 'DAYS', description: 'archive records older than this' },
    { name: 'retention-days', type: 'number', valueName: 'DAYS', description: 'purge archived records older than this' },
    { name: 'stream', type: 'string[]', valueName: 'STREAM', description: 'only this stream' },
    { name: 'allow-unsigned', type: 'boolean', description: 'also archive (and then purge) streams whose checkpoints carry no signature' },
    { name: 'signer-key', type: 'string', valueName: 'FILE', description: 'NAME.key to sign a checkpoint after each purge record' },
    { name: 'trust-clock', type: 'boolean', description: 'run even though this host\'s clock reads more than a week after everything in the database' },
    JSON_OPTION,
  ],
  async run(ctx) {
    const dry = ctx.options['dry-run'] === true;
    const apply = ctx.options['apply'] === true;
    if (dry === apply) throw new CliError('AUDIT_CLI_USAGE', 'pass exactly one of --dry-run and --apply', 'preview with --dry-run first, then run with --apply');
    let env: ReturnType<typeof retentionFromEnv>;
    try {
      env = retentionFromEnv(ctx.env);
    } catch (e) {
      throw new CliError('AUDIT_CLI_USAGE', (e as Error).message, 'fix or unset the variable');
    }
    const archiveDays = days(ctx, 'archive-after-days', env.archiveAfterDays);
    const retentionDays = days(ctx, 'retention-days', env.retentionDays);
    if (retentionDays < archiveDays) {
      // Only archived records are purged: records younger than the archive age would stay, whatever the retention says.
      throw new CliError('AUDIT_CLI_USAGE', `--retention-days ${retentionDays} is shorter than --archive-after-days ${archiveDays}: records are purged only once archived, so none younger than ${archiveDays} days would go`,
        `pass --retention-days ${archiveDays} or more, or a smaller --archive-after-days`);
    }
    const now = BigInt(Date.now()) * 1_000_000n;
    const before = (d: number): bigint => {
      const ns = now - BigInt(Math.round(d * 86_400_000)) * 1_000_000n;
      return ns < 0n ? 0n : ns;
    };
    const archiveBefore = before(archiveDays);
    const purgeBefore = before(retentionDays);
    const streams = Array.isArray(ctx.options['stream']) ? [...(ctx.options['stream'] as string[])] : undefined;
    const db = String(ctx.options['db']);
    ctx.progress.start(dry ? 'previewing retention: copying the database' : 'opening the database');
    const allowUnsigned = ctx.options['allow-unsigned'] === true;
    let result: Outcome;
    try {
      if (dry) {
        result = await dryRun(ctx, db, archiveBefore, purgeBefore, streams, allowUnsigned, { now, refuseAhead: false });
      } else {
        const signers = signersOf(ctx);
        const clock = { now, refuseAhead: ctx.options['trust-clock'] !== true };
        result = await withStore(ctx, db, (store) => run(store, archiveBefore, purgeBefore, streams, signers, allowUnsigned, clock, { bar: ctx.progress, prefix: '', copy: false }), {});
      }
    } finally {
      ctx.progress.done();
    }
    if (ctx.json) {
      const { newestStored, ...rest } = result;
      ctx.stdout.write(toJson({
        mode: dry ? 'dry-run' : 'apply', now: isoOf(now), newestStored: newestStored === undefined ? null : isoOf(newestStored),
        archiveBefore: isoOf(archiveBefore), purgeBefore: isoOf(purgeBefore), ...rest,
      }));
      return 0;
    }
    const verb = dry ? 'would be' : 'were';
    const newest = result.newestStored === undefined ? 'the database holds no record dated before it' : `the newest record or checkpoint in the database is from ${isoOf(result.newestStored)}`;
    ctx.stdout.write(`Reference time: ${isoOf(now)} (this host's clock; ${newest}).\n`);
    ctx.stdout.write(`Records older than ${isoOf(archiveBefore)} (${archiveDays} days) are archived; archived records older than ${isoOf(purgeBefore)} (${retentionDays} days) are purged.\n\n`);
    if (result.archived.length === 0) ctx.stdout.write(`No records ${verb} archived.\n`);
    else {
      ctx.stdout.write(`${result.archived.length} archive(s) ${verb} created:\n`);
      ctx.stdout.write(renderTable([
        { header: 'STREAM', value: (a: ArchiveWithSpan) => a.stream, maxWidth: 40 },
        { header: 'SEQ', value: (a) => `${a.firstSeq}..${a.lastSeq}` },
        { header: 'RECORDS', value: (a) => a.records, right: true },
        // Earliest and latest record time: records need not be in time order.
        { header: 'FROM', value: (a) => isoOf(a.minTimeUnixNano) },
        { header: 'TO', value: (a) => isoOf(a.maxTimeUnixNano) },
      ], result.archived));
    }
    if (result.purged.length === 0) ctx.stdout.write(`No records ${verb} purged.\n`);
    else {
      ctx.stdout.write(`${result.purged.reduce((n, p) => n + p.records, 0)} record(s) ${verb} purged:\n`);
      ctx.stdout.write(renderTable([
        { header: 'STREAM', value: (p: PurgeResult) => p.stream, maxWidth: 40 },
        { header: 'SEQ', value: (p) => `${p.firstSeq}..${p.lastSeq}` },
        { header: 'RECORDS', value: (p) => p.records, right: true },
        { header: 'ARCHIVES', value: (p) => p.archiveIds.join(',') },
      ], result.purged));
    }
    for (const stream of result.unsigned) {
      ctx.stdout.write(`\nStream ${JSON.stringify(stream)} was not archived: its checkpoints carry no signature, so an archive could not be checked against a key once its records are purged. `
        + 'Configure a signer key for it, or pass --allow-unsigned to archive it anyway.\n');
    }
    for (const f of result.futureRecords) ctx.stdout.write(`\n${futureRecordNotice(f)}`);
    const problem = clockAheadProblem(now, result.newestStored);
    if (dry && problem !== undefined && (result.archived.length > 0 || result.purged.length > 0)) {
      ctx.stdout.write(`\nWarning: ${problem}. --apply will refuse: check this host's clock, or if it is right and the database has simply not been written since, pass --trust-clock.\n`);
    }
    if (dry) {
      // An empty plan: --apply would do nothing either, so suggesting it would send the user on a useless run.
      const empty = result.archived.length === 0 && result.purged.length === 0;
      const next = problem === undefined ? 'Run again with --apply.' : 'Check the clock first (see the warning above), then run again with --apply.';
      ctx.stdout.write(empty ? '\nDry run: there is nothing to archive or purge; nothing was changed.\n' : `\nDry run: nothing was changed. ${next}\n`);
    }
    return 0;
  },
};
