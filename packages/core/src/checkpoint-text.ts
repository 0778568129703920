/**
 * Checkpoint text (DESIGN §4.3): a C2SP tlog-checkpoint — origin (the stream
 * id), tree size, standard-base64 root hash — with one otel-audit extension
 * line `time <Unix nanoseconds>`. `formatCheckpoint` and `parseCheckpoint`
 * are the exact text (parsing is strict and names the line of every defect);
 * checkpoint.ts signs it as a C2SP signed note and verifies such notes.
 */
import { decodeBase64Canonical } from './internal/base64.js';
import { NoteFormatError } from './errors.js';
import { digestLength, HASH_ALGORITHMS, type HashAlgorithm } from './hash.js';
import { assertNoteText } from './signed-note.js';

/**
 * Default bound on a checkpoint's text in UTF-8 bytes (a checkpoint is ~150 bytes).
 *
 * @example
 * parseCheckpoint(text, { maxBytes: DEFAULT_MAX_CHECKPOINT_BYTES })
 */
export const DEFAULT_MAX_CHECKPOINT_BYTES = 1 << 16;

const TIME_PREFIX = 'time ';
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;
const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BAD_CHAR = /[\u0000-\u001f]|\p{Cs}/u; // control characters ("\n" is split off) and unpaired surrogates
const MAX_TIME = (1n << 64n) - 1n;
const ROOT_LENGTHS = new Set(HASH_ALGORITHMS.map((alg) => digestLength(alg)));

/**
 * What `formatCheckpoint` and `signCheckpoint` take.
 *
 * @example
 * const cp: CheckpointInput = { origin: 'billing-api/01J9', size: 3, rootHash: rootHex, timeUnixNano: process.hrtime.bigint() };
 */
export interface CheckpointInput {
  /** Log origin: the stream id. Non-empty, one line. */
  readonly origin: string;
  /** Tree size: number of records covered. */
  readonly size: number;
  /** Merkle root at `size`, as bytes or hex. */
  readonly rootHash: Uint8Array | string;
  /** Checkpoint time in Unix nanoseconds. */
  readonly timeUnixNano: bigint;
  /** Further extension lines, written after the `time` line (not recommended by C2SP). */
  readonly extensions?: readonly string[];
}

/**
 * A parsed checkpoint. Trust it only from a `verifyCheckpoint` result whose status is `valid`.
 *
 * @example
 * const { origin, size, rootHash, timeUnixNano }: Checkpoint = result.checkpoint!;
 */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Buffer;
  readonly timeUnixNano: bigint;
  /** Extension lines other than the `time` line, in order. */
  readonly extensions: readonly string[];
}

/**
 * Options of `parseCheckpoint`.
 *
 * @example
 * parseCheckpoint(text, { alg: 'sha256' })
 */
export interface ParseCheckpointOptions {
  /** Require a root hash of this algorithm's length; otherwise any supported digest length. */
  readonly alg?: HashAlgorithm;
  /** Largest text accepted, in UTF-8 bytes; default `DEFAULT_MAX_CHECKPOINT_BYTES`. */
  readonly maxBytes?: number;
}

/**
 * The checkpoint text: `<origin>\n<size>\n<base64 root>\ntime <ns>\n`, then
 * any further extension lines. Misuse throws `TypeError`/`RangeError`.
 *
 * @example
 * formatCheckpoint({ origin: 'billing-api/01J9', size: 3, rootHash: rootHex, timeUnixNano: 1700000000000000000n })
 * // 'billing-api/01J9\n3\n<base64>\ntime 1700000000000000000\n'
 */
export function formatCheckpoint(checkpoint: CheckpointInput): string {
  if (checkpoint === null || typeof checkpoint !== 'object') {
    throw new TypeError(`checkpoint must be an object; got ${checkpoint === null ? 'null' : typeof checkpoint}`);
  }
  const { origin, size, rootHash, timeUnixNano, extensions = [] } = checkpoint;
  assertLine(origin, 'checkpoint.origin');
  if (typeof size !== 'number') throw new TypeError(`checkpoint.size must be a number; got ${typeof size}`);
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`checkpoint.size must be a non-negative safe integer; got ${size}`);
  }
  const root = toRootBytes(rootHash);
  if (typeof timeUnixNano !== 'bigint') throw new TypeError(`checkpoint.timeUnixNano must be a bigint; got ${typeof timeUnixNano}`);
  if (timeUnixNano < 0n || timeUnixNano > MAX_TIME) {
    throw new RangeError(`checkpoint.timeUnixNano must be between 0 and 2^64-1; got ${timeUnixNano}`);
  }
  if (!Array.isArray(extensions)) throw new TypeError('checkpoint.extensions must be an array of strings');
  extensions.forEach((line, i) => {
    assertLine(line, `checkpoint.extensions[${i}]`);
    if (line === 'time' || line.startsWith(TIME_PREFIX)) {
      throw new RangeError(`checkpoint.extensions[${i}] must not be a time line; set checkpoint.timeUnixNano`);
    }
  });
  const lines = [origin, String(size), root.toString('base64'), `${TIME_PREFIX}${timeUnixNano}`, ...extensions];
  return `${lines.join('\n')}\n`;
}

