/**
 * `otel-audit tail` (DESIGN §1, §6): the newest records of a store, oldest
 * of them first, and with `-f` every record committed afterwards, found by
 * polling `SqliteAuditStore.query` in the order the store committed them
 * (`order: 'stored'`, by its row key), never by their times: a clock
 * stepped back, or one record dated a day ahead, would put records behind a
 * time watermark and hide them. Each poll resumes where the last one
 * stopped, so every record committed after tail started appears once, in
 * the order stored, whichever stream or writer it came from. The store is
 * opened read-only in place, so new commits are seen; when it can only be
 * read through a temporary copy, the copy is taken again whenever the file
 * changes (a copy keeps the row keys, so the position holds).
 *
 * The path is watched too (its device and inode, one stat a poll): when it
 * names another file — rotation, a restore, a rewrite, `mv new.db audit.db`
 * — tail opens the new one, says so on stderr once, and goes on. Row keys
 * are the old file's, and within a chain a record is its (stream, seq), but
 * a new file may start a stream again at seq 0, so tail asks the new file,
 * for each stream shown, whether it holds the very record (its checksum)
 * shown last at that seq. If it does for every stream, the new file
 * continues what was shown: the records stored after the latest of those
 * appear, each once. Otherwise it is another history — a stream begun
 * again (lower seqs), other streams, a restore from before the last record
 * shown — and what a user expects is what tail shows of a store at start:
 * its newest `--lines` records not shown lately (same id), oldest first,
 * then every record committed; the streams it does continue go on where
 * they were. A different record at a (stream, seq) already shown is shown:
 * it is not the one the user saw.
 *
 * When the file cannot be read again (moved away and not yet replaced,
 * unreadable, a copy caught mid-write, a poll failing in SQLite such as a
 * torn page or a writer holding it past the busy timeout) tail keeps what it has open, retries
 * at every poll, and says so on stderr once when it failed twice in a row —
 * and once more when it can read it again, or the file that replaced it.
 */
import { DB_OPTION, type Command, type CommandContext } from '../command.js';
import { CliError } from '../errors.js';
import type { AuditQuery, SqliteAuditStore, StoredRecord } from '@otel-audit/exporter-sqlite';
import { FILTER_OPTIONS, filterOf, storeCall, type StoreArgNames } from '../internal/filters.js';
import { followedStore, isSqliteFailure, type FollowedStore, type Replacement } from '../internal/followed-store.js';
import { writeRecords } from '../internal/record-table.js';

