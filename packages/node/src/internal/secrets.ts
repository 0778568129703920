/**
 * Key material named by otel-config.yaml (DESIGN §4.3, §4.5, §6, §7): the
 * checkpoint signer key, the redaction HMAC key, the API-key fingerprint
 * key, webhook secrets and the encryption-at-rest key, each read from a
 * file (relative to the config file) or an environment variable named in
 * the file — never written in the file itself. Problems name the key path,
 * the file or the variable, and the fix; a secret's value never appears in
 * a message, nor does a secret pasted where a file or variable name belongs.
 * Each `sqlite` exporter has its own encryption settings, with the earlier
 * keys of a rotation (`previous_keys_file` / `previous_keys_env`).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { isValidKeyName, parseSignerKey, parseVerifierKeyLines, type VerifierKeyEntry } from '@otel-audit/core';
import { encryptionFromEnv, type EncryptionKey } from '@otel-audit/exporter-sqlite';
import type { AlertsProcessorConfig, AuditConfig, ChainProcessorConfig, HttpReceiverConfig, RedactProcessorConfig, SqliteExporterConfig } from '../config-types.js';
import type { ConfigProblem } from '../errors.js';
import { usedOf, type ResolvedPipeline, type UsedComponent } from './pipeline.js';
import { HIDDEN } from './secret-paths.js';

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
  /** Per `sqlite` exporter key (`sqlite`, `sqlite/backup`), for those with encryption on. */
  encryption: Map<string, EncryptionKey>;
  /** Per `sqlite` exporter key, the verifier keys of its `verifier_keys_file` with their windows (public, but named like the keys above). */
  verifierKeys: Map<string, VerifierKeyEntry[]>;
  /** What is usable but unsafe, one line each (a signer key file group or others may read). */
  warnings: string[];
}

interface SecretSpec {
  file: string | undefined;
  env: string | undefined;
  /** YAML path of the section holding `<name>_file` / `<name>_env`. */
  path: string;
  name: string;
  fix: string;
}

