/**
 * The environment variables of DESIGN §7 applied over otel-config.yaml:
 * the seed's `AUDIT_*` switches and the standard `OTEL_*` variables for the
 * resource and the OTLP exporter. Each value is checked here, so a bad one
 * is reported with the variable's name (never its value when it may be a
 * secret). Runs on the raw document before schema validation.
 */
import { redactUrl } from '@otel-audit/core';
import type { ConfigProblem } from '../errors.js';
import { describeValue } from '../errors.js';
import { HIDDEN } from './secret-paths.js';

type Doc = Record<string, unknown>;
type Env = NodeJS.ProcessEnv;

const BOOL = /^(true|false|1|0|yes|no|on|off)$/i;
const ALGORITHMS = ['sha256', 'sha384', 'sha512', 'sha3-256', 'sha3-512'];

const isMap = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

function map(parent: Doc, key: string): Doc {
  if (!isMap(parent[key])) parent[key] = {};
  return parent[key] as Doc;
}

/** The pipeline's component of `type` (first listed), else the first defined one, else a new `type` added to the pipeline when `create`. */
function component(doc: Doc, section: 'processors' | 'exporters', type: string, create: boolean): Doc | undefined {
  const pipeline = firstPipeline(doc);
  const listed = Array.isArray(pipeline?.[section]) ? (pipeline[section] as unknown[]) : [];
  const matches = (k: unknown) => typeof k === 'string' && (k === type || k.startsWith(`${type}/`));
  const defined = isMap(doc[section]) ? (doc[section] as Doc) : undefined;
  const key = listed.find((k) => matches(k) && isMap(defined?.[k as string])) ?? Object.keys(defined ?? {}).find(matches);
  if (key !== undefined && isMap(defined?.[key as string])) return defined![key as string] as Doc;
  if (!create || pipeline === undefined) return undefined;
  if (!listed.some(matches)) pipeline[section] = [...listed, type];
  return map(map(doc, section), type);
}

function firstPipeline(doc: Doc): Doc | undefined {
  const pipelines = isMap(doc.service) && isMap(doc.service.pipelines) ? (doc.service.pipelines as Doc) : undefined;
  const key = pipelines && Object.keys(pipelines).find((k) => k === 'audit' || k.startsWith('audit/'));
  return key !== undefined && isMap(pipelines![key]) ? (pipelines![key] as Doc) : undefined;
}

/** Reads and checks env values; every problem names the variable. */
class EnvReader {
  constructor(readonly env: Env, readonly problems: ConfigProblem[]) {}
  get(name: string): string | undefined {
    const v = this.env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  }
  bad(name: string, value: unknown, message: string, fix: string): undefined {
    this.problems.push({ path: name, value: typeof value === 'string' ? redactUrl(value) : value, message: `${message}; got ${describeValue(value)}`, fix });
    return undefined;
  }
  bool(name: string): boolean | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (!BOOL.test(v)) return this.bad(name, v, 'must be true or false', `set ${name}=true or ${name}=false`);
    return /^(true|1|yes|on)$/i.test(v);
  }
  int(name: string, min: number): number | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (!/^\d{1,9}$/.test(v) || Number(v) < min) return this.bad(name, v, `must be a whole number >= ${min}`, `set ${name} to a number such as ${Math.max(min, 100)}, or unset it`);
    return Number(v);
  }
  days(name: string): number | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^\d+(\.\d+)?$/.test(v) || !Number.isFinite(n)) return this.bad(name, v, 'must be a non-negative number of days', `set ${name}=30 (days), or unset it`);
    return n;
  }
  /** A number with a threshold meaning, or a boolean switch. */
  switchOrThreshold(name: string): boolean | number | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (/^\d{1,9}$/.test(v) && Number(v) >= 1) return Number(v);
    if (/^(true|false|yes|no|on|off)$/i.test(v)) return /^(true|yes|on)$/i.test(v);
    return this.bad(name, v, 'must be true, false or a threshold (a whole number >= 1)', `set ${name}=true, ${name}=false or ${name}=5`);
  }
}

/**
 * Apply the AUDIT_* and OTEL_* variables of `env` to the raw document `doc` (mutated).
 *
 * @example
 * applyEnvOverrides(doc, { AUDIT_LOG_BATCH_SIZE: '500' }, problems) // processors.chain.delivery.batch_size = 500
 */
export function applyEnvOverrides(doc: Doc, env: Env, problems: ConfigProblem[]): void {
  const r = new EnvReader(env, problems);
  const enabled = r.bool('AUDIT_LOG_ENABLED');
  if (enabled !== undefined) doc.enabled = enabled;
  applyChain(doc, r);
  applyStore(doc, r);
  applyAlerts(doc, r);
  applyResource(doc, r);
  applyOtlp(doc, r);
}

