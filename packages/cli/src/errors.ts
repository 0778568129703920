/**
 * Domain errors of the `otel-audit` command (DESIGN §7: usage errors name the
 * key, the bad value and the fix). A {@link CliError} thrown from a verb is
 * caught by `main`, printed to stderr as `otel-audit <verb>: <problem>` plus
 * the fix, and turned into its exit code (2 unless said otherwise).
 */
import { AuditError } from '@otel-audit/core';

/**
 * Stable codes of CLI errors.
 *
 * @example
 * if (e instanceof CliError && (e.code as CliErrorCode) === 'AUDIT_CLI_KEY') console.error(e.fix);
 */
export type CliErrorCode = 'AUDIT_CLI_USAGE' | 'AUDIT_CLI_INPUT' | 'AUDIT_CLI_KEY' | 'AUDIT_CLI_EXISTS' | 'AUDIT_CLI_OUTPUT';

/**
 * A problem the user can fix: bad option, unreadable input, bad key, output
 * that could not be written (`AUDIT_CLI_OUTPUT`: a full disk, a quota).
 *
 * @example
 * throw new CliError('AUDIT_CLI_INPUT', `cannot read ${path}: ENOENT`, 'check the path; pass the database file');
 */
export class CliError extends AuditError {
  /** What the user should do about it. */
  readonly fix: string;
  /** Exit code `main` returns for it. */
  readonly exitCode: number;

  constructor(code: CliErrorCode, message: string, fix: string, exitCode = 2) {
    super(code, message);
    this.name = 'CliError';
    this.fix = fix;
    this.exitCode = exitCode;
  }
}

/**
 * The fix to print for errors of the other packages that reach `main`
 * unwrapped, by their stable code — one place, like the server's status map.
 *
 * @example
 * FIX_OF_CODE['AUDIT_STORE_KEY_INVALID'] // 'set AUDIT_LOG_ENCRYPTION=true and ...'
 */
export const FIX_OF_CODE: Readonly<Record<string, string>> = Object.freeze({
  AUDIT_STORE_KEY_INVALID: 'set AUDIT_LOG_ENCRYPTION=true, AUDIT_LOG_ENCRYPTION_KEY and AUDIT_LOG_ENCRYPTION_KEY_ID to the key the store was written with',
  AUDIT_STORE_SCHEMA_NEWER: 'upgrade @otel-audit/cli to the version that wrote the store',
  AUDIT_STORE_OPEN_FAILED: 'check that the file is an otel-audit store and that this user may write beside it',
  AUDIT_STORE_WRITE_FAILED: 'check disk space and permissions, then run the command again',
  AUDIT_RETENTION_REFUSED: 'run `otel-audit verify` on the database: retention refuses records that no longer verify',
  AUDIT_STORE_CHAIN_CONFLICT: 'a service is writing the same stream: run retention --apply while it is stopped',
  AUDIT_BUNDLE_MALFORMED: 'pass a bundle written by `otel-audit export --format bundle`',
  AUDIT_EXPORT_REFUSED: 'run `otel-audit verify` on the database: it reports the rows named above; export a range that starts after them, or the whole stream',
});

/** The variables' names only: whether a current encryption key is configured, never its value. */
function keyGiven(env: Readonly<Record<string, string | undefined>>): boolean {
  const on = (env['AUDIT_LOG_ENCRYPTION'] ?? '').trim().toLowerCase();
  return (on === 'true' || on === '1') && (env['AUDIT_LOG_ENCRYPTION_KEY'] ?? '').trim() !== '';
}

/**
 * The fix to print for an error of another package that reaches `main`
 * unwrapped: {@link FIX_OF_CODE}, except for data sealed with a key id none
 * of the configured keys has while a key is configured (after a rotation:
 * the store's earlier key is missing, not the current one).
 *
 * @example
 * fixOfError({ code: 'AUDIT_STORE_KEY_INVALID', keyId: 'k1', message: '... not among the configured keys ...' }, env)
 */
export function fixOfError(error: unknown, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const e = error as { code?: unknown; keyId?: unknown; message?: unknown } | null | undefined;
  if (typeof e?.code !== 'string') return undefined;
  if (e.code === 'AUDIT_STORE_KEY_INVALID' && typeof e.keyId === 'string' && typeof e.message === 'string'
    && e.message.includes('not among the configured keys') && keyGiven(env)) {
    return `set AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS to the earlier key the store's data was sealed with, as ${JSON.stringify(e.keyId)}:KEY `
      + '(KEY: its 64 hex digits or base64; several keys comma-separated), keeping AUDIT_LOG_ENCRYPTION_KEY the current key';
  }
  return FIX_OF_CODE[e.code];
}
