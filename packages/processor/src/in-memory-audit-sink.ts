/**
 * An `AuditSink` (core, DESIGN §5) that keeps everything in memory: for
 * tests, demos, and as the reference of the sink contract — commits are
 * idempotent on record id, records of a stream must arrive in seq order, and
 * `head()` reports the stored head (size, last hash, Merkle compact range) so
 * a new processor over the same sink resumes the stream.
 */
import { CompactRange, genesisPrev, type AuditBatch, type AuditSink, type ChainHead, type SealedCheckpoint, type SealedRecord } from '@otel-audit/core';
import type { CheckpointSource } from './internal/key-change.js';
import { keyOf } from './internal/queued-record.js';

interface StoredStream {
  alg: ChainHead['alg'];
  /** Merkle compact range over the first `range.size` records (brought up to date in `head()`). */
  range: CompactRange;
  /** Hashes of records committed but not yet in `range`. */
  pending: string[];
  size: number;
  prev: string;
}

/**
 * In-memory sink.
 *
 * @example
 * const sink = new InMemoryAuditSink();
 * const processor = new AuditLogRecordProcessor({ sinks: [sink], stream: 'test/1' });
 * // ... emit, then await processor.forceFlush()
 * sink.records.map((r) => r.record.action);
 */
export class InMemoryAuditSink implements AuditSink, CheckpointSource {
  readonly name: string;
  /** Every committed record, in commit order (seq order per stream). */
  readonly records: SealedRecord[] = [];
  /** Every committed checkpoint. */
  readonly checkpoints: SealedCheckpoint[] = [];
  /** Number of committed `append` calls. */
  appends = 0;
  readonly #ids = new Set<string>();
  readonly #notes = new Set<string>();
  readonly #streams = new Map<string, StoredStream>();
  #closed = false;

  constructor(options: { name?: string } = {}) {
    this.name = options.name ?? 'memory';
  }

  async append(batch: AuditBatch): Promise<void> {
    if (this.#closed) throw new Error(`sink "${this.name}" is shut down`);
    // Validate the whole batch first so a rejected batch changes nothing.
    // keyOf reads id/stream/seq without re-parsing records queued by the processor.
    const next = new Map<string, number>();
    for (const r of batch.records) {
      const k = keyOf(r);
      if (this.#ids.has(k.id)) continue;
      const s = this.#streams.get(k.stream);
      const expected = next.get(k.stream) ?? s?.size ?? 0;
      if (k.seq !== expected) throw new Error(`sink "${this.name}": stream "${k.stream}" expects seq ${expected}, got ${k.seq}`);
      next.set(k.stream, expected + 1);
    }
    for (const r of batch.records) {
      const k = keyOf(r);
      if (this.#ids.has(k.id)) continue;
      let s = this.#streams.get(k.stream);
      if (s === undefined) {
        const alg = r.record.alg;
        this.#streams.set(k.stream, (s = { alg, range: new CompactRange(alg), pending: [], size: 0, prev: genesisPrev(alg) }));
      }
      // The Merkle range is only read by head(): hash it there, not per commit.
      s.pending.push(r.hash);
      s.size++;
      s.prev = r.hash;
      this.#ids.add(k.id);
      this.records.push(r);
    }
    for (const c of batch.checkpoints) {
      // The note names the stream and size: equal notes are the same checkpoint.
      if (!this.#notes.has(c.note)) {
        this.#notes.add(c.note);
        this.checkpoints.push(c);
      }
    }
    this.appends++;
  }

  async head(stream: string): Promise<ChainHead | undefined> {
    const s = this.#streams.get(stream);
    if (s === undefined) return undefined;
    for (const h of s.pending) s.range.appendHex(h);
    s.pending = [];
    return { stream, alg: s.alg, size: s.range.size, prev: s.prev, compactRange: s.range.state() };
  }

  /** The last checkpoint stored for `stream` (the `CheckpointSource` side: lets a resumed processor detect a key change). */
  async lastCheckpoint(stream: string): Promise<SealedCheckpoint | undefined> {
    return this.checkpoints.findLast((c) => c.stream === stream);
  }

  async shutdown(): Promise<void> {
    this.#closed = true;
  }

  /** Records of one stream, in seq order. */
  recordsOf(stream: string): SealedRecord[] {
    return this.records.filter((r) => keyOf(r).stream === stream);
  }

  /** Make the sink usable again after `shutdown()` (a "restart" in tests). */
  reopen(): void {
    this.#closed = false;
  }
}
