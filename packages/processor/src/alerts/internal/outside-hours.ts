/**
 * The `outside_hours` condition of alert rules (DESIGN §9, the
 * `off_hours_admin` built-in): working hours as `HH:MM` from/to, a fixed UTC
 * offset or an IANA time zone (daylight saving time included), working
 * days; a record time outside them matches.
 */
import { AlertConfigError } from '../errors.js';
import type { Predicate } from '../record-matcher.js';

/** Admin hours; a time outside them matches `outside_hours`. */
export interface OutsideHoursConfig {
  /** Start of working hours, `HH:MM` (inclusive). */
  from: string;
  /** End of working hours, `HH:MM` (exclusive); before `from` for a night shift. */
  to: string;
  /** Fixed offset of the local time from UTC, `+HH:MM` or `-HH:MM`; default `+00:00`. No DST: prefer `time_zone`. */
  utc_offset?: string;
  /** IANA time zone of the working hours (e.g. `Europe/Berlin`), daylight saving time included. Not with `utc_offset`. */
  time_zone?: string;
  /** Working days, 0 = Sunday … 6 = Saturday; default every day. Other days are wholly outside. */
  days?: readonly number[];
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const OFFSET = /^([+-])([01]\d|2[0-3]):([0-5]\d)$/;
const NANOS = /^\d{1,20}$/;
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function minutesOf(text: unknown, path: string, fix: string): number {
  const m = typeof text === 'string' ? HHMM.exec(text) : null;
  if (m === null) throw new AlertConfigError(path, text, 'not a time of day', fix);
  return Number(m[1]) * 60 + Number(m[2]);
}

const WEEKDAYS: Readonly<Record<string, number>> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/**
 * Local minute of the day and weekday in an IANA zone (Intl, so DST
 * follows the zone's rules), for a time in whole UTC minutes. The last
 * answer is cached: records arrive in time order, many in the same minute.
 */
function localTimeIn(zone: unknown, path: string): (utcMinutes: number) => { minute: number; weekday: number } {
  let format: Intl.DateTimeFormat;
  try {
    if (typeof zone !== 'string' || zone === '') throw new RangeError('not a string');
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', weekday: 'short', hour: '2-digit', minute: '2-digit' });
  } catch {
    throw new AlertConfigError(path, zone, 'not a known time zone', 'write an IANA zone name, e.g. "Europe/Berlin" or "America/New_York"');
  }
  let lastKey = NaN;
  let last = { minute: 0, weekday: 0 };
  return (utcMinutes) => {
    if (utcMinutes === lastKey) return last;
    let hour = 0;
    let minute = 0;
    let weekday = 0;
    for (const part of format.formatToParts(utcMinutes * 60_000)) {
      if (part.type === 'hour') hour = Number(part.value);
      else if (part.type === 'minute') minute = Number(part.value);
      else if (part.type === 'weekday') weekday = WEEKDAYS[part.value] ?? 0;
    }
    lastKey = utcMinutes;
    last = { minute: hour * 60 + minute, weekday };
    return last;
  };
}

/**
 * Check an `outside_hours` setting and compile its predicate on a
 * Unix-nanosecond time text. `path` names the setting in errors.
 *
 * @example
 * const off = compileOutsideHours({ from: '08:00', to: '18:00', days: [1, 2, 3, 4, 5] }, 'match.time.outside_hours');
 * off('1750000000000000000', record) // true: a Sunday
 */
export function compileOutsideHours(config: unknown, path: string): Predicate {
  if (!isPlainObject(config)) throw new AlertConfigError(path, config, 'not a map', 'write { from: "08:00", to: "18:00", utc_offset: "+01:00", days: [1, 2, 3, 4, 5] }');
  for (const key of Object.keys(config)) {
    if (!['from', 'to', 'utc_offset', 'time_zone', 'days'].includes(key)) throw new AlertConfigError(`${path}.${key}`, config[key], 'unknown key', 'use from, to, utc_offset or time_zone, days');
  }
  if (config.utc_offset !== undefined && config.time_zone !== undefined) {
    throw new AlertConfigError(`${path}.time_zone`, config.time_zone, 'given together with utc_offset', 'keep time_zone (it follows daylight saving time) and remove utc_offset');
  }
  const zoned = config.time_zone !== undefined ? localTimeIn(config.time_zone, `${path}.time_zone`) : undefined;
  const from = minutesOf(config.from, `${path}.from`, 'write the start of working hours as "HH:MM", e.g. "08:00"');
  const to = minutesOf(config.to, `${path}.to`, 'write the end of working hours as "HH:MM", e.g. "18:00"');
  let offset = 0;
  if (config.utc_offset !== undefined) {
    const m = typeof config.utc_offset === 'string' ? OFFSET.exec(config.utc_offset) : null;
    if (m === null) throw new AlertConfigError(`${path}.utc_offset`, config.utc_offset, 'not a UTC offset', 'write "+HH:MM" or "-HH:MM", e.g. "+01:00"');
    offset = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  }
  let workdays = 0x7f;
  if (config.days !== undefined) {
    const days = config.days;
    if (!Array.isArray(days) || days.length === 0 || !days.every((d) => Number.isInteger(d) && d >= 0 && d <= 6)) {
      throw new AlertConfigError(`${path}.days`, days, 'not a list of weekdays', 'write numbers 0 (Sunday) to 6 (Saturday), e.g. [1, 2, 3, 4, 5]');
    }
    workdays = days.reduce((mask: number, d: number) => mask | (1 << d), 0);
  }
  const wraps = from > to;
  return (value) => {
    if (typeof value !== 'string' || !NANOS.test(value)) return false;
    const utcMinutes = Math.floor(Number(value.length > 6 ? value.slice(0, -6) : '0') / 60_000);
    let minute: number;
    let weekday: number;
    if (zoned !== undefined) {
      const local = zoned(utcMinutes);
      minute = local.minute;
      weekday = local.weekday;
    } else {
      const localMinutes = utcMinutes + offset;
      const day = Math.floor(localMinutes / 1440);
      minute = localMinutes - day * 1440;
      weekday = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
    }
    if ((workdays & (1 << weekday)) === 0) return true;
    const inside = wraps ? minute >= from || minute < to : minute >= from && minute < to;
    return !inside;
  };
}
