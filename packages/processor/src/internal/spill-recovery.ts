/**
 * Crash recovery of the `spill` overflow file (DESIGN §5 "never a silent
 * drop"; README "spill"). A processor started with the `spillPath` of a
 * process that died finds sealed records and checkpoints in the file that no
 * sink may have committed. This module reads the file once, before the first
 * record is sealed, and decides whether it can be replayed: for every stream
 * in it, the records at and after the primary sink's stored head must follow
 * that head without a gap (same `prev` chain). Then the processor adopts the
 * file (replays it, in order, before anything new) and resumes its own stream
 * after the last spilled record, so the chain continues exactly where the
 * dead process left it. A file that cannot be replayed is renamed aside as
 * evidence and the loss is recorded in the chain by the caller — with the
 * number of records, or of lines when the file does not parse completely.
 * A file ending in a partial line (a write cut short, or a cut file) is
 * replayed up to its last complete line; the cut bytes are moved to a side
 * file, and the caller records how many there were.
 */
import { createReadStream } from 'node:fs';
import { open, rename, stat, truncate } from 'node:fs/promises';
import { CompactRange, genesisPrev, type AuditSink, type ChainHead, type HashAlgorithm } from '@otel-audit/core';

const NEWLINE = 0x0a;
const FILE_MODE = 0o600;

/** What one record line of the file says about its place in a stream. */
interface SpilledRecord {
  seq: number;
  prev: string;
  hash: string;
  alg: HashAlgorithm;
}

/**
 * The outcome of {@link recoverSpill}. For a replay, `records`: the records
 * of the file the primary sink did not hold yet (what the replay adds to
 * it: a process that dies while spilling leaves the lines it had replayed
 * and committed in the file too; `lines` counts them all, checkpoints
 * included). `truncatedBytes`: the file ended in a
 * partial line (a write cut short, or a file cut); those bytes were moved to
 * `truncatedTo` and are not replayed. `countOf`: what `records` counts —
 * `lines` when the file could not be parsed completely (every line that is
 * not a checkpoint, unreadable ones and a partial last line included: the
 * best estimate of the records it held), `unknown` when it could not be read.
 */
export type SpillRecovery =
  | {
    kind: 'replay'; lines: number; bytes: number; records: number; head: ChainHead | undefined; truncatedBytes: number; truncatedTo: string | undefined;
    /** Streams the file holds records of: their stored heads are not final until the replay is committed. */
    streams: string[];
  }
  | { kind: 'unreplayable'; records: number; countOf: 'records' | 'lines' | 'unknown'; movedTo: string; reason: string };

/** The file's complete lines, parsed as far as they parse, and the partial last line's length. */
interface Scan {
  byStream: Map<string, SpilledRecord[]>;
  lines: number;
  bytes: number;
  records: number;
  /** Complete lines that do not parse (counted, not taken). */
  badLines: number;
  firstBad: string | undefined;
  /** Bytes after the last newline. */
  tail: number;
}

/**
 * Split the file on newline bytes (not decoded text, so `bytes` is exact
 * whatever the file holds) and parse every complete line; a line that does
 * not parse is counted and the scan goes on, so a damaged file still says
 * how many lines it held.
 */
async function scan(path: string): Promise<Scan> {
  const s: Scan = { byStream: new Map(), lines: 0, bytes: 0, records: 0, badLines: 0, firstBad: undefined, tail: 0 };
  let carry: Buffer[] = [];
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let pos = 0;
    for (let end = chunk.indexOf(NEWLINE, pos); end >= 0; end = chunk.indexOf(NEWLINE, pos)) {
      const part = chunk.subarray(pos, end);
      take(carry.length > 0 ? Buffer.concat([...carry, part]) : part, s);
      carry = [];
      pos = end + 1;
    }
    if (pos < chunk.length) carry.push(chunk.subarray(pos));
  }
  s.tail = carry.reduce((n, b) => n + b.length, 0);
  return s;
}

function take(line: Buffer, s: Scan): void {
  s.lines++;
  s.bytes += line.length + 1;
  try {
    const parsed = JSON.parse(line.toString('utf8')) as { c?: string; h?: string; k?: unknown };
    if (parsed.c !== undefined && parsed.h !== undefined) {
      const r = JSON.parse(parsed.c) as { stream: string; seq: number; prev: string; alg: HashAlgorithm };
      let list = s.byStream.get(r.stream);
      if (list === undefined) s.byStream.set(r.stream, (list = []));
      list.push({ seq: r.seq, prev: r.prev, hash: parsed.h, alg: r.alg });
      s.records++;
    } else if (parsed.k === undefined) throw new Error('neither a record nor a checkpoint');
  } catch (e) {
    s.badLines++;
    s.firstBad ??= `line ${s.lines}: ${(e as Error).message.slice(0, 200)}`;
  }
}

