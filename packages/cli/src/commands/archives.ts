/**
 * `otel-audit archives` (DESIGN §6 retention): lists the archives of a store
 * — the prefixes of streams that retention archived, and which of them were
 * purged from the log, so they are the only copy of their records — and,
 * with `--read ID`, prints the records of one archive after verifying it
 * (its data against its SHA-256, the records' chain, and their Merkle root
 * against the checkpoint at its cut, whose signature `--key` checks;
 * `--unverified` checks the chain alone). An archive that does not verify
 * is not printed (exit 1).
 * Reads only.
 */
import { gunzipSync } from 'node:zlib';
import type { AuditRecord } from '@otel-audit/core';
import { verifyArchive, type ArchiveInfo, type AuditArchive, type SqliteAuditStore, type StoredRecord } from '@otel-audit/exporter-sqlite';
import { DB_OPTION, JSON_OPTION, type Command, type CommandContext } from '../command.js';
import { CliError } from '../errors.js';
import { resolvePath, withStore } from '../internal/inputs.js';
import { keyringOf } from '../internal/keys.js';
import { writePrivateFile } from '../internal/private-file.js';
import { writeRecords } from '../internal/record-table.js';
import { escapeControl, isoOfNanos as isoOf, renderTable, toJson, type Column } from '../internal/table.js';
import { outputFileError } from '../internal/write-errors.js';


const COLUMNS: readonly Column<ArchiveInfo>[] = [
  { header: 'ID', value: (a) => a.archiveId, right: true },
  { header: 'STREAM', value: (a) => a.stream, maxWidth: 32 },
  { header: 'SEQ', value: (a) => `${a.firstSeq}..${a.lastSeq}` },
  { header: 'RECORDS', value: (a) => a.records, right: true },
  { header: 'FIRST', value: (a) => isoOf(a.firstTimeUnixNano) },
  { header: 'LAST', value: (a) => isoOf(a.lastTimeUnixNano) },
  { header: 'PURGED', value: (a) => (a.purged ? 'yes (only copy)' : 'no') },
];

/** What `--json` lists of an archive: its description, without the compact ranges and the note. */
function described(a: ArchiveInfo): Record<string, unknown> {
  return {
    archiveId: a.archiveId, stream: a.stream, alg: a.alg, firstSeq: a.firstSeq, lastSeq: a.lastSeq, records: a.records,
    firstTimeUnixNano: a.firstTimeUnixNano, lastTimeUnixNano: a.lastTimeUnixNano, sha256: a.sha256, purged: a.purged,
  };
}

/** The archive `id`, or a usage error naming the archives the store holds. */
function archiveOf(store: SqliteAuditStore, id: number): AuditArchive {
  const known = store.archives();
  if (!known.some((a) => a.archiveId === id)) {
    const ids = known.map((a) => a.archiveId);
    throw new CliError('AUDIT_CLI_USAGE', `the store has no archive ${id}; ${ids.length === 0 ? 'it holds no archive' : `it holds archive(s) ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', ...' : ''}`}`,
      'pass --read with an id listed by `otel-audit archives --db FILE`');
  }
  return store.readArchive(id);
}

/** The records of a verified archive, as `query` gives them. */
function recordsOf(archive: AuditArchive): StoredRecord[] {
  const lines = gunzipSync(archive.data).toString('utf8').split('\n').filter((l) => l !== '');
  return lines.map((line) => {
    const { record, checksum } = JSON.parse(line) as { record: AuditRecord; checksum: string };
    return { record, checksum, timestamp: isoOf(BigInt(record.time)) };
  });
}

