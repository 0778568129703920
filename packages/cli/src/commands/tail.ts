/**
 * `otel-audit tail` (DESIGN §1, §6): the newest records of a store, oldest
 * of them first, and with `-f` every record committed afterwards, found by
 * polling `SqliteAuditStore.query` from a time watermark. Records of
 * concurrent writers may commit slightly out of time order, so the
 * watermark trails the newest record by a lag and ids already printed are
 * skipped.
 */
import { DB_OPTION, type Command, type CommandContext } from '../command.js';
import type { SqliteAuditStore, StoredRecord } from '@otel-audit/exporter-sqlite';
import { FILTER_OPTIONS, filterOf, storeCall } from '../internal/filters.js';
import { withStore } from '../internal/inputs.js';
import { writeRecords } from '../internal/record-table.js';

const LAG_NANOS = 60_000_000_000n;
const PAGE = 1_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) { resolve(); return; }
    const timer = setTimeout(done, ms);
    function done(): void { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Follows the store until the context's signal aborts. */
async function follow(ctx: CommandContext, store: SqliteAuditStore, initial: readonly StoredRecord[], print: (r: StoredRecord[]) => void): Promise<void> {
  const seen = new Map<string, bigint>();
  let newest = 0n;
  for (const r of initial) {
    const t = BigInt(r.record.time);
    seen.set(r.record.id, t);
    if (t > newest) newest = t;
  }
  const interval = ctx.options['interval'] as number;
  const filter = filterOf(ctx);
  while (!ctx.signal.aborted) {
    await sleep(interval, ctx.signal);
    if (ctx.signal.aborted) break;
    const watermark = newest > LAG_NANOS ? newest - LAG_NANOS : 0n;
    let cursor: string | undefined;
    do {
      const page = store.query({ ...filter, since: watermark, order: 'oldest', limit: PAGE, ...(cursor ? { cursor } : {}) });
      const fresh = page.records.filter((r) => !seen.has(r.record.id));
      for (const r of fresh) {
        const t = BigInt(r.record.time);
        seen.set(r.record.id, t);
        if (t > newest) newest = t;
      }
      if (fresh.length > 0) print(fresh);
      cursor = page.nextCursor;
    } while (cursor !== undefined && !ctx.signal.aborted);
    const floor = newest > LAG_NANOS ? newest - LAG_NANOS : 0n;
    for (const [id, t] of seen) if (t < floor) seen.delete(id);
  }
}

/**
 * The `tail` verb.
 *
 * @example
 * await main(['tail', '--db', 'audit.db', '-f', '--type', 'auth'], { signal }); // until signal aborts
 */
export const tailCommand: Command = {
  name: 'tail',
  summary: 'show the newest records; -f keeps printing new ones as they are committed',
  longRunning: true,
  details: 'With -f it polls the store every --interval milliseconds until interrupted (Ctrl-C).',
  options: [
    DB_OPTION,
    { name: 'follow', alias: 'f', type: 'boolean', description: 'keep printing records as they are committed' },
    { name: 'lines', alias: 'n', type: 'number', valueName: 'N', default: 20, description: 'how many of the newest records to show first, 1..1000' },
    { name: 'interval', type: 'number', valueName: 'MILLIS', default: 500, description: 'poll interval with -f' },
    ...FILTER_OPTIONS.filter((o) => o.name !== 'since' && o.name !== 'until'),
    { name: 'ndjson', type: 'boolean', description: 'one JSON record per line' },
    { name: 'json', type: 'boolean', description: 'same as --ndjson (records stream, so one JSON object per line)' },
  ],
  async run(ctx) {
    const output = ctx.options['ndjson'] === true || ctx.json ? 'ndjson' : 'table';
    return withStore(ctx, String(ctx.options['db']), async (store) => {
      const page = storeCall(() => store.query({ ...filterOf(ctx), order: 'newest', limit: ctx.options['lines'] as number }));
      const initial = [...page.records].reverse();
      let header = true;
      const print = (records: StoredRecord[]): void => {
        writeRecords(ctx.stdout, output, records, header);
        if (records.length > 0) header = false;
      };
      print(initial);
      if (ctx.options['follow'] === true) {
        const interval = ctx.options['interval'] as number;
        if (!Number.isInteger(interval) || interval < 10) storeCall(() => { throw new RangeError(`options.interval must be an integer of at least 10 milliseconds; got ${interval}`); });
        await follow(ctx, store, initial, print);
      }
      return 0;
    });
  },
};
