/**
 * The server's own audit trail (DESIGN §5 "Reads of the audit log, exports
 * ... are themselves audit records"): every read, export and integrity
 * check through the API, and every refused credential, becomes a record in
 * the server's stream of the same store — chained with core's `AuditChain`
 * resumed from the stored head, committed synchronously before the answer
 * is sent (fail closed: no record, no data), and — when a signer key is
 * given — covered by signed checkpoints: with the records that open a
 * stream, every `checkpointEvery` records, every `checkpointIntervalMillis`
 * when the stream grew, and on close.
 * Without a key no checkpoint is written: an unsigned one would be reported
 * as `bad_signature` by every verification run with trusted keys, while an
 * uncovered stream is only an `unsigned_tail` warning.
 *
 * The stream is the server's alone. With a signer key it takes up a stored
 * stream only when the server's own signed checkpoint covers every stored
 * record of it, and never adopts records another writer appended while it
 * runs (a collector writing into the same store stores any record that
 * continues a chain, no key needed): in either case it goes on in a new
 * stream, `<stream>/<record id>`, whose first record, `system/stream_started`,
 * names the previous stream and why it was left — so records it did not
 * write are never covered by its signature. Without a key nothing can tell
 * its records from others, and it resumes the stored head as it is; its
 * first record each run, `system/stream_started` (a new stream) or
 * `system/pipeline_started`, says so as the processor's do — no
 * `checkpoint_key` — so a verifier can tell a stream written without a key
 * from one whose checkpoints were deleted. With a key the start record
 * names it in `checkpoint_key`.
 */
import { AuditChain, createRecordId, Keyring, noteKeyId, parseSignerKey, verifyCheckpoint, type AuditEventInput, type ChainHead, type NoteSigner, type SealedCheckpoint } from '@otel-audit/core';
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

/** A system record opening a run of the server's stream; its time is the next access record's. */
function startRecord(action: 'stream_started' | 'pipeline_started', details: Record<string, unknown>): AuditEventInput {
  return {
    id: createRecordId(), time: '0', type: 'system', action, outcome: 'success', severity: 'warning',
    actor: { id: 'otel-audit-server', type: 'system' }, details,
  };
}

/** Appends access records to the server's stream. */
export class AccessLog {
  #stream: string;
  readonly #store: SqliteAuditStore;
  readonly #signers: NoteSigner[];
  readonly #keyring: Keyring | undefined;
  readonly #every: number;
  #chain: AuditChain | undefined;
  #sinceCheckpoint = 0;
  /** The stream_started record of a stream just forked, sealed before the next access record. */
  #pendingStart: AuditEventInput | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #tail: Promise<void> = Promise.resolve();

  constructor(store: SqliteAuditStore, options: AccessLogOptions) {
    this.#store = store;
    this.#stream = options.stream;
    this.#signers = options.signerKey === undefined ? [] : [parseSignerKey(options.signerKey)];
    this.#keyring = this.#signers.length === 0 ? undefined : Keyring.from(this.#signers.map((k) => k.verifierKey));
    this.#every = options.checkpointEvery;
    this.#timer = setInterval(() => this.#tryCheckpoint(), options.checkpointIntervalMillis);
    this.#timer.unref();
  }

  /** The stream written now: the configured one, or the one it went on in (see file comment). */
  get stream(): string {
    return this.#stream;
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
      // Another writer appended to the stream (a second server on this host, or records
      // sent to a collector writing into this store). With a key: never adopt them.
      const at = this.#chain?.size ?? 0;
      // Its own records of the stream left are covered by its signature before it goes on elsewhere.
      if (this.#signers.length > 0) this.#tryCheckpoint();
      this.#chain = this.#signers.length === 0 ? undefined : this.#fork(`another writer appended to it at seq ${at}, while this server wrote it`);
      try {
        await this.#append(input);
      } catch (again) {
        throw this.#notRecorded(again);
      }
    }
  }

  /** The chain to write: the stored head when it is this server's (see file comment), else a new stream. */
  async #open(): Promise<AuditChain> {
    const head = await this.#store.head(this.#stream);
    if (this.#keyring === undefined) this.#pendingStart = startRecord(head === undefined ? 'stream_started' : 'pipeline_started', {
      checkpoint_key: null, reason: 'the server runs without a signer key: no signed checkpoint covers its access records',
    });
    if (head === undefined || this.#keyring === undefined) return new AuditChain({ stream: this.#stream, ...(head === undefined ? {} : { head }) });
    const why = await this.#notOurs(head);
    return why === undefined ? new AuditChain({ stream: this.#stream, head }) : this.#fork(why);
  }

  /** Why the stored head is not vouched for by this server's own signed checkpoint; undefined when it is. */
  async #notOurs(head: ChainHead): Promise<string | undefined> {
    const last = await this.#store.lastCheckpoint(this.#stream);
    const checked = last === undefined ? undefined : verifyCheckpoint(last.note, this.#keyring!);
    const cp = checked?.ok === true ? checked.checkpoint : undefined;
    if (cp !== undefined && cp.size === head.size && cp.rootHash.toString('hex') === new AuditChain({ stream: this.#stream, head }).rootHex()) return undefined;
    return `its ${head.size} stored record(s) are not all covered by a checkpoint signed with this server's key`;
  }

  /** A new stream that names the one left and why, as its first record (sealed with the next append). */
  #fork(why: string): AuditChain {
    const previous = this.#stream;
    const stream = `${previous.slice(0, 200)}/${createRecordId()}`;
    this.#stream = stream;
    const signer = this.#signers[0]!;
    this.#pendingStart = startRecord('stream_started', {
      checkpoint_key: noteKeyId(signer.name, signer.keyHash), previous_stream: previous, reason: `the server left stream ${previous}: ${why}`,
    });
    return new AuditChain({ stream });
  }

  async #append(input: AuditEventInput): Promise<void> {
    this.#chain ??= await this.#open();
    const chain = this.#chain;
    const before = chain.head();
    const start = this.#pendingStart;
    // The stream_started record takes the time of the record it comes with, so the two sort in seq order.
    const records = start === undefined ? [chain.append(input)] : [chain.append({ ...start, time: input.time }), chain.append(input)];
    const checkpoints: SealedCheckpoint[] = [];
    // The records that open a stream come with a checkpoint: a verification run before the
    // next interval would otherwise find a signed stream without any, as if it had been deleted.
    const opens = before.size === 0;
    if (this.#signers.length > 0 && (opens || this.#sinceCheckpoint + records.length >= this.#every)) checkpoints.push(this.#checkpoint(chain));
    try {
      this.#store.appendSync({ records, checkpoints });
    } catch (e) {
      this.#chain = new AuditChain({ stream: this.#stream, head: before });
      throw e;
    }
    this.#pendingStart = undefined;
    this.#sinceCheckpoint = checkpoints.length > 0 ? 0 : this.#sinceCheckpoint + records.length;
  }

  #checkpoint(chain: AuditChain): SealedCheckpoint {
    const time = BigInt(Date.now()) * 1_000_000n;
    return { stream: chain.stream, size: chain.size, rootHash: chain.rootHex(), timeUnixNano: time, note: chain.checkpoint(time, this.#signers) };
  }

  /**
   * Sign a checkpoint over the records written since the last one, now (a
   * no-op without a signer key or new records). The integrity route calls it
   * before verifying, so the access records of the requests that just led
   * to the check are not reported as an unsigned tail of the server's own
   * stream; without it a dashboard would show every fresh window "not
   * verified" until the next interval.
   */
  checkpointNow(): void {
    this.#tryCheckpoint();
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
