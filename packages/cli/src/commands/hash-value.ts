/**
 * `otel-audit hash-value` (DESIGN §4.5): computes what redaction in `hmac`
 * mode writes in place of a value — `hmac-sha256:<hex>` of the value's
 * UTF-8 text (a string) or of its canonical JSON (any other JSON value),
 * keyed by the redaction key — so an investigator holding a known value can
 * find or confirm the redacted field. The key is read the way the config
 * reads `processors.redact.hmac_key_file`/`hmac_key_env` (trimmed) and is
 * never printed.
 */
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import { canonicalize } from '@otel-audit/core';
import { JSON_OPTION, type Command } from '../command.js';
import { CliError } from '../errors.js';
import { secretFilePath, secretFromEnv } from '../internal/secret-names.js';
import { toJson } from '../internal/table.js';

const MIN_KEY_BYTES = 16;
/** Where the key is: a new one would hash to values found nowhere in the store. */
const REDACTION_KEY_SOURCE = 'it is the key processors.redact already uses (the file its hmac_key_file names — pass that file with --key-file instead — or the variable its hmac_key_env names); a newly generated key cannot reproduce the stored hmac-sha256: values';

/**
 * The `hash-value` verb.
 *
 * @example
 * await main(['hash-value', 'alice@example.com', '--key-file', 'redact.key']); // hmac-sha256:4f1c...
 */
export const hashValueCommand: Command = {
  name: 'hash-value',
  summary: 'HMAC a known value as hmac redaction does, to match a redacted field',
  details: [
    'Pass the same key as processors.redact (hmac_key_file or hmac_key_env).',
    'VALUE is hashed as a string; with --as json it is parsed as JSON first',
    '(numbers, booleans, objects are hashed by their canonical JSON text).',
    'Then search for it, e.g. `otel-audit query --db audit.db --text hmac-sha256:...`.',
  ].join('\n'),
  positionals: [{ name: 'value', description: 'the known value', required: true }],
  options: [
    { name: 'key-file', type: 'string', valueName: 'FILE', description: 'file holding the redaction HMAC key' },
    { name: 'key-env', type: 'string', valueName: 'VAR', description: 'environment variable holding the redaction HMAC key' },
    { name: 'as', type: 'string', choices: ['string', 'json'], default: 'string', description: 'how to read VALUE' },
    JSON_OPTION,
  ],
  async run(ctx) {
    const file = ctx.options['key-file'];
    const envName = ctx.options['key-env'];
    if ((file === undefined) === (envName === undefined)) {
      throw new CliError('AUDIT_CLI_USAGE', 'pass exactly one of --key-file and --key-env', 'use the key of processors.redact (hmac_key_file or hmac_key_env)');
    }
    let key: string;
    if (typeof file === 'string') {
      key = fs.readFileSync(secretFilePath(ctx, '--key-file', file, 'HMAC key file'), 'utf8').trim();
    } else {
      key = secretFromEnv(ctx, '--key-env', String(envName), 'AUDIT_HMAC_KEY', 'the redaction key', { existing: REDACTION_KEY_SOURCE });
    }
    if (Buffer.byteLength(key) < MIN_KEY_BYTES) {
      throw new CliError('AUDIT_CLI_KEY', `the HMAC key is shorter than ${MIN_KEY_BYTES} bytes, so it cannot be a redaction key`, 'pass the key configured in processors.redact');
    }
    const raw = ctx.positionals[0] as string;
    let text = raw;
    if (ctx.options['as'] === 'json') {
      try {
        const value: unknown = JSON.parse(raw);
        text = typeof value === 'string' ? value : canonicalize(value);
      } catch (e) {
        // JSON.parse's message quotes the input, and VALUE is the secret being looked for: only where it broke is shown.
        const at = /at position (\d+)/.exec((e as Error).message)?.[1];
        throw new CliError('AUDIT_CLI_USAGE', `VALUE is not JSON${at === undefined ? '' : ` (it breaks at character ${Number(at) + 1})`}; the value is not shown`, 'quote it for the shell, e.g. \'{"a":1}\', or drop --as json');
      }
    }
    const hashed = `hmac-sha256:${createHmac('sha256', Buffer.from(key, 'utf8')).update(text).digest('hex')}`;
    ctx.stdout.write(ctx.json ? toJson({ value: hashed }) : `${hashed}\n`);
    return 0;
  },
};
