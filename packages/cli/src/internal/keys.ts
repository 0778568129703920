/**
 * Verifier keys given on the command line (DESIGN §4.3): each `--key` is a
 * file holding one or more verifier keys (one a line, `#` comments) or the
 * key text itself. A signer (private) key is refused without echoing it, so
 * a mistaken `--key audit.key` never prints the secret. A signer key is
 * read from a file only (`--signer-key`), never from the command line, and
 * never echoed either.
 */
import * as fs from 'node:fs';
import { Keyring, parseSignerKey, parseVerifierKey } from '@otel-audit/core';
import type { CommandContext } from '../command.js';
import { CliError } from '../errors.js';
import { resolvePath } from './inputs.js';
import { refuseSecretAsFileName } from './secret-names.js';

const PRIVATE_PREFIX = 'PRIVATE+KEY+';

function keyLines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

/**
 * The verifier key texts named by `--key` values (files or literal keys).
 * Throws {@link CliError} (exit 2) for an unreadable file, a private key or
 * a malformed key.
 *
 * @example
 * const texts = readVerifierKeys(ctx, ['audit.vkey', 'ops+1a2b3c4d+AQ...']);
 */
export function readVerifierKeys(ctx: Pick<CommandContext, 'cwd'>, values: readonly string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    const file = resolvePath(ctx, value);
    const exists = fs.existsSync(file);
    if (exists && !fs.statSync(file).isFile()) throw new CliError('AUDIT_CLI_KEY', `--key ${file} is not a file`, 'pass the .vkey file itself');
    const isFile = exists;
    let lines: string[];
    let where: string;
    if (isFile) {
      try {
        lines = keyLines(fs.readFileSync(file, 'utf8'));
      } catch (e) {
        throw new CliError('AUDIT_CLI_KEY', `cannot read key file ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'give this user read access to the .vkey file');
      }
      if (lines.length === 0) throw new CliError('AUDIT_CLI_KEY', `key file ${file} holds no key`, 'pass the .vkey file written by `otel-audit keygen`');
      where = `key file ${file}`;
    } else {
      if (!value.includes('+')) {
        throw new CliError('AUDIT_CLI_KEY', `cannot read key file ${file} (ENOENT)`, 'pass the .vkey file written by `otel-audit keygen` or the key text name+hash+base64');
      }
      lines = [value.trim()];
      where = '--key value';
    }
    for (const line of lines) {
      if (line.startsWith(PRIVATE_PREFIX)) {
        throw new CliError('AUDIT_CLI_KEY', `${where} holds a signer (private) key`, 'pass the verifier key (.vkey), never the signer key; keep the .key file secret');
      }
      try {
        parseVerifierKey(line);
      } catch (e) {
        throw new CliError('AUDIT_CLI_KEY', `${where} is not a valid verifier key: ${(e as Error).message}`, 'pass the .vkey file written by `otel-audit keygen` (name+hash+base64)');
      }
      out.push(line);
    }
  }
  return out;
}

/**
 * A keyring of the `--key` values.
 *
 * @example
 * const keyring = keyringOf(ctx, ctx.options['key'] as string[] | undefined);
 */
export function keyringOf(ctx: Pick<CommandContext, 'cwd'>, values: readonly string[] | undefined): Keyring {
  try {
    return Keyring.from(readVerifierKeys(ctx, values ?? []));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError('AUDIT_CLI_KEY', `the keys do not form a keyring: ${(e as Error).message}`, 'pass each verifier key once');
  }
}

/**
 * The signer key in the file `value` names (`otel-audit keygen`'s NAME.key),
 * checked. Throws {@link CliError} (exit 2) for an unreadable file or one
 * that holds no valid signer key; the message never includes the key.
 *
 * @example
 * const signerKey = readSignerKeyFile(ctx, 'collector.key', '--signer-key');
 */
export function readSignerKeyFile(ctx: Pick<CommandContext, 'cwd'>, value: string, option: string): string {
  refuseSecretAsFileName(ctx, option, value, 'signer key file');
  const file = resolvePath(ctx, value);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new CliError('AUDIT_CLI_KEY', `cannot read ${option} file ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'pass the NAME.key file written by `otel-audit keygen`, readable by this user');
  }
  if (!text.startsWith(PRIVATE_PREFIX)) {
    throw new CliError('AUDIT_CLI_KEY', `${option} file ${file} holds no signer key (it should start with PRIVATE+KEY+)`, 'pass the NAME.key file of `otel-audit keygen`, not the .vkey');
  }
  try {
    parseSignerKey(text);
  } catch (e) {
    throw new CliError('AUDIT_CLI_KEY', `${option} file ${file} holds no valid signer key: ${(e as Error).message}`, 'generate one with `otel-audit keygen NAME`');
  }
  return text;
}
