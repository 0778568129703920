/**
 * `otel-audit query` (DESIGN §6): one page of stored records matching the
 * store's filters, as a table, `--json` (the page with its `nextCursor`) or
 * `--ndjson` (one record per line), through `SqliteAuditStore.query`. When
 * the stream and time range reach records that retention purged, a notice
 * on stderr names them and their archives (`purged` in `--json`).
 */
import { DB_OPTION, JSON_OPTION, type Command } from '../command.js';
import { FILTER_OPTIONS, filterOf, storeCall } from '../internal/filters.js';
import { withStore } from '../internal/inputs.js';
import { writePurgedNotice } from '../internal/purged-notice.js';
import { writeRecords } from '../internal/record-table.js';
import { toJson } from '../internal/table.js';

/**
 * The `query` verb.
 *
 * @example
 * await main(['query', '--db', 'audit.db', '--actor', 'alice', '--since', '2026-01-01T00:00:00Z', '--json']);
 */
export const queryCommand: Command = {
  name: 'query',
  summary: 'list stored records matching filters (table, --json or --ndjson)',
  details: [
    'Newest first by default. When more records match, the cursor of the next page is printed',
    '(on stderr for the table and --ndjson, as nextCursor in --json); pass it back with --cursor. When the',
    'stream and time range reach records purged by retention, a notice on stderr names them',
    'and the archives that hold them (purged in --json).',
    '',
    'Records are listed as stored, not verified: run `otel-audit verify DB --key VKEY` before',
    'relying on them.',
  ].join('\n'),
  options: [
    DB_OPTION,
    ...FILTER_OPTIONS,
    { name: 'order', type: 'string', choices: ['newest', 'oldest'], default: 'newest', description: 'which records come first' },
    { name: 'limit', alias: 'n', type: 'number', valueName: 'N', default: 50, description: 'records per page, 1..1000' },
    { name: 'cursor', type: 'string', valueName: 'CURSOR', description: 'the nextCursor of the previous page' },
    JSON_OPTION,
    { name: 'ndjson', type: 'boolean', description: 'one JSON record per line' },
  ],
  async run(ctx) {
    return withStore(ctx, String(ctx.options['db']), (store) => {
      const cursor = ctx.options['cursor'];
      const page = storeCall(() => store.query({
        ...filterOf(ctx),
        order: ctx.options['order'] as 'newest' | 'oldest',
        limit: ctx.options['limit'] as number,
        ...(typeof cursor === 'string' ? { cursor } : {}),
      }), { limit: { option: '-n/--limit', fix: 'pass -n/--limit within that range; the cursor printed after a page gives the next one' } });
      // After the query, so a purge committed in between is reported rather than missed.
      const purged = storeCall(() => store.purgedRanges(filterOf(ctx)));
      if (ctx.json) {
        ctx.stdout.write(toJson({ records: page.records, nextCursor: page.nextCursor ?? null, purged }));
      } else if (ctx.options['ndjson'] === true) {
        writeRecords(ctx.stdout, 'ndjson', page.records);
        // stdout is the records alone; a script piping them must still learn that the page is not all.
        if (page.nextCursor !== undefined) ctx.stderr.write(`more records: --cursor ${page.nextCursor} (this page: ${page.records.length}; -n/--limit up to 1000, or otel-audit export for all)\n`);
      } else {
        if (page.records.length === 0) ctx.stderr.write('no records match\n');
        writeRecords(ctx.stdout, 'table', page.records);
        if (page.nextCursor !== undefined) ctx.stderr.write(`more records: --cursor ${page.nextCursor}\n`);
      }
      writePurgedNotice(ctx.stderr, purged, String(ctx.options['db']), 'query');
      return 0;
    });
  },
};
