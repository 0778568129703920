/**
 * Copying members whose names come from the application or the client
 * (`setAuditContext` details built from `req.body`, the values of a change,
 * framework route parameters) into the record being built (DESIGN §4.1:
 * `details`, `old`, `new` are free-form JSON). A JSON text may hold a
 * `"__proto__"` member; `JSON.parse` makes it an own data member, but
 * assigning it (`obj[key] = v`, `Object.assign`) would set the prototype of
 * the record's object instead — the member vanishes, inherited values appear,
 * and core refuses the object as not plain. Defining the member keeps it as
 * data, as core's normalisation does (core's `setOwnMember`).
 */
import { setOwnMember } from '@otel-audit/core';

/** `Object.assign(target, source)` for own enumerable string-named members, without the `__proto__` setter. */
export function assignOwnMembers(target: Record<string, unknown>, source: Readonly<Record<string, unknown>>): void {
  for (const key of Object.keys(source)) setOwnMember(target, key, source[key]);
}
