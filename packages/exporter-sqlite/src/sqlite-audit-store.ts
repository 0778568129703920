/**
 * The SQLite audit store of DESIGN §6: core's `AuditSink` over one SQLite
 * file (WAL, `synchronous=NORMAL` by default or `FULL`, busy timeout, one
 * writer connection), plus what an investigator does with the file — query,
 * verify, export, stats and retention. Writes go through the `Appender` (one
 * transaction per batch); long reads (verify, export) open their own
 * read-only connection so they see one snapshot and never block appends.
 * Opened with `readOnly`, the store only reads: an auditor's copy of the
 * evidence stays byte for byte what it was.
 */
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AbandonedStream, AuditBatch, AuditSink, ChainHead, SealedCheckpoint, StreamClaim, StreamWriter, VerificationReport } from '@otel-audit/core';
import Database from 'better-sqlite3';
import type { ArchiveInfo, AuditArchive } from './archive.js';
import type { BundleExportOptions } from './bundle.js';
import { StoreWriteError } from './errors.js';
import { Appender, lastCheckpointOf, readHead, type AppendResult } from './internal/appender.js';
import { listArchives, readArchive } from './internal/archive-store.js';
import type { ExportOptions } from './internal/export-records.js';
import { startExport } from './internal/export-stream.js';
import { openWriter, type SqliteAuditStoreOptions } from './internal/open-writer.js';
import { purgedRanges, type PurgedRange, type PurgedRangeFilter } from './internal/purged-ranges.js';
import { queryRecords, type AuditQuery, type AuditQueryPage, type StoredRecord } from './internal/query-records.js';
import { readStream, type StreamReadOptions } from './internal/read-stream.js';
import type { RowCipher } from './internal/row-cipher.js';
import { DEFAULT_ARCHIVE_AFTER_DAYS, DEFAULT_RETENTION_DAYS } from './env-config.js';
import { archiveStreams, olderThanOf, purgeStreams, type ArchiveOptions, type PurgeOptions, type PurgeResult } from './internal/retention.js';
import { storeStats, type AuditStats, type StatsOptions } from './internal/store-stats.js';
import { rangeStartCost, type RangeStartCost, type RangeStartCostOptions } from './internal/stream-start.js';
import { listStreams, storedStreams, type StoredStream } from './internal/stored-streams.js';
import { verifyStore, type VerifyStoreOptions } from './internal/store-verify.js';
import { abandonedStreams, claimStream, releaseStream } from './internal/stream-writers.js';

/**
 * The store. Implements `AuditSink`: `append(batch)` resolves once the batch
 * is committed, idempotently on record id; `head(stream)` restores a
 * processor after restart.
 *
 * @example
 * const store = new SqliteAuditStore('audit.db');
 * const chain = new AuditChain({ stream: 'api/1', head: await store.head('api/1') });
 * await store.append({ records: [chain.append(event)], checkpoints: [] });
 * const report = await store.verify({ keyring });
 * store.close();
 */
export class SqliteAuditStore implements AuditSink {
  readonly name = 'sqlite';
  /** The database file. */
  readonly path: string;
  readonly #db: Database.Database;
  readonly #busyTimeoutMillis: number;
  readonly #cipher: RowCipher | undefined;
  readonly #appender: Appender | undefined;
  readonly #headOf: Database.Statement;
  readonly #queries = new Map<string, Database.Statement>();
  #closed = false;

  constructor(path: string, options: SqliteAuditStoreOptions = {}) {
    const opened = openWriter(path, options);
    this.path = path;
    this.#busyTimeoutMillis = opened.busyTimeoutMillis;
    this.#cipher = opened.cipher;
    const db = opened.db;
    this.#db = db;
    this.#appender = options.readOnly === true ? undefined : new Appender(db, this.#cipher);
    this.#headOf = db.prepare('SELECT hash_alg, size, prev, compact_range FROM audit_stream_heads WHERE stream = ?');
  }

