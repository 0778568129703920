/**
 * Where the start of a range deep in a stream is built from, in the words
 * of a refusal (`rangeStartCost`'s longest walk): seq 0, the end of an
 * archive, or a checkpoint whose compact range the store keeps.
 */

/** The walk back of {@link rangeStartText}. */
export interface RangeStartWalk {
  from: number;
  base: 'start' | 'archive' | 'checkpoint';
}

/**
 * @example
 * `… with ${rows} records before it back to ${rangeStartText(walk)}, …`
 */
export function rangeStartText(walk: RangeStartWalk): string {
  if (walk.base === 'checkpoint') return `the checkpoint at size ${walk.from} (whose compact range is stored)`;
  if (walk.base === 'archive') return `the end of an archive (seq ${walk.from - 1})`;
  return 'seq 0';
}
