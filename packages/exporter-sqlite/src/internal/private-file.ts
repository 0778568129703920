/**
 * Owner-only creation of SQLite files (DESIGN §6, §7): the audit store and
 * the outbox hold audit data, so a file this package creates gets mode 0600
 * rather than the umask's usual 0644. SQLite creates the -wal, -shm and
 * journal files with the main file's mode, so they follow. A file that
 * already exists keeps the mode its owner chose.
 */
import * as fs from 'node:fs';

/**
 * Create `path` empty with mode 0600 when it does not exist (SQLite takes an
 * empty file as a new database). Any failure — it exists, the directory is
 * missing — is left for SQLite's open to report in its own words.
 *
 * @example
 * createPrivateFile('audit.db');
 * const db = new Database('audit.db');
 */
export function createPrivateFile(path: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600);
    fs.fchmodSync(fd, 0o600); // also under a umask that would take the owner's bits
  } catch {
    // exists or cannot be created: SQLite's open decides and reports
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
