/**
 * Validation of otel-config.yaml against the published JSON Schema
 * (`schema/otel-config.schema.json`, DESIGN §7), with ajv's findings turned
 * into problems a person can act on: the YAML path, the bad value, and the
 * fix (the allowed keys or values, the nearest spelling, the key's meaning).
 * A value that may be a secret (internal/secret-paths.ts) is never shown:
 * the problem says what kind of value it is and what was expected.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { redactUrl } from '@otel-audit/core';
import { describeValue, type ConfigProblem } from '../errors.js';
import { HIDDEN, isSecretPath } from './secret-paths.js';

/**
 * Location of the schema file in the package.
 *
 * @example
 * JSON.parse(readFileSync(SCHEMA_URL, 'utf8'))
 */
export const SCHEMA_URL = new URL('../../schema/otel-config.schema.json', import.meta.url);

let validator: ValidateFunction | undefined;

/** The compiled schema (compiled once). */
function validate(): ValidateFunction {
  if (validator === undefined) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: false });
    validator = ajv.compile(JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as object);
  }
  return validator;
}

/**
 * `/receivers/http/rules/0/level` → `receivers.http.rules[0].level`.
 *
 * @example
 * yamlPath('/receivers/http/rules/0/level') // 'receivers.http.rules[0].level'
 */
export function yamlPath(pointer: string): string {
  if (pointer === '') return '(top level)';
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, t) => (/^\d+$/.test(t) ? `${acc}[${t}]` : acc === '' ? t : `${acc}.${t}`), '');
}

function pathParts(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((t) => (/^\d+$/.test(t) ? Number(t) : t.replace(/~1/g, '/').replace(/~0/g, '~')));
}

/** Length of the common prefix, case-insensitive: typos keep the start of a word ("algoritm", "exporterz"). */
function sharedPrefix(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  return i;
}

function allowedKeys(schema: Record<string, unknown> | undefined): string[] {
  const props = Object.keys((schema?.properties as object | undefined) ?? {});
  const patterns = Object.keys((schema?.patternProperties as object | undefined) ?? {}).map((p) => p.replace(/^\^/, '').replace(/\(\/.*$/, '').replace(/\$$/, '') + '[/name]');
  return [...props, ...patterns];
}

/** Edit distance (insert, delete, substitute, swap of neighbours) of two short lower-cased words. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => [i, ...new Array<number>(y.length).fill(0)]);
  for (let j = 1; j <= y.length; j++) d[0]![j] = j;
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[x.length]![y.length]!;
}

function unknownKeyFix(key: string, allowed: string[]): string {
  const word = key.split('/')[0]!;
  const near = allowed.map((k) => k.replace('[/name]', '')).map((k) => ({ k, n: sharedPrefix(word, k), d: word.length <= 64 ? distance(word, k) : Infinity }))
    .sort((x, y) => x.d - y.d || y.n - x.n)[0];
  const list = allowed.length > 0 ? `allowed here: ${allowed.join(', ')}` : 'no keys are allowed here';
  // A shared start (`exporter` → `exporters`) or a typo or two (`procesors` → `processors`).
  const likely = near !== undefined && ((near.n >= 4 && near.n >= Math.min(word.length, near.k.length) - 2) || (word.length >= 4 && near.d <= Math.max(1, Math.floor(word.length / 4))));
  return likely ? `did you mean "${near.k}"? (${list})` : `remove it (${list})`;
}

/** The expected type of a `type` error in words: `a whole number`, `a map`, ... */
function typeText(e: ErrorObject): string {
  return String((e.params as { type: string }).type).replace('integer', 'a whole number').replace(/^(string|number|boolean|object|array)/, (t) => (t === 'object' ? 'a map' : t === 'array' ? 'a list' : `a ${t}`));
}

/** The kind of a value, for a problem that must not show it. */
function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'a map' : `a ${typeof value}`;
}

function problemOf(e: ErrorObject, lineOf: (p: (string | number)[]) => number | undefined): ConfigProblem | undefined {
  const problem = plainProblemOf(e, lineOf);
  if (problem === undefined) return undefined;
  // The message shows a string through describeValue, masked; the value kept beside it is masked the same way.
  if (e.keyword === 'additionalProperties' || e.keyword === 'required' || !isSecretPath(problem.path)) return typeof problem.value === 'string' ? { ...problem, value: redactUrl(problem.value) } : problem;
  const what = `${kindOf(e.data)} (not shown: it may be a secret)`;
  const message =
    e.keyword === 'type' ? `must be ${typeText(e)}; got ${what}`
    : e.keyword === 'pattern' ? `is not in the expected form (${e.message ?? 'pattern'}); got ${what}`
    : `is not a valid value; got ${what}`;
  return { ...problem, value: HIDDEN, message };
}

