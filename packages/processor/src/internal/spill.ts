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
 *
 * A failed write (a full disk, a missing directory) keeps the unwritten lines
 * in memory, in order, and retries with backoff until the file takes them
 * (internal/spill-writer.ts); meanwhile `full` tells the router to stop
 * admitting records beyond the queue bound (they are dropped and sealed as
 * `records_dropped`, like under `drop`). The store may come back before the
 * disk: once the file is replayed to its end, the replay takes the waiting
 * lines from memory into the queue as it has room (the file is not written
 * again meanwhile: it would hold a gap), and spilling ends when none is
 * left — else they, and the `records_dropped` and `pipeline_stopped` sealed
 * after them, would wait for the disk for ever. Taken lines are in memory
 * only, like any queue item while nothing is spilled.
 * The file is created 0600: it holds sealed records.
 */
import { writeFileSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import type { ReceiptCallbacks } from '@otel-audit/core';
import type { QueueItem } from './delivery.js';
import { itemOf, lineOf, type SpillLine } from './spill-line.js';
import { SpillWriter } from './spill-writer.js';

const READ_CHUNK = 1 << 20;
const NEWLINE = 0x0a;
const FILE_MODE = 0o600;

/** What {@link Spill.close} leaves: spilled items in the file, and those only in memory (lost). */
export interface SpillLeft {
  /** Spilled items written to the file and not replayed. */
  inFile: number;
  /** Spilled items never written (the file could not take them): lost. */
  unwritten: number;
  /** The queue's uncommitted items are in the file too (its prefix, or replayed from it). */
  queueInFile: boolean;
}

/** A FIFO of queue items on disk. */
export class Spill {
  readonly path: string;
  readonly #push: (item: QueueItem) => void;
  readonly #room: () => number;
  readonly #onError: (e: Error) => void;
  readonly #writer: SpillWriter;
  #fh: FileHandle | undefined;
  #opening: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** The file on disk holds lines (written, or adopted from a dead process). */
  #hasFile = false;
  /** Open the existing file instead of creating it (adopted). */
  #adopted = false;
  #closed = false;
  /** True from the first spilled item until the file is replayed completely. */
  active = false;
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
    // The queue may have drained while a write was in flight (landed, or failed: what waits is taken then).
    const onWritten = (): void => {
      const r = this.#room();
      if (r > 0 && !this.#closed) void this.replay(r);
    };
    this.#writer = new SpillWriter(path, () => this.#file(), onWritten, onError);
  }

  /** Items in the file or its buffer not yet replayed. */
  get pending(): number {
    return this.#linesAdded - this.#linesRead;
  }

  /**
   * The file cannot take lines now and `bound` of them wait in memory: the
   * router drops what it would add (and records the loss) instead.
   */
  full(bound: number): boolean {
    return this.#writer.failure !== undefined && this.#writer.backlog >= bound;
  }

  /** Why the last write failed, while it is retried. */
  get failure(): Error | undefined {
    return this.#writer.failure;
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
    this.#read = 0;
    this.#linesAdded += lines;
    this.#writer.bytes = bytes;
    this.#writer.lines = this.#linesAdded;
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
      this.#hasFile = true;
      this.#read = 0;
      this.#writer.startOver(this.#linesAdded);
      for (const q of queued()) {
        this.#writer.push(lineOf(q));
        this.#linesAdded++;
      }
      this.#skipUntil = this.#linesAdded;
    }
    this.spilled++;
    if (item.receipt !== undefined) this.#receipts.set(this.#linesAdded, item.receipt);
    this.#linesAdded++;
    this.#writer.push(lineOf(item));
  }

  async #file(): Promise<FileHandle> {
    if (this.#closing !== undefined) await this.#closing;
    if (this.#fh !== undefined) return this.#fh;
    this.#opening ??= open(this.path, this.#adopted ? 'r+' : 'w+', FILE_MODE).then(
      async (fh) => {
        // A file left by an older version may be readable by others.
        const st = await fh.stat();
        if (st.isFile() && (st.mode & 0o077) !== 0) await fh.chmod(FILE_MODE);
        this.#fh = fh;
      },
      (e: unknown) => {
        this.#opening = undefined;
        throw e;
      },
    );
    await this.#opening;
    return this.#fh!;
  }

  /**
   * Move up to `room` items (or everything written, when `room` is
   * Infinity) from the file into the queue. Single-flight.
   */
  replay(room: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
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
    const w = this.#writer;
    try {
      if (this.#read < w.bytes) room = await this.#replayFile(room);
      // Read to its end while the disk refuses the rest: take the rest from memory.
      if (room > 0 && this.#read >= w.bytes && w.stuck) this.#replayBuffer(room);
      this.#maybeDone();
    } catch (e) {
      this.#onError(new Error(`otel-audit: replaying the spill file ${this.path} failed: ${(e as Error).message}`, { cause: e }));
    }
  }

  /** Move up to `room` written lines into the queue; returns the room left. */
  async #replayFile(room: number): Promise<number> {
    const w = this.#writer;
    const fh = await this.#file();
    while (room > 0 && this.#read < w.bytes) {
      const len = Math.min(w.bytes - this.#read, READ_CHUNK);
      const buf = Buffer.allocUnsafe(len);
      const { bytesRead } = await fh.read(buf, 0, len, this.#read);
      let pos = 0;
      while (room > 0) {
        const end = buf.indexOf(NEWLINE, pos);
        if (end < 0 || end >= bytesRead) break;
        const n = this.#linesRead++;
        if (n >= this.#skipUntil) {
          const receipt = this.#receipts.get(n);
          if (receipt !== undefined) this.#receipts.delete(n);
          this.#push(itemOf(JSON.parse(buf.toString('utf8', pos, end)) as SpillLine, receipt));
          room--;
        }
        pos = end + 1;
      }
      if (pos === 0) break; // a line longer than the chunk: cannot happen below the record size limit
      this.#read += pos;
    }
    return room;
  }

  /**
   * Move up to `room` lines the file could not take into the queue, in order
   * (they follow the last line read: the file holds no more).
   */
  #replayBuffer(room: number): void {
    while (room > 0) {
      const lines = this.#writer.take(room);
      if (lines.length === 0) return;
      for (const line of lines) {
        const n = this.#linesRead++;
        if (n < this.#skipUntil) continue; // the prefix: queued already
        const receipt = this.#receipts.get(n);
        if (receipt !== undefined) this.#receipts.delete(n);
        this.#push(itemOf(JSON.parse(line) as SpillLine, receipt));
        room--;
      }
    }
  }

  /**
   * Everything replayed: later items go to the queue again. The file stays
   * (for a crash) until `discard` or the next start of spilling.
   */
  #maybeDone(): void {
    if (this.#read === this.#writer.bytes && this.#writer.idle && this.pending === 0) this.active = false;
  }

  /** Resolves when the writer is idle (everything added so far is in the file, or waits for a retry). */
  written(): Promise<void> {
    return this.#writer.settled();
  }

  /**
   * Remove the file once nothing in it is needed any more: the owner calls
   * this when every sink has committed the whole queue. No-op while spilling.
   */
  discard(): void {
    if (this.active || !this.#hasFile || !this.#writer.idle || this.#replaying !== undefined || this.#closing !== undefined) return;
    this.#hasFile = false;
    this.#adopted = false;
    const fh = this.#fh;
    this.#fh = undefined;
    this.#opening = undefined;
    this.#read = 0;
    this.#writer.bytes = 0;
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
    writeFileSync(this.path, lines.join(''), { mode: FILE_MODE });
    this.#hasFile = true;
    return lines.length;
  }

  /** No more replays (before the queue closes: a replayed item would find no one to settle its receipt). */
  async stop(): Promise<void> {
    this.#closed = true;
    while (this.#replaying !== undefined) await this.#replaying;
  }

  /**
   * Make a last attempt to write what waits in memory, reject receipts of
   * items never replayed and close the file. It is removed when `lost` is
   * false and nothing is left; otherwise it stays for the next process to
   * replay. Returns what was left, in the file and only in memory.
   */
  async close(reason: Error, lost: boolean): Promise<SpillLeft> {
    await this.stop();
    await this.#writer.close();
    const written = this.#writer.lines;
    const replayedTo = Math.max(this.#linesRead, this.#skipUntil);
    const left: SpillLeft = {
      inFile: Math.max(0, written - replayedTo),
      unwritten: this.#linesAdded - Math.max(written, replayedTo),
      // Writes are whole buffers and the prefix leads the first: written together or not at all.
      // Lines taken from memory into the queue are not in the file (their loss is counted as such).
      queueInFile: written >= this.#skipUntil && !this.#writer.detached,
    };
    for (const cb of this.#receipts.values()) cb.reject(reason);
    this.#receipts.clear();
    if (this.#closing !== undefined) await this.#closing;
    await this.#fh?.close();
    this.#fh = undefined;
    // Only a file this process wrote or adopted: one left by an earlier process that was never adopted (the stream head was not read) is that process's evidence.
    if (this.#hasFile && left.inFile + left.unwritten === 0 && !lost) await rm(this.path, { force: true });
    return left;
  }
}
