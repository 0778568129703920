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
 *   (a member was changed), or record text is not exactly its canonical
 *   form (the bytes given are not the bytes hashed);
 * - `chain_break`: `prev` differs from the previous record's hash as stored
 *   (a record was rewritten with a fresh hash, inserted or reordered);
 * - `seq_gap`: seqs missing; `duplicate`: same seq twice with different
 *   content, or the same id on two records;
 * - checkpoint signatures: `bad_signature`, `unknown_key`, `key_out_of_window`;
 * - `root_mismatch`: the Merkle root over the recomputed hashes differs from
 *   a checkpoint's (at size 0: from the empty tree's), one per size;
 *   `truncated`: a checkpoint covers more records than exist;
 * - `unsigned_tail` (warning): records after the last verified checkpoint.
 *
 * Here: the public API, its input checks and record hashing. Per-stream
 * state: internal/verifier-stream-state.ts; record order (reorder buffer,
 * gaps, duplicates, chain): internal/verifier-record-order.ts; the Merkle
 * tree and checkpoint checks: internal/verifier-checkpoints.ts.
 */
import { canonicalize } from './canonical.js';
import { verifyCheckpoint } from './checkpoint.js';
import { digestLength, HASH_ALGORITHMS, leafHashHex, type HashAlgorithm } from './hash.js';
import { isCanonicalText } from './internal/is-canonical-text.js';
import { addCheckpointTo, closeCheckpoints, extendWithStoredEnd, settleCheckpointsAtOrBelow, settleEmptyTreeCheckpoints } from './internal/verifier-checkpoints.js';
import { acceptEntry, flushPending } from './internal/verifier-record-order.js';
import { addFinding, StreamState } from './internal/verifier-stream-state.js';
import { Keyring } from './keyring.js';
import { CompactRange, type CompactRangeState } from './merkle-tree.js';
import type { VerificationReport } from './verification-report.js';

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

/**
 * What follows the last record given of a stream whose input is a range (a
 * seq or time range of a store, a bundle of part of a stream): read from
 * storage, not verified themselves, so that the range can be checked
 * against the records after it and the checkpoints that cover it.
 */
