/**
 * The writer half of the `spill` overflow file (DESIGN §5 "never a silent
 * drop"; internal/spill.ts): lines appended in `onEmit` wait in an in-memory
 * buffer, and one loop writes each buffer with positional writes after the
 * last complete line. A failed write (a full disk, a missing directory)
 * puts the lines back in front of the buffer, in order, and is retried with
 * backoff until the file takes them — nothing is forgotten, and the next
 * write lands at the same offset, over any partial bytes; those bytes are
 * cut off at once, so a full disk never leaves a partial line behind (the
 * next start would take it for a crash). While writes fail, the owner sees
 * `failure` and `backlog` to bound what waits in memory, and once it has
 * read the file to its end it may `take` the waiting lines instead (into
 * the delivery queue, when the store is back before the disk): the file is
 * then not written again until `startOver`, so it never holds a gap.
 */
import type { FileHandle } from 'node:fs/promises';

const RETRY_FIRST_MILLIS = 50;
const RETRY_MAX_MILLIS = 1_000;

/** Buffered, retried appends to the spill file. */
export class SpillWriter {
  readonly #path: string;
  readonly #file: () => Promise<FileHandle>;
  readonly #onWritten: () => void;
  readonly #onError: (e: Error) => void;
  #buffer: string[] = [];
  #writing: Promise<void> | undefined;
  /** The next write starts the file over. */
  #fresh = false;
  /** Bytes in the file (all lines end with a newline). */
  bytes = 0;
  /** Lines (cumulative, as the owner counts them) in the file. */
  lines = 0;
  #failure: Error | undefined;
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  /** Lines were taken from the buffer unwritten: no more writes until `startOver`. */
  #detached = false;
  readonly #write = (): Promise<void> => this.#loop();

  /**
   * `file` opens (or returns) the handle; `onWritten` runs after each landed
   * write, and after each failed one once it is `stuck` (the owner may then
   * take what waits, when the queue has room: nothing else may come to ask).
   */
  constructor(path: string, file: () => Promise<FileHandle>, onWritten: () => void, onError: (e: Error) => void) {
    this.#path = path;
    this.#file = file;
    this.#onWritten = onWritten;
    this.#onError = onError;
  }

  /** Lines waiting in memory. */
  get backlog(): number {
    return this.#buffer.length;
  }

  /** Why the last write failed, while it is retried; undefined when writes land. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /**
   * Writes fail and none is in flight: the owner, once it has read the file
   * to its end, may `take` what waits instead of waiting for the disk.
   */
  get stuck(): boolean {
    return this.#failure !== undefined && this.#writing === undefined;
  }

  /** Lines were taken unwritten since the file started over: what follows them is not in the file. */
  get detached(): boolean {
    return this.#detached;
  }

  /**
   * Take up to `n` lines from the front of the buffer, unwritten (only while
   * `stuck`). The retry stops and later lines stay in memory until taken
   * too: written after a gap, they could not be replayed after a crash.
   */
  take(n: number): string[] {
    if (!this.stuck || n <= 0) return [];
    this.#detached = true;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    return this.#buffer.splice(0, n);
  }

  /** Nothing waits and nothing is being written. */
  get idle(): boolean {
    return this.#buffer.length === 0 && this.#writing === undefined;
  }

  /** Start the file over at the next write; `lines` is the owner's line count so far. */
  startOver(lines: number): void {
    this.#fresh = true;
    this.#detached = false;
    this.bytes = 0;
    this.lines = lines;
  }

  /** Append a line (written by the loop; while writes fail, by the retry). */
  push(line: string): void {
    this.#buffer.push(line);
    if (this.#writing === undefined && this.#retry === undefined && !this.#closed && !this.#detached) {
      this.#writing = Promise.resolve().then(this.#write);
    }
  }

  /** Resolves when the writer is idle or waiting for a retry. */
  async settled(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
  }

  /** No more retries; one last attempt to write what waits (unless lines were taken: they would follow a gap). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    await this.settled();
    if (this.#buffer.length > 0 && !this.#detached) await (this.#writing = this.#loop());
  }

  async #loop(): Promise<void> {
    let lines: string[] = [];
    let fh: FileHandle | undefined;
    let failed = false;
    try {
      fh = await this.#file();
      if (this.#fresh) {
        await fh.truncate(0);
        this.#fresh = false;
      }
      while (this.#buffer.length > 0) {
        lines = this.#buffer;
        this.#buffer = [];
        const buf = Buffer.from(lines.join(''), 'utf8');
        let off = 0;
        while (off < buf.length) {
          const { bytesWritten } = await fh.write(buf, off, buf.length - off, this.bytes + off);
          off += bytesWritten;
        }
        this.bytes += buf.length;
        this.lines += lines.length;
        lines = [];
        if (this.#failure !== undefined) this.#recovered();
        if (!this.#closed) this.#onWritten();
      }
    } catch (e) {
      if (lines.length > 0) this.#buffer = lines.concat(this.#buffer);
      if (fh !== undefined && !this.#fresh) await cut(fh, this.bytes);
      this.#failed(e as Error);
      failed = true;
    } finally {
      this.#writing = undefined;
    }
    if (failed && !this.#closed) this.#onWritten();
  }

  #failed(e: Error): void {
    const first = this.#failure === undefined;
    this.#failure = e;
    this.#failures++;
    if (first || this.#failures % 100 === 0) {
      this.#onError(new Error(`otel-audit: writing the spill file ${this.#path} failed (attempt ${this.#failures}): ${e.message}; `
        + `${this.#buffer.length} spilled item(s) wait in memory and the write is retried (they go to the delivery queue directly as it drains); `
        + `meanwhile records beyond the queue bound are dropped and the loss recorded; free space on that disk or set a spill_path that can be written`, { cause: e }));
    }
    if (this.#closed) return;
    const wait = Math.min(RETRY_FIRST_MILLIS * 2 ** Math.min(this.#failures - 1, 10), RETRY_MAX_MILLIS);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (this.#writing === undefined && this.#buffer.length > 0) this.#writing = this.#loop();
    }, wait);
    this.#retry.unref();
  }

  #recovered(): void {
    this.#onError(new Error(`otel-audit: the spill file ${this.#path} is written again after ${this.#failures} failed attempt(s); spilled items are replayed`));
    this.#failure = undefined;
    this.#failures = 0;
  }
}

/**
 * Cut a failed write's partial bytes off, back to the last complete line:
 * shrinking a file needs no free space. When even that fails the next write
 * still lands over them, and a crash leaves a partial line that the next
 * start moves aside (internal/spill-recovery.ts): nothing better to do here.
 */
async function cut(fh: FileHandle, bytes: number): Promise<void> {
  try {
    await fh.truncate(bytes);
  } catch {
    // see above
  }
}
