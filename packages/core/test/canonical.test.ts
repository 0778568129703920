import fc from 'fast-check';
import canonicalizeModule from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalize, pointerOf } from '../src/canonical.js';
import { RecordValidationError } from '../src/errors.js';

// canonicalize is CommonJS (module.exports = fn) but its types declare an ES
// default export; under NodeNext the default import is the function itself.
const erdtman = canonicalizeModule as unknown as (value: unknown) => string | undefined;

function fromBits(hex: string): number {
  return Buffer.from(hex, 'hex').readDoubleBE(0);
}

describe('canonicalize (RFC 8785)', () => {
  it('reproduces the RFC 8785 §3.2.2 example', () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    );
    expect(canonicalize(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts members by UTF-16 code units (RFC 8785 §3.2.3 example)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    expect(canonicalize(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
        '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  // RFC 8785 Appendix B: IEEE 754 bit patterns and their JCS serialization.
  const numberVectors: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  it.each(numberVectors)('serializes the double 0x%s as %s', (bits, expected) => {
    expect(canonicalize(fromBits(bits))).toBe(expected);
  });

  it.each([
    ['7fffffffffffffff', 'NaN'],
    ['7ff0000000000000', 'Infinity'],
  ])('refuses the double 0x%s (%s)', (bits) => {
    expect(() => canonicalize(fromBits(bits))).toThrow(RecordValidationError);
  });

  it('escapes exactly as ECMAScript JSON.stringify', () => {
    expect(canonicalize('\u0000\u001f"\\\u007f\u2028é')).toBe('"\\u0000\\u001f\\"\\\\\u007f\u2028é"');
    expect(canonicalize('\b\f\n\r\t')).toBe('"\\b\\f\\n\\r\\t"');
    expect(canonicalBytes('é')).toEqual(Buffer.from([0x22, 0xc3, 0xa9, 0x22]));
  });

  it('refuses non-JSON values with the JSON Pointer of the culprit', () => {
    const cases: [unknown, string][] = [
      [{ a: [1, { 'b/c': undefined }] }, '/a/1/b~1c'],
      [{ a: 'x\ud800' }, '/a'],
      [{ a: 1n }, '/a'],
      [{ a: () => 1 }, '/a'],
      [{ a: Symbol('s') }, '/a'],
      [{ a: new Map() }, '/a'],
      [{ a: new Date(0) }, '/a'],
      // eslint-disable-next-line no-sparse-arrays
      [{ a: [1, , 3] }, '/a/1'],
      [{ a: { '~': Infinity } }, '/a/~0'],
    ];
    for (const [value, pointer] of cases) {
      let caught: unknown;
      try {
        canonicalize(value);
      } catch (e) {
        caught = e;
      }
      expect(caught, pointer).toBeInstanceOf(RecordValidationError);
      expect((caught as RecordValidationError).pointer).toBe(pointer);
      expect((caught as RecordValidationError).code).toBe('AUDIT_CANONICAL_INVALID');
    }
  });

  it('agrees with an independent implementation on generated JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalize(value)).toBe(erdtman(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees on generated values with full-unicode strings and member names', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 4 }), (value) => {
        expect(canonicalize(value)).toBe(erdtman(value));
      }),
      { numRuns: 1000 },
    );
  });

  it('builds pointers with RFC 6901 escaping', () => {
    expect(pointerOf(['a/b', '~x', 3])).toBe('/a~1b/~0x/3');
  });
});
