/**
 * Redaction options and the default field-name patterns of DESIGN §4.5.
 * The compiled form lives in `internal/redactor.ts`.
 */

/**
 * Field-name patterns redacted by default: case-insensitive substrings
 * (§4.5), where `_` matches any separator or none (`api_key` matches
 * `X-Api-Key` and `apiKey`). Beyond §4.5's list: `pwd`, `passphrase`,
 * `credential` (also `credentials`) and `priv_key` (`privKey`,
 * `priv-key`). Words that would also mask ordinary data (`auth` in
 * `author`, `session`, `signature`) are left out; they apply only inside
 * `details`/`old`/`new` and producer attributes, never to the record's own
 * members such as `request.session_id`. A name beyond ASCII is also
 * matched NFKC-normalised and without invisible characters
 * (`ｐａｓｓｗｏｒｄ`, `pass\u00adword`).
 */
export const DEFAULT_REDACTION_PATTERNS: readonly string[] = Object.freeze([
  'password', 'passwd', 'pwd', 'passphrase', 'secret', 'token', 'api_key', 'apikey', 'authorization', 'credential', 'cookie', 'private_key', 'priv_key', 'credit_card', 'ssn',
]);

/** How a redacted value is replaced. */
export type RedactionMode = 'mask' | 'hmac';

/** The value that replaces a secret in `mask` mode. */
export const REDACTION_MASK = '[REDACTED]';

/**
 * Redaction settings of an {@link AuditLogRecordProcessor}.
 *
 * @example
 * const redaction: RedactionOptions = { mode: 'hmac', hmacKey: process.env.AUDIT_REDACT_KEY, patterns: ['iban', /^x-.*-key$/i], pointers: ['/actor/ip'] };
 */
export interface RedactionOptions {
  /** `mask` (default) writes `[REDACTED]`; `hmac` writes `hmac-sha256:<hex>` keyed by `hmacKey`. */
  mode?: RedactionMode;
  /** The HMAC key (required in `hmac` mode, at least 16 bytes). Never logged. */
  hmacKey?: string | Uint8Array;
  /** Extra name patterns: strings are case-insensitive substrings (`_` matches `-`, `.`, a space, `_` or nothing), RegExps are tested as given. */
  patterns?: readonly (string | RegExp)[];
  /** Include {@link DEFAULT_REDACTION_PATTERNS}. Default true. */
  defaultPatterns?: boolean;
  /**
   * JSON Pointers (RFC 6901) of values to redact whatever their name, under
   * `/details`, `/old`, `/new`, `/actor`, `/target`, `/request` or `/error`.
   */
  pointers?: readonly string[];
}
