/**
 * The audit LogRecordProcessor (DESIGN §3, §4.5, §4.6, §5). In `onEmit`,
 * synchronously and in emit order: select audit records (scope `otel-audit`
 * or a predicate; anything else costs one comparison), map the LogRecord to
 * an event (producer convention, internal/log-record-event.ts), redact,
 * validate + canonicalize + hash + append to the stream's Merkle range
 * (core's AuditChain, with redaction fused into its normalisation), rewrite
 * the outgoing LogRecord (§4.6) and enqueue for delivery. An invalid event
 * becomes an `error`-outcome `system/record_rejected` record. Around it:
 * batched delivery to several sinks (internal/delivery.ts), a bounded queue
 * with `block`/`drop` overflow and gap records, receipts, signed checkpoints,
 * stream resume, lifecycle records, metrics.
 *
 * Until the primary sink has told the stream's stored head (an async call
 * made at construction, or at the first audit record when the stream id
 * comes from the resource) nothing can be sealed: records emitted meanwhile
 * are normalised and redacted at once (so later mutation by the producer
 * changes nothing), travel downstream as `audit.pending` LogRecords with the
 * redacted event as body, and are sealed in emit order as soon as the head is
 * known (their sealed form is then emitted as LogRecords of their own).
 * `ready()` resolves at that point.
 */
import { diag } from '@opentelemetry/api';
import { globalErrorHandler } from '@opentelemetry/core';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import {
  AuditChain,
  DEFAULT_HASH_ALGORITHM,
  assertHashAlgorithm,
  canonicalize,
  createRecordId,
  normalizeEvent,
  noteKeyId,
  parseSignerKey,
  receiptCallbacksOf,
  setAuditCongestion,
  type AuditEvent,
  type AuditEventInput,
  type AuditSink,
  type ChainHead,
  type HashAlgorithm,
  type NormalizeOptions,
  type NoteSigner,
  type ReceiptCallbacks,
  type SealedCheckpoint,
  type SealedRecord,
} from '@otel-audit/core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditLogRecordProcessorOptions, OverflowPolicy } from './audit-log-record-processor-options.js';
import { AuditQueueFullError, AuditRecordRejectedError, AuditShutdownError } from './errors.js';
import { Delivery, type QueueItem } from './internal/delivery.js';
import { eventInputOf, hrTimeToNanosText } from './internal/log-record-event.js';
import { ProcessorMetrics } from './internal/metrics.js';
import { Outbox } from './internal/outbox.js';
import { logRecordOfCheckpoint, logRecordOfSealed, writePending, writeSealed } from './internal/outgoing.js';
import { QueuedRecord } from './internal/queued-record.js';
import { Redactor } from './internal/redactor.js';
import { Spill } from './internal/spill.js';
import { defaultStreamId, droppedDetails, nowNanos, rejectionEvent, systemEvent, type Drops } from './internal/system-events.js';
import {
  ACTION_PIPELINE_STARTED,
  ACTION_PIPELINE_STOPPED,
  ACTION_RECORDS_DROPPED,
  ACTION_STREAM_STARTED,
  AUDIT_SCOPE_NAME,
} from './semconv.js';

type State = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

interface Deferred {
  event: AuditEvent | undefined;
  error: unknown;
  receipt: ReceiptCallbacks | undefined;
  timeText: string;
  traceId: string | undefined;
  spanId: string | undefined;
}


/** One id per process: the default instance part of stream ids. */
const PROCESS_INSTANCE_ID = createRecordId();

