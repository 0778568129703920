/**
 * Durations of alert rules (`window`, `cooldown`; DESIGN §9) as written in
 * otel-config.yaml: a number followed by a unit — `250ms`, `30s`, `5m`,
 * `1h`, `1d` — or a sum of such terms (`1h30m`).
 */
import { AlertConfigError } from './errors.js';

const UNIT_MILLIS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const WHOLE = /^(?:\d{1,9}(?:ms|s|m|h|d))+$/;
const TERM = /(\d{1,9})(ms|s|m|h|d)/g;
const FIX = 'write a duration such as "30s", "5m", "1h" or "1h30m" (units ms, s, m, h, d)';

/** The longest window or cooldown accepted: 7 days. */
export const MAX_DURATION_MILLIS = 7 * 86_400_000;

/**
 * Parse a duration into milliseconds. `path` names the setting in errors.
 * Throws {@link AlertConfigError} for anything else (a bare number is
 * refused: its unit would be a guess).
 *
 * @example
 * parseDuration('5m') // 300000
 * parseDuration('1h30m', 'rules[0].cooldown') // 5400000
 */
export function parseDuration(value: unknown, path = 'duration'): number {
  if (typeof value !== 'string' || !WHOLE.test(value)) {
    throw new AlertConfigError(path, value, typeof value === 'number' ? 'a bare number has no unit' : 'not a duration', FIX);
  }
  let millis = 0;
  for (const m of value.matchAll(TERM)) millis += Number(m[1]) * UNIT_MILLIS[m[2]!]!;
  if (millis > MAX_DURATION_MILLIS) throw new AlertConfigError(path, value, 'longer than 7 days', 'use at most "7d"; longer windows would hold state for too long');
  return millis;
}
