/**
 * What `otel-audit serve` takes from otel-config.yaml (DESIGN §7, the
 * `extensions.audit_server` component): the endpoint, the token digests,
 * the store path of `exporters.sqlite`, the verifier keys of its
 * `verifier_keys_file` with their validity windows (the key lines `--key`
 * reads), and the chain's signer key (its verifier key trusts the service's
 * checkpoints; the key itself signs the server's access stream). Loaded
 * with @otel-audit/node's `loadConfig`, so the file is validated exactly as
 * the service validates it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseSignerKey, type VerifierKeyEntry } from '@otel-audit/core';
import { ConfigError, formatProblem, loadConfig, type AuditConfig, type ChainProcessorConfig, type SqliteExporterConfig } from '@otel-audit/node';
import type { CommandContext } from '../command.js';
import { CliError } from '../errors.js';
import { looseSignerKeyWarning, readVerifierKeyFile } from './keys.js';

/**
 * A server token entry as the config holds it: a SHA-256 digest, never the token.
 *
 * @example
 * const entry: TokenEntry = { name: 'cli', role: 'admin', sha256: hashToken(token) };
 */
export interface TokenEntry { name: string; role: 'admin' | 'auditor'; sha256: string }

/**
 * The serve settings found in a config file.
 *
 * @example
 * const { db, host, port, tokens }: ServeConfig = readServeConfig(ctx, 'otel-config.yaml');
 */
export interface ServeConfig {
  db?: string;
  host?: string;
  port?: number;
  tokens: TokenEntry[];
  /**
   * The keys of `exporters.sqlite.verifier_keys_file`, each in its window,
   * and the chain signer's verifier key, always valid unless that file
   * lists it too (then its window there counts).
   */
  verifierKeys: VerifierKeyEntry[];
  signerKey?: string;
}

function component<T>(map: Record<string, unknown> | undefined, type: string): T | undefined {
  if (map === undefined) return undefined;
  const key = Object.keys(map).find((k) => k === type || k.startsWith(`${type}/`));
  return key === undefined ? undefined : (map[key] as T);
}

function parseEndpoint(endpoint: string | undefined): { host?: string; port?: number } {
  if (endpoint === undefined) return {};
  const m = /^(.*):(\d{1,5})$/.exec(endpoint);
  if (!m) return { host: endpoint };
  return { host: (m[1] as string).replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
}

function signerKeyOf(config: AuditConfig, ctx: Pick<CommandContext, 'env' | 'stderr'>): string | undefined {
  const env = ctx.env;
  const chain = component<ChainProcessorConfig>(config.processors as Record<string, unknown> | undefined, 'chain');
  if (chain?.signer_key_file !== undefined) {
    const file = path.resolve(config.baseDir ?? process.cwd(), chain.signer_key_file);
    if (!fs.existsSync(file)) return undefined;
    const warning = looseSignerKeyWarning(file, 'processors.chain.signer_key_file');
    if (warning !== undefined) ctx.stderr.write(`otel-audit: ${warning}\n`);
    return fs.readFileSync(file, 'utf8').trim();
  }
  if (chain?.signer_key_env !== undefined) return env[chain.signer_key_env]?.trim() || undefined;
  return undefined;
}

/**
 * Loads and validates otel-config.yaml at `file` as the service would.
 * `secrets: false` leaves the key files and secret variables it names
 * unread and unchecked, for verbs that use none (status). Throws
 * {@link CliError} (exit 2) listing every problem, key path first.
 *
 * @example
 * const config = readConfigFile(ctx, 'otel-config.yaml');
 */
export function readConfigFile(ctx: Pick<CommandContext, 'cwd' | 'env'>, file: string, options: { secrets?: boolean } = {}): AuditConfig {
  try {
    return loadConfig({ path: file, env: ctx.env, cwd: ctx.cwd, ...(options.secrets === false ? { secrets: false } : {}) });
  } catch (e) {
    if (e instanceof ConfigError) {
      throw new CliError('AUDIT_CLI_INPUT', `${file} is not a valid configuration:\n${e.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`, 'fix the keys named above (the service would refuse the file too)');
    }
    throw e;
  }
}

/**
 * Reads the serve settings from the config file at `file`. Throws
 * {@link CliError} (exit 2) with every config problem, key path first.
 *
 * @example
 * const { tokens, db } = readServeConfig(ctx, 'otel-config.yaml');
 */
export function readServeConfig(ctx: Pick<CommandContext, 'cwd' | 'env' | 'stderr'>, file: string): ServeConfig {
  const config = readConfigFile(ctx, file);
  const server = component<{ endpoint?: string; tokens?: TokenEntry[] }>(config.extensions as Record<string, unknown> | undefined, 'audit_server');
  const sqlite = component<SqliteExporterConfig>(config.exporters as Record<string, unknown> | undefined, 'sqlite');
  const signerKey = signerKeyOf(config, ctx);
  let own: string | undefined;
  if (signerKey !== undefined) {
    try {
      own = parseSignerKey(signerKey).verifierKey;
    } catch {
      own = undefined;
    }
  }
  const listed = sqlite?.verifier_keys_file === undefined ? [] : readVerifierKeyFile(path.resolve(config.baseDir ?? ctx.cwd, sqlite.verifier_keys_file), { emptyOk: true });
  const verifierKeys = [...(own !== undefined && !listed.some((e) => e.key === own) ? [{ key: own }] : []), ...listed];
  return {
    ...(sqlite?.path !== undefined ? { db: path.resolve(config.baseDir ?? ctx.cwd, sqlite.path) } : {}),
    ...parseEndpoint(server?.endpoint),
    tokens: [...(server?.tokens ?? [])],
    verifierKeys,
    ...(own !== undefined && signerKey !== undefined ? { signerKey } : {}),
  };
}
