/**
 * The processor's own metrics through `@opentelemetry/api` (no-op when no
 * MeterProvider is registered): records sealed, committed, dropped and
 * rejected, queue depth, batch latency, checkpoints, sink errors.
 */
import { metrics, type Attributes, type Counter, type Histogram, type MeterProvider } from '@opentelemetry/api';
import {
  METER_NAME,
  METRIC_ATTR_DROP_REASON,
  METRIC_ATTR_SINK,
  METRIC_BATCH_DURATION,
  METRIC_CHECKPOINTS,
  METRIC_QUEUE_DEPTH,
  METRIC_RECORDS_COMMITTED,
  METRIC_RECORDS_DROPPED,
  METRIC_RECORDS_INVALID,
  METRIC_RECORDS_SEALED,
  METRIC_SINK_ERRORS,
} from '../semconv.js';

const QUEUE_FULL: Attributes = Object.freeze({ [METRIC_ATTR_DROP_REASON]: 'queue_full' });

/** Instruments of one processor. Counts are also kept locally for `stats()`. */
export class ProcessorMetrics {
  readonly sealed: Counter;
  readonly committed: Counter;
  readonly dropped: Counter;
  readonly invalid: Counter;
  readonly checkpoints: Counter;
  readonly sinkErrors: Counter;
  readonly batchDuration: Histogram;
  readonly #sinkAttrs = new Map<string, Attributes>();
  readonly #skipAttrs = new Map<string, Attributes>();

  constructor(provider: MeterProvider | undefined, queueDepth: () => number) {
    const meter = (provider ?? metrics).getMeter(METER_NAME);
    this.sealed = meter.createCounter(METRIC_RECORDS_SEALED, { description: 'Audit records sealed into the chain' });
    this.committed = meter.createCounter(METRIC_RECORDS_COMMITTED, { description: 'Audit records committed by a sink' });
    this.dropped = meter.createCounter(METRIC_RECORDS_DROPPED, { description: 'Audit records dropped on queue overflow (reason queue_full), or skipped by a failing secondary sink (reason sink_failing, with the sink attribute); each loss is also a records_dropped record' });
    this.invalid = meter.createCounter(METRIC_RECORDS_INVALID, { description: 'Producer records rejected as invalid (sealed as record_rejected)' });
    this.checkpoints = meter.createCounter(METRIC_CHECKPOINTS, { description: 'Checkpoints produced' });
    this.sinkErrors = meter.createCounter(METRIC_SINK_ERRORS, { description: 'Failed sink appends (retried)' });
    this.batchDuration = meter.createHistogram(METRIC_BATCH_DURATION, { description: 'Time for a sink to commit a batch', unit: 'ms' });
    const depth = meter.createObservableGauge(METRIC_QUEUE_DEPTH, { description: 'Records and checkpoints waiting for a sink' });
    depth.addCallback((result) => result.observe(queueDepth()));
  }

  /** The attribute set naming a sink (cached: no allocation per batch). */
  sinkAttributes(name: string): Attributes {
    let a = this.#sinkAttrs.get(name);
    if (a === undefined) this.#sinkAttrs.set(name, (a = { [METRIC_ATTR_SINK]: name }));
    return a;
  }

  /** Count records lost from the chain because the queue was full. */
  droppedFromChain(count: number): void {
    this.dropped.add(count, QUEUE_FULL);
  }

  /** Count records a failing sink skipped (they stay in the chain and the other sinks). */
  skippedBySink(count: number, sink: string): void {
    let a = this.#skipAttrs.get(sink);
    if (a === undefined) this.#skipAttrs.set(sink, (a = { [METRIC_ATTR_SINK]: sink, [METRIC_ATTR_DROP_REASON]: 'sink_failing' }));
    this.dropped.add(count, a);
  }
}
