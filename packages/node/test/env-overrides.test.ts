/**
 * `${env:VAR}` substitution and the AUDIT_* / OTEL_* variables of DESIGN §7
 * over otel-config.yaml: what the loaded configuration says after them, and
 * bad values refused with the variable's name.
 */
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type ChainProcessorConfig } from '../src/index.js';

const BASE = `
processors:
  chain: { algorithm: sha256, delivery: { batch_size: 100 } }
  alerts: { builtins: { failed_logins: 5 } }
exporters:
  sqlite: { path: ./audit.db, retention: { archive_after_days: 30, retention_days: 90 } }
  otlphttp: { endpoint: "http://127.0.0.1:4318", headers: { x-team: audit } }
service:
  pipelines:
    audit: { processors: [alerts, chain], exporters: [sqlite, otlphttp] }
`;

const load = (env: NodeJS.ProcessEnv, text = BASE) => loadConfig({ text, env, cwd: tmpdir() });

/** The ConfigError loading throws, or undefined when the config loads. */
function errorOf(env: NodeJS.ProcessEnv, text = BASE): ConfigError | undefined {
  try {
    load(env, text);
    return undefined;
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
}

const problemsOf = (env: NodeJS.ProcessEnv, text = BASE): string[] => errorOf(env, text)?.problems.map((p) => `${p.path}: ${p.message}`) ?? [];

describe('${env:...} substitution', () => {
  const text = 'exporters:\n  sqlite:\n    path: ${env:DB:-./default.db}\n    synchronous: ${env:SYNC:-NORMAL}\nprocessors:\n  chain:\n    stream: "svc-$${env:X}"\n    checkpoint:\n      every_records: ${env:EVERY}\nservice:\n  pipelines:\n    audit: { processors: [chain], exporters: [sqlite] }\n';

  it('uses the variable, else the default; a whole plain value takes its type; $$ is a literal $', () => {
    const c = load({ DB: '/var/audit.db', EVERY: '250' }, text);
    expect(c.exporters?.sqlite).toMatchObject({ path: '/var/audit.db', synchronous: 'NORMAL' });
    expect(c.processors?.chain).toMatchObject({ checkpoint: { every_records: 250 }, stream: 'svc-${env:X}' });
  });

  it('a variable cannot inject YAML structure', () => {
    const c = load({ DB: 'x.db\n    synchronous: FULL', EVERY: '1' }, text);
    expect((c.exporters?.sqlite as { path: string }).path).toBe('x.db\n    synchronous: FULL');
  });

  it('an unset variable without a default is refused, naming it', () => {
    expect(problemsOf({}, text)).toEqual([expect.stringMatching(/^processors\.chain\.checkpoint\.every_records: environment variable EVERY is not set$/)]);
  });
});

describe('AUDIT_* overrides', () => {
  it('map onto the chain, the store and the alerts', () => {
    const c = load({
      AUDIT_LOG_BATCH_SIZE: '500',
      AUDIT_LOG_FLUSH_INTERVAL: '2',
      AUDIT_LOG_HASH_ALGORITHM: 'SHA-512',
      AUDIT_LOG_RETENTION_DAYS: '365',
      AUDIT_LOG_ARCHIVE_AFTER_DAYS: '60',
      AUDIT_LOG_INTEGRITY_CHECKS: 'true',
      AUDIT_ALERT_FAILED_LOGINS: '10',
      AUDIT_ALERT_PRIVILEGE_ESCALATION: 'false',
      AUDIT_ALERT_DATA_EXFILTRATION: '50',
      AUDIT_ALERT_CONFIG_CHANGES: 'false',
    });
    expect(c.processors?.chain).toEqual({ algorithm: 'sha512', delivery: { batch_size: 500, flush_interval: '2s' } });
    expect(c.exporters?.sqlite).toMatchObject({ verify_on_start: true, retention: { archive_after_days: 60, retention_days: 365 } });
    expect(c.processors?.alerts).toEqual({ builtins: { failed_logins: 10, privilege_escalation: false, data_exfiltration: 50, config_changes: false } });
  });

  it('AUDIT_LOG_FLUSH_INTERVAL takes the seed\'s seconds, fractional seconds too, or a duration', () => {
    const flush = (v: string) => (load({ AUDIT_LOG_FLUSH_INTERVAL: v }).processors?.chain as ChainProcessorConfig | undefined)?.delivery?.flush_interval;
    expect([flush('5'), flush('1.5'), flush('0.25'), flush('500ms')]).toEqual(['5s', '1500ms', '250ms', '500ms']);
    expect(problemsOf({ AUDIT_LOG_FLUSH_INTERVAL: '0.0001' }, BASE)).toEqual([expect.stringContaining('must be a duration')]);
  });

  it('AUDIT_LOG_ENABLED=false turns the pipeline off and skips the key checks', () => {
    const text = BASE.replace('algorithm: sha256', 'signer_key_file: ./missing.key');
    expect(problemsOf({}, text)).toEqual([expect.stringContaining('does not exist')]);
    expect(load({ AUDIT_LOG_ENABLED: 'false' }, text).enabled).toBe(false);
  });

  it('AUDIT_ALERT_*=true keeps the settings of the file (a digest, a threshold); false still turns it off', () => {
    const text = BASE.replace('builtins: { failed_logins: 5 }', 'builtins: { failed_logins: 5, config_changes: { digest: 15m } }');
    expect(load({ AUDIT_ALERT_CONFIG_CHANGES: 'true' }, text).processors?.alerts).toEqual({ builtins: { failed_logins: 5, config_changes: { digest: '15m' } } });
    expect(load({ AUDIT_ALERT_CONFIG_CHANGES: 'false' }, text).processors?.alerts).toEqual({ builtins: { failed_logins: 5, config_changes: false } });
    expect(load({ AUDIT_ALERT_CONFIG_CHANGES: 'true' }).processors?.alerts).toEqual({ builtins: { failed_logins: 5, config_changes: true } });
    // A threshold from the file stays too.
    expect(load({ AUDIT_ALERT_FAILED_LOGINS: 'true' }, BASE.replace('failed_logins: 5', 'failed_logins: 10')).processors?.alerts).toEqual({ builtins: { failed_logins: 10 } });
  });

  it('AUDIT_ALERT_ENABLED=true adds the alerts processor to a pipeline without one', () => {
    const c = load({ AUDIT_ALERT_ENABLED: 'true' }, 'exporters:\n  sqlite: { path: a.db }\nservice:\n  pipelines:\n    audit: { exporters: [sqlite] }\n');
    expect(c.processors?.alerts).toEqual({ enabled: true });
    expect(c.service.pipelines.audit?.processors).toEqual(['alerts']);
  });

  it('AUDIT_LOG_ENCRYPTION_KEY is referenced by name, never copied into the config', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const c = load({ AUDIT_LOG_ENCRYPTION: 'true', AUDIT_LOG_ENCRYPTION_KEY: key });
    expect((c.exporters?.sqlite as { encryption: unknown }).encryption).toEqual({ enabled: true, key_env: 'AUDIT_LOG_ENCRYPTION_KEY' });
    expect(JSON.stringify(c)).not.toContain(key);
  });

  it.each([
    ['AUDIT_LOG_BATCH_SIZE', 'abc', 'must be a whole number >= 1; got "abc"'],
    ['AUDIT_LOG_BATCH_SIZE', '0', 'must be a whole number >= 1; got "0"'],
    ['AUDIT_LOG_ENABLED', 'maybe', 'must be true or false; got "maybe"'],
    ['AUDIT_LOG_FLUSH_INTERVAL', 'soon', 'must be a duration'],
    ['AUDIT_LOG_RETENTION_DAYS', '-1', 'must be a non-negative number of days'],
    ['AUDIT_LOG_HASH_ALGORITHM', 'md5', 'is not a supported hash algorithm'],
    ['AUDIT_ALERT_FAILED_LOGINS', 'lots', 'must be true, false or a threshold'],
    ['AUDIT_LOG_ENCRYPTION', 'yes please', 'must be true or false'],
  ])('%s=%s is refused naming the variable', (name, value, message) => {
    expect(problemsOf({ [name]: value })).toEqual([expect.stringContaining(`${name}: ${message}`)]);
  });

  it('a bad AUDIT_LOG_ENCRYPTION_KEY is refused without echoing it', () => {
    const error = errorOf({ AUDIT_LOG_ENCRYPTION: 'true', AUDIT_LOG_ENCRYPTION_KEY: 'short-secret-value' });
    expect(error?.message).toMatch(/exporters\.sqlite\.encryption\.key_env( \(line \d+\))?: is not a 32-byte key/);
    expect(error?.message).not.toContain('short-secret-value');
  });
});

