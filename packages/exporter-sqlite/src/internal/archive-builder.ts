/**
 * Building one retention archive (DESIGN §6): the next whole prefix of a
 * stream, cut at a signed checkpoint, checked record by record (seq, chain,
 * checksum, then the Merkle root against the checkpoint's) and compressed.
 * The reading, hashing and compressing run in a plain read transaction —
 * WAL gives it a consistent snapshot and other connections keep writing
 * meanwhile; only {@link insertArchive} takes the write lock, for as long as
 * one INSERT takes, after checking that no archive of the stream was added
 * since the snapshot.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { CompactRange, genesisPrev, Keyring, recordHash, verifyCheckpoint, type CompactRangeState, type HashAlgorithm } from '@otel-audit/core';
import type Database from 'better-sqlite3';
import type { ArchiveInfo } from '../archive.js';
import { ARCHIVE_COLUMNS, toArchiveInfo, type ArchiveRow } from './archive-store.js';
import { RetentionError } from '../errors.js';
import { readHead } from './appender.js';
import { rowToRecord, SELECT_LIST, type RawRow } from './row-mapping.js';
import type { RowCipher } from './row-cipher.js';

const EMPTY_KEYRING = new Keyring();

/**
 * Text compressed per gzip member. The archive is a series of gzip members
 * (RFC 1952 §2.2; gunzip, zcat and `verifyArchive` read them as one
 * stream), so building it holds one member's text at a time, not the
 * NDJSON of the whole archive.
 */
const MEMBER_CHARS = 1 << 20;

/** An archive read and checked, not yet stored. */
export interface ArchiveDraft {
  stream: string;
  alg: HashAlgorithm;
  /** The last seq of the stream's newest archive when the draft was read (-1: none): the draft follows it. */
  after: number;
  from: number;
  cut: number;
  firstTime: bigint;
  lastTime: bigint;
  prev: string;
  lastChecksum: string;
  startRange: CompactRangeState;
  range: CompactRangeState;
  note: string;
  sha256: string;
  data: Buffer;
  encKeyId: string | null;
}

/**
 * The next archive of `stream` (records from its last archive's cut, below
 * `olderThan`, at most `max`, cut at the largest signed checkpoint in
 * reach), read in one read transaction; undefined when there is none.
 * Throws RetentionError, archiving nothing, when the rows do not prove
 * themselves.
 */
export function readArchiveDraft(db: Database.Database, cipher: RowCipher | undefined, stream: string, olderThan: bigint, max: number, allowUnsigned: boolean): ArchiveDraft | undefined {
  return db.transaction(() => draft(db, cipher, stream, olderThan, max, allowUnsigned))();
}

