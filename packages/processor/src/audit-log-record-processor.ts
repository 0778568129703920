/**
 * The audit LogRecordProcessor (DESIGN §3, §4.5, §4.6, §5): the OpenTelemetry
 * face and the lifecycle. In `onEmit`, synchronously and in emit order: select
 * audit records (scope `otel-audit` or a predicate; anything else costs one
 * comparison), map the LogRecord to an event (internal/log-record-event.ts),
 * admit it against the queue bound (internal/queue-router.ts), seal it —
 * redact, validate, canonicalize, hash, append, checkpoint, alerts
 * (internal/stream-sealer.ts) — and rewrite the outgoing LogRecord (§4.6).
 * Options: internal/resolved-options.ts; opening the stream (stored head,
 * a crashed process's spill file, key check): internal/stream-opener.ts;
 * delivery to sinks: internal/delivery.ts; sealing the streams of processes
 * of this host that ended without stopping: internal/stream-adopter.ts.
 *
 * Until the primary sink has told the stream's stored head, nothing can be
 * sealed: records emitted meanwhile are normalised and redacted at once,
 * travel downstream as `audit.pending`, and are sealed in emit order once
 * the head is known (internal/deferred-record.ts); `ready()` resolves then.
 */
import { globalErrorHandler } from '@opentelemetry/core';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import {
  createRecordId,
  receiptCallbacksOf,
  type ChainHead,
  type ReceiptCallbacks,
  type StreamWriter,
} from '@otel-audit/core';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditLogRecordProcessorOptions } from './audit-log-record-processor-options.js';
import { AuditShutdownError } from './errors.js';
import { DeferredRecords } from './internal/deferred-record.js';
import { Delivery } from './internal/delivery.js';
import { keepingAlive } from './internal/keep-alive.js';
import { eventInputOf } from './internal/log-record-event.js';
import { ProcessorMetrics } from './internal/metrics.js';
import { Outbox } from './internal/outbox.js';
import { logRecordOfSealed, writeSealed } from './internal/outgoing.js';
import { EMITTED_AFTER_SHUTDOWN, resolveOptions, signerOf, type ResolvedOptions } from './internal/resolved-options.js';
import { Spill } from './internal/spill.js';
import { StreamAdopter } from './internal/stream-adopter.js';
import { openStream } from './internal/stream-opener.js';
import { StreamSealer, type SignerState } from './internal/stream-sealer.js';
import { QueueBound } from './internal/queue-bound.js';
import { QueueRouter } from './internal/queue-router.js';
import { LossLedger, abandonHeld } from './internal/shutdown-loss.js';
import { defaultStreamId, droppedDetails, sinkSkipDetails, systemEvent } from './internal/system-events.js';
import { ACTION_PIPELINE_STOPPED, ACTION_RECORDS_DROPPED } from './semconv.js';
import { toError } from './internal/to-error.js';

type State = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/** One id per process: the default instance part of stream ids. */
const PROCESS_INSTANCE_ID = createRecordId();

/**
 * The audit LogRecordProcessor. Put it first in the provider's processors so
 * no other processor sees an unredacted audit record.
 *
 * @example
 * const processor = new AuditLogRecordProcessor({ sinks: [new InMemoryAuditSink()], signerKey });
 * const provider = new LoggerProvider({ processors: [processor] });
 * provider.getLogger('otel-audit').emit({ body: { type: 'auth', action: 'login', outcome: 'success', actor: { id: 'alice' } } });
 * await provider.forceFlush();
 */
export class AuditLogRecordProcessor implements LogRecordProcessor {
  readonly #o: ResolvedOptions;
  readonly #bound: QueueBound;
  /** The checkpoint signer(s), shared with the sealer. */
  readonly #keys: SignerState;
  readonly #metrics: ProcessorMetrics;
  readonly #delivery: Delivery;
  #spill: Spill | undefined;

  #state: State = 'idle';
  #stream: string | undefined;
  /** This pipeline as it claims its stream in the primary sink (one id per processor). */
  readonly #writer: StreamWriter = { id: createRecordId(), pid: process.pid, host: hostname() };
  /** The stream the primary sink holds for this pipeline, given up at shutdown. */
  #claimed: string | undefined;
  /** Seals streams left by dead processes of this host, after this one's own start. */
  #adopter: StreamAdopter | undefined;
  /** Seals into the open stream; undefined until the stream head is known. */
  #sealer: StreamSealer | undefined;
  readonly #deferred: DeferredRecords;
  #checkpointTimer: NodeJS.Timeout | undefined;
  #started: Promise<void> | undefined;
  #readyResolve!: () => void;
  #readyReject!: (e: Error) => void;
  readonly #ready: Promise<void>;
  #shutdown: Promise<void> | undefined;
  /** LogRecords the processor emits itself (checkpoints, system records). */
  readonly #outbox: Outbox;
  readonly #router: QueueRouter;
  readonly #losses = new LossLedger();

