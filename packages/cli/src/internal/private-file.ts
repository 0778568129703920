/**
 * Files the CLI creates that hold audit data or keys (DESIGN §4.4, §7):
 * always new (`O_CREAT|O_EXCL`: an existing file or a symlink planted at
 * the path is refused, never followed or overwritten) and readable by this
 * user only (mode 0600, set with fchmod so the umask cannot widen or narrow
 * it). `export --out`, `proof --out`, `archives --read --out`, `keygen` and
 * the temporary copies of a database all go through here.
 */
import * as fs from 'node:fs';

/** Mode of every file holding audit data: records, proofs, archives, signer keys, database copies. */
export const PRIVATE_MODE = 0o600;

/**
 * Creates `file`, which must not exist, with `mode` (default 0600) and
 * returns its open descriptor. Throws the `fs` error (`EEXIST` when
 * something is at the path).
 *
 * @example
 * const fd = createPrivateFile('/tmp/out.ndjson');
 * const stream = fs.createWriteStream('/tmp/out.ndjson', { fd });
 */
export function createPrivateFile(file: string, mode: number = PRIVATE_MODE): number {
  const fd = fs.openSync(file, 'wx', mode);
  try {
    fs.fchmodSync(fd, mode);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw e;
  }
  return fd;
}

/**
 * Writes `data` to the new file `file` (mode 0600 unless `mode` says
 * otherwise) and syncs it. A failed write removes the partial file. Throws
 * the `fs` error (`EEXIST` when something is at the path).
 *
 * @example
 * writePrivateFile('/tmp/proof.json', text); // -rw------- proof.json
 */
export function writePrivateFile(file: string, data: string | Uint8Array, mode: number = PRIVATE_MODE): void {
  const fd = createPrivateFile(file, mode);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw e;
  }
  fs.closeSync(fd);
}

/**
 * Copies `source` into the new file `target`, mode 0600 (`fs.copyFileSync`
 * would give the copy the source's mode, 0644 for most databases).
 *
 * @example
 * copyToPrivateFile('/srv/audit.db', path.join(tmp, 'copy.db'));
 */
export function copyToPrivateFile(source: string, target: string): void {
  const input = fs.openSync(source, 'r');
  try {
    const output = createPrivateFile(target);
    try {
      const chunk = Buffer.allocUnsafe(1 << 20);
      for (let n = fs.readSync(input, chunk); n > 0; n = fs.readSync(input, chunk)) {
        let done = 0;
        while (done < n) done += fs.writeSync(output, chunk, done, n - done);
      }
    } finally {
      fs.closeSync(output);
    }
  } finally {
    fs.closeSync(input);
  }
}
