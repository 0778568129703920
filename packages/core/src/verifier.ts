/**
 * The streaming verifier of DESIGN §4.4. It takes records (objects rebuilt
 * from storage, or their canonical JSON text), checkpoint notes and a
 * keyring, and reports every problem it finds with its evidence. It never
 * throws on tampered input — it throws only on misuse.
 *
 * Per stream it keeps O(log n + window) state: a reorder buffer (records may
 * arrive in any order within `reorderWindow`), a ring of the most recent
 * record hashes (for duplicates and for checkpoints that arrive after the
 * records they cover), periodic snapshots of the Merkle compact range, and
 * the checkpoints not yet reached.
 *
 * How findings are classified (docs/format.md §Verification):
 * - `hash_mismatch`: the recomputed hash differs from the stored/claimed one
 *   (a member was changed);
 * - `chain_break`: `prev` differs from the previous record's hash as stored
 *   (a record was rewritten with a fresh hash, inserted or reordered);
 * - `seq_gap`: seqs missing; `duplicate`: same seq twice with different
 *   content, or the same id on two records;
 * - checkpoint signatures: `bad_signature`, `unknown_key`, `key_out_of_window`;
 * - `root_mismatch`: the Merkle root over the recomputed hashes differs from
 *   a checkpoint's; `truncated`: a checkpoint covers more records than exist;
 * - `unsigned_tail` (warning): records after the last verified checkpoint.
 */
import { canonicalize } from './canonical.js';
import { verifyCheckpoint, type Checkpoint } from './checkpoint.js';
import { digestLength, genesisPrev, HASH_ALGORITHMS, leafHashHex, type HashAlgorithm } from './hash.js';
import { Keyring } from './keyring.js';
import { CompactRange, type CompactRangeState } from './merkle-tree.js';
import type { Finding, FindingCode, StreamReport, VerificationReport } from './verification-report.js';

/** Options of a {@link Verifier}. */
export interface VerifierOptions {
  /** Trusted checkpoint keys. Without one, every signed checkpoint is `unknown_key`. */
  keyring?: Keyring;
  /**
   * How many records of a stream may be held waiting for a missing seq before
   * it is reported as a gap; also how far back duplicates and late
   * checkpoints are recognised. Default 10,000.
   */
  reorderWindow?: number;
  /** Findings listed per stream; further ones are counted only. Default 1,000. */
  maxFindingsPerStream?: number;
  /**
   * The records given are a range, not the whole stream: checkpoints beyond
   * the last record are not `truncated` and no `unsigned_tail` is reported.
   */
  partial?: boolean;
}

/** Where a stream starts when its prefix was archived or is not part of the input. */
export interface StreamStart {
  /** Merkle compact range over the records before the first one given. */
  compactRange: CompactRangeState;
  /** The hash of the record just before (`prev` of the first record given). */
  prev: string;
  alg: HashAlgorithm;
}

interface Entry {
  seq: number;
  id: string;
  prev: string;
  hashHex: string;
  /** The hash stored beside the record, if any. */
  claimed: string | undefined;
}

interface PendingCheckpoint {
  checkpoint: Checkpoint;
  signed: boolean;
}

const SNAPSHOT_EVERY = 256;
const ERROR = 'error';

class StreamState {
  readonly report: StreamReport;
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
  /** Ring of the last `window` processed records, slot = seq % window. */
  readonly recent: (Entry | undefined)[];
  readonly recentIds = new Map<string, number>();
  /** Compact range snapshots for roots at sizes already passed. */
  readonly snapshots: CompactRange[] = [];
  /** Checkpoints not yet reached, by size. */
  readonly waiting = new Map<number, PendingCheckpoint[]>();
  maxCheckpointSize = 0;

