/**
 * The write path of the store (DESIGN §3 delivery, §6): one IMMEDIATE
 * transaction per batch with prepared statements. Each record must continue
 * its stream's stored head (next seq, prev = head hash, same algorithm); the
 * head — size, prev and Merkle compact range — is read and written in the
 * same transaction, so the store never forks a chain and `head()` needs no
 * scan. A record whose id is already stored with the same checksum is a
 * retry and is skipped; the same id with other content refuses the batch.
 * A checkpoint whose size the batch's head passes through (from the stored
 * head to the batch's last record) is stored with the stream's compact range
 * at that size, so a window deep in the stream is verified from there
 * (stream-start.ts) rather than from seq 0.
 */
import { CompactRange, genesisPrev, type AuditBatch, type ChainHead, type HashAlgorithm, type SealedCheckpoint } from '@otel-audit/core';
import type Database from 'better-sqlite3';
import { RecordConflictError, StoreWriteError } from '../errors.js';
import { recordToRow, RECORD_COLUMNS } from './row-mapping.js';
import type { RowCipher } from './row-cipher.js';
import { filesystemHint } from './filesystem-hint.js';

/** What a committed batch did. */
export interface AppendResult {
  /** Records written. */
  inserted: number;
  /** Records already stored with the same checksum (retries), skipped. */
  skipped: number;
  /** Checkpoints written (re-delivered ones are not counted). */
  checkpoints: number;
  /** The committed head of every stream the batch touched. */
  heads: ChainHead[];
}

interface WorkingHead {
  alg: HashAlgorithm;
  range: CompactRange;
  prev: string;
  changed: boolean;
}

interface HeadRow {
  hash_alg: string;
  size: number;
  prev: string;
  compact_range: string;
}

/** Read a stream's stored head. */
export function readHead(stmt: Database.Statement, stream: string): ChainHead | undefined {
  const row = stmt.get(stream) as HeadRow | undefined;
  if (row === undefined) return undefined;
  return { stream, alg: row.hash_alg as HashAlgorithm, size: Number(row.size), prev: row.prev, compactRange: JSON.parse(row.compact_range) };
}

/**
 * The newest stored checkpoint of `stream`, or undefined.
 *
 * @example
 * lastCheckpointOf(db, 'billing/api-1')?.size // 1000
 */
export function lastCheckpointOf(db: Database.Database, stream: string): SealedCheckpoint | undefined {
  const row = db
    .prepare('SELECT size, root_hash, time_unix_nano, note FROM audit_checkpoints WHERE stream = ? ORDER BY size DESC, checkpoint_id DESC LIMIT 1')
    .safeIntegers()
    .get(stream) as { size: bigint; root_hash: string; time_unix_nano: bigint; note: string } | undefined;
  return row === undefined ? undefined : { stream, size: Number(row.size), rootHash: row.root_hash, timeUnixNano: row.time_unix_nano, note: row.note };
}

export class Appender {
  readonly #insert: Database.Statement;
  readonly #byId: Database.Statement;
  readonly #insertCheckpoint: Database.Statement;
  readonly #headOf: Database.Statement;
  readonly #saveHead: Database.Statement;
  readonly #countHour: Database.Statement;
  readonly #cipher: RowCipher | undefined;
  readonly #tx: Database.Transaction<(batch: AuditBatch) => AppendResult>;

