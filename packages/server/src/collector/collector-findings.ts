/**
 * Where the collector's verification findings go (DESIGN §4.4, §9): a
 * `collector_findings` table beside the central store, a counter metric per
 * finding code, and an audit record in the collector's own stream
 * (`system/integrity_failure`, severity `critical` — what the built-in
 * `audit_integrity` alert rule matches), so a finding is itself
 * tamper-evident and reaches whoever watches the audit log. With a signer
 * key, each finding record is committed with a signed checkpoint over the
 * collector's stream, so `otel-audit verify --key` holds that stream to the
 * same rule as the services' (without one: `--unsigned-ok <stream>`).
 */
import { diag, metrics, type Counter } from '@opentelemetry/api';
import { AuditChain, createRecordId, type ChainHead, type FindingCode, type NoteSigner, type SealedCheckpoint } from '@otel-audit/core';
import type { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import type Database from 'better-sqlite3';

/**
 * One finding as the collector reports it: a verification finding code, or
 * one of the collector's own (`parked_limit`: records were refused because
 * the records waiting for their predecessors reached `maxParkedRecords`;
 * `stream_not_allowed`: a sender's token is not bound to the stream it
 * wrote to; `request_refused`: whole requests were refused, 400, 401, 413
 * or 415, counted per minute, see request-refusals.ts).
 */
export interface CollectorFinding {
  code: FindingCode | 'id_conflict' | 'parked_limit' | 'stream_not_allowed' | 'request_refused';
  stream: string;
  seq?: number;
  id?: string;
  /** `checkpoint` for a finding about a checkpoint, not about records (so no record was refused or is missing). */
  subject?: 'checkpoint';
  message: string;
}

/** Findings kept for another try when the store could not take them. */
const UNRAISED_MEMORY = 10_000;

/** Findings remembered so that a re-sent refused record is not reported again. */
const RAISED_MEMORY = 4096;

export class CollectorFindings {
  readonly #store: SqliteAuditStore;
  readonly #insert: Database.Statement;
  readonly #counter: Counter;
  readonly #stream: string;
  readonly #signers: readonly NoteSigner[];
  #chain: AuditChain;
  /** Findings whose write failed, raised again before the next ones. */
  #unraised: CollectorFinding[] = [];
  /** Findings raised lately, oldest first. */
  readonly #raised = new Set<string>();

  /**
   * `head` is the stored head of the collector's own stream (`await
   * store.head(stream)`); `signers` sign its checkpoints (none: no checkpoints).
   */
  constructor(store: SqliteAuditStore, stream: string, head: ChainHead | undefined, signers: readonly NoteSigner[] = []) {
    this.#store = store;
    this.#stream = stream;
    this.#signers = signers;
    this.#chain = new AuditChain({ stream, head });
    store.database.exec(`CREATE TABLE IF NOT EXISTS collector_findings (
      id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, stream TEXT NOT NULL, code TEXT NOT NULL,
      seq INTEGER, record_id TEXT, message TEXT NOT NULL)`);
    this.#insert = store.database.prepare('INSERT INTO collector_findings (at, stream, code, seq, record_id, message) VALUES (?, ?, ?, ?, ?, ?)');
    this.#counter = metrics.getMeter('@otel-audit/server').createCounter('otel_audit.collector.findings', { description: 'Integrity findings raised by the collector', unit: '{finding}' });
  }

  /**
   * Record a finding: its row and its audit record commit together, or
   * neither does (throws when the store cannot be written; the caller keeps
   * the finding and raises it again later).
   */
  raise(f: CollectorFinding): void {
    this.#store.database.transaction(() => {
      this.#insert.run(Date.now(), f.stream, f.code, f.seq ?? null, f.id ?? null, f.message);
      if (f.stream !== this.#stream) this.#seal(f);
    })();
    this.#counter.add(1, { code: f.code });
  }

  /**
   * Raise each finding once (a sender that narrows a refused batch down
   * sends the refused record again, which is refused again but is not
   * news). Never throws: findings a failed write left behind are kept and
   * raised first next time — what the request committed cannot raise them
   * again.
   */
  raiseAll(findings: readonly CollectorFinding[]): void {
    const all = this.#unraised.length > 0 ? [...this.#unraised.splice(0), ...findings] : findings;
    for (let i = 0; i < all.length; i++) {
      const f = all[i]!;
      const key = `${f.code}\n${f.stream}\n${f.seq ?? ''}\n${f.id ?? ''}\n${f.message}`;
      if (this.#raised.has(key)) continue;
      try {
        this.raise(f);
      } catch (e) {
        this.#unraised = all.slice(i).slice(-UNRAISED_MEMORY);
        diag.error(`otel-audit collector: ${this.#unraised.length} finding(s) not recorded yet, retried on the next request or tick: ${(e as Error).message}`);
        return;
      }
      this.#raised.add(key);
      if (this.#raised.size > RAISED_MEMORY) this.#raised.delete(this.#raised.values().next().value!);
    }
  }

  #seal(f: CollectorFinding): void {
    // The chain moves on only with the store: if the write fails, the next finding takes this seq.
    const before = this.#chain.head();
    const sealed = this.#chain.append({
      id: createRecordId(), time: new Date(), type: 'system', action: 'integrity_failure', outcome: 'failure', severity: 'critical',
      target: { type: 'audit_stream', id: f.stream },
      details: { code: f.code, ...(f.seq !== undefined ? { seq: f.seq } : {}), ...(f.id !== undefined ? { record_id: f.id } : {}), ...(f.subject !== undefined ? { subject: f.subject } : {}) },
      error: f.message,
    });
    // Without a key, no checkpoint: an unsigned one is an error to a verifier given keys.
    const checkpoints: SealedCheckpoint[] = [];
    if (this.#signers.length > 0) {
      const timeUnixNano = BigInt(Date.now()) * 1_000_000n;
      const chain = this.#chain;
      checkpoints.push({ stream: this.#stream, size: chain.size, rootHash: chain.rootHex(), timeUnixNano, note: chain.checkpoint(timeUnixNano, this.#signers) });
    }
    try {
      this.#store.appendSync({ records: [sealed], checkpoints });
    } catch (e) {
      this.#chain = new AuditChain({ stream: this.#stream, head: before });
      throw e;
    }
  }

  /** Findings recorded so far, oldest first. */
  list(): (CollectorFinding & { at: number })[] {
    const rows = this.#store.database.prepare('SELECT at, stream, code, seq, record_id, message FROM collector_findings ORDER BY id').all() as
      { at: number; stream: string; code: CollectorFinding['code']; seq: number | null; record_id: string | null; message: string }[];
    return rows.map((r) => ({ at: r.at, stream: r.stream, code: r.code, message: r.message, ...(r.seq !== null ? { seq: r.seq } : {}), ...(r.record_id !== null ? { id: r.record_id } : {}) }));
  }
}
