/**
 * The opaque keyset cursor of query pages: base64url of the sort key of the
 * last row returned — `time_unix_nano`, `log_id` — and the sort order it
 * was made for (for order `stored`, the time is 0 and `log_id` a position:
 * stored-order.ts). A cursor that does not decode to exactly that, or that
 * was made for another order, is refused with `InvalidCursorError`.
 */
import { InvalidCursorError } from '../errors.js';

/** The sort orders of query pages. */
export type CursorOrder = 'newest' | 'oldest' | 'stored';

/** The sort key a cursor carries. */
export interface CursorKey {
  order: CursorOrder;
  time: bigint;
  logId: number;
}

const FORM = /^v1\.([nos])\.(\d{1,19})\.(\d{1,16})$/;
const BASE64URL = /^[A-Za-z0-9_-]{1,120}$/;

/** Encode the key of the last row of a page. */
export function encodeCursor(key: CursorKey): string {
  return Buffer.from(`v1.${key.order[0]}.${key.time}.${key.logId}`).toString('base64url');
}

/** Decode `cursor` for a query sorted `order`; throws InvalidCursorError. */
export function decodeCursor(cursor: unknown, order: CursorOrder): CursorKey {
  if (typeof cursor !== 'string') throw new TypeError(`query.cursor must be a string returned as nextCursor; got ${typeof cursor}`);
  if (!BASE64URL.test(cursor)) throw new InvalidCursorError('query.cursor is not a cursor returned by this store (not base64url of the expected length)');
  const m = FORM.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (m === null) throw new InvalidCursorError('query.cursor is not a cursor returned by this store');
  const made = m[1] === 'n' ? 'newest' : m[1] === 'o' ? 'oldest' : 'stored';
  if (made !== order) throw new InvalidCursorError(`query.cursor was made for order '${made}', not '${order}'; start again without a cursor`);
  const time = BigInt(m[2]!);
  const logId = Number(m[3]!);
  if (time > (1n << 63n) - 1n || !Number.isSafeInteger(logId)) throw new InvalidCursorError('query.cursor is out of range');
  return { order, time, logId };
}
