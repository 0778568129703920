/**
 * The server's own audit trail (DESIGN §5 "Reads of the audit log, exports
 * ... are themselves audit records"): every read, export and integrity
 * check through the API, and every refused credential, becomes a record in
 * the server's stream of the same store — chained with core's `AuditChain`
 * resumed from the stored head, committed synchronously before the answer
 * is sent (fail closed: no record, no data), and — when a signer key is
 * given — covered by signed checkpoints every `checkpointEvery` records,
 * every `checkpointIntervalMillis` when the stream grew, and on close.
 * Without a key no checkpoint is written: an unsigned one would be reported
 * as `bad_signature` by every verification run with trusted keys, while an
 * uncovered stream is only an `unsigned_tail` warning.
 */
import { AuditChain, createRecordId, parseSignerKey, type AuditEventInput, type NoteSigner, type SealedCheckpoint } from '@otel-audit/core';
import { RecordConflictError, type SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { HttpError } from '../errors.js';

/** What one access record says. */
export interface AccessEvent {
  /** `view`, `export`, `verify`, `subscribe`, `authenticate`, ... */
  action: string;
  outcome: 'success' | 'failure' | 'error' | 'unknown';
  /** Token name, or undefined for an unknown credential. */
  actor?: string;
  role?: string;
  ip?: string;
  userAgent?: string;
  route: string;
  method: string;
  requestId: string;
  /** Route parameters, results count and the like. */
  details: Record<string, unknown>;
  severity?: 'info' | 'warning';
}

/** Options of {@link AccessLog}. */
export interface AccessLogOptions {
  stream: string;
  signerKey?: string;
  checkpointEvery: number;
  checkpointIntervalMillis: number;
}

/** Appends access records to the server's stream. */
export class AccessLog {
  readonly stream: string;
  readonly #store: SqliteAuditStore;
  readonly #signers: NoteSigner[];
  readonly #every: number;
  #chain: AuditChain | undefined;
  #sinceCheckpoint = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #tail: Promise<void> = Promise.resolve();

  constructor(store: SqliteAuditStore, options: AccessLogOptions) {
    this.#store = store;
    this.stream = options.stream;
    this.#signers = options.signerKey === undefined ? [] : [parseSignerKey(options.signerKey)];
    this.#every = options.checkpointEvery;
    this.#timer = setInterval(() => this.#tryCheckpoint(), options.checkpointIntervalMillis);
    this.#timer.unref();
  }

  /**
   * Commit one access record; throws `AUDIT_ACCESS_NOT_RECORDED` (503) if
   * it could not be committed, so the caller answers without data.
   */
  record(event: AccessEvent): Promise<void> {
    // One append at a time, in call order: the chain is resumed lazily (head() is async).
    const next = this.#tail.then(() => this.#record(event));
    this.#tail = next.catch(() => undefined);
    return next;
  }

  async #record(event: AccessEvent): Promise<void> {
    if (this.#closed) throw new HttpError('AUDIT_ACCESS_NOT_RECORDED', 'the server is shutting down; the access could not be recorded');
    const input: AuditEventInput = {
      id: createRecordId(), time: new Date(), type: 'access', action: event.action, outcome: event.outcome, severity: event.severity ?? 'info',
      actor: { id: event.actor ?? null, type: event.actor === undefined ? 'anonymous' : 'api_key', ip: event.ip ?? null, user_agent: event.userAgent ?? null },
      target: { type: 'audit_log', id: this.#store.path },
      request: { id: event.requestId, endpoint: event.route, method: event.method },
      details: { ...(event.role === undefined ? {} : { role: event.role }), ...event.details },
    };
    try {
      await this.#append(input);
    } catch (e) {
      if (!(e instanceof RecordConflictError)) throw this.#notRecorded(e);
      // Another writer moved the stream on (a second server on this host): resume from the store.
      this.#chain = undefined;
      try {
        await this.#append(input);
      } catch (again) {
        throw this.#notRecorded(again);
      }
    }
  }

  async #append(input: AuditEventInput): Promise<void> {
    this.#chain ??= new AuditChain({ stream: this.stream, head: await this.#store.head(this.stream) });
    const chain = this.#chain;
    const before = chain.head();
    const sealed = chain.append(input);
    const checkpoints: SealedCheckpoint[] = [];
    if (this.#signers.length > 0 && this.#sinceCheckpoint + 1 >= this.#every) checkpoints.push(this.#checkpoint(chain));
    try {
      this.#store.appendSync({ records: [sealed], checkpoints });
    } catch (e) {
      this.#chain = new AuditChain({ stream: this.stream, head: before });
      throw e;
    }
    this.#sinceCheckpoint = checkpoints.length > 0 ? 0 : this.#sinceCheckpoint + 1;
  }

  #checkpoint(chain: AuditChain): SealedCheckpoint {
    const time = BigInt(Date.now()) * 1_000_000n;
    return { stream: this.stream, size: chain.size, rootHash: chain.rootHex(), timeUnixNano: time, note: chain.checkpoint(time, this.#signers) };
  }

  #tryCheckpoint(): void {
    if (this.#signers.length === 0 || this.#sinceCheckpoint === 0 || this.#chain === undefined) return;
    try {
      this.#store.appendSync({ records: [], checkpoints: [this.#checkpoint(this.#chain)] });
      this.#sinceCheckpoint = 0;
    } catch {
      // The next record or close() tries again; a failed checkpoint loses nothing.
    }
  }

  #notRecorded(cause: unknown): HttpError {
    return new HttpError('AUDIT_ACCESS_NOT_RECORDED', 'the access could not be recorded in the audit store, so nothing is returned; retry later', { cause });
  }

  /** Write a final checkpoint when records were added since the last one. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#tryCheckpoint();
  }
}
