/**
 * Generates `canonical/`: RFC 8785 (JCS) serialization vectors — the RFC's
 * published examples and Appendix B numbers, further valid cases, and inputs
 * that must be rejected — each cross-checked against an independent JCS
 * implementation (the `canonicalize` package).
 */
import canonicalizeModule from 'canonicalize';
import { canonicalize } from '@otel-audit/core';
import { check, put } from './output.js';

// An independent RFC 8785 implementation for differential checks. The package
// is CommonJS whose types declare an ES default export; the default import is
// its module.exports, the function itself.
const erdtman = canonicalizeModule as unknown as (value: unknown) => string | undefined;

// ---------------------------------------------------------------------------
// canonical/: RFC 8785

const hexOf = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

function canonicalCase(name: string, description: string, input: string, expected?: string): void {
  const value: unknown = JSON.parse(input);
  const actual = canonicalize(value);
  if (expected !== undefined) check(actual === expected, `canonical/${name}: library gives ${actual}, expected ${expected}`);
  // Differential check against an independent JCS implementation.
  check(erdtman(value) === actual, `canonical/${name}: canonicalize and the erdtman implementation disagree`);
  put('canonical', name, { description, input, valid: true, expected: actual, expectedUtf8Hex: hexOf(actual) });
}

function invalidCanonicalCase(name: string, description: string, input: string): void {
  let rejected = false;
  try {
    canonicalize(JSON.parse(input));
  } catch {
    rejected = true;
  }
  check(rejected, `canonical/${name}: expected canonicalize to reject ${input}`);
  put('canonical', name, { description, input, valid: false });
}

