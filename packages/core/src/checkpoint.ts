/**
 * Checkpoints (DESIGN §4.3): the checkpoint text of checkpoint-text.ts,
 * signed as a C2SP signed note. `signCheckpoint` signs it, and
 * `verifyCheckpoint` checks a note against a `Keyring` and reports one status
 * of §4.4 (`valid`, `bad_signature`, `unknown_key`, `key_out_of_window`, plus
 * `unsigned` and `malformed`) — it never throws on what it is given to check.
 *
 * Unsigned checkpoints: with no signing key configured the processor still
 * writes checkpoints, as the checkpoint text followed by the blank line and no
 * signature lines (`signCheckpoint(cp, [], { allowUnsigned: true })`). C2SP
 * requires a signature, so only `verifyCheckpoint` (and `parseNote` with
 * `allowUnsigned`) reads that form, and reports it as `unsigned`, never valid:
 * stripping the signatures off a signed checkpoint yields the same bytes.
 */
import { formatCheckpoint, parseCheckpoint, type Checkpoint, type CheckpointInput, type ParseCheckpointOptions } from './checkpoint-text.js';
import { NoteFormatError } from './errors.js';
import { Keyring } from './keyring.js';
import { noteKeyId, type NoteSigner } from './note-keys.js';
import { openNote, parseNote, signNote, type NoteSignature, type ParseNoteOptions } from './signed-note.js';
import { formatKeyTime, formatKeyWindow } from './verifier-key-lines.js';

/**
 * Options of `verifyCheckpoint`. Pass `alg` when the stream's algorithm is
 * known: without it any supported digest length is accepted as a root.
 *
 * @example
 * verifyCheckpoint(noteText, keyring, { alg: 'sha256' })
 */
export interface VerifyCheckpointOptions extends ParseCheckpointOptions {
  /** Largest note accepted, in UTF-8 bytes (see `parseNote`). */
  readonly maxNoteBytes?: number;
}

/**
 * Options of `signCheckpoint`.
 *
 * @example
 * signCheckpoint(cp, [], { allowUnsigned: true }) // no key configured
 */
export interface SignCheckpointOptions {
  /** With no signers, write the unsigned form instead of throwing. */
  readonly allowUnsigned?: boolean;
}

/**
 * Outcome of `verifyCheckpoint`; the names of DESIGN §4.4 plus `unsigned` and `malformed`.
 *
 * @example
 * const status: CheckpointStatus = verifyCheckpoint(noteText, keyring).status;
 */
export type CheckpointStatus = 'valid' | 'bad_signature' | 'unknown_key' | 'key_out_of_window' | 'unsigned' | 'malformed';

/**
 * What became of one signature line.
 *
 * @example
 * for (const s of result.signatures) console.log(s.line, s.keyId, s.result);
 */
export interface CheckpointSignatureResult {
  /** `<name>+<8 hex key hash>`. */
  readonly keyId: string;
  readonly name: string;
  readonly keyHash: number;
  /** 1-based line of the signature in the note. */
  readonly line: number;
  /** `valid`: trusted key, verifies, time in window. */
  readonly result: 'valid' | 'invalid' | 'out_of_window' | 'unknown';
}

/**
 * The report of `verifyCheckpoint`.
 *
 * @example
 * const r: CheckpointVerification = verifyCheckpoint(noteText, keyring);
 * if (!r.ok) console.error(r.status, r.keys, r.message);
 */
export interface CheckpointVerification {
  readonly status: CheckpointStatus;
  /** `status === 'valid'`. */
  readonly ok: boolean;
  /** The checkpoint if its text parsed, whatever the status; trust it only when `ok`. */
  readonly checkpoint: Checkpoint | undefined;
  /** Key ids (`<name>+<hash>`) behind the status: the signers for `valid`, the failing or unknown keys otherwise. */
  readonly keys: readonly string[];
  /** Every signature line and its result. */
  readonly signatures: readonly CheckpointSignatureResult[];
  /** One sentence for people. */
  readonly message: string;
  /** For `malformed`: the parse error, with its line. */
  readonly error?: NoteFormatError;
}

/**
 * Formats and signs a checkpoint: the signed note of DESIGN §4.3. With no
 * signers and `{ allowUnsigned: true }`, the unsigned form (text + "\n").
 *
 * @example
 * const note = signCheckpoint({ origin, size, rootHash, timeUnixNano }, [parseSignerKey(signerKey)]);
 */
export function signCheckpoint(
  checkpoint: CheckpointInput,
  signers: readonly NoteSigner[],
  options: SignCheckpointOptions = {},
): string {
  return signNote(formatCheckpoint(checkpoint), signers, options);
}

/**
 * The checkpoint a note carries — origin, size, root, time — with its
 * signatures left unjudged, or undefined when the note or its checkpoint
 * text does not parse. For reading stored copies (the columns beside a
 * note, an archive's cut) and routing notes by stream; whether the
 * checkpoint can be trusted is `verifyCheckpoint`'s to say.
 *
 * @example
 * checkpointOfNote(row.note)?.size // 1000
 */
export function checkpointOfNote(noteText: string | Uint8Array): Checkpoint | undefined {
  try {
    return parseCheckpoint(parseNote(noteText, { allowUnsigned: true }).text);
  } catch (error) {
    if (error instanceof NoteFormatError) return undefined;
    throw error;
  }
}