  constructor(options: AuditLogRecordProcessorOptions) {
    const o = (this.#o = resolveOptions(options));
    this.#keys = { signers: o.signers, keyId: o.keyId };
    this.#outbox = new Outbox(o.logger, o.scopeName, o.onError);
    this.#metrics = new ProcessorMetrics(options.meterProvider, () => this.#delivery.depth + this.#deferred.length + (this.#spill?.pending ?? 0));
    this.#bound = new QueueBound(this, o.maxQueueSize, o.overflow, this.#metrics, o.onError);
    this.#deferred = new DeferredRecords(this.#bound, o.redactor, o.limits);
    this.#delivery = new Delivery({
      sinks: o.sinks,
      maxBatchSize: o.maxBatchSize,
      flushIntervalMillis: o.flushIntervalMillis,
      retryInitialMillis: o.retryInitialMillis,
      retryMaxMillis: o.retryMaxMillis,
      metrics: this.#metrics,
      onError: (e) => o.onError(e),
      onDrain: () => this.#onDrain(),
      onRecovered: (sink, failures) => {
        const dropped = this.#bound.takeOutageDrops();
        const said = dropped > 0 ? `; ${dropped} record(s) were dropped meanwhile because the queue was full (max_queue_size ${o.maxQueueSize}), counted in system/records_dropped records` : '';
        o.onWarning({ code: 'sink_recovered', message: `otel-audit: audit sink "${sink}" recovered after ${failures} failed attempt${failures === 1 ? '' : 's'}; its records are delivered again${said}` });
      },
      skipSecondariesAt: o.overflow === 'spill' ? undefined : o.maxQueueSize,
    });
    this.#spill =
      o.overflow === 'spill'
        ? new Spill(o.spillPath ?? join(tmpdir(), `otel-audit-${process.pid}-${createRecordId()}.spill`), (item) => this.#delivery.push(item), () => o.maxQueueSize - this.#delivery.depth, (e) => o.onError(e))
        : undefined;
    this.#router = new QueueRouter(this.#delivery, this.#spill, this.#bound, o, () => this.#sealDrops());
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#readyResolve = resolve;
      this.#readyReject = reject;
    });
    // Rejected only for whoever awaits ready(); a processor nobody asks is not an unhandled rejection.
    this.#ready.catch(() => undefined);
    if (o.stream !== undefined) this.#begin(o.stream);
  }

  /** The stream id, once known. */
  get stream(): string | undefined {
    return this.#stream;
  }

  /**
   * Resolves when the stream head is known and records are sealed in
   * `onEmit`; rejects when the stream cannot be opened at all (an id core
   * refuses), with the error also given to `onError` — instead of never
   * settling.
   */
  ready(): Promise<void> {
    return this.#ready;
  }

  /**
   * True while the primary sink's last append failed (retrying): what the
   * HTTP instrumentation's `fail_closed` option (DESIGN §5) checks.
   */
  get primarySinkFailing(): boolean {
    return this.#delivery.primaryFailing;
  }

  /** The current chain head (undefined before `ready()`). */
  head(): ChainHead | undefined {
    return this.#sealer?.chain.head();
  }

  onEmit(logRecord: ReadWriteLogRecord): void {
    if (this.#o.select === undefined ? logRecord.instrumentationScope.name !== this.#o.scopeName : !this.#safeSelect(logRecord)) return;
    if (this.#outbox.emitting) return;
    try {
      this.#onAudit(logRecord);
    } catch (e) {
      this.#o.onError(toError(e));
    }
  }

  /**
   * Resolves when every record emitted before the call is committed by every
   * sink. Never rejects. While it is pending the process stays alive (its
   * retries are otherwise on unref'd timers), so a script's last
   * `await processor.forceFlush()` does not end under a failing sink.
   */
  forceFlush(): Promise<void> {
    return keepingAlive(() => this.#flush());
  }

  async #flush(): Promise<void> {
    try {
      if (this.#state === 'starting' || this.#state === 'idle') {
        if (this.#state === 'idle') return;
        await this.#started;
      }
      this.#outbox.flush();
      await this.#router.flushAll();
    } catch (e) {
      this.#o.onError(toError(e));
    }
  }

  /**
   * Flushes, writes a `pipeline_stopped` record and a final checkpoint,
   * waits for the sinks (up to `shutdownTimeoutMillis`), rejects receipts
   * still pending and shuts the sinks down. Idempotent; never rejects.
   */
  shutdown(): Promise<void> {
    return (this.#shutdown ??= this.#doShutdown().catch((e: unknown) => this.#o.onError(toError(e))));
  }

  // ---- the emit path ------------------------------------------------------

  #safeSelect(logRecord: ReadWriteLogRecord): boolean {
    try {
      return this.#o.select!(logRecord) === true;
    } catch (e) {
      this.#o.onError(toError(e));
      return false;
    }
  }

  #onAudit(logRecord: ReadWriteLogRecord): void {
    let receipt: ReceiptCallbacks | undefined;
    let input: Record<string, unknown> | undefined;
    let error: unknown;
    try {
      receipt = receiptCallbacksOf(logRecord.body);
      input = eventInputOf(logRecord);
      if (this.#o.redactor.hasPointers) this.#o.redactor.applyPointers(input);
    } catch (e) {
      error = e;
      input = undefined;
    }
    const state = this.#state;
    if (state !== 'running') {
      if (state === 'idle') this.#begin(defaultStreamId(logRecord.resource?.attributes, PROCESS_INSTANCE_ID));
      else if (state === 'stopping' || state === 'stopped') {
        receipt?.reject(new AuditShutdownError('the audit processor is shut down; the record was not written'));
        this.#o.onError(new AuditShutdownError(EMITTED_AFTER_SHUTDOWN));
        return;
      }
      this.#deferred.add(logRecord, input, error, receipt);
      return;
    }
    if (!this.#router.admit(receipt, logRecord)) return;
    const sealed = this.#sealer!.seal(input, error, receipt, logRecord);
    writeSealed(logRecord, sealed, this.#o.redactor);
  }

  /**
   * Switch the checkpoint signer at runtime (key rotation, DESIGN §4.3/§5).
   * Seals a `system/key_changed` record naming the old and new key ids, then
   * a checkpoint signed by both keys (the old key vouches for the handover),
   * and signs later checkpoints with the new key only. Returns false when
   * `signerKey` is the key already in use. Before `ready()` the key is simply
   * replaced (the start compares it with the stored checkpoint's).
   *
   * @example
   * processor.rotateSignerKey(process.env.AUDIT_SIGNER_KEY_NEXT!);
   */
  rotateSignerKey(signerKey: string): boolean {
    if (this.#state === 'stopping' || this.#state === 'stopped') throw new AuditShutdownError('the audit processor is shut down; the signer key cannot be rotated');
    const next = signerOf(signerKey, 'signerKey');
    if (next.keyId === this.#keys.keyId) return false;
    const old = { ...this.#keys };
    this.#keys.signers = next.signers;
    this.#keys.keyId = next.keyId;
    this.#sealer?.rotated(old);
    return true;
  }

  /** The pending loss as a records_dropped record, whose receipt tells the ledger when the primary sink has it. */
  #sealDrops(): void {
    const d = this.#bound.takeDrops();
    if (d !== undefined) this.#sealer!.sealSystemEvent(systemEvent(ACTION_RECORDS_DROPPED, 'failure', 'error', droppedDetails(d, this.#o.maxQueueSize)), this.#losses.dropsSealed(d.count));
  }

  /** Records failing secondary sinks skipped at the queue bound: the chain says which, for which sink (one record per sink and tick). */
  #sealSkips(): void {
    for (const skip of this.#delivery.takeSkips()) this.#sealer!.sealSystem(ACTION_RECORDS_DROPPED, 'failure', 'error', sinkSkipDetails(skip, this.#o.maxQueueSize));
  }

  #onDrain(): void {
    if (this.#state === 'running' || this.#state === 'stopping') this.#router.drained();
  }

  // ---- start: stream id, head, first records --------------------------------

  #begin(stream: string): void {
    this.#state = 'starting';
    this.#stream = stream;
    this.#started = this.#start(stream).catch((e: unknown) => {
      this.#o.onError(toError(e));
      this.#readyReject(toError(e));
    });
  }

  async #start(stream: string): Promise<void> {
    const o = this.#o;
    const opened = await openStream({
      primary: o.sinks[0]!, stream, writer: this.#writer, alg: o.alg, limits: o.limits, previousStream: o.previousStream, spill: this.#spill, stillStarting: () => this.#state === 'starting', onWarning: o.onWarning, onError: o.onError,
    });
    if (opened?.claimed === true) this.#claimed = opened.stream;
    if (opened === undefined || this.#state !== 'starting') return;
    if (opened.inUseBy !== undefined && this.#spill !== undefined) {
      // The configured spill file is the live holder's: two writers would interleave their lines.
      o.onWarning({ code: 'stream_in_use', message: `otel-audit: the spill file ${this.#spill.path} belongs to the pipeline that holds stream "${opened.previous}"; this one does not spill: records beyond the queue are dropped and counted (system/records_dropped), as under overflow drop` });
      this.#router.leaveSpill();
      this.#spill = undefined;
    }
    this.#stream = opened.stream;
    this.#sealer = new StreamSealer(opened.chain, o, this.#keys, this.#metrics, this.#outbox, this.#router.enqueue);
    this.#state = 'running';
    this.#sealer.sealStartRecords(opened, this.#spill?.path);
    if (opened.recovery?.kind === 'replay') void this.#spill!.replay(Math.max(1, this.#router.room));
    this.#sealDeferred();
    this.#checkpointTimer = setInterval(() => this.#tick(), o.checkpointIntervalMillis);
    this.#checkpointTimer.unref();
    this.#readyResolve();
    // After the own stream's start records and first checkpoint; in the background, never failing the start.
    this.#adopter = new StreamAdopter({
      o, writer: this.#writer, ownStream: opened.stream, skip: opened.recovery?.kind === 'replay' ? opened.recovery.streams : [],
      keys: this.#keys, metrics: this.#metrics, outbox: this.#outbox, enqueue: this.#router.enqueue, flush: () => this.#router.flushAll(), running: () => this.#state === 'running',
    });
    this.#adopter.start();
  }

  #sealDeferred(): void {
    for (const d of this.#deferred.take()) this.#outbox.add(logRecordOfSealed(this.#sealer!.seal(d.event, d.error, d.receipt, undefined, d)));
  }

  #tick(): void {
    if (this.#state !== 'running') return;
    try {
      if (this.#bound.hasDrops) this.#sealDrops();
      this.#sealSkips();
      this.#sealer!.checkpoint();
      this.#router.replaySome();
    } catch (e) {
      this.#o.onError(toError(e));
    }
  }

  // ---- shutdown --------------------------------------------------------------

  async #doShutdown(): Promise<void> {
    // Producers waiting for queue space would only meet a stopped pipeline: told now, not at their timeout.
    this.#bound.close(new AuditShutdownError('the audit pipeline is shutting down; the record waiting for queue space (overflow block) was not written'));
    const wasStarting = this.#state === 'starting';
    if (this.#state === 'idle') {
      this.#state = 'stopped';
      await this.#delivery.close(new AuditShutdownError('the audit processor was shut down'));
      return;
    }
    if (wasStarting) {
      // Give the head lookup a bounded chance so deferred records are sealed.
      let wait: NodeJS.Timeout | undefined;
      await Promise.race([this.#started, new Promise((r) => (wait = setTimeout(r, this.#o.shutdownTimeoutMillis)))]);
      clearTimeout(wait);
    }
    const running = this.#state === 'running';
    this.#state = 'stopping';
    if (this.#checkpointTimer !== undefined) clearInterval(this.#checkpointTimer);
    if (running) {
      if (this.#bound.hasDrops) this.#sealDrops();
      this.#sealSkips();
      this.#sealer!.sealSystemEvent(systemEvent(ACTION_PIPELINE_STOPPED, 'success', 'info', { pid: process.pid, last_seq: this.#sealer!.chain.size }), this.#losses.stopSealed());
      this.#sealer!.checkpoint();
    }
    const heldLost = running ? 0 : abandonHeld(this.#deferred, this.#bound, this.#o, this.#stream, this.#spill !== undefined);
    this.#outbox.flush();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.#router.flushAll().then(
        () => false,
        (e: unknown) => (this.#o.onError(toError(e)), false),
      ),
      // Ref'd, unlike the pipeline's timers: an awaited shutdown (a script's last await,
      // the register hook's beforeExit) must get its retries and its answer, within the timeout.
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), this.#o.shutdownTimeoutMillis))),
    ]);
    clearTimeout(timer);
    this.#state = 'stopped';
    this.#bound.relieve();
    // The stream is free for the next pipeline — unless it did not end in the store (records lost, or only in
    // the spill file): the claim then stays as evidence, and the next start records previous_writer_ended_without_stopping.
    const ended = running ? this.#losses.stopCommitted : heldLost === 0;
    if (this.#claimed !== undefined && ended) await this.#o.sinks[0]!.releaseStream?.(this.#claimed, this.#writer).catch(() => undefined);
    await this.#adopter?.release(this.#o.shutdownTimeoutMillis);
    await this.#router.close(timedOut, this.#o.shutdownTimeoutMillis, () => this.#losses.unrecordedDrops);
    // Skipped after the last record was sealed: said here, not in the chain.
    for (const skip of this.#delivery.takeSkips()) {
      this.#o.onError(new Error(`otel-audit: sink "${skip.sink}" did not get ${skip.count} record(s) (seq ${skip.firstSeq}..${skip.lastSeq} of ${skip.stream}), skipped while it failed during shutdown; the primary sink has them`));
    }
  }
}
