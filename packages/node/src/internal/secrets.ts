/**
 * Key material named by otel-config.yaml (DESIGN §4.3, §4.5, §6, §7): the
 * checkpoint signer key, the redaction HMAC key, the API-key fingerprint
 * key, webhook secrets and the encryption-at-rest key, each read from a
 * file (relative to the config file) or an environment variable named in
 * the file — never written in the file itself. Problems name the key path
 * and the fix; a secret's value never appears in a message.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseSignerKey } from '@otel-audit/core';
import { encryptionFromEnv, type EncryptionKey } from '@otel-audit/exporter-sqlite';
import type { AlertsProcessorConfig, AuditConfig, ChainProcessorConfig, HttpReceiverConfig, RedactProcessorConfig, SqliteExporterConfig } from '../config-types.js';
import type { ConfigProblem } from '../errors.js';
import { usedOf, type ResolvedPipeline, type UsedComponent } from './pipeline.js';

/**
 * The secrets the pipeline uses, read and checked.
 *
 * @example
 * const { signerKey } = resolveSecrets(config, pipeline, process.env, problems);
 */
export interface ResolvedSecrets {
  signerKey?: string;
  redactHmacKey?: string;
  apiKeyHmacKey?: string;
  /** Per notifier index. */
  webhookSecrets: Map<number, string>;
  encryption?: EncryptionKey;
}

interface SecretSpec {
  file: string | undefined;
  env: string | undefined;
  /** YAML path of the section holding `<name>_file` / `<name>_env`. */
  path: string;
  name: string;
  fix: string;
}

/**
 * A path in the config resolved against the config file's directory.
 *
 * @example
 * resolvePath(config, './keys/a.key') // '/srv/app/keys/a.key' for a config in /srv/app
 */
export function resolvePath(config: AuditConfig, path: string): string {
  return isAbsolute(path) ? path : resolve(config.baseDir ?? process.cwd(), path);
}

