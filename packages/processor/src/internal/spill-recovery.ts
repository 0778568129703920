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
 * evidence and the loss is recorded in the chain by the caller.
 */
import { createReadStream } from 'node:fs';
import { rename, stat, truncate } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { CompactRange, genesisPrev, type AuditSink, type ChainHead, type HashAlgorithm } from '@otel-audit/core';

/** What one record line of the file says about its place in a stream. */
interface SpilledRecord {
  seq: number;
  prev: string;
  hash: string;
  alg: HashAlgorithm;
}

/** The outcome of {@link recoverSpill}. */
export type SpillRecovery =
  | { kind: 'replay'; lines: number; bytes: number; records: number; head: ChainHead | undefined }
  | { kind: 'unreplayable'; records: number; movedTo: string; reason: string };

/** Parse the file: complete lines only (a crash may leave half a line at the end). */
async function scan(path: string): Promise<{ byStream: Map<string, SpilledRecord[]>; lines: number; bytes: number; records: number }> {
  const byStream = new Map<string, SpilledRecord[]>();
  let lines = 0;
  let bytes = 0;
  let records = 0;
  const input = createReadStream(path, { encoding: 'utf8' });
  const reader = createInterface({ input, crlfDelay: Infinity });
  let pendingLine: string | undefined;
  for await (const line of reader) {
    // readline also yields an unterminated last line: hold each line until the next one proves it complete.
    if (pendingLine !== undefined) {
      ({ lines, bytes, records } = take(pendingLine, byStream, lines, bytes, records));
    }
    pendingLine = line;
  }
  if (pendingLine !== undefined) {
    const size = (await stat(path)).size;
    // The last line counts only if the file ends with its newline.
    if (bytes + Buffer.byteLength(pendingLine, 'utf8') + 1 <= size) ({ lines, bytes, records } = take(pendingLine, byStream, lines, bytes, records));
  }
  return { byStream, lines, bytes, records };
}

function take(line: string, byStream: Map<string, SpilledRecord[]>, lines: number, bytes: number, records: number) {
  const parsed = JSON.parse(line) as { c?: string; h?: string };
  if (parsed.c !== undefined && parsed.h !== undefined) {
    const r = JSON.parse(parsed.c) as { stream: string; seq: number; prev: string; alg: HashAlgorithm };
    let list = byStream.get(r.stream);
    if (list === undefined) byStream.set(r.stream, (list = []));
    list.push({ seq: r.seq, prev: r.prev, hash: parsed.h, alg: r.alg });
    records++;
  }
  return { lines: lines + 1, bytes: bytes + Buffer.byteLength(line, 'utf8') + 1, records };
}

/**
 * Read a spill file left by an earlier process and check it against the
 * primary sink. `ownHead` is the stored head of the stream this processor
 * writes (already read by the caller). Returns undefined when there is no
 * file (or an empty one); otherwise either how to replay it (and the head to
 * resume the own stream from) or, when it cannot be replayed, where it was
 * moved.
 */
export async function recoverSpill(path: string, ownStream: string, ownHead: ChainHead | undefined, primary: AuditSink): Promise<SpillRecovery | undefined> {
  try {
    if ((await stat(path)).size === 0) return undefined;
  } catch {
    return undefined;
  }
  let scanned: Awaited<ReturnType<typeof scan>> | undefined;
  let head: ChainHead | undefined = ownHead;
  try {
    scanned = await scan(path);
    for (const [stream, list] of scanned.byStream) {
      const stored = stream === ownStream ? ownHead : await primary.head(stream);
      const extended = extend(stream, stored, list);
      if (stream === ownStream) head = extended;
    }
  } catch (e) {
    const movedTo = `${path}.unreplayable-${Date.now()}`;
    await rename(path, movedTo);
    return { kind: 'unreplayable', records: scanned?.records ?? 0, movedTo, reason: (e as Error).message };
  }
  // Cut a half-written last line so appends continue on a line boundary.
  if ((await stat(path)).size !== scanned.bytes) await truncate(path, scanned.bytes);
  if (scanned.lines === 0) return undefined;
  return { kind: 'replay', lines: scanned.lines, bytes: scanned.bytes, records: scanned.records, head };
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
