/**
 * The message of an `--out FILE` that could not be created or written: the
 * file, the reason and a fix that fits it (free space, a quota, a writable
 * place), instead of "check the inputs" or "never overwrites a file".
 */
import { describe, expect, it } from 'vitest';
import { outputFileError } from '../../src/internal/write-errors.js';

const errno = (code: string, syscall: string): Error => Object.assign(new Error(`${code}: failed, ${syscall}`), { code, syscall });

describe('outputFileError', () => {
  const file = '/srv/out/export.ndjson';

  it('names the file and the fix of a full disk, a quota, a read-only place and a missing permission', () => {
    expect(outputFileError(errno('ENOSPC', 'write'), file, 'export')).toMatchObject({
      code: 'AUDIT_CLI_OUTPUT', exitCode: 2,
      message: `cannot write ${file}: no space left on device (ENOSPC); the partial file was removed`,
      fix: `free space on the filesystem of ${file}, or choose another --out, then run the command again`,
    });
    expect(outputFileError(errno('EDQUOT', 'write'), file, 'export')).toMatchObject({
      message: `cannot write ${file}: disk quota exceeded (EDQUOT); the partial file was removed`,
      fix: `free space within your disk quota on the filesystem of ${file}, or choose another --out, then run the command again`,
    });
    expect(outputFileError(errno('EROFS', 'open'), file, 'archives')).toMatchObject({
      message: `cannot create ${file}: read-only file system (EROFS)`,
      fix: '/srv/out is on a read-only filesystem: choose an --out on a writable one',
    });
    expect(outputFileError(errno('EACCES', 'open'), file, 'archives')).toMatchObject({
      message: `cannot create ${file}: permission denied (EACCES)`,
      fix: 'this user may not write in /srv/out: choose an --out in a directory this user may write',
    });
    expect(outputFileError(errno('ENOSPC', 'open'), file, 'archives')).toMatchObject({ message: `cannot create ${file}: no space left on device (ENOSPC)` });
  });

  it('keeps "never overwrites" for an existing file, and leaves errors that are not about the file alone', () => {
    expect(outputFileError(errno('EEXIST', 'open'), file, 'archives')).toMatchObject({
      code: 'AUDIT_CLI_EXISTS', message: `cannot create ${file} (EEXIST)`, fix: 'choose another --out; archives never overwrites a file',
    });
    const storeError = Object.assign(new Error('export refused'), { code: 'AUDIT_EXPORT_REFUSED' });
    expect(outputFileError(storeError, file, 'export')).toBe(storeError);
  });
});
