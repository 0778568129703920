/**
 * Verifier keys given on the command line (DESIGN §4.3): each `--key` is a
 * file holding one or more verifier keys (one a line, `#` comments) or the
 * key text itself. A key may be followed by its validity window,
 * `not_before=TIME` and/or `not_after=TIME`, in the file or in the `--key`
 * text, read by core's key-line reader as the server and otel-config.yaml's
 * `verifier_keys_file` read them; a checkpoint whose time lies outside it fails with
 * `key_out_of_window`. A signer (private) key is refused without echoing
 * it, so a mistaken `--key audit.key` never prints the secret. A signer key
 * is read from a file only (`--signer-key`), never from the command line,
 * and never echoed either; an empty one is named as empty, and one that
 * group or others may read gets a warning (POSIX only) naming `chmod 600`.
 */
import * as fs from 'node:fs';
import { Keyring, parseSignerKey, parseVerifierKeyLine, parseVerifierKeyLines, VerifierKeyLineError, type VerifierKeyEntry } from '@otel-audit/core';
import type { CommandContext } from '../command.js';
import { CliError } from '../errors.js';
import { resolvePath } from './inputs.js';
import { refuseSecretAsFileName } from './secret-names.js';

/**
 * A key-line error of core as the CLI's {@link CliError} (exit 2), message and fix unchanged.
 *
 * @example
 * try { parseVerifierKeyLine(text, '--key value') } catch (e) { throw asCliError(e) }
 */
export function asCliError(e: unknown): unknown {
  return e instanceof VerifierKeyLineError ? new CliError('AUDIT_CLI_KEY', e.message, e.fix) : e;
}

const PRIVATE_PREFIX = 'PRIVATE+KEY+';

/**
 * A trusted verifier key (canonical `name+hash+base64`) and the window in
 * which its signatures count (absent bounds: unbounded); what core's
 * `Keyring.from` and the server's `verifierKeys` take.
 *
 * @example
 * const entry: VerifierKeyEntry = { key: 'audit+1a2b3c4d+AQ...', notAfter: 1767225600000000000n };
 */
export type { VerifierKeyEntry };

/**
 * The verifier keys of the key file `file` (absolute), each with its
 * window: core's key-line reader, whose errors name the file and line.
 * Throws {@link CliError} (exit 2) for an unreadable file, for the first bad
 * line, and for a file without keys unless `emptyOk` (a config's
 * `verifier_keys_file` may list none, as the service accepts).
 *
 * @example
 * const entries = readVerifierKeyFile('/etc/otel-audit/trusted.vkey');
 */
