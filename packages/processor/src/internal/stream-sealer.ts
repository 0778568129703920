/**
 * Sealing into one open stream (DESIGN §3 steps 2–5, §4.3, §5, §9): append
 * each event to the chain (an invalid one becomes an `error`-outcome
 * `system/record_rejected` record and its receipt rejects), hand the sealed
 * record to delivery, write a signed checkpoint every N records, run the
 * `onSealed` hook (alerts) and seal what it returns right after the record,
 * seal the pipeline's own system records, and rotate the checkpoint signer.
 * Synchronous: it runs inside `onEmit`.
 */
import type { ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import type { AuditChain, AuditEventInput, NoteSigner, ReceiptCallbacks, SealedCheckpoint, SealedRecord } from '@otel-audit/core';
import { AuditRecordRejectedError } from '../errors.js';
import type { DeferredRecord } from './deferred-record.js';
import { QueueItem } from './delivery.js';
import { keyChangedEvent, keyDiffers } from './key-change.js';
import { hrTimeToNanosText } from './log-record-event.js';
import type { ProcessorMetrics } from './metrics.js';
import type { Outbox } from './outbox.js';
import { logRecordOfCheckpoint, logRecordOfSealed } from './outgoing.js';
import { QueuedRecord } from './queued-record.js';
import type { ResolvedOptions } from './resolved-options.js';
import type { OpenedStream } from './stream-opener.js';
import { ACTION_PIPELINE_STARTED, ACTION_SPILL_NOT_REPLAYED, ACTION_SPILL_REPLAYED, ACTION_STREAM_STARTED } from '../semconv.js';
import { nowNanos, rejectionEvent, systemEvent } from './system-events.js';
import { toError } from './to-error.js';

/** The checkpoint signer(s) in use; shared with the processor, which may replace them before the stream opens. */
export interface SignerState {
  signers: NoteSigner[];
  keyId: string | undefined;
}

/** Seals events into one stream's chain (see file comment). */
export class StreamSealer {
  readonly chain: AuditChain;
  readonly #o: ResolvedOptions;
  readonly #keys: SignerState;
  readonly #metrics: ProcessorMetrics;
  readonly #outbox: Outbox;
  readonly #enqueue: (item: QueueItem) => void;
  #sinceCheckpoint = 0;
  #checkpointedSize: number;
  #inOnSealed = false;
  readonly #hooks: boolean;

  /** `hooks` false: `onSealed` (alerts) does not see what this sealer seals — a stream adopted from a dead process takes no alert records. */
  constructor(chain: AuditChain, o: ResolvedOptions, keys: SignerState, metrics: ProcessorMetrics, outbox: Outbox, enqueue: (item: QueueItem) => void, hooks = true) {
    this.chain = chain;
    this.#o = o;
    this.#keys = keys;
    this.#metrics = metrics;
    this.#outbox = outbox;
    this.#enqueue = enqueue;
    this.#checkpointedSize = chain.size;
    this.#hooks = hooks;
  }

  /** Seal, enqueue, maybe checkpoint. An invalid input is sealed as a record_rejected record. */
  seal(
    input: AuditEventInput | Record<string, unknown> | undefined,
    error: unknown,
    receipt: ReceiptCallbacks | undefined,
    logRecord: ReadWriteLogRecord | undefined,
    deferred?: DeferredRecord,
  ): SealedRecord {
    const chain = this.chain;
    const redactor = this.#o.redactor;
    let sealed: SealedRecord | undefined;
    if (input !== undefined) {
      // A deferred event was normalised and redacted when emitted: not again.
      if (deferred !== undefined) redactor.bypass = true;
      try {
        sealed = chain.append(input as AuditEventInput);
      } catch (e) {
        error = e;
      } finally {
        redactor.bypass = false;
      }
    }
    if (sealed === undefined) {
      const timeText = logRecord !== undefined ? hrTimeToNanosText(logRecord.hrTime) : (deferred?.timeText ?? String(nowNanos()));
      const sc = logRecord?.spanContext;
      sealed = chain.append(rejectionEvent(error, input, timeText, sc?.traceId ?? deferred?.traceId, sc?.spanId ?? deferred?.spanId));
      this.#metrics.invalid.add(1);
      const pointer = typeof (error as { pointer?: unknown })?.pointer === 'string' ? (error as { pointer: string }).pointer : '';
      receipt?.reject(new AuditRecordRejectedError(`audit record rejected: ${toError(error).message}`, pointer, sealed.record.id, error));
      receipt = undefined;
    }
    this.#metrics.sealed.add(1);
    this.#enqueue(new QueueItem(QueuedRecord.of(sealed), undefined, receipt));
    if (++this.#sinceCheckpoint >= this.#o.checkpointEvery) this.checkpoint();
    if (this.#o.onSealed !== undefined && this.#hooks && !this.#inOnSealed) this.#afterSeal(sealed);
    return sealed;
  }

  #afterSeal(sealed: SealedRecord): void {
    this.#inOnSealed = true;
    try {
      const events = this.#o.onSealed!(sealed.record);
      if (events) {
        for (const event of events) this.#outbox.add(logRecordOfSealed(this.seal(event, undefined, undefined, undefined)));
      }
    } catch (e) {
      this.#o.onError(toError(e));
    } finally {
      this.#inOnSealed = false;
    }
  }

  /** Seals a system record the pipeline writes itself and emits it downstream. */
  sealSystem(action: string, outcome: 'success' | 'failure', severity: 'info' | 'warning' | 'error', details: Record<string, unknown>): SealedRecord {
    return this.sealSystemEvent(systemEvent(action, outcome, severity, details));
  }

  /** `receipt`: told when the primary sink commits the record (the processor's loss ledger). */
  sealSystemEvent(event: AuditEventInput, receipt?: ReceiptCallbacks): SealedRecord {
    const sealed = this.seal(event, undefined, receipt, undefined);
    this.#outbox.add(logRecordOfSealed(sealed));
    return sealed;
  }

  /** A signed checkpoint over the chain, unless it has not grown since the last one. */
  checkpoint(): void {
    const chain = this.chain;
    this.#sinceCheckpoint = 0;
    const size = chain.size;
    if (size === this.#checkpointedSize || size === 0) return;
    this.#checkpointedSize = size;
    const timeUnixNano = nowNanos();
    const note = chain.checkpoint(timeUnixNano, this.#keys.signers);
    const cp: SealedCheckpoint = { stream: chain.stream, size, rootHash: chain.rootHex(), timeUnixNano, note };
    this.#enqueue(new QueueItem(undefined, cp, undefined));
    this.#metrics.checkpoints.add(1);
    this.#outbox.add(logRecordOfCheckpoint(cp));
  }

  /** stream_started or pipeline_started, then what opening the stream found (a key change, a replayed or lost spill file); a new stream, then its first checkpoint. */
  sealStartRecords(opened: OpenedStream, spillPath: string | undefined): void {
    const { chain, recovery, storedKeyIds } = opened;
    const keyId = this.#keys.keyId;
    const common: Record<string, unknown> = { alg: chain.alg, pid: process.pid };
    if (keyId !== undefined) common.checkpoint_key = keyId;
    // The writer before this one ended without stopping (its claim was taken over): what it had not committed was lost.
    const gone = opened.tookOverFrom;
    if (gone !== undefined) {
      common.previous_writer_ended_without_stopping = {
        pid: gone.pid, host: gone.host, since: gone.since, ...(gone.unsignedFromSeq !== undefined ? { unsigned_from_seq: gone.unsignedFromSeq } : {}),
      };
    }
    const holder = opened.inUseBy === undefined ? undefined : { pid: opened.inUseBy.pid, host: opened.inUseBy.host, since: opened.inUseBy.since };
    if (opened.resumed) {
      // A slot stream resumed because the stream asked for was held: says which, and by whom.
      const inUse = holder === undefined ? {} : { stream_in_use: opened.previous, stream_in_use_by: holder };
      this.sealSystem(ACTION_PIPELINE_STARTED, 'success', 'info', { ...common, resumed_at_seq: chain.size - 1, ...inUse });
    } else {
      const inUse = holder === undefined ? {} : { previous_stream_in_use_by: holder };
      this.sealSystem(ACTION_STREAM_STARTED, 'success', 'info', opened.previous !== undefined ? { ...common, previous_stream: opened.previous, ...inUse } : common);
    }
    if (storedKeyIds !== undefined && keyDiffers(storedKeyIds, keyId)) this.sealSystemEvent(keyChangedEvent(storedKeyIds, keyId, 'resumed_with_other_key'));
    if (recovery?.kind === 'replay') {
      // A partial last line: records were cut from the file (kept aside as evidence, not replayed).
      if (recovery.truncatedTo === undefined) this.sealSystem(ACTION_SPILL_REPLAYED, 'success', 'info', { records: recovery.records, file: spillPath });
      else this.sealSystem(ACTION_SPILL_REPLAYED, 'failure', 'warning', { records: recovery.records, file: spillPath, truncated_bytes: recovery.truncatedBytes, truncated_to: recovery.truncatedTo });
    } else if (recovery?.kind === 'unreplayable') {
      const details: Record<string, unknown> = { records: recovery.records, file: recovery.movedTo, reason: recovery.reason.slice(0, 500) };
      // `records` is then an estimate: the lines the file held (`unknown`: none could be read).
      if (recovery.countOf !== 'records') details.count_of = recovery.countOf;
      this.sealSystem(ACTION_SPILL_NOT_REPLAYED, 'failure', 'error', details);
    }
    // A new stream is covered by a checkpoint at once: a verification run in its first
    // interval would otherwise find records and no checkpoint, as if they had been deleted.
    if (!opened.resumed) this.checkpoint();
  }

  /**
   * The signer state was just switched from `old`: seal `system/key_changed`,
   * then a handover checkpoint signed by the old and the new keys.
   */
  rotated(old: SignerState): void {
    const keys = this.#keys;
    const current = keys.signers;
    // Both keys sign from the key_changed record on: sealing it may itself
    // reach the checkpoint interval, and that checkpoint is the handover.
    keys.signers = [...old.signers, ...current];
    try {
      this.sealSystemEvent(keyChangedEvent(old.keyId === undefined ? [] : [old.keyId], keys.keyId, 'rotated'));
      this.checkpoint();
    } finally {
      keys.signers = current;
    }
  }
}