function draft(db: Database.Database, cipher: RowCipher | undefined, stream: string, olderThan: bigint, max: number, allowUnsigned: boolean): ArchiveDraft | undefined {
  const head = readHead(db.prepare('SELECT hash_alg, size, prev, compact_range FROM audit_stream_heads WHERE stream = ?'), stream);
  if (head === undefined) return undefined;
  const last = db.prepare('SELECT last_seq, last_checksum, compact_range FROM audit_log_archives WHERE stream = ? ORDER BY last_seq DESC LIMIT 1').get(stream) as
    { last_seq: number; last_checksum: string; compact_range: string } | undefined;
  const from = last ? Number(last.last_seq) + 1 : 0;
  const firstNew = db.prepare('SELECT min(seq) FROM audit_logs WHERE stream = ? AND seq >= ? AND time_unix_nano >= ?').pluck().get(stream, from, olderThan) as number | null;
  const limit = Math.min(firstNew ?? head.size, from + max);
  // The largest checkpoint in reach that carries a signature (any: the keys are verify's to judge).
  const candidates = db.prepare('SELECT size, note FROM audit_checkpoints WHERE stream = ? AND size > ? AND size <= ? ORDER BY size DESC').iterate(stream, from, limit) as
    Iterable<{ size: number; note: string }>;
  let cp: { size: number; note: string } | undefined;
  for (const c of candidates) {
    // Without keys a signed, well-formed note is `unknown_key`.
    const status = verifyCheckpoint(c.note, EMPTY_KEYRING).status;
    if (status === 'unknown_key' || status === 'valid' || (allowUnsigned && status === 'unsigned')) {
      cp = c;
      break;
    }
  }
  if (cp === undefined) return undefined;
  const cut = Number(cp.size);
  const range = last ? CompactRange.restore(head.alg, JSON.parse(last.compact_range)) : new CompactRange(head.alg);
  const startRange = range.state();
  const prev = last ? last.last_checksum : genesisPrev(head.alg);
  const members: Buffer[] = [];
  const sha = createHash('sha256');
  let pending: string[] = [];
  let pendingChars = 0;
  const flush = (): void => {
    const gz = gzipSync(`${pending.join('\n')}\n`);
    sha.update(gz);
    members.push(gz);
    pending = [];
    pendingChars = 0;
  };
  let next = from;
  let expectedPrev = prev;
  let firstTime = 0n;
  let lastTime = 0n;
  const rows = db.prepare(`SELECT ${SELECT_LIST} FROM audit_logs WHERE stream = ? AND seq >= ? AND seq < ? ORDER BY seq`).raw();
  for (const raw of rows.iterate(stream, from, cut) as Iterable<RawRow>) {
    const { record, checksum } = rowToRecord(raw, cipher);
    const refuse = (why: string) => new RetentionError(`stream "${stream}" seq ${record.seq}: ${why}; nothing was archived — run verify`);
    if (record.seq !== next) throw refuse(`expected seq ${next} (records are missing)`);
    if (record.prev !== expectedPrev) throw refuse('the record does not link to the one before it');
    let hash: string;
    try {
      hash = recordHash(record);
    } catch {
      throw refuse('the record cannot be canonicalized');
    }
    if (hash !== checksum) throw refuse('the record does not hash to its stored checksum');
    range.appendHex(hash);
    expectedPrev = hash;
    if (next === from) firstTime = BigInt(record.time);
    lastTime = BigInt(record.time);
    const line = JSON.stringify({ record, checksum });
    pending.push(line);
    pendingChars += line.length + 1;
    if (pendingChars >= MEMBER_CHARS) flush();
    next++;
  }
  if (next !== cut) throw new RetentionError(`stream "${stream}": records ${next}..${cut - 1} are missing; nothing was archived — run verify`);
  const root = verifyCheckpoint(cp.note, EMPTY_KEYRING).checkpoint?.rootHash.toString('hex');
  if (root !== range.rootHex()) throw new RetentionError(`stream "${stream}": records 0..${cut - 1} do not produce the root of the checkpoint at size ${cut}; nothing was archived — run verify`);
  if (pending.length > 0) flush();
  const gz = members.length === 1 ? members[0]! : Buffer.concat(members);
  return {
    stream, alg: head.alg, after: from - 1, from, cut, firstTime, lastTime, prev, lastChecksum: expectedPrev, startRange, range: range.state(), note: cp.note,
    sha256: sha.digest('hex'), data: cipher ? cipher.sealBytes(gz, `archive:${stream}:${from}`) : gz, encKeyId: cipher?.keyId ?? null,
  };
}

/**
 * Store `d` in one short write transaction, unless an archive of its stream
 * was added since it was read (another retention run): then nothing is
 * stored and undefined is returned, for the caller to read the next one.
 */
export function insertArchive(db: Database.Database, d: ArchiveDraft): ArchiveInfo | undefined {
  return db.transaction(() => {
    const newest = db.prepare('SELECT max(last_seq) FROM audit_log_archives WHERE stream = ?').pluck().get(d.stream) as number | null;
    if ((newest === null ? -1 : Number(newest)) !== d.after) return undefined;
    const id = db.prepare(
      `INSERT INTO audit_log_archives (stream, hash_alg, first_seq, last_seq, record_count, first_time_unix_nano, last_time_unix_nano, prev, last_checksum,
        start_compact_range, compact_range, checkpoint_note, created_unix_nano, sha256, enc_key_id, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(d.stream, d.alg, d.from, d.cut - 1, d.cut - d.from, d.firstTime, d.lastTime, d.prev, d.lastChecksum, JSON.stringify(d.startRange), JSON.stringify(d.range),
      d.note, BigInt(Date.now()) * 1_000_000n, d.sha256, d.encKeyId, d.data).lastInsertRowid;
    return toArchiveInfo(db.prepare(`SELECT ${ARCHIVE_COLUMNS} FROM audit_log_archives WHERE archive_id = ?`).safeIntegers().get(id) as ArchiveRow);
  }).immediate();
}
