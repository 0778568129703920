/**
 * The published JSON Schema of otel-config.yaml (`@otel-audit/node/schema.json`,
 * DESIGN §7): exported by the package, a valid draft-07 schema, every key
 * described (what editors show while completing), and in agreement with the
 * repository's own otel-config.yaml.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const PKG = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; files: string[] };
const schema = JSON.parse(readFileSync(join(PKG, 'schema', 'otel-config.schema.json'), 'utf8')) as Record<string, unknown>;

type Node = Record<string, unknown>;

function undescribed(node: Node, path: string, defs: Record<string, Node>, out: string[], seen = new Set<string>()): string[] {
  const props = (node.properties ?? {}) as Record<string, Node>;
  const patterns = (node.patternProperties ?? {}) as Record<string, Node>;
  for (const [key, child] of [...Object.entries(props), ...Object.entries(patterns)]) {
    const ref = typeof child.$ref === 'string' ? child.$ref.replace('#/definitions/', '') : undefined;
    const target = ref !== undefined ? defs[ref]! : child;
    if (typeof child.description !== 'string' && typeof target.description !== 'string') out.push(`${path}.${key}`);
    if (ref !== undefined) {
      if (seen.has(ref)) continue;
      seen.add(ref);
    }
    undescribed(target, `${path}.${key}`, defs, out, seen);
    if (target.items && typeof target.items === 'object') undescribed(target.items as Node, `${path}.${key}[]`, defs, out, seen);
  }
  return out;
}

describe('otel-config schema', () => {
  it('is published as @otel-audit/node/schema.json', () => {
    expect(pkg.exports['./schema.json']).toBe('./schema/otel-config.schema.json');
    expect(pkg.files).toContain('schema');
  });

  it('is a valid JSON Schema that compiles in strict mode', () => {
    const ajv = new Ajv({ strict: true, allowUnionTypes: true });
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
    expect(() => ajv.compile(schema)).not.toThrow();
  });

  it('describes every key, so editors can show what it means', () => {
    expect(undescribed(schema, '', schema.definitions as Record<string, Node>, [])).toEqual([]);
  });

  it('accepts the repository otel-config.yaml and refuses an unknown key in it', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const doc = parse(readFileSync(join(PKG, '..', '..', 'otel-config.yaml'), 'utf8')) as Record<string, unknown>;
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...doc, exporter: {} })).toBe(false);
  });
});
