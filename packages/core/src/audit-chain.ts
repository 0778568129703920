/**
 * One stream's chain state (DESIGN §3 steps 3–5, §4.2, §4.3): assigns `seq`
 * and `prev`, seals a record (normalise → canonicalize → hash), appends its
 * hash to the stream's Merkle compact range, and produces checkpoints. The
 * processor holds one per stream; tests, the test-vector generator and the
 * demo use it to build streams. Synchronous and allocation-light: it is the
 * hot path.
 */
import { signCheckpoint } from './checkpoint.js';
import { RecordValidationError } from './errors.js';
import { assertHashAlgorithm, DEFAULT_HASH_ALGORITHM, genesisPrev, leafHashHex, type HashAlgorithm } from './hash.js';
import { appendTrustedLeafHex, CompactRange, type CompactRangeState } from './merkle-tree.js';
import { canonicalize } from './canonical.js';
import { normalizeRecord, sealChainedEvent, type AuditEventInput, type NormalizeOptions } from './normalize-record.js';
import type { NoteSigner } from './note-keys.js';
import type { AuditRecord } from './record.js';

/** Recursively read-only view of a value. */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** A record sealed into its stream. */
export interface SealedRecord {
  /**
   * The normalised record. Read-only by contract (not frozen, for speed):
   * it is exactly what `canonical` serializes, and mutating it would make a
   * sink store something other than what was hashed.
   */
  readonly record: DeepReadonly<AuditRecord>;
  /** Its RFC 8785 text: the exact bytes hashed (the OTLP body). */
  canonical: string;
  /** Lowercase hex `H(0x00 || canonical)`: the record's checksum. */
  hash: string;
}

/** Where a stream stands: enough to resume it after a restart. */
export interface ChainHead {
  stream: string;
  alg: HashAlgorithm;
  /** Number of records so far; the next record's seq. */
  size: number;
  /** Hash of the last record (genesis prev when size is 0). */
  prev: string;
  /** The Merkle compact range over [0, size). */
  compactRange: CompactRangeState;
}

/** Options of {@link AuditChain}. */
export interface AuditChainOptions {
  stream: string;
  /** Default `sha256`. */
  alg?: HashAlgorithm;
  /** Resume from a stored head instead of starting at seq 0. */
  head?: ChainHead;
  /** Limits passed to normalizeRecord. */
  limits?: NormalizeOptions;
}

/**
 * The chain of one stream.
 *
 * @example
 * const chain = new AuditChain({ stream: 'billing-api/01J9' });
 * const { record, hash } = chain.append({ id: createRecordId(), time: new Date(), type: 'auth', action: 'login', outcome: 'success' });
 * const note = chain.checkpoint(BigInt(Date.now()) * 1_000_000n, [parseSignerKey(signerKey)]);
 */
export class AuditChain {
  readonly stream: string;
  readonly alg: HashAlgorithm;
  readonly #tree: CompactRange;
  readonly #limits: NormalizeOptions | undefined;
  #prev: string;

  constructor(options: AuditChainOptions) {
    if (typeof options?.stream !== 'string' || options.stream === '') throw new TypeError('options.stream must be a non-empty string');
    const head = options.head;
    this.alg = assertHashAlgorithm(head?.alg ?? options.alg ?? DEFAULT_HASH_ALGORITHM, 'options.alg');
    if (head) {
      if (head.stream !== options.stream) throw new RangeError(`options.head is for stream "${head.stream}", not "${options.stream}"`);
      if (options.alg !== undefined && options.alg !== head.alg) throw new RangeError(`options.alg ${options.alg} differs from the stored head's ${head.alg}`);
      this.#tree = CompactRange.restore(this.alg, head.compactRange);
      if (head.size !== this.#tree.size) throw new RangeError(`options.head.size ${head.size} differs from its compact range size ${this.#tree.size}`);
      this.#prev = head.prev;
    } else {
      this.#tree = new CompactRange(this.alg);
      this.#prev = genesisPrev(this.alg);
    }
    this.stream = options.stream;
    this.#limits = options.limits;
    // Validate the stream id and prev once, the way normalizeRecord would:
    // append() trusts them afterwards.
    this.#prev = normalizeRecord(
      { alg: this.alg, stream: this.stream, seq: 0, prev: this.#prev, id: '00000000-0000-7000-8000-000000000000', time: '0', type: 'system', action: 'check' },
    ).prev;
  }

  /** Number of records sealed so far: the next record's seq. */
  get size(): number {
    return this.#tree.size;
  }

  /** Hash of the last sealed record. */
  get prev(): string {
    return this.#prev;
  }

  /**
   * Seal the next record of the stream. Throws `RecordValidationError` (and
   * changes nothing) if the event is invalid.
   *
   * @example
   * const sealed = chain.append({ id, time, type: 'crud', action: 'delete', target: { type: 'tool', id: '7' } });
   */
  append(event: AuditEventInput): SealedRecord {
    if (typeof event !== 'object' || event === null) throw new RecordValidationError('', 'must be an object');
    const { record, ordered } = sealChainedEvent(event, { alg: this.alg, stream: this.stream, seq: this.#tree.size, prev: this.#prev }, this.#limits);
    // In canonical member order, the native serializer is the RFC 8785 form.
    const canonical = ordered ? JSON.stringify(record) : canonicalize(record);
    const hash = leafHashHex(this.alg, canonical);
    appendTrustedLeafHex(this.#tree, hash);
    this.#prev = hash;
    return { record, canonical, hash };
  }

  /** Merkle root over every record so far, lowercase hex. */
  rootHex(): string {
    return this.#tree.rootHex();
  }

  /** The head to store so the stream can resume after a restart. */
  head(): ChainHead {
    return { stream: this.stream, alg: this.alg, size: this.#tree.size, prev: this.#prev, compactRange: this.#tree.state() };
  }

  /**
   * A checkpoint note over the records so far, signed by `signers` (or the
   * unsigned form when none are given).
   *
   * @example
   * const note = chain.checkpoint(process.hrtime.bigint(), signers);
   */
  checkpoint(timeUnixNano: bigint, signers: readonly NoteSigner[]): string {
    return signCheckpoint(
      { origin: this.stream, size: this.#tree.size, rootHash: this.#tree.root(), timeUnixNano },
      signers,
      { allowUnsigned: true },
    );
  }
}
