/**
 * Options that take the name of a secret's holder — `--token-env VAR`,
 * `--key-env VAR`, `--key-file FILE`, `--signer-key FILE` — and the secret
 * pasted in its place (DESIGN §7: the CLI never prints a secret). When the
 * value names no variable or file, an error would normally echo it; here a
 * value that is not a variable name, or that looks like a secret (long,
 * with the digits or mixed case of random text, or a signer key), is
 * described by its length instead, as the config loader of @otel-audit/node
 * hides `*_env` values that are not names.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CommandContext } from '../command.js';
import { CliError } from '../errors.js';
import { assertReadableFile, resolvePath } from './inputs.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** UPPER_SNAKE_CASE with short words (AUDIT_TOKEN_2024): how variables are named, not how secrets look. */
const UPPER_SNAKE = /^_*[A-Z][A-Z0-9]{0,11}(?:_+[A-Z0-9]{1,12})*_*$/;
/** Shortest token or key the verbs accept: anything shorter cannot be one. */
const MIN_SECRET_LENGTH = 16;

/**
 * True when `value` may be a secret rather than a name: a signer key, or 16
 * characters or more without spaces that hold `+` or `=` (base64), 4 digits
 * and 4 letters (hex, base62), or lower case, upper case and digits.
 *
 * @example
 * looksLikeSecret('AUDIT_TOKEN')                         // false
 * looksLikeSecret('3f9a1c0be4d27a8e5b6c9d0f1a2b3c4d')    // true
 */
export function looksLikeSecret(value: string): boolean {
  if (value.startsWith('PRIVATE+KEY+')) return true;
  if (value.length < MIN_SECRET_LENGTH || /\s/.test(value) || UPPER_SNAKE.test(value)) return false;
  const digits = value.replace(/[^0-9]/g, '').length;
  const letters = value.replace(/[^A-Za-z]/g, '').length;
  return /[+=]/.test(value) || (digits >= 4 && letters >= 4) || (/[a-z]/.test(value) && /[A-Z]/.test(value) && digits > 0);
}

/** How a hidden value is described: its length, never its text. */
function hidden(value: string): string {
  return `the value given (${value.length} characters) looks like a secret itself; it is not shown`;
}

/**
 * Where the secret behind a `--...-env` option comes from, for the fix when
 * it is missing. `{ create: true }`: the user makes it now (serve's admin
 * token), so the fix suggests generating one. `{ existing }`: it already
 * exists elsewhere (hash-value's redaction key, a verifier or encryption
 * key), and `existing` says where to find it — a freshly generated one could
 * never match what the old one made.
 *
 * @example
 * const source: SecretSource = { existing: 'it is the key processors.redact already uses (hmac_key_file or hmac_key_env)' };
 */
export type SecretSource = { readonly create: true } | { readonly existing: string };

/**
 * The trimmed value of the environment variable `name`, given as `option`
 * (`--token-env`). Throws a {@link CliError} (exit 2) when it is unset or
 * empty; `name` is echoed only when it is a variable name that does not
 * look like a secret. `example` is a variable name to suggest; `source`
 * (default: made now) decides whether the fix suggests generating the
 * secret or says where the existing one is.
 *
 * @example
 * const token = secretFromEnv(ctx, '--token-env', 'AUDIT_TOKEN', 'AUDIT_TOKEN', 'the admin token');
 * const key = secretFromEnv(ctx, '--key-env', 'K', 'AUDIT_HMAC_KEY', 'the redaction key', { existing: 'it is the key of processors.redact' });
 */
export function secretFromEnv(ctx: Pick<CommandContext, 'env'>, option: string, name: string, example: string, what: string, source: SecretSource = { create: true }): string {
  const usage = 'existing' in source
    ? `put ${what} in an environment variable and pass its name (\`export ${example}=...\` then \`${option} ${example}\`); ${source.existing}`
    : `put ${what} in an environment variable and pass its name, e.g. \`export ${example}=$(openssl rand -hex 32)\` then \`${option} ${example}\``;
  if (!ENV_NAME.test(name)) {
    const why = looksLikeSecret(name) ? hidden(name) : `it is not shown, as it may be the secret itself (${name.length} characters)`;
    throw new CliError('AUDIT_CLI_KEY', `${option} takes the name of an environment variable (letters, digits and _, not starting with a digit); ${why}`, usage);
  }
  const value = ctx.env[name]?.trim();
  if (value !== undefined && value !== '') return value;
  if (looksLikeSecret(name)) throw new CliError('AUDIT_CLI_KEY', `${option} takes the name of an environment variable, and no variable of that name is set; ${hidden(name)}`, usage);
  const fix = 'existing' in source
    ? `export ${name} with ${what}: ${source.existing}`
    : `export ${name} with ${what}, e.g. \`export ${name}=$(openssl rand -hex 32)\``;
  throw new CliError('AUDIT_CLI_KEY', `environment variable ${name} is not set (${option})`, fix);
}

/**
 * A file path the user typed: has an extension, or a directory part that exists.
 */
function pathShaped(ctx: Pick<CommandContext, 'cwd'>, value: string): boolean {
  if (value.startsWith('PRIVATE+KEY+')) return false;
  if (/\.[A-Za-z][A-Za-z0-9]{0,7}$/.test(value)) return true;
  return /[\\/]/.test(value) && fs.existsSync(path.dirname(resolvePath(ctx, value)));
}

/**
 * Refuses (exit 2), without echoing it, a `value` given as `option` (e.g.
 * `--signer-key`) that names no file and looks like a secret rather than a
 * file name. Other values pass: the caller's own message may name them.
 *
 * @example
 * refuseSecretAsFileName(ctx, '--signer-key', value, 'signer key file');
 */
export function refuseSecretAsFileName(ctx: Pick<CommandContext, 'cwd'>, option: string, value: string, what: string): void {
  if (!fs.existsSync(resolvePath(ctx, value)) && looksLikeSecret(value) && !pathShaped(ctx, value)) {
    throw new CliError('AUDIT_CLI_KEY', `${option} takes the path of the ${what}, and no file of that name exists; ${hidden(value)}`,
      `save the secret in a file readable only by this user (chmod 600) and pass its path to ${option}`);
  }
}

/**
 * `value` (given as `option`, e.g. `--key-file`) resolved against the cwd
 * and checked to be a readable file, refused without being echoed when it
 * looks like the secret itself (see {@link refuseSecretAsFileName}).
 *
 * @example
 * const file = secretFilePath(ctx, '--key-file', 'redact.key', 'HMAC key file');
 */
export function secretFilePath(ctx: Pick<CommandContext, 'cwd'>, option: string, value: string, what: string): string {
  refuseSecretAsFileName(ctx, option, value, what);
  const file = resolvePath(ctx, value);
  assertReadableFile(file, what);
  return file;
}
