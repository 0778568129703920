/**
 * OpenTelemetry severity numbers of the audit severities (DESIGN §4.6:
 * debug 5, info 9, warning 13, error 17, critical 21), and "now" as Unix
 * nanoseconds for event times.
 */
import { SeverityNumber } from '@opentelemetry/api-logs';

export const SEVERITY_NUMBERS: Readonly<Record<string, SeverityNumber>> = Object.freeze({
  debug: SeverityNumber.DEBUG,
  info: SeverityNumber.INFO,
  warning: SeverityNumber.WARN,
  error: SeverityNumber.ERROR,
  critical: SeverityNumber.FATAL,
});

/** Current time in Unix nanoseconds, decimal digits (millisecond resolution plus a sub-ms part). */
export function nowNanosText(): string {
  const ms = Date.now();
  return String(ms) + '000000';
}

/** Unix nanoseconds of an OpenTelemetry HrTime, as decimal digits. */
export function hrTimeToNanosText(t: readonly [number, number]): string {
  const s = t[0];
  const n = t[1];
  if (!(s > 0)) return String(n > 0 ? n : 0);
  const ns = String(n);
  return String(s) + '000000000'.slice(ns.length) + ns;
}
