/**
 * Verify-and-store of incoming audit records (DESIGN §4.1–4.4, §5), one
 * request at a time. Each record's canonical body must hash to its
 * `audit.record.hash` attribute (else `hash_mismatch`, refused) and be a
 * valid record in the normal form of core's `normalizeRecord` (else
 * `malformed`, refused on its own — never a failed request; see
 * {@link checkIncomingRecord}); a record that
 * continues its stream's head (next seq, `prev` = last hash) is stored; one
 * that arrives early waits in `collector_pending` (durable, so an accepted
 * request is never lost) until its predecessors come; a retry (same id,
 * same hash) is accepted and ignored; the same id with other content as a
 * stored record is a conflict (refused on its own; a request of nothing
 * but conflicts is answered 409); a record that breaks the chain is refused
 * (`chain_break`). Several records may wait at one seq, up to a cap; when
 * the stream reaches it, the one that continues the chain is stored and the
 * others are dropped as findings (see {@link ParkedCandidates}); the
 * records waiting in all are capped too (`maxParkedRecords`). A record
 * a cap turned away is looked at again at the end of its request,
 * which may have brought its predecessor after it; else it is refused.
 * Checkpoints are checked against trusted keys and, once the stream
 * reaches their size, against the Merkle root of what was stored
 * (`root_mismatch`). A gap
 * that outlives `gapGraceMillis` is reported once as `seq_gap`. Memory is
 * bounded: per-stream state is kept for the most recently used streams,
 * and checkpoints waiting in memory are capped (all checkpoints are stored
 * regardless, so `otel-audit verify` still checks every one).
 */
