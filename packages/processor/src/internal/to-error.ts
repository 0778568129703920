/** `e` as an Error: what was thrown or rejected need not be one. */
export function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