  constructor(db: Database.Database, cipher: RowCipher | undefined) {
    this.#cipher = cipher;
    this.#insert = db.prepare(
      `INSERT INTO audit_logs (${RECORD_COLUMNS.join(', ')}) VALUES (${RECORD_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (event_id) DO NOTHING`,
    );
    this.#byId = db.prepare('SELECT stream, seq, checksum FROM audit_logs WHERE event_id = ?');
    this.#insertCheckpoint = db.prepare(
      'INSERT INTO audit_checkpoints (stream, size, root_hash, time_unix_nano, note, compact_range) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (stream, size, note) DO NOTHING',
    );
    this.#headOf = db.prepare('SELECT hash_alg, size, prev, compact_range FROM audit_stream_heads WHERE stream = ?');
    this.#saveHead = db.prepare(
      `INSERT INTO audit_stream_heads (stream, hash_alg, size, prev, compact_range) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (stream) DO UPDATE SET size = excluded.size, prev = excluded.prev, compact_range = excluded.compact_range`,
    );
    this.#countHour = db.prepare(
      `INSERT INTO audit_stats_hourly (hour, event_type, event_action, event_result, severity, n) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (hour, event_type, event_action, event_result, severity) DO UPDATE SET n = n + excluded.n`,
    );
    this.#tx = db.transaction((batch: AuditBatch) => this.#run(batch));
  }

  /** Commit `batch` in one transaction, or throw and commit nothing. */
  append(batch: AuditBatch): AppendResult {
    if (typeof batch !== 'object' || batch === null) throw new TypeError('batch must be { records, checkpoints }');
    if (!Array.isArray(batch.records)) throw new TypeError('batch.records must be an array of sealed records');
    if (batch.checkpoints !== undefined && !Array.isArray(batch.checkpoints)) throw new TypeError('batch.checkpoints must be an array');
    return this.#tx.immediate(batch);
  }

  /**
   * {@link Appender.append}, with SQLite's own errors (locked, full,
   * read-only, I/O) as a `StoreWriteError` naming the store at `path`:
   * nothing of the batch was committed.
   */
  appendOrFail(batch: AuditBatch, path: string): AppendResult {
    try {
      return this.append(batch);
    } catch (e) {
      const code = (e as { code?: unknown })?.code;
      if (typeof code !== 'string' || !code.startsWith('SQLITE_')) throw e;
      throw new StoreWriteError(code, `audit store ${path}: the batch was not committed (${code}: ${(e as Error).message})${filesystemHint(path, code)}`, { cause: e });
    }
  }

  #working(heads: Map<string, WorkingHead>, stream: string, alg: HashAlgorithm, at: Snapshots | undefined): WorkingHead {
    let h = heads.get(stream);
    if (h === undefined) {
      const stored = readHead(this.#headOf, stream);
      h = stored
        ? { alg: stored.alg, range: CompactRange.restore(stored.alg, stored.compactRange), prev: stored.prev, changed: false }
        : { alg, range: new CompactRange(alg), prev: genesisPrev(alg), changed: false };
      heads.set(stream, h);
      at?.take(stream, h.range);
    }
    return h;
  }

  #run(batch: AuditBatch): AppendResult {
    const heads = new Map<string, WorkingHead>();
    const hourly = new Map<string, { row: [number, string, string, string, string]; n: number }>();
    let inserted = 0;
    let skipped = 0;
    // Undefined for a batch without checkpoints: no per-record work then.
    const at = Snapshots.of(batch.checkpoints);
    for (const [i, sealed] of batch.records.entries()) {
      assertSealed(sealed, i);
      const r = sealed.record;
      const h = this.#working(heads, r.stream, r.alg, at);
      if (r.seq === h.range.size && r.prev === h.prev && r.alg === h.alg) {
        const res = this.#insert.run(recordToRow(r as never, sealed.hash, this.#cipher));
        if (res.changes === 0) this.#conflict(r.id, r.stream, r.seq, sealed.hash);
        h.range.appendHex(sealed.hash);
        h.prev = sealed.hash;
        h.changed = true;
        at?.take(r.stream, h.range);
        inserted++;
        // Length-prefixed, so no member text can make two tuples collide.
        const hour = hourOf(r.time);
        const key = `${hour}:${r.type.length}:${r.type}${r.action.length}:${r.action}${r.outcome.length}:${r.outcome}${r.severity}`;
        const count = hourly.get(key);
        if (count) count.n++;
        else hourly.set(key, { row: [hour, r.type, r.action, r.outcome, r.severity], n: 1 });
        continue;
      }
      const existing = this.#byId.get(r.id) as { stream: string; seq: number; checksum: string } | undefined;
      if (existing !== undefined && existing.stream === r.stream && Number(existing.seq) === r.seq && existing.checksum === sealed.hash) {
        skipped++;
        continue;
      }
      if (existing !== undefined) this.#conflict(r.id, r.stream, r.seq, sealed.hash);
      const why = r.alg !== h.alg
        ? `it uses ${r.alg} but the stream uses ${h.alg}`
        : r.seq !== h.range.size
          ? `its seq is ${r.seq} but the stream's next seq is ${h.range.size}`
          : `its prev ${r.prev} is not the stream's last hash ${h.prev}`;
      throw new RecordConflictError('AUDIT_STORE_CHAIN_CONFLICT', { recordId: r.id, stream: r.stream, seq: r.seq },
        `record ${r.id} does not continue stream "${r.stream}": ${why}; the batch was not committed`);
    }
    for (const { row, n } of hourly.values()) this.#countHour.run(...row, n);
    let checkpoints = 0;
    for (const cp of batch.checkpoints ?? []) checkpoints += this.#checkpoint(cp, heads, at);
    const out: ChainHead[] = [];
    for (const [stream, h] of heads) {
      const head: ChainHead = { stream, alg: h.alg, size: h.range.size, prev: h.prev, compactRange: h.range.state() };
      if (h.changed) this.#saveHead.run(stream, h.alg, head.size, head.prev, JSON.stringify(head.compactRange));
      out.push(head);
    }
    return { inserted, skipped, checkpoints, heads: out };
  }

  #checkpoint(cp: SealedCheckpoint, heads: ReadonlyMap<string, WorkingHead>, at: Snapshots | undefined): number {
    if (typeof cp !== 'object' || cp === null || typeof cp.stream !== 'string' || typeof cp.note !== 'string' || typeof cp.rootHash !== 'string') {
      throw new TypeError('batch.checkpoints[] must be { stream, size, rootHash, timeUnixNano, note }');
    }
    if (!Number.isSafeInteger(cp.size) || cp.size < 0) throw new RangeError(`checkpoint.size must be a non-negative integer; got ${String(cp.size)}`);
    if (typeof cp.timeUnixNano !== 'bigint') throw new TypeError('checkpoint.timeUnixNano must be a bigint');
    // A stream no record of the batch touched: its stored head may stand at the checkpoint's size.
    if (!heads.has(cp.stream)) {
      const head = readHead(this.#headOf, cp.stream);
      if (head !== undefined && head.size === cp.size) at?.take(cp.stream, CompactRange.restore(head.alg, head.compactRange));
    }
    const range = at?.get(cp.stream, cp.size);
    return this.#insertCheckpoint.run(cp.stream, cp.size, cp.rootHash, cp.timeUnixNano, cp.note, range ?? null).changes;
  }

  #conflict(id: string, stream: string, seq: number, hash: string): never {
    const existing = this.#byId.get(id) as { stream: string; seq: number; checksum: string } | undefined;
    const where = existing ? `stream "${existing.stream}" seq ${existing.seq} with checksum ${existing.checksum}` : 'another row';
    throw new RecordConflictError('AUDIT_STORE_ID_CONFLICT', { recordId: id, stream, seq },
      `record id ${id} is already stored (${where}) with different content than the record given (checksum ${hash}); the batch was not committed`);
  }
}

