/**
 * Temporary directories holding a copy of a database (DESIGN §6 `retention
 * --dry-run`, §7 read-only verbs on a database SQLite cannot read in place):
 * created with mode 0700 in the OS temp dir and removed when the verb ends,
 * including when it is interrupted: the removal listens to the context's
 * `signal`, which `main` aborts on SIGINT/SIGTERM while the directory
 * exists (`catchSignals`) before the process dies of the signal, so a
 * Ctrl-C leaves no copy of the audit data behind.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliError } from '../errors.js';

/**
 * A temporary directory and how to remove it (idempotent).
 *
 * @example
 * const tmp = createTempDir('otel-audit-ro-', ctx.signal);
 * try { ... } finally { tmp.remove(); }
 */
export interface TempDir {
  readonly dir: string;
  readonly remove: () => void;
}

/**
 * What a temporary directory is tied to: the context's signal and, when run
 * with the process's signals, how to have SIGINT/SIGTERM abort it.
 *
 * @example
 * createTempDir('otel-audit-ro-', ctx satisfies Interruptible);
 */
export interface Interruptible {
  readonly signal?: AbortSignal;
  readonly catchSignals?: () => () => void;
}

/**
 * Creates `os.tmpdir()/<prefix>XXXXXX` (mode 0700) and removes it when the
 * context's signal aborts (SIGINT/SIGTERM, or the caller's abort), or when
 * `remove()` is called, whichever comes first.
 *
 * @example
 * const tmp = createTempDir('otel-audit-retention-', ctx);
 */
export function createTempDir(prefix: string, ctx: Interruptible): TempDir {
  const { signal } = ctx;
  if (signal?.aborted === true) throw new CliError('AUDIT_CLI_USAGE', 'interrupted', 'run the command again');
  const release = ctx.catchSignals?.();
  let dir: string;
  try {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  } catch (e) {
    release?.();
    throw e;
  }
  const remove = (): void => {
    signal?.removeEventListener('abort', remove);
    fs.rmSync(dir, { recursive: true, force: true });
    release?.();
  };
  signal?.addEventListener('abort', remove, { once: true });
  return { dir, remove };
}
