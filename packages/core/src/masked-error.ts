/**
 * An error from elsewhere (a sink, a transport, a database driver) as it
 * may be kept as the `cause` of an error the pipeline reports: error
 * handlers print every own property of what they are given — OpenTelemetry's
 * default global error handler writes them all to `diag.error`, `cause`
 * included — so a cause kept as it came would undo the masking of the
 * message that quotes it (a URL with credentials, an HTTP client's request
 * configuration with its headers). Never log secrets.
 */
import { redactSecrets } from './redact-url.js';

/** Codes such as ECONNREFUSED or SQLITE_BUSY are kept: they name the failure and hold no secret. */
const CODE = /^[A-Z][A-Z0-9_]{1,40}$/;

/**
 * A copy of `e` with its message and stack masked by {@link redactSecrets},
 * its `name`, and its `code` when that is an identifier; nothing else of it
 * (no headers, no request configuration, no nested cause).
 *
 * @example
 * onError(new Error(`sink failed: ${redactSecrets(String(e))}`, { cause: maskedError(e) }));
 */
export function maskedError(e: unknown): Error {
  const source = e instanceof Error ? e : undefined;
  const masked = new Error(redactSecrets(source !== undefined ? String(source.message) : String(e)));
  if (source === undefined) return masked;
  masked.name = typeof source.name === 'string' ? source.name : 'Error';
  if (typeof source.stack === 'string') masked.stack = redactSecrets(source.stack);
  const code = (source as { code?: unknown }).code;
  if (typeof code === 'string' && CODE.test(code)) (masked as Error & { code?: string }).code = code;
  return masked;
}
