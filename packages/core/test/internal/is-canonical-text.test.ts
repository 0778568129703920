import { describe, expect, it } from 'vitest';
import { AuditChain } from '../../src/audit-chain.js';
import { canonicalize } from '../../src/canonical.js';
import { isCanonicalText } from '../../src/internal/is-canonical-text.js';
import { createRecordId } from '../../src/record-id.js';

/** canonicalize(JSON.parse(text)) === text, or false when it cannot be canonicalized. */
function canonical(text: string): boolean {
  try {
    return canonicalize(JSON.parse(text)) === text;
  } catch {
    return false;
  }
}

const deep = (n: number): string => `{"a":${'['.repeat(n)}${']'.repeat(n)}}`;

// [text, is it canonical]
const CASES: [string, boolean][] = [
  ['{"a":1,"b":[2,{"c":null,"d":true}]}', true],
  ['{"b":1,"a":2}', false],
  ['{"a":1,"a":2}', false],
  ['{"a":2,"a":2}', false],
  ['{ "a":1}', false],
  ['{"a":1}\n', false],
  ['{"a":5.0}', false],
  ['{"a":1E3}', false],
  ['{"a":1000}', true],
  ['{"a":1e+21}', true],
  ['{"a":1e21}', false],
  ['{"a":12345678901234567890}', false],
  ['{"a":1e400}', false],
  ['{"a":-0}', false],
  ['{"a":"\\u0075"}', false],
  ['{"a":"\\u001F"}', false],
  ['{"a":"\\u001f"}', true],
  ['{"a":"\\/"}', false],
  ['{"a":"é"}', true],
  ['{"a":"\\u00e9"}', false],
  ['{"a":"\u2028"}', true],
  ['{"a":"\\u2028"}', false],
  ['{"a":"\\ud800"}', false],
  ['{"a":"\\ud83d\\ude00"}', false],
  ['{"a":"😀"}', true],
  ['{"a":"C:\\\\udata"}', true],
  ['{"10":1,"9":2}', true],
  ['{"9":2,"10":1}', false],
  ['{"__proto__":1,"a":2}', true],
  ['{"😀":1,"\uE000":2}', true],
  ['{"\uE000":2,"😀":1}', false],
  [deep(998), true],
  [deep(1200), false],
];

describe('isCanonicalText', () => {
  it('is true only for the canonical text of the value it parses to', () => {
    for (const [text, expected] of CASES) {
      expect(canonical(text), text).toBe(expected);
      const verdict = isCanonicalText(text, JSON.parse(text));
      // Never true for non-canonical text; false for canonical text only where the exact path must decide.
      if (verdict) expect(expected, text).toBe(true);
      else if (expected) expect(['{"a":"C:\\\\udata"}', '{"10":1,"9":2}'], text).toContain(text);
    }
  });

  it('is true for records as a producer writes them', () => {
    const chain = new AuditChain({ stream: 's/1' });
    for (let i = 0; i < 50; i++) {
      const r = chain.append({
        id: createRecordId(), time: String(1_700_000_000_000_000_000n + BigInt(i)), type: 'crud', action: 'update', outcome: 'success',
        actor: { id: `u-${i}`, ip: '198.51.100.7' }, details: { i, ratio: i / 7, note: 'Müller\t"quoted"', list: [1, 'x', null, { z: 1, a: 2 }] },
      });
      expect(isCanonicalText(r.canonical, JSON.parse(r.canonical)), r.canonical).toBe(true);
    }
  });
});
