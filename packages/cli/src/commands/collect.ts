/**
 * `otel-audit collect` (DESIGN §1 use 3, §4.4, §5): the central OTLP/HTTP
 * logs receiver of @otel-audit/server. It verifies the audit records of
 * many services as they arrive and stores them with their checkpoints in
 * `--db`, printing each finding as it is raised (control characters
 * escaped: a finding quotes what a client sent), until interrupted. The
 * store is encrypted at rest as every other verb reads it, from
 * `AUDIT_LOG_ENCRYPTION(_KEY)`.
 */
import { once } from 'node:events';
import { EncryptionKeyError, SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { hashToken, startCollector, type RunningCollector } from '@otel-audit/server';
import { JSON_OPTION, type Command, type CommandContext } from '../command.js';
import { CliError } from '../errors.js';
import { resolvePath, storeOptionsOf } from '../internal/inputs.js';
import { readSignerKeyFile, readVerifierKeys } from '../internal/keys.js';
import { secretFromEnv } from '../internal/secret-names.js';
import { escapeControl } from '../internal/table.js';

function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new CliError('AUDIT_CLI_USAGE', `--listen ${value} is not HOST:PORT`, 'pass e.g. --listen 127.0.0.1:4318 (0.0.0.0:4318 to accept other machines)');
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** The central store is created when missing (other verbs read stores that must exist). */
function openStoreForWriting(ctx: Pick<CommandContext, 'cwd' | 'env'>, file: string): { store: SqliteAuditStore; close: () => void } {
  const resolved = resolvePath(ctx, file);
  const options = storeOptionsOf(ctx);
  try {
    const store = new SqliteAuditStore(resolved, options);
    return { store, close: () => store.close() };
  } catch (e) {
    if (e instanceof EncryptionKeyError) throw new CliError('AUDIT_CLI_KEY', e.message, 'set AUDIT_LOG_ENCRYPTION_KEY to the key the central store was written with');
    throw new CliError('AUDIT_CLI_INPUT', `cannot open ${resolved} as the central store: ${(e as Error).message}`, 'pass a writable path for --db (a new file is created)');
  }
}

function positiveInteger(value: unknown, option: string, example: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new CliError('AUDIT_CLI_USAGE', `${option} must be a positive whole number; got ${String(value)}`, `pass ${example}`);
  return value;
}

/** Shortest `--token-env` token accepted. */
const MIN_TOKEN_LENGTH = 16;
/** The services may already send a token: a new one would lock them out, unless they are given it too. */
const SENDER_TOKEN_SOURCE = 'the token the services already send (Authorization: Bearer <token> in their exporters.otlphttp.headers), or, for a first setup, a new one, e.g. `openssl rand -hex 32`, set in those headers too';

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The `collect` verb.
 *
 * @example
 * await main(['collect', '--listen', '127.0.0.1:4318', '--db', 'central.db', '--key', 'audit.vkey'], { signal });
 */
export const collectCommand: Command = {
  name: 'collect',
  summary: 'receive audit records over OTLP/HTTP (/v1/logs), verify and store them (until Ctrl-C)',
  longRunning: true,
  details: [
    'Point the services\' exporters.otlphttp.endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT) here.',
    'JSON and protobuf, gzip. Records are verified as they arrive (in any order; retries are',
    'ignored); findings are printed, stored in collector_findings and written as',
    'system/integrity_failure records in the collector\'s own stream (with --signer-key each is',
    'committed with a signed checkpoint; without, verify with --unsigned-ok otel-audit-collector/<host>).',
    'A --key may carry a validity window (not_before=TIME not_after=TIME after the key, see',
    '`otel-audit verify --help`): a checkpoint signed outside it is a key_out_of_window finding.',
    '--token-env VAR requires senders to present the token in $VAR (Authorization: Bearer <token>,',
    'set in the services\' exporters.otlphttp.headers); others get 401. Without it, any client',
    'that reaches the port can append records: keep it on loopback, or give a token.',
    'Check the store afterwards with `otel-audit verify DB` (the --db file, as an argument).',
    'AUDIT_LOG_ENCRYPTION=true with AUDIT_LOG_ENCRYPTION_KEY encrypts the store at rest.',
  ].join('\n'),
  options: [
    { name: 'listen', type: 'string', valueName: 'HOST:PORT', description: 'address to listen on', default: '127.0.0.1:4318' },
    { name: 'db', type: 'string', valueName: 'FILE', description: 'the central SQLite store (created when missing)', required: true },
    { name: 'key', alias: 'k', type: 'string[]', valueName: 'VKEY', description: 'trusted verifier key of the services\' checkpoints: a .vkey file or the key text, optionally followed by its window not_before=TIME not_after=TIME' },
    { name: 'signer-key', type: 'string', valueName: 'FILE', description: 'signer key (otel-audit keygen NAME.key) for the checkpoints of the collector\'s finding records' },
    { name: 'token-env', type: 'string', valueName: 'VAR', description: 'environment variable holding the token senders must present (Authorization: Bearer)' },
    { name: 'max-body-mib', type: 'number', valueName: 'MIB', default: 8, description: 'largest request body, also after gunzip (413 beyond)' },
    { name: 'max-records', type: 'number', valueName: 'N', default: 10_000, description: 'most log records in one request (413 beyond)' },
    { name: 'max-parked', type: 'number', valueName: 'N', default: 10_000, description: 'most records waiting for a missing predecessor, all streams together (further ones are refused)' },
    JSON_OPTION,
  ],
  async run(ctx) {
    const { host, port } = parseListen(String(ctx.options['listen']));
    const maxBodyMib = positiveInteger(ctx.options['max-body-mib'], '--max-body-mib', 'e.g. --max-body-mib 16');
    const maxRecords = positiveInteger(ctx.options['max-records'], '--max-records', 'e.g. --max-records 20000');
    const maxParked = positiveInteger(ctx.options['max-parked'], '--max-parked', 'e.g. --max-parked 50000');
    const verifierKeys = readVerifierKeys(ctx, (ctx.options['key'] as string[] | undefined) ?? []);
    const keyCount = new Set(verifierKeys.map((e) => e.key)).size;
    const signerKeyFile = ctx.options['signer-key'] as string | undefined;
    const signerKey = signerKeyFile === undefined ? undefined : readSignerKeyFile(ctx, signerKeyFile, '--signer-key');
    const senderTokens: string[] = [];
    const tokenEnv = ctx.options['token-env'];
    if (typeof tokenEnv === 'string') {
      // A token pasted in place of the variable's name is not echoed.
      const token = secretFromEnv(ctx, '--token-env', tokenEnv, 'AUDIT_COLLECT_TOKEN', 'the sender token', { existing: SENDER_TOKEN_SOURCE });
      if (token.length < MIN_TOKEN_LENGTH) {
        throw new CliError('AUDIT_CLI_KEY', `environment variable ${tokenEnv} holds a token of ${token.length} characters; a sender token needs at least ${MIN_TOKEN_LENGTH}`, `export ${tokenEnv} with a long random token, e.g. \`export ${tokenEnv}=$(openssl rand -hex 32)\``);
      }
      senderTokens.push(hashToken(token));
    }
    const { store, close } = openStoreForWriting(ctx, String(ctx.options['db']));
    try {
      let collector: RunningCollector;
      try {
        collector = await startCollector({ host, port, store, verifierKeys, senderTokens, maxBodyBytes: maxBodyMib * 1024 * 1024, maxRecordsPerRequest: maxRecords, maxParkedRecords: maxParked, ...(signerKey !== undefined ? { signerKey } : {}) });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new CliError('AUDIT_CLI_INPUT', `cannot listen on ${host}:${port} (${code ?? (e as Error).message})`, code === 'EADDRINUSE' ? 'pick another --listen port, or stop what is using it' : 'check --listen');
      }
      if (ctx.json) ctx.stdout.write(`${JSON.stringify({ url: collector.url, endpoint: `${collector.url}/v1/logs`, db: store.path, verifierKeys: keyCount, senderToken: senderTokens.length > 0 })}\n`);
      else ctx.stdout.write(`otel-audit collecting into ${store.path}\n  OTLP/HTTP logs: ${collector.url}/v1/logs\n  ${keyCount} verifier key(s); ${senderTokens.length > 0 ? 'senders need the token' : 'no sender token'}. Ctrl-C to stop.\n`);
      if (senderTokens.length === 0 && !isLoopback(host)) {
        ctx.stderr.write(`otel-audit collect: warning: listening on ${host} without --token-env: any client that reaches it can append audit records\n`);
      }
      let shown = 0;
      const show = (): void => {
        const all = collector.findings();
        for (const f of all.slice(shown)) {
          ctx.stdout.write(ctx.json ? `${JSON.stringify({ finding: f })}\n` : `finding ${escapeControl(f.code)} ${escapeControl(f.stream)}${f.seq !== undefined ? ` seq ${f.seq}` : ''}: ${escapeControl(f.message)}\n`);
        }
        shown = all.length;
      };
      const timer = setInterval(show, 1_000);
      if (!ctx.signal.aborted) await once(ctx.signal, 'abort');
      clearInterval(timer);
      await collector.close();
      show();
      ctx.stderr.write(`otel-audit collect: stopped; ${shown} finding(s)\n`);
      return shown > 0 ? 1 : 0;
    } finally {
      close();
    }
  },
};