/** Prints one archive's records when it verifies; exit 1 (nothing printed) when it does not. */
function readOne(ctx: CommandContext, store: SqliteAuditStore, id: number, keys: readonly string[] | undefined): number {
  const keyring = keyringOf(ctx, keys);
  const archive = archiveOf(store, id);
  const report = verifyArchive(archive, keyring);
  // The archive's own stream: another stream's signed checkpoint vouches for none of its records.
  const stream = report.streams.find((s) => s.stream === archive.stream);
  // Without a key (--unverified) the checkpoint is unknown_key and not compared: only the chain is checked.
  const problems = report.streams.flatMap((s) => s.findings).filter((f) => f.severity === 'error' && !(keys === undefined && f.code === 'unknown_key'));
  // Signed only when a verified checkpoint covers the whole archive (a genuine size-0 note verifies, and vouches for nothing).
  const signed = (stream?.checkpoints.lastVerifiedSize ?? 0) >= archive.lastSeq + 1;
  if (problems.length > 0 || (keys !== undefined && !signed)) {
    const why = problems.length > 0 ? problems.slice(0, 3).map((f) => `${f.code}: ${escapeControl(f.message)}`).join('; ') : 'its checkpoint is not signed by the given key(s)';
    ctx.stderr.write(`otel-audit archives: archive ${id} does not verify, so its records are not printed: ${why}\n  fix: run \`otel-audit verify\` on the database for the full report\n`);
    return 1;
  }
  const records = recordsOf(archive);
  const out = ctx.options['out'];
  if (typeof out === 'string') {
    const file = resolvePath(ctx, out);
    try {
      writePrivateFile(file, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    } catch (e) {
      // writePrivateFile removed a partial file; the message says which file and why (EEXIST, a full disk, a read-only place).
      throw outputFileError(e, file, 'archives');
    }
  } else if (ctx.json) {
    ctx.stdout.write(toJson({ archive: described(archive), records }));
  } else {
    writeRecords(ctx.stdout, ctx.options['ndjson'] === true ? 'ndjson' : 'table', records);
  }
  const where = typeof out === 'string' ? ` written to ${escapeControl(resolvePath(ctx, out))}` : '';
  ctx.stderr.write(`archive ${id}: ${records.length} record(s) of ${escapeControl(archive.stream)}, seq ${archive.firstSeq}..${archive.lastSeq}, ${signed ? 'verified against its signed checkpoint' : 'NOT VERIFIED against a key (--unverified: only the chain of its records was checked)'}${where}\n`);
  return 0;
}

/**
 * The `archives` verb.
 *
 * @example
 * await main(['archives', '--db', 'audit.db', '--read', '3', '--key', 'audit.vkey', '--out', 'archive-3.ndjson']);
 */
export const archivesCommand: Command = {
  name: 'archives',
  summary: 'list the archives retention made, or print the records of one (--read ID), verified',
  details: [
    'Without --read: one line per archive (id, stream, seq range, records, times, whether it was',
    'purged from the log, so it is the only copy of its records). With --read ID: the archive is',
    'verified first (its data, the chain of its records, their root against the checkpoint at its',
    'cut and that checkpoint\'s signature with --key) and its records printed like `query` prints',
    'them (a table, --ndjson, --json, or NDJSON to --out, never overwritten). An archive that does',
    'not verify is not printed: exit 1. --unverified prints without a key, the chain alone checked.',
    'The database is only read.',
  ].join('\n'),
  options: [
    DB_OPTION,
    { name: 'stream', type: 'string', valueName: 'STREAM', description: 'list only the archives of this stream' },
    { name: 'read', type: 'number', valueName: 'ID', description: 'print the records of archive ID, verified' },
    { name: 'key', alias: 'k', type: 'string[]', valueName: 'VKEY', description: 'with --read: trusted verifier key (a .vkey file or the key text, optionally followed by its window not_before=TIME not_after=TIME); the archive\'s checkpoint must be signed with it' },
    { name: 'unverified', type: 'boolean', description: 'with --read and no key: print the records with only their chain checked' },
    { name: 'ndjson', type: 'boolean', description: 'with --read: one record per line' },
    { name: 'out', alias: 'o', type: 'string', valueName: 'FILE', description: 'with --read: write the records as NDJSON to FILE' },
    JSON_OPTION,
  ],
  async run(ctx) {
    const read = ctx.options['read'] as number | undefined;
    const keys = ctx.options['key'] as string[] | undefined;
    if (read !== undefined && (!Number.isSafeInteger(read) || read < 1)) throw new CliError('AUDIT_CLI_USAGE', `--read must be an archive id (a positive integer); got ${read}`, 'pass an id listed by `otel-audit archives --db FILE`');
    const unverified = ctx.options['unverified'] === true;
    if (read === undefined && (keys !== undefined || unverified || ctx.options['out'] !== undefined || ctx.options['ndjson'] === true)) {
      throw new CliError('AUDIT_CLI_USAGE', '--key, --unverified, --out and --ndjson apply to one archive\'s records', 'add --read ID (the ids are listed without it)');
    }
    if (read !== undefined && keys === undefined && !unverified) {
      throw new CliError('AUDIT_CLI_USAGE', '--read needs --key: an archive is verified against its signed checkpoint before its records are printed',
        'pass --key with the service\'s verifier key (.vkey), or --unverified to print it with only the chain of its records checked');
    }
    if (keys !== undefined && unverified) throw new CliError('AUDIT_CLI_USAGE', '--key and --unverified contradict each other', 'pass one of them');
    return withStore(ctx, String(ctx.options['db']), (store) => {
      if (read !== undefined) return readOne(ctx, store, read, keys);
      const stream = ctx.options['stream'] as string | undefined;
      const list = store.archives(stream);
      if (ctx.json) ctx.stdout.write(toJson(list.map(described)));
      else if (list.length === 0) ctx.stdout.write(`No archives${stream === undefined ? '' : ` of stream ${JSON.stringify(escapeControl(stream))}`}: retention has archived nothing yet (otel-audit retention).\n`);
      else ctx.stdout.write(renderTable(COLUMNS, list));
      return 0;
    });
  },
};