/** A secret read, with where it came from (for messages: never its value). */
interface Secret {
  value: string;
  /** YAML path of the `*_file` / `*_env` key it was named by. */
  path: string;
  /** `file "./keys/x.key"` or `environment variable X`. */
  origin: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEX_KEY = /^[0-9a-fA-F]{32,}$/;
const BASE64_KEY = /^[A-Za-z0-9+/_-]{22,}={0,2}$/;

/**
 * True when a value written where a file or variable name belongs looks like
 * key material itself: 32+ hex digits (16+ bytes), padded base64, or 22+
 * base64 characters mixing upper case, lower case and digits — no directory,
 * no extension. Names such as `./keys/hmac.key` or `AUDIT_HMAC_KEY_2` do not.
 */
function looksLikeSecret(value: string): boolean {
  if (HEX_KEY.test(value)) return true;
  if (!BASE64_KEY.test(value)) return false;
  if (value.endsWith('=')) return true;
  return !value.includes('/') && /[a-z]/.test(value) && /[A-Z]/.test(value) && /\d/.test(value);
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

function read(config: AuditConfig, env: NodeJS.ProcessEnv, spec: SecretSpec, problems: ConfigProblem[]): Secret | undefined {
  if (spec.file !== undefined) {
    const full = resolvePath(config, spec.file);
    const path = `${spec.path}.${spec.name}_file`;
    if (spec.file.startsWith('PRIVATE+KEY+')) {
      problems.push({ path, value: HIDDEN, message: 'holds a signer key itself, not a file name (the key is not shown)', fix: `save the key in a file readable only by this service and name that file here, or use ${spec.name}_env` });
      return undefined;
    }
    if (!existsSync(full) && looksLikeSecret(spec.file)) {
      // The secret itself, pasted where its file's name belongs: neither the message nor the value shows it.
      problems.push({ path, value: HIDDEN, message: 'is not the name of an existing file and looks like a key itself (long hex or base64, no directory, no extension); it is not shown', fix: `this looks like the secret itself: put it in a file readable only by this service and name the file here (e.g. ${spec.name}_file: ./keys/${spec.name}), or use ${spec.name}_env` });
      return undefined;
    }
    if (!existsSync(full)) {
      problems.push({ path, value: spec.file, message: `file "${spec.file}" does not exist${full !== spec.file ? ` (looked at ${full})` : ''}`, fix: spec.fix });
      return undefined;
    }
    if (!statSync(full).isFile()) {
      problems.push({ path, value: spec.file, message: `"${spec.file}" is not a file`, fix: spec.fix });
      return undefined;
    }
    try {
      return { value: readFileSync(full, 'utf8').trim(), path, origin: `file "${spec.file}"` };
    } catch (e) {
      problems.push({ path, value: spec.file, message: `file "${spec.file}" cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, fix: 'make it readable by this process' });
      return undefined;
    }
  }
  if (spec.env !== undefined) {
    const path = `${spec.path}.${spec.name}_env`;
    const named = ENV_NAME.test(spec.env);
    if (!named || (looksLikeSecret(spec.env) && env[spec.env] === undefined)) {
      // Most likely the secret itself, pasted where its variable's name belongs.
      const what = named ? 'is not a set environment variable and looks like a key itself (long hex or base64)' : 'is not an environment variable name (letters, digits and _)';
      problems.push({ path, value: HIDDEN, message: `${what}; it is not shown, as it may be the secret itself`, fix: `put the secret in an environment variable and write its name here (e.g. ${spec.name}_env: ${spec.name.toUpperCase()}), or use ${spec.name}_file` });
      return undefined;
    }
    const v = env[spec.env]?.trim();
    if (v === undefined || v === '') {
      problems.push({ path, value: spec.env, message: `environment variable ${spec.env} is not set`, fix: `set ${spec.env}, or use ${spec.name}_file` });
      return undefined;
    }
    return { value: v, path, origin: `environment variable ${spec.env}` };
  }
  return undefined;
}

/** A problem with a secret that was read: names its key and origin, never its value. */
function bad(secret: Secret, message: string, fix: string): ConfigProblem {
  return { path: secret.path, value: HIDDEN, message: `${message} (read from ${secret.origin}; the value is not shown)`, fix };
}

const MIN_KEY_BYTES = 16;

/**
 * The warning for a key file group or others may read (`mode & 0o077`):
 * whoever reads a signer key can sign checkpoints. POSIX only: on Windows
 * the mode bits say nothing about who may read the file.
 */
function looseFileWarning(config: AuditConfig, path: string, file: string): string | undefined {
  if (process.platform === 'win32') return undefined;
  const full = resolvePath(config, file);
  let mode: number;
  try {
    mode = statSync(full).mode;
  } catch {
    return undefined;
  }
  if ((mode & 0o077) === 0) return undefined;
  return `otel-audit: warning: ${path} "${file}" is open to group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): `
    + `whoever reads it can sign checkpoints; fix: chmod 600 ${full}`;
}

/**
 * How to create the signer key file the config names: `otel-audit keygen`
 * writes `DIR/NAME.key`, so for `./keys/audit.key` that is `--name audit
 * --out ./keys`, run where relative paths resolve (the config's directory).
 */
function signerKeyFix(file: string | undefined): string {
  const name = file === undefined ? undefined : basename(file, '.key');
  if (file === undefined || name === undefined || !file.endsWith('.key') || !/^[A-Za-z0-9._-]+$/.test(name) || !isValidKeyName(name)) {
    return 'run `otel-audit keygen --name NAME --out DIR` and point signer_key_file at DIR/NAME.key, or fix the path';
  }
  const where = isAbsolute(file) ? '' : ' in the config file\'s directory';
  return `run \`otel-audit keygen --name ${name} --out ${dirname(file)}\`${where} (it writes ${file}), or fix the path`;
}

/**
 * The verifier keys of a `.vkey` file, each with its validity window
 * (`name+hash+base64 not_before=TIME not_after=TIME`), read by core's
 * key-line reader as the CLI's `--key` reads them: one problem per bad line,
 * naming the file and line; a signer key found there is not shown.
 */
function verifierKeysOf(config: AuditConfig, path: string, file: string | undefined, problems: ConfigProblem[]): VerifierKeyEntry[] | undefined {
  if (file === undefined) return undefined;
  if (file.includes('PRIVATE+KEY+')) {
    problems.push({ path, value: HIDDEN, message: 'holds a signer key itself, not a file name (the key is not shown)', fix: 'list the verifier keys (.vkey) to trust in a file, one a line, and name that file here; keep the signer key secret' });
    return undefined;
  }
  const full = resolvePath(config, file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    problems.push({ path, value: file, message: code === 'ENOENT' ? `file "${file}" does not exist${full !== file ? ` (looked at ${full})` : ''}` : `file "${file}" cannot be read (${code ?? 'error'})`, fix: 'list the verifier keys (.vkey) to trust, one a line, or fix the path' });
    return undefined;
  }
  const { keys, errors } = parseVerifierKeyLines(text, (n) => `line ${n} of "${file}"`);
  for (const e of errors) problems.push({ path, value: file, message: e.message, fix: e.fix });
  return [...keys];
}

/**
 * Read and check every secret the pipeline uses.
 *
 * @example
 * const secrets = resolveSecrets(config, pipeline, process.env, problems);
 */
export function resolveSecrets(config: AuditConfig, pipeline: ResolvedPipeline, env: NodeJS.ProcessEnv, problems: ConfigProblem[]): ResolvedSecrets {
  const out: ResolvedSecrets = { webhookSecrets: new Map(), encryption: new Map(), verifierKeys: new Map(), warnings: [] };
  const at = (section: string, c: UsedComponent) => `${section}.${c.key}`;
  const longEnough = (secret: Secret | undefined): string | undefined => {
    if (secret !== undefined && Buffer.byteLength(secret.value) < MIN_KEY_BYTES) {
      problems.push(bad(secret, `the key is shorter than ${MIN_KEY_BYTES} bytes`, 'use at least 16 random bytes, e.g. `openssl rand -hex 32`'));
      return undefined;
    }
    return secret?.value;
  };

  const chain = usedOf<ChainProcessorConfig>(pipeline, 'processors', 'chain');
  if (chain) {
    const path = at('processors', chain);
    const secret = read(config, env, { file: chain.config.signer_key_file, env: chain.config.signer_key_env, path, name: 'signer_key', fix: signerKeyFix(chain.config.signer_key_file) }, problems);
    if (secret !== undefined && secret.value === '') {
      problems.push({ path: secret.path, value: chain.config.signer_key_file, message: `file "${chain.config.signer_key_file}" is empty`, fix: signerKeyFix(chain.config.signer_key_file) });
    } else if (secret !== undefined) {
      try {
        parseSignerKey(secret.value); // its messages never contain key material
        out.signerKey = secret.value;
        const loose = chain.config.signer_key_file === undefined ? undefined : looseFileWarning(config, secret.path, chain.config.signer_key_file);
        if (loose !== undefined) out.warnings.push(loose);
      } catch (e) {
        const verifier = secret.value.startsWith('PRIVATE+KEY+') ? '' : ' (a verifier key .vkey is not a signer key)';
        problems.push({ ...bad(secret, `does not hold a valid signer key${verifier}: ${(e as Error).message}`, 'point it at the NAME.key file (PRIVATE+KEY+...) written by `otel-audit keygen --name NAME --out DIR`'), value: chain.config.signer_key_file ?? chain.config.signer_key_env });
      }
    }
  }

  const redact = usedOf<RedactProcessorConfig>(pipeline, 'processors', 'redact');
  if (redact) {
    const path = at('processors', redact);
    const secret = read(config, env, { file: redact.config.hmac_key_file, env: redact.config.hmac_key_env, path, name: 'hmac_key', fix: 'create it with `openssl rand -hex 32 > FILE` or fix the path' }, problems);
    if (redact.config.mode === 'hmac' && secret === undefined && redact.config.hmac_key_file === undefined && redact.config.hmac_key_env === undefined) {
      problems.push({ path: `${path}.mode`, value: 'hmac', message: 'hmac mode needs a key', fix: 'set hmac_key_file (or hmac_key_env), or use mode: mask' });
    }
    const key = longEnough(secret);
    if (key !== undefined) out.redactHmacKey = key;
  }

  const http = usedOf<HttpReceiverConfig>(pipeline, 'receivers', 'http');
  if (http?.config.actor) {
    const path = `${at('receivers', http)}.actor`;
    const key = longEnough(read(config, env, { file: http.config.actor.api_key_hmac_key_file, env: http.config.actor.api_key_hmac_key_env, path, name: 'api_key_hmac_key', fix: 'create it with `openssl rand -hex 32 > FILE` or fix the path' }, problems));
    if (key !== undefined) out.apiKeyHmacKey = key;
  }

  const alerts = usedOf<AlertsProcessorConfig>(pipeline, 'processors', 'alerts');
  (alerts?.config.notifiers ?? []).forEach((n, i) => {
    if (n.type !== 'webhook') return;
    const path = `${at('processors', alerts!)}.notifiers[${i}]`;
    const secret = read(config, env, { file: n.secret_file, env: n.secret_env, path, name: 'secret', fix: 'create it with `openssl rand -hex 32 > FILE` or fix the path' }, problems);
    if (secret === undefined && n.secret_file === undefined && n.secret_env === undefined) problems.push({ path: `${path}.secret_file`, value: undefined, message: 'a webhook needs a signing secret', fix: 'set secret_file or secret_env (at least 16 bytes)' });
    const key = longEnough(secret);
    if (key !== undefined) out.webhookSecrets.set(i, key);
  });

  for (const sqlite of pipeline.exporters.filter((c) => c.type === 'sqlite') as UsedComponent<SqliteExporterConfig>[]) {
    const keys = verifierKeysOf(config, `${at('exporters', sqlite)}.verifier_keys_file`, sqlite.config.verifier_keys_file, problems);
    if (keys !== undefined) out.verifierKeys.set(sqlite.key, keys);
    const enc = sqlite.config.encryption;
    if (!enc?.enabled) continue;
    const path = `${at('exporters', sqlite)}.encryption`;
    const keyEnv = enc.key_env ?? (enc.key_file === undefined ? 'AUDIT_LOG_ENCRYPTION_KEY' : undefined);
    const secret = read(config, env, { file: enc.key_file, env: keyEnv, path, name: 'key', fix: 'create a key with `openssl rand -base64 32 > FILE` or fix the path' }, problems);
    const previous = read(config, env, { file: enc.previous_keys_file, env: enc.previous_keys_env, path, name: 'previous_keys', fix: 'list every earlier key of the store, one per line or comma-separated, each KEY or KEY_ID:KEY, or fix the path' }, problems);
    if (secret === undefined) continue;
    const vars: Record<string, string | undefined> = { AUDIT_LOG_ENCRYPTION: 'true', AUDIT_LOG_ENCRYPTION_KEY: secret.value, AUDIT_LOG_ENCRYPTION_KEY_ID: enc.key_id };
    try {
      encryptionFromEnv(vars);
    } catch {
      problems.push(bad(secret, 'is not a 32-byte key written as 64 hex digits or base64', 'generate one with `openssl rand -base64 32`'));
      continue;
    }
    if (previous !== undefined) vars.AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS = previous.value.replace(/\s*\n\s*/g, ',');
    try {
      out.encryption.set(sqlite.key, encryptionFromEnv(vars)!);
    } catch (e) {
      // The message names the entry by its position, never its value.
      const which = /entry \d+( key id)?/.exec((e as Error).message)?.[0] ?? 'an entry';
      const what = which.endsWith('key id') ? 'has a key id that is not 1-64 characters of [A-Za-z0-9._:-]' : 'is not a 32-byte key written as 64 hex digits or base64';
      problems.push(bad(previous!, `${which} ${what}`, 'list each earlier key as KEY or KEY_ID:KEY, one per line or comma-separated'));
    }
  }
  return out;
}