function applyChain(doc: Doc, r: EnvReader): void {
  const batch = r.int('AUDIT_LOG_BATCH_SIZE', 1);
  const flush = flushInterval(r);
  const alg = r.get('AUDIT_LOG_HASH_ALGORITHM');
  let algorithm: string | undefined;
  if (alg !== undefined) {
    algorithm = alg.toLowerCase().replace(/^sha-(\d)/, 'sha$1');
    if (!ALGORITHMS.includes(algorithm)) algorithm = r.bad('AUDIT_LOG_HASH_ALGORITHM', alg, 'is not a supported hash algorithm', `use one of ${ALGORITHMS.join(', ')}`);
  }
  if (batch === undefined && flush === undefined && algorithm === undefined) return;
  const chain = component(doc, 'processors', 'chain', true);
  if (chain === undefined) return;
  if (algorithm !== undefined) chain.algorithm = algorithm;
  if (batch !== undefined) map(chain, 'delivery').batch_size = batch;
  if (flush !== undefined) map(chain, 'delivery').flush_interval = flush;
}

function flushInterval(r: EnvReader): string | undefined {
  const v = r.get('AUDIT_LOG_FLUSH_INTERVAL');
  if (v === undefined) return undefined;
  if (/^\d{1,9}$/.test(v) && Number(v) > 0) return `${v}s`; // the seed's unit: seconds
  // Fractional seconds (`1.5`) to whole milliseconds.
  if (/^\d{0,9}\.\d{1,3}$/.test(v) && Math.round(Number(v) * 1000) > 0) return `${Math.round(Number(v) * 1000)}ms`;
  if (/^(\d{1,9}(ms|s|m|h|d))+$/.test(v) && /[1-9]/.test(v)) return v;
  return r.bad('AUDIT_LOG_FLUSH_INTERVAL', v, 'must be a duration (seconds, 1.5, or 500ms, 5s, 1m)', 'set AUDIT_LOG_FLUSH_INTERVAL=5 (seconds) or 500ms');
}

/** One variable: how it is read and where its value goes in a component. */
interface Override {
  name: string;
  read: (r: EnvReader, name: string) => unknown;
  set: (component: Doc, value: never) => void;
}

const builtin = (key: string) => (c: Doc, v: unknown) => {
  const builtins = map(c, 'builtins');
  // `true` switches a built-in on; settings written in the file (a threshold, or an object such as `{ digest: 15m }`) stay.
  if (v === true && ((typeof builtins[key] === 'object' && builtins[key] !== null) || typeof builtins[key] === 'number')) return;
  builtins[key] = v;
};

const STORE_OVERRIDES: readonly Override[] = [
  { name: 'AUDIT_LOG_RETENTION_DAYS', read: (r, n) => r.days(n), set: (c, v) => void (map(c, 'retention').retention_days = v) },
  { name: 'AUDIT_LOG_ARCHIVE_AFTER_DAYS', read: (r, n) => r.days(n), set: (c, v) => void (map(c, 'retention').archive_after_days = v) },
  { name: 'AUDIT_LOG_INTEGRITY_CHECKS', read: (r, n) => r.bool(n), set: (c, v) => void (c.verify_on_start = v) },
  { name: 'AUDIT_LOG_ENCRYPTION', read: (r, n) => r.bool(n), set: (c, v) => void (map(c, 'encryption').enabled = v) },
  {
    name: 'AUDIT_LOG_ENCRYPTION_KEY',
    read: (r, n) => r.get(n),
    set: (c) => {
      const enc = map(c, 'encryption');
      delete enc.key_file;
      enc.key_env = 'AUDIT_LOG_ENCRYPTION_KEY'; // the key itself never enters the config
    },
  },
  {
    name: 'AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS',
    read: (r, n) => r.get(n),
    set: (c) => {
      const enc = map(c, 'encryption');
      delete enc.previous_keys_file;
      enc.previous_keys_env = 'AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS';
    },
  },
];

const ALERT_OVERRIDES: readonly Override[] = [
  { name: 'AUDIT_ALERT_ENABLED', read: (r, n) => r.bool(n), set: (c, v) => void (c.enabled = v) },
  { name: 'AUDIT_ALERT_FAILED_LOGINS', read: (r, n) => r.switchOrThreshold(n), set: builtin('failed_logins') },
  { name: 'AUDIT_ALERT_PRIVILEGE_ESCALATION', read: (r, n) => r.bool(n), set: builtin('privilege_escalation') },
  { name: 'AUDIT_ALERT_DATA_EXFILTRATION', read: (r, n) => r.switchOrThreshold(n), set: builtin('data_exfiltration') },
  { name: 'AUDIT_ALERT_CONFIG_CHANGES', read: (r, n) => r.bool(n), set: builtin('config_changes') },
];