/**
 * The compact ranges a batch's checkpoints are stored with: the sizes they
 * name per stream, and the range (as JSON) when the head stands at one.
 */
class Snapshots {
  readonly #wanted = new Map<string, Map<number, string | undefined>>();

  /** Undefined when `checkpoints` names no size (or is no array: the batch is refused later). */
  static of(checkpoints: readonly SealedCheckpoint[] | undefined): Snapshots | undefined {
    if (!Array.isArray(checkpoints) || checkpoints.length === 0) return undefined;
    const s = new Snapshots();
    for (const cp of checkpoints) {
      if (typeof cp !== 'object' || cp === null || typeof cp.stream !== 'string' || !Number.isSafeInteger(cp.size) || cp.size <= 0) continue;
      let sizes = s.#wanted.get(cp.stream);
      if (sizes === undefined) s.#wanted.set(cp.stream, (sizes = new Map()));
      sizes.set(cp.size, undefined);
    }
    return s;
  }

  /** Keep `range` if a checkpoint of `stream` names its size. */
  take(stream: string, range: CompactRange): void {
    const sizes = this.#wanted.get(stream);
    if (sizes !== undefined && sizes.has(range.size) && sizes.get(range.size) === undefined) sizes.set(range.size, JSON.stringify(range.state()));
  }

  get(stream: string, size: number): string | undefined {
    return this.#wanted.get(stream)?.get(size);
  }
}

/** Shape check of a sealed record: cheap, and it turns garbage into a clear TypeError. */
function assertSealed(s: unknown, i: number): void {
  const r = (s as { record?: Record<string, unknown> } | null)?.record;
  if (typeof s !== 'object' || s === null || typeof (s as { hash?: unknown }).hash !== 'string' || typeof r !== 'object' || r === null
    || typeof r.stream !== 'string' || !Number.isSafeInteger(r.seq) || typeof r.id !== 'string' || typeof r.time !== 'string' || typeof r.prev !== 'string') {
    throw new TypeError(`batch.records[${i}] must be a sealed record { record, canonical, hash } as made by AuditChain.append`);
  }
}

/** The Unix hour of a decimal Unix-nanosecond time (exact: seconds fit a double). */
export function hourOf(time: string): number {
  return time.length <= 12 ? 0 : Math.floor(Number(time.slice(0, -9)) / 3600);
}
