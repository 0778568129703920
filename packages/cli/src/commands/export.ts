/**
 * `otel-audit export` (DESIGN §1, §4.4, §6): streams the store's records as
 * a JSON array, NDJSON, CSV or a verifiable bundle (`verifyBundle` /
 * `otel-audit verify` check it without the database) through
 * `SqliteAuditStore.exportTo`, to `--out FILE` (never overwritten) or stdout,
 * with a byte counter on a TTY. When the export's stream, time or seq range
 * reaches records that retention purged, a notice on stderr names them and
 * their archives (`purged` in the `--json` summary).
 */
import * as fs from 'node:fs';
import { Writable } from 'node:stream';
import type { BundleExportOptions, ExportOptions, PurgedRange, SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { DB_OPTION, type Command, type CommandContext, type Writer } from '../command.js';
import { CliError } from '../errors.js';
import { FILTER_OPTIONS, filterOf, storeCall, storeCallAsync, type StoreArgNames } from '../internal/filters.js';
import { resolvePath, withStore } from '../internal/inputs.js';
import { createPrivateFile } from '../internal/private-file.js';
import { writePurgedNotice } from '../internal/purged-notice.js';
import { toJson } from '../internal/table.js';
import { outputFileError } from '../internal/write-errors.js';

const BUNDLE_FILTERS = new Set(['stream', 'since', 'until']);
/** The bundle export's `fromSeq`/`toSeq` as typed. */
const SEQ_OPTIONS: StoreArgNames = {
  fromSeq: { option: '--from-seq', fix: 'pass --from-seq as a seq shown by `otel-audit query` (0 or more)' },
  toSeq: { option: '--to-seq', fix: 'pass --to-seq as a seq shown by `otel-audit query` (0 or more)' },
};

/** A Writable over the context's stdout, honouring its backpressure when it has any. */
function writerStream(out: Writer): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      const ok = out.write(chunk.toString());
      const emitter = out as Partial<NodeJS.WritableStream>;
      if (ok === false && typeof emitter.once === 'function') emitter.once('drain', () => callback());
      else callback();
    },
  });
}

function exportOptions(ctx: CommandContext): ExportOptions | BundleExportOptions {
  const format = ctx.options['format'] as 'json' | 'ndjson' | 'csv' | 'bundle';
  const filter = filterOf(ctx);
  const fromSeq = ctx.options['from-seq'] as number | undefined;
  const toSeq = ctx.options['to-seq'] as number | undefined;
  if (format !== 'bundle') {
    if (fromSeq !== undefined || toSeq !== undefined) throw new CliError('AUDIT_CLI_USAGE', '--from-seq/--to-seq apply to --format bundle', 'use --since/--until, or --format bundle');
    return { format, ...filter, order: ctx.options['order'] as 'newest' | 'oldest' };
  }
  for (const option of FILTER_OPTIONS) {
    if (ctx.options[option.name] !== undefined && !BUNDLE_FILTERS.has(option.name)) {
      throw new CliError('AUDIT_CLI_USAGE', `--${option.name} does not apply to --format bundle (a bundle holds contiguous ranges, to stay verifiable)`, 'select with --stream, --since/--until or --from-seq/--to-seq, or use --format ndjson');
    }
  }
  return {
    format: 'bundle',
    ...(filter.stream !== undefined ? { streams: [filter.stream] } : {}),
    ...(filter.since !== undefined ? { since: filter.since } : {}),
    ...(filter.until !== undefined ? { until: filter.until } : {}),
    ...(fromSeq !== undefined ? { fromSeq } : {}),
    ...(toSeq !== undefined ? { toSeq } : {}),
  };
}

/** The purged runs the export reaches; asked after the export, so a purge committed meanwhile is reported rather than missed. */
function purgedOf(store: SqliteAuditStore, options: ExportOptions | BundleExportOptions): PurgedRange[] {
  return storeCall(() => store.purgedRanges(options), SEQ_OPTIONS);
}

/**
 * The `export` verb.
 *
 * @example
 * await main(['export', '--db', 'audit.db', '--format', 'bundle', '--out', 'evidence.json']);
 */
export const exportCommand: Command = {
  name: 'export',
  summary: 'export records as json, ndjson, csv or a verifiable bundle',
  details: [
    'A bundle holds whole seq ranges with their checkpoints and verifies on its own:',
    '`otel-audit verify evidence.json --key audit.vkey`. --out never overwrites a file.',
    'The records are written in --format; --json (with --out) prints a JSON summary of',
    'the export instead of a sentence. The database is only read, never changed.',
    'When the range reaches records purged by retention, a notice on stderr names them',
    'and the archives that hold them (purged in the --json summary).',
  ].join('\n'),
  options: [
    DB_OPTION,
    { name: 'format', type: 'string', choices: ['json', 'ndjson', 'csv', 'bundle'], required: true, description: 'output format' },
    { name: 'out', alias: 'o', type: 'string', valueName: 'FILE', description: 'write to FILE instead of stdout' },
    ...FILTER_OPTIONS,
    { name: 'order', type: 'string', choices: ['oldest', 'newest'], default: 'oldest', description: 'record order (json, ndjson, csv)' },
    { name: 'from-seq', type: 'number', valueName: 'SEQ', description: 'bundle: first seq of each stream' },
    { name: 'to-seq', type: 'number', valueName: 'SEQ', description: 'bundle: last seq of each stream (inclusive)' },
    { name: 'json', type: 'boolean', description: 'with --out: print a JSON summary (out, format, records, bytes, purged)' },
  ],
  async run(ctx) {
    const options = exportOptions(ctx);
    const out = typeof ctx.options['out'] === 'string' ? resolvePath(ctx, ctx.options['out']) : undefined;
    if (ctx.json && out === undefined) {
      throw new CliError('AUDIT_CLI_USAGE', '--json summarises an export written to --out; without --out the records themselves go to stdout in --format', 'use --format json (or ndjson) for JSON records, or add --out FILE for a JSON summary');
    }
    const db = String(ctx.options['db']);
    return withStore(ctx, db, async (store) => {
      if (out === undefined) {
        const { records } = await storeCallAsync(() => store.exportTo(writerStream(ctx.stdout), options), SEQ_OPTIONS);
        if (ctx.stderr.isTTY === true) ctx.stderr.write(`exported ${records} records\n`);
        writePurgedNotice(ctx.stderr, purgedOf(store, options), db, 'export');
        return 0;
      }
      let file: fs.WriteStream;
      try {
        // Written through the descriptor created: the path is not opened a second time.
        file = fs.createWriteStream(out, { fd: createPrivateFile(out) });
      } catch (e) {
        throw outputFileError(e, out, 'export');
      }
      ctx.progress.start(`exporting to ${out} (bytes)`);
      const timer = setInterval(() => ctx.progress.update(file.bytesWritten), 100);
      let records: number;
      try {
        ({ records } = await storeCallAsync(() => store.exportTo(file, options), SEQ_OPTIONS));
      } catch (e) {
        fs.rmSync(out, { force: true });
        // A full disk or a quota names the file and its fix; a store error keeps its own.
        throw outputFileError(e, out, 'export');
      } finally {
        clearInterval(timer);
        ctx.progress.done();
      }
      const purged = purgedOf(store, options);
      if (ctx.json) ctx.stdout.write(toJson({ out, format: options.format, records, bytes: fs.statSync(out).size, purged }));
      else ctx.stdout.write(`exported ${records} records (${options.format}) to ${out}\n`);
      writePurgedNotice(ctx.stderr, purged, db, 'export');
      return 0;
    });
  },
};
