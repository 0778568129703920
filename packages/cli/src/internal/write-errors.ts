/**
 * What the CLI says when output cannot be written (DESIGN §7: messages name
 * the problem and the fix): the reason of a failed write in plain words,
 * and the {@link CliError} of an `--out FILE` that could not be created or
 * filled — naming the file, since a full disk, a quota, a read-only mount
 * or a missing permission each have their own fix, and none of them is
 * "check the inputs".
 */
import * as path from 'node:path';
import { CliError } from '../errors.js';

/** Plain words for the errno codes a write or create meets. */
const REASONS: Readonly<Record<string, string>> = Object.freeze({
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EIO: 'input/output error',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  EEXIST: 'the file exists',
});

/** The errno code of a Node system error (`ENOSPC`), or undefined for other errors. */
export function errnoOf(error: unknown): string | undefined {
  const e = error as { code?: unknown; syscall?: unknown } | null | undefined;
  return typeof e?.code === 'string' && typeof e.syscall === 'string' ? e.code : undefined;
}

/**
 * The reason of a failed write in plain words: `no space left on device`.
 *
 * @example
 * reasonOf({ code: 'ENOSPC', syscall: 'write', message: 'ENOSPC: ...' }) // 'no space left on device'
 */
export function reasonOf(error: unknown): string {
  const code = errnoOf(error);
  if (code !== undefined && REASONS[code] !== undefined) return REASONS[code];
  return error instanceof Error ? error.message : String(error);
}

/** The fix for output to `where` ("the filesystem of x.ndjson") that failed with `code`; `elsewhere` is the way out. */
export function writeFixOf(code: string | undefined, where: string, elsewhere: string): string {
  switch (code) {
    case 'ENOSPC': return `free space on ${where}, or ${elsewhere}, then run the command again`;
    case 'EDQUOT': return `free space within your disk quota on ${where}, or ${elsewhere}, then run the command again`;
    case 'EIO': return `check the disk of ${where} (input/output error), or ${elsewhere}, then run the command again`;
    default: return `check ${where}, or ${elsewhere}, then run the command again`;
  }
}

/**
 * The error to throw for `file` (an `--out` of `verb`) that could not be
 * created or written: a {@link CliError} naming the file, the reason and
 * the fix when `error` is a system error; `error` itself otherwise (a store
 * error keeps its own message and fix). The caller removes a partial file.
 *
 * @example
 * catch (e) { fs.rmSync(out, { force: true }); throw outputFileError(e, out, 'export'); }
 */
export function outputFileError(error: unknown, file: string, verb: string): unknown {
  const code = errnoOf(error);
  if (code === undefined) return error;
  const syscall = (error as { syscall: string }).syscall;
  const created = syscall === 'open' || syscall === 'fchmod';
  if (code === 'EEXIST') return new CliError('AUDIT_CLI_EXISTS', `cannot create ${file} (EEXIST)`, `choose another --out; ${verb} never overwrites a file`);
  const problem = created ? `cannot create ${file}: ${reasonOf(error)} (${code})` : `cannot write ${file}: ${reasonOf(error)} (${code}); the partial file was removed`;
  const dir = path.dirname(file);
  let fix: string;
  switch (code) {
    case 'EFBIG': fix = `${file} grew past the size this process may write (ulimit -f): raise the limit or choose another --out, then run the command again`; break;
    case 'EROFS': fix = `${dir} is on a read-only filesystem: choose an --out on a writable one`; break;
    case 'EACCES': case 'EPERM': fix = `this user may not write in ${dir}: choose an --out in a directory this user may write`; break;
    case 'ENOENT': case 'ENOTDIR': fix = `check that the directory ${dir} exists, or choose another --out`; break;
    case 'EISDIR': fix = 'pass a file name to --out, not a directory'; break;
    default: fix = writeFixOf(code, `the filesystem of ${file}`, 'choose another --out');
  }
  return new CliError('AUDIT_CLI_OUTPUT', problem, fix);
}