/** Move the bytes from `from` to the end of the file into a side file, then cut the file there. */
async function cutTail(path: string, from: number, length: number): Promise<string> {
  const to = `${path}.truncated-${Date.now()}`;
  const src = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await src.read(buf, 0, length, from);
    const dst = await open(to, 'wx', FILE_MODE);
    try {
      await dst.writeFile(buf.subarray(0, bytesRead));
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
  // Appends continue on a line boundary.
  await truncate(path, from);
  return to;
}

/**
 * Read a spill file left by an earlier process and check it against the
 * primary sink. `ownHead` is the stored head of the stream this processor
 * writes (already read by the caller). Returns undefined when there is no
 * file (or an empty one); otherwise either how to replay it (and the head to
 * resume the own stream from) or, when it cannot be replayed, where it was
 * moved. A partial last line is kept in a side file, not replayed.
 */
export async function recoverSpill(path: string, ownStream: string, ownHead: ChainHead | undefined, primary: AuditSink): Promise<SpillRecovery | undefined> {
  try {
    if ((await stat(path)).size === 0) return undefined;
  } catch {
    return undefined;
  }
  let scanned: Scan | undefined;
  let head: ChainHead | undefined = ownHead;
  let reason: string | undefined;
  /** Records the primary sink does not hold yet. */
  let added = 0;
  try {
    scanned = await scan(path);
    if (scanned.badLines > 0) reason = `${scanned.badLines} of its ${scanned.lines} line(s) cannot be parsed (${scanned.firstBad})`;
    else {
      for (const [stream, list] of scanned.byStream) {
        const stored = stream === ownStream ? ownHead : await primary.head(stream);
        const extended = extend(stream, stored, list);
        added += (extended?.size ?? 0) - (stored?.size ?? 0);
        if (stream === ownStream) head = extended;
      }
    }
  } catch (e) {
    reason = (e as Error).message;
  }
  if (reason !== undefined || scanned === undefined) {
    const movedTo = `${path}.unreplayable-${Date.now()}`;
    await rename(path, movedTo);
    if (scanned === undefined) return { kind: 'unreplayable', records: 0, countOf: 'unknown', movedTo, reason: reason ?? 'unreadable' };
    if (scanned.badLines === 0) return { kind: 'unreplayable', records: scanned.records, countOf: 'records', movedTo, reason: reason! };
    const lines = scanned.records + scanned.badLines + (scanned.tail > 0 ? 1 : 0);
    return { kind: 'unreplayable', records: lines, countOf: 'lines', movedTo, reason: reason! };
  }
  const truncatedTo = scanned.tail > 0 ? await cutTail(path, scanned.bytes, scanned.tail) : undefined;
  return { kind: 'replay', lines: scanned.lines, bytes: scanned.bytes, records: added, head, truncatedBytes: scanned.tail, truncatedTo, streams: [...scanned.byStream.keys()] };
}

/** The stored head advanced over the spilled records after it; throws on a gap or a fork. */
function extend(stream: string, stored: ChainHead | undefined, list: readonly SpilledRecord[]): ChainHead | undefined {
  const size = stored?.size ?? 0;
  const after = list.filter((r) => r.seq >= size);
  if (after.length === 0) return stored;
  const alg = stored?.alg ?? after[0]!.alg;
  const range = stored !== undefined ? CompactRange.restore(alg, stored.compactRange) : new CompactRange(alg);
  let prev = stored?.prev ?? genesisPrev(alg);
  for (const r of after) {
    if (r.seq < range.size && r.hash === (r.seq === range.size - 1 ? prev : r.hash)) continue; // written twice
    if (r.seq !== range.size) throw new Error(`stream "${stream}": the spill file continues at seq ${r.seq} but the primary sink holds ${range.size} records (the records between were lost with the process)`);
    if (r.prev !== prev) throw new Error(`stream "${stream}": spilled record ${r.seq} does not follow the stored chain (prev ${r.prev}, expected ${prev})`);
    range.appendHex(r.hash);
    prev = r.hash;
  }
  return { stream, alg, size: range.size, prev, compactRange: range.state() };
}
