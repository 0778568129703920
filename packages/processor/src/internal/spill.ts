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
 * Crash durability: when spilling starts, the items still uncommitted in the
 * queue are written first (as a prefix this process does not replay: they
 * are queued already), so the file alone holds every uncommitted item from
 * that point on. The file is removed only once everything in it has been
 * replayed and every sink has committed the queue (`discard`), or at a
 * shutdown that lost nothing. A process that dies leaves the file; the next
 * one started with the same path adopts it (internal/spill-recovery.ts).
 * What a crash can still lose: lines buffered but not yet written (one
 * writer-loop turn), and queue items while nothing is spilled (README).
 */
import { writeFileSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import type { ReceiptCallbacks, SealedCheckpoint } from '@otel-audit/core';
import { QueueItem } from './delivery.js';
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

function lineOf(item: QueueItem): string {
  let line: SpillLine;
  if (item.sealed !== undefined) line = { c: item.sealed.canonical, h: item.sealed.hash };
  else {
    const cp = item.checkpoint!;
    line = { k: { stream: cp.stream, size: cp.size, rootHash: cp.rootHash, timeUnixNano: String(cp.timeUnixNano), note: cp.note } };
  }
  return JSON.stringify(line) + '\n';
}

/** A FIFO of queue items on disk. */
export class Spill {
  readonly path: string;
  readonly #push: (item: QueueItem) => void;
  readonly #room: () => number;
  readonly #onError: (e: Error) => void;
  #fh: FileHandle | undefined;
  #opening: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** The file on disk holds lines (written, or adopted from a dead process). */
  #hasFile = false;
  /** Open the existing file instead of creating it (adopted). */
  #adopted = false;
  /** The next write starts the file over (set when spilling starts again). */
  #fresh = false;
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
  /** Lines below this (cumulative) number are the prefix: queued already, not replayed here. */
  #skipUntil = 0;
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

  /**
   * Take over a file left by an earlier process (checked by recoverSpill):
   * its `lines` (`bytes` long) are replayed before anything added later.
   * Call before the first `add`.
   */
  adopt(lines: number, bytes: number): void {
    this.active = true;
    this.#hasFile = true;
    this.#adopted = true;
    this.#written = bytes;
    this.#read = 0;
    this.#linesAdded += lines;
    this.spilled += lines;
  }

  /**
   * Append an item (synchronous: the write happens in the writer loop). When
   * spilling starts, `queued` gives the items still uncommitted in the queue:
   * they are written first, so the file alone survives a crash.
   */
  add(item: QueueItem, queued: () => Iterable<QueueItem>): void {
    if (!this.active) {
      this.active = true;
      this.#fresh = true;
      this.#hasFile = true;
      this.#read = this.#written = 0;
      for (const q of queued()) {
        this.#buffer.push(lineOf(q));
        this.#linesAdded++;
      }
      this.#skipUntil = this.#linesAdded;
    }
    this.spilled++;
    if (item.receipt !== undefined) this.#receipts.set(this.#linesAdded, item.receipt);
    this.#linesAdded++;
    this.#buffer.push(lineOf(item));
    if (this.#writing === undefined) {
      this.#writing = Promise.resolve().then(this.#write);
    }
  }

  async #file(): Promise<FileHandle> {
    if (this.#closing !== undefined) await this.#closing;
    if (this.#fh !== undefined) return this.#fh;
    this.#opening ??= open(this.path, this.#adopted ? 'r+' : 'w+').then(
      (fh) => void (this.#fh = fh),
      (e: unknown) => {
        this.#opening = undefined;
        throw e;
      },
    );
    await this.#opening;
    return this.#fh!;
  }

  async #writeLoop(): Promise<void> {
    try {
      const fh = await this.#file();
      if (this.#fresh) {
        this.#fresh = false;
        await fh.truncate(0);
      }
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
          const n = this.#linesRead++;
          if (n >= this.#skipUntil) {
            this.#push(this.#item(n, JSON.parse(buf.toString('utf8', pos, end)) as SpillLine));
            room--;
          }
          pos = end + 1;
        }
        if (pos === 0) break; // a line longer than the chunk: cannot happen below the record size limit
        this.#read += pos;
      }
      // Everything replayed: later items go to the queue again. The file
      // stays (for a crash) until `discard` or the next start of spilling.
      if (this.#read === this.#written && this.#buffer.length === 0 && this.#writing === undefined && this.pending === 0) this.active = false;
    } catch (e) {
      this.#onError(new Error(`otel-audit: replaying the spill file ${this.path} failed: ${(e as Error).message}`, { cause: e }));
    }
  }

  #item(n: number, line: SpillLine): QueueItem {
    const receipt = this.#receipts.get(n);
    if (receipt !== undefined) this.#receipts.delete(n);
    if (line.k !== undefined) return new QueueItem(undefined, { ...line.k, timeUnixNano: BigInt(line.k.timeUnixNano) }, undefined);
    return new QueueItem(QueuedRecord.parse(line.c!, line.h!), undefined, receipt);
  }

  /** Resolves when the writer is idle (everything added so far is in the file or failed). */
  async written(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
  }

  /**
   * Remove the file once nothing in it is needed any more: the owner calls
   * this when every sink has committed the whole queue. No-op while spilling.
   */
  discard(): void {
    if (this.active || !this.#hasFile || this.#writing !== undefined || this.#replaying !== undefined || this.#closing !== undefined) return;
    this.#hasFile = false;
    this.#adopted = false;
    const fh = this.#fh;
    this.#fh = undefined;
    this.#opening = undefined;
    this.#read = this.#written = 0;
    this.#closing = (async () => {
      try {
        await fh?.close();
        await rm(this.path, { force: true });
      } catch (e) {
        this.#onError(new Error(`otel-audit: removing the drained spill file ${this.path} failed: ${(e as Error).message}`, { cause: e }));
      } finally {
        this.#closing = undefined;
      }
    })();
  }

  /**
   * At a shutdown that leaves items uncommitted while nothing was spilled:
   * write them to the file (synchronously: the process is ending), so the
   * next processor with the same path replays them instead of losing them.
   * Returns how many were written; throws when the file cannot be written.
   */
  keep(items: Iterable<QueueItem>): number {
    if (this.active) return 0;
    const lines: string[] = [];
    for (const item of items) lines.push(lineOf(item));
    if (lines.length === 0) return 0;
    writeFileSync(this.path, lines.join(''), { mode: 0o600 });
    this.#hasFile = true;
    return lines.length;
  }

  /**
   * Reject receipts of items never replayed and close the file. It is
   * removed when `lost` is false and nothing is left in it; otherwise it
   * stays for the next process to replay. Returns the items left unreplayed.
   */
  async close(reason: Error, lost: boolean): Promise<number> {
    const left = this.pending;
    for (const cb of this.#receipts.values()) cb.reject(reason);
    this.#receipts.clear();
    if (this.#writing !== undefined) await this.#writing;
    if (this.#closing !== undefined) await this.#closing;
    await this.#fh?.close();
    this.#fh = undefined;
    if (left === 0 && !lost) await rm(this.path, { force: true });
    return left;
  }
}
