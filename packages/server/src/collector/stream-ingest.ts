/**
 * Verify-and-store of incoming audit records (DESIGN §4.2–4.4, §5), one
 * request at a time. Each record's canonical body must hash to its
 * `audit.record.hash` attribute (else `hash_mismatch`, refused); a record
 * that continues its stream's head (next seq, `prev` = last hash) is
 * stored; one that arrives early waits in `collector_pending` (durable, so
 * an accepted request is never lost) until its predecessors come; a retry
 * (same id, same hash) is accepted and ignored; the same id with other
 * content is a conflict (answered 409); a record that breaks the chain is
 * refused (`chain_break`). Checkpoints are checked against trusted keys
 * and, once the stream reaches their size, against the Merkle root of what
 * was stored (`root_mismatch`). A gap that outlives `gapGraceMillis` is
 * reported once as `seq_gap`.
 */
import {
  canonicalize, CompactRange, genesisPrev, HASH_ALGORITHMS, Keyring, leafHash, verifyCheckpoint,
  type AuditRecord, type HashAlgorithm, type SealedCheckpoint, type SealedRecord,
} from '@otel-audit/core';
import { RecordConflictError, type SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import type Database from 'better-sqlite3';
import type { CollectorFinding, CollectorFindings } from './collector-findings.js';
import { advanceLive, liveRootAt, liveStream, type LiveStream } from './live-stream.js';

/** A record or checkpoint taken from an OTLP log, in request order. */
export type IncomingItem =
  | { kind: 'record'; body: string; claimedHash: string | undefined }
  | { kind: 'checkpoint'; note: string };

/** What became of one request. */
export interface IngestResult {
  stored: number;
  pending: number;
  duplicates: number;
  rejected: number;
  conflicts: number;
  messages: string[];
}

export class StreamIngest {
  readonly #store: SqliteAuditStore;
  readonly #findings: CollectorFindings;
  readonly #keyring: Keyring;
  readonly #gapGraceMillis: number;
  readonly #live = new Map<string, LiveStream>();
  /** Checkpoints of streams not seen yet. */
  readonly #early = new Map<string, SealedCheckpoint[]>();
  #pendingRootFindings: CollectorFinding[] = [];
  readonly #byId: Database.Statement;
  readonly #pendingById: Database.Statement;
  readonly #park: Database.Statement;
  readonly #nextPending: Database.Statement;
  readonly #unpark: Database.Statement;
  readonly #countPending: Database.Statement;

  constructor(store: SqliteAuditStore, findings: CollectorFindings, keyring: Keyring, gapGraceMillis: number) {
    this.#store = store;
    this.#findings = findings;
    this.#keyring = keyring;
    this.#gapGraceMillis = gapGraceMillis;
    const db = store.database;
    db.exec(`CREATE TABLE IF NOT EXISTS collector_pending (
      record_id TEXT PRIMARY KEY, stream TEXT NOT NULL, seq INTEGER NOT NULL, hash TEXT NOT NULL, body TEXT NOT NULL, received_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS collector_pending_seq ON collector_pending (stream, seq);`);
    this.#byId = db.prepare('SELECT stream, seq, checksum FROM audit_logs WHERE event_id = ?');
    this.#pendingById = db.prepare('SELECT hash FROM collector_pending WHERE record_id = ?').pluck();
    this.#park = db.prepare('INSERT OR IGNORE INTO collector_pending (record_id, stream, seq, hash, body, received_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.#nextPending = db.prepare('SELECT record_id, hash, body FROM collector_pending WHERE stream = ? AND seq = ?');
    this.#unpark = db.prepare('DELETE FROM collector_pending WHERE record_id = ?');
    this.#countPending = db.prepare('SELECT count(*) FROM collector_pending').pluck();
  }

  /** Records waiting for a predecessor. */
  pendingCount(): number {
    return this.#countPending.get() as number;
  }

  /** Verify and store one request's items. Throws only when the store cannot be written (→ 503). */
  ingest(items: readonly IncomingItem[]): IngestResult {
    const res: IngestResult = { stored: 0, pending: 0, duplicates: 0, rejected: 0, conflicts: 0, messages: [] };
    const runs = new Map<string, SealedRecord[]>();
    const checkpoints: SealedCheckpoint[] = [];
    const findings: CollectorFinding[] = [];
    const refuse = (f: CollectorFinding, conflict = false): void => {
      findings.push(f);
      if (conflict) res.conflicts++;
      else res.rejected++;
      if (res.messages.length < 5) res.messages.push(f.message);
    };
    try {
      // One transaction: parking, un-parking and the store append commit together.
      this.#store.database.transaction(() => {
        for (const item of items) {
          if (item.kind === 'checkpoint') this.#checkpoint(item.note, checkpoints, findings);
          else this.#record(item, runs, res, refuse);
        }
        this.#commit(runs, checkpoints, res);
      }).immediate();
    } catch (e) {
      this.#live.clear();
      this.#pendingRootFindings = [];
      if (e instanceof RecordConflictError) {
        refuse({ code: 'duplicate', stream: e.stream, seq: e.seq, id: e.recordId, message: e.message }, true);
      } else {
        throw e;
      }
    }
    this.#checkGaps(findings);
    for (const f of findings) this.#findings.raise(f);
    return res;
  }

  #record(item: Extract<IncomingItem, { kind: 'record' }>, runs: Map<string, SealedRecord[]>, res: IngestResult, refuse: (f: CollectorFinding, conflict?: boolean) => void): void {
    let record: AuditRecord;
    try {
      record = JSON.parse(item.body) as AuditRecord;
    } catch {
      refuse({ code: 'malformed', stream: '(unknown)', message: 'an otel-audit log record body is not JSON' });
      return;
    }
    const where = { stream: typeof record?.stream === 'string' ? record.stream : '(unknown)', ...(Number.isSafeInteger(record?.seq) ? { seq: record.seq } : {}), ...(typeof record?.id === 'string' ? { id: record.id } : {}) };
    if (typeof record !== 'object' || record === null || typeof record.stream !== 'string' || !Number.isSafeInteger(record.seq) || record.seq < 0
      || typeof record.id !== 'string' || typeof record.prev !== 'string' || !(HASH_ALGORITHMS as readonly string[]).includes(record.alg) || item.claimedHash === undefined) {
      refuse({ code: 'malformed', ...where, message: 'an otel-audit log record lacks a valid stream, seq, id, prev, alg or audit.record.hash' });
      return;
    }
    const hash = leafHash(record.alg as HashAlgorithm, item.body).toString('hex');
    let canonical: string | undefined;
    try {
      canonical = canonicalize(record);
    } catch {
      canonical = undefined;
    }
    if (hash !== item.claimedHash.toLowerCase() || canonical !== item.body) {
      refuse({ code: 'hash_mismatch', ...where, message: `record ${record.id} (stream ${record.stream} seq ${record.seq}) does not hash to its audit.record.hash ${item.claimedHash} or is not canonical: a member was changed on the way` });
      return;
    }
    const stored = this.#byId.get(record.id) as { stream: string; seq: number; checksum: string } | undefined;
    const parked = stored === undefined ? (this.#pendingById.get(record.id) as string | undefined) : undefined;
    const known = stored?.checksum ?? parked ?? runs.get(record.stream)?.find((s) => s.record.id === record.id)?.hash;
    if (known !== undefined) {
      if (known === hash) res.duplicates++;
      else refuse({ code: 'duplicate', ...where, message: `record id ${record.id} arrived again with different content (hash ${hash}, first seen ${known})` }, true);
      return;
    }
    const live = this.#liveOf(record.stream, record.alg as HashAlgorithm);
    if (record.alg !== live.alg) {
      refuse({ code: 'hash_mismatch', ...where, message: `record ${record.id} uses ${record.alg} but stream ${record.stream} uses ${live.alg}` });
      return;
    }
    if (record.seq < live.range.size) {
      refuse({ code: 'duplicate', ...where, message: `stream ${record.stream} already holds another record at seq ${record.seq}` });
      return;
    }
    if (record.seq > live.range.size) {
      this.#park.run(record.id, record.stream, record.seq, hash, item.body, Date.now());
      live.gapSince ??= Date.now();
      res.pending++;
      return;
    }
    if (record.prev !== live.prev) {
      refuse({ code: 'chain_break', ...where, message: `record ${record.id} at seq ${record.seq} names prev ${record.prev}, but the stream's last hash is ${live.prev}` });
      return;
    }
    this.#advance(live, runs, { record, canonical: item.body, hash });
    // Early arrivals that now follow.
    for (let next = this.#nextPending.get(record.stream, live.range.size) as { record_id: string; hash: string; body: string } | undefined; next !== undefined;
      next = this.#nextPending.get(record.stream, live.range.size) as typeof next) {
      const r = JSON.parse(next.body) as AuditRecord;
      this.#unpark.run(next.record_id);
      res.pending--;
      if (r.prev !== live.prev) {
        refuse({ code: 'chain_break', stream: r.stream, seq: r.seq, id: r.id, message: `record ${r.id} at seq ${r.seq} names prev ${r.prev}, but the stream's last hash is ${live.prev}` });
        break;
      }
      this.#advance(live, runs, { record: r, canonical: next.body, hash: next.hash });
    }
  }

  #advance(live: LiveStream, runs: Map<string, SealedRecord[]>, sealed: SealedRecord): void {
    const stream = sealed.record.stream;
    let run = runs.get(stream);
    if (run === undefined) runs.set(stream, (run = []));
    run.push(sealed);
    advanceLive(live, sealed.hash);
    live.gapSince = undefined;
    live.gapReported = undefined;
    if (live.waiting.length > 0) this.#settle(live, stream);
  }

  #checkpoint(note: string, checkpoints: SealedCheckpoint[], findings: CollectorFinding[]): void {
    const result = verifyCheckpoint(note, this.#keyring);
    const cp = result.checkpoint;
    if (cp === undefined) {
      findings.push({ code: 'malformed', stream: '(unknown)', message: `an audit.checkpoint record is not a checkpoint: ${result.message}` });
      return;
    }
    const bad = result.status === 'bad_signature' || result.status === 'unknown_key' || result.status === 'key_out_of_window'
      ? result.status : result.status === 'unsigned' && this.#keyring.size > 0 ? 'bad_signature' : undefined;
    if (bad !== undefined) findings.push({ code: bad, stream: cp.origin, message: `checkpoint of ${cp.origin} at size ${cp.size}: ${result.message}` });
    const sealed: SealedCheckpoint = { stream: cp.origin, size: cp.size, rootHash: cp.rootHash.toString('hex'), timeUnixNano: cp.timeUnixNano, note };
    checkpoints.push(sealed);
    const live = this.#liveOf(cp.origin, undefined);
    if (live === undefined) {
      // Nothing of the stream yet: its algorithm is unknown until a record comes.
      const early = this.#early.get(cp.origin) ?? [];
      early.push(sealed);
      this.#early.set(cp.origin, early);
      return;
    }
    if (cp.size > live.range.size) {
      live.waiting.push(sealed);
      return;
    }
    this.#compare(cp.origin, sealed, liveRootAt(live, cp.size) ?? this.#rootFromStore(cp.origin, live.alg, cp.size), findings);
  }

  #settle(live: LiveStream, stream: string): void {
    const still: SealedCheckpoint[] = [];
    for (const cp of live.waiting) {
      if (cp.size === live.range.size) this.#compare(stream, cp, live.range.rootHex(), this.#pendingRootFindings);
      else if (cp.size > live.range.size) still.push(cp);
    }
    live.waiting = still;
  }

  #compare(stream: string, cp: SealedCheckpoint, root: string, findings: CollectorFinding[]): void {
    if (root !== cp.rootHash) findings.push({ code: 'root_mismatch', stream, message: `checkpoint of ${stream} at size ${cp.size} has root ${cp.rootHash}, the stored records give ${root}` });
  }

  #rootFromStore(stream: string, alg: HashAlgorithm, size: number): string {
    const hashes = this.#store.database.prepare('SELECT checksum FROM audit_logs WHERE stream = ? AND seq < ? ORDER BY seq').pluck().all(stream, size) as string[];
    const range = new CompactRange(alg);
    for (const h of hashes) range.appendHex(h);
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
    findings.push(...this.#pendingRootFindings);
    this.#pendingRootFindings = [];
    const now = Date.now();
    for (const [stream, live] of this.#live) {
      if (live.gapSince === undefined || live.gapReported === live.range.size || now - live.gapSince < this.#gapGraceMillis) continue;
      const first = this.#store.database.prepare('SELECT min(seq) FROM collector_pending WHERE stream = ?').pluck().get(stream) as number | null;
      if (first === null) {
        live.gapSince = undefined;
        continue;
      }
      live.gapReported = live.range.size;
      const from = live.range.size;
      findings.push({ code: 'seq_gap', stream, seq: from, message: first - 1 === from ? `record seq ${from} of ${stream} is missing` : `records seq ${from}..${first - 1} of ${stream} are missing` });
    }
  }

  /** Re-check gaps without a request (the collector's timer). */
  tick(): void {
    const findings: CollectorFinding[] = [];
    this.#checkGaps(findings);
    for (const f of findings) this.#findings.raise(f);
  }

  #liveOf(stream: string, alg: HashAlgorithm): LiveStream;
  #liveOf(stream: string, alg: undefined): LiveStream | undefined;
  #liveOf(stream: string, alg: HashAlgorithm | undefined): LiveStream | undefined {
    let live = this.#live.get(stream);
    if (live === undefined) {
      const head = this.#store.database.prepare('SELECT hash_alg, size, prev, compact_range FROM audit_stream_heads WHERE stream = ?').get(stream) as { hash_alg: HashAlgorithm; prev: string; compact_range: string } | undefined;
      if (head === undefined && alg === undefined) return undefined;
      const range = head ? CompactRange.restore(head.hash_alg, JSON.parse(head.compact_range)) : new CompactRange(alg!);
      live = liveStream(head?.hash_alg ?? alg!, range, head?.prev ?? genesisPrev(alg!), this.#early.get(stream) ?? []);
      this.#early.delete(stream);
      this.#live.set(stream, live);
    }
    return live;
  }
}
