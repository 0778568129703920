/**
 * The checks of otel-config.yaml that a JSON Schema cannot express
 * (DESIGN §7, §8, §9): the HTTP policy compiles and ends with a catch-all,
 * alert rules compile, retention periods are in order, URLs parse, the
 * pipeline names only defined components (one receiver and one processor of
 * each type), no two of its exporters write one file, and the key files it
 * names exist and hold valid keys. Each failure is one problem with path,
 * value and fix.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { redactUrl, streamIdProblem } from '@otel-audit/core';
import { createHttpAuditPolicy, AuditPolicyError } from '@otel-audit/instrumentation';
import { AlertConfigError, builtinAlertRules, compileRules } from '@otel-audit/processor';
import type { AlertsProcessorConfig, AuditConfig, ChainProcessorConfig, HttpReceiverConfig, OtlpHttpExporterConfig, SqliteExporterConfig } from '../config-types.js';
import type { ConfigProblem } from '../errors.js';
import { DEFAULT_OUTBOX_FILE } from '../otlp-sink.js';
import { builtinOptions, durationMillis, httpRules } from './options-mapping.js';
import { resolvePipeline, typeOf, type ResolvedPipeline } from './pipeline.js';
import { HIDDEN } from './secret-paths.js';
import { resolvePath, resolveSecrets, type ResolvedSecrets } from './secrets.js';

function checkPolicy(key: string, http: HttpReceiverConfig, problems: ConfigProblem[]): void {
  if (http.rules === undefined) return;
  try {
    createHttpAuditPolicy({ rules: httpRules(http.rules), ...(http.case_sensitive !== undefined ? { caseSensitive: http.case_sensitive } : {}) });
  } catch (e) {
    if (!(e instanceof AuditPolicyError)) throw e;
    const text = e.message.slice(e.key.length + 2);
    const cut = text.indexOf(': ');
    const idx = /^rules\[(\d+)\]/.exec(e.key);
    problems.push({
      path: `receivers.${key}.${e.key.replace(/idParam$/, 'id_param')}`,
      value: idx ? http.rules[Number(idx[1])] : http.rules.length,
      message: cut > 0 ? text.slice(0, cut) : text,
      fix: cut > 0 ? text.slice(cut + 2) : 'fix the rule (see DESIGN §8)',
    });
  }
}

function checkAlerts(key: string, alerts: AlertsProcessorConfig, problems: ConfigProblem[]): void {
  const path = `processors.${key}`;
  try {
    builtinAlertRules(builtinOptions(alerts));
  } catch (e) {
    problems.push({ path: `${path}.builtins`, value: alerts.builtins, message: (e as Error).message.replace(/^options\./, ''), fix: 'see the schema for each built-in' });
  }
  try {
    compileRules(alerts.rules ?? [], { path: `${path}.rules` });
  } catch (e) {
    if (!(e instanceof AlertConfigError)) throw e;
    const text = e.message.slice(e.path.length + 2);
    const cut = text.lastIndexOf('; ');
    problems.push({ path: e.path, value: e.value, message: cut > 0 ? text.slice(0, cut) : text, fix: e.fix });
  }
  checkClockSkew(path, alerts.max_clock_skew, problems);
  (alerts.notifiers ?? []).forEach((n, i) => {
    // A webhook URL often carries its token: the problem does not show it.
    if (n.type === 'webhook' && !URL.canParse(n.url)) problems.push({ path: `${path}.notifiers[${i}].url`, value: HIDDEN, message: 'is not a URL (not shown: it may hold a token)', fix: 'write https://host/path' });
  });
}

/** The alert engine's own bound on `maxClockSkewMillis`: a year. The schema checks the form, this the size. */
const MAX_CLOCK_SKEW_MILLIS = 31_536_000_000;