  constructor(stream: string, window: number) {
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
 * Streaming verifier over any number of streams.
 *
 * @example
 * const v = new Verifier({ keyring: Keyring.from([verifierKey]) });
 * for (const note of checkpoints) v.addCheckpoint(note);
 * for (const { record, checksum } of rows) v.addRecord(record, checksum);
 * const report = v.finish();
 * if (!report.ok) console.error(report.streams.flatMap((s) => s.findings));
 */
export class Verifier {
  readonly #keyring: Keyring;
  readonly #window: number;
  readonly #maxFindings: number;
  readonly #partial: boolean;
  readonly #streams = new Map<string, StreamState>();
  #finished = false;

  constructor(options: VerifierOptions = {}) {
    if (options.keyring !== undefined && !(options.keyring instanceof Keyring)) {
      throw new TypeError('options.keyring must be a Keyring (see Keyring.from)');
    }
    this.#keyring = options.keyring ?? new Keyring();
    this.#window = positive(options.reorderWindow ?? 10_000, 'options.reorderWindow');
    this.#maxFindings = positive(options.maxFindingsPerStream ?? 1_000, 'options.maxFindingsPerStream');
    this.#partial = options.partial === true;
  }

  /**
   * Declare that `stream` continues from an archived or omitted prefix: its
   * first record given has `seq === start.compactRange.size`. Call before
   * any record of the stream.
   *
   * @example
   * v.startStream('billing/1', { alg: 'sha256', prev: archive.lastHash, compactRange: archive.compactRange });
   */
  startStream(stream: string, start: StreamStart): void {
    this.#assertOpen();
    const state = this.#state(stream);
    if (state.report.records > 0 || state.pending.size > 0) throw new RangeError(`stream "${stream}": startStream must come before its records`);
    state.alg = start.alg;
    state.report.alg = start.alg;
    state.tree = CompactRange.restore(start.alg, start.compactRange);
    state.next = start.compactRange.size;
    state.startSize = start.compactRange.size;
    state.expectedPrev = start.prev;
    state.snapshots.push(state.tree.clone());
    this.#settleCheckpointsAtOrBelow(state);
  }

  /**
   * Add a checkpoint note (signed or unsigned). Checkpoints may come before,
   * among or after the records they cover; after is recognised within the
   * reorder window.
   *
   * @example
   * v.addCheckpoint(row.note);
   */
  addCheckpoint(noteText: string): void {
    this.#assertOpen();
    if (typeof noteText !== 'string') throw new TypeError(`noteText must be a string; got ${typeof noteText}`);
    const result = verifyCheckpoint(noteText, this.#keyring);
    const cp = result.checkpoint;
    if (cp === undefined) {
      const origin = noteText.slice(0, Math.max(0, noteText.indexOf('\n'))) || '(unknown)';
      this.#find(this.#state(origin.slice(0, 256)), { code: 'malformed', message: result.message });
      return;
    }
    const state = this.#state(cp.origin);
    state.report.checkpoints.seen++;
    switch (result.status) {
      case 'bad_signature':
      case 'unknown_key':
      case 'key_out_of_window':
        this.#find(state, { code: result.status, size: cp.size, message: result.message });
        return;
      default:
        break;
    }
    if (result.status === 'unsigned' && this.#keyring.size > 0) {
      // Trusted keys were given, so checkpoints are expected to be signed: a
      // checkpoint without signatures is one whose signatures were stripped
      // or that someone wrote without the key (DESIGN §4.3: no valid
      // signature from a trusted key fails). Without keys (a deployment
      // that never configured one) unsigned checkpoints only leave the
      // stream an unsigned tail.
      this.#find(state, { code: 'bad_signature', size: cp.size, message: `checkpoint of ${JSON.stringify(cp.origin)} at size ${cp.size} carries no signature, but trusted keys were given` });
      return;
    }
    const signed = result.status === 'valid';
    if (cp.size > state.maxCheckpointSize) state.maxCheckpointSize = cp.size;
    const tree = state.tree;
    if (tree !== undefined && cp.size <= tree.size) {
      this.#checkPastRoot(state, cp, signed);
      return;
    }
    const list = state.waiting.get(cp.size);
    if (list) list.push({ checkpoint: cp, signed });
    else state.waiting.set(cp.size, [{ checkpoint: cp, signed }]);
  }

  /**
   * Add one record: an object as rebuilt from storage (all §4.1 members), or
   * its canonical JSON text as carried in an OTLP body. `claimedHash` is the
   * hash stored beside it (`checksum` column, `audit.record.hash`
   * attribute), if any.
   *
   * @example
   * v.addRecord(rowToRecord(row), row.checksum);
   */
  addRecord(record: object | string, claimedHash?: string): void {
    this.#assertOpen();
    let value: unknown = record;
    if (typeof record === 'string') {
      try {
        value = JSON.parse(record);
      } catch {
        this.#find(this.#state('(unknown)'), { code: 'malformed', message: 'record text is not JSON' });
        return;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        this.#find(this.#state('(unknown)'), { code: 'malformed', message: 'record text is not a JSON object' });
        return;
      }
    } else if (typeof record !== 'object' || record === null) {
      throw new TypeError(`record must be an object or a JSON string; got ${record === null ? 'null' : typeof record}`);
    }
    const r = value as Record<string, unknown>;
    const stream = typeof r.stream === 'string' && r.stream !== '' ? r.stream : undefined;
    const state = this.#state(stream ?? '(unknown)');
    const seq = r.seq;
    const id = typeof r.id === 'string' ? r.id : undefined;
    const where = (): { seq?: number; id?: string } => ({ ...(typeof seq === 'number' ? { seq } : {}), ...(id ? { id } : {}) });
    if (stream === undefined || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0 || id === undefined || typeof r.prev !== 'string') {
      this.#find(state, { code: 'malformed', ...where(), message: 'record lacks a valid stream, seq, id or prev' });
      return;
    }
    const alg = r.alg;
    // `state.alg` is unset before a stream's first record: a record without
    // `alg` must not slip through as "the same algorithm".
    if (alg !== state.alg || alg === undefined) {
      if (typeof alg !== 'string' || !(HASH_ALGORITHMS as readonly string[]).includes(alg)) {
        this.#find(state, { code: 'malformed', ...where(), message: `record names an unsupported hash algorithm ${JSON.stringify(alg)}` });
        return;
      }
      if (state.alg !== undefined) {
        this.#find(state, { code: 'hash_mismatch', ...where(), expected: state.alg, actual: alg, message: `record uses ${alg} but the stream uses ${state.alg}` });
        return;
      }
      state.alg = alg as HashAlgorithm;
      state.report.alg = alg;
    }
    const claimed = typeof claimedHash === 'string' ? claimedHash.toLowerCase() : undefined;
    let hashHex: string | undefined;
    if (claimed !== undefined) {
      // Optimistic path: text given, or the object serialized natively. If
      // that hashes to the claimed hash, it IS the canonical text the hash
      // was made of (a different text with the same hash would be a
      // collision), so the record verifies without canonicalizing in
      // JavaScript — ~2x faster for records whose members come in canonical
      // order (bench/core-verify). Otherwise the exact path below decides.
      let fast: unknown;
      try {
        fast = typeof record === 'string' ? record : JSON.stringify(value);
      } catch {
        // BigInt or a cycle: not JSON; the exact path reports it.
      }
      if (typeof fast === 'string' && leafHashHex(state.alg!, fast) === claimed) hashHex = claimed;
    }
    if (hashHex === undefined) {
      let canonical: string;
      try {
        canonical = canonicalize(value);
      } catch (e) {
        this.#find(state, { code: 'malformed', ...where(), message: `record cannot be canonicalized: ${(e as Error).message}` });
        return;
      }
      hashHex = leafHashHex(state.alg!, canonical);
    }
    this.#accept(state, { seq, id, prev: r.prev, hashHex, claimed });
  }

  /**
   * Fast path for stores that rebuild a record's canonical text themselves
   * (for example from columns whose JSON is stored canonical): if `text`
   * hashes to `claimedHash` under `placement.alg`, the record is accepted
   * with the given placement and `true` is returned — the text IS the
   * canonical text that was hashed, and the placement was read from the
   * same columns. Otherwise nothing is recorded and `false` is returned: the
   * caller then passes the full record to {@link Verifier.addRecord}, which
   * decides exactly. ~1.5x faster per row than rebuilding an object
   * (bench/sqlite-verify).
   *
   * @example
   * if (!v.tryAddCanonical(rowText, row.checksum, { stream, seq, id, prev, alg })) v.addRecord(rowToRecord(row), row.checksum);
   */
  tryAddCanonical(
    text: string,
    claimedHash: string,
    placement: { stream: string; seq: number; id: string; prev: string; alg: string },
  ): boolean {
    this.#assertOpen();
    const { stream, seq, id, prev, alg } = placement;
    if (typeof text !== 'string' || typeof claimedHash !== 'string' || typeof stream !== 'string' || stream === '' ||
      typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0 || typeof id !== 'string' || typeof prev !== 'string' ||
      typeof alg !== 'string' || !(HASH_ALGORITHMS as readonly string[]).includes(alg)) {
      return false;
    }
    const state = this.#state(stream);
    if (state.alg !== undefined && state.alg !== alg) return false;
    const claimed = claimedHash.toLowerCase();
    if (leafHashHex(alg as HashAlgorithm, text) !== claimed) return false;
    if (state.alg === undefined) {
      state.alg = alg as HashAlgorithm;
      state.report.alg = alg;
    }
    this.#accept(state, { seq, id, prev, hashHex: claimed, claimed });
    return true;
  }

  /**
   * Flush what is still waiting and return the report. The verifier cannot
   * be used afterwards.
   *
   * @example
   * const { ok, streams } = v.finish();
   */
  finish(): VerificationReport {
    this.#assertOpen();
    this.#finished = true;
    for (const state of this.#streams.values()) this.#close(state);
    const streams = [...this.#streams.values()].map((s) => s.report).sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));
    let records = 0;
    let errors = 0;
    let warnings = 0;
    for (const s of streams) {
      records += s.records;
      errors += s.errors;
      warnings += s.warnings;
    }
    return { ok: errors === 0, records, errors, warnings, streams };
  }

  #assertOpen(): void {
    if (this.#finished) throw new Error('Verifier.finish() was already called; create a new Verifier');
  }

  #state(stream: string): StreamState {
    let s = this.#streams.get(stream);
    if (!s) {
      s = new StreamState(stream, this.#window);
      this.#streams.set(stream, s);
    }
    return s;
  }

  #find(state: StreamState, f: Omit<Finding, 'severity' | 'stream'> & { code: FindingCode }): void {
    const severity = f.code === 'unsigned_tail' ? 'warning' : ERROR;
    const report = state.report;
    if (severity === ERROR) report.errors++;
    else report.warnings++;
    if (report.findings.length >= this.#maxFindings) {
      report.findingsOmitted++;
      return;
    }
    report.findings.push({ ...f, severity, stream: report.stream });
  }

  #accept(state: StreamState, entry: Entry): void {
    if (entry.seq < state.next) {
      const slot = state.recent[entry.seq % this.#window];
      const seen = slot !== undefined && slot.seq === entry.seq ? slot : undefined;
      if (seen && seen.hashHex === entry.hashHex) {
        state.report.duplicatesIgnored++;
        return;
      }
      this.#find(state, {
        code: 'duplicate', seq: entry.seq, id: entry.id, ...(seen ? { expected: seen.hashHex } : {}), actual: entry.hashHex,
        message: seen
          ? `seq ${entry.seq} appears twice with different content`
          : `seq ${entry.seq} arrived after the verifier had passed it (beyond the reorder window of ${this.#window}, or inside an archived prefix)`,
      });
      return;
    }
    const waiting = state.pending.get(entry.seq);
    if (waiting) {
      if (waiting.hashHex === entry.hashHex) state.report.duplicatesIgnored++;
      else this.#find(state, { code: 'duplicate', seq: entry.seq, id: entry.id, expected: waiting.hashHex, actual: entry.hashHex, message: `seq ${entry.seq} appears twice with different content` });
      return;
    }
    if (entry.seq === state.next) {
      this.#process(state, entry);
      this.#drain(state);
      return;
    }
    state.pending.set(entry.seq, entry);
    if (state.pending.size > this.#window) this.#skipGap(state);
  }

  #drain(state: StreamState): void {
    let e = state.pending.get(state.next);
    while (e !== undefined) {
      state.pending.delete(e.seq);
      this.#process(state, e);
      e = state.pending.get(state.next);
    }
  }

  /** The smallest waiting seq is taken as the next one and the missing seqs before it are reported. */
  #skipGap(state: StreamState): void {
    let min = Infinity;
    for (const seq of state.pending.keys()) if (seq < min) min = seq;
    this.#find(state, {
      code: 'seq_gap', seq: state.next, lastSeq: min - 1,
      message: min - 1 === state.next ? `record seq ${state.next} is missing` : `records seq ${state.next}..${min - 1} are missing`,
    });
    state.next = min;
    state.expectedPrev = undefined;
    state.treeBroken = true;
    this.#drain(state);
  }

  #process(state: StreamState, entry: Entry): void {
    const report = state.report;
    const alg = state.alg!;
    if (report.firstSeq === undefined) {
      report.firstSeq = entry.seq;
      if (state.tree === undefined) {
        state.tree = new CompactRange(alg);
        state.expectedPrev = genesisPrev(alg);
        if (entry.seq > 0 && !state.treeBroken) {
          // The stream's beginning is missing and no start was declared
          // (when the reorder buffer gave up waiting, #skipGap reported it).
          this.#find(state, { code: 'seq_gap', seq: 0, lastSeq: entry.seq - 1, message: entry.seq === 1 ? 'record seq 0 is missing' : `records seq 0..${entry.seq - 1} are missing` });
          state.expectedPrev = undefined;
          state.treeBroken = true;
        }
      }
    }
    report.records++;
    report.lastSeq = entry.seq;
    state.next = entry.seq + 1;

    if (entry.claimed !== undefined && entry.claimed !== entry.hashHex) {
      this.#find(state, { code: 'hash_mismatch', seq: entry.seq, id: entry.id, expected: entry.claimed, actual: entry.hashHex, message: `record seq ${entry.seq} does not hash to its stored hash (a member was changed)` });
    }
    if (state.expectedPrev !== undefined && entry.prev !== state.expectedPrev) {
      this.#find(state, { code: 'chain_break', seq: entry.seq, id: entry.id, expected: state.expectedPrev, actual: entry.prev, message: `record seq ${entry.seq} does not link to the record before it` });
    }
    // The next record must link to this one's hash as stored; when none is
    // stored, to the recomputed one.
    state.expectedPrev = entry.claimed ?? entry.hashHex;

    const firstSeen = state.recentIds.get(entry.id);
    if (firstSeen !== undefined && firstSeen !== entry.seq) {
      this.#find(state, { code: 'duplicate', seq: entry.seq, id: entry.id, message: `record id ${entry.id} also appears at seq ${firstSeen}` });
    }
    const slot = entry.seq % this.#window;
    const old = state.recent[slot];
    if (old !== undefined && state.recentIds.get(old.id) === old.seq) state.recentIds.delete(old.id);
    state.recent[slot] = entry;
    state.recentIds.set(entry.id, entry.seq);

    if (state.treeBroken) {
      this.#dropWaitingUpTo(state, entry.seq + 1);
      return;
    }
    const tree = state.tree!;
    if (tree.size % SNAPSHOT_EVERY === 0) {
      state.snapshots.push(tree.clone());
      if (state.snapshots.length > Math.ceil(this.#window / SNAPSHOT_EVERY) + 1) state.snapshots.shift();
    }
    tree.appendHex(entry.hashHex);
    const due = state.waiting.get(tree.size);
    if (due) {
      state.waiting.delete(tree.size);
      const root = tree.root();
      for (const w of due) this.#compareRoot(state, w.checkpoint, w.signed, root);
    }
  }

  /** Checkpoints at sizes the broken tree can no longer reach are unchecked. */
  #dropWaitingUpTo(state: StreamState, size: number): void {
    const due = state.waiting.get(size);
    if (due) {
      state.waiting.delete(size);
      state.report.checkpoints.unchecked += due.length;
    }
  }

  #settleCheckpointsAtOrBelow(state: StreamState): void {
    for (const [size, list] of [...state.waiting]) {
      if (size > state.tree!.size) continue;
      state.waiting.delete(size);
      for (const w of list) this.#checkPastRoot(state, w.checkpoint, w.signed);
    }
  }

  /** A checkpoint at or below the current size: rebuild the root from a snapshot and recent hashes. */
  #checkPastRoot(state: StreamState, cp: Checkpoint, signed: boolean): void {
    const tree = state.tree!;
    if (cp.size === tree.size && !state.treeBroken) {
      this.#compareRoot(state, cp, signed, tree.root());
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
        const e = state.recent[seq % this.#window];
        if (e === undefined || e.seq !== seq) {
          state.report.checkpoints.unchecked++;
          return;
        }
        replay.appendHex(e.hashHex);
      }
      this.#compareRoot(state, cp, signed, replay.root());
      return;
    }
    state.report.checkpoints.unchecked++;
  }

  #compareRoot(state: StreamState, cp: Checkpoint, signed: boolean, root: Buffer): void {
    if (cp.rootHash.length !== digestLength(state.alg!) || !cp.rootHash.equals(root)) {
      state.report.checkpoints.mismatched++;
      // Once the records differ from what a checkpoint signed, every later
      // root differs too; the first mismatch is the finding.
      if (state.report.checkpoints.mismatched > 1) return;
      this.#find(state, {
        code: 'root_mismatch', size: cp.size, seq: cp.size - 1, expected: cp.rootHash.toString('hex'), actual: root.toString('hex'),
        message: `the records 0..${cp.size - 1} do not produce the root of the ${signed ? 'signed' : 'unsigned'} checkpoint at size ${cp.size} (history rewritten)`,
      });
      return;
    }
    if (signed) {
      state.report.checkpoints.verified++;
      if (cp.size > state.report.checkpoints.lastVerifiedSize) state.report.checkpoints.lastVerifiedSize = cp.size;
    }
  }

  #close(state: StreamState): void {
    while (state.pending.size > 0) this.#skipGap(state);
    const report = state.report;
    const end = report.lastSeq === undefined ? state.startSize : report.lastSeq + 1;
    for (const [size, list] of state.waiting) {
      if (this.#partial || size <= end) {
        report.checkpoints.unchecked += list.length;
        continue;
      }
      for (const w of list) {
        this.#find(state, {
          code: 'truncated', size, seq: end, expected: String(size), actual: String(end),
          message: `a ${w.signed ? 'signed' : 'unsigned'} checkpoint covers ${size} records but only ${end} are present (the newest records were removed)`,
        });
      }
    }
    state.waiting.clear();
    const covered = report.checkpoints.lastVerifiedSize;
    if (!this.#partial && report.lastSeq !== undefined && covered < end) {
      this.#find(state, {
        code: 'unsigned_tail', seq: Math.max(covered, report.firstSeq ?? 0), lastSeq: report.lastSeq,
        message: covered === 0
          ? `no verified signed checkpoint covers this stream's ${report.records} records`
          : `records seq ${covered}..${report.lastSeq} come after the last verified signed checkpoint`,
      });
    }
  }
}

function positive(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer; got ${String(n)}`);
  return n;
}
