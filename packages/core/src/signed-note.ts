/**
 * C2SP signed notes (c2sp.org/signed-note; DESIGN §4.3): a UTF-8 text ending
 * in a newline, a blank line, then signature lines
 * `— <key name> <base64(4-byte key hash || signature)>\n`, each signing every
 * byte of the text including its final newline. `signNote` writes them,
 * `parseNote` reads them strictly (any defect is a `NoteFormatError` naming
 * the 1-based line), and `openNote` checks the signatures against known keys
 * and reports — never throws — which verified, which are from unknown keys
 * and which failed. The rules follow the spec and Go's
 * golang.org/x/mod/sumdb/note: no control characters but newline, the text
 * ends at the last blank line, at most 100 signatures. One extension, only by
 * explicit option: an unsigned note (the text, the blank line, no signature
 * lines), which is how otel-audit writes a checkpoint when no key is set.
 */
import { decodeBase64Canonical } from './internal/base64.js';
import { NoteFormatError } from './errors.js';
import { isValidKeyName, noteKeyId, type NoteSigner, type NoteVerifier } from './note-keys.js';

/**
 * Most signature lines a note may carry (as Go's sumdb/note); more is malformed.
 *
 * @example
 * signers.length <= MAX_NOTE_SIGNATURES
 */
export const MAX_NOTE_SIGNATURES = 100;
/**
 * Default bound on the size of a note in UTF-8 bytes; hostile input is refused before any work.
 *
 * @example
 * parseNote(text, { maxBytes: DEFAULT_MAX_NOTE_BYTES * 4 })
 */
export const DEFAULT_MAX_NOTE_BYTES = 1 << 20;

const SIG_PREFIX = '\u2014 '; // EM DASH, SPACE
const BAD_CONTROL = /[\u0000-\u0009\u000b-\u001f]/;
const LONE_SURROGATE = /\p{Cs}/u;
const DASH_LIKE = /^[-\u2010-\u2015\u2212]/; // hyphens, en/em dashes, minus: a likely mistyped prefix

/**
 * One signature line of a note.
 *
 * @example
 * const { name, keyHash, line }: NoteSignature = parseNote(noteText).signatures[0]!;
 */
export interface NoteSignature {
  /** Key name on the line. */
  readonly name: string;
  /** Key hash: the first 4 bytes of the decoded signature, big-endian. */
  readonly keyHash: number;
  /** The signature bytes after the key hash (64 bytes for Ed25519). */
  readonly signature: Buffer;
  /** 1-based line number of the signature line in the note. */
  readonly line: number;
}

/**
 * A signature from a known key that did not verify, and why.
 *
 * @example
 * for (const bad of openNote(noteText, verifiers).invalid) console.error(bad.line, bad.reason);
 */
export interface InvalidNoteSignature extends NoteSignature {
  readonly reason: string;
}

/**
 * A note split into its text and signatures, not yet verified.
 *
 * @example
 * const { text, signatures }: ParsedNote = parseNote(noteText);
 */
export interface ParsedNote {
  /** The signed text: every byte before the blank line, ending in "\n". */
  readonly text: string;
  /** Signature lines in order (empty only for an unsigned note read with `allowUnsigned`). */
  readonly signatures: readonly NoteSignature[];
}

/**
 * A note whose signatures were checked against known keys.
 *
 * @example
 * const { verified, unknown, invalid }: OpenedNote = openNote(noteText, keyring);
 */
export interface OpenedNote extends ParsedNote {
  /** Signatures from known keys that verify, one per key. */
  readonly verified: readonly NoteSignature[];
  /** Signatures from keys not known (by name and key hash); ignored, as the spec requires. */
  readonly unknown: readonly NoteSignature[];
  /** Signatures from known keys that do not verify. */
  readonly invalid: readonly InvalidNoteSignature[];
}

/**
 * Options of `parseNote` and `openNote`.
 *
 * @example
 * parseNote(noteText, { allowUnsigned: true, maxBytes: 65536 })
 */
export interface ParseNoteOptions {
  /**
   * Accept a note with no signature lines (text, blank line, end). C2SP
   * requires at least one signature, so this is off unless asked for.
   */
  readonly allowUnsigned?: boolean;
  /** Largest note accepted, in UTF-8 bytes; default `DEFAULT_MAX_NOTE_BYTES`. */
  readonly maxBytes?: number;
}

/**
 * Options of `signNote`.
 *
 * @example
 * signNote(text, [], { allowUnsigned: true }) // text + '\n'
 */
export interface SignNoteOptions {
  /** With no signers, write the unsigned form (text + "\n") instead of throwing. */
  readonly allowUnsigned?: boolean;
}

