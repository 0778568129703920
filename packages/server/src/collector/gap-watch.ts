/**
 * When a missing record becomes a finding (DESIGN §4.4, §5): records of a
 * stream wait for a predecessor; once they waited longer than the grace
 * time, the seqs before the first of them are reported as `seq_gap` — for
 * the streams held in memory from their gap state, for the others from the
 * waiting records themselves (so a stream let go from memory is still
 * watched). Each gap is reported once per stream size. All times here are
 * monotonic (`performance.now()`): a wall-clock step must neither raise a
 * gap for a record that is only seconds late nor hide one for its length.
 */
import type { CollectorFinding } from './collector-findings.js';
import type { LiveStream } from './live-stream.js';
import type { PendingRecords } from './pending-records.js';

/** `seq_gap`: records from `from` up to the first one waiting are missing. */
function gapFinding(stream: string, from: number, firstWaiting: number): CollectorFinding {
  return { code: 'seq_gap', stream, seq: from, message: firstWaiting - 1 === from ? `record seq ${from} of ${stream} is missing` : `records seq ${from}..${firstWaiting - 1} of ${stream} are missing` };
}

/** Gaps of the streams in memory that outlived `graceMillis` (their gap state is updated); `now` is monotonic. */
export function gapsOfLiveStreams(live: ReadonlyMap<string, LiveStream>, pending: PendingRecords, graceMillis: number, now: number): CollectorFinding[] {
  const out: CollectorFinding[] = [];
  for (const [stream, s] of live) {
    if (s.gapSince === undefined || s.gapReported === s.range.size || now - s.gapSince < graceMillis) continue;
    const first = pending.firstSeq(stream);
    if (first === null) {
      s.gapSince = undefined;
      continue;
    }
    s.gapReported = s.range.size;
    out.push(gapFinding(stream, s.range.size, first));
  }
  return out;
}

/**
 * Gaps of the streams not in memory whose records waited past the grace
 * time, counted from `gapSince(stream)`: the monotonic time its gap began in
 * this process, or the collector's start for records that waited through a
 * restart (they get a fresh grace: senders retry then). The rows' stored
 * arrival is wall time, so it is not used here. `storedSize` gives a
 * stream's stored size.
 */
export function gapsOfIdleStreams(live: ReadonlyMap<string, LiveStream>, pending: PendingRecords, storedSize: (stream: string) => number, graceMillis: number, gapSince: (stream: string) => number, now: number): CollectorFinding[] {
  const out: CollectorFinding[] = [];
  for (const row of pending.streams()) {
    if (live.has(row.stream) || now - gapSince(row.stream) < graceMillis) continue;
    const from = storedSize(row.stream);
    if (row.first > from) out.push(gapFinding(row.stream, from, row.first));
  }
  return out;
}
