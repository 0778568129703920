/**
 * What verification reports (DESIGN §4.4): per stream, the records seen, the
 * first and last `seq`, the checkpoints, and every finding with its
 * evidence. Tampering is an expected outcome, so it is data, not an error.
 */

/** The finding codes of §4.4, plus `malformed` for input that cannot be read as a record or checkpoint. */
export type FindingCode =
  | 'hash_mismatch'
  | 'chain_break'
  | 'seq_gap'
  | 'duplicate'
  | 'bad_signature'
  | 'unknown_key'
  | 'key_out_of_window'
  | 'root_mismatch'
  | 'truncated'
  | 'unsigned_tail'
  | 'malformed';

/** Every finding code, errors first, then the one warning. */
export const FINDING_CODES: readonly FindingCode[] = Object.freeze([
  'hash_mismatch', 'chain_break', 'seq_gap', 'duplicate', 'bad_signature', 'unknown_key',
  'key_out_of_window', 'root_mismatch', 'truncated', 'malformed', 'unsigned_tail',
]);

/** One problem found, with where it was found and the evidence. */
export interface Finding {
  code: FindingCode;
  /** `unsigned_tail` is a warning; every other code is an error. */
  severity: 'error' | 'warning';
  stream: string;
  /** The record's `seq` (for a range, its first seq). */
  seq?: number;
  /** Last seq of a range (`seq_gap`, `unsigned_tail`). */
  lastSeq?: number;
  /** The record's id. */
  id?: string;
  /** The checkpoint's tree size, for checkpoint findings. */
  size?: number;
  /** What the record, chain or checkpoint says it should be. */
  expected?: string;
  /** What was found. */
  actual?: string;
  /**
   * For checkpoint findings: where the checkpoint came from, when the caller
   * said (`Verifier.addCheckpoint(note, { source })`), e.g. a file of
   * checkpoints kept apart from the log verified.
   */
  source?: string;
  /**
   * For `bad_signature`, `unknown_key` and `key_out_of_window`: the key ids
   * (`<name>+<hash>`, from the note's signature lines) behind the finding,
   * e.g. the keys an `unknown_key` checkpoint is signed by.
   */
  keys?: readonly string[];
  /** One sentence for people. */
  message: string;
}

/** The verification of one stream. */
export interface StreamReport {
  stream: string;
  alg: string | undefined;
  /** Distinct records seen (exact duplicates from retries are counted apart). */
  records: number;
  firstSeq: number | undefined;
  lastSeq: number | undefined;
  /** Exact re-deliveries of a record already seen (same seq, same hash): ignored. */
  duplicatesIgnored: number;
  checkpoints: {
    /** Checkpoint notes seen for this stream. */
    seen: number;
    /**
     * Checkpoints with a valid trusted signature whose root matched the
     * records (a size-0 one among them, if any: it matches the empty tree
     * and vouches for no record).
     */
    verified: number;
    /** Largest tree size covered by a verified checkpoint (0 if none, or only size-0 ones). */
    lastVerifiedSize: number;
    /**
     * Checkpoints whose root differs from the records' (or, at size 0, from
     * the empty tree's `H("")`). Each mismatching size is listed once as a
     * `root_mismatch`, the first 100 sizes only; the rest are counted in
     * `errors` and `findingsOmitted`, and the last listed one says how many.
     */
    mismatched: number;
    /** Checkpoints whose root could not be compared (records missing before their size, or they arrived too late). */
    unchecked: number;
  };
  findings: Finding[];
  /** Findings not listed because of `maxFindingsPerStream` (they still count in errors/warnings). */
  findingsOmitted: number;
  errors: number;
  warnings: number;
}

/** The report of a verification run. */
export interface VerificationReport {
  /** True when no error was found (warnings allowed). */
  ok: boolean;
  records: number;
  errors: number;
  warnings: number;
  streams: StreamReport[];
}

/**
 * The streams of `report` whose records no verified signed checkpoint vouches
 * for: with `ranged` (the input was a seq or time range), those whose last
 * record lies beyond the last verified checkpoint — a checkpoint before the
 * range, compared against stored checksums, shows nothing about the records
 * in it; otherwise those with no verified checkpoint covering a record (none
 * at all, or only size-0 ones, which vouch for the empty tree). Only
 * meaningful when trusted keys were given: without keys nothing is ever
 * verified.
 *
 * @example
 * for (const s of unvouchedStreams(report, { ranged: true })) console.log(`${s.stream}: not covered yet`);
 */
export function unvouchedStreams(report: VerificationReport, options: { ranged: boolean }): StreamReport[] {
  return report.streams.filter((s) => s.records > 0 && s.lastSeq !== undefined && (options.ranged
    ? s.checkpoints.lastVerifiedSize <= s.lastSeq
    : s.checkpoints.lastVerifiedSize === 0));
}
