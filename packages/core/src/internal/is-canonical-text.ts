/**
 * A cheap, exact-when-true test of whether record text given to the
 * verifier is its own RFC 8785 canonical form (DESIGN §4.2, §4.6;
 * docs/format.md §9.2 step 6), for the verifier's optimistic path, which
 * otherwise never canonicalizes: the text a record is carried as must be
 * the exact bytes that were hashed.
 */

/** Nesting beyond canonicalize's limit is left to the exact path, which refuses it. */
const MAX_CANONICAL_DEPTH = 1000;

/**
 * True only when `text` is exactly `canonicalize(value)`, where `value` is
 * `JSON.parse(text)`; false means "not shown", and the caller decides by
 * canonicalizing. JSON.stringify of a parsed value differs from RFC 8785
 * only in member order (insertion order, array-index-like names first) and
 * in writing lone surrogates as `\udxxx` where canonicalize refuses them.
 * So: the text is its own JSON.stringify (no white space, duplicate name,
 * escape or number form other than the canonical one), every object's
 * members are in UTF-16 code unit order, and no `\ud` escape occurs (a
 * literal backslash before "ud" in a string also makes it false). ~1.6x
 * faster than canonicalizing (117k vs 71k records/s for the bench fixtures'
 * events, text check alone); `npm run bench -- core-verify-text` measures
 * the verifier's whole text path against JSON.parse + SHA-256 per record.
 *
 * @example
 * isCanonicalText('{"a":1,"b":[2]}', { a: 1, b: [2] }) // true
 * isCanonicalText('{"b":1,"a":2}', { b: 1, a: 2 })     // false
 */
export function isCanonicalText(text: string, value: unknown): boolean {
  // membersSorted first: it bounds the depth before JSON.stringify recurses.
  return !text.includes('\\ud') && membersSorted(value, 0) && JSON.stringify(value) === text;
}

function membersSorted(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (depth >= MAX_CANONICAL_DEPTH) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (!membersSorted(item, depth + 1)) return false;
    return true;
  }
  let previous: string | undefined;
  for (const key of Object.keys(value)) {
    if (previous !== undefined && !(previous < key)) return false;
    previous = key;
    if (!membersSorted((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}
