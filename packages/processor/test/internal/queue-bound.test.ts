/**
 * The loss pending at the queue bound (src/internal/queue-bound.ts) says
 * why records were dropped: when a pending loss began for one reason and
 * went on for the other (the queue full, then the spill file failing), its
 * records_dropped record names both, not only the first.
 */
import { describe, expect, it } from 'vitest';
import { ProcessorMetrics } from '../../src/internal/metrics.js';
import { QueueBound } from '../../src/internal/queue-bound.js';
import { droppedDetails } from '../../src/internal/system-events.js';

describe('QueueBound drops', () => {
  it('keeps the first reason and names the other one the loss went on for', () => {
    const bound = new QueueBound({}, 5, 'spill', new ProcessorMetrics(undefined, () => 0), () => undefined);
    bound.drop(undefined, '1000');
    bound.drop(undefined, '2000', { reason: 'spill_failed', errorCode: 'ENOSPC' });
    const d = bound.takeDrops()!;
    expect(droppedDetails(d, 5)).toEqual({ count: 2, first_time: '1000', last_time: '2000', reason: 'queue_full', also_reason: 'spill_failed', max_queue_size: 5 });
    bound.drop(undefined, '3000', { reason: 'spill_failed' });
    bound.drop(undefined, '4000', { reason: 'spill_failed' });
    expect(droppedDetails(bound.takeDrops()!, 5)).toEqual({ count: 2, first_time: '3000', last_time: '4000', reason: 'spill_failed', max_queue_size: 5 });
  });
});