/** The store's `query.limit` is tail's `-n/--lines`. */
const LINES: StoreArgNames = { limit: { option: '-n/--lines', fix: 'pass -n/--lines within that range, e.g. -n 50' } };
const PAGE = 1_000;
/** How many ids of the records shown last are kept, to leave them out of the newest records of a file put in place. */
const KEPT_IDS = 1_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) { resolve(); return; }
    const timer = setTimeout(done, ms);
    function done(): void { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Per stream, the highest seq shown and its record's checksum and id: what tells a file that continues the stream. */
interface LastSeen { readonly seq: number; readonly checksum: string; readonly id: string }

/** Where the followed file was read up to (a stored-order cursor), the last record shown of each stream, the ids shown lately. */
interface Seen { position: string; readonly last: Map<string, LastSeen>; readonly ids: Set<string> }

function see(seen: Seen, r: StoredRecord): void {
  seen.ids.delete(r.record.id);
  seen.ids.add(r.record.id);
  if (seen.ids.size > KEPT_IDS) seen.ids.delete(seen.ids.values().next().value!);
  const last = seen.last.get(r.record.stream);
  if (last === undefined || r.record.seq > last.seq) seen.last.set(r.record.stream, { seq: r.record.seq, checksum: r.checksum, id: r.record.id });
}

/**
 * Calls `each` with every page of records matching the filters stored
 * after `from`, in the order stored, and the cursor after that page.
 */
function pages(ctx: CommandContext, store: SqliteAuditStore, from: Pick<AuditQuery, 'cursor' | 'afterId'>, each: (records: StoredRecord[], cursor: string) => void): void {
  let at = from;
  for (;;) {
    const page = store.query({ ...filterOf(ctx), ...at, order: 'stored', limit: PAGE });
    each(page.records, page.nextCursor!);
    if (page.records.length < PAGE || ctx.signal.aborted) return;
    at = { cursor: page.nextCursor! };
  }
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
 * The newest `--lines` records (by time) that are not `known`, oldest
 * first, and the position of the store's end: every record stored up to
 * it counts as seen. Call it inside a {@link snapshot}.
 */
function latest(ctx: CommandContext, store: SqliteAuditStore, known: (r: StoredRecord) => boolean): { initial: StoredRecord[]; end: string } {
  const page = storeCall(() => store.query({ ...filterOf(ctx), order: 'newest', limit: ctx.options['lines'] as number }), LINES);
  const initial = [...page.records].reverse().filter((r) => !known(r));
  return { initial, end: store.query({ order: 'stored', cursor: 'end', limit: 1 }).nextCursor! };
}

/** What tail shows first; `seen` gets it, and the position after everything stored so far. */
function start(ctx: CommandContext, store: SqliteAuditStore, seen: Seen): StoredRecord[] {
  const { initial, end } = snapshot(store, () => latest(ctx, store, () => false));
  for (const r of initial) see(seen, r);
  seen.position = end;
  return initial;
}

/**
 * Reads `store`, the file that replaced the followed one, as the file
 * comment says, and changes nothing: if the read fails, `seen` is as it was
 * and the old file is kept. `apply` prints what is new (the newest records
 * of the streams not continued, then what the continued streams got after
 * the last record shown, in the order stored), counts it as seen and moves
 * the position to the new file's.
 */
function replacement(ctx: CommandContext, store: SqliteAuditStore, seen: Seen, print: (r: StoredRecord[]) => void): Replacement {
  return snapshot(store, () => {
    const at = store.database.prepare('SELECT log_id AS key, checksum FROM audit_logs WHERE stream = ? AND seq = ?');
    // The streams continued, each with where its last record shown lies in the new file.
    const kept = new Map<string, { key: number; id: string }>();
    for (const [stream, last] of seen.last) {
      const row = at.get(stream, last.seq) as { key: number; checksum: string } | undefined;
      if (row?.checksum === last.checksum) kept.set(stream, { key: row.key, id: last.id });
    }
    const continues = seen.last.size > 0 && kept.size === seen.last.size;
    const { initial, end } = continues ? { initial: [], end: '' } : latest(ctx, store, (r) => kept.has(r.record.stream) || seen.ids.has(r.record.id));
    let position = end;
    const fresh: StoredRecord[] = [];
    if (kept.size > 0) {
      // After the latest record shown, everything is new; when not every stream goes on, the others'
      // records are the newest ones above, so only what the continued streams got after the earliest.
      const anchors = [...kept.values()].sort((a, b) => a.key - b.key);
      const from = (continues ? anchors[anchors.length - 1]! : anchors[0]!).id;
      pages(ctx, store, { afterId: from }, (records, cursor) => {
        for (const r of records) {
          const last = seen.last.get(r.record.stream);
          if (kept.has(r.record.stream) ? r.record.seq > last!.seq : continues) fresh.push(r);
        }
        position = cursor;
      });
    }
    const shown = [...initial, ...fresh];
    return {
      continues,
      apply: () => {
        // A stream not continued is another history: its last record shown is the new file's, from now on.
        for (const stream of [...seen.last.keys()]) if (!kept.has(stream)) seen.last.delete(stream);
        for (const r of shown) see(seen, r);
        seen.position = position;
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
      const current = store.current(); // a file put in place moves seen.position to its own
      pages(ctx, current, { cursor: seen.position }, (records, cursor) => {
        for (const r of records) see(seen, r);
        seen.position = cursor;
        if (records.length > 0) print(records);
      });
      store.read();
    } catch (e) {
      if (!isSqliteFailure(e)) throw e;
      store.failed(e); // what was printed stays seen; the rest comes from the next poll, from where it stopped
    }
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
    const seen: Seen = { position: '', last: new Map(), ids: new Set() };
    let header = true;
    const print = (records: StoredRecord[]): void => {
      writeRecords(ctx.stdout, output, records, header);
      if (records.length > 0) header = false;
    };
    const store = followedStore(ctx, String(ctx.options['db']), (next) => replacement(ctx, next, seen, print));
    try {
      print(start(ctx, store.first, seen));
      if (following) await follow(ctx, store, seen, print);
      return 0;
    } finally {
      store.close();
    }
  },
};
