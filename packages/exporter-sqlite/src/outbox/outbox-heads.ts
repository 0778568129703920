/**
 * The stream heads of an outbox (DESIGN §3, §5): when the outbox is the
 * audit processor's primary sink, the processor resumes a stream from the
 * head its primary reports — and a forwarding-only service has nothing else
 * to ask. Shipped rows are deleted, so the outbox keeps, per stream, the
 * head after the last record it committed (size, last hash, Merkle compact
 * range) in `outbox_stream_heads`, written in the same transaction as the
 * records. Without it, a restart under a fixed stream id would start again
 * at seq 0 and fork the stream at the receiver.
 *
 * Records are followed from the §4.6 attributes of the exported LogRecords
 * (`audit.stream`, `audit.sequence.number`, `audit.record.hash`); the
 * algorithm comes from the stream's first record (its `alg` member). A
 * stream first seen after seq 0, or with a gap, has no head here: the
 * processor then starts a new stream rather than guess.
 */
import { CompactRange, type ChainHead, type HashAlgorithm } from '@otel-audit/core';
import type Database from 'better-sqlite3';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';

const SCHEMA = 'CREATE TABLE IF NOT EXISTS outbox_stream_heads (stream TEXT PRIMARY KEY, head TEXT NOT NULL)';

interface Tracked {
  range: CompactRange;
  prev: string;
}

/**
 * Per-stream heads of one outbox file: `follow` and `write` run inside the
 * outbox's insert transaction; then `committed` once it committed, or
 * `rollback` if anything (COMMIT included) failed.
 */
export class OutboxHeads {
  readonly #get: Database.Statement;
  readonly #put: Database.Statement;
  readonly #forget: Database.Statement;
  /** Cached heads; null = known to have no head (untracked). */
  readonly #cache = new Map<string, Tracked | null>();
  /** Streams changed by the running transaction (until it committed or rolled back). */
  readonly #dirty = new Set<string>();

  constructor(db: Database.Database) {
    db.exec(SCHEMA);
    this.#get = db.prepare('SELECT head FROM outbox_stream_heads WHERE stream = ?').pluck();
    this.#put = db.prepare('INSERT INTO outbox_stream_heads (stream, head) VALUES (?, ?) ON CONFLICT (stream) DO UPDATE SET head = excluded.head');
    this.#forget = db.prepare('DELETE FROM outbox_stream_heads WHERE stream = ?');
  }

  /** The stored head of `stream`, or undefined when this outbox cannot tell it. */
  head(stream: string): ChainHead | undefined {
    const t = this.#load(stream);
    if (t === null) return undefined;
    return { stream, alg: t.range.algorithm, size: t.range.size, prev: t.prev, compactRange: t.range.state() };
  }

  /** Follow one exported record (inside the insert transaction, then {@link write}). */
  follow(log: ReadableLogRecord): void {
    const a = log.attributes;
    const stream = a?.['audit.stream'];
    const seq = a?.['audit.sequence.number'];
    const hash = a?.['audit.record.hash'];
    if (typeof stream !== 'string' || typeof seq !== 'number' || typeof hash !== 'string') return; // a checkpoint, or not an audit record
    let t = this.#load(stream);
    if (t === null && seq === 0) t = this.#fresh(log);
    if (t === null || seq < t.range.size) return; // untracked, or a retried batch already followed
    this.#dirty.add(stream);
    if (seq > t.range.size) {
      this.#cache.set(stream, null); // a gap: the head is unknown from here on
      return;
    }
    try {
      t.range.appendHex(hash);
      t.prev = hash;
    } catch {
      this.#cache.set(stream, null); // not a hash of this stream's algorithm
    }
  }

  /** Write the heads the transaction changed (inside it). */
  write(): void {
    for (const stream of this.#dirty) {
      const t = this.#cache.get(stream);
      if (t) this.#put.run(stream, JSON.stringify({ alg: t.range.algorithm, prev: t.prev, range: t.range.state() }));
      else this.#forget.run(stream);
    }
  }

  /** The transaction committed: the cache is what the file holds. */
  committed(): void {
    this.#dirty.clear();
  }

  /** The transaction failed, COMMIT included: forget what it changed (reloaded from the file when next needed). */
  rollback(): void {
    for (const stream of this.#dirty) this.#cache.delete(stream);
    this.#dirty.clear();
  }

  #load(stream: string): Tracked | null {
    const cached = this.#cache.get(stream);
    if (cached !== undefined) return cached;
    let t: Tracked | null = null;
    const text = this.#get.get(stream) as string | undefined;
    if (text !== undefined) {
      try {
        const stored = JSON.parse(text) as { alg: HashAlgorithm; prev: string; range: ChainHead['compactRange'] };
        t = { range: CompactRange.restore(stored.alg, stored.range), prev: stored.prev };
      } catch {
        t = null; // unreadable: no head rather than a wrong one
      }
    }
    this.#cache.set(stream, t);
    return t;
  }

  /** A stream starting at seq 0: its algorithm is the first record's `alg` member. */
  #fresh(log: ReadableLogRecord): Tracked | null {
    let alg: unknown;
    try {
      alg = typeof log.body === 'string' ? (JSON.parse(log.body) as { alg?: unknown }).alg : undefined;
      const t = { range: new CompactRange(alg as HashAlgorithm), prev: '' };
      this.#cache.set(String(log.attributes['audit.stream']), t);
      return t;
    } catch {
      return null;
    }
  }
}
