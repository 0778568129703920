/**
 * The table of hostile producer inputs (STYLE: one table, run against every
 * public parse/verify/query function). Each case is a value that a careless
 * or malicious producer could pass where a record, or a JSON value inside a
 * record, is expected; `pointer` is where the problem is when the case is
 * placed at `/details`.
 */
export interface HostileCase {
  name: string;
  /** Builds a fresh value (some cases are cyclic or stateful). */
  value: () => unknown;
  /** JSON Pointer of the problem when the value is put at /details. */
  pointer: string;
}

class Custom {
  x = 1;
}

export const HOSTILE_VALUES: readonly HostileCase[] = [
  { name: 'NaN', value: () => NaN, pointer: '/details' },
  { name: 'Infinity', value: () => ({ n: Infinity }), pointer: '/details/n' },
  { name: '-Infinity', value: () => [-Infinity], pointer: '/details/0' },
  { name: 'negative zero', value: () => ({ z: -0 }), pointer: '/details/z' },
  { name: 'BigInt beyond 2^53', value: () => ({ big: 2n ** 64n }), pointer: '/details/big' },
  { name: 'function', value: () => ({ f: () => 1 }), pointer: '/details/f' },
  { name: 'symbol value', value: () => ({ s: Symbol('x') }), pointer: '/details/s' },
  { name: 'undefined in array', value: () => [1, undefined], pointer: '/details/1' },
  // eslint-disable-next-line no-sparse-arrays
  { name: 'hole in array', value: () => [1, , 2], pointer: '/details/1' },
  {
    name: 'cycle',
    value: () => {
      const a: Record<string, unknown> = { k: 1 };
      a.self = { back: a };
      return a;
    },
    pointer: '/details/self/back',
  },
  { name: 'lone high surrogate', value: () => ({ s: 'a\ud800b' }), pointer: '/details/s' },
  { name: 'lone low surrogate in a key', value: () => ({ ['\udc00']: 1 }), pointer: '/details/\udc00' },
  { name: 'Map', value: () => ({ m: new Map([[1, 2]]) }), pointer: '/details/m' },
  { name: 'Set', value: () => ({ s: new Set([1]) }), pointer: '/details/s' },
  { name: 'class instance', value: () => ({ c: new Custom() }), pointer: '/details/c' },
  { name: 'Buffer', value: () => ({ b: Buffer.from('x') }), pointer: '/details/b' },
  { name: 'RegExp', value: () => ({ r: /x/ }), pointer: '/details/r' },
  { name: 'Error object', value: () => ({ e: new Error('boom') }), pointer: '/details/e' },
  { name: 'boxed string', value: () => ({ s: new String('x') }), pointer: '/details/s' },
  { name: 'invalid Date', value: () => ({ d: new Date(NaN) }), pointer: '/details/d' },
  {
    name: 'deep nesting',
    value: () => {
      let v: unknown = 1;
      for (let i = 0; i < 100; i++) v = [v];
      return v;
    },
    pointer: '/details' + '/0'.repeat(32),
  },
  { name: 'huge string', value: () => ({ s: 'x'.repeat(2 << 20) }), pointer: '/details/s' },
  { name: 'huge array', value: () => new Array(2 << 20).fill(0), pointer: '/details' },
];