function plainProblemOf(e: ErrorObject, lineOf: (p: (string | number)[]) => number | undefined): ConfigProblem | undefined {
  const parent = e.parentSchema as Record<string, unknown> | undefined;
  const description = typeof parent?.description === 'string' ? parent.description : undefined;
  const at = (pointer: string) => ({ path: yamlPath(pointer), ...(lineOf(pathParts(pointer)) !== undefined ? { line: lineOf(pathParts(pointer))! } : {}) });
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      return { ...at(`${e.instancePath}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`), value: key, message: `unknown key "${key}"`, fix: unknownKeyFix(key, allowedKeys(parent)) };
    }
    case 'required': {
      const key = String((e.params as { missingProperty: string }).missingProperty);
      const sub = (parent?.properties as Record<string, { description?: string }> | undefined)?.[key]?.description;
      return { ...at(e.instancePath), path: yamlPath(`${e.instancePath}/${key}`), value: undefined, message: `required key "${key}" is missing`, fix: `add ${key}${sub ? ` (${sub})` : ''}` };
    }
    case 'type': {
      const type = typeText(e);
      return { ...at(e.instancePath), value: e.data, message: `must be ${type}; got ${describeValue(e.data)}`, fix: `write ${type}${description ? ` (${description})` : ''}` };
    }
    case 'enum':
    case 'const': {
      const allowed = e.keyword === 'enum' ? (e.params as { allowedValues: unknown[] }).allowedValues : [(e.params as { allowedValue: unknown }).allowedValue];
      return { ...at(e.instancePath), value: e.data, message: `${describeValue(e.data)} is not allowed`, fix: `use one of: ${allowed.map((v) => JSON.stringify(v)).join(', ')}` };
    }
    case 'oneOf':
    case 'anyOf':
      return { ...at(e.instancePath), value: e.data, message: `${describeValue(e.data)} is not a valid value`, fix: description ?? 'see the schema for the allowed forms' };
    case 'if':
      return undefined;
    case 'pattern':
      // The schema's regular expression means little to a reader; its description says the form in words.
      if (description !== undefined) return { ...at(e.instancePath), value: e.data, message: `${describeValue(e.data)} is not in the expected form`, fix: description };
      return { ...at(e.instancePath), value: e.data, message: `${describeValue(e.data)} ${e.message ?? 'is invalid'}`, fix: 'see the schema' };
    default:
      return { ...at(e.instancePath), value: e.data, message: `${describeValue(e.data)} ${e.message ?? 'is invalid'}`, fix: description ?? 'see the schema' };
  }
}

/** A problem inside a map that is one of several forms: the fix also says what the forms are (`target: Target type, or { type, id_param, name }`). */
function unionContext(problem: ConfigProblem | undefined, union: ErrorObject | undefined): ConfigProblem | undefined {
  const description = (union?.parentSchema as { description?: unknown } | undefined)?.description;
  if (problem === undefined || union === undefined || typeof description !== 'string') return problem;
  const name = yamlPath(union.instancePath).replace(/^.*\./, '').replace(/\[\d+\]$/, '');
  return { ...problem, fix: `${problem.fix}; ${name} is: ${description.replace(/\.$/, '')}` };
}

/**
 * Check `doc` against the schema; returns the problems (empty when valid).
 *
 * @example
 * checkSchema({ service: { pipelines: {} }, exporterz: {} }, () => undefined) // [{ path: 'exporterz', message: 'unknown key "exporterz"', fix: 'did you mean "exporters"? ...' }]
 */
export function checkSchema(doc: unknown, lineOf: (path: (string | number)[]) => number | undefined): ConfigProblem[] {
  const v = validate();
  if (v(doc)) return [];
  const errors = v.errors ?? [];
  const isUnion = (e: ErrorObject) => e.keyword === 'oneOf' || e.keyword === 'anyOf';
  const under = (e: ErrorObject, u: ErrorObject) => e.instancePath === u.instancePath || e.instancePath.startsWith(`${u.instancePath}/`);
  // A oneOf/anyOf failure explains itself; the errors of its branches would only confuse —
  // except for a map given where a map is one of the forms: then its branch's findings (an
  // unknown key with the likely spelling, a missing key) are the explanation.
  const unions = errors.filter(isUnion);
  const mapBranchErrors = new Map<ErrorObject, ErrorObject[]>();
  for (const u of unions) {
    if (typeof u.data !== 'object' || u.data === null || Array.isArray(u.data)) continue;
    // The branches of other types fail on `type` at the union's own path; what else fails is the map branch's.
    const inner = errors.filter((e) => !isUnion(e) && e.keyword !== 'if' && under(e, u) && !(e.keyword === 'type' && e.instancePath === u.instancePath));
    if (inner.length > 0) mapBranchErrors.set(u, inner);
  }
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const inUnion = unions.filter((u) => under(e, u));
    if (!isUnion(e) && inUnion.length > 0 && !inUnion.every((u) => mapBranchErrors.get(u)?.includes(e))) continue;
    if (isUnion(e) && mapBranchErrors.has(e)) continue;
    // A union's own problem already says its forms; one found in its map branch is told them too.
    const innermost = isUnion(e) ? undefined : inUnion.reduce<ErrorObject | undefined>((a, u) => (a === undefined || u.instancePath.length > a.instancePath.length ? u : a), undefined);
    const p = unionContext(problemOf(e, lineOf), innermost);
    if (p === undefined) continue;
    const id = `${p.path}\u0000${p.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    problems.push(p);
  }
  return problems;
}