function positiveInt(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`options.${name} must be a number; got ${typeof value}`);
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`options.${name} must be a positive integer; got ${value}`);
  return value;
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}


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
  readonly #scopeName: string;
  readonly #select: ((r: ReadWriteLogRecord) => boolean) | undefined;
  readonly #sinks: readonly AuditSink[];
  readonly #alg: HashAlgorithm;
  readonly #previousStream: string | undefined;
  readonly #redactor: Redactor;
  readonly #limits: NormalizeOptions;
  readonly #maxQueueSize: number;
  readonly #hardQueueSize: number;
  readonly #overflow: OverflowPolicy;
  readonly #checkpointEvery: number;
  readonly #checkpointIntervalMillis: number;
  readonly #shutdownTimeoutMillis: number;
  readonly #signers: NoteSigner[];
  readonly #keyId: string | undefined;
  readonly #metrics: ProcessorMetrics;
  readonly #delivery: Delivery;
  readonly #spill: Spill | undefined;
  readonly #onSealed: AuditLogRecordProcessorOptions['onSealed'];
  #inOnSealed = false;
  readonly #maxBatchSize: number;

  #state: State = 'idle';
  #stream: string | undefined;
  #chain: AuditChain | undefined;
  #deferred: Deferred[] = [];
  #drops: Drops | undefined;
  #congested = false;
  #sinceCheckpoint = 0;
  #checkpointedSize = -1;
  #checkpointTimer: NodeJS.Timeout | undefined;
  #started: Promise<void> | undefined;
  #readyResolve!: () => void;
  readonly #ready: Promise<void>;
  #shutdown: Promise<void> | undefined;
  /** LogRecords the processor emits itself (checkpoints, system records). */
  readonly #outbox: Outbox;

  constructor(options: AuditLogRecordProcessorOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object with at least sinks');
    const sinks = options.sinks;
    if (!Array.isArray(sinks) || sinks.length === 0) throw new TypeError('options.sinks must be a non-empty array of AuditSink (the first is primary)');
    sinks.forEach((s: unknown, i) => {
      const sink = s as Partial<AuditSink> | null;
      if (typeof sink !== 'object' || sink === null || typeof sink.append !== 'function' || typeof sink.head !== 'function') {
        throw new TypeError(`options.sinks[${i}] must implement AuditSink (append(batch), head(stream))`);
      }
    });
    this.#sinks = [...sinks];
    this.#scopeName = options.scopeName ?? AUDIT_SCOPE_NAME;
    if (typeof this.#scopeName !== 'string' || this.#scopeName === '') throw new TypeError('options.scopeName must be a non-empty string');
    if (options.select !== undefined && typeof options.select !== 'function') throw new TypeError('options.select must be a function (logRecord) => boolean');
    this.#select = options.select;
    this.#alg = assertHashAlgorithm(options.alg ?? DEFAULT_HASH_ALGORITHM, 'options.alg');
    if (options.previousStream !== undefined && typeof options.previousStream !== 'string') throw new TypeError('options.previousStream must be a string');
    this.#previousStream = options.previousStream;
    this.#redactor = new Redactor(options.redaction);
    this.#limits = { ...options.limits, redact: this.#redactor.hook };
    this.#maxQueueSize = positiveInt(options.maxQueueSize, 10_000, 'maxQueueSize');
    this.#hardQueueSize = this.#maxQueueSize * 2;
    const overflow = options.overflow ?? 'block';
    if (overflow !== 'block' && overflow !== 'drop' && overflow !== 'spill') throw new RangeError(`options.overflow must be "block", "drop" or "spill"; got ${JSON.stringify(overflow)}`);
    if (options.spillPath !== undefined && (typeof options.spillPath !== 'string' || options.spillPath === '')) throw new TypeError('options.spillPath must be a non-empty file path');
    this.#overflow = overflow;
    this.#checkpointEvery = positiveInt(options.checkpointEveryRecords, 1000, 'checkpointEveryRecords');
    this.#checkpointIntervalMillis = positiveInt(options.checkpointIntervalMillis, 10_000, 'checkpointIntervalMillis');
    this.#shutdownTimeoutMillis = positiveInt(options.shutdownTimeoutMillis, 30_000, 'shutdownTimeoutMillis');
    if (options.signerKey !== undefined) {
      if (typeof options.signerKey !== 'string') throw new TypeError('options.signerKey must be a PRIVATE+KEY+... string');
      const signer = parseSignerKey(options.signerKey);
      this.#signers = [signer];
      this.#keyId = noteKeyId(signer.name, signer.keyHash);
    } else {
      this.#signers = [];
      this.#keyId = undefined;
      diag.warn('otel-audit: no checkpoint signer key configured (options.signerKey); checkpoints are written unsigned and verification will report the stream as unsigned');
    }
    if (options.logger !== undefined && (typeof options.logger !== 'object' || typeof options.logger.emit !== 'function')) {
      throw new TypeError('options.logger must be an OpenTelemetry Logger');
    }
    this.#outbox = new Outbox(options.logger, this.#scopeName);
    if (options.onSealed !== undefined && typeof options.onSealed !== 'function') throw new TypeError('options.onSealed must be a function (record) => events to seal');
    this.#onSealed = options.onSealed;
    this.#metrics = new ProcessorMetrics(options.meterProvider, () => this.#delivery.depth + this.#deferred.length + (this.#spill?.pending ?? 0));
    this.#maxBatchSize = positiveInt(options.maxBatchSize, 100, 'maxBatchSize');
    this.#delivery = new Delivery({
      sinks: this.#sinks,
      maxBatchSize: this.#maxBatchSize,
      flushIntervalMillis: positiveInt(options.flushIntervalMillis, 5000, 'flushIntervalMillis'),
      retryInitialMillis: positiveInt(options.retryInitialMillis, 100, 'retryInitialMillis'),
      retryMaxMillis: positiveInt(options.retryMaxMillis, 30_000, 'retryMaxMillis'),
      metrics: this.#metrics,
      onError: (e) => globalErrorHandler(e),
      onDrain: () => this.#onDrain(),
    });
    this.#spill =
      overflow === 'spill'
        ? new Spill(options.spillPath ?? join(tmpdir(), `otel-audit-${process.pid}-${createRecordId()}.spill`), (item) => this.#delivery.push(item), () => this.#maxQueueSize - this.#delivery.depth, (e) => globalErrorHandler(e))
        : undefined;
    this.#ready = new Promise<void>((resolve) => (this.#readyResolve = resolve));
    if (options.stream !== undefined) {
      if (typeof options.stream !== 'string' || options.stream === '') throw new TypeError('options.stream must be a non-empty string');
      this.#begin(options.stream);
    }
  }

  /** The stream id, once known. */
  get stream(): string | undefined {
    return this.#stream;
  }

  /** Resolves when the stream head is known and records are sealed in `onEmit`. */
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
    return this.#chain?.head();
  }

  onEmit(logRecord: ReadWriteLogRecord): void {
    if (this.#select === undefined ? logRecord.instrumentationScope.name !== this.#scopeName : !this.#safeSelect(logRecord)) return;
    if (this.#outbox.emitting) return;
    try {
      this.#onAudit(logRecord);
    } catch (e) {
      globalErrorHandler(toError(e));
    }
  }

  /** Resolves when every record emitted before the call is committed by every sink. Never rejects. */
  async forceFlush(): Promise<void> {
    try {
      if (this.#state === 'starting' || this.#state === 'idle') {
        if (this.#state === 'idle') return;
        await this.#started;
      }
      this.#outbox.flush();
      await this.#flushAll();
    } catch (e) {
      globalErrorHandler(toError(e));
    }
  }

  /** Spilled items first (in chunks the queue can take), then the queue. */
  async #flushAll(): Promise<void> {
    const spill = this.#spill;
    while (spill !== undefined && spill.active) {
      const before = spill.pending;
      await spill.written();
      await spill.replay(Math.max(this.#maxBatchSize, this.#maxQueueSize - this.#delivery.depth));
      await this.#delivery.flush();
      if (spill.active && spill.pending === before) throw new Error(`otel-audit: ${before} spilled item(s) in ${spill.path} cannot be replayed`);
    }
    await this.#delivery.flush();
  }

  /**
   * Flushes, writes a `pipeline_stopped` record and a final checkpoint,
   * waits for the sinks (up to `shutdownTimeoutMillis`), rejects receipts
   * still pending and shuts the sinks down. Idempotent; never rejects.
   */
  shutdown(): Promise<void> {
    return (this.#shutdown ??= this.#doShutdown().catch((e: unknown) => globalErrorHandler(toError(e))));
  }

  // ---- the emit path ------------------------------------------------------

  #safeSelect(logRecord: ReadWriteLogRecord): boolean {
    try {
      return this.#select!(logRecord) === true;
    } catch (e) {
      globalErrorHandler(toError(e));
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
      if (this.#redactor.hasPointers) this.#redactor.applyPointers(input);
    } catch (e) {
      error = e;
      input = undefined;
    }
    const state = this.#state;
    if (state !== 'running') {
      if (state === 'idle') this.#begin(defaultStreamId(logRecord.resource?.attributes, PROCESS_INSTANCE_ID));
      else if (state === 'stopping' || state === 'stopped') {
        receipt?.reject(new AuditShutdownError('the audit processor is shut down; the record was not written'));
        globalErrorHandler(new AuditShutdownError('audit record emitted after the audit processor was shut down; it was not written'));
        return;
      }
      this.#defer(logRecord, input, error, receipt);
      return;
    }
    if (!this.#admit(receipt, logRecord)) return;
    const sealed = this.#seal(input, error, receipt, logRecord);
    writeSealed(logRecord, sealed, this.#redactor);
  }

  /** Applies the overflow policy; false when the record is dropped. */
  #admit(receipt: ReceiptCallbacks | undefined, logRecord: ReadWriteLogRecord): boolean {
    if (this.#spill !== undefined) return true;
    const depth = this.#delivery.depth;
    if (depth < this.#maxQueueSize) {
      if (this.#drops !== undefined) this.#sealDrops();
      return true;
    }
    if (!this.#congested && this.#overflow === 'block') {
      this.#congested = true;
      setAuditCongestion(this, true);
    }
    if (this.#overflow === 'block' && depth < this.#hardQueueSize) return true;
    this.#drop(receipt, hrTimeToNanosText(logRecord.hrTime));
    // The live record must not travel downstream looking audited, nor carry secrets.
    writePending(logRecord, this.#redactor, '', 'audit.dropped');
    return false;
  }

  #drop(receipt: ReceiptCallbacks | undefined, timeText: string): void {
    const d = this.#drops;
    if (d === undefined) this.#drops = { count: 1, firstTime: timeText, lastTime: timeText };
    else {
      d.count++;
      d.lastTime = timeText;
    }
    this.#metrics.dropped.add(1);
    receipt?.reject(new AuditQueueFullError(this.#maxQueueSize));
  }

  /** Seal, enqueue, maybe checkpoint. An invalid input is sealed as a record_rejected record. */
  #seal(
    input: AuditEventInput | Record<string, unknown> | undefined,
    error: unknown,
    receipt: ReceiptCallbacks | undefined,
    logRecord: ReadWriteLogRecord | undefined,
    deferred?: Deferred,
  ): SealedRecord {
    const chain = this.#chain!;
    let sealed: SealedRecord | undefined;
    if (input !== undefined) {
      // A deferred event was normalised and redacted when emitted: not again.
      if (deferred !== undefined) this.#redactor.bypass = true;
      try {
        sealed = chain.append(input as AuditEventInput);
      } catch (e) {
        error = e;
      } finally {
        this.#redactor.bypass = false;
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
    this.#enqueue({ sealed: QueuedRecord.of(sealed), checkpoint: undefined, receipt });
    if (++this.#sinceCheckpoint >= this.#checkpointEvery) this.#checkpoint();
    if (this.#onSealed !== undefined && !this.#inOnSealed) this.#afterSeal(sealed);
    return sealed;
  }

  #afterSeal(sealed: SealedRecord): void {
    this.#inOnSealed = true;
    try {
      const events = this.#onSealed!(sealed.record);
      if (events) {
        for (const event of events) this.#outbox.add(logRecordOfSealed(this.#seal(event, undefined, undefined, undefined)));
      }
    } catch (e) {
      globalErrorHandler(toError(e));
    } finally {
      this.#inOnSealed = false;
    }
  }

  /** To the queue, or to the spill file when it is full or already in use (so order is kept). */
  #enqueue(item: QueueItem): void {
    const spill = this.#spill;
    if (spill !== undefined && (spill.active || this.#delivery.depth >= this.#maxQueueSize)) spill.add(item);
    else this.#delivery.push(item);
  }

  /** Seals a system record the pipeline writes itself and emits it downstream. */
  #sealSystem(action: string, outcome: 'success' | 'failure', severity: 'info' | 'warning' | 'error', details: Record<string, unknown>): SealedRecord {
    const sealed = this.#seal(systemEvent(action, outcome, severity, details), undefined, undefined, undefined);
    this.#outbox.add(logRecordOfSealed(sealed));
    return sealed;
  }

  #sealDrops(): void {
    const d = this.#drops!;
    this.#drops = undefined;
    this.#sealSystem(ACTION_RECORDS_DROPPED, 'failure', 'error', droppedDetails(d, this.#maxQueueSize));
  }

  #onDrain(): void {
    if (this.#state !== 'running' && this.#state !== 'stopping') return;
    const depth = this.#delivery.depth;
    if (depth >= this.#maxQueueSize) return;
    if (this.#spill?.active) {
      void this.#spill.replay(this.#maxQueueSize - depth);
      return;
    }
    if (this.#drops !== undefined) this.#sealDrops();
    if (this.#congested) {
      this.#congested = false;
      setAuditCongestion(this, false);
    }
  }

  #checkpoint(): void {
    const chain = this.#chain!;
    this.#sinceCheckpoint = 0;
    const size = chain.size;
    if (size === this.#checkpointedSize || size === 0) return;
    this.#checkpointedSize = size;
    const timeUnixNano = nowNanos();
    const note = chain.checkpoint(timeUnixNano, this.#signers);
    const cp: SealedCheckpoint = { stream: chain.stream, size, rootHash: chain.rootHex(), timeUnixNano, note };
    this.#enqueue({ sealed: undefined, checkpoint: cp, receipt: undefined });
    this.#metrics.checkpoints.add(1);
    this.#outbox.add(logRecordOfCheckpoint(cp));
  }

  // ---- start: stream id, head, first records --------------------------------

  #begin(stream: string): void {
    this.#state = 'starting';
    this.#stream = stream;
    this.#started = this.#start(stream).catch((e: unknown) => globalErrorHandler(toError(e)));
  }

  #defer(logRecord: ReadWriteLogRecord, input: Record<string, unknown> | undefined, error: unknown, receipt: ReceiptCallbacks | undefined): void {
    const timeText = hrTimeToNanosText(logRecord.hrTime);
    if (this.#deferred.length >= (this.#overflow === 'drop' ? this.#maxQueueSize : this.#hardQueueSize)) {
      this.#drop(receipt, timeText);
      writePending(logRecord, this.#redactor, '', 'audit.dropped');
      return;
    }
    let event: AuditEvent | undefined;
    if (input !== undefined) {
      try {
        event = normalizeEvent(input as unknown as AuditEventInput, this.#limits);
      } catch (e) {
        error = e;
      }
    }
    const sc = logRecord.spanContext;
    this.#deferred.push({ event, error, receipt, timeText, traceId: sc?.traceId, spanId: sc?.spanId });
    writePending(logRecord, this.#redactor, event !== undefined ? canonicalize(event) : '', 'audit.pending');
  }

  async #start(stream: string): Promise<void> {
    let head: ChainHead | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        head = await this.#sinks[0]!.head(stream);
        break;
      } catch (e) {
        if (attempt === 1) globalErrorHandler(new Error(`otel-audit: could not read the head of stream "${stream}" from the primary sink; retrying (records wait, sealed in order once it answers): ${toError(e).message}`, { cause: e }));
        if (this.#state !== 'starting') return;
        await new Promise((r) => setTimeout(r, Math.min(30_000, 100 * 2 ** Math.min(attempt, 9))).unref());
        if (this.#state !== 'starting') return;
      }
    }
    if (this.#state !== 'starting') return;
    let chain: AuditChain;
    let resumed = head !== undefined && head.size > 0;
    let previous = this.#previousStream;
    try {
      if (resumed && head!.alg !== this.#alg) diag.warn(`otel-audit: stream "${stream}" uses ${head!.alg}; it keeps it (options.alg ${this.#alg} applies to new streams)`);
      chain = new AuditChain({ stream, head: resumed ? head : undefined, alg: resumed ? undefined : this.#alg, limits: this.#limits });
    } catch (e) {
      // A stored head that cannot be resumed: start a new stream that names it.
      globalErrorHandler(new Error(`otel-audit: the stored head of stream "${stream}" cannot be resumed (${toError(e).message}); starting a new stream`, { cause: e }));
      previous = stream;
      resumed = false;
      this.#stream = `${stream}/${createRecordId()}`;
      chain = new AuditChain({ stream: this.#stream, alg: this.#alg, limits: this.#limits });
    }
    this.#chain = chain;
    this.#checkpointedSize = chain.size;
    this.#state = 'running';
    const common: Record<string, unknown> = { alg: chain.alg, pid: process.pid };
    if (this.#keyId !== undefined) common.checkpoint_key = this.#keyId;
    if (resumed) this.#sealSystem(ACTION_PIPELINE_STARTED, 'success', 'info', { ...common, resumed_at_seq: chain.size - 1 });
    else this.#sealSystem(ACTION_STREAM_STARTED, 'success', 'info', previous !== undefined ? { ...common, previous_stream: previous } : common);
    this.#sealDeferred();
    this.#checkpointTimer = setInterval(() => this.#tick(), this.#checkpointIntervalMillis);
    this.#checkpointTimer.unref();
    this.#readyResolve();
  }

  #sealDeferred(): void {
    const list = this.#deferred;
    this.#deferred = [];
    for (const d of list) this.#outbox.add(logRecordOfSealed(this.#seal(d.event, d.error, d.receipt, undefined, d)));
  }

  #tick(): void {
    if (this.#state !== 'running') return;
    try {
      if (this.#drops !== undefined) this.#sealDrops();
      this.#checkpoint();
      const room = this.#maxQueueSize - this.#delivery.depth;
      if (this.#spill?.active && room > 0) void this.#spill.replay(room);
    } catch (e) {
      globalErrorHandler(toError(e));
    }
  }

  // ---- shutdown --------------------------------------------------------------

  async #doShutdown(): Promise<void> {
    const wasStarting = this.#state === 'starting';
    if (this.#state === 'idle') {
      this.#state = 'stopped';
      await this.#delivery.close(new AuditShutdownError('the audit processor was shut down'));
      return;
    }
    if (wasStarting) {
      // Give the head lookup a bounded chance so deferred records are sealed.
      await Promise.race([this.#started, new Promise((r) => setTimeout(r, this.#shutdownTimeoutMillis).unref())]);
    }
    const running = this.#state === 'running';
    this.#state = 'stopping';
    if (this.#checkpointTimer !== undefined) clearInterval(this.#checkpointTimer);
    if (running) {
      if (this.#drops !== undefined) this.#sealDrops();
      this.#sealSystem(ACTION_PIPELINE_STOPPED, 'success', 'info', { pid: process.pid, last_seq: this.#chain!.size });
      this.#checkpoint();
    } else {
      for (const d of this.#deferred.splice(0)) d.receipt?.reject(new AuditShutdownError('the audit processor shut down before the stream head was known'));
    }
    this.#outbox.flush();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.#flushAll().then(
        () => false,
        (e: unknown) => (globalErrorHandler(toError(e)), false),
      ),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), this.#shutdownTimeoutMillis)).unref()),
    ]);
    clearTimeout(timer);
    this.#state = 'stopped';
    if (this.#congested) setAuditCongestion(this, false);
    const reason = new AuditShutdownError('the audit processor shut down before the primary sink committed the record');
    let lost = await this.#delivery.close(reason);
    if (this.#spill !== undefined) {
      const left = await this.#spill.close(reason);
      if (left > 0) globalErrorHandler(new AuditShutdownError(`otel-audit: ${left} sealed item(s) were not replayed from the spill file ${this.#spill.path}; it is left on disk`));
      lost += left;
    }
    if (timedOut || lost > 0) {
      globalErrorHandler(new AuditShutdownError(`otel-audit: shutdown after ${this.#shutdownTimeoutMillis} ms with ${lost} record(s) not committed by the primary sink; their receipts were rejected`));
    }
  }
}
