/**
 * Domain errors of @otel-audit/core. Every error carries a stable `code`
 * that callers (the processor, the server, the CLI) switch on, and the
 * evidence that explains it. Misuse of an API (a wrong argument type or
 * value) throws the built-in `TypeError`/`RangeError` instead.
 */

/** Stable error codes of the core package. */
export type AuditErrorCode =
  | 'AUDIT_RECORD_INVALID'
  | 'AUDIT_CANONICAL_INVALID'
  | 'AUDIT_NOTE_MALFORMED'
  | 'AUDIT_KEY_INVALID'
  | 'AUDIT_SIGNATURE_INVALID'
  | 'AUDIT_PROOF_INVALID'
  | (string & {});

/**
 * Base class of every otel-audit error.
 *
 * @example
 * try { normalizeRecord(input) } catch (e) {
 *   if (e instanceof AuditError && e.code === 'AUDIT_RECORD_INVALID') console.error(e.pointer, e.message);
 * }
 */
export class AuditError extends Error {
  /** Stable, machine-readable code, e.g. `AUDIT_RECORD_INVALID`. */
  readonly code: AuditErrorCode;

  constructor(code: AuditErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuditError';
    this.code = code;
  }
}

/**
 * A record (or a JSON value inside it) that cannot be hashed reproducibly.
 * `pointer` is the RFC 6901 JSON Pointer of the offending value ("" for the
 * record itself).
 *
 * @example
 * normalizeRecord({ ...r, details: { n: NaN } }) // throws: /details/n: NaN is not valid JSON ...
 */
export class RecordValidationError extends AuditError {
  /** RFC 6901 JSON Pointer of the offending value. */
  readonly pointer: string;

  constructor(pointer: string, message: string, code: AuditErrorCode = 'AUDIT_RECORD_INVALID') {
    super(code, `${pointer === '' ? '(record)' : pointer}: ${message}`);
    this.name = 'RecordValidationError';
    this.pointer = pointer;
  }
}

/**
 * Malformed signed-note, checkpoint or key text. `line` is 1-based where the
 * problem was found (0 when it concerns the whole text).
 *
 * @example
 * parseCheckpoint('origin\n') // throws NoteFormatError: line 2: ...
 */
export class NoteFormatError extends AuditError {
  /** 1-based line number of the problem, 0 for the text as a whole. */
  readonly line: number;

  constructor(line: number, message: string, code: AuditErrorCode = 'AUDIT_NOTE_MALFORMED') {
    super(code, line > 0 ? `line ${line}: ${message}` : message);
    this.name = 'NoteFormatError';
    this.line = line;
  }
}

/**
 * A verifier key line that cannot be trusted (`name+hash+base64`, optionally
 * followed by `not_before=TIME` / `not_after=TIME`; DESIGN §4.3). The
 * message names the place (file and line, option, ...) and what is wrong,
 * never a signer key's text; `fix` says what to write instead. `line` is
 * 1-based within the file, 0 for a single line given on its own.
 *
 * @example
 * const { errors } = parseVerifierKeyLines(text, (n) => `key file audit.vkey line ${n}`);
 * for (const e of errors) console.error(`${e.message}; fix: ${e.fix}`);
 */
export class VerifierKeyLineError extends AuditError {
  /** 1-based line number of the bad line, 0 for a line given on its own. */
  readonly line: number;
  /** What to write instead. */
  readonly fix: string;

  constructor(line: number, message: string, fix: string) {
    super('AUDIT_KEY_INVALID', message);
    this.name = 'VerifierKeyLineError';
    this.line = line;
    this.fix = fix;
  }
}
