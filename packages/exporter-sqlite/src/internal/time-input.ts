/**
 * Parsing of the time bounds users pass to query, stats, verify, export and
 * retention: a `Date`, a bigint of Unix nanoseconds, or an ISO-8601 string.
 * Anything else — an invalid date, a number (ambiguous unit), a string that
 * is not ISO-8601 — is refused with the argument's name first.
 */
import { describe } from './describe.js';

/** A point in time: `Date`, Unix nanoseconds as bigint, or ISO-8601 text. */
export type TimeInput = Date | bigint | string;

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const MAX_NS = (1n << 63n) - 1n;

/** Unix nanoseconds of `value`, or undefined when `value` is undefined. */
export function toNanos(value: TimeInput | undefined, name: string): bigint | undefined {
  if (value === undefined || value === null) return undefined;
  let ns: bigint;
  if (typeof value === 'bigint') {
    ns = value;
  } else if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new RangeError(`${name} is an invalid Date`);
    ns = BigInt(ms) * 1_000_000n;
  } else if (typeof value === 'string') {
    if (!ISO.test(value)) throw new RangeError(`${name} must be an ISO-8601 date-time such as 2026-01-31T12:00:00Z; got ${JSON.stringify(value.slice(0, 40))}`);
    const [y, mo, d] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
    if (mo < 1 || mo > 12 || d < 1 || d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) throw new RangeError(`${name} is not a valid date: ${JSON.stringify(value.slice(0, 40))}`);
    const frac = /\.(\d{1,9})/.exec(value)?.[1] ?? '';
    const ms = Date.parse(value.replace(/\.\d{1,9}/, ''));
    if (Number.isNaN(ms)) throw new RangeError(`${name} is not a valid date: ${JSON.stringify(value.slice(0, 40))}`);
    ns = BigInt(ms) * 1_000_000n + BigInt(frac.padEnd(9, '0') || '0');
  } else {
    throw new TypeError(`${name} must be a Date, a bigint of Unix nanoseconds or an ISO-8601 string; got ${typeof value}`);
  }
  if (ns < 0n || ns > MAX_NS) throw new RangeError(`${name} must lie between 1970 and 2262 (Unix nanoseconds 0..2^63-1)`);
  return ns;
}

/** Unix nanoseconds `days` days before `now`. */
export function daysAgo(days: number, name: string, now: bigint = BigInt(Date.now()) * 1_000_000n): bigint {
  if (typeof days !== 'number' || !Number.isFinite(days) || days < 0) throw new RangeError(`${name} must be a non-negative number of days; got ${describe(days)}`);
  return now - BigInt(Math.round(days * 86_400_000)) * 1_000_000n;
}