export function readVerifierKeyFile(file: string, options: { emptyOk?: boolean } = {}): VerifierKeyEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError('AUDIT_CLI_KEY', `cannot read key file ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'give this user read access to the .vkey file');
  }
  const { keys, errors } = parseVerifierKeyLines(text, (n) => `key file ${file} line ${n}`);
  if (errors.length > 0) throw asCliError(errors[0]);
  if (keys.length === 0 && options.emptyOk !== true) throw new CliError('AUDIT_CLI_KEY', `key file ${file} holds no key`, 'pass the .vkey file written by `otel-audit keygen`');
  return [...keys];
}

/**
 * The verifier keys named by `--key` values (files or literal keys), each
 * with its window. Throws {@link CliError} (exit 2) for an unreadable file,
 * a private key, a malformed key or a malformed window, naming the file and
 * line or the `--key` value.
 *
 * @example
 * const entries = readVerifierKeys(ctx, ['audit.vkey', 'ops+1a2b3c4d+AQ... not_after=2026-01-01T00:00:00Z']);
 */
export function readVerifierKeys(ctx: Pick<CommandContext, 'cwd'>, values: readonly string[]): VerifierKeyEntry[] {
  const out: VerifierKeyEntry[] = [];
  values.forEach((value, i) => {
    const file = resolvePath(ctx, value);
    const exists = fs.existsSync(file);
    if (exists && !fs.statSync(file).isFile()) throw new CliError('AUDIT_CLI_KEY', `--key ${file} is not a file`, 'pass the .vkey file itself');
    if (exists) {
      out.push(...readVerifierKeyFile(file));
      return;
    }
    const words = value.trim().split(/\s+/);
    const where = values.length > 1 ? `--key value ${i + 1}` : '--key value';
    if (!value.includes(PRIVATE_PREFIX) && !words[0]!.includes('+')) {
      if (words.length > 1 && fs.existsSync(resolvePath(ctx, words[0]!))) {
        throw new CliError('AUDIT_CLI_KEY', `${where}: a window cannot follow a key file name`, 'write the window on the key\'s line inside the file (name+hash+base64 not_after=TIME), or pass the key text itself followed by the window');
      }
      throw new CliError('AUDIT_CLI_KEY', `cannot read key file ${file} (ENOENT)`, 'pass the .vkey file written by `otel-audit keygen` or the key text name+hash+base64');
    }
    try {
      out.push(parseVerifierKeyLine(value, where));
    } catch (e) {
      throw asCliError(e);
    }
  });
  return out;
}

/**
 * A keyring of the `--key` values; the same key given with several windows
 * is trusted in their union (core's `Keyring`).
 *
 * @example
 * const keyring = keyringOf(ctx, ctx.options['key'] as string[] | undefined);
 */
export function keyringOf(ctx: Pick<CommandContext, 'cwd'>, values: readonly string[] | undefined): Keyring {
  try {
    return Keyring.from(readVerifierKeys(ctx, values ?? []));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError('AUDIT_CLI_KEY', `the keys do not form a keyring: ${(e as Error).message}`, 'pass each verifier key once per window');
  }
}

/**
 * The warning for a signer key file `file` (absolute) that group or others
 * may read — anyone who can read it can sign checkpoints — or undefined
 * when only its owner may, or on Windows, where the mode bits say nothing.
 *
 * @example
 * const warning = looseSignerKeyWarning('/etc/otel-audit/audit.key', '--signer-key file');
 */
export function looseSignerKeyWarning(file: string, what: string): string | undefined {
  if (process.platform === 'win32') return undefined;
  let mode: number;
  try {
    mode = fs.statSync(file).mode;
  } catch {
    return undefined;
  }
  if ((mode & 0o077) === 0) return undefined;
  return `warning: ${what} ${file} is open to group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): `
    + `whoever reads it can sign checkpoints; fix: chmod 600 ${file}`;
}

/**
 * The signer key in the file `value` names (`otel-audit keygen`'s NAME.key),
 * checked. Throws {@link CliError} (exit 2) for an unreadable or empty file
 * or one that holds no valid signer key; the message never includes the
 * key. Warns on `ctx.stderr` when group or others may read the file.
 *
 * @example
 * const signerKey = readSignerKeyFile(ctx, 'collector.key', '--signer-key');
 */
export function readSignerKeyFile(ctx: Pick<CommandContext, 'cwd' | 'stderr'>, value: string, option: string): string {
  refuseSecretAsFileName(ctx, option, value, 'signer key file');
  const file = resolvePath(ctx, value);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new CliError('AUDIT_CLI_KEY', `cannot read ${option} file ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'pass the NAME.key file written by `otel-audit keygen`, readable by this user');
  }
  if (text === '') {
    throw new CliError('AUDIT_CLI_KEY', `${option} file ${file} is empty`, 'write a key pair with `otel-audit keygen --name NAME` and pass its NAME.key');
  }
  if (!text.startsWith(PRIVATE_PREFIX)) {
    throw new CliError('AUDIT_CLI_KEY', `${option} file ${file} holds no signer key (it should start with PRIVATE+KEY+)`, 'pass the NAME.key file of `otel-audit keygen`, not the .vkey');
  }
  try {
    parseSignerKey(text);
  } catch (e) {
    throw new CliError('AUDIT_CLI_KEY', `${option} file ${file} holds no valid signer key: ${(e as Error).message}`, 'generate one with `otel-audit keygen --name NAME`');
  }
  const warning = looseSignerKeyWarning(file, `${option} file`);
  if (warning !== undefined) ctx.stderr.write(`otel-audit: ${warning}\n`);
  return text;
}
