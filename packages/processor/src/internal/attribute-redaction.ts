/**
 * Redaction of the attributes an audit LogRecord carries downstream (DESIGN
 * §4.5 applied to §4.6): attribute values are OpenTelemetry `AnyValue`s —
 * strings, numbers, bytes, arrays and nested maps — and a producer may put a
 * secret anywhere in them (`{ 'http.request.header': { authorization } }`,
 * `[{ password }]`, `db.url: postgres://app:pw@db/x`). A value under a
 * member name matching the redaction patterns is replaced whole, at any
 * depth, as a member of `details` is; every string, and every member name,
 * is passed through core's `redactSecrets`, so a credential written inside it
 * is masked as in the record's own strings (a masked name that collides gets
 * ` (2)`, ` (3)`, …). Containers are copied on write, never changed in
 * place, and a value with nothing to redact is returned as it is.
 */
import type { AnyValue } from '@opentelemetry/api-logs';
import { redactSecrets, setOwnMember } from '@otel-audit/core';
import { REDACTION_MASK } from '../redaction.js';
import type { Redactor } from './redactor.js';

/**
 * Maps and arrays nested deeper than this are replaced whole by the mask: a
 * value that cannot be inspected within the bound cannot be shown unredacted.
 */
export const MAX_ATTRIBUTE_DEPTH = 16;

/**
 * Redact every attribute of `attributes` in place, except those named in
 * `skip` (attributes the caller overwrites itself). Each changed attribute
 * gets a new value; unchanged ones keep theirs.
 */
export function redactAttributes(attributes: Record<string, AnyValue>, redactor: Redactor, skip?: ReadonlySet<string>): void {
  // for...in, not Object.keys: a producer's "__proto__" attribute can give the
  // map an inherited member, and an own masked member must then shadow it.
  for (const key of keysOf(attributes)) {
    if (skip !== undefined && skip.has(key)) continue;
    const value = attributes[key];
    if (value === null || value === undefined) continue;
    const redacted = redactor.matchName(key) ? redactor.replaceValue(value) : redactedValue(value, redactor, 0);
    // An inherited member cannot be renamed, only shadowed (its value is redacted all the same).
    const name = Object.hasOwn(attributes, key) ? redactSecrets(key) : key;
    if (name !== key) {
      delete attributes[key];
      setOwnMember(attributes, freeName(attributes, name), redacted);
    } else if (redacted !== value) setOwnMember(attributes, key, redacted);
  }
}

/** The names for...in shows (own and inherited: a producer's "__proto__" attribute can add some), taken before any is renamed. */
function keysOf(attributes: Record<string, AnyValue>): string[] {
  const keys: string[] = [];
  for (const key in attributes) keys.push(key);
  return keys;
}

/** `name`, or `name (2)`, `name (3)`, … when `target` has it already: two masked names stay two members. */
function freeName(target: Record<string, AnyValue>, name: string): string {
  if (!Object.hasOwn(target, name)) return name;
  let n = 2;
  while (Object.hasOwn(target, `${name} (${n})`)) n++;
  return `${name} (${n})`;
}

/**
 * `value` with every member whose name matches replaced and every string
 * masked; `value` itself (===) when nothing changed.
 */
export function redactedValue(value: AnyValue, redactor: Redactor, depth: number): AnyValue {
  // Costs 0.1–1.5 µs per string (short ASCII text, measured with the present
  // redactSecrets); only producer attributes reach here, not the convention
  // attributes the processor writes, so most records call it never or once.
  if (typeof value === 'string') return redactSecrets(value);
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return value;
  if (depth >= MAX_ATTRIBUTE_DEPTH) return REDACTION_MASK;
  if (Array.isArray(value)) {
    let copy: AnyValue[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i] as AnyValue;
      const redacted = redactedValue(item, redactor, depth + 1);
      if (redacted !== item) (copy ??= value.slice())[i] = redacted;
    }
    return copy ?? value;
  }
  const map = value as Record<string, AnyValue>;
  // A map whose prototype is not a plain object's inherits members an exporter
  // walking it with for...in would show: rebuild it from its own members.
  const proto: unknown = Object.getPrototypeOf(map);
  let copy = proto === Object.prototype || proto === null ? undefined : ownCopy(map);
  const keys = Object.keys(map);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const member = map[key];
    if (member === null || member === undefined) continue;
    const redacted = redactor.matchName(key) ? redactor.replaceValue(member) : redactedValue(member, redactor, depth + 1);
    // A name can hold a credential too (`{ "Bearer abc": 1 }`): masked like a string.
    const name = redactSecrets(key);
    if (name !== key) {
      copy ??= ownCopy(map);
      delete copy[key];
      setOwnMember(copy, freeName(copy, name), redacted);
    } else if (redacted !== member) setOwnMember((copy ??= ownCopy(map)), key, redacted);
  }
  return copy ?? map;
}

function ownCopy(map: Record<string, AnyValue>): Record<string, AnyValue> {
  const copy: Record<string, AnyValue> = {};
  for (const key of Object.keys(map)) setOwnMember(copy, key, map[key]);
  return copy;
}