/**
 * Finds the verifier of a key by name and key hash; `Keyring` is one.
 *
 * @example
 * openNote(noteText, { findVerifier: (name, keyHash) => myKeys.get(`${name}/${keyHash}`) })
 */
export interface NoteVerifierLookup {
  findVerifier(name: string, keyHash: number): NoteVerifier | undefined;
}

/**
 * Signs `text` with each signer and returns the note: the text, a blank line,
 * one signature line per signer in the given order. With no signers and
 * `{ allowUnsigned: true }` it returns the unsigned form `text + "\n"`.
 * Misuse (text not ending in "\n", control characters, duplicate or invalid
 * signers) throws `TypeError`/`RangeError`.
 *
 * @example
 * const note = signNote('hello\n', [parseSignerKey(signerKey)]);
 * // 'hello\n\n— name base64...\n'
 */
export function signNote(text: string, signers: readonly NoteSigner[], options: SignNoteOptions = {}): string {
  assertNoteText(text, 'text');
  if (!Array.isArray(signers)) throw new TypeError(`signers must be an array of NoteSigner; got ${typeof signers}`);
  if (signers.length === 0 && options.allowUnsigned !== true) {
    throw new RangeError('signers must not be empty: a signed note needs at least one signature (pass { allowUnsigned: true } to write an unsigned note)');
  }
  if (signers.length > MAX_NOTE_SIGNATURES) {
    throw new RangeError(`signers: at most ${MAX_NOTE_SIGNATURES} signatures fit in a note; got ${signers.length}`);
  }
  const message = Buffer.from(text, 'utf8');
  const seen = new Set<string>();
  let lines = '';
  signers.forEach((signer, i) => {
    const arg = `signers[${i}]`;
    if (signer === null || typeof signer !== 'object' || typeof signer.sign !== 'function') {
      throw new TypeError(`${arg} must be a NoteSigner (see parseSignerKey)`);
    }
    if (!isValidKeyName(signer.name)) throw new RangeError(`${arg}.name is not a valid key name`);
    const id = noteKeyId(signer.name, signer.keyHash);
    if (seen.has(id)) throw new RangeError(`${arg}: key ${id} signs twice`);
    seen.add(id);
    const signature = signer.sign(message);
    if (!(signature instanceof Uint8Array) || signature.length === 0) {
      throw new TypeError(`${arg}.sign must return a non-empty Uint8Array`);
    }
    const hash = Buffer.alloc(4);
    hash.writeUInt32BE(signer.keyHash);
    lines += `${SIG_PREFIX}${signer.name} ${Buffer.concat([hash, signature]).toString('base64')}\n`;
  });
  return `${text}\n${lines}`;
}

/**
 * Splits a note into its text and signature lines without verifying them.
 * Strict: a note that is not valid UTF-8, has a control character other than
 * "\n" (CRLF included), lacks the final newline or the blank line, has a line
 * in the signature block that is not `— <name> <base64>`, non-canonical
 * base64, a signature under 5 bytes, more than 100 signatures, or more than
 * `maxBytes` bytes throws `NoteFormatError` with the 1-based line (0 for the
 * size). The text is everything up to the last blank line (C2SP).
 *
 * @example
 * const { text, signatures } = parseNote(noteText);
 * signatures[0].name // 'PeterNeumann'
 */
export function parseNote(noteText: string | Uint8Array, options: ParseNoteOptions = {}): ParsedNote {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_NOTE_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new RangeError(`options.maxBytes must be a positive integer; got ${String(maxBytes)}`);
  }
  const note = decodeNote(noteText, maxBytes);
  if (note === '') throw new NoteFormatError(1, 'note is empty');
  if (!note.endsWith('\n')) {
    throw new NoteFormatError(lineAt(note, note.length), 'missing final newline: every line of a note ends in "\\n"');
  }
  const split = note.lastIndexOf('\n\n');
  if (split < 0) {
    // Say where the signatures went wrong if a signature line is visible.
    const after = note.indexOf(`\n${SIG_PREFIX}`);
    const sigPos = note.startsWith(SIG_PREFIX) ? 0 : after < 0 ? -1 : after + 1;
    if (sigPos === 0 || sigPos === 1) throw new NoteFormatError(1, 'note text is empty: it must precede the blank line');
    if (sigPos > 1) throw new NoteFormatError(lineAt(note, sigPos), 'signature line is not preceded by a blank line');
    throw new NoteFormatError(lineAt(note, note.length), 'missing the blank line and signature lines after the note text');
  }
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  const firstSigLine = lineAt(note, split + 2);
  if (block === '') {
    if (options.allowUnsigned === true) return Object.freeze({ text, signatures: Object.freeze([]) });
    throw new NoteFormatError(firstSigLine, 'note has no signature lines after the blank line');
  }
  const rows = block.slice(0, -1).split('\n');
  if (rows.length > MAX_NOTE_SIGNATURES) {
    throw new NoteFormatError(firstSigLine + MAX_NOTE_SIGNATURES, `more than ${MAX_NOTE_SIGNATURES} signatures`);
  }
  const signatures = rows.map((row, i) => parseSignatureLine(row, firstSigLine + i));
  return Object.freeze({ text, signatures: Object.freeze(signatures) });
}

