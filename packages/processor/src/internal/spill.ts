/**
 * The `spill` overflow policy (DESIGN §5): when the delivery queue is full,
 * sealed records and checkpoints are appended to a local file instead of
 * being held in memory or dropped, and replayed into the queue, in order, as
 * it drains. Once anything is spilled, everything after it goes through the
 * file until the file has been replayed completely, so sinks still see seq
 * order. `onEmit` only appends a line to an in-memory buffer; one writer loop
 * (a single positional write per buffer) and one replay loop do the I/O.
 * Receipt callbacks cannot be written to a file: they stay in memory, keyed by
 * line number (one entry per awaiting producer).
 *
 * Not crash-durable: a spill file left by a crashed process is not replayed by
 * the next one (the records in it are sealed but uncommitted: the next
 * process resumes from the primary sink's head, and the file is evidence).
 */
import { ftruncateSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import type { ReceiptCallbacks, SealedCheckpoint } from '@otel-audit/core';
import type { QueueItem } from './delivery.js';
import { QueuedRecord } from './queued-record.js';

const READ_CHUNK = 1 << 20;
const NEWLINE = 0x0a;

interface SpillLine {
  /** canonical text of a record */
  c?: string;
  /** its hash */
  h?: string;
  /** a checkpoint, timeUnixNano as decimal text */
  k?: Omit<SealedCheckpoint, 'timeUnixNano'> & { timeUnixNano: string };
}

/** A FIFO of queue items on disk. */
export class Spill {
  readonly path: string;
  readonly #push: (item: QueueItem) => void;
  readonly #room: () => number;
  readonly #onError: (e: Error) => void;
  #fh: FileHandle | undefined;
  #opening: Promise<void> | undefined;
  /** True from the first spilled item until the file is replayed completely. */
  active = false;
  #buffer: string[] = [];
  #writing: Promise<void> | undefined;
  /** Bytes written to the file (all lines end with a newline). */
  #written = 0;
  /** Bytes replayed. */
  #read = 0;
  #linesAdded = 0;
  #linesRead = 0;
  readonly #receipts = new Map<number, ReceiptCallbacks>();
  #replaying: Promise<void> | undefined;
  #rerun = false;
  /** Items spilled in total (for stats and tests). */
  spilled = 0;
  readonly #write = (): Promise<void> => this.#writeLoop();

  /**
   * `push` moves an item into the delivery queue; `room` says how many it can
   * take now (replay starts when a write lands and the queue has room, and
   * whenever the owner calls `replay` after the queue drained).
   */
  constructor(path: string, push: (item: QueueItem) => void, room: () => number, onError: (e: Error) => void) {
    this.path = path;
    this.#push = push;
    this.#room = room;
    this.#onError = onError;
  }

  /** Items in the file or its buffer not yet replayed. */
  get pending(): number {
    return this.#linesAdded - this.#linesRead;
  }

  /** Append an item (synchronous: the write happens in the writer loop). */
  add(item: QueueItem): void {
    this.active = true;
    this.spilled++;
    let line: SpillLine;
    if (item.sealed !== undefined) line = { c: item.sealed.canonical, h: item.sealed.hash };
    else {
      const cp = item.checkpoint!;
      line = { k: { stream: cp.stream, size: cp.size, rootHash: cp.rootHash, timeUnixNano: String(cp.timeUnixNano), note: cp.note } };
    }
    if (item.receipt !== undefined) this.#receipts.set(this.#linesAdded, item.receipt);
    this.#linesAdded++;
    this.#buffer.push(JSON.stringify(line) + '\n');
    if (this.#writing === undefined) {
      this.#writing = Promise.resolve().then(this.#write);
    }
  }

  async #file(): Promise<FileHandle> {
    if (this.#fh !== undefined) return this.#fh;
    this.#opening ??= open(this.path, 'w+').then((fh) => void (this.#fh = fh));
    await this.#opening;
    return this.#fh!;
  }

  async #writeLoop(): Promise<void> {
    try {
      const fh = await this.#file();
      while (this.#buffer.length > 0) {
        const buf = Buffer.from(this.#buffer.join(''), 'utf8');
        this.#buffer = [];
        let off = 0;
        while (off < buf.length) {
          const { bytesWritten } = await fh.write(buf, off, buf.length - off, this.#written + off);
          off += bytesWritten;
        }
        this.#written += buf.length;
        // The queue may have drained while this write was in flight.
        const room = this.#room();
        if (room > 0) void this.replay(room);
      }
    } catch (e) {
      this.#onError(new Error(`otel-audit: writing the spill file ${this.path} failed: ${(e as Error).message}`, { cause: e }));
    } finally {
      this.#writing = undefined;
    }
  }

  /**
   * Move up to `room` items (or everything written, when `room` is
   * Infinity) from the file into the queue. Single-flight.
   */
  replay(room: number): Promise<void> {
    if (this.#replaying !== undefined) {
      // A replay already running may have passed its last read: run once more after it.
      this.#rerun = true;
      return this.#replaying;
    }
    this.#replaying = this.#replayLoop(room).finally(() => {
      this.#replaying = undefined;
      if (this.#rerun) {
        this.#rerun = false;
        const r = this.#room();
        if (r > 0 && this.active) void this.replay(r);
      }
    });
    return this.#replaying;
  }

  async #replayLoop(room: number): Promise<void> {
    try {
      const fh = await this.#file();
      while (room > 0 && this.#read < this.#written) {
        const len = Math.min(this.#written - this.#read, READ_CHUNK);
        const buf = Buffer.allocUnsafe(len);
        const { bytesRead } = await fh.read(buf, 0, len, this.#read);
        let pos = 0;
        while (room > 0) {
          const end = buf.indexOf(NEWLINE, pos);
          if (end < 0 || end >= bytesRead) break;
          this.#push(this.#item(JSON.parse(buf.toString('utf8', pos, end)) as SpillLine));
          pos = end + 1;
          room--;
        }
        if (pos === 0) break; // a line longer than the chunk: cannot happen below the record size limit
        this.#read += pos;
      }
      if (this.#read === this.#written && this.#buffer.length === 0 && this.#writing === undefined && this.pending === 0) {
        // Everything replayed: start the file over (synchronously, so no add() can interleave).
        ftruncateSync(fh.fd, 0);
        this.#read = this.#written = 0;
        this.active = false;
      }
    } catch (e) {
      this.#onError(new Error(`otel-audit: replaying the spill file ${this.path} failed: ${(e as Error).message}`, { cause: e }));
    }
  }

  #item(line: SpillLine): QueueItem {
    const n = this.#linesRead++;
    const receipt = this.#receipts.get(n);
    if (receipt !== undefined) this.#receipts.delete(n);
    if (line.k !== undefined) {
      return { sealed: undefined, checkpoint: { ...line.k, timeUnixNano: BigInt(line.k.timeUnixNano) }, receipt: undefined };
    }
    return { sealed: QueuedRecord.parse(line.c!, line.h!), checkpoint: undefined, receipt };
  }

  /** Resolves when the writer is idle (everything added so far is in the file or failed). */
  async written(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
  }

  /** Reject receipts of items never replayed and close the file (it is left on disk if not empty). */
  async close(reason: Error): Promise<number> {
    const left = this.pending;
    for (const cb of this.#receipts.values()) cb.reject(reason);
    this.#receipts.clear();
    if (this.#writing !== undefined) await this.#writing;
    await this.#fh?.close();
    this.#fh = undefined;
    if (left === 0) await rm(this.path, { force: true });
    return left;
  }
}
