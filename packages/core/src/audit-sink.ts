/**
 * The contract between the processor and the places records are delivered
 * to (DESIGN §2, §5): the processor seals records and checkpoints and hands
 * them to sinks in batches; a sink commits them durably and can tell the
 * stored head of a stream so the processor resumes it after a restart.
 * Defined in core so that the processor and the stores never import each
 * other.
 */
import type { ChainHead, SealedRecord } from './audit-chain.js';

/** A checkpoint as delivered to and stored by sinks. */
export interface SealedCheckpoint {
  stream: string;
  /** Tree size covered. */
  size: number;
  /** Merkle root at `size`, lowercase hex. */
  rootHash: string;
  /** Checkpoint time, Unix nanoseconds. */
  timeUnixNano: bigint;
  /** The signed note text (DESIGN §4.3), or the unsigned form. */
  note: string;
}

/** One delivery: records of any streams, in seq order per stream, and checkpoints. */
export interface AuditBatch {
  records: readonly SealedRecord[];
  checkpoints: readonly SealedCheckpoint[];
}

/**
 * Where sealed records go. `append` resolves only once the batch is durably
 * committed (the receipt of every record in it depends on that), and must be
 * idempotent on record id: a retried batch does not duplicate anything.
 *
 * @example
 * class ArraySink implements AuditSink {
 *   readonly batches: AuditBatch[] = [];
 *   async append(batch: AuditBatch) { this.batches.push(batch); }
 *   async head() { return undefined; }
 * }
 */
export interface AuditSink {
  /** A short name for diagnostics and metrics, e.g. `sqlite`. */
  readonly name?: string;
  /** Commit a batch; reject if it was not committed (the processor retries). */
  append(batch: AuditBatch): Promise<void>;
  /** The stored head of `stream`, or undefined if the sink holds none of it. */
  head(stream: string): Promise<ChainHead | undefined>;
  /** Release resources; called once by the processor's shutdown after the last append. */
  shutdown?(): Promise<void>;
  /**
   * True when the sink can take a stream with seqs missing — it forwards
   * records one by one, as a log exporter does, and whoever receives them
   * reports the gap. Such a sink, failing as a secondary while the
   * processor's queue is full, skips records instead of holding the queue
   * (and the primary) up. A store that appends a chain leaves it unset.
   */
  readonly acceptsGaps?: boolean;
  /**
   * Claim `stream` for `writer` before its head is read, so that two
   * writers never resume one stream and race for its next seqs (the store
   * would refuse one side's records for ever). Resolves `{ ok: true }` when
   * no other live writer holds it — a holder on this host whose process is
   * gone (or whose pid now belongs to a process started later) is taken
   * over — else `{ ok: false, holder }`, and the processor
   * opens a new stream that names this one. Optional: a sink without it
   * makes no claim.
   */
  claimStream?(stream: string, writer: StreamWriter): Promise<StreamClaim>;
  /** Give a claim up (at shutdown, after the last append); a claim `writer` does not hold is left alone. */
  releaseStream?(stream: string, writer: StreamWriter): Promise<void>;
  /**
   * The streams claimed by processes of `writer`'s host that are gone — by
   * the test `claimStream` uses to take a claim over (a pid that was reused
   * by another process counts as gone) — oldest claim first. A process that
   * was killed never wrote the checkpoint over its last records; a starting
   * processor claims each of these streams, seals a `system/stream_abandoned`
   * record and a signed checkpoint into it, and releases it. Optional: a
   * sink without it leaves such streams as they are (verification reports
   * their `unsigned_tail`).
   */
  abandonedStreams?(writer: StreamWriter): Promise<AbandonedStream[]>;
}

/**
 * Who writes a stream: an id of this pipeline (one per processor), its
 * process id and host name, so a claim left by a crash can be recognised.
 *
 * @example
 * const writer: StreamWriter = { id: createRecordId(), pid: process.pid, host: os.hostname() };
 */
export interface StreamWriter {
  id: string;
  pid: number;
  host: string;
}

/**
 * The answer to {@link AuditSink.claimStream}: held, or who holds the
 * stream (since when, ISO-8601). Held with `tookOverFrom` when the claim of
 * a process that is gone was taken over: it ended without giving the
 * stream up (killed, crashed), so records it had not committed were lost.
 *
 * @example
 * const claim: StreamClaim = { ok: false, holder: { id, pid: 4711, host: 'web-1', since: '2026-11-29T21:00:00.000Z' } };
 */
export type StreamClaim =
  | { ok: true; tookOverFrom?: StreamWriter & { since: string } }
  | { ok: false; holder: StreamWriter & { since: string } };

/** A stream whose claim a process that is gone left behind ({@link AuditSink.abandonedStreams}). */
export interface AbandonedStream {
  stream: string;
  holder: StreamWriter & { since: string };
}