function checkClockSkew(path: string, skew: string | undefined, problems: ConfigProblem[]): void {
  if (typeof skew !== 'string') return;
  const millis = durationMillis(skew)!;
  if (millis <= MAX_CLOCK_SKEW_MILLIS) return;
  problems.push({
    path: `${path}.max_clock_skew`, value: skew, message: `${JSON.stringify(skew)} is more than a year (365d)`,
    fix: 'write a duration from 0s to 365d, e.g. 10m (default 5m): how far ahead of this host\'s clock a record may be dated and still count as of its own time',
  });
}

/**
 * `stream` is the checkpoint origin, one line of the signed note: checked by
 * core's own rule (`streamIdProblem`), here, so that a bad id — a
 * `${env:...}` value with a newline — is refused with its key before
 * anything starts.
 */
function checkStream(key: string, chain: ChainProcessorConfig, problems: ConfigProblem[]): void {
  if (typeof chain.stream !== 'string' || chain.stream === '') return;
  const problem = streamIdProblem(chain.stream);
  if (problem === undefined) return;
  problems.push({
    path: `processors.${key}.stream`, value: chain.stream, message: problem,
    fix: 'write the stream id on one line without leading or trailing spaces, e.g. billing-api/pod-7 (check the variable a ${env:...} reference reads)',
  });
}

/**
 * The spill file is written only when the store falls behind — in an
 * outage, the worst time to find out its directory is missing or cannot be
 * written. Checked here, like the store's directory, so a bad `spill_path`
 * is refused at start (a disk-full review found one only during an outage).
 */