/** Read every variable of `table` (all are checked), then apply the set ones to the component. */
function applyTable(doc: Doc, r: EnvReader, table: readonly Override[], section: 'processors' | 'exporters', type: string, create: (values: unknown[]) => boolean): void {
  const values = table.map((o) => o.read(r, o.name));
  if (values.every((v) => v === undefined)) return;
  const target = component(doc, section, type, create(values));
  if (target === undefined) return;
  table.forEach((o, i) => {
    if (values[i] !== undefined) o.set(target, values[i] as never);
  });
}

function applyStore(doc: Doc, r: EnvReader): void {
  applyTable(doc, r, STORE_OVERRIDES, 'exporters', 'sqlite', () => false);
}

function applyAlerts(doc: Doc, r: EnvReader): void {
  // AUDIT_ALERT_ENABLED=true (or any switch) adds the alerts processor; =false only turns an existing one off.
  applyTable(doc, r, ALERT_OVERRIDES, 'processors', 'alerts', (values) => values[0] !== false);
}

/** `k=v,k2=v2` with percent-encoded values (W3C baggage style), as the OTel spec writes it. */
function keyValues(r: EnvReader, name: string, secret: boolean): Record<string, string> | undefined {
  const v = r.get(name);
  if (v === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const part of v.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq).trim() : '';
    if (key === '') return r.bad(name, secret ? HIDDEN : part, 'must be a list of key=value pairs separated by commas', `write ${name}="key1=value1,key2=value2"`);
    try {
      out[key] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return r.bad(name, secret ? HIDDEN : part, 'has a value that is not valid percent-encoding', 'percent-encode commas, = and % in values');
    }
  }
  return out;
}

function applyResource(doc: Doc, r: EnvReader): void {
  const attrs = keyValues(r, 'OTEL_RESOURCE_ATTRIBUTES', false);
  const name = r.get('OTEL_SERVICE_NAME');
  if (attrs === undefined && name === undefined) return;
  const resource = map(doc, 'resource');
  Object.assign(resource, attrs);
  if (name !== undefined) resource['service.name'] = name;
}

function applyOtlp(doc: Doc, r: EnvReader): void {
  const pick = (suffix: string) => (r.get(`OTEL_EXPORTER_OTLP_LOGS_${suffix}`) !== undefined ? `OTEL_EXPORTER_OTLP_LOGS_${suffix}` : `OTEL_EXPORTER_OTLP_${suffix}`);
  const otlp = component(doc, 'exporters', 'otlphttp', false);
  const baseEndpoint = r.get('OTEL_EXPORTER_OTLP_ENDPOINT');
  const logsEndpoint = r.get('OTEL_EXPORTER_OTLP_LOGS_ENDPOINT');
  for (const [name, example] of [['OTEL_EXPORTER_OTLP_ENDPOINT', 'http://collector:4318'], ['OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', 'http://collector:4318/v1/logs']] as const) {
    const v = r.get(name);
    if (v !== undefined && !/^https?:\/\/[^\s]+$/.test(v)) r.bad(name, v, 'must be an http(s) URL', `set ${name}=${example}`);
  }
  const headersVar = pick('HEADERS');
  const headers = keyValues(r, headersVar, true);
  const timeoutVar = pick('TIMEOUT');
  const timeout = r.int(timeoutVar, 1);
  const compressionVar = pick('COMPRESSION');
  const compression = r.get(compressionVar);
  if (compression !== undefined && compression !== 'gzip' && compression !== 'none') r.bad(compressionVar, compression, 'must be gzip or none', `set ${compressionVar}=gzip or none`);
  const protocolVar = pick('PROTOCOL');
  const protocol = r.get(protocolVar);
  if (protocol !== undefined && protocol !== 'http/protobuf' && protocol !== 'http/json') {
    r.bad(protocolVar, protocol, protocol === 'grpc' ? 'grpc is not supported by the otlphttp exporter' : 'must be http/protobuf or http/json', `set ${protocolVar}=http/protobuf or http/json`);
  }
  if (otlp === undefined) return;
  // OTLP exporter spec: the signal-specific variable is the logs URL as written; the generic one is a base URL that gets /v1/logs.
  if (logsEndpoint !== undefined) otlp.logs_endpoint = logsEndpoint;
  if (baseEndpoint !== undefined) otlp.endpoint = /\/v1\/logs\/?$/.test(baseEndpoint) ? baseEndpoint : baseEndpoint.replace(/\/+$/, '');
  if (headers !== undefined) otlp.headers = { ...(isMap(otlp.headers) ? otlp.headers : {}), ...headers };
  if (timeout !== undefined) otlp.timeout = `${timeout}ms`;
  if (compression === 'gzip' || compression === 'none') otlp.compression = compression;
  if (protocol === 'http/protobuf' || protocol === 'http/json') otlp.protocol = protocol;
}
