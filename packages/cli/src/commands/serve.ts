/**
 * `otel-audit serve` (DESIGN §1): the query API and dashboard of
 * @otel-audit/server over a SQLite store, until interrupted. Tokens come
 * from the config's `extensions.audit_server` (SHA-256 digests), or
 * `--token-env VAR` names a variable holding a token for a quick admin
 * session; no token is ever printed.
 */
import { createAuditServer, hashToken } from '@otel-audit/server';
import { JSON_OPTION, type Command } from '../command.js';
import { CliError } from '../errors.js';
import { openStore } from '../internal/inputs.js';
import { readVerifierKeys } from '../internal/keys.js';
import { readServeConfig, type ServeConfig, type TokenEntry } from '../internal/serve-config.js';

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 4319;

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
 * // AUDIT_TOKEN=... otel-audit serve --db audit.db --token-env AUDIT_TOKEN
 * await main(['serve', '--db', 'audit.db', '--token-env', 'AUDIT_TOKEN'], { signal });
 */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the query API and dashboard over a store (until Ctrl-C)',
  longRunning: true,
  details: [
    'With --config, the store path, endpoint, tokens (extensions.audit_server) and the',
    'chain signer key come from otel-config.yaml; options given here take precedence.',
    '--token-env VAR adds an admin token read from $VAR (use it for a quick local session).',
    'Listens on 127.0.0.1 unless --host says otherwise.',
  ].join('\n'),
  options: [
    { name: 'db', type: 'string', valueName: 'FILE', description: 'the SQLite audit database (default: exporters.sqlite.path of --config)' },
    { name: 'host', type: 'string', valueName: 'HOST', description: `address to listen on (default ${DEFAULT_HOST})` },
    { name: 'port', type: 'number', valueName: 'PORT', description: `port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)` },
    { name: 'config', alias: 'c', type: 'string', valueName: 'FILE', description: 'otel-config.yaml to read the server settings from' },
    { name: 'token-env', type: 'string', valueName: 'VAR', description: 'environment variable holding an admin token' },
    { name: 'key', alias: 'k', type: 'string[]', valueName: 'VKEY', description: 'trusted verifier key for integrity reports' },
    JSON_OPTION,
  ],
  async run(ctx) {
    const fromConfig: ServeConfig = typeof ctx.options['config'] === 'string' ? readServeConfig(ctx, ctx.options['config']) : { tokens: [], verifierKeys: [] };
    const db = (ctx.options['db'] as string | undefined) ?? fromConfig.db;
    if (db === undefined) throw new CliError('AUDIT_CLI_USAGE', 'no database: pass --db FILE or --config with exporters.sqlite.path', 'otel-audit serve --db audit.db --token-env AUDIT_TOKEN');
    const tokens: TokenEntry[] = [...fromConfig.tokens];
    const envName = ctx.options['token-env'];
    if (typeof envName === 'string') {
      const token = ctx.env[envName];
      if (token === undefined || token.trim() === '') throw new CliError('AUDIT_CLI_KEY', `environment variable ${envName} is not set`, `export ${envName} with a long random token, e.g. \`export ${envName}=$(openssl rand -hex 32)\``);
      tokens.push({ name: 'cli', role: 'admin', sha256: hashToken(token.trim()) });
    }
    if (tokens.length === 0) {
      throw new CliError('AUDIT_CLI_USAGE', 'no tokens: nobody could use the server', 'list tokens in extensions.audit_server.tokens of --config, or pass --token-env VAR');
    }
    const port = (ctx.options['port'] as number | undefined) ?? fromConfig.port ?? DEFAULT_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError('AUDIT_CLI_USAGE', `--port must be 0..65535; got ${port}`, 'pass e.g. --port 4319');
    const host = (ctx.options['host'] as string | undefined) ?? fromConfig.host ?? DEFAULT_HOST;
    const verifierKeys = [...fromConfig.verifierKeys, ...readVerifierKeys(ctx, (ctx.options['key'] as string[] | undefined) ?? [])];
    const { store, close } = openStore(ctx, db);
    try {
      let server: ReturnType<typeof createAuditServer>;
      try {
        server = createAuditServer({
          store, tokens, verifierKeys,
          ...(fromConfig.signerKey !== undefined ? { signerKey: fromConfig.signerKey } : {}),
          onError: (e) => ctx.stderr.write(`otel-audit serve: ${e instanceof Error ? e.message : String(e)}\n`),
        });
      } catch (e) {
        throw new CliError('AUDIT_CLI_USAGE', (e as Error).message, 'check the tokens of extensions.audit_server (name, role admin|auditor, sha256 of the token)');
      }
      let url: string;
      try {
        ({ url } = await server.listen(port, host));
      } catch (e) {
        await server.close();
        const code = (e as NodeJS.ErrnoException).code;
        throw new CliError('AUDIT_CLI_INPUT', `cannot listen on ${host}:${port} (${code ?? (e as Error).message})`, code === 'EADDRINUSE' ? 'pick another --port, or stop what is using it' : 'check --host and --port');
      }
      if (ctx.json) ctx.stdout.write(`${JSON.stringify({ url, db, tokens: tokens.length, verifierKeys: verifierKeys.length })}\n`);
      else ctx.stdout.write(`otel-audit serving ${db}\n  dashboard and API: ${url}\n  ${tokens.length} token(s); ${verifierKeys.length} verifier key(s). Ctrl-C to stop.\n`);
      await waitForAbort(ctx.signal);
      await server.close();
      ctx.stderr.write('otel-audit serve: stopped\n');
      return 0;
    } finally {
      close();
    }
  },
};
