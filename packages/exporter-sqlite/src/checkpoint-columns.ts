/**
 * A stored checkpoint row read against its signed note (DESIGN §4.3, §6):
 * only the note is signed; the `stream`, `size`, `root_hash` and
 * `time_unix_nano` columns beside it are unsigned copies for the indexes,
 * which anyone who can write the file can change. `verify` reports each
 * disagreement as a finding; the query server shows the note's values and
 * the row as `mismatch`.
 */
import type { Checkpoint } from '@otel-audit/core';

/** The columns of an `audit_checkpoints` row (`time` is `CAST(time_unix_nano AS TEXT)`). */
export interface CheckpointRowColumns {
  stream: string;
  size: number | bigint;
  root_hash: string;
  time: string;
}

/** One unsigned column whose value differs from the signed note's. */
export interface CheckpointColumnMismatch {
  column: 'stream' | 'size' | 'root_hash' | 'time_unix_nano';
  /** The value in the database. */
  stored: string;
  /** The value in the signed note text. */
  signed: string;
}

/**
 * The columns of `row` that differ from `checkpoint`, the note parsed
 * (empty when they agree).
 *
 * @example
 * const cp = verifyCheckpoint(row.note, keyring).checkpoint;
 * if (cp) for (const m of checkpointColumnMismatches(row, cp)) console.log(`${m.column} was edited`);
 */
export function checkpointColumnMismatches(row: CheckpointRowColumns, checkpoint: Checkpoint): CheckpointColumnMismatch[] {
  const out: CheckpointColumnMismatch[] = [];
  const compare = (column: CheckpointColumnMismatch['column'], stored: string, signed: string): void => {
    if (stored !== signed) out.push({ column, stored, signed });
  };
  compare('stream', String(row.stream), checkpoint.origin);
  compare('size', String(row.size), String(checkpoint.size));
  compare('root_hash', String(row.root_hash).toLowerCase(), checkpoint.rootHash.toString('hex'));
  compare('time_unix_nano', String(row.time), checkpoint.timeUnixNano.toString());
  return out;
}
