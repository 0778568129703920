/**
 * `otel-audit serve` (DESIGN §1): the query API and dashboard of
 * @otel-audit/server over a SQLite store, until interrupted. Tokens come
 * from the config's `extensions.audit_server` (SHA-256 digests), or
 * `--token-env VAR` names a variable holding a token (16 characters or
 * more) for a quick admin session; no token is ever printed. Every API call
 * is an access record in the server's own stream of the same store: with
 * `--signer-key` (or the config's chain signer key) its checkpoints are
 * signed, so the store still verifies; without one the stream is unsigned
 * and serve says so, naming the `--unsigned-ok` that verify then needs.
 */
import { parseSignerKey } from '@otel-audit/core';
import { createAuditServer, hashToken } from '@otel-audit/server';
import { JSON_OPTION, type Command } from '../command.js';
import { CliError } from '../errors.js';
import { openStore } from '../internal/inputs.js';
import { readSignerKeyFile, readVerifierKeys } from '../internal/keys.js';
import { secretFromEnv } from '../internal/secret-names.js';
import { readServeConfig, type ServeConfig, type TokenEntry } from '../internal/serve-config.js';

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 4319;
/** Shortest `--token-env` token accepted: a guessable admin token would open the whole log. */
const MIN_TOKEN_LENGTH = 16;

