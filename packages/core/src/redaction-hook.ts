/**
 * The redaction hook that normalisation calls during its one walk over a
 * record (DESIGN §4.5, extended as docs/format.md "Redaction" describes):
 * name matching and replacement for `details`/`old`/`new`, and masking of
 * credentials written inside strings and member names. The processor
 * compiles one from its redaction options; core only calls it.
 */
import type { JsonValue } from './record.js';

/**
 * Redaction of `details`/`old`/`new` members by name, applied while the
 * value is copied (one walk instead of two). `replace` receives the member's
 * value already validated and normalised; `null` values are left as they are.
 *
 * @example
 * const mask: RedactionHook = { matchName: (n) => /password/i.test(n), replace: () => '[REDACTED]' };
 * normalizeEvent(input, { redact: mask }).redacted // ['/details/password']
 */
export interface RedactionHook {
  /** Whether the member called `name` is replaced. Called once per member name visited. */
  matchName(name: string): boolean;
  /** The replacement of a matched (normalised, non-null) value: a well-formed string such as `[REDACTED]`. */
  replace(value: JsonValue): string;
  /**
   * Optional: `value` (a string or a member name of `details`, `old` or
   * `new`; `error`; `actor.user_agent`, `target.name`, `request.endpoint`)
   * with the credentials inside it masked — a URL's userinfo, a secret-named
   * `name=value` or `name: value`, a Bearer token, a PEM private key — or
   * the same string when it holds none. Only strings that could hold one
   * (they contain `//`, `=`, `%`, `@`, a scheme or secret word such as
   * `bearer`, `token`, `key`, `auth`, or a known token prefix; any case)
   * are passed. A changed value is listed in `redacted` like a replaced one;
   * a renamed member under its new name (` (2)`, ` (3)`, ... appended when two
   * names of one object would collide). With `maskText` present, core also
   * masks credential forms (token prefixes, JWTs, PEM private keys) in
   * `actor.id` and `target.id` itself, without calling it.
   */
  maskText?(value: string): string;
}
