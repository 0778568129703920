/**
 * The verifier's checkpoint checks (DESIGN §4.4, docs/format.md
 * §Verification): which signature statuses count, each stream's Merkle tree
 * over the recomputed record hashes, and every checkpoint's root compared
 * with the tree at its size — when the tree reaches it, or, for a checkpoint
 * that arrives after the records it covers, rebuilt from a snapshot of the
 * compact range and the recent hashes. Reports the signature findings,
 * `root_mismatch` (one per mismatching size, the first
 * `ROOT_MISMATCHES_LISTED` listed), `truncated` and `unsigned_tail`;
 * checkpoints whose root cannot be rebuilt are counted as unchecked. A
 * checkpoint at size 0 is compared with the empty tree's root `H("")`,
 * which needs no record, only the stream's algorithm.
 */
import type { Checkpoint } from '../checkpoint-text.js';
import type { CheckpointVerification } from '../checkpoint.js';
import { digestLength, emptyHash, HASH_ALGORITHMS } from '../hash.js';
import type { CompactRange } from '../merkle-tree.js';
import { addFinding, omitFinding, type Entry, type PendingCheckpoint, type StreamState } from './verifier-stream-state.js';

const SNAPSHOT_EVERY = 256;

/**
 * `root_mismatch` findings listed per stream, one per checkpoint size;
 * further mismatching checkpoints are counted (`checkpoints.mismatched`,
 * `errors`, `findingsOmitted`) but not listed, so that a hostile input with
 * millions of forged checkpoints neither grows the report without bound
 * nor crowds the other findings out of it.
 */
export const ROOT_MISMATCHES_LISTED = 100;

/**
 * A checkpoint note of the stream as `verifyCheckpoint` judged it: a failed
 * signature is the finding; a checkpoint that counts is compared now if the
 * tree has reached its size, held until it does otherwise (a size-0 one,
 * until the stream's algorithm is known). `keysGiven`: the verifier has
 * trusted keys. `source`, if given, is copied into the checkpoint's findings.
 *
 * @example
 * addCheckpointTo(state, cp, result, keyring.size > 0);
 */
export function addCheckpointTo(state: StreamState, cp: Checkpoint, result: CheckpointVerification, keysGiven: boolean, source?: string): void {
  state.report.checkpoints.seen++;
  const from = source === undefined ? {} : { source };
  switch (result.status) {
    case 'bad_signature':
    case 'unknown_key':
    case 'key_out_of_window':
      addFinding(state, { code: result.status, size: cp.size, ...from, ...(result.keys.length > 0 ? { keys: result.keys } : {}), message: result.message });
      return;
    default:
      break;
  }
  if (result.status === 'unsigned' && keysGiven) {
    // Trusted keys were given, so checkpoints are expected to be signed: a
    // checkpoint without signatures is one whose signatures were stripped
    // or that someone wrote without the key (DESIGN §4.3: no valid
    // signature from a trusted key fails). Without keys (a deployment
    // that never configured one) unsigned checkpoints only leave the
    // stream an unsigned tail.
    addFinding(state, { code: 'bad_signature', size: cp.size, ...from, message: `checkpoint of ${JSON.stringify(cp.origin)} at size ${cp.size} carries no signature, but trusted keys were given` });
    return;
  }
  const w: PendingCheckpoint = { checkpoint: cp, signed: result.status === 'valid', ...from };
  if (cp.size > state.maxCheckpointSize) state.maxCheckpointSize = cp.size;
  const tree = state.tree;
  if ((tree !== undefined && cp.size <= tree.size) || (cp.size === 0 && state.alg !== undefined)) {
    checkPastRoot(state, w);
    return;
  }
  const list = state.waiting.get(cp.size);
  if (list) list.push(w);
  else state.waiting.set(cp.size, [w]);
}

/**
 * Appends the record just processed in seq order to the stream's tree,
 * keeping a snapshot every `SNAPSHOT_EVERY` records, and compares the
 * checkpoints waiting for the new size.
 *
 * @example
 * appendToTree(state, entry);
 */
export function appendToTree(state: StreamState, entry: Entry): void {
  if (state.treeBroken) {
    dropWaitingUpTo(state, entry.seq + 1);
    return;
  }
  const tree = state.tree!;
  if (tree.size % SNAPSHOT_EVERY === 0) {
    state.snapshots.push(tree.clone());
    if (state.snapshots.length > Math.ceil(state.window / SNAPSHOT_EVERY) + 1) state.snapshots.shift();
  }
  tree.appendHex(entry.hashHex);
  const due = state.waiting.get(tree.size);
  if (due) {
    state.waiting.delete(tree.size);
    const root = tree.root();
    for (const w of due) compareRoot(state, w, root);
  }
}

