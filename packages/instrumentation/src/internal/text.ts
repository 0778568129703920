/**
 * Bounded, well-formed text from untrusted request data (headers, paths,
 * parameters): control characters become U+FFFD, lone surrogates too, and
 * the result is capped — so a hostile header can neither make core reject the
 * record nor blow up its size.
 */
// Test first, replace only when needed: a clean 100-character user agent costs 0.12 µs instead
// of 0.15 µs (measured with a 1e6-call loop; exercised by bench/http-overhead).
// eslint-disable-next-line no-control-regex
const SUSPECT = /[\u0000-\u001f\u007f\ud800-\udfff]/;
// eslint-disable-next-line no-control-regex
const BAD = /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `value` cleaned and capped at `max` UTF-16 units (an ellipsis marks a cut); `undefined` for a non-string or empty one. */
export function cleanText(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  const s = value.length > max ? value.slice(0, max - 1) + '…' : value;
  return SUSPECT.test(s) ? s.replace(BAD, '\ufffd') : s;
}

/** The first value of a header (Node gives arrays for repeated ones). */
export function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
