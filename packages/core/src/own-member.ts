/**
 * Setting a member whose name comes from data (DESIGN §4.1: `details`,
 * `old`, `new` are free-form JSON). A JSON text may hold a `"__proto__"`
 * member; `JSON.parse` makes it an own data member, but assigning it
 * (`obj[key] = v`, `Object.assign`) sets the object's prototype instead —
 * the member vanishes and inherited values appear. Defining it keeps it as
 * data. Used by the normalisation walk, the instrumentation's merges of
 * app and client members, and the processor's attribute redaction.
 */

/**
 * Set `key` on `target` as an own, enumerable data member, whatever the name.
 *
 * @example
 * setOwnMember(details, key, value); // "__proto__" stays a member
 */
export function setOwnMember(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
