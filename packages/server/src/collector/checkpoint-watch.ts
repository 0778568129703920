/**
 * The collector's checks of incoming checkpoints (DESIGN §4.3, §4.4): each
 * is verified against the trusted keys when it arrives (`bad_signature`,
 * `unknown_key`, `key_out_of_window`; unsigned counts as a bad signature
 * once any key is trusted) and, once its stream's stored records reach its
 * size, compared with the Merkle root of those records (`root_mismatch`).
 * Every checkpoint is stored as evidence; only the ones a trusted key
 * signed wait in memory to be compared, and those are capped per stream
 * and, for streams with no record yet, in the number of streams — anyone
 * could send any number of them.
 */
import { verifyCheckpoint, type HashAlgorithm, type Keyring, type SealedCheckpoint } from '@otel-audit/core';
import type { CollectorFinding } from './collector-findings.js';
import { liveRootAt, type LiveStream } from './live-stream.js';

/** The caps of what waits in memory (see IngestLimits). */
export interface CheckpointWatchLimits {
  maxWaitingCheckpoints: number;
  maxEarlyStreams: number;
}

export class CheckpointWatch {
  readonly #keyring: Keyring;
  readonly #limits: CheckpointWatchLimits;
  readonly #rootFromStore: (stream: string, alg: HashAlgorithm, size: number) => string;
  /** Checkpoints of streams not seen yet. */
  readonly #early = new Map<string, SealedCheckpoint[]>();
  /** Root mismatches found while records were placed, raised once the request committed. */
  #rootFindings: CollectorFinding[] = [];

  /** `rootFromStore`: the root of a stream's first `size` stored records, for a checkpoint older than what the stream keeps in memory. */
  constructor(keyring: Keyring, limits: CheckpointWatchLimits, rootFromStore: (stream: string, alg: HashAlgorithm, size: number) => string) {
    this.#keyring = keyring;
    this.#limits = limits;
    this.#rootFromStore = rootFromStore;
  }

  /**
   * A checkpoint of the running request: verified, added to `checkpoints`
   * (to be stored) and compared or kept waiting; `liveOf(stream)` is the
   * stream's state, undefined when no record of it is known. A checkpoint
   * of a stream `mayWrite` refuses is neither stored nor checked: its
   * stream is returned, for the caller to refuse it (else undefined).
   */
  receive(note: string, checkpoints: SealedCheckpoint[], findings: CollectorFinding[], liveOf: (stream: string) => LiveStream | undefined, mayWrite?: (stream: string) => boolean): string | undefined {
    const result = verifyCheckpoint(note, this.#keyring);
    const cp = result.checkpoint;
    if (cp === undefined) {
      findings.push({ code: 'malformed', stream: '(unknown)', subject: 'checkpoint', message: `an audit.checkpoint record is not a checkpoint: ${result.message}` });
      return undefined;
    }
    if (mayWrite !== undefined && !mayWrite(cp.origin)) return cp.origin;
    const bad = result.status === 'bad_signature' || result.status === 'unknown_key' || result.status === 'key_out_of_window'
      ? result.status : result.status === 'unsigned' && this.#keyring.size > 0 ? 'bad_signature' : undefined;
    if (bad !== undefined) findings.push({ code: bad, stream: cp.origin, subject: 'checkpoint', message: `checkpoint of ${cp.origin} at size ${cp.size}: ${result.message}` });
    const sealed: SealedCheckpoint = { stream: cp.origin, size: cp.size, rootHash: cp.rootHash.toString('hex'), timeUnixNano: cp.timeUnixNano, note };
    checkpoints.push(sealed);
    // Stored as evidence, but a checkpoint no trusted key signed is not kept in memory to compare
    // roots with: it proves nothing, and anyone could send any number of them.
    if (bad !== undefined) return undefined;
    const live = liveOf(cp.origin);
    if (live === undefined) {
      // Nothing of the stream yet: its algorithm is unknown until a record comes.
      let early = this.#early.get(cp.origin);
      if (early === undefined) {
        // Beyond the cap the oldest stream's waiting checkpoints are given up (they are stored all the same).
        if (this.#early.size >= this.#limits.maxEarlyStreams) this.#early.delete(this.#early.keys().next().value!);
        this.#early.set(cp.origin, (early = []));
      }
      capPush(early, sealed, this.#limits.maxWaitingCheckpoints);
      return undefined;
    }
    if (cp.size > live.range.size) {
      capPush(live.waiting, sealed, this.#limits.maxWaitingCheckpoints);
      return undefined;
    }
    compare(cp.origin, sealed, liveRootAt(live, cp.size) ?? this.#rootFromStore(cp.origin, live.alg, cp.size), findings);
    return undefined;
  }

  /** The checkpoints that waited for `stream` before any record of it came (handed over once). */
  takeEarly(stream: string): SealedCheckpoint[] {
    const early = this.#early.get(stream) ?? [];
    this.#early.delete(stream);
    return early;
  }

  /** `live` grew: compare the checkpoints waiting for its new size. */
  settle(live: LiveStream, stream: string): void {
    if (live.waiting.length === 0) return;
    const still: SealedCheckpoint[] = [];
    for (const cp of live.waiting) {
      if (cp.size === live.range.size) compare(stream, cp, live.range.rootHex(), this.#rootFindings);
      else if (cp.size > live.range.size) still.push(cp);
    }
    live.waiting = still;
  }

  /** The root mismatches found by the committed request (once). */
  takeRootFindings(): CollectorFinding[] {
    const found = this.#rootFindings;
    this.#rootFindings = [];
    return found;
  }

  /** The request failed: what it found is forgotten with it. */
  rollBack(): void {
    this.#rootFindings = [];
  }
}

function compare(stream: string, cp: SealedCheckpoint, root: string, findings: CollectorFinding[]): void {
  if (root !== cp.rootHash) findings.push({ code: 'root_mismatch', stream, subject: 'checkpoint', message: `checkpoint of ${stream} at size ${cp.size} has root ${cp.rootHash}, the stored records give ${root}` });
}

/** Append `item`, dropping the oldest beyond `max`. */
function capPush<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