export interface StreamEnd {
  /** `prev` of the record right after the last one given, as stored. */
  prev: string;
  /**
   * The stored hashes (checksums) of the records after the last one given,
   * in seq order, up to the size of a checkpoint to compare: the first is
   * the hash of record `lastSeq + 1`.
   */
  hashes: readonly string[];
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
    settleCheckpointsAtOrBelow(state);
  }

  /**
   * Declare what follows the last record given of `stream` when the input
   * is a range of it (see {@link StreamEnd}); call once, before `finish()`.
   * At `finish()` the stored `prev` of the next record must be the hash of
   * the last record given (`chain_break` at the next seq otherwise: a
   * record of the range was rewritten with a fresh hash), and the stored
   * hashes extend the stream's Merkle tree, so that a checkpoint covering
   * the range is compared (`root_mismatch` when a record of the range
   * differs from what it signed) and, if signed, verified. Ignored when no
   * record of the stream was given or records are missing in the range.
   *
   * @example
   * v.endStream('billing/1', { prev: nextRow.prev, hashes: checksumsUpToNextCheckpoint });
   */
  endStream(stream: string, end: StreamEnd): void {
    this.#assertOpen();
    if (typeof end !== 'object' || end === null || typeof end.prev !== 'string' || !Array.isArray(end.hashes)) {
      throw new TypeError('end must be { prev: string, hashes: string[] }');
    }
    const state = this.#state(stream);
    if (state.end !== undefined) throw new RangeError(`stream "${stream}": endStream was already called`);
    const alg = state.alg;
    const hexLength = alg === undefined ? undefined : 2 * digestLength(alg);
    const hashes = end.hashes.map((h, i) => {
      if (typeof h !== 'string' || !/^[0-9a-fA-F]+$/.test(h) || (hexLength !== undefined && h.length !== hexLength)) {
        throw new TypeError(`end.hashes[${i}] must be a ${alg ?? 'hash'} digest in hex; got ${JSON.stringify(String(h).slice(0, 80))}`);
      }
      return h.toLowerCase();
    });
    state.end = { prev: end.prev.toLowerCase(), hashes };
  }

  /**
   * Add a checkpoint note (signed or unsigned). Checkpoints may come before,
   * among or after the records they cover; after is recognised within the
   * reorder window. `options.source` says where the note came from (a file
   * of checkpoints kept apart from the log): its findings carry it.
   *
   * @example
   * v.addCheckpoint(row.note);
   * v.addCheckpoint(keptNote, { source: '/mnt/witness/audit-checkpoints.txt' });
   */
  addCheckpoint(noteText: string, options: { source?: string } = {}): void {
    this.#assertOpen();
    if (typeof noteText !== 'string') throw new TypeError(`noteText must be a string; got ${typeof noteText}`);
    const source = options?.source;
    if (source !== undefined && typeof source !== 'string') throw new TypeError(`options.source must be a string; got ${typeof source}`);
    const result = verifyCheckpoint(noteText, this.#keyring);
    const cp = result.checkpoint;
    if (cp === undefined) {
      const origin = noteText.slice(0, Math.max(0, noteText.indexOf('\n'))) || '(unknown)';
      addFinding(this.#state(origin.slice(0, 256)), { code: 'malformed', ...(source === undefined ? {} : { source }), message: result.message });
      return;
    }
    addCheckpointTo(this.#state(cp.origin), cp, result, this.#keyring.size > 0, source);
  }

  /**
   * Add one record: an object as rebuilt from storage (all §4.1 members), or
   * its canonical JSON text as carried in an OTLP body. Text must be exactly
   * the canonical form of the record it parses to (DESIGN §4.6: the exact
   * bytes that were hashed); other text is a `hash_mismatch`. `claimedHash`
   * is the hash stored beside it (`checksum` column, `audit.record.hash`
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
        addFinding(this.#state('(unknown)'), { code: 'malformed', message: 'record text is not JSON' });
        return;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        addFinding(this.#state('(unknown)'), { code: 'malformed', message: 'record text is not a JSON object' });
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
      addFinding(state, { code: 'malformed', ...where(), message: 'record lacks a valid stream, seq, id or prev' });
      return;
    }
    const alg = r.alg;
    let otherAlg = false;
    // `state.alg` is unset before a stream's first record: a record without
    // `alg` must not slip through as "the same algorithm".
    if (alg !== state.alg || alg === undefined) {
      if (typeof alg !== 'string' || !(HASH_ALGORITHMS as readonly string[]).includes(alg)) {
        addFinding(state, { code: 'malformed', ...where(), message: `record names an unsupported hash algorithm ${JSON.stringify(alg)}` });
        return;
      }
      if (state.alg !== undefined) {
        // The record is still placed, hashed with the stream's algorithm:
        // it is there (no seq_gap), and the chain and the tree around it
        // are checked as usual.
        addFinding(state, { code: 'hash_mismatch', ...where(), expected: state.alg, actual: alg, message: `record uses ${alg} but the stream uses ${state.alg}` });
        otherAlg = true;
      } else {
        state.alg = alg as HashAlgorithm;
        state.report.alg = alg;
        settleEmptyTreeCheckpoints(state);
      }
    }
    const claimed = typeof claimedHash === 'string' ? claimedHash.toLowerCase() : undefined;
    let hashHex: string | undefined;
    if (claimed !== undefined) {
      // Optimistic path: text given, or the object serialized natively. If
      // that hashes to the claimed hash, it IS the canonical text the hash
      // was made of (a different text with the same hash would be a
      // collision) — provided the claimed hash is the producer's. A stored
      // hash can be rewritten too, so text must also be canonical itself
      // (isCanonicalText); objects need not: the object is the record, and
      // a hash of a non-canonical serialization of it is caught by the
      // chain and the tree. The record then verifies without canonicalizing
      // in JavaScript — ~2x faster for records whose members come in
      // canonical order (bench/core-verify). Otherwise the exact path below
      // decides.
      let fast: unknown;
      try {
        fast = typeof record === 'string' ? record : JSON.stringify(value);
      } catch {
        // BigInt or a cycle: not JSON; the exact path reports it.
      }
      if (typeof fast === 'string' && leafHashHex(state.alg!, fast) === claimed && (typeof record !== 'string' || isCanonicalText(record, value))) {
        hashHex = claimed;
      }
    }
    if (hashHex === undefined) {
      let canonical: string;
      try {
        canonical = canonicalize(value);
      } catch (e) {
        addFinding(state, { code: 'malformed', ...where(), message: `record cannot be canonicalized: ${(e as Error).message}` });
        return;
      }
      hashHex = leafHashHex(state.alg!, canonical);
      if (typeof record === 'string' && record !== canonical) {
        // DESIGN §4.6: the text carried is the exact bytes that were hashed.
        // Other bytes that parse to the same record (white space, escapes,
        // number forms, a duplicate member name — the last one wins here,
        // the first in other readers) are not those bytes: a reader of the
        // text may see another record than the one verified. The record is
        // still placed by its canonical hash, so the chain and the tree
        // around it are checked as usual.
        addFinding(state, {
          code: 'hash_mismatch', ...where(), expected: hashHex, actual: leafHashHex(state.alg!, record),
          message: `the text of record seq ${seq} is not its canonical form (the bytes hashed differ from the bytes given)`,
        });
      }
    }
    acceptEntry(state, otherAlg ? { seq, id, prev: r.prev, hashHex, claimed, mismatchReported: true } : { seq, id, prev: r.prev, hashHex, claimed });
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
      settleEmptyTreeCheckpoints(state);
    }
    acceptEntry(state, { seq, id, prev, hashHex: claimed, claimed });
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
    for (const state of this.#streams.values()) {
      // Held records are processed first: they may reach waiting checkpoints.
      flushPending(state);
      if (state.end !== undefined) extendWithStoredEnd(state, state.end);
      closeCheckpoints(state, this.#partial);
    }
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
      s = new StreamState(stream, this.#window, this.#maxFindings);
      this.#streams.set(stream, s);
    }
    return s;
  }
}

function positive(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer; got ${String(n)}`);
  return n;
}