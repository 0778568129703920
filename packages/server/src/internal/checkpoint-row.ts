/**
 * A stored checkpoint row read against its signed note (DESIGN §4.3; §6
 * "Checkpoints are stored with the full signed-note text"). Only the note
 * is signed: the `stream`, `size`, `root_hash` and `time_unix_nano` columns
 * are unsigned copies kept for the indexes, and anyone who can write the
 * file can change them without touching a signature. So what the API shows
 * of a checkpoint is parsed from the note text, and a row whose columns
 * disagree with its note is reported as `mismatch` — never `valid` — with
 * each disagreeing column, its stored and its signed value.
 */
import { Keyring, verifyCheckpoint, type Checkpoint, type CheckpointStatus } from '@otel-audit/core';
import { checkpointColumnMismatches, type CheckpointColumnMismatch, type CheckpointRowColumns } from '@otel-audit/exporter-sqlite';

const NO_KEYS = Keyring.from([]);

/** The columns of an `audit_checkpoints` row as the routes select them (`time` is `CAST(time_unix_nano AS TEXT)`). */
export interface CheckpointRow extends CheckpointRowColumns {
  note: string;
}

/** A signature status, `no_keys` when the server trusts no key. */
export type SignatureStatus = CheckpointStatus | 'no_keys';

/** The status of a row: its signature status, or `mismatch` when its columns disagree with its note. */
export type CheckpointRowStatus = SignatureStatus | 'mismatch';

/** One unsigned column whose value differs from the signed note's. */
export type ColumnMismatch = CheckpointColumnMismatch;

/** What {@link openCheckpointRow} found. */
export interface OpenedCheckpointRow {
  /** The checkpoint parsed from the note text; undefined when the note does not parse. */
  checkpoint: Checkpoint | undefined;
  /** `malformed`, else `mismatch` when a column disagrees with the note, else the signature status. */
  status: CheckpointRowStatus;
  /** The note's signature status against the trusted keys (`no_keys` without keys). */
  signature: SignatureStatus;
  /** Key ids behind the signature status. */
  keys: readonly string[];
  /** The columns that disagree with the note (empty when they agree or the note does not parse). */
  mismatches: ColumnMismatch[];
  /** One sentence for people when the status is `mismatch` or `malformed`. */
  problem?: string;
}

/**
 * Opens `row`'s note with `keyring` and compares the row's columns with it.
 *
 * @example
 * const opened = openCheckpointRow(row, keyring);
 * if (opened.status === 'mismatch') console.log(opened.problem); // "root_hash is 00.. in the database, 02.. in the signed note; ..."
 */
export function openCheckpointRow(row: CheckpointRow, keyring: Keyring | undefined): OpenedCheckpointRow {
  const v = verifyCheckpoint(row.note, keyring ?? NO_KEYS);
  const cp = v.checkpoint;
  if (cp === undefined) {
    return { checkpoint: undefined, status: 'malformed', signature: 'malformed', keys: [], mismatches: [], problem: `${v.message}; the stored columns are unsigned and are not shown` };
  }
  const signature: SignatureStatus = keyring === undefined ? 'no_keys' : v.status;
  const mismatches = checkpointColumnMismatches(row, cp);
  if (mismatches.length === 0) return { checkpoint: cp, status: signature, signature, keys: v.keys, mismatches };
  const what = mismatches.map((m) => `${m.column} is ${JSON.stringify(m.stored)} in the database, ${JSON.stringify(m.signed)} in the note`).join('; ');
  return {
    checkpoint: cp, status: 'mismatch', signature, keys: v.keys, mismatches,
    problem: `the stored checkpoint row disagrees with its signed note (the database was edited): ${what}; the values shown are the note's`,
  };
}
