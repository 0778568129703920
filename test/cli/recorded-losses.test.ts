/**
 * Losses the chain records show in verification (DESIGN §5, red team
 * helper 75 F7): a `system/records_dropped`, `spill_not_replayed` or
 * `integrity_failure` record, or one saying a writer ended without stopping
 * (`stream_abandoned`, `previous_writer_ended_without_stopping`), leaves the chain intact — the records were
 * never sealed, or not delivered to one sink — yet an auditor must see what
 * is missing. verify lists them under the report, for a store and a bundle.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chainStore, event, runCli, writeKeys } from './helpers.js';

const LOSSES: Record<number, Record<string, unknown>> = {
  4: { action: 'records_dropped', details: { count: 4951, reason: 'queue_full', max_queue_size: 50 } },
  6: { action: 'records_dropped', details: { count: 3, first_seq: 1, last_seq: 3, sink: 'otlp', reason: 'sink_failing' } },
  8: { action: 'integrity_failure', details: { dead_letters: 14, batches: 2 } },
  9: { action: 'spill_not_replayed', details: { records: 22, file: '/tmp/x.spill.bad', reason: 'cut' } },
  11: { action: 'spill_not_replayed', details: { records: 292, count_of: 'lines', file: '/tmp/y.spill.bad', reason: 'line 12 is not JSON' } },
  12: { action: 'spill_replayed', details: { records: 151, truncated_bytes: 256, truncated_to: '/tmp/q.spill.truncated-1' } },
  13: { action: 'spill_replayed', details: { records: 40 } },
  // The collector's findings: records it refused or found missing are a loss; a refused request or checkpoint is not.
  15: { action: 'integrity_failure', details: { code: 'seq_gap', seq: 41 } },
  16: { action: 'integrity_failure', details: { code: 'request_refused' } },
  17: { action: 'integrity_failure', details: { code: 'root_mismatch', seq: 9 } },
  18: { action: 'integrity_failure', details: { code: 'malformed', subject: 'checkpoint' } },
  // A writer that ended without stopping: the count of what it had not committed is unknown.
  2: { action: 'pipeline_started', details: { alg: 'sha256', pid: 9, previous_writer_ended_without_stopping: { pid: 71, host: 'web-1', since: '2026-11-30T06:00:00.000Z', unsigned_from_seq: 1 } } },
  3: { action: 'pipeline_started', details: { alg: 'sha256', pid: 10 } },
  5: { action: 'stream_abandoned', details: { pid: 72, host: 'web-2', since: '2026-11-30T07:00:00.000Z', last_seq: 4, unsigned_from_seq: 3 } },
  19: { action: 'records_dropped', details: { count: 8, reason: 'spill_failed', error_code: 'ENOSPC', also_reason: 'queue_full' } },
};

describe('otel-audit verify: losses the chain records', () => {
  it('lists each loss record under an INTACT report, with its count, and in --json; a bundle too', async () => {
    const { dir, db } = chainStore(20, { make: (i) => (LOSSES[i] ? { ...event(i), type: 'system', outcome: 'failure', ...LOSSES[i] } : event(i)) });
    const { vkey } = writeKeys(dir);
    const run = await runCli(['verify', db, '--key', vkey]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^INTACT: 20 records/m);
    expect(run.stdout.split('\n').filter((l) => l.startsWith('recorded loss:'))).toEqual([
      'recorded loss: stream "svc/1" seq 2 (pipeline_started): some records a writer that ended without stopping may have sealed and not committed (pid 71 on host web-1, running since 2026-11-30T06:00:00.000Z; the count is unknown; records from seq 1 were not covered by its checkpoints)',
      'recorded loss: stream "svc/1" seq 4 (records_dropped): 4951 records dropped before they were sealed (queue full)',
      'recorded loss: stream "svc/1" seq 5 (stream_abandoned): some records a writer that ended without stopping may have sealed and not committed (pid 72 on host web-2, running since 2026-11-30T07:00:00.000Z; the count is unknown; records from seq 3 were not covered by its checkpoints)',
      'recorded loss: stream "svc/1" seq 6 (records_dropped): 3 records not delivered to sink "otlp" (they are in the chain; that sink lacks them)',
      'recorded loss: stream "svc/1" seq 8 (integrity_failure): 14 records refused by the OTLP receiver (dead-lettered in the outbox; not at the receiver)',
      'recorded loss: stream "svc/1" seq 9 (spill_not_replayed): 22 records of a spill file that could not be replayed (kept aside as evidence)',
      'recorded loss: stream "svc/1" seq 11 (spill_not_replayed): 292 lines (the file could not be parsed, so counted as lines) of a spill file that could not be replayed (kept aside as evidence)',
      'recorded loss: stream "svc/1" seq 12 (spill_replayed): 256 bytes cut from the end of a spill file: the records in them were not replayed (kept in "/tmp/q.spill.truncated-1")',
      'recorded loss: stream "svc/1" seq 15 (integrity_failure): some records the collector refused or found missing (its finding "seq_gap", at seq 41 of the stream the record names)',
      'recorded loss: stream "svc/1" seq 19 (records_dropped): 8 records dropped before they were sealed (the spill file could not be written: ENOSPC, then queue full)',
    ]);
    const json = JSON.parse((await runCli(['verify', db, '--key', vkey, '--json'])).stdout);
    expect(json.recordedLosses).toHaveLength(10);
    expect(json.recordedLosses[1]).toMatchObject({ stream: 'svc/1', seq: 4, action: 'records_dropped', count: 4951 });
    expect(json.recordedLosses[0]).not.toHaveProperty('count');

    const bundle = path.join(dir, 'b.json');
    expect((await runCli(['export', '--db', db, '--format', 'bundle', '--out', bundle])).code).toBe(0);
    const fromBundle = await runCli(['verify', bundle, '--key', vkey]);
    expect(fromBundle.stdout.split('\n').filter((l) => l.startsWith('recorded loss:'))).toHaveLength(10);
  });

  it('says nothing when the chain records no loss', async () => {
    const { dir, db } = chainStore(20);
    const { vkey } = writeKeys(dir);
    const run = await runCli(['verify', db, '--key', vkey]);
    expect(run.stdout).not.toContain('recorded loss');
    expect(JSON.parse((await runCli(['verify', db, '--key', vkey, '--json'])).stdout)).not.toHaveProperty('recordedLosses');
  });
});