function read(config: AuditConfig, env: NodeJS.ProcessEnv, spec: SecretSpec, problems: ConfigProblem[]): string | undefined {
  if (spec.file !== undefined) {
    const full = resolvePath(config, spec.file);
    const path = `${spec.path}.${spec.name}_file`;
    if (!existsSync(full)) {
      problems.push({ path, value: spec.file, message: `file "${spec.file}" does not exist${full !== spec.file ? ` (looked at ${full})` : ''}`, fix: spec.fix });
      return undefined;
    }
    if (!statSync(full).isFile()) {
      problems.push({ path, value: spec.file, message: `"${spec.file}" is not a file`, fix: spec.fix });
      return undefined;
    }
    try {
      return readFileSync(full, 'utf8').trim();
    } catch (e) {
      problems.push({ path, value: spec.file, message: `file "${spec.file}" cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, fix: 'make it readable by this process' });
      return undefined;
    }
  }
  if (spec.env !== undefined) {
    const v = env[spec.env]?.trim();
    if (v === undefined || v === '') {
      problems.push({ path: `${spec.path}.${spec.name}_env`, value: spec.env, message: `environment variable ${spec.env} is not set`, fix: `set ${spec.env}, or use ${spec.name}_file` });
      return undefined;
    }
    return v;
  }
  return undefined;
}

/**
 * Read and check every secret the pipeline uses.
 *
 * @example
 * const secrets = resolveSecrets(config, pipeline, process.env, problems);
 */
export function resolveSecrets(config: AuditConfig, pipeline: ResolvedPipeline, env: NodeJS.ProcessEnv, problems: ConfigProblem[]): ResolvedSecrets {
  const out: ResolvedSecrets = { webhookSecrets: new Map() };
  const at = (section: string, c: UsedComponent) => `${section}.${c.key}`;

  const chain = usedOf<ChainProcessorConfig>(pipeline, 'processors', 'chain');
  if (chain) {
    const path = at('processors', chain);
    const text = read(config, env, { file: chain.config.signer_key_file, env: chain.config.signer_key_env, path, name: 'signer_key', fix: 'run `otel-audit keygen --name NAME` or fix the path' }, problems);
    if (text !== undefined) {
      try {
        parseSignerKey(text);
        out.signerKey = text;
      } catch (e) {
        const verifier = text.startsWith('PRIVATE+KEY+') ? '' : ' (a verifier key .vkey is not a signer key)';
        problems.push({ path: `${path}.signer_key_${chain.config.signer_key_file !== undefined ? 'file' : 'env'}`, value: chain.config.signer_key_file ?? chain.config.signer_key_env, message: `does not hold a valid signer key${verifier}: ${(e as Error).message}`, fix: 'point it at the PRIVATE+KEY+... file written by `otel-audit keygen --name NAME`' });
      }
    }
  }

  const redact = usedOf<RedactProcessorConfig>(pipeline, 'processors', 'redact');
  if (redact) {
    const path = at('processors', redact);
    const key = read(config, env, { file: redact.config.hmac_key_file, env: redact.config.hmac_key_env, path, name: 'hmac_key', fix: 'create it with `openssl rand -hex 32 > FILE` or fix the path' }, problems);
    if (redact.config.mode === 'hmac' && key === undefined && redact.config.hmac_key_file === undefined && redact.config.hmac_key_env === undefined) {
      problems.push({ path: `${path}.mode`, value: 'hmac', message: 'hmac mode needs a key', fix: 'set hmac_key_file (or hmac_key_env), or use mode: mask' });
    }
    if (key !== undefined && Buffer.byteLength(key) < 16) problems.push({ path: `${path}.hmac_key_${redact.config.hmac_key_file !== undefined ? 'file' : 'env'}`, value: '(hidden)', message: 'the HMAC key is shorter than 16 bytes', fix: 'use at least 16 random bytes, e.g. `openssl rand -hex 32`' });
    else if (key !== undefined) out.redactHmacKey = key;
  }

  const http = usedOf<HttpReceiverConfig>(pipeline, 'receivers', 'http');
  if (http?.config.actor) {
    const path = `${at('receivers', http)}.actor`;
    const key = read(config, env, { file: http.config.actor.api_key_hmac_key_file, env: http.config.actor.api_key_hmac_key_env, path, name: 'api_key_hmac_key', fix: 'create it with `openssl rand -hex 32 > FILE` or fix the path' }, problems);
    if (key !== undefined && Buffer.byteLength(key) < 16) problems.push({ path: `${path}.api_key_hmac_key_file`, value: '(hidden)', message: 'the HMAC key is shorter than 16 bytes', fix: 'use at least 16 random bytes' });
    else if (key !== undefined) out.apiKeyHmacKey = key;
  }

  const alerts = usedOf<AlertsProcessorConfig>(pipeline, 'processors', 'alerts');
  (alerts?.config.notifiers ?? []).forEach((n, i) => {
    if (n.type !== 'webhook') return;
    const path = `${at('processors', alerts!)}.notifiers[${i}]`;
    const secret = read(config, env, { file: n.secret_file, env: n.secret_env, path, name: 'secret', fix: 'create it with `openssl rand -hex 32 > FILE` or fix the path' }, problems);
    if (secret === undefined && n.secret_file === undefined && n.secret_env === undefined) problems.push({ path: `${path}.secret_file`, value: undefined, message: 'a webhook needs a signing secret', fix: 'set secret_file or secret_env (at least 16 bytes)' });
    else if (secret !== undefined) out.webhookSecrets.set(i, secret);
  });

  const sqlite = usedOf<SqliteExporterConfig>(pipeline, 'exporters', 'sqlite');
  const enc = sqlite?.config.encryption;
  if (sqlite && enc?.enabled) {
    const path = `${at('exporters', sqlite)}.encryption`;
    const keyEnv = enc.key_env ?? (enc.key_file === undefined ? 'AUDIT_LOG_ENCRYPTION_KEY' : undefined);
    const key = read(config, env, { file: enc.key_file, env: keyEnv, path, name: 'key', fix: 'create a key with `openssl rand -base64 32 > FILE` or fix the path' }, problems);
    if (key !== undefined) {
      try {
        out.encryption = encryptionFromEnv({ AUDIT_LOG_ENCRYPTION: 'true', AUDIT_LOG_ENCRYPTION_KEY: key, AUDIT_LOG_ENCRYPTION_KEY_ID: enc.key_id });
      } catch {
        problems.push({ path: `${path}.key_${enc.key_file !== undefined ? 'file' : 'env'}`, value: '(hidden)', message: 'is not a 32-byte key (64 hex digits or base64)', fix: 'generate one with `openssl rand -base64 32`' });
      }
    }
  }
  return out;
}