/**
 * Parses a note and checks each signature against the known keys. Following
 * C2SP, a signature whose (name, key hash) is not known is ignored (listed in
 * `unknown`); one from a known key is verified and lands in `verified` or
 * `invalid`. Identical repeated lines count once. Signature problems are
 * reported, never thrown; only a malformed note throws `NoteFormatError`.
 * The caller decides what is enough: trust the text only if `verified` is
 * non-empty (and, per the spec's advice, `invalid` is empty).
 *
 * @example
 * const opened = openNote(noteText, [parseVerifierKey(verifierKey)]);
 * if (opened.verified.length > 0 && opened.invalid.length === 0) use(opened.text);
 */
export function openNote(
  noteText: string | Uint8Array,
  verifiers: Iterable<NoteVerifier> | NoteVerifierLookup,
  options: ParseNoteOptions = {},
): OpenedNote {
  const lookup = toLookup(verifiers);
  const parsed = parseNote(noteText, options);
  const message = Buffer.from(parsed.text, 'utf8');
  const verified: NoteSignature[] = [];
  const unknown: NoteSignature[] = [];
  const invalid: InvalidNoteSignature[] = [];
  const seenLines = new Set<string>();
  const verifiedKeys = new Set<string>();
  for (const sig of parsed.signatures) {
    const id = noteKeyId(sig.name, sig.keyHash);
    // Go's sumdb/note drops repeats; the exact line is the identity here.
    const lineKey = `${id} ${sig.signature.toString('base64')}`;
    if (seenLines.has(lineKey)) continue;
    seenLines.add(lineKey);
    const verifier = lookup(sig.name, sig.keyHash);
    if (verifier === undefined) {
      unknown.push(sig);
    } else if (verifier.name !== sig.name || verifier.keyHash !== sig.keyHash) {
      invalid.push(Object.freeze({ ...sig, reason: `key lookup returned ${noteKeyId(verifier.name, verifier.keyHash)} for ${id}` }));
    } else if (!verifier.verify(message, sig.signature)) {
      invalid.push(Object.freeze({ ...sig, reason: `signature of ${id} does not verify over the note text` }));
    } else if (!verifiedKeys.has(id)) {
      verifiedKeys.add(id);
      verified.push(sig);
    }
  }
  return Object.freeze({
    text: parsed.text,
    signatures: parsed.signatures,
    verified: Object.freeze(verified),
    unknown: Object.freeze(unknown),
    invalid: Object.freeze(invalid),
  });
}

function parseSignatureLine(row: string, line: number): NoteSignature {
  if (!row.startsWith(SIG_PREFIX)) {
    const hint = DASH_LIKE.test(row)
      ? ` (found U+${row.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}${row.startsWith('\u2014') ? ' not followed by a space' : ''})`
      : '';
    throw new NoteFormatError(line, `signature line must start with an em dash (U+2014) and a space${hint}`);
  }
  const rest = row.slice(SIG_PREFIX.length);
  const space = rest.indexOf(' ');
  if (space < 0) throw new NoteFormatError(line, 'signature line must be "— <key name> <base64 signature>"');
  const name = rest.slice(0, space);
  const b64 = rest.slice(space + 1);
  if (!isValidKeyName(name)) {
    throw new NoteFormatError(line, 'invalid key name on signature line (must be non-empty, without spaces or "+")');
  }
  if (b64 === '') throw new NoteFormatError(line, `signature of ${name} is empty`);
  const bytes = decodeBase64Canonical(b64);
  if (bytes === undefined) throw new NoteFormatError(line, `signature of ${name} is not canonical standard base64`);
  if (bytes.length < 5) {
    throw new NoteFormatError(line, `signature of ${name} is ${bytes.length} bytes; it needs a 4-byte key hash and a signature`);
  }
  return Object.freeze({ name, keyHash: bytes.readUInt32BE(0), signature: bytes.subarray(4), line });
}

