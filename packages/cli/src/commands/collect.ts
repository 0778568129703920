/**
 * `otel-audit collect` (DESIGN §1 use 3, §4.4, §5): the central OTLP/HTTP
 * logs receiver of @otel-audit/server. It verifies the audit records of
 * many services as they arrive and stores them with their checkpoints in
 * `--db`, printing each finding as it is raised (control characters
 * escaped: a finding quotes what a client sent), until interrupted. The
 * store is encrypted at rest as every other verb reads it, from
 * `AUDIT_LOG_ENCRYPTION(_KEY)`. Each `--token-env VAR=PREFIX[,PREFIX]` is a
 * sender token bound to the streams it may write; one without prefixes may
 * write any stream, and is warned about by name at start.
 */
import { once } from 'node:events';
import { EncryptionKeyError, SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { hashToken, startCollector, type RunningCollector, type SenderTokenInput } from '@otel-audit/server';
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

/**
 * One `--token-env` value, `VAR` or `VAR=PREFIX[,PREFIX]`: the token in
 * $VAR, named VAR in findings, bound to those stream-id prefixes. A value
 * the variable's name is not read from (a token pasted in its place, a
 * base64 one ending in `=`) is refused without being echoed.
 */
function senderTokenOf(ctx: Pick<CommandContext, 'env'>, value: string): SenderTokenInput & { name: string } {
  const eq = value.indexOf('=');
  const name = eq < 0 ? value : value.slice(0, eq);
  const rest = eq < 0 ? undefined : value.slice(eq + 1);
  if (rest !== undefined && /^=*$/.test(rest)) {
    throw new CliError('AUDIT_CLI_USAGE', `--token-env takes VAR or VAR=PREFIX[,PREFIX]; the value given (${value.length} characters) names no stream prefix after its =, and is not shown, as it may be a token itself`, 'pass the name of the variable holding the token, followed by the streams it may write, e.g. --token-env BILLING_TOKEN=billing-api/');
  }
  // A token pasted in place of the variable's name is not echoed.
  const token = secretFromEnv(ctx, '--token-env', name, 'AUDIT_COLLECT_TOKEN', 'the sender token', { existing: SENDER_TOKEN_SOURCE });
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new CliError('AUDIT_CLI_KEY', `environment variable ${name} holds a token of ${token.length} characters; a sender token needs at least ${MIN_TOKEN_LENGTH}`, `export ${name} with a long random token, e.g. \`export ${name}=$(openssl rand -hex 32)\``);
  }
  if (rest === undefined) return { digest: hashToken(token), name };
  const streams = rest.split(',').map((p) => p.trim());
  // eslint-disable-next-line no-control-regex
  if (streams.some((p) => p === '' || /[\u0000-\u001f\u007f\s]/.test(p))) {
    throw new CliError('AUDIT_CLI_USAGE', `--token-env ${name}=${escapeControl(rest)}: each stream prefix must be non-empty, without spaces`, `list the prefixes with commas, e.g. --token-env ${name}=billing-api/,billing-worker/`);
  }
  return { digest: hashToken(token), name, streams };
}

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
    'set in the services\' exporters.otlphttp.headers); others get 401 (a request_refused finding,',
    'at most one a minute with a count). Repeat it, one token per service, and bind each to the',
    'streams it may write: --token-env BILLING_TOKEN=billing-api/ (stream-id prefixes, comma-',
    'separated; a service\'s streams are service.name/instance). Its records of other streams are',
    'refused, each stream once a stream_not_allowed finding naming BILLING_TOKEN. A token without',
    'prefixes may write, and so take first, any service\'s stream: collect warns about it. Without',
    '--token-env, any client that reaches the port can append records: keep it on loopback.',
    'Check the store afterwards with `otel-audit verify DB` (the --db file, as an argument).',
    'AUDIT_LOG_ENCRYPTION=true with AUDIT_LOG_ENCRYPTION_KEY encrypts the store at rest.',
  ].join('\n'),
  options: [
    { name: 'listen', type: 'string', valueName: 'HOST:PORT', description: 'address to listen on', default: '127.0.0.1:4318' },
    { name: 'db', type: 'string', valueName: 'FILE', description: 'the central SQLite store (created when missing)', required: true },
    { name: 'key', alias: 'k', type: 'string[]', valueName: 'VKEY', description: 'trusted verifier key of the services\' checkpoints: a .vkey file or the key text, optionally followed by its window not_before=TIME not_after=TIME' },
    { name: 'signer-key', type: 'string', valueName: 'FILE', description: 'signer key (otel-audit keygen NAME.key) for the checkpoints of the collector\'s finding records' },
    { name: 'token-env', type: 'string[]', valueName: 'VAR[=PREFIX,...]', description: 'environment variable holding a token senders must present (Authorization: Bearer), and the stream-id prefixes it may write' },
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
    const senderTokens: (SenderTokenInput & { name: string })[] = [];
    for (const value of (ctx.options['token-env'] as string[] | undefined) ?? []) {
      const t = senderTokenOf(ctx, value);
      const twin = senderTokens.find((o) => o.name === t.name || o.digest === t.digest);
      if (twin?.name === t.name) throw new CliError('AUDIT_CLI_USAGE', `--token-env ${t.name} is given twice`, `give it once, with all its stream prefixes: --token-env ${t.name}=PREFIX,PREFIX`);
      if (twin !== undefined) throw new CliError('AUDIT_CLI_KEY', `environment variables ${twin.name} and ${t.name} hold the same token`, 'give each service a token of its own, so findings tell them apart and each can be bound to its streams');
      senderTokens.push(t);
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
      if (ctx.json) ctx.stdout.write(`${JSON.stringify({ url: collector.url, endpoint: `${collector.url}/v1/logs`, db: store.path, verifierKeys: keyCount, senderToken: senderTokens.length > 0, senderTokens: senderTokens.map((t) => ({ name: t.name, streams: t.streams ?? null })) })}\n`);
      else ctx.stdout.write(`otel-audit collecting into ${store.path}\n  OTLP/HTTP logs: ${collector.url}/v1/logs\n  ${keyCount} verifier key(s); ${senderTokens.length > 0 ? `senders need a token (${senderTokens.length})` : 'no sender token'}. Ctrl-C to stop.\n`);
      for (const t of senderTokens.filter((o) => o.streams === undefined)) {
        ctx.stderr.write(`otel-audit collect: warning: the token in ${t.name} may write any stream, so its holder can take another service's stream id first; bind it to its service's streams: --token-env ${t.name}=<service.name>/\n`);
      }
      if (senderTokens.length === 0 && !isLoopback(host)) {
        ctx.stderr.write(`otel-audit collect: warning: listening on ${host} without --token-env: any client that reaches it can append audit records\n`);
      }
      // The store keeps the findings of earlier runs: this run prints and counts only its own.
      const earlier = collector.findings().length;
      if (earlier > 0) ctx.stderr.write(`otel-audit collect: ${earlier} finding(s) from earlier runs are in the store (not repeated here)\n`);
      let shown = earlier;
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
      // Refused requests (a wrong token, a malformed body) are reported, but say nothing about the stored records.
      const found = collector.findings().slice(earlier);
      const integrity = found.filter((f) => f.code !== 'request_refused').length;
      ctx.stderr.write(`otel-audit collect: stopped; ${found.length} finding(s)\n`);
      return integrity > 0 ? 1 : 0;
    } finally {
      close();
    }
  },
};