function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * The `serve` verb.
 *
 * @example
 * // export AUDIT_TOKEN=$(openssl rand -hex 32)
 * // otel-audit serve --db audit.db --token-env AUDIT_TOKEN --key audit.vkey --signer-key audit.key
 * await main(['serve', '--db', 'audit.db', '--token-env', 'AUDIT_TOKEN', '--key', 'audit.vkey', '--signer-key', 'audit.key'], { env, signal });
 */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the query API and dashboard over a store (until Ctrl-C)',
  longRunning: true,
  details: [
    'With --config, the store path, endpoint, tokens (extensions.audit_server), the chain',
    'signer key and the verifier keys of exporters.sqlite.verifier_keys_file (with their',
    'windows, as in a --key file) come from otel-config.yaml; options given here take precedence.',
    '--token-env VAR adds an admin token read from $VAR (use it for a quick local session;',
    `at least ${MIN_TOKEN_LENGTH} characters, e.g. export VAR=$(openssl rand -hex 32)).`,
    'Every API call is recorded in the server\'s own access stream in the same database, so',
    'the file is opened for writing: on a running service\'s database serve is a second',
    'writer (see the @otel-audit/server README).',
    '--signer-key FILE (otel-audit keygen NAME.key) signs that stream\'s checkpoints and its',
    'verifier key is trusted too (with the window --key gives it, if --key names it as well);',
    'without a signer key the stream is unsigned and `otel-audit verify --key ...` needs',
    '`--unsigned-ok <stream>` (serve prints the name).',
    'A --key may carry a validity window (not_before=TIME not_after=TIME after the key, see',
    '`otel-audit verify --help`); integrity reports fail checkpoints signed outside it.',
    'Listens on 127.0.0.1 unless --host says otherwise. A request reaching it on loopback',
    'must name a loopback Host (localhost, 127.0.0.1, [::1]), else it is refused with 421',
    '(DNS rebinding); behind a proxy that passes its own Host on, or under another name,',
    'list that name with --allowed-host NAME (then every request\'s Host is checked).',
  ].join('\n'),
  options: [
    { name: 'db', type: 'string', valueName: 'FILE', description: 'the SQLite audit database (default: exporters.sqlite.path of --config)' },
    { name: 'host', type: 'string', valueName: 'HOST', description: `address to listen on (default ${DEFAULT_HOST})` },
    { name: 'port', type: 'number', valueName: 'PORT', description: `port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)` },
    { name: 'config', alias: 'c', type: 'string', valueName: 'FILE', description: 'otel-config.yaml to read the server settings from' },
    { name: 'token-env', type: 'string', valueName: 'VAR', description: 'environment variable holding an admin token' },
    { name: 'key', alias: 'k', type: 'string[]', valueName: 'VKEY', description: 'trusted verifier key for integrity reports: a .vkey file or the key text, optionally followed by its window not_before=TIME not_after=TIME' },
    { name: 'allowed-host', type: 'string[]', valueName: 'NAME', description: 'a Host name the server answers to besides localhost, 127.0.0.1 and [::1], without a port' },
    { name: 'signer-key', type: 'string', valueName: 'FILE', description: 'signer key (otel-audit keygen NAME.key) for the checkpoints of the server\'s access stream' },
    JSON_OPTION,
  ],
  async run(ctx) {
    const fromConfig: ServeConfig = typeof ctx.options['config'] === 'string' ? readServeConfig(ctx, ctx.options['config']) : { tokens: [], verifierKeys: [] };
    const db = (ctx.options['db'] as string | undefined) ?? fromConfig.db;
    if (db === undefined) throw new CliError('AUDIT_CLI_USAGE', 'no database: pass --db FILE or --config with exporters.sqlite.path', 'otel-audit serve --db audit.db --token-env AUDIT_TOKEN');
    const tokens: TokenEntry[] = [...fromConfig.tokens];
    const envName = ctx.options['token-env'];
    if (typeof envName === 'string') {
      // Tokens pasted in place of the variable's name are not echoed.
      const token = secretFromEnv(ctx, '--token-env', envName, 'AUDIT_TOKEN', 'a long random token');
      const fix = `export ${envName} with a long random token, e.g. \`export ${envName}=$(openssl rand -hex 32)\``;
      if (token.length < MIN_TOKEN_LENGTH) throw new CliError('AUDIT_CLI_KEY', `environment variable ${envName} holds a token of ${token.length} characters; an admin token needs at least ${MIN_TOKEN_LENGTH}`, fix);
      tokens.push({ name: 'cli', role: 'admin', sha256: hashToken(token) });
    }
    if (tokens.length === 0) {
      throw new CliError('AUDIT_CLI_USAGE', 'no tokens: nobody could use the server', 'list tokens in extensions.audit_server.tokens of --config, or pass --token-env VAR');
    }
    const port = (ctx.options['port'] as number | undefined) ?? fromConfig.port ?? DEFAULT_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError('AUDIT_CLI_USAGE', `--port must be 0..65535; got ${port}`, 'pass e.g. --port 4319');
    const host = (ctx.options['host'] as string | undefined) ?? fromConfig.host ?? DEFAULT_HOST;
    const signerKeyFile = ctx.options['signer-key'] as string | undefined;
    const fileSignerKey = signerKeyFile === undefined ? undefined : readSignerKeyFile(ctx, signerKeyFile, '--signer-key');
    const signerKey = fileSignerKey ?? fromConfig.signerKey;
    // As with the config's chain key, the verifier key of the key that signs the access stream is
    // trusted — always, unless --key names that key too: then the window given there is the one that
    // counts (the keyring trusts a key in the union of its windows, so an unbounded copy would void it).
    // The config's keys (its verifier_keys_file, with windows) give way to --key's the same way.
    const given = readVerifierKeys(ctx, (ctx.options['key'] as string[] | undefined) ?? []);
    const givenKeys = new Set(given.map((e) => e.key));
    const ownKey = fileSignerKey === undefined ? undefined : parseSignerKey(fileSignerKey).verifierKey;
    const implied = [
      ...fromConfig.verifierKeys,
      ...(ownKey !== undefined && !fromConfig.verifierKeys.some((e) => e.key === ownKey) ? [{ key: ownKey }] : []),
    ].filter((e) => !givenKeys.has(e.key));
    const verifierKeys = [...implied, ...given];
    const keyCount = new Set(verifierKeys.map((e) => e.key)).size;
    const { store, close } = openStore(ctx, db);
    try {
      let server: ReturnType<typeof createAuditServer>;
      try {
        server = createAuditServer({
          store, tokens, verifierKeys,
          ...(signerKey !== undefined ? { signerKey } : {}),
          ...(ctx.options['allowed-host'] !== undefined ? { allowedHosts: ctx.options['allowed-host'] as string[] } : {}),
          onError: (e) => ctx.stderr.write(`otel-audit serve: ${e instanceof Error ? e.message : String(e)}\n`),
        });
      } catch (e) {
        const message = (e as Error).message;
        throw new CliError('AUDIT_CLI_USAGE', message, message.startsWith('options.allowedHosts')
          ? 'give --allowed-host a host name or IP address without a port, e.g. --allowed-host audit.example.com'
          : 'check the tokens of extensions.audit_server (name, role admin|auditor, sha256 of the token)');
      }
      let url: string;
      try {
        ({ url } = await server.listen(port, host));
      } catch (e) {
        await server.close();
        const code = (e as NodeJS.ErrnoException).code;
        throw new CliError('AUDIT_CLI_INPUT', `cannot listen on ${host}:${port} (${code ?? (e as Error).message})`, code === 'EADDRINUSE' ? 'pick another --port, or stop what is using it' : 'check --host and --port');
      }
      const summary = { url, db, tokens: tokens.length, verifierKeys: keyCount, accessStream: server.stream, accessStreamSigned: server.signed };
      if (ctx.json) ctx.stdout.write(`${JSON.stringify(summary)}\n`);
      else ctx.stdout.write(`otel-audit serving ${db}\n  dashboard and API: ${url}\n  ${tokens.length} token(s); ${keyCount} verifier key(s); access records go to stream ${JSON.stringify(server.stream)}${server.signed ? ', signed' : ''}. Ctrl-C to stop.\n`);
      if (!server.signed) {
        ctx.stderr.write(`otel-audit serve: warning: access records go to the unsigned stream ${server.stream} (no --signer-key); `
          + `the dashboard's integrity panel (/api/audit/integrity) reports it not verified, written without a signer key, and `
          + `\`otel-audit verify ${db} --key ...\` reports it NOT VERIFIED unless given --unsigned-ok ${server.stream}; `
          + 'to sign it, start serve with --signer-key FILE (`otel-audit keygen --name NAME` writes one)\n');
      }
      await waitForAbort(ctx.signal);
      await server.close();
      ctx.stderr.write('otel-audit serve: stopped\n');
      return 0;
    } finally {
      close();
    }
  },
};
