/**
 * Vectors of `hmac` redaction (DESIGN §4.5; the bytes are fixed in
 * docs/format.md §2.2, "The hmac value"): a value replaced by
 * `hmac-sha256:<hex>` of HMAC-SHA256 keyed by the UTF-8 bytes of the key
 * text, over the UTF-8 bytes of the value when it is a string, else of its
 * RFC 8785 text — so an investigator can check a known value without
 * otel-audit. Computed here with node:crypto and an independent RFC 8785
 * implementation; test/vectors.test.ts checks each case against the
 * processor's redaction and `otel-audit hash-value`.
 */
import { createHmac } from 'node:crypto';
import canonicalizeModule from 'canonicalize';

const erdtman = canonicalizeModule as unknown as (value: unknown) => string | undefined;

/** The key of every case: public, labelled, never to be used for anything else. */
export const REDACTION_TEST_KEY = 'otel-audit test vectors: redaction key (public, never use it)';

/** One file of `redaction/`. */
export interface RedactionCase {
  description: string;
  /** The key text; its UTF-8 bytes are the HMAC key. */
  key: string;
  /** The value redacted (a member of details/old/new whose name matches). */
  value: unknown;
  /** What is HMAC'd: the string itself, or the RFC 8785 text of any other value. */
  message: string;
  messageUtf8Hex: string;
  /** What replaces the value in the record. */
  expected: string;
}

const VALUES: [name: string, description: string, value: unknown][] = [
  ['string-ascii', 'a string: its UTF-8 bytes as they are, without quotes', 'alice@example.com'],
  ['string-unicode', 'a string beyond ASCII: its UTF-8 bytes, not normalised', 'Zoe\u0308 \u{1F600}'],
  ['string-json-text', 'a string holding JSON text is still just its bytes (not parsed)', '{"a":1}'],
  ['string-empty', 'the empty string: the HMAC of no bytes', ''],
  ['number-integer', 'a number: its RFC 8785 text', 4821],
  ['number-fraction', 'a fraction: RFC 8785 number form', 0.1],
  ['number-large', 'a large number: RFC 8785 exponent form', 1e21],
  ['boolean', 'true: its RFC 8785 text', true],
  ['array', 'an array: its RFC 8785 text (nulls inside kept)', ['a', 1, null]],
  ['object', 'an object: its RFC 8785 text, members sorted by UTF-16 code units', { z: 1, a: { 'é': [true], b: 'x' }, '10': 0 }],
];

/** Every case, by file name. */
export function redactionCases(): [name: string, value: RedactionCase][] {
  return VALUES.map(([name, description, value]) => {
    const message = typeof value === 'string' ? value : erdtman(value);
    if (message === undefined) throw new Error(`generate-vectors: redaction value ${name} has no RFC 8785 text`);
    const bytes = Buffer.from(message, 'utf8');
    const expected = `hmac-sha256:${createHmac('sha256', Buffer.from(REDACTION_TEST_KEY, 'utf8')).update(bytes).digest('hex')}`;
    return [`hmac-${name}`, { description, key: REDACTION_TEST_KEY, value, message, messageUtf8Hex: bytes.toString('hex'), expected }];
  });
}