export function generateCanonical(): void {
  canonicalCase(
    'rfc8785-example-3.2.4',
    'RFC 8785 §3.2.4: the worked example (numbers, string escaping, literals, member order).',
    '{\n  "numbers": [333333333.33333329, 1E30, 4.50,\n              2e-3, 0.000000000000000000000000001],\n' +
      '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}',
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
  );
  canonicalCase(
    'rfc8785-sorting-3.2.3',
    'RFC 8785 §3.2.3: members sorted by UTF-16 code units — U+1F600 (surrogates D83D DE00) sorts before U+FB33, unlike code point or UTF-8 order.',
    '{\n  "\\u20ac": "Euro Sign",\n  "\\r": "Carriage Return",\n  "\\ufb33": "Hebrew Letter Dalet With Dagesh",\n  "1": "One",\n' +
      '  "\\ud83d\\ude00": "Emoji: Grinning Face",\n  "\\u0080": "Control",\n  "\\u00f6": "Latin Small Letter O With Diaeresis"\n}',
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign",' +
      '"😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
  );

  // RFC 8785 Appendix B: IEEE 754 doubles and their serialization (NaN and
  // Infinity, the two rows without one, are not JSON numbers).
  const appendixB: [bits: string, expected: string, what: string][] = [
    ['0000000000000000', '0', 'zero'],
    ['8000000000000000', '0', 'minus zero'],
    ['0000000000000001', '5e-324', 'smallest positive (subnormal) number'],
    ['8000000000000001', '-5e-324', 'smallest negative (subnormal) number'],
    ['7fefffffffffffff', '1.7976931348623157e+308', 'largest positive number'],
    ['ffefffffffffffff', '-1.7976931348623157e+308', 'largest negative number'],
    ['4340000000000000', '9007199254740992', '2^53'],
    ['c340000000000000', '-9007199254740992', '-2^53'],
    ['4430000000000000', '295147905179352830000', '~2^68: integer digits, no exponent below 1e21'],
    ['44b52d02c7e14af5', '9.999999999999997e+22', 'just below 1e23'],
    ['44b52d02c7e14af6', '1e+23', '1e23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23', 'just above 1e23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000', 'below 1e21: integer digits'],
    ['444b1ae4d6e2ef4f', '999999999999999900000', 'largest double below 1e21'],
    ['444b1ae4d6e2ef50', '1e+21', '1e21: the first exponent form'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7', 'below 1e-6: exponent form'],
    ['3eb0c6f7a0b5ed8d', '0.000001', '1e-6: the last fixed form'],
    ['41b3de4355555553', '333333333.3333332', 'shortest round-trip digits'],
    ['41b3de4355555554', '333333333.33333325', 'shortest round-trip digits'],
    ['41b3de4355555555', '333333333.3333333', 'shortest round-trip digits'],
    ['41b3de4355555556', '333333333.3333334', 'shortest round-trip digits'],
    ['41b3de4355555557', '333333333.33333343', 'shortest round-trip digits'],
    ['becbf647612f3696', '-0.0000033333333333333333', 'negative fixed form with leading zeros'],
    ['43143ff3c1cb0959', '1424953923781206.2', 'fraction digit of a large number'],
  ];
  for (const [bits, expected, what] of appendixB) {
    const x = Buffer.from(bits, 'hex').readDoubleBE(0);
    // 17 significant digits identify any double; -0 needs its sign written out.
    const input = Object.is(x, -0) ? '-0.0' : x.toExponential(16);
    check(Object.is(JSON.parse(input), x), `number ${bits}: ${input} does not parse back to the same double`);
    canonicalCase(
      `number-ieee-${bits}`,
      `RFC 8785 Appendix B: the double 0x${bits} (${what}), given as ${Object.is(x, -0) ? '-0.0' : 'exponent form with 17 significant digits'}.`,
      input,
      expected,
    );
  }

  canonicalCase('number-integers', 'Integers in the safe range are written without fraction or exponent.',
    '[0, 1, -1, 42, 1000000, 9007199254740991, -9007199254740991]', '[0,1,-1,42,1000000,9007199254740991,-9007199254740991]');
  canonicalCase('number-trailing-zeros-and-exponents', 'Fractions lose trailing zeros; exponent forms become the shortest ECMAScript form.',
    '[4.50, 1.0, 100.000, 1E2, 2e-3, 12.5e1, 0.10, 1E+2]', '[4.5,1,100,100,0.002,125,0.1,100]');
  canonicalCase('number-exponent-boundaries', 'Fixed notation for 1e-6 <= |x| < 1e21, exponent notation (with sign) outside.',
    '[1e20, 1e21, 1.5e21, 1e-6, 1e-7, 1.5e-7, 123e-20, -1e21, -1e-7]',
    '[100000000000000000000,1e+21,1.5e+21,0.000001,1e-7,1.5e-7,1.23e-18,-1e+21,-1e-7]');
  canonicalCase('number-negative-zero', 'Minus zero serializes as 0.', '[-0, -0.0, -0e10]', '[0,0,0]');
  canonicalCase('number-precision', 'Doubles are written with the fewest digits that round-trip.',
    '[0.1, 0.2, 0.30000000000000004, 3.141592653589793, 2.718281828459045e-10, 1.7976931348623157e308]',
    '[0.1,0.2,0.30000000000000004,3.141592653589793,2.718281828459045e-10,1.7976931348623157e+308]');
  canonicalCase('literals', 'true, false and null are written as is.', '[ true , false , null ]', '[true,false,null]');
  canonicalCase('whitespace-removed', 'Insignificant white space between tokens is removed.',
    ' \n\t{ "b" :\r\n [ 1 , 2 ] ,\t"a" : { } } \n', '{"a":{},"b":[1,2]}');
  canonicalCase('empty-containers', 'Empty object, array and string members.', '{"o":{},"a":[],"s":"","n":[[],{}]}', '{"a":[],"n":[[],{}],"o":{},"s":""}');
  canonicalCase('nested-sorting', 'Members are sorted at every depth; array order is kept.',
    '{"z":{"b":1,"a":[{"y":2,"x":1},{"d":null,"c":true}]},"a":{"k":{"j":{"i":"deep"}}}}',
    '{"a":{"k":{"j":{"i":"deep"}}},"z":{"a":[{"x":1,"y":2},{"c":true,"d":null}],"b":1}}');
  canonicalCase('key-ordering-ascii', 'Sorting is by code unit, not locale: upper case first, prefixes first, the empty name first, digits as characters.',
    '{"b":1,"a":2,"B":3,"aa":4,"":5,"A":6,"a0":7,"10":8,"9":9,"_":10,"~":11}',
    '{"":5,"10":8,"9":9,"A":6,"B":3,"_":10,"a":2,"a0":7,"aa":4,"b":1,"~":11}');
  canonicalCase('key-ordering-utf16', 'Names outside the BMP (surrogate pairs D800–DFFF) sort before U+E000–U+FFFF, unlike code point order.',
    '{"\\uffff":1,"\\ud800\\udc00":2,"\\ue000":3,"\\ud83d\\ude00":4,"\\u00e9":5,"e":6,"\\u0080":7,"\\ud7ff":8}',
    '{"e":6,"\u0080":7,"é":5,"\ud7ff":8,"\ud800\udc00":2,"😀":4,"\ue000":3,"\uffff":1}');
  canonicalCase('string-control-characters', 'U+0000–U+001F: \\b \\t \\n \\f \\r as two-character escapes, the rest as \\u00xx in lower-case hex.',
    JSON.stringify(Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('')),
    '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f' +
      '\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f"');
  canonicalCase('string-escapes', 'Only " and \\ are escaped besides controls; "/" is not; DEL, U+2028 and U+2029 are written raw.',
    '"quote\\" backslash\\\\ slash\\/ del\\u007f ls\\u2028 ps\\u2029 tab\\t"', '"quote\\" backslash\\\\ slash/ del\u007f ls\u2028 ps\u2029 tab\\t"');
  canonicalCase('string-non-ascii', 'Non-ASCII characters are written as raw UTF-8, whether escaped or raw in the input (2-, 3- and 4-byte sequences).',
    '["\\u00e9t\\u00e9", "été", "\\u20ac", "€", "\\ud83d\\ude00", "😀", "\\u4e2d\\u6587", "\\ufeff"]',
    '["été","été","€","€","😀","😀","中文","\ufeff"]');
  canonicalCase('top-level-string', 'A JSON text may be a lone string.', '"caf\\u00e9"', '"café"');
  canonicalCase('top-level-number', 'A JSON text may be a lone number.', '1E3', '1000');
  canonicalCase('top-level-null', 'A JSON text may be a lone literal.', ' null ', 'null');
  canonicalCase('audit-record-shape', 'An object shaped like an audit record: fixed member order, nested details keep their nulls.',
    '{"v":1,"type":"auth","time":"1731000000000000000","action":"login","outcome":"failure","severity":"warning",' +
      '"actor":{"type":"user","id":"alice","ip":"203.0.113.7"},"details":{"reason":"bad password","attempt":3,"mfa":null}}',
    '{"action":"login","actor":{"id":"alice","ip":"203.0.113.7","type":"user"},"details":{"attempt":3,"mfa":null,"reason":"bad password"},' +
      '"outcome":"failure","severity":"warning","time":"1731000000000000000","type":"auth","v":1}');

  invalidCanonicalCase('invalid-lone-high-surrogate', 'A lone high surrogate has no UTF-8 encoding: rejected.', '"\\ud800"');
  invalidCanonicalCase('invalid-lone-low-surrogate', 'A lone low surrogate has no UTF-8 encoding: rejected.', '"\\udc00"');
  invalidCanonicalCase('invalid-high-surrogate-at-end', 'A high surrogate at the end of a string, not followed by a low one: rejected.', '"abc\\ud83d"');
  invalidCanonicalCase('invalid-reversed-surrogate-pair', 'Low surrogate before high surrogate is two lone surrogates: rejected.', '"\\ude00\\ud83d"');
  invalidCanonicalCase('invalid-lone-surrogate-in-member-name', 'A lone surrogate in a member name: rejected.', '{"ok":1,"\\udead":2}');
  invalidCanonicalCase('invalid-lone-surrogate-nested', 'A lone surrogate deep inside arrays and objects: rejected.', '{"a":[1,{"b":["x\\udfffy"]}]}');
  invalidCanonicalCase('invalid-number-overflow', 'A number beyond the double range (I-JSON): rejected when parsed or when serialized.', '[1e400]');
}