// Size first (cheap, bounds all later work), then UTF-8 and control characters.
function decodeNote(input: string | Uint8Array, maxBytes: number): string {
  let note: string;
  if (typeof input === 'string') {
    if (input.length > maxBytes || Buffer.byteLength(input, 'utf8') > maxBytes) throw tooLarge(maxBytes);
    const bad = LONE_SURROGATE.exec(input);
    if (bad !== null) throw new NoteFormatError(lineAt(input, bad.index), 'note is not valid UTF-8 (unpaired surrogate)');
    note = input;
  } else if (input instanceof Uint8Array) {
    if (input.byteLength > maxBytes) throw tooLarge(maxBytes);
    const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    note = bytes.toString('utf8');
    // The decoder replaces each invalid sequence with U+FFFD; only then can
    // re-encoding differ, and the first differing byte is on the bad line.
    if (note.includes('\uFFFD')) {
      const back = Buffer.from(note, 'utf8');
      if (!back.equals(bytes)) {
        let i = 0;
        while (i < bytes.length && bytes[i] === back[i]) i++;
        let line = 1;
        for (let j = 0; j < i; j++) if (bytes[j] === 0x0a) line++;
        throw new NoteFormatError(line, 'note is not valid UTF-8');
      }
    }
  } else {
    throw new TypeError(`noteText must be a string or Uint8Array; got ${input === null ? 'null' : typeof input}`);
  }
  const control = BAD_CONTROL.exec(note);
  if (control !== null) throw new NoteFormatError(lineAt(note, control.index), describeControl(control[0]));
  return note;
}

/**
 * Throws `RangeError` naming `argName` unless `text` can be the text of a
 * note: a non-empty well-formed string ending in "\n" with no control
 * character but "\n".
 *
 * @internal shared with checkpoint-text.ts; not part of the public API.
 * @example
 * assertNoteText('origin\n', 'text');
 */
export function assertNoteText(text: unknown, argName: string): asserts text is string {
  if (typeof text !== 'string') throw new TypeError(`${argName} must be a string; got ${typeof text}`);
  if (!text.endsWith('\n')) throw new RangeError(`${argName} must be non-empty and end in "\\n"`);
  const control = BAD_CONTROL.exec(text);
  if (control !== null) {
    throw new RangeError(`${argName}: line ${lineAt(text, control.index)}: ${describeControl(control[0])}`);
  }
  const bad = LONE_SURROGATE.exec(text);
  if (bad !== null) throw new RangeError(`${argName}: line ${lineAt(text, bad.index)}: unpaired surrogate (not valid UTF-8)`);
}

function toLookup(verifiers: Iterable<NoteVerifier> | NoteVerifierLookup): (name: string, keyHash: number) => NoteVerifier | undefined {
  if (verifiers !== null && typeof verifiers === 'object' && typeof (verifiers as NoteVerifierLookup).findVerifier === 'function') {
    const source = verifiers as NoteVerifierLookup;
    return (name, keyHash) => source.findVerifier(name, keyHash);
  }
  if (verifiers === null || typeof verifiers !== 'object' || typeof (verifiers as Iterable<NoteVerifier>)[Symbol.iterator] !== 'function') {
    throw new TypeError('verifiers must be an iterable of NoteVerifier or a lookup with findVerifier(name, keyHash)');
  }
  const map = new Map<string, NoteVerifier>();
  let i = 0;
  for (const v of verifiers as Iterable<NoteVerifier>) {
    if (v === null || typeof v !== 'object' || typeof v.verify !== 'function') {
      throw new TypeError(`verifiers[${i}] must be a NoteVerifier (see parseVerifierKey)`);
    }
    const id = noteKeyId(v.name, v.keyHash);
    const prior = map.get(id);
    // Two different keys under one (name, key hash) make "which key signed" unanswerable.
    if (prior !== undefined && prior !== v && prior.verifierKey !== v.verifierKey) {
      throw new RangeError(`verifiers[${i}]: two different keys share the name and key hash ${id}`);
    }
    map.set(id, prior ?? v);
    i++;
  }
  return (name, keyHash) => map.get(`${name}+${keyHash.toString(16).padStart(8, '0')}`);
}

function describeControl(ch: string): string {
  if (ch === '\r') return 'carriage return (U+000D): notes use "\\n" line endings, not CRLF';
  return `control character U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} is not allowed`;
}

function tooLarge(maxBytes: number): NoteFormatError {
  return new NoteFormatError(0, `note is larger than ${maxBytes} bytes`);
}

function lineAt(s: string, index: number): number {
  let line = 1;
  for (let i = s.indexOf('\n'); i !== -1 && i < index; i = s.indexOf('\n', i + 1)) line++;
  return line;
}