import { CompactRange, genesisPrev, Keyring, type HashAlgorithm, type SealedCheckpoint, type SealedRecord } from '@otel-audit/core';
import { RecordConflictError, type SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import type Database from 'better-sqlite3';
import type { CollectorFinding, CollectorFindings } from './collector-findings.js';
import { CheckpointWatch } from './checkpoint-watch.js';
import { advanceLive, liveStream, type LiveStream } from './live-stream.js';
import { gapsOfIdleStreams, gapsOfLiveStreams } from './gap-watch.js';
import { DEFAULT_MAX_PARKED, ParkedCandidates } from './parked-candidates.js';
import { PendingRecords } from './pending-records.js';
import { checkIncomingRecord, type CheckedRecord } from './incoming-record.js';
import type { Sender } from './sender-tokens.js';

/** A record or checkpoint taken from an OTLP log, in request order. */
export type IncomingItem =
  | { kind: 'record'; body: string; claimedHash: string | undefined }
  | { kind: 'checkpoint'; note: string };

/** What became of one request. */
export interface IngestResult {
  /** Records stored (this request's and earlier ones that waited for it). */
  stored: number;
  /** This request's records now waiting for a predecessor. */
  pending: number;
  duplicates: number;
  /** This request's items taken (stored, waiting, retries, checkpoints). */
  accepted: number;
  rejected: number;
  conflicts: number;
  messages: string[];
}

/** Bounds of what the collector keeps in memory, and of the records waiting in collector_pending. */
export interface IngestLimits {
  /** Streams whose verification state stays in memory (the least recently used is reloaded from the store when it comes back). */
  maxLiveStreams: number;
  /** Checkpoints kept waiting per stream (for a size not reached yet, or of a stream not seen yet). */
  maxWaitingCheckpoints: number;
  /** Streams not seen yet whose checkpoints are kept waiting. */
  maxEarlyStreams: number;
  /** Records waiting for a predecessor, all streams together (a further one that would have to wait is refused). */
  maxParkedRecords: number;
}

/** Defaults of {@link IngestLimits}. */
export const DEFAULT_INGEST_LIMITS: Readonly<IngestLimits> = Object.freeze({ maxLiveStreams: 256, maxWaitingCheckpoints: 64, maxEarlyStreams: 1024, maxParkedRecords: DEFAULT_MAX_PARKED });

/** A record refused with a finding, or (a string) refused without one: its finding was raised already. */
type Refuse = (f: CollectorFinding | string, conflict?: boolean) => void;

/** A valid, self-consistent incoming record with its body and hash. */
type Valid = CheckedRecord;

/**
 * A record or checkpoint of a stream its sender's token is not bound to:
 * one finding per token and stream (no seq or id, so the findings'
 * once-only rule keeps it to one), naming the token, never its value.
 */
function notAllowed(sender: Sender, stream: string): CollectorFinding {
  return { code: 'stream_not_allowed', stream, message: `sender token ${sender.name} may not write stream ${stream} (it may write streams starting with ${sender.streams?.join(', ')}): its records and checkpoints of that stream are refused` };
}

export class StreamIngest {
  readonly #store: SqliteAuditStore;
  readonly #findings: CollectorFindings;
  readonly #gapGraceMillis: number;
  readonly #memory: IngestLimits;
  /** Verification state per stream, least recently used first. */
  readonly #live = new Map<string, LiveStream>();
  readonly #checkpoints: CheckpointWatch;
  /** Record id → hash of the records the running request stores (ids are unique across streams). */
  readonly #inRequest = new Map<string, string>();
  readonly #pending: PendingRecords;
  readonly #candidates: ParkedCandidates;
  readonly #byId: Database.Statement;
  readonly #headOf: Database.Statement;
  /**
   * Gap times are monotonic (`performance.now()`), so a wall-clock step can
   * neither raise a gap early nor hide one. A stream's gap time outlives its
   * state being let go from memory here, as the stored arrival of its
   * waiting records is wall time.
   */
  readonly #startedAt = performance.now();
  /** gapSince of the streams let go from memory with records waiting. */
  readonly #idleGapSince = new Map<string, number>();

  constructor(store: SqliteAuditStore, findings: CollectorFindings, keyring: Keyring, gapGraceMillis: number, memory: IngestLimits = DEFAULT_INGEST_LIMITS) {
    this.#store = store;
    this.#findings = findings;
    this.#gapGraceMillis = gapGraceMillis;
    this.#memory = memory;
    const db = store.database;
    this.#pending = new PendingRecords(db);
    this.#candidates = new ParkedCandidates(this.#pending, (id) => this.#knownHash(id), memory.maxParkedRecords);
    this.#byId = db.prepare('SELECT stream, seq, checksum FROM audit_logs WHERE event_id = ?');
    this.#headOf = db.prepare('SELECT hash_alg, size, prev, compact_range FROM audit_stream_heads WHERE stream = ?');
    this.#checkpoints = new CheckpointWatch(keyring, memory, (stream, alg, size) => this.#rootFromStore(stream, alg, size));
  }

  /** Records waiting for a predecessor. */
  pendingCount(): number {
    return this.#pending.count();
  }

  /**
   * Verify and store one request's items; those of a stream `sender` may
   * not write are refused on their own. Throws only when the store cannot
   * be written (→ 503).
   */
  ingest(items: readonly IncomingItem[], sender?: Sender): IngestResult {
    const res: IngestResult = { stored: 0, pending: 0, duplicates: 0, accepted: 0, rejected: 0, conflicts: 0, messages: [] };
    const runs = new Map<string, SealedRecord[]>();
    const checkpoints: SealedCheckpoint[] = [];
    const findings: CollectorFinding[] = [];
    const refuse: Refuse = (f, conflict = false) => {
      if (typeof f !== 'string') findings.push(f);
      if (conflict) res.conflicts++;
      else res.rejected++;
      if (res.messages.length < 5) res.messages.push(typeof f === 'string' ? f : f.message);
    };
    this.#inRequest.clear();
    this.#candidates.begin();
    try {
      // One transaction: parking, un-parking and the store append commit together.
      this.#store.database.transaction(() => {
        const turnedAway: Valid[] = [];
        for (const item of items) {
          if (item.kind === 'checkpoint') {
            const stream = this.#checkpoints.receive(item.note, checkpoints, findings, (s) => this.#liveOf(s, undefined), sender?.mayWrite);
            if (stream === undefined) res.accepted++;
            else refuse(notAllowed(sender!, stream));
          } else this.#record(item, runs, res, refuse, findings, turnedAway, sender);
        }
        // Records a cap turned away are looked at again: the request may have brought their predecessors after them.
        for (const r of turnedAway) this.#place(r, runs, res, refuse, findings, undefined);
        this.#commit(runs, checkpoints, res);
      }).immediate();
    } catch (e) {
      // Nothing of the request was committed; the state in memory is read again from the store.
      for (const stream of [...this.#live.keys()]) this.#letGo(stream);
      this.#checkpoints.rollBack();
      if (e instanceof RecordConflictError) {
        // The store disagrees with what the collector knew (another writer on the file): a retry
        // is checked against the store as it is now, record by record.
        throw new Error(`the store changed under the collector, retry: ${e.message}`, { cause: e });
      }
      throw e;
    }
    this.#candidates.committed();
    this.#checkGaps(findings);
    this.#trim();
    this.#findings.raiseAll(findings);
    return res;
  }

  #record(item: Extract<IncomingItem, { kind: 'record' }>, runs: Map<string, SealedRecord[]>, res: IngestResult, refuse: Refuse, findings: CollectorFinding[], turnedAway: Valid[], sender: Sender | undefined): void {
    const checked = checkIncomingRecord(item.body, item.claimedHash);
    if ('code' in checked) refuse(checked);
    else if (sender !== undefined && !sender.mayWrite(checked.record.stream)) refuse(notAllowed(sender, checked.record.stream));
    else this.#place(checked, runs, res, refuse, findings, turnedAway);
  }

  /**
   * Store, park or refuse a valid, self-consistent record. One that a cap
   * (its full seq, or the records waiting in all) turns away goes to
   * `turnedAway` when given, else is refused.
   */
  #place(r: Valid, runs: Map<string, SealedRecord[]>, res: IngestResult, refuse: Refuse, findings: CollectorFinding[], turnedAway: Valid[] | undefined): void {
    const { record, hash } = r;
    const where = { stream: record.stream, seq: record.seq, id: record.id };
    const known = this.#knownHash(record.id);
    if (known !== undefined) {
      if (known === hash) {
        res.duplicates++;
        res.accepted++;
      } else refuse({ code: 'duplicate', ...where, message: `record id ${record.id} arrived again with different content (hash ${hash}, first seen ${known})` }, true);
      return;
    }
    // Waiting with the same content: a retry. Waiting with other content: which
    // one is genuine shows when the stream reaches them, so this one waits too.
    if (this.#pending.hashesOf(record.id).includes(hash)) {
      res.duplicates++;
      res.accepted++;
      // A record left waiting at the stream's next seq (by an earlier version) is taken now.
      this.#unparkFollowers(this.#liveOf(record.stream, record.alg), record.stream, runs, findings);
      return;
    }
    const live = this.#liveOf(record.stream, record.alg);
    if (record.alg !== live.alg) {
      refuse({ code: 'hash_mismatch', ...where, message: `record ${record.id} uses ${record.alg} but stream ${record.stream} uses ${live.alg}` });
      return;
    }
    if (record.seq < live.range.size) {
      refuse({ code: 'duplicate', ...where, message: `stream ${record.stream} already holds another record at seq ${record.seq}` });
      return;
    }
    if (record.seq > live.range.size) {
      const full = this.#candidates.park(record, hash, r.canonical);
      if (full === undefined) {
        live.gapSince ??= performance.now();
        res.pending++;
        res.accepted++;
      } else if (turnedAway !== undefined) turnedAway.push(r);
      else refuse(this.#candidates.refusal(record, hash, live.range.size, full));
      return;
    }
    if (record.prev !== live.prev) {
      refuse({ code: 'chain_break', ...where, message: `record ${record.id} at seq ${record.seq} names prev ${record.prev}, but the stream's last hash is ${live.prev}` });
      return;
    }
    res.accepted++;
    this.#advance(live, runs, r);
    this.#unparkFollowers(live, record.stream, runs, findings);
  }

  /** The hash of the record stored, or being stored by the running request, under `id`. */
  #knownHash(id: string): string | undefined {
    return (this.#byId.get(id) as { checksum: string } | undefined)?.checksum ?? this.#inRequest.get(id);
  }

  /** Store the waiting records that now follow, seq by seq (see {@link ParkedCandidates.next}). */
  #unparkFollowers(live: LiveStream, stream: string, runs: Map<string, SealedRecord[]>, findings: CollectorFinding[]): void {
    this.#candidates.dropPassed(stream, live.range.size, findings);
    for (let next = this.#candidates.next(live, stream, findings); next !== undefined; next = this.#candidates.next(live, stream, findings)) this.#advance(live, runs, next);
    // Records still waiting beyond a missing one: the gap's clock runs from now.
    if (this.#pending.firstSeq(stream) !== null) live.gapSince ??= performance.now();
  }

  #advance(live: LiveStream, runs: Map<string, SealedRecord[]>, sealed: SealedRecord): void {
    const stream = sealed.record.stream;
    let run = runs.get(stream);
    if (run === undefined) runs.set(stream, (run = []));
    run.push(sealed);
    this.#inRequest.set(sealed.record.id, sealed.hash);
    advanceLive(live, sealed.hash);
    live.gapSince = undefined;
    live.gapReported = undefined;
    this.#checkpoints.settle(live, stream);
  }

  #rootFromStore(stream: string, alg: HashAlgorithm, size: number): string {
    const range = new CompactRange(alg);
    for (const h of this.#store.database.prepare('SELECT checksum FROM audit_logs WHERE stream = ? AND seq < ? ORDER BY seq').pluck().iterate(stream, size)) range.appendHex(h as string);
    return range.rootHex();
  }

  #commit(runs: Map<string, SealedRecord[]>, checkpoints: SealedCheckpoint[], res: IngestResult): void {
    const records = [...runs.values()].flat();
    if (records.length === 0 && checkpoints.length === 0) return;
    const r = this.#store.appendSync({ records, checkpoints });
    res.stored += r.inserted;
    res.duplicates += r.skipped;
  }

  #checkGaps(findings: CollectorFinding[]): void {
    findings.push(...this.#checkpoints.takeRootFindings(), ...gapsOfLiveStreams(this.#live, this.#pending, this.#gapGraceMillis, performance.now()));
  }

  /** Re-check gaps without a request (the collector's timer), also of streams whose state was let go. */
  tick(): void {
    const findings: CollectorFinding[] = [];
    this.#checkGaps(findings);
    const storedSize = (stream: string): number => (this.#headOf.get(stream) as { size: number } | undefined)?.size ?? 0;
    const gapSince = (stream: string): number => this.#idleGapSince.get(stream) ?? this.#startedAt;
    findings.push(...gapsOfIdleStreams(this.#live, this.#pending, storedSize, this.#gapGraceMillis, gapSince, performance.now()));
    if (this.#idleGapSince.size > 0) {
      // Forget the gap times of streams with nothing waiting any more.
      const waiting = new Set(this.#pending.streams().map((row) => row.stream));
      for (const stream of [...this.#idleGapSince.keys()]) if (!waiting.has(stream)) this.#idleGapSince.delete(stream);
    }
    this.#findings.raiseAll(findings);
  }

  /** Streams whose verification state is in memory. */
  liveStreams(): number {
    return this.#live.size;
  }

  #liveOf(stream: string, alg: HashAlgorithm): LiveStream;
  #liveOf(stream: string, alg: undefined): LiveStream | undefined;
  #liveOf(stream: string, alg: HashAlgorithm | undefined): LiveStream | undefined {
    let live = this.#live.get(stream);
    if (live !== undefined) {
      // Most recently used last: the map's order is the eviction order.
      this.#live.delete(stream);
      this.#live.set(stream, live);
      return live;
    }
    const head = this.#headOf.get(stream) as { hash_alg: HashAlgorithm; prev: string; compact_range: string } | undefined;
    if (head === undefined && alg === undefined) return undefined;
    const range = head ? CompactRange.restore(head.hash_alg, JSON.parse(head.compact_range)) : new CompactRange(alg!);
    live = liveStream(head?.hash_alg ?? alg!, range, head?.prev ?? genesisPrev(alg!), this.#checkpoints.takeEarly(stream));
    // A gap's clock runs on from when it began in this process (not from this reload),
    // or from the collector's start when the records waited through a restart: senders retry then.
    if (this.#pending.oldestArrival(stream) !== null) live.gapSince = this.#idleGapSince.get(stream) ?? this.#startedAt;
    this.#idleGapSince.delete(stream);
    this.#live.set(stream, live);
    return live;
  }

  /**
   * Forget the least recently used streams beyond the cap, after a commit
   * (never during a request, whose records are not in the store yet): a
   * stream's head is in the store and its waiting records in
   * collector_pending, so it resumes when it comes back; what is lost is the
   * online root check of its waiting checkpoints (they are stored, and
   * verified offline).
   */
  #trim(): void {
    for (const stream of [...this.#live.keys()]) {
      if (this.#live.size <= this.#memory.maxLiveStreams) break;
      this.#letGo(stream);
    }
  }

  /** Drop a stream's state from memory, keeping the time its gap began. */
  #letGo(stream: string): void {
    const since = this.#live.get(stream)?.gapSince;
    if (since !== undefined) this.#idleGapSince.set(stream, since);
    this.#live.delete(stream);
  }
}