function checkSpill(config: AuditConfig, key: string, chain: ChainProcessorConfig, problems: ConfigProblem[]): void {
  const d = chain.delivery;
  if (d?.overflow !== 'spill') return;
  const path = `processors.${key}.delivery.spill_path`;
  const file = resolvePath(config, d.spill_path ?? 'otel-audit-queue.spill');
  const dir = dirname(file);
  if (!existsSync(dir)) {
    problems.push({ path, value: d.spill_path, message: `directory "${dir}" does not exist`, fix: 'create it, or fix the path: the spill file holds records while the store is behind' });
  } else if (existsSync(file) && statSync(file).isDirectory()) {
    problems.push({ path, value: d.spill_path, message: `"${file}" is a directory`, fix: 'name a file, e.g. ./otel-audit-queue.spill' });
  } else {
    try {
      accessSync(dir, constants.W_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      problems.push({
        path, value: d.spill_path,
        message: code === 'EROFS' ? `directory "${dir}" is on a read-only filesystem` : `directory "${dir}" cannot be written by this user (${code ?? 'error'})`,
        fix: 'put the spill file where the service can write, on a filesystem other than the store\'s if you can (a full disk then stops only one of them)',
      });
    }
  }
}

function checkSqlite(config: AuditConfig, key: string, sqlite: SqliteExporterConfig, problems: ConfigProblem[]): void {
  const dir = dirname(resolvePath(config, sqlite.path));
  if (!existsSync(dir)) problems.push({ path: `exporters.${key}.path`, value: sqlite.path, message: `directory "${dir}" does not exist`, fix: 'create it, or fix the path' });
  const r = sqlite.retention;
  if (r?.archive_after_days !== undefined && r.retention_days !== undefined && r.retention_days < r.archive_after_days) {
    problems.push({ path: `exporters.${key}.retention.retention_days`, value: r.retention_days, message: `is less than archive_after_days (${r.archive_after_days})`, fix: 'records are purged only after they were archived: make retention_days >= archive_after_days' });
  }
}

function checkOtlp(key: string, otlp: OtlpHttpExporterConfig, problems: ConfigProblem[]): void {
  if (otlp.endpoint === undefined && otlp.logs_endpoint === undefined) {
    problems.push({ path: `exporters.${key}.endpoint`, value: undefined, message: 'required key "endpoint" is missing', fix: 'add endpoint: http://collector:4318 (/v1/logs is appended), or logs_endpoint: the full logs URL (or set OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_LOGS_ENDPOINT)' });
  }
  for (const [name, url, example, variable] of [
    ['endpoint', otlp.endpoint, 'http://collector:4318', 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    ['logs_endpoint', otlp.logs_endpoint, 'http://collector:4318/v1/logs', 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT'],
  ] as const) {
    if (url !== undefined && !isHttpUrl(url)) problems.push({ path: `exporters.${key}.${name}`, value: redactUrl(url), message: 'is not an http(s) URL', fix: `write ${example} (or ${variable})` });
  }
}

const isHttpUrl = (url: string): boolean => URL.canParse(url) && /^https?:$/.test(new URL(url).protocol);

/**
 * Every file an exporter of the pipeline writes (the store, an outbox) must
 * be its own: two exporters on one file would mix their rows or queues.
 */
function checkSharedFiles(config: AuditConfig, pipeline: ResolvedPipeline, problems: ConfigProblem[]): void {
  const owners = new Map<string, string>();
  for (const c of pipeline.exporters) {
    let key: string;
    let file: string;
    if (c.type === 'sqlite') {
      key = `exporters.${c.key}.path`;
      file = (c.config as SqliteExporterConfig).path;
    } else if (c.type === 'otlphttp') {
      key = `exporters.${c.key}.outbox.path`;
      file = (c.config as OtlpHttpExporterConfig).outbox?.path ?? DEFAULT_OUTBOX_FILE;
    } else continue;
    const full = resolvePath(config, file);
    const owner = owners.get(full);
    if (owner === undefined) owners.set(full, key);
    else problems.push({ path: key, value: file, message: `writes the same file as ${owner} (${full})`, fix: `give each exporter its own file${c.type === 'otlphttp' ? `, e.g. outbox: { path: ./otel-audit-outbox-${c.key.split('/')[1] ?? 'b'}.db }` : ''}` });
  }
}

/**
 * Run every semantic check on a schema-valid config; returns the pipeline and
 * secrets read on the way. With `secrets: false` the key files and secret
 * variables are neither read nor checked (and none are returned).
 *
 * @example
 * const { pipeline, secrets } = checkSemantics(config, process.env, problems);
 */
export function checkSemantics(config: AuditConfig, env: NodeJS.ProcessEnv, problems: ConfigProblem[], options: { secrets?: boolean } = {}): { pipeline: ResolvedPipeline; secrets: ResolvedSecrets } {
  for (const [key, c] of Object.entries(config.receivers ?? {})) if (typeOf(key) === 'http') checkPolicy(key, c as HttpReceiverConfig, problems);
  for (const [key, c] of Object.entries(config.processors ?? {})) {
    if (typeOf(key) === 'alerts') checkAlerts(key, c as AlertsProcessorConfig, problems);
    if (typeOf(key) === 'chain' && c !== null && typeof c === 'object') {
      checkStream(key, c as ChainProcessorConfig, problems);
      checkSpill(config, key, c as ChainProcessorConfig, problems);
    }
    const cp = typeOf(key) === 'chain' ? (c as ChainProcessorConfig | null)?.checkpoint : undefined;
    if (cp?.interval !== undefined && cp.every_seconds !== undefined) {
      problems.push({ path: `processors.${key}.checkpoint.every_seconds`, value: cp.every_seconds, message: `says the same as interval (${cp.interval}), which is also set`, fix: 'keep one of interval and every_seconds' });
    }
  }
  for (const [key, c] of Object.entries(config.exporters ?? {})) {
    if (typeOf(key) === 'sqlite') checkSqlite(config, key, c as SqliteExporterConfig, problems);
    if (typeOf(key) === 'otlphttp') checkOtlp(key, c as OtlpHttpExporterConfig, problems);
  }
  const pipeline = resolvePipeline(config, problems);
  checkSharedFiles(config, pipeline, problems);
  const secrets = options.secrets === false ? { webhookSecrets: new Map(), encryption: new Map(), verifierKeys: new Map(), warnings: [] } : resolveSecrets(config, pipeline, env, problems);
  return { pipeline, secrets };
}
