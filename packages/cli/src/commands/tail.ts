/**
 * `otel-audit tail` (DESIGN §1, §6): the newest records of a store, oldest
 * of them first, and with `-f` every record committed afterwards, found by
 * polling `SqliteAuditStore.query` from a time watermark. Records of
 * concurrent writers may commit slightly out of time order, so the
 * watermark trails the newest record by a lag and ids already seen are
 * skipped; the records inside that lag at the start count as seen, so
 * nothing is printed twice or out of place. The store is opened read-only
 * in place, so new commits are seen; when it can only be read through a
 * temporary copy, the copy is taken again whenever the file changes.
 *
 * The path is watched too (its device and inode, one stat a poll): when it
 * names another file — rotation, a restore, a rewrite, `mv new.db audit.db`
 * — tail opens the new one, says so on stderr once, and goes on. Within a
 * chain a record is its (stream, seq), but a new file may start a stream
 * again at seq 0, so tail asks the new file, for each stream seen, whether
 * it holds the very record (its checksum) seen last at that seq. If it does
 * for every stream, the new file continues what was shown: only records
 * after it appear, each once, whenever they were committed. Otherwise it is
 * another history — a stream begun again (lower seqs), other streams, a
 * restore from before the last record shown — and what a user expects is
 * what tail shows of a store at start: its newest `--lines` records not
 * already shown (same id), oldest first, then every record committed; the
 * streams it does continue go on where they were. A different record at a
 * (stream, seq) already shown is shown: it is not the one the user saw.
 *
 * When the file cannot be read again (moved away and not yet replaced,
 * unreadable, a copy caught mid-write, a poll failing in SQLite such as a
 * torn page or a writer holding it past the busy timeout) tail keeps what it has open, retries
 * at every poll, and says so on stderr once when it failed twice in a row —
 * and once more when it can read it again, or the file that replaced it.
 */
import { DB_OPTION, type Command, type CommandContext } from '../command.js';
import { CliError } from '../errors.js';
import type { SqliteAuditStore, StoredRecord } from '@otel-audit/exporter-sqlite';
import { FILTER_OPTIONS, filterOf, storeCall, type StoreArgNames } from '../internal/filters.js';
import { followedStore, isSqliteFailure, type FollowedStore, type Replacement } from '../internal/followed-store.js';
import { writeRecords } from '../internal/record-table.js';

const LAG_NANOS = 60_000_000_000n;
/** The store's `query.limit` is tail's `-n/--lines`. */
const LINES: StoreArgNames = { limit: { option: '-n/--lines', fix: 'pass -n/--lines within that range, e.g. -n 50' } };
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

/** Per stream, the highest seq seen and its record's checksum: what tells a file that continues the stream. */
interface LastSeen { readonly seq: number; readonly checksum: string }

/** Ids already shown or older than what was shown, with their times; the newest time; the last record seen of each stream. */
interface Seen { readonly ids: Map<string, bigint>; newest: bigint; readonly last: Map<string, LastSeen> }

