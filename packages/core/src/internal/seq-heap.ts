/**
 * A binary min-heap of record seqs: the verifier's reorder buffer
 * (internal/verifier-record-order.ts, docs/format.md §9.3) keeps the seqs it
 * holds in one, so that giving up on a gap finds the smallest held seq in
 * O(log window) instead of scanning every held record — which made sparse
 * input (every other seq missing) cost O(records × window).
 */

/**
 * Min-heap of integers in a plain array (children of i at 2i+1 and 2i+2).
 *
 * @example
 * const heap = new SeqHeap();
 * heap.push(7); heap.push(3);
 * heap.peek(); // 3
 * heap.pop();  // 3
 */
export class SeqHeap {
  readonly #items: number[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** The smallest seq, or undefined when empty. */
  peek(): number | undefined {
    return this.#items[0];
  }

  push(seq: number): void {
    const items = this.#items;
    let i = items.length;
    items.push(seq);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= seq) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = seq;
  }

  /** Removes and returns the smallest seq, or undefined when empty. */
  pop(): number | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    const n = items.length;
    if (n === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && items[right]! < items[left]! ? right : left;
      if (items[child]! >= last) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}
