/**
 * What the verifier (verifier.ts, DESIGN §4.4) keeps per stream: the
 * O(log n + window) state — reorder buffer, ring of recent record hashes,
 * Merkle compact range and its snapshots, checkpoints not yet reached — and
 * the stream's report, into which every finding is recorded with its
 * severity and under the `maxFindingsPerStream` cap.
 */
import type { Checkpoint } from '../checkpoint-text.js';
import type { HashAlgorithm } from '../hash.js';
import type { CompactRange } from '../merkle-tree.js';
import type { Finding, FindingCode, StreamReport } from '../verification-report.js';
import { SeqHeap } from './seq-heap.js';

/** One record as the verifier keeps it: its placement and its hashes. */
export interface Entry {
  seq: number;
  id: string;
  prev: string;
  hashHex: string;
  /** The hash stored beside the record, if any. */
  claimed: string | undefined;
  /** A hash_mismatch was reported already when the record came in (its `alg` is not the stream's): not again for the hashes. */
  mismatchReported?: true;
}

/** A checkpoint whose size the stream's tree has not reached yet. */
export interface PendingCheckpoint {
  checkpoint: Checkpoint;
  signed: boolean;
  /** Where the checkpoint came from, if the caller said; copied into its findings. */
  source?: string;
}

/** A finding as the checks report it; `addFinding` adds its severity and stream. */
export type FindingInput = Omit<Finding, 'severity' | 'stream'> & { code: FindingCode };

const ERROR = 'error';

export class StreamState {
  readonly report: StreamReport;
  /** The verifier's reorder window: size of `recent`, bound of `pending`. */
  readonly window: number;
  /** Findings listed in `report`; further ones are counted only. */
  readonly maxFindings: number;
  alg: HashAlgorithm | undefined;
  next = 0;
  /** Hash the next record's prev must equal; undefined right after a gap. */
  expectedPrev: string | undefined;
  tree: CompactRange | undefined;
  /** Tree cannot be extended (records missing); later roots are unchecked. */
  treeBroken = false;
  /** Records at or before this size are covered by the start compact range. */
  startSize = 0;
  readonly pending = new Map<number, Entry>();
  /** The keys of `pending`, smallest first: the next seq to resume at when a gap is given up on. */
  readonly pendingSeqs = new SeqHeap();
  /** Ring of the last `window` processed records, slot = seq % window. */
  readonly recent: (Entry | undefined)[];
  readonly recentIds = new Map<string, number>();
  /** Compact range snapshots for roots at sizes already passed. */
  readonly snapshots: CompactRange[] = [];
  /** Checkpoints not yet reached, by size. */
  readonly waiting = new Map<number, PendingCheckpoint[]>();
  maxCheckpointSize = 0;
  /** Checkpoint sizes listed as `root_mismatch` (at most ROOT_MISMATCHES_LISTED). */
  readonly mismatchedSizes = new Set<number>();
  /** Mismatching checkpoints counted but not listed, past the listed sizes. */
  mismatchesUnlisted = 0;
  /** The last `root_mismatch` finding listed: at `finish()` it says how many more were not listed. */
  lastRootMismatch: Finding | undefined;
  /** What follows the last record given, for a range (`Verifier.endStream`). */
  end: { prev: string; hashes: readonly string[] } | undefined;

  constructor(stream: string, window: number, maxFindings: number) {
    this.window = window;
    this.maxFindings = maxFindings;
    this.recent = new Array(window);
    this.report = {
      stream,
      alg: undefined,
      records: 0,
      firstSeq: undefined,
      lastSeq: undefined,
      duplicatesIgnored: 0,
      checkpoints: { seen: 0, verified: 0, lastVerifiedSize: 0, mismatched: 0, unchecked: 0 },
      findings: [],
      findingsOmitted: 0,
      errors: 0,
      warnings: 0,
    };
  }
}

/**
 * Records a finding in the stream's report: `unsigned_tail` counts as a
 * warning, every other code as an error; past `maxFindings` it is counted
 * but not listed. Returns the finding as listed, or undefined when it was
 * only counted.
 *
 * @example
 * addFinding(state, { code: 'seq_gap', seq: 4, lastSeq: 6, message: 'records seq 4..6 are missing' });
 */
export function addFinding(state: StreamState, f: FindingInput): Finding | undefined {
  const severity = countFinding(state, f.code);
  const report = state.report;
  if (report.findings.length >= state.maxFindings) {
    report.findingsOmitted++;
    return undefined;
  }
  const listed: Finding = { ...f, severity, stream: report.stream };
  report.findings.push(listed);
  return listed;
}

/**
 * Counts a finding that is not listed (in `errors` or `warnings`, and in
 * `findingsOmitted`), for a check that bounds how many of its findings it
 * lists.
 *
 * @example
 * omitFinding(state, 'root_mismatch');
 */
export function omitFinding(state: StreamState, code: FindingCode): void {
  countFinding(state, code);
  state.report.findingsOmitted++;
}

function countFinding(state: StreamState, code: FindingCode): 'error' | 'warning' {
  const severity = code === 'unsigned_tail' ? 'warning' : ERROR;
  if (severity === ERROR) state.report.errors++;
  else state.report.warnings++;
  return severity;
}
