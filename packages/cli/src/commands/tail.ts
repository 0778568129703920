/**
 * `otel-audit tail` (DESIGN §1, §6): the newest records of a store, oldest
 * of them first, and with `-f` every record committed afterwards, found by
 * polling `SqliteAuditStore.query` from a time watermark. Records of
 * concurrent writers may commit slightly out of time order, so the
 * watermark trails the newest record by a lag and ids already seen are
 * skipped; the records inside that lag at the start count as seen, so
 * nothing is printed twice or out of place. The store is opened read-only
 * in place, so new commits are seen; when it can only be read through a
 * temporary copy, the copy is taken again whenever the file changes. When
 * that fails (the file moved away, unreadable, caught mid-write) tail keeps
 * the last copy, retries at every poll, and says so on stderr once when it
 * failed twice in a row — and once more when a copy is taken again.
 */
import * as fs from 'node:fs';
import { DB_OPTION, type Command, type CommandContext } from '../command.js';
import type { SqliteAuditStore, StoredRecord } from '@otel-audit/exporter-sqlite';
import { FILTER_OPTIONS, filterOf, storeCall } from '../internal/filters.js';
import { openStore, resolvePath, type OpenedStore } from '../internal/inputs.js';
import { writeRecords } from '../internal/record-table.js';
import { escapeControl } from '../internal/table.js';

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

function watermarkOf(newest: bigint): bigint {
  return newest > LAG_NANOS ? newest - LAG_NANOS : 0n;
}

/** Ids already shown or older than what was shown, with their times, and the newest time. */
interface Seen { readonly ids: Map<string, bigint>; newest: bigint }

function see(seen: Seen, r: StoredRecord): void {
  const t = BigInt(r.record.time);
  seen.ids.set(r.record.id, t);
  if (t > seen.newest) seen.newest = t;
}

/** Calls `each` with every page of records at or after `since` matching the filters, oldest first. */
function pages(ctx: CommandContext, store: SqliteAuditStore, since: bigint, each: (records: StoredRecord[]) => void): void {
  let cursor: string | undefined;
  do {
    const page = store.query({ ...filterOf(ctx), since, order: 'oldest', limit: PAGE, ...(cursor ? { cursor } : {}) });
    each(page.records);
    cursor = page.nextCursor;
  } while (cursor !== undefined && !ctx.signal.aborted);
}

/**
 * The newest `--lines` records, oldest first, and — read in the same
 * snapshot — every record within the lag of the newest of them, so the
 * first poll does not print again what was shown or skipped over.
 */
function start(ctx: CommandContext, store: SqliteAuditStore, follow: boolean): { initial: StoredRecord[]; seen: Seen } {
  const seen: Seen = { ids: new Map(), newest: 0n };
  const db = store.database;
  db.exec('BEGIN');
  try {
    const page = storeCall(() => store.query({ ...filterOf(ctx), order: 'newest', limit: ctx.options['lines'] as number }));
    const initial = [...page.records].reverse();
    for (const r of initial) see(seen, r);
    if (follow && initial.length > 0) pages(ctx, store, watermarkOf(seen.newest), (records) => { for (const r of records) see(seen, r); });
    return { initial, seen };
  } finally {
    db.exec('COMMIT');
  }
}

/**
 * Size and modification time of the database and its WAL: changes when
 * anything commits. A file that cannot be stat'ed stamps as `-`: for the
 * WAL that is its usual absence; for the database it differs from every
 * stamp of a readable file, so the copy is taken again and that failure,
 * with its reason, is what the user hears of.
 */
function stampOf(file: string): string {
  return ['', '-wal'].map((suffix) => {
    try {
      const s = fs.statSync(file + suffix);
      return `${s.size}@${s.mtimeMs}`;
    } catch {
      return '-';
    }
  }).join(' ');
}

/** The store as opened, the store `tail -f` polls, and how to close it. */
interface FollowedStore { readonly first: SqliteAuditStore; readonly current: () => SqliteAuditStore; readonly close: () => void }

/**
 * Opens the store at `db` read-only. A copy does not see later commits, so
 * `current()` takes it again when the file changed. A failed re-copy keeps
 * the previous copy (its records stay shown, later ones wait) and is tried
 * again at every poll until one succeeds; stderr gets one line when it
 * failed twice in a row (once may be a copy caught mid-write) and one when
 * it recovers, with the error's message only (no
 * stack, no cause, no environment).
 */
function followedStore(ctx: CommandContext, db: string): FollowedStore {
  const file = resolvePath(ctx, db);
  const shown = escapeControl(file);
  let stamp = stampOf(file);
  let opened: OpenedStore = openStore(ctx, db, { readOnly: true });
  // Failed re-copies in a row; one alone (a copy caught mid-write) is not worth a warning.
  let failures = 0;
  const current = (): SqliteAuditStore => {
    if (!opened.copied) return opened.store;
    const now = stampOf(file);
    if (now === stamp && failures === 0) return opened.store;
    try {
      const next = openStore(ctx, db, { readOnly: true });
      opened.close();
      opened = next;
      stamp = now;
      if (failures >= 2) ctx.stderr.write(`otel-audit tail: ${shown} can be read again; following it\n`);
      failures = 0;
    } catch (e) {
      if (++failures === 2) {
        const reason = escapeControl(e instanceof Error ? e.message : String(e));
        ctx.stderr.write(`otel-audit tail: warning: cannot read ${shown} again (${reason}); still following, newer records will show once it can be read (retrying every ${String(ctx.options['interval'])} ms)\n`);
      }
    }
    return opened.store;
  };
  return { first: opened.store, current, close: () => opened.close() };
}

/** Follows the store until the context's signal aborts. */
async function follow(ctx: CommandContext, current: () => SqliteAuditStore, seen: Seen, print: (r: StoredRecord[]) => void): Promise<void> {
  const interval = ctx.options['interval'] as number;
  while (!ctx.signal.aborted) {
    await sleep(interval, ctx.signal);
    if (ctx.signal.aborted) break;
    pages(ctx, current(), watermarkOf(seen.newest), (records) => {
      const fresh = records.filter((r) => !seen.ids.has(r.record.id));
      for (const r of fresh) see(seen, r);
      if (fresh.length > 0) print(fresh);
    });
    const floor = watermarkOf(seen.newest);
    for (const [id, t] of seen.ids) if (t < floor) seen.ids.delete(id);
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
  details: 'With -f it polls the store every --interval milliseconds until interrupted (Ctrl-C).\nThe database is only read, never changed.',
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
    const following = ctx.options['follow'] === true;
    const interval = ctx.options['interval'] as number;
    if (following && (!Number.isInteger(interval) || interval < 10)) storeCall(() => { throw new RangeError(`options.interval must be an integer of at least 10 milliseconds; got ${interval}`); });
    const store = followedStore(ctx, String(ctx.options['db']));
    try {
      const { initial, seen } = start(ctx, store.first, following);
      let header = true;
      const print = (records: StoredRecord[]): void => {
        writeRecords(ctx.stdout, output, records, header);
        if (records.length > 0) header = false;
      };
      print(initial);
      if (following) await follow(ctx, store.current, seen, print);
      return 0;
    } finally {
      store.close();
    }
  },
};
