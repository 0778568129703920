/**
 * The records that wait at one seq of a stream (DESIGN §4.4, §5) and which
 * of them is stored when the stream reaches it. Several may wait at one seq
 * (a forged one cannot take a genuine one's place), but no more than
 * {@link MAX_PARKED_PER_SEQ}: otherwise a sender that makes up any number of
 * records claiming one seq would have them all stored. Nor may more than
 * `maxParked` wait in all, across seqs and streams ({@link
 * DEFAULT_MAX_PARKED}): otherwise records claiming ever higher seqs, or
 * ever new streams, would grow the store without end. Beyond either cap a
 * record is refused to its sender, and the flood is reported once (per
 * stream and seq; for the total, once each time the cap is reached), so the
 * findings cannot be flooded either. A genuine record refused so is not
 * lost: its sender keeps it (the outbox dead-letters it), and it is stored
 * once it comes with or after its predecessor — a record that continues
 * the stream is never parked, and the waiting records that do not continue
 * it are dropped when the stream reaches their seq.
 */
import type { AuditRecord, SealedRecord } from '@otel-audit/core';
import type { CollectorFinding } from './collector-findings.js';
import type { LiveStream } from './live-stream.js';
import type { Parked, PendingRecords } from './pending-records.js';
import { validRecord } from './valid-record.js';

/** Records that may wait at one seq of a stream: a genuine stream has one there; more are forged, or a sender's bug. */
export const MAX_PARKED_PER_SEQ = 8;

/** Default of the records that may wait in all, across seqs and streams. */
export const DEFAULT_MAX_PARKED = 10_000;

/** Why `park` turned a record away: its seq is full, or the records waiting in all reached the cap. */
export type ParkRefusal = 'seq_full' | 'all_full';

/** Full seqs remembered as reported (one forgotten is reported again, once). */
const REPORTED_MEMORY = 4096;

/** The records waiting at each seq of the central store's streams (called inside the ingest transaction). */
export class ParkedCandidates {
  readonly #pending: PendingRecords;
  readonly #knownHash: (id: string) => string | undefined;
  /** `stream\nseq` of the full seqs reported, oldest first. */
  readonly #reported = new Set<string>();
  /** Those the running request reports: remembered once it committed (a rolled-back request raises no finding). */
  readonly #reporting = new Set<string>();
  readonly #maxParked: number;
  /** Whether reaching `maxParked` was reported, since a record last parked. */
  #allFullReported = false;
  /** Whether the running request reports it. */
  #allFullReporting = false;

  /**
   * `knownHash(id)`: the hash of the record stored, or being stored by the
   * running request, under `id`; `maxParked`: the records that may wait in all.
   */
  constructor(pending: PendingRecords, knownHash: (id: string) => string | undefined, maxParked = DEFAULT_MAX_PARKED) {
    this.#pending = pending;
    this.#knownHash = knownHash;
    this.#maxParked = maxParked;
  }

  /** A request starts. */
  begin(): void {
    this.#reporting.clear();
    this.#allFullReporting = false;
    this.#pending.recount();
  }