/**
 * Verifies a checkpoint note against `keyring` and reports, never throwing on
 * the note's content. Signatures from unknown keys are ignored. `valid`: a
 * trusted key's signature verifies and the checkpoint's `time` lies in that
 * key's window. Otherwise, in order of precedence: `bad_signature` (a trusted
 * key's signature does not verify), `key_out_of_window`, `unknown_key` (only
 * unknown keys signed), `unsigned` (no signature lines), `malformed` (the note
 * or checkpoint text does not parse; `error` has the line).
 *
 * @example
 * const result = verifyCheckpoint(noteText, Keyring.from([verifierKey]));
 * if (!result.ok) console.error(result.status, result.keys, result.message);
 */
export function verifyCheckpoint(
  noteText: string | Uint8Array,
  keyring: Keyring,
  options: VerifyCheckpointOptions = {},
): CheckpointVerification {
  if (!(keyring instanceof Keyring)) throw new TypeError('keyring must be a Keyring (see Keyring.from)');
  if (typeof noteText !== 'string' && !(noteText instanceof Uint8Array)) {
    throw new TypeError(`noteText must be a string or Uint8Array; got ${noteText === null ? 'null' : typeof noteText}`);
  }
  const noteOptions: ParseNoteOptions = { allowUnsigned: true, ...(options.maxNoteBytes === undefined ? {} : { maxBytes: options.maxNoteBytes }) };
  let opened: ReturnType<typeof openNote>;
  let checkpoint: Checkpoint;
  try {
    opened = openNote(noteText, keyring, noteOptions);
    checkpoint = parseCheckpoint(opened.text, options);
  } catch (error) {
    if (!(error instanceof NoteFormatError)) throw error;
    return report('malformed', undefined, [], [], `malformed checkpoint note: ${error.message}`, error);
  }
  if (opened.signatures.length === 0) {
    return report('unsigned', checkpoint, [], [], 'checkpoint carries no signature (written without a signing key)');
  }
  const time = checkpoint.timeUnixNano;
  const byLine = new Map<number, CheckpointSignatureResult>();
  const record = (sig: NoteSignature, result: CheckpointSignatureResult['result']): void => {
    byLine.set(sig.line, Object.freeze({ keyId: noteKeyId(sig.name, sig.keyHash), name: sig.name, keyHash: sig.keyHash, line: sig.line, result }));
  };
  for (const sig of opened.verified) record(sig, keyring.get(sig.name, sig.keyHash)?.covers(time) === true ? 'valid' : 'out_of_window');
  for (const sig of opened.invalid) record(sig, 'invalid');
  for (const sig of opened.unknown) record(sig, 'unknown');
  const results = [...byLine.values()].sort((a, b) => a.line - b.line);
  const ids = (result: CheckpointSignatureResult['result']): string[] => [
    ...new Set(results.filter((r) => r.result === result).map((r) => r.keyId)),
  ];
  const where = `checkpoint of ${JSON.stringify(checkpoint.origin)} at size ${checkpoint.size}`;
  const valid = ids('valid');
  if (valid.length > 0) {
    const bad = ids('invalid');
    const also = bad.length > 0 ? `; it also carries a signature of ${bad.join(', ')} that does not verify` : '';
    return report('valid', checkpoint, valid, results, `${where} is signed by ${valid.join(', ')}${also}`);
  }
  const invalid = ids('invalid');
  if (invalid.length > 0) {
    return report('bad_signature', checkpoint, invalid, results, `${where}: signature of ${invalid.join(', ')} does not verify (text or signature altered)`);
  }
  const outOfWindow = ids('out_of_window');
  if (outOfWindow.length > 0) {
    // The time and the windows as dates, in the words of a key line, so the reader can tell
    // which bound was crossed; the exact nanoseconds too, as the checkpoint text has them.
    const windows = outOfWindow.map((id) => {
      const { name, keyHash } = results.find((r) => r.keyId === id)!;
      const text = (keyring.get(name, keyHash)?.windows ?? []).map(formatKeyWindow).join(' or ');
      return outOfWindow.length > 1 ? `${id}: ${text}` : text;
    });
    return report(
      'key_out_of_window',
      checkpoint,
      outOfWindow,
      results,
      `${where}: signature of ${outOfWindow.join(', ')} verifies but the checkpoint time ${formatKeyTime(time)} (${time} ns) is outside the key's validity window (${windows.join('; ')})`,
    );
  }
  const unknown = ids('unknown');
  return report('unknown_key', checkpoint, unknown, results, `${where} has no signature from a trusted key; signed only by ${unknown.join(', ')}`);
}

function report(
  status: CheckpointStatus,
  checkpoint: Checkpoint | undefined,
  keys: readonly string[],
  signatures: readonly CheckpointSignatureResult[],
  message: string,
  error?: NoteFormatError,
): CheckpointVerification {
  return Object.freeze({
    status,
    ok: status === 'valid',
    checkpoint,
    keys: Object.freeze([...keys]),
    signatures: Object.freeze([...signatures]),
    message,
    ...(error === undefined ? {} : { error }),
  });
}
