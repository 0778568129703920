import { describe, expect, it } from 'vitest';
import { SeqHeap } from '../../src/internal/seq-heap.js';

describe('SeqHeap', () => {
  it('gives back seqs smallest first, whatever the order they were pushed in', () => {
    const heap = new SeqHeap();
    expect(heap.peek()).toBeUndefined();
    expect(heap.pop()).toBeUndefined();
    // Deterministic pseudo-random pushes interleaved with pops, checked against a sorted array.
    const reference: number[] = [];
    let x = 12345;
    for (let i = 0; i < 5_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      if (x % 3 === 0 && reference.length > 0) {
        reference.sort((a, b) => a - b);
        expect(heap.pop()).toBe(reference.shift());
      } else {
        const seq = x % 100_000;
        heap.push(seq);
        reference.push(seq);
      }
      expect(heap.size).toBe(reference.length);
      expect(heap.peek()).toBe(reference.length === 0 ? undefined : Math.min(...reference));
    }
    const drained: number[] = [];
    while (heap.size > 0) drained.push(heap.pop()!);
    expect(drained).toEqual(reference.sort((a, b) => a - b));
  });
});
