/**
 * What the collector keeps in memory per stream while it verifies (DESIGN
 * §4.2, §4.3): the Merkle compact range and last hash of what was stored,
 * the checkpoints waiting for the stream to reach their size, the state of
 * a gap, and the most recent record hashes with the tree before them — so a
 * checkpoint that arrives after later records (the processor's sink sends a
 * batch's records before its checkpoints) can still be compared without
 * reading the store.
 */
import { CompactRange, type HashAlgorithm, type SealedCheckpoint } from '@otel-audit/core';

/** Hashes kept per stream for late checkpoints. */
const RECENT = 4096;

export interface LiveStream {
  alg: HashAlgorithm;
  range: CompactRange;
  /** The tree before `recent`, and the hashes appended since. */
  base: CompactRange;
  recent: string[];
  prev: string;
  /** Checkpoints waiting for the stream to reach their size. */
  waiting: SealedCheckpoint[];
  gapSince?: number;
  gapReported?: number;
}

/** A stream continuing from `range` (the stored head) with last hash `prev`. */
export function liveStream(alg: HashAlgorithm, range: CompactRange, prev: string, waiting: SealedCheckpoint[]): LiveStream {
  return { alg, range, base: range.clone(), recent: [], prev, waiting };
}

/** Append a stored record's hash. */
export function advanceLive(live: LiveStream, hash: string): void {
  live.range.appendHex(hash);
  live.recent.push(hash);
  if (live.recent.length >= 2 * RECENT) {
    for (const h of live.recent.splice(0, RECENT)) live.base.appendHex(h);
  }
  live.prev = hash;
}

/** The root at `size` (≤ the current size), or undefined when it lies before the recent window. */
export function liveRootAt(live: LiveStream, size: number): string | undefined {
  if (size === live.range.size) return live.range.rootHex();
  if (size < live.base.size) return undefined;
  const tree = live.base.clone();
  for (let i = 0; i < size - live.base.size; i++) tree.appendHex(live.recent[i]!);
  return tree.rootHex();
}
