/**
 * Standard output that fails loudly (DESIGN §7: exit 2, could not run).
 * Redirected to a file, Node writes stdout through a SyncWriteStream that
 * ignores a short `writeSync` — on a nearly full disk the records were cut
 * at the free space and the command still exited 0. So when stdout is a
 * file or a device other than a terminal, the CLI writes it here instead:
 * a loop that writes the rest after a short write and turns a write that
 * fails (ENOSPC, EDQUOT, EFBIG, EIO) or takes nothing into a
 * {@link CliError} saying the output is incomplete. Pipes and terminals
 * keep Node's stream (non-blocking pipes would need EAGAIN handling, and a
 * closed pipe, `| head`, must still end quietly); its errors are reported
 * by the bin with {@link stdoutFailure}.
 */
import * as fs from 'node:fs';
import * as tty from 'node:tty';
import type { Writer } from '../command.js';
import { CliError } from '../errors.js';
import { errnoOf, reasonOf, writeFixOf } from './write-errors.js';

/** The `fs.writeSync` overload the writer uses (injectable to test short writes). */
export type WriteSync = (fd: number, buffer: Uint8Array, offset: number, length: number) => number;

/** Waited on to pause between retries of a device that said EAGAIN (a non-blocking descriptor). */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));
const EAGAIN_PAUSE_MILLIS = 5;

/**
 * The error of a failed write to standard output: its reason and the fix.
 *
 * @example
 * stdoutFailure(Object.assign(new Error('ENOSPC'), { code: 'ENOSPC', syscall: 'write' })).message
 * // 'writing standard output failed: no space left on device; the output is incomplete'
 */
export function stdoutFailure(error: unknown): CliError {
  const code = errnoOf(error);
  const reason = error === undefined ? 'the file took no more bytes' : reasonOf(error);
  const fix = code === 'EFBIG'
    ? 'standard output goes to a file larger than this process may write (ulimit -f): raise the limit or redirect the output elsewhere, then run the command again'
    : writeFixOf(code, 'the filesystem standard output is redirected to', 'redirect it elsewhere');
  return new CliError('AUDIT_CLI_OUTPUT', `writing standard output failed: ${reason}; the output is incomplete`, fix);
}

/**
 * A {@link Writer} over a file descriptor that writes every byte or throws.
 * After a failure every later write throws the same error, so nothing is
 * appended past the gap.
 *
 * @example
 * const out = new FdWriter(1);
 * out.write('{"records":[]}\n'); // throws CliError AUDIT_CLI_OUTPUT on a full disk
 */
export class FdWriter implements Writer {
  readonly isTTY = false;
  #failure: CliError | undefined;

  constructor(private readonly fd: number, private readonly writeSync: WriteSync = fs.writeSync) {}

  /** The error of the write that failed, if one did. */
  get failure(): CliError | undefined {
    return this.#failure;
  }

  write(chunk: string): boolean {
    if (this.#failure !== undefined) throw this.#failure;
    const bytes = Buffer.from(chunk, 'utf8');
    let done = 0;
    while (done < bytes.length) {
      let written: number;
      try {
        written = this.writeSync(this.fd, bytes, done, bytes.length - done);
      } catch (e) {
        if (errnoOf(e) === 'EAGAIN') {
          Atomics.wait(PAUSE, 0, 0, EAGAIN_PAUSE_MILLIS);
          continue;
        }
        throw (this.#failure = stdoutFailure(e));
      }
      // A short write leaves the rest for the next call, which reports why the file took no more.
      if (written <= 0) throw (this.#failure = stdoutFailure(undefined));
      done += written;
    }
    return true;
  }
}

/**
 * The process's standard output: an {@link FdWriter} on descriptor 1 when it
 * is a file or a device other than a terminal (where Node would write
 * synchronously and drop short writes), `process.stdout` otherwise.
 *
 * @example
 * const stdout = io.stdout ?? processStdout();
 */
export function processStdout(): Writer {
  try {
    if (!tty.isatty(1)) {
      const stat = fs.fstatSync(1);
      if (stat.isFile() || stat.isCharacterDevice() || stat.isBlockDevice()) return new FdWriter(1);
    }
  } catch {
    // No usable descriptor 1 (closed): Node's stream reports that as it always did.
  }
  return process.stdout;
}

/**
 * The failure recorded by `writer` when it is an {@link FdWriter}.
 *
 * @example
 * const failed = outputFailureOf(stdout); if (failed !== undefined) return report(failed);
 */
export function outputFailureOf(writer: Writer): CliError | undefined {
  return writer instanceof FdWriter ? writer.failure : undefined;
}