  /**
   * The writer connection: an escape hatch for diagnostics, pragmas and
   * tests. Writing through it bypasses the store's checks (not the
   * append-only triggers); `verify` reports what it breaks.
   *
   * @example
   * store.database.pragma('wal_checkpoint(TRUNCATE)');
   */
  get database(): Database.Database {
    this.#assertOpen();
    return this.#db;
  }

  /**
   * `AuditSink.append`: commit `batch` (records and checkpoints of any
   * streams) in one transaction. Rejects with `RecordConflictError`
   * (nothing committed) or `StoreWriteError`.
   *
   * @example
   * await store.append({ records: sealed, checkpoints: [] });
   */
  append(batch: AuditBatch): Promise<void> {
    try {
      this.appendSync(batch);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * {@link SqliteAuditStore.append}, resolving with what was committed:
   * records inserted and skipped as retries, and the head of every stream
   * the batch touched.
   *
   * @example
   * const { heads } = await store.appendBatch({ records: sealed, checkpoints: [] });
   */
  appendBatch(batch: AuditBatch): Promise<AppendResult> {
    try {
      return Promise.resolve(this.appendSync(batch));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * {@link SqliteAuditStore.append}, synchronously.
   *
   * @example
   * store.appendSync({ records: [chain.append(event)], checkpoints: [] });
   */
  appendSync(batch: AuditBatch): AppendResult {
    return this.#writable().appendOrFail(batch, this.path);
  }

  /**
   * The stored head of `stream`, or undefined.
   *
   * @example
   * const chain = new AuditChain({ stream, head: await store.head(stream) });
   */
  head(stream: string): Promise<ChainHead | undefined> {
    if (typeof stream !== 'string') return Promise.reject(new TypeError('stream must be a string'));
    this.#assertOpen();
    return Promise.resolve(readHead(this.#headOf, stream));
  }

  /**
   * The newest stored checkpoint of `stream` (the processor's optional
   * `CheckpointSource`: a stream resumed under another signer key gets a
   * `system/key_changed` record).
   *
   * @example
   * const cp = await store.lastCheckpoint('billing/api-1'); // { size, rootHash, note, ... } or undefined
   */
  lastCheckpoint(stream: string): Promise<SealedCheckpoint | undefined> {
    if (typeof stream !== 'string') return Promise.reject(new TypeError('stream must be a string'));
    this.#assertOpen();
    return Promise.resolve(lastCheckpointOf(this.#db, stream));
  }

  /**
   * `AuditSink.claimStream` (internal/stream-writers.ts): hold `stream` for
   * `writer`, so no other live process resumes it meanwhile.
   *
   * @example
   * const claim = await store.claimStream('billing/api', { id, pid: process.pid, host: os.hostname() });
   */
  async claimStream(stream: string, writer: StreamWriter): Promise<StreamClaim> {
    this.#writable();
    return claimStream(this.#db, stream, writer);
  }

  /** `AuditSink.releaseStream`: give up `writer`'s claim of `stream`. */
  async releaseStream(stream: string, writer: StreamWriter): Promise<void> {
    this.#writable();
    releaseStream(this.#db, stream, writer);
  }

  /**
   * `AuditSink.abandonedStreams`: the streams whose claim a gone process of
   * `writer`'s host left, oldest first (a starting processor seals them).
   *
   * @example
   * for (const { stream, holder } of await store.abandonedStreams(writer)) console.log(stream, holder.pid);
   */
  async abandonedStreams(writer: StreamWriter): Promise<AbandonedStream[]> {
    this.#assertOpen();
    return abandonedStreams(this.#db, writer);
  }

  /**
   * Every stream in the store with its size.
   *
   * @example
   * for (const { stream, size } of store.streams()) console.log(stream, size);
   */
  streams(): StoredStream[] {
    this.#assertOpen();
    return storedStreams(this.#db);
  }

  /**
   * Verify the stored log against its checkpoints and `options.keyring`.
   * Never throws on tampering: the report lists every finding.
   *
   * @example
   * const report = await store.verify({ keyring, onProgress: (p) => console.log(p.records) });
   * if (!report.ok) process.exitCode = 1;
   */
  async verify(options: VerifyStoreOptions = {}): Promise<VerificationReport> {
    const reader = this.openReader();
    try {
      return await verifyStore(reader, this.#cipher, options);
    } finally {
      reader.close();
    }
  }

  /**
   * One page of records matching `query`, newest first by default. Filters
   * are exact matches (`text` is a substring of details); page on with
   * `nextCursor`. Throws RangeError/TypeError for bad filters and
   * `InvalidCursorError` for a cursor this store did not make.
   *
   * @example
   * const page = store.query({ actorId: 'alice', since: new Date(Date.now() - 7 * 864e5), limit: 100 });
   * const next = store.query({ actorId: 'alice', cursor: page.nextCursor });
   */
  query(query: AuditQuery = {}): AuditQueryPage {
    this.#assertOpen();
    return queryRecords(this.#db, this.#queries, this.#cipher, query);
  }

  /**
   * The records of `stream` with seq from `options.fromSeq` (default 0) to
   * `options.toSeq` (inclusive), oldest first, at most `options.limit`
   * (default 100, up to 10,000), read through the (stream, seq) index: the
   * cost is that of the records returned, however long the stream. Builds
   * no verification start, unlike a bundle export of the range.
   *
   * @example
   * const next = store.readStream('api/1', { fromSeq: seen, limit: 500 }); // [{ record, checksum, timestamp }, ...]
   */
  readStream(stream: string, options: StreamReadOptions = {}): StoredRecord[] {
    this.#assertOpen();
    return readStream(this.#db, this.#queries, this.#cipher, stream, options);
  }

  /**
   * What a verify or bundle export of `options` reads, synchronously, to
   * build each stream's range start before its first record: the stored
   * checksums from the nearest archive below the range (or seq 0) up to it
   * — none when the range starts at seq 0 or at a purge's cut. Counted on
   * the indexes, reading no checksum. Verify's or a bundle export's options
   * may be passed as they are; throws TypeError/RangeError for bad bounds.
   *
   * @example
   * const { rows, longest } = store.rangeStartCost({ streams: ['api/1'], fromSeq: 2_000_000 });
   * if (rows > 100_000) console.warn(`${longest!.stream}: ${longest!.rows} hashes read before seq ${longest!.seq}`);
   */
  rangeStartCost(options: RangeStartCostOptions | VerifyStoreOptions | BundleExportOptions = {}): RangeStartCost {
    this.#assertOpen();
    return rangeStartCost(this.#db, options, () => listStreams(this.#db));
  }

  /**
   * Counts for a dashboard over a window (default: the last 24 hours).
   *
   * @example
   * const { byType, failedLogins, buckets } = store.stats({ since: new Date(Date.now() - 3600_000), bucket: 'minute' });
   */
  stats(options: StatsOptions = {}): AuditStats {
    this.#assertOpen();
    return storeStats(this.#db, options);
  }

  /**
   * Archive, per stream, the records older than `olderThan` (default 30
   * days) up to the last checkpoint before them, after checking they still
   * hash to their checksums and the checkpoint's root. Rows stay in the log
   * until {@link SqliteAuditStore.purge}. Returns the archives created.
   *
   * @example
   * const created = store.archive({ olderThan: new Date(Date.now() - 30 * 864e5) });
   */
  archive(options: ArchiveOptions = {}): ArchiveInfo[] {
    this.#writable();
    return archiveStreams(this.#db, this.#cipher, olderThanOf(options, DEFAULT_ARCHIVE_AFTER_DAYS), options);
  }

  /**
   * Delete from the log the archived prefixes whose records are all older
   * than `olderThan` (default 90 days), each after a
   * `system/retention_purge` record was appended to its stream. The log
   * still verifies afterwards, from the archived cut.
   *
   * @example
   * await store.purge({ olderThan: new Date(Date.now() - 90 * 864e5), signers });
   */
  async purge(options: PurgeOptions = {}): Promise<PurgeResult[]> {
    return purgeStreams(this.#db, this.#writable(), olderThanOf(options, DEFAULT_RETENTION_DAYS), options, this.#cipher);
  }

  /**
   * The archives of the store (of one stream), oldest first.
   *
   * @example
   * for (const a of store.archives('api/1')) console.log(a.firstSeq, a.lastSeq, a.purged);
   */
  archives(stream?: string): ArchiveInfo[] {
    this.#assertOpen();
    return listArchives(this.#db, stream);
  }

  /**
   * The purged runs of records that `filter` — a query, an export's options
   * or just bounds — reaches by stream, time or seq: records no longer in
   * the log, so `query` and `export` do not return them, and the archives
   * of this store that hold them. Reads only the purge and archive
   * descriptions; other filters (actor, type, text, …) are not matched.
   *
   * @example
   * for (const p of store.purgedRanges({ stream: 'api/1', since: '2025-01-01T00:00:00Z' })) console.log(p.firstSeq, p.lastSeq, p.archiveIds);
   */
  purgedRanges(filter: PurgedRangeFilter | AuditQuery | ExportOptions | BundleExportOptions = {}): PurgedRange[] {
    this.#assertOpen();
    return purgedRanges(this.#db, filter);
  }

  /**
   * One archive with its data (decrypted when encryption at rest is on),
   * ready for `verifyArchive` or to be written out.
   *
   * @example
   * fs.writeFileSync('archive-1.ndjson.gz', store.readArchive(1).data);
   */
  readArchive(archiveId: number): AuditArchive {
    this.#assertOpen();
    return readArchive(this.#db, this.#cipher, archiveId);
  }

  /**
   * Stream an export: a JSON array, NDJSON or CSV of the records matching
   * the filters (oldest first by default), or a verifiable bundle. Yields
   * text chunks; reads one consistent snapshot on its own connection.
   *
   * @example
   * for await (const chunk of store.export({ format: 'ndjson', actorId: 'alice' })) process.stdout.write(chunk);
   */
  export(options: ExportOptions | BundleExportOptions): AsyncIterable<string> {
    return this.#export(options, { records: 0 });
  }

  /**
   * {@link SqliteAuditStore.export} into `destination` with backpressure;
   * ends it. Resolves with the number of records written.
   *
   * @example
   * await store.exportTo(fs.createWriteStream('audit.csv'), { format: 'csv', since: '2026-01-01T00:00:00Z' });
   */
  async exportTo(destination: Writable, options: ExportOptions | BundleExportOptions): Promise<{ records: number }> {
    if (destination === null || typeof destination !== 'object' || typeof (destination as Writable).write !== 'function') throw new TypeError('destination must be a Writable stream');
    const counter = { records: 0 };
    await pipeline(Readable.from(this.#export(options, counter)), destination);
    return counter;
  }

  #export(options: ExportOptions | BundleExportOptions, counter: { records: number }): AsyncGenerator<string> {
    this.#assertOpen();
    return startExport(() => this.openReader(), this.#cipher, options, counter);
  }

  /** A new read-only connection to the same file; the caller closes it. */
  openReader(): Database.Database {
    this.#assertOpen();
    const reader = new Database(this.path, { readonly: true, fileMustExist: true });
    reader.pragma(`busy_timeout = ${this.#busyTimeoutMillis}`);
    return reader;
  }

  /**
   * Close the store. Idempotent.
   *
   * @example
   * await store.shutdown();
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  /** `AuditSink.shutdown`: {@link SqliteAuditStore.close}. */
  shutdown(): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error(`audit store ${this.path} is closed`);
  }

  #writable(): Appender {
    this.#assertOpen();
    if (this.#appender === undefined) throw new StoreWriteError(undefined, `audit store ${this.path} was opened read-only; nothing was written (open it without readOnly to write)`);
    return this.#appender;
  }
}
