/**
 * One line of the `spill` overflow file (DESIGN §5; internal/spill.ts): a
 * sealed record (its canonical text and hash) or a checkpoint, as one JSON
 * object per line. Receipt callbacks are not written: the spill keeps them
 * in memory, keyed by line number, and attaches them again here on replay.
 */
import type { ReceiptCallbacks, SealedCheckpoint } from '@otel-audit/core';
import { QueueItem } from './delivery.js';
import { QueuedRecord } from './queued-record.js';

/** The JSON object of one line. */
export interface SpillLine {
  /** canonical text of a record */
  c?: string;
  /** its hash */
  h?: string;
  /** a checkpoint, timeUnixNano as decimal text */
  k?: Omit<SealedCheckpoint, 'timeUnixNano'> & { timeUnixNano: string };
}

/** The line (with its newline) that stands for `item` in the file. */
export function lineOf(item: QueueItem): string {
  let line: SpillLine;
  if (item.sealed !== undefined) line = { c: item.sealed.canonical, h: item.sealed.hash };
  else {
    const cp = item.checkpoint!;
    line = { k: { stream: cp.stream, size: cp.size, rootHash: cp.rootHash, timeUnixNano: String(cp.timeUnixNano), note: cp.note } };
  }
  return JSON.stringify(line) + '\n';
}

/** The queue item a replayed line stands for, with the receipt waiting for it. */
export function itemOf(line: SpillLine, receipt: ReceiptCallbacks | undefined): QueueItem {
  if (line.k !== undefined) return new QueueItem(undefined, { ...line.k, timeUnixNano: BigInt(line.k.timeUnixNano) }, undefined);
  return new QueueItem(QueuedRecord.parse(line.c!, line.h!), undefined, receipt);
}