/**
 * Compares the waiting size-0 checkpoints once the stream's algorithm is
 * known (its first record read, or its start declared): the empty tree's
 * root depends on nothing else.
 *
 * @example
 * settleEmptyTreeCheckpoints(state);
 */
export function settleEmptyTreeCheckpoints(state: StreamState): void {
  const list = state.waiting.get(0);
  if (list === undefined || state.alg === undefined) return;
  state.waiting.delete(0);
  for (const w of list) checkPastRoot(state, w);
}

/**
 * Compares the waiting checkpoints the tree has already reached (after a
 * declared stream start).
 *
 * @example
 * settleCheckpointsAtOrBelow(state);
 */
export function settleCheckpointsAtOrBelow(state: StreamState): void {
  for (const [size, list] of [...state.waiting]) {
    if (size > state.tree!.size) continue;
    state.waiting.delete(size);
    for (const w of list) checkPastRoot(state, w);
  }
}

/**
 * For a range: the record after the last one given must link to it, and
 * the stored hashes of the records after it extend the tree up to the
 * checkpoints that cover the range (compared as their sizes are reached).
 * Nothing when no record was given or the tree is broken by a gap.
 *
 * @example
 * extendWithStoredEnd(state, { prev: nextRow.prev, hashes });
 */
export function extendWithStoredEnd(state: StreamState, end: { prev: string; hashes: readonly string[] }): void {
  const last = state.report.lastSeq;
  if (last === undefined || state.tree === undefined || state.treeBroken) return;
  if (state.expectedPrev !== undefined && end.prev !== state.expectedPrev) {
    addFinding(state, {
      code: 'chain_break', seq: last + 1, expected: state.expectedPrev, actual: end.prev,
      message: `the record after the range (seq ${last + 1}, not verified itself) names prev ${end.prev}, but record seq ${last} hashes to ${state.expectedPrev}: a record of the range was rewritten with a fresh hash`,
    });
  }
  for (let i = 0; i < end.hashes.length; i++) {
    appendToTree(state, { seq: last + 1 + i, id: '', prev: '', hashHex: end.hashes[i]!, claimed: undefined });
  }
}

/**
 * At the end of the input: checkpoints never reached are `truncated` (or
 * unchecked, for `partial` input or sizes the records cannot reach), and
 * records after the last verified signed checkpoint are an `unsigned_tail`.
 * Call after the reorder buffer is flushed.
 *
 * @example
 * closeCheckpoints(state, false);
 */
export function closeCheckpoints(state: StreamState, partial: boolean): void {
  const report = state.report;
  const end = report.lastSeq === undefined ? state.startSize : report.lastSeq + 1;
  const empty = state.waiting.get(0);
  if (empty !== undefined) {
    // Still waiting: no record named the stream's algorithm.
    state.waiting.delete(0);
    for (const w of empty) {
      if (state.alg !== undefined) compareRoot(state, w, emptyHash(state.alg));
      else compareEmptyRootAnyAlgorithm(state, w);
    }
  }
  for (const [size, list] of state.waiting) {
    if (partial || size <= end) {
      report.checkpoints.unchecked += list.length;
      continue;
    }
    for (const w of list) {
      addFinding(state, {
        code: 'truncated', size, seq: end, expected: String(size), actual: String(end), ...(w.source === undefined ? {} : { source: w.source }),
        message: `a ${w.signed ? 'checkpoint signed by a trusted key' : 'checkpoint without signatures'} covers ${size} records but only ${end} are present (the newest records were removed)`,
      });
    }
  }
  state.waiting.clear();
  if (state.mismatchesUnlisted > 0 && state.lastRootMismatch !== undefined) {
    const n = state.mismatchesUnlisted;
    state.lastRootMismatch.message += `; ${n} more mismatching checkpoint${n === 1 ? ' is' : 's are'} not listed (only the first ${ROOT_MISMATCHES_LISTED} sizes are; checkpoints.mismatched counts them all)`;
  }
  const covered = report.checkpoints.lastVerifiedSize;
  if (!partial && report.lastSeq !== undefined && covered < end) {
    addFinding(state, {
      code: 'unsigned_tail', seq: Math.max(covered, report.firstSeq ?? 0), lastSeq: report.lastSeq,
      message: covered === 0
        ? `no verified signed checkpoint covers this stream's ${report.records} records`
        : `records seq ${covered}..${report.lastSeq} come after the last verified signed checkpoint`,
    });
  }
}