function see(seen: Seen, r: StoredRecord): void {
  const t = BigInt(r.record.time);
  seen.ids.set(r.record.id, t);
  if (t > seen.newest) seen.newest = t;
  const last = seen.last.get(r.record.stream);
  if (last === undefined || r.record.seq > last.seq) seen.last.set(r.record.stream, { seq: r.record.seq, checksum: r.checksum });
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

/** `read` in one read transaction: every query of it sees the same snapshot. */
function snapshot<T>(store: SqliteAuditStore, read: () => T): T {
  const db = store.database;
  db.exec('BEGIN');
  try {
    return read();
  } finally {
    db.exec('COMMIT');
  }
}

/**
 * The newest `--lines` records that are not `known`, oldest first, and
 * every record not `known` within the lag of the newest of them: those
 * count as seen, so the first poll does not print again what was shown or
 * skipped over. Call it inside a {@link snapshot}.
 */
function latest(ctx: CommandContext, store: SqliteAuditStore, follow: boolean, known: (r: StoredRecord) => boolean): { initial: StoredRecord[]; counted: StoredRecord[] } {
  const page = storeCall(() => store.query({ ...filterOf(ctx), order: 'newest', limit: ctx.options['lines'] as number }), LINES);
  const initial = [...page.records].reverse().filter((r) => !known(r));
  const counted: StoredRecord[] = [];
  if (follow && initial.length > 0) {
    const top = initial.reduce((t, r) => (BigInt(r.record.time) > t ? BigInt(r.record.time) : t), 0n);
    pages(ctx, store, watermarkOf(top), (records) => { for (const r of records) if (!known(r)) counted.push(r); });
  }
  return { initial, counted };
}

/** What tail shows first; `seen` gets it and what counts as seen with it. */
function start(ctx: CommandContext, store: SqliteAuditStore, follow: boolean, seen: Seen): StoredRecord[] {
  const { initial, counted } = snapshot(store, () => latest(ctx, store, follow, () => false));
  for (const r of [...initial, ...counted]) see(seen, r);
  return initial;
}

/**
 * Reads `store`, the file that replaced the followed one, as the file
 * comment says, and changes nothing: if the read fails, `seen` is as it was
 * and the old file is kept. `apply` prints what is new (the newest records
 * of the streams not continued, the records the continued streams got since
 * the last poll, in time order) and counts it as seen.
 */
function replacement(ctx: CommandContext, store: SqliteAuditStore, seen: Seen, print: (r: StoredRecord[]) => void): Replacement {
  return snapshot(store, () => {
    const at = store.database.prepare('SELECT checksum FROM audit_logs WHERE stream = ? AND seq = ?').pluck();
    const kept = new Set([...seen.last].filter(([stream, last]) => at.get(stream, last.seq) === last.checksum).map(([stream]) => stream));
    if (seen.last.size > 0 && kept.size === seen.last.size) return { continues: true, apply: () => {} };
    const { initial, counted } = latest(ctx, store, true, (r) => kept.has(r.record.stream) || seen.ids.has(r.record.id));
    // Read now, not at the next poll: the newest records of the other streams may move the watermark past them.
    const fresh: StoredRecord[] = [];
    pages(ctx, store, watermarkOf(seen.newest), (records) => { for (const r of records) if (kept.has(r.record.stream) && !seen.ids.has(r.record.id)) fresh.push(r); });
    const shown = [...initial, ...fresh].sort((a, b) => { const d = BigInt(a.record.time) - BigInt(b.record.time); return d < 0n ? -1 : d > 0n ? 1 : 0; });
    return {
      continues: false,
      apply: () => {
        for (const r of [...shown, ...counted]) see(seen, r);
        if (shown.length > 0) print(shown);
      },
    };
  });
}

/** Follows the store until the context's signal aborts. */
async function follow(ctx: CommandContext, store: FollowedStore, seen: Seen, print: (r: StoredRecord[]) => void): Promise<void> {
  const interval = ctx.options['interval'] as number;
  while (!ctx.signal.aborted) {
    await sleep(interval, ctx.signal);
    if (ctx.signal.aborted) break;
    try {
      pages(ctx, store.current(), watermarkOf(seen.newest), (records) => {
        const fresh = records.filter((r) => !seen.ids.has(r.record.id));
        for (const r of fresh) see(seen, r);
        if (fresh.length > 0) print(fresh);
      });
      store.read();
    } catch (e) {
      if (!isSqliteFailure(e)) throw e;
      store.failed(e); // what was printed stays seen; the rest comes from the next poll's watermark
    }
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
  details: 'With -f it polls the store every --interval milliseconds until interrupted (Ctrl-C).\nWhen another file is put at the path (rotation, a restore), it follows that one and says so on stderr.\nThe database is only read, never changed.',
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
    if (following && (!Number.isInteger(interval) || interval < 10)) {
      throw new CliError('AUDIT_CLI_USAGE', `--interval must be an integer of at least 10 milliseconds; got ${interval}`, 'pass --interval 10 or more, e.g. --interval 500 (the default)');
    }
    const seen: Seen = { ids: new Map(), newest: 0n, last: new Map() };
    let header = true;
    const print = (records: StoredRecord[]): void => {
      writeRecords(ctx.stdout, output, records, header);
      if (records.length > 0) header = false;
    };
    const store = followedStore(ctx, String(ctx.options['db']), (next) => replacement(ctx, next, seen, print));
    try {
      print(start(ctx, store.first, following, seen));
      if (following) await follow(ctx, store, seen, print);
      return 0;
    } finally {
      store.close();
    }
  },
};
