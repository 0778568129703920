/**
 * The validity window written after a verifier key (DESIGN §4.3,
 * "Keyring"; format §8): `not_before=TIME` and/or `not_after=TIME`, both
 * ends inclusive, TIME in Unix nanoseconds or an RFC 3339 date-time. Core's
 * `Keyring` fails a checkpoint whose `time` lies outside its key's window
 * (`key_out_of_window`), so a retired or leaked key stops counting. A bad
 * word is described, never echoed unless it can only be a time: the line
 * may hold a secret pasted by mistake.
 */
import type { KeyValidityWindow } from '@otel-audit/core';
import { CliError } from '../errors.js';

const MAX_NANOS = (1n << 63n) - 1n;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
/** Only these characters are ever echoed back: no key or seed can be written with them. */
const SHOWABLE = /^[0-9:.+\-TtZz]{1,40}$/;
const WORD = /^(not_before|not_after)=(.*)$/s;

/** The fix printed with every window error. */
export const WINDOW_FIX = 'write the window after the key as not_before=TIME and/or not_after=TIME (both inclusive), '
  + 'TIME in Unix nanoseconds or RFC 3339, e.g. "name+hash+base64 not_after=2026-01-01T00:00:00Z"';

function shown(value: string): string {
  return SHOWABLE.test(value) ? JSON.stringify(value) : '(a value that is not shown)';
}

function ordinal(n: number): string {
  return ['first', 'second', 'third'][n - 1] ?? `${n}th`;
}

/**
 * Unix nanoseconds of `value` (decimal nanoseconds, or an RFC 3339
 * date-time with seconds and an offset), or `undefined` when it is neither
 * or lies outside 1970..2262 (0..2^63-1).
 *
 * @example
 * parseWindowTime('2026-01-01T00:00:00Z') // 1767225600000000000n
 */
export function parseWindowTime(value: string): bigint | undefined {
  if (/^\d{1,19}$/.test(value)) {
    const ns = BigInt(value);
    return ns <= MAX_NANOS ? ns : undefined;
  }
  const m = RFC3339.exec(value);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const offsetMinutes = m[9] === undefined ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  if (mo < 1 || mo > 12 || d < 1 || d > new Date(Date.UTC(y, mo, 0)).getUTCDate() || h > 23 || mi > 59 || s > 59) return undefined;
  if (Number(m[10] ?? 0) > 23 || Number(m[11] ?? 0) > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  const ns = (BigInt(date.getTime()) - BigInt(offsetMinutes) * 60_000n) * 1_000_000n + BigInt((m[7] ?? '').padEnd(9, '0'));
  return ns >= 0n && ns <= MAX_NANOS ? ns : undefined;
}

/**
 * The window of the words after a key on one line (`where` names the line
 * in errors). Throws {@link CliError} (exit 2) for an unknown word, a
 * repeated bound, a bad time or a window that ends before it begins.
 *
 * @example
 * parseKeyWindow(['not_after=2026-01-01T00:00:00Z'], 'key file audit.vkey line 2') // { notAfter: 1767225600000000000n }
 */
export function parseKeyWindow(words: readonly string[], where: string): KeyValidityWindow {
  let notBefore: bigint | undefined;
  let notAfter: bigint | undefined;
  words.forEach((word, i) => {
    const m = WORD.exec(word);
    if (m === null) {
      const name = /^([a-z_]{1,20})=/.exec(word)?.[1];
      throw new CliError('AUDIT_CLI_KEY', `${where}: the ${ordinal(i + 1)} word after the key is ${name !== undefined ? `${name}=..., not a window bound` : 'not a window bound'} (only not_before= and not_after= may follow a key)`, WINDOW_FIX);
    }
    const [, bound, value] = m as unknown as [string, 'not_before' | 'not_after', string];
    if ((bound === 'not_before' ? notBefore : notAfter) !== undefined) {
      throw new CliError('AUDIT_CLI_KEY', `${where}: ${bound} is given twice`, 'give each bound once; to trust a key in two periods, write it on two lines, one window each');
    }
    const ns = parseWindowTime(value);
    if (ns === undefined) {
      throw new CliError('AUDIT_CLI_KEY', `${where}: ${bound}=${shown(value)} is not a time between 1970 and 2262 in Unix nanoseconds or RFC 3339 (with seconds and Z or an offset)`, WINDOW_FIX);
    }
    if (bound === 'not_before') notBefore = ns;
    else notAfter = ns;
  });
  if (notBefore !== undefined && notAfter !== undefined && notBefore > notAfter) {
    throw new CliError('AUDIT_CLI_KEY', `${where}: not_before (${notBefore}) is after not_after (${notAfter}), so the key would never count`, 'swap the two bounds, or correct the one that is wrong');
  }
  return { ...(notBefore !== undefined ? { notBefore } : {}), ...(notAfter !== undefined ? { notAfter } : {}) };
}
