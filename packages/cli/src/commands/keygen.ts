/**
 * `otel-audit keygen` (DESIGN §4.3, §7): creates a checkpoint signing key
 * pair with core's `generateNoteKey` — `NAME.key` (the signer, created with
 * mode 0600 and never overwritten) and `NAME.vkey` (the verifier, public),
 * in `--out DIR` (created with mode 0700 when missing) — and prints the
 * paths and the verifier key, never the signer key.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateNoteKey, isValidKeyName } from '@otel-audit/core';
import { JSON_OPTION, type Command } from '../command.js';
import { CliError } from '../errors.js';
import { resolvePath } from '../internal/inputs.js';
import { writePrivateFile } from '../internal/private-file.js';
import { toJson } from '../internal/table.js';

/** File-name-safe form of a key name (`audit.example/api` → `audit.example_api`). */
function fileStem(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

/**
 * Makes sure `dir` is a directory: creates it (and its parents) with mode
 * 0700 when missing — it is about to hold a signer key — and refuses a path
 * that is something else. True when it was created.
 */
function outDirectory(dir: string): boolean {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError('AUDIT_CLI_INPUT', `cannot read --out ${dir} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'pass a directory this user may write');
  }
  if (stat !== undefined) {
    if (!stat.isDirectory()) throw new CliError('AUDIT_CLI_INPUT', `--out ${dir} is a file, not a directory`, 'pass a directory for the key files (one that does not exist yet is created), e.g. --out keys');
    return false;
  }
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new CliError('AUDIT_CLI_INPUT', `cannot create the directory --out ${dir} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'check that its parent exists and is writable by this user, or pass another --out');
  }
  return true;
}

/**
 * The `keygen` verb.
 *
 * @example
 * await main(['keygen', '--name', 'audit.example', '--out', 'keys']); // keys/audit.example.key + .vkey
 */
export const keygenCommand: Command = {
  name: 'keygen',
  summary: 'create a checkpoint signing key pair (NAME.key, mode 0600, and NAME.vkey)',
  details: [
    'The key name appears on every checkpoint signature line; use something that',
    'identifies the service, e.g. billing-api.example. Point',
    'processors.chain.signer_key_file at NAME.key; give NAME.vkey to verifiers',
    '(`otel-audit verify --key NAME.vkey`). Existing files are never overwritten.',
  ].join('\n'),
  options: [
    { name: 'name', type: 'string', valueName: 'NAME', required: true, description: 'key name (no spaces, no "+")' },
    { name: 'out', type: 'string', valueName: 'DIR', description: 'directory to write the files to, created (mode 0700) when missing (default: current directory)' },
    JSON_OPTION,
  ],
  async run(ctx) {
    const name = String(ctx.options['name']);
    if (!isValidKeyName(name)) {
      throw new CliError('AUDIT_CLI_USAGE', `--name ${JSON.stringify(name)} is not a valid key name`, 'use a name without spaces or "+", e.g. billing-api.example');
    }
    const dir = resolvePath(ctx, typeof ctx.options['out'] === 'string' ? ctx.options['out'] : '.');
    const created = outDirectory(dir);
    const signerFile = path.join(dir, `${fileStem(name)}.key`);
    const verifierFile = path.join(dir, `${fileStem(name)}.vkey`);
    for (const file of [signerFile, verifierFile]) {
      if (fs.existsSync(file)) {
        throw new CliError('AUDIT_CLI_EXISTS', `${file} already exists; keygen never overwrites a key`, 'choose another --name or --out, or move the old key away first (checkpoints it signed need its .vkey)');
      }
    }
    const pair = generateNoteKey(name);
    try {
      writePrivateFile(signerFile, `${pair.signerKey}\n`);
    } catch (e) {
      throw new CliError('AUDIT_CLI_INPUT', `cannot create ${signerFile} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'check that the directory is writable');
    }
    try {
      writePrivateFile(verifierFile, `${pair.verifierKey}\n`, 0o644); // public: verifiers read it
    } catch (e) {
      fs.rmSync(signerFile, { force: true });
      throw new CliError('AUDIT_CLI_INPUT', `cannot create ${verifierFile} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'check that the directory is writable');
    }
    if (ctx.json) {
      ctx.stdout.write(toJson({ name, signerKeyFile: signerFile, verifierKeyFile: verifierFile, verifierKey: pair.verifierKey }));
    } else {
      ctx.stdout.write(
        (created ? `created ${dir} (mode 0700)\n` : '') +
        `signer key:   ${signerFile} (mode 0600, keep it secret; processors.chain.signer_key_file)\n` +
        `verifier key: ${verifierFile}\n` +
        `${pair.verifierKey}\n`,
      );
    }
    return 0;
  },
};
