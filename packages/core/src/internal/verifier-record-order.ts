/**
 * The verifier's record order (DESIGN §4.4, docs/format.md §Verification):
 * records of a stream may arrive in any order within the reorder window;
 * they are held until their seq is next, then checked in seq order against
 * their stored hash and the hash chain, and appended to the stream's tree.
 * Reports `seq_gap`, `duplicate`, `chain_break` and `hash_mismatch` against
 * the stored hash. These run for every record, so they are plain functions
 * of the stream state: no closures.
 */
import { genesisPrev } from '../hash.js';
import { CompactRange } from '../merkle-tree.js';
import { appendToTree } from './verifier-checkpoints.js';
import { addFinding, type Entry, type StreamState } from './verifier-stream-state.js';

/**
 * Takes a hashed record of the stream: an exact re-delivery is ignored, a
 * different record at a seq already seen is a `duplicate`; the next seq is
 * processed at once (with the held records it unblocks), a later one is
 * held, and when more than the window are held the gap is given up on.
 *
 * @example
 * acceptEntry(state, { seq, id, prev, hashHex, claimed });
 */
export function acceptEntry(state: StreamState, entry: Entry): void {
  if (entry.seq < state.next) {
    const slot = state.recent[entry.seq % state.window];
    const seen = slot !== undefined && slot.seq === entry.seq ? slot : undefined;
    if (seen && seen.hashHex === entry.hashHex) {
      state.report.duplicatesIgnored++;
      return;
    }
    addFinding(state, {
      code: 'duplicate', seq: entry.seq, id: entry.id, ...(seen ? { expected: seen.hashHex } : {}), actual: entry.hashHex,
      message: seen
        ? `seq ${entry.seq} appears twice with different content`
        : `seq ${entry.seq} arrived after the verifier had passed it (beyond the reorder window of ${state.window}, or inside an archived prefix)`,
    });
    return;
  }
  const waiting = state.pending.get(entry.seq);
  if (waiting) {
    if (waiting.hashHex === entry.hashHex) state.report.duplicatesIgnored++;
    else addFinding(state, { code: 'duplicate', seq: entry.seq, id: entry.id, expected: waiting.hashHex, actual: entry.hashHex, message: `seq ${entry.seq} appears twice with different content` });
    return;
  }
  if (entry.seq === state.next) {
    processEntry(state, entry);
    drain(state);
    return;
  }
  state.pending.set(entry.seq, entry);
  state.pendingSeqs.push(entry.seq);
  if (state.pending.size > state.window) skipGap(state);
}

/**
 * At the end of the input: the records still held are processed, each
 * missing range before them reported as a `seq_gap`.
 *
 * @example
 * flushPending(state);
 */
export function flushPending(state: StreamState): void {
  while (state.pending.size > 0) skipGap(state);
}

function drain(state: StreamState): void {
  let e = state.pending.get(state.next);
  while (e !== undefined) {
    state.pending.delete(e.seq);
    // Every held seq is above `next` until it is drained, so the seq drained
    // is the heap's smallest: the heap keeps exactly the keys of `pending`.
    state.pendingSeqs.pop();
    processEntry(state, e);
    e = state.pending.get(state.next);
  }
}

/** The smallest waiting seq is taken as the next one and the missing seqs before it are reported. */
function skipGap(state: StreamState): void {
  const min = state.pendingSeqs.peek()!;
  addFinding(state, {
    code: 'seq_gap', seq: state.next, lastSeq: min - 1,
    message: min - 1 === state.next ? `record seq ${state.next} is missing` : `records seq ${state.next}..${min - 1} are missing`,
  });
  state.next = min;
  state.expectedPrev = undefined;
  state.treeBroken = true;
  drain(state);
}

function processEntry(state: StreamState, entry: Entry): void {
  const report = state.report;
  const alg = state.alg!;
  if (report.firstSeq === undefined) {
    report.firstSeq = entry.seq;
    if (state.tree === undefined) {
      state.tree = new CompactRange(alg);
      // Past a missing beginning (no start declared) the record before is not given: nothing to link to.
      state.expectedPrev = entry.seq === 0 ? genesisPrev(alg) : undefined;
      if (entry.seq > 0 && !state.treeBroken) {
        // When the reorder buffer gave up waiting, skipGap reported it already.
        addFinding(state, { code: 'seq_gap', seq: 0, lastSeq: entry.seq - 1, message: entry.seq === 1 ? 'record seq 0 is missing' : `records seq 0..${entry.seq - 1} are missing` });
        state.treeBroken = true;
      }
    }
  }
  report.records++;
  report.lastSeq = entry.seq;
  state.next = entry.seq + 1;

  if (entry.claimed !== undefined && entry.claimed !== entry.hashHex && entry.mismatchReported !== true) {
    addFinding(state, { code: 'hash_mismatch', seq: entry.seq, id: entry.id, expected: entry.claimed, actual: entry.hashHex, message: `record seq ${entry.seq} does not hash to its stored hash (a member was changed)` });
  }
  if (state.expectedPrev !== undefined && entry.prev !== state.expectedPrev) {
    addFinding(state, { code: 'chain_break', seq: entry.seq, id: entry.id, expected: state.expectedPrev, actual: entry.prev, message: `record seq ${entry.seq} does not link to the record before it` });
  }
  // The next record must link to this one's hash as stored; when none is
  // stored, to the recomputed one.
  state.expectedPrev = entry.claimed ?? entry.hashHex;

  const firstSeen = state.recentIds.get(entry.id);
  if (firstSeen !== undefined && firstSeen !== entry.seq) {
    addFinding(state, { code: 'duplicate', seq: entry.seq, id: entry.id, message: `record id ${entry.id} also appears at seq ${firstSeen}` });
  }
  const slot = entry.seq % state.window;
  const old = state.recent[slot];
  if (old !== undefined && state.recentIds.get(old.id) === old.seq) state.recentIds.delete(old.id);
  state.recent[slot] = entry;
  state.recentIds.set(entry.id, entry.seq);

  appendToTree(state, entry);
}