  /** The running request committed: the full seqs (and the reached cap) it reported are not reported again. */
  committed(): void {
    for (const key of this.#reporting) {
      this.#reported.add(key);
      if (this.#reported.size > REPORTED_MEMORY) this.#reported.delete(this.#reported.values().next().value!);
    }
    this.#reporting.clear();
    if (this.#allFullReporting) this.#allFullReported = true;
    this.#allFullReporting = false;
  }

  /**
   * Park `record`, unless {@link MAX_PARKED_PER_SEQ} records wait at its seq
   * already, or `maxParked` in all: why not then.
   */
  park(record: AuditRecord, hash: string, body: string): ParkRefusal | undefined {
    if (this.#pending.countAt(record.stream, record.seq) >= MAX_PARKED_PER_SEQ) return 'seq_full';
    if (this.#pending.total() >= this.#maxParked) return 'all_full';
    this.#pending.park(record.id, hash, record.stream, record.seq, record.prev, body);
    // There was room again: the next time the cap is reached is news.
    this.#allFullReported = false;
    return undefined;
  }

  /**
   * Why `record`, which `park` turned away (`why`) while the stream is at
   * `size`, is refused: a finding the first time for its stream and seq
   * (for a full seq) or since records last found room (for the total cap),
   * the message alone after that.
   */
  refusal(record: AuditRecord, hash: string, size: number, why: ParkRefusal): CollectorFinding | string {
    if (why === 'all_full') {
      const message = `record ${record.id} (hash ${hash}) claims seq ${record.seq} of ${record.stream}, ahead of the stream (at seq ${size}), but ${this.#maxParked} records `
        + `wait for their predecessors already, the collector's limit (maxParkedRecords, otel-audit collect --max-parked): refused, like any further record that would have to wait `
        + `(reported once until records find room again); send it again once the records before it arrived, or raise the limit`;
      if (this.#allFullReported || this.#allFullReporting) return message;
      this.#allFullReporting = true;
      return { code: 'parked_limit', stream: record.stream, seq: record.seq, id: record.id, message };
    }
    const message = `record ${record.id} (hash ${hash}) claims seq ${record.seq} of ${record.stream}, where ${MAX_PARKED_PER_SEQ} other records wait already `
      + `(the stream is at seq ${size}): refused, like any further one at that seq (reported once); send it again once the records before it arrived`;
    const key = `${record.stream}\n${record.seq}`;
    if (this.#reported.has(key) || this.#reporting.has(key)) return message;
    this.#reporting.add(key);
    return { code: 'duplicate', stream: record.stream, seq: record.seq, id: record.id, message };
  }

  /** Drop the records waiting for a seq below `size`: the stream holds another record there (it got there directly). */
  dropPassed(stream: string, size: number, findings: CollectorFinding[]): void {
    for (const c of this.#pending.before(stream, size)) {
      this.#pending.unpark(c.record_id, c.hash);
      findings.push({ code: 'duplicate', stream, seq: c.seq, id: c.record_id, message: `record ${c.record_id} (hash ${c.hash}) waited for seq ${c.seq} of ${stream}, which holds another record: dropped` });
    }
  }

  /**
   * Take every record waiting at the stream's next seq out, and return the
   * one that continues the chain — when several do, the one a record
   * waiting at the seq after names as its prev — or undefined. Each other
   * one is a finding (it was accepted with an earlier request, so it is not
   * refused to this one's sender).
   */
  next(live: LiveStream, stream: string, findings: CollectorFinding[]): SealedRecord | undefined {
    const seq = live.range.size;
    const fitting: { c: Parked; record: AuditRecord }[] = [];
    for (const c of this.#pending.at(stream, seq)) {
      this.#pending.unpark(c.record_id, c.hash);
      const where = { stream, seq, id: c.record_id };
      let parsed: unknown;
      try {
        parsed = JSON.parse(c.body);
      } catch {
        parsed = undefined;
      }
      const record = validRecord(parsed, c.body);
      if (typeof record === 'string') {
        findings.push({ code: 'malformed', ...where, message: `record ${c.record_id} (stream ${stream} seq ${seq}) ${record}` });
        continue;
      }
      const stored = this.#knownHash(c.record_id);
      if (stored !== undefined) {
        findings.push({ code: 'duplicate', ...where, message: `record id ${c.record_id} waited with other content (hash ${c.hash}) than the record stored under it (${stored})` });
      } else if (record.prev !== live.prev) {
        findings.push({ code: 'chain_break', ...where, message: `record ${c.record_id} at seq ${seq} names prev ${record.prev}, but the stream's last hash is ${live.prev}: dropped` });
      } else {
        fitting.push({ c, record });
      }
    }
    const chosen = fitting.length > 1 ? fitting.find((f) => this.#pending.hasSuccessor(stream, seq + 1, f.c.hash)) ?? fitting[0] : fitting[0];
    for (const f of fitting) {
      if (f !== chosen) findings.push({ code: 'duplicate', stream, seq, id: f.c.record_id, message: `two records continue stream ${stream} at seq ${seq}: kept ${chosen!.c.record_id} (hash ${chosen!.c.hash}), dropped ${f.c.record_id} (hash ${f.c.hash})` });
    }
    return chosen === undefined ? undefined : { record: chosen.record, canonical: chosen.c.body, hash: chosen.c.hash };
  }
}
