/** The difference computed by audit.change(). */
import { describe, expect, it } from 'vitest';
import { diffChange, jsonEqual } from '../../src/internal/change-diff.js';

describe('diffChange', () => {
  it('create / delete from the missing side', () => {
    expect(diffChange(undefined, { a: 1 })).toEqual({ action: 'create', changed: undefined, old: undefined, new: { a: 1 } });
    expect(diffChange({ a: 1 }, null)).toEqual({ action: 'delete', changed: undefined, old: { a: 1 }, new: undefined });
    expect(() => diffChange(undefined, null)).toThrow(RangeError);
  });
  it('update keeps only the changed members, compared deeply', () => {
    expect(diffChange({ a: 1, b: { c: [1, 2] }, gone: true }, { a: 1, b: { c: [1, 3] }, added: 'x' })).toEqual({
      action: 'update', changed: ['added', 'b', 'gone'], old: { b: { c: [1, 2] }, gone: true }, new: { b: { c: [1, 3] }, added: 'x' },
    });
    expect(diffChange({ a: 1 }, { a: 1 })).toEqual({ action: 'update', changed: [], old: {}, new: {} });
    expect(diffChange('v1', 'v2')).toEqual({ action: 'update', changed: undefined, old: 'v1', new: 'v2' });
  });
  it('a "__proto__" member (JSON.parse makes it own) is compared and kept as a member, never as a prototype', () => {
    const before = { name: 'saw' };
    const after = JSON.parse('{"name":"saw","__proto__":{"owner":"eve"}}') as Record<string, unknown>;
    const d = diffChange(before, after);
    expect(d.changed).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(d.new)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(d.new, '__proto__')?.value).toEqual({ owner: 'eve' });
    expect(Object.keys(d.old as object)).toEqual([]);
    // Removed the other way: the old side keeps it, and the missing side is not the prototype.
    const back = diffChange(after, before);
    expect(Object.getOwnPropertyDescriptor(back.old, '__proto__')?.value).toEqual({ owner: 'eve' });
    expect(Object.keys(back.new as object)).toEqual([]);
  });
  it('jsonEqual', () => {
    expect(jsonEqual(new Date(5), new Date(5))).toBe(true);
    expect(jsonEqual({ a: undefined }, {})).toBe(true);
    expect(jsonEqual([1], { 0: 1 })).toBe(false);
  });
});
