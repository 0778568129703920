/**
 * Canonical standard base64 (RFC 4648 §4) decoding shared by the signed-note,
 * key and checkpoint parsers (DESIGN §4.3): a signed value has exactly one
 * accepted encoding, so it cannot be re-encoded into a different text that
 * still verifies.
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes canonical standard base64 (RFC 4648 §4, padded, zero trailing
 * bits), or returns `undefined`. One encoding per byte string, so a signed
 * value cannot be re-encoded into a different but equivalent text.
 *
 * @example
 * decodeBase64Canonical('AQ==') // <Buffer 01>; decodeBase64Canonical('AR==') // undefined
 */
export function decodeBase64Canonical(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}
