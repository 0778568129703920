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
  'password', 'passwd', 'pwd', 'passphrase', 'secret', 'token', 'api_key', 'apikey', 'authorization', 'credential', 'cookie', 'private_key', 'priv_key', 'credit_card', 'card_num', 'ssn',
]);

/**
 * Short secret names redacted by default as whole words of a member name,
 * beyond §4.5: as substrings they would mask ordinary names (`passport`,
 * `compass`, `spinner`, `topic`, `shipping`). A name is split into words
 * at every character that is not a letter or digit, at a case change
 * (`newPin`, `PINCode`) and before a digit that follows a letter (`cvv2`).
 * `pass` (a login form's password field), `pw`, `psw`, `pswd` (password
 * abbreviations; `pwd` is a substring pattern), `passcode`, `pin`,
 * `pincode`, `otp`, `totp`, `hotp` (one-time passwords), `cvv`, `cvc`,
 * `csc`, `ccv` (card security codes; `cvv2` and `CVC2` by the digit split).
 * A flag or count named after one is masked too (`pin_count`,
 * `otp_enabled`), and so are the words' ordinary senses (`boarding_pass`,
 * `gpio_pin`, `passThrough`).
 *
 * @example
 * new AuditLogRecordProcessor({ ...options, redaction: { defaultPatterns: false } }); // turns these off with the patterns
 */
export const DEFAULT_REDACTION_WORDS: readonly string[] = Object.freeze([
  'pass', 'pw', 'psw', 'pswd', 'passcode', 'pin', 'pincode', 'otp', 'totp', 'hotp', 'cvv', 'cvc', 'csc', 'ccv',
]);

/**
 * Two adjacent words redacted by default: a word of the first list
 * followed, as the next word, by one of the second. `code`, `codes` after a word that
 * makes them a one-time or recovery secret (`mfa_code`, `2FACode`,
 * `two_factor_code`, `sms_code`, `verificationCode`, `backup_codes`,
 * `oauth_code`, `security_code` of a card), and a security question's
 * answer. `code` alone (`status_code`, `country_code`) is not a secret name.
 *
 * @example
 * DEFAULT_REDACTION_WORD_PAIRS[0]![1]; // ['code', 'codes']
 */
export const DEFAULT_REDACTION_WORD_PAIRS: readonly (readonly [readonly string[], readonly string[]])[] = Object.freeze([
  Object.freeze([
    Object.freeze(['mfa', '2fa', 'tfa', 'factor', 'auth', 'oauth', 'sms', 'verification', 'verify', 'recovery', 'backup', 'reset', 'security', 'access']),
    Object.freeze(['code', 'codes']),
  ] as const),
  Object.freeze([Object.freeze(['security']), Object.freeze(['answer', 'answers'])] as const),
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
  /** Include {@link DEFAULT_REDACTION_PATTERNS}, {@link DEFAULT_REDACTION_WORDS} and {@link DEFAULT_REDACTION_WORD_PAIRS}. Default true. */
  defaultPatterns?: boolean;
  /**
   * JSON Pointers (RFC 6901) of values to redact whatever their name, under
   * `/details`, `/old`, `/new`, `/actor`, `/target`, `/request` or `/error`.
   */
  pointers?: readonly string[];
}