/**
 * Parses checkpoint text (the note text, without signatures). Strict: the
 * origin is non-empty, the size is decimal without leading zeros and a safe
 * integer, the root is canonical standard base64 of a supported digest
 * length, extension lines are non-empty, exactly one `time <decimal>` line;
 * anything else throws `NoteFormatError` with the 1-based line (0 for size).
 *
 * @example
 * const cp = parseCheckpoint('billing-api/01J9\n3\n<base64>\ntime 1700000000000000000\n');
 * cp.size // 3
 */
export function parseCheckpoint(text: string, options: ParseCheckpointOptions = {}): Checkpoint {
  if (typeof text !== 'string') throw new TypeError(`text must be a string; got ${typeof text}`);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_CHECKPOINT_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new RangeError(`options.maxBytes must be a positive integer; got ${String(maxBytes)}`);
  }
  const rootLength = options.alg === undefined ? undefined : digestLength(options.alg);
  if (text.length > maxBytes || Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw new NoteFormatError(0, `checkpoint is larger than ${maxBytes} bytes`);
  }
  if (text === '') throw new NoteFormatError(1, 'checkpoint is empty: expected the origin line');
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') {
    throw new NoteFormatError(lines.length, 'missing final newline: every line of a checkpoint ends in "\\n"');
  }
  lines.pop();
  lines.forEach((line, i) => {
    const bad = BAD_CHAR.exec(line);
    if (bad !== null) {
      const code = bad[0].charCodeAt(0);
      const what =
        code === 0x0d
          ? 'carriage return (CRLF line ending)'
          : code < 0x20
            ? `control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`
            : 'unpaired surrogate (not valid UTF-8)';
      throw new NoteFormatError(i + 1, `${what} is not allowed`);
    }
    if (line === '') {
      const role = ['origin', 'tree size', 'root hash'][i];
      throw new NoteFormatError(
        i + 1,
        role !== undefined ? `${role} line is empty` : 'empty line: extension lines must be non-empty (a signed note must be opened with verifyCheckpoint or parseNote first)',
      );
    }
  });
  const [origin, sizeText, rootText] = lines;
  if (origin === undefined) throw new NoteFormatError(1, 'missing origin line');
  if (sizeText === undefined) throw new NoteFormatError(2, 'missing tree size line');
  if (rootText === undefined) throw new NoteFormatError(3, 'missing root hash line');
  if (!DECIMAL.test(sizeText)) throw new NoteFormatError(2, 'tree size must be decimal digits without leading zeros');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new NoteFormatError(2, `tree size exceeds ${Number.MAX_SAFE_INTEGER}`);
  const rootHash = decodeBase64Canonical(rootText);
  if (rootHash === undefined) throw new NoteFormatError(3, 'root hash is not canonical standard base64');
  if (rootLength !== undefined ? rootHash.length !== rootLength : !ROOT_LENGTHS.has(rootHash.length)) {
    const want = rootLength !== undefined ? `${rootLength} (${options.alg})` : [...ROOT_LENGTHS].join(', ');
    throw new NoteFormatError(3, `root hash is ${rootHash.length} bytes; expected ${want}`);
  }
  let timeUnixNano: bigint | undefined;
  let timeLine = 0;
  const extensions: string[] = [];
  for (let i = 3; i < lines.length; i++) {
    const line = lines[i]!;
    if (line !== 'time' && !line.startsWith(TIME_PREFIX)) {
      extensions.push(line);
      continue;
    }
    if (timeUnixNano !== undefined) throw new NoteFormatError(i + 1, `duplicate time line (the first is line ${timeLine})`);
    const digits = line.slice(TIME_PREFIX.length);
    if (line === 'time' || !DECIMAL.test(digits)) {
      throw new NoteFormatError(i + 1, 'time line must be "time <Unix nanoseconds>": decimal digits without leading zeros');
    }
    const value = BigInt(digits);
    if (value > MAX_TIME) throw new NoteFormatError(i + 1, 'time exceeds 2^64-1 nanoseconds');
    timeUnixNano = value;
    timeLine = i + 1;
  }
  if (timeUnixNano === undefined) {
    throw new NoteFormatError(lines.length + 1, 'missing "time <Unix nanoseconds>" extension line');
  }
  return Object.freeze({ origin, size, rootHash, timeUnixNano, extensions: Object.freeze(extensions) });
}

function toRootBytes(rootHash: unknown): Buffer {
  let bytes: Buffer;
  if (typeof rootHash === 'string') {
    if (!HEX.test(rootHash)) throw new RangeError('checkpoint.rootHash must be hex digits of whole bytes');
    bytes = Buffer.from(rootHash, 'hex');
  } else if (rootHash instanceof Uint8Array) {
    bytes = Buffer.from(rootHash);
  } else {
    throw new TypeError(`checkpoint.rootHash must be a Uint8Array or a hex string; got ${rootHash === null ? 'null' : typeof rootHash}`);
  }
  if (!ROOT_LENGTHS.has(bytes.length)) {
    throw new RangeError(`checkpoint.rootHash must be ${[...ROOT_LENGTHS].join(', ')} bytes long; got ${bytes.length}`);
  }
  return bytes;
}

function assertLine(value: unknown, argName: string): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`${argName} must be a string; got ${typeof value}`);
  if (value === '' || value.includes('\n')) throw new RangeError(`${argName} must be one non-empty line`);
  assertNoteText(`${value}\n`, argName);
}
