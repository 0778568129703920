/**
 * How a bad argument is shown in an error message: strings quoted and cut
 * to 40 characters, other values by type — never throwing (BigInt, symbols,
 * cycles) and never echoing a large or sensitive value in full.
 */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'undefined') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
