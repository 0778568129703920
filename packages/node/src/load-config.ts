/**
 * `loadConfig`: otel-config.yaml → a validated {@link AuditConfig}
 * (DESIGN §7). Reads the file (`OTEL_AUDIT_CONFIG` or ./otel-config.yaml by
 * default), substitutes `${env:VAR}` / `${env:VAR:-default}`, applies the
 * AUDIT_* and OTEL_* variables, validates against the published JSON Schema
 * and then the checks a schema cannot express (policy catch-all, alert
 * rules, key files, pipeline references). Every problem is collected and
 * thrown together as one `ConfigError`, before anything starts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { AuditConfig } from './config-types.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { applyEnvOverrides } from './internal/env-overrides.js';
import { checkSchema } from './internal/schema-check.js';
import { checkSemantics } from './internal/semantic-check.js';
import { resolvePipeline } from './internal/pipeline.js';
import { readYaml } from './internal/yaml-source.js';

/**
 * Options of {@link loadConfig}.
 *
 * @example
 * loadConfig({ path: 'deploy/otel-config.yaml', env: { ...process.env, AUDIT_LOG_BATCH_SIZE: '500' } });
 */
export interface LoadConfigOptions {
  /** The YAML file. Default `env.OTEL_AUDIT_CONFIG`, else `./otel-config.yaml` in `cwd`. */
  path?: string;
  /** YAML text to use instead of reading a file (relative paths resolve against `cwd`). */
  text?: string;
  /** Environment for substitution and overrides. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Directory of the default file. Default `process.cwd()`. */
  cwd?: string;
  /**
   * Read and check the key files and secret variables the pipeline names
   * (signer key, HMAC keys, webhook secrets, encryption key). Default true.
   * `false` for tools that only read the configuration and use no key, such
   * as `otel-audit status`: everything else is still checked, and
   * `startAudit` reads and checks the secrets itself when it starts.
   */
  secrets?: boolean;
}

/**
 * The file `loadConfig` reads when given no path.
 *
 * @example
 * defaultConfigPath({ OTEL_AUDIT_CONFIG: 'conf/audit.yaml' }, '/srv/app') // '/srv/app/conf/audit.yaml'
 */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  const given = env.OTEL_AUDIT_CONFIG?.trim();
  return resolve(cwd, given !== undefined && given !== '' ? given : 'otel-config.yaml');
}

/**
 * Load, override and validate the configuration. Throws `ConfigError`
 * (code `AUDIT_CONFIG_INVALID`) listing every problem.
 *
 * @example
 * const config = loadConfig({ path: 'otel-config.yaml' });
 * const handle = await startAudit(config);
 */
export function loadConfig(options: LoadConfigOptions = {}): AuditConfig {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const problems: ConfigProblem[] = [];
  let text: string;
  let source: string | undefined;
  if (options.text !== undefined) {
    text = options.text;
  } else {
    source = options.path !== undefined ? resolve(cwd, options.path) : defaultConfigPath(env, cwd);
    if (!existsSync(source)) {
      const via = options.path === undefined && env.OTEL_AUDIT_CONFIG ? ' (from OTEL_AUDIT_CONFIG)' : '';
      throw new ConfigError([{ path: '(file)', value: source, message: `configuration file "${source}"${via} does not exist`, fix: 'create otel-config.yaml (see @otel-audit/node README) or set OTEL_AUDIT_CONFIG to its path' }], source);
    }
    text = readFileSync(source, 'utf8');
  }
  const yaml = readYaml(text, env, problems);
  if (problems.length > 0 && yaml.value === undefined) throw new ConfigError(problems, source);
  const doc = (yaml.value ?? {}) as Record<string, unknown>;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError([{ path: '(top level)', value: doc, message: 'the file is not a YAML map', fix: 'start from the example in the @otel-audit/node README' }], source);
  applyEnvOverrides(doc, env, problems);
  const schemaProblems = checkSchema(doc, yaml.lineOf);
  problems.push(...schemaProblems);
  const config = doc as unknown as AuditConfig;
  // Semantic checks read shapes the schema guarantees; skip them when the shape is wrong.
  if (schemaProblems.length === 0) {
    Object.defineProperty(config, 'baseDir', { value: source !== undefined ? dirname(source) : cwd, enumerable: false, writable: true });
    if (source !== undefined) Object.defineProperty(config, 'source', { value: source, enumerable: false, writable: true });
    if (config.enabled !== false) checkSemantics(config, env, problems, { secrets: options.secrets !== false });
  } else {
    try {
      resolvePipeline(config, problems); // still name undefined components
    } catch {
      // the shape is wrong there too; the schema problems say so
    }
  }
  if (problems.length > 0) {
    // One problem per path: a missing variable would otherwise also be reported as an empty value.
    const seen = new Set<string>();
    const unique = problems.filter((p) => p.path === '(file)' || (!seen.has(p.path) && seen.add(p.path) !== undefined));
    problems.length = 0;
    problems.push(...unique);
    for (const p of problems) {
      if (p.line !== undefined || p.path.startsWith('(') || /^[A-Z][A-Z0-9_]+$/.test(p.path)) continue;
      const line = yaml.lineOf(pathParts(p.path));
      if (line !== undefined) p.line = line;
    }
    throw new ConfigError(problems, source);
  }
  return config;
}

/** `a.b[2].c` → `['a', 'b', 2, 'c']`. */
function pathParts(path: string): (string | number)[] {
  const parts: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) parts.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return parts;
}