describe('OTEL_* variables', () => {
  it('set the resource and the OTLP exporter', () => {
    const c = load({
      OTEL_SERVICE_NAME: 'billing',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=ignored,team=a%2Cb',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20t0ken',
      OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '2500',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    expect(c.resource).toEqual({ 'service.name': 'billing', 'deployment.environment': 'prod', team: 'a,b' });
    expect(c.exporters?.otlphttp).toEqual({ endpoint: 'http://collector:4318', headers: { 'x-team': 'audit', authorization: 'Bearer t0ken' }, timeout: '2500ms', compression: 'gzip', protocol: 'http/json' });
  });

  it('OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is the logs URL as written (logs_endpoint); the generic one stays the base URL', () => {
    const c = load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://gateway:8080/otlp/logs/' });
    expect(c.exporters?.otlphttp).toMatchObject({ endpoint: 'http://collector:4318', logs_endpoint: 'http://gateway:8080/otlp/logs/' });
  });

  it('an otlphttp exporter needs endpoint or logs_endpoint, from the file or the environment', () => {
    const text = BASE.replace('endpoint: "http://127.0.0.1:4318", ', '');
    expect(problemsOf({}, text)).toEqual([expect.stringContaining('exporters.otlphttp.endpoint: required key "endpoint" is missing')]);
    expect(load({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://gateway:8080/logs' }, text).exporters?.otlphttp).toMatchObject({ logs_endpoint: 'http://gateway:8080/logs' });
    expect(problemsOf({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'gateway:8080' }, text)).toContainEqual(expect.stringContaining('OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: must be an http(s) URL'));
  });

  it('bad values are refused naming the variable; header values are not echoed', () => {
    expect(problemsOf({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toEqual([expect.stringContaining('OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported')]);
    const headers = problemsOf({ OTEL_EXPORTER_OTLP_HEADERS: 'Bearer secret-token' });
    expect(headers).toEqual([expect.stringContaining('OTEL_EXPORTER_OTLP_HEADERS: must be a list of key=value pairs')]);
    expect(headers.join()).not.toContain('secret-token');
  });

  it('a bad endpoint variable is quoted with its credentials and tokens masked', () => {
    const error = errorOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://audit:Zq8secret@collector:4318?token=Zq8token' });
    expect(error?.message).toContain('OTEL_EXPORTER_OTLP_ENDPOINT: must be an http(s) URL; got "ftp://***@collector:4318?token=***"');
    expect(`${error?.message}${JSON.stringify(error?.problems)}`).not.toMatch(/Zq8secret|Zq8token/);
  });
});
