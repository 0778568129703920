/**
 * What an operator should do about a store that cannot be opened or written
 * (a disk-full review): SQLite says `database or disk is full`, `disk I/O
 * error` for a filesystem remounted read-only, or `unable to open database
 * file` for a directory this user cannot write — true, but none of them
 * names the filesystem, the cause or the fix. This looks at the file's
 * directory, only after a failure, and says which it is.
 */
import * as fs from 'node:fs';
import { dirname } from 'node:path';

/** Codes of a failure that the filesystem may explain. */
const FILESYSTEM_CODES = /^(SQLITE_(FULL|IOERR|READONLY|CANTOPEN)|ENOSPC|EDQUOT|EROFS|EACCES|EPERM)/;

function errnoOf(run: () => void): string | undefined {
  try {
    run();
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'error';
  }
}

function freeBytes(dir: string): number | undefined {
  try {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/** `n` bytes the way a person reads them. */
function sizeText(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(0)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

/**
 * A sentence to append to the error about the database file at `path`
 * (starting with `; `), or `''` when the filesystem does not explain it.
 * `code` is SQLite's or the system's error code.
 *
 * @example
 * throw new Error(`cannot open audit store ${path}: ${e.message}${filesystemHint(path, e.code)}`);
 */
export function filesystemHint(path: string, code: unknown): string {
  if (typeof code !== 'string' || !FILESYSTEM_CODES.test(code)) return '';
  const dir = dirname(path);
  const access = errnoOf(() => fs.accessSync(dir, fs.constants.W_OK));
  if (access === 'EROFS') {
    return `; the filesystem of ${dir} is read-only (a disk error can make the system remount it so: see \`mount\` and the kernel log), so nothing can be written there until it is writable again`;
  }
  if (access === 'EACCES' || access === 'EPERM') {
    const uid = typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : '';
    return `; this user${uid} cannot write in ${dir}: give it write access to the directory, or put the store somewhere it can write`;
  }
  const fileAccess = fs.existsSync(path) ? errnoOf(() => fs.accessSync(path, fs.constants.W_OK)) : undefined;
  if (fileAccess === 'EACCES' || fileAccess === 'EPERM') {
    return `; this user cannot write ${path}: give it write access to the file, or run the service as its owner`;
  }
  const free = freeBytes(dir);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT' || (free !== undefined && free < 1024 * 1024)) {
    return `; the filesystem of ${dir} is full (${free === undefined ? 'free space unknown' : `${sizeText(free)} free`}): remove other files there (archiving or purging needs room in the store itself), or move the store to a larger disk`;
  }
  return '';
}