/** Checkpoints at sizes the broken tree can no longer reach are unchecked. */
function dropWaitingUpTo(state: StreamState, size: number): void {
  const due = state.waiting.get(size);
  if (due) {
    state.waiting.delete(size);
    state.report.checkpoints.unchecked += due.length;
  }
}

/**
 * A checkpoint at or below the current size: rebuild the root from a
 * snapshot and recent hashes. At size 0 the root is `H("")`, known without
 * any record — even below an archived start or after a gap.
 */
function checkPastRoot(state: StreamState, w: PendingCheckpoint): void {
  const cp = w.checkpoint;
  if (cp.size === 0) {
    compareRoot(state, w, emptyHash(state.alg!));
    return;
  }
  const tree = state.tree!;
  if (cp.size === tree.size && !state.treeBroken) {
    compareRoot(state, w, tree.root());
    return;
  }
  if (state.treeBroken || cp.size < state.startSize) {
    state.report.checkpoints.unchecked++;
    return;
  }
  let base: CompactRange | undefined;
  for (let i = state.snapshots.length - 1; i >= 0; i--) {
    const s = state.snapshots[i]!;
    if (s.size <= cp.size) {
      base = s;
      break;
    }
  }
  const replay = base ? base.clone() : undefined;
  if (replay) {
    for (let seq = replay.size; seq < cp.size; seq++) {
      const e = state.recent[seq % state.window];
      if (e === undefined || e.seq !== seq) {
        state.report.checkpoints.unchecked++;
        return;
      }
      replay.appendHex(e.hashHex);
    }
    compareRoot(state, w, replay.root());
    return;
  }
  state.report.checkpoints.unchecked++;
}

/**
 * A size-0 checkpoint of a stream whose algorithm no record named: its root
 * must be `H("")` under an algorithm of its length (sha256 and sha3-256
 * roots look alike, so either will do).
 */
function compareEmptyRootAnyAlgorithm(state: StreamState, w: PendingCheckpoint): void {
  const cp = w.checkpoint;
  for (const alg of HASH_ALGORITHMS) {
    if (digestLength(alg) === cp.rootHash.length && cp.rootHash.equals(emptyHash(alg))) {
      matched(state, w);
      return;
    }
  }
  mismatch(state, w, undefined);
}

function compareRoot(state: StreamState, w: PendingCheckpoint, root: Buffer): void {
  // Buffer.equals is false for a root of the wrong length for the algorithm.
  if (w.checkpoint.rootHash.equals(root)) matched(state, w);
  else mismatch(state, w, root);
}

function matched(state: StreamState, w: PendingCheckpoint): void {
  const cp = w.checkpoint;
  if (!w.signed) return;
  // A size-0 checkpoint counts as verified but vouches for no record:
  // lastVerifiedSize stays where it is (unvouchedStreams goes by it).
  state.report.checkpoints.verified++;
  if (cp.size > state.report.checkpoints.lastVerifiedSize) state.report.checkpoints.lastVerifiedSize = cp.size;
}

/**
 * Every mismatching checkpoint counts in `checkpoints.mismatched` and is a
 * finding: once the records differ from what one checkpoint signed, later
 * roots differ too, but each later signed root is a separate claim (and an
 * early forged checkpoint must not hide a later one). One finding per size
 * — another note at a size already listed adds nothing — and only the first
 * ROOT_MISMATCHES_LISTED sizes are listed; the rest are counted.
 */
function mismatch(state: StreamState, w: PendingCheckpoint, root: Buffer | undefined): void {
  const cp = w.checkpoint;
  state.report.checkpoints.mismatched++;
  if (state.mismatchedSizes.has(cp.size)) return;
  if (state.mismatchedSizes.size >= ROOT_MISMATCHES_LISTED) {
    state.mismatchesUnlisted++;
    omitFinding(state, 'root_mismatch');
    return;
  }
  state.mismatchedSizes.add(cp.size);
  const kind = w.signed ? 'signed' : 'unsigned';
  const listed = addFinding(state, {
    code: 'root_mismatch', size: cp.size, ...(cp.size > 0 ? { seq: cp.size - 1 } : {}),
    expected: cp.rootHash.toString('hex'), ...(root !== undefined ? { actual: root.toString('hex') } : {}), ...(w.source === undefined ? {} : { source: w.source }),
    message: cp.size === 0
      ? `the ${kind} checkpoint at size 0 does not carry the empty tree's root H("") (a forged checkpoint)`
      : `the records 0..${cp.size - 1} do not produce the root of the ${kind} checkpoint at size ${cp.size} (history rewritten)`,
  });
  if (listed !== undefined) state.lastRootMismatch = listed;
}
