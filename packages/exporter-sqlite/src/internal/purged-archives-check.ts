/**
 * The purged archives of a stream, checked by store verify (DESIGN §6:
 * retention deletes only a range first archived): after a purge they are
 * the only copy of those records, so together they must cover the purged
 * prefix and each must prove its own records against the checkpoint the
 * store holds at its cut.
 */
import type { CompactRangeState, Finding, Keyring } from '@otel-audit/core';
import type Database from 'better-sqlite3';
import { verifyArchive, type ArchiveInfo } from '../archive.js';
import { listArchives, readArchive } from './archive-store.js';
import type { RowCipher } from './row-cipher.js';

/**
 * The findings of each purged archive of `stream` (`verifyArchive` with the
 * keyring), its number and seqs in each message: after a purge the archives
 * are the only copy of those records. They must cover the purged prefix
 * whole — from seq 0, each starting where the one before ends (a missing
 * archive is a `seq_gap`, an overlap a `duplicate`) and linking to it (its
 * `prev` and start compact range are the previous one's last checksum and
 * compact range at its cut, else `chain_break`) — and each one's checkpoint
 * must be a note the store holds for the stream. With a keyring, that
 * checkpoint's signature is judged here too (`unknown_key` and the like are
 * reported, and records no verified checkpoint covers are an `unsigned_tail`
 * error: purged records are vouched for by their archive's checkpoint or by
 * nothing); without one, only the chain and roots are checked, as for the
 * live records. Yields to the event loop before each archive: each is a
 * synchronous read, gunzip and rehash of up to `maxRecordsPerArchive`
 * records, and a service verifying its own store at start serves requests
 * meanwhile.
 */
export async function purgedArchiveFindings(db: Database.Database, cipher: RowCipher | undefined, stream: string, keyring: Keyring | undefined): Promise<Finding[]> {
  const out: Finding[] = [];
  const storedNote = db.prepare('SELECT 1 FROM audit_checkpoints WHERE stream = ? AND size = ? AND note = ?');
  const name = (x: ArchiveInfo): string => `archive ${x.archiveId} (seq ${x.firstSeq}..${x.lastSeq}, purged from the log)`;
  let before: ArchiveInfo | undefined;
  for (const a of listArchives(db, stream)) {
    if (!a.purged) continue;
    await new Promise<void>((resolve) => setImmediate(resolve));
    const expect = before === undefined ? 0 : before.lastSeq + 1;
    if (a.firstSeq > expect) {
      out.push({
        code: 'seq_gap', severity: 'error', stream, seq: expect, expected: String(expect), actual: String(a.firstSeq),
        message: before === undefined
          ? `${name(a)} is the stream's first purged archive but starts at seq ${a.firstSeq}, not 0: records seq 0..${a.firstSeq - 1} were purged and no purged archive holds them (an archive or its purge row was deleted)`
          : `records seq ${expect}..${a.firstSeq - 1}, between ${name(before)} and ${name(a)}, were purged and no purged archive holds them (an archive or its purge row was deleted)`,
      });
    } else if (a.firstSeq < expect) {
      out.push({
        code: 'duplicate', severity: 'error', stream, seq: a.firstSeq, expected: String(expect), actual: String(a.firstSeq),
        message: before === undefined
          ? `${name(a)} starts at seq ${a.firstSeq}, before seq 0 (its first_seq column was edited)`
          : `${name(a)} overlaps ${name(before)}: it should start at seq ${expect}; records seq ${a.firstSeq}..${Math.min(a.lastSeq, expect - 1)} are in both`,
      });
    } else if (before !== undefined && (a.prev !== before.lastChecksum || !sameRange(a.startCompactRange, before.compactRange))) {
      out.push({
        code: 'chain_break', severity: 'error', stream, seq: a.firstSeq, expected: before.lastChecksum, actual: a.prev,
        message: `${name(a)} does not link to ${name(before)}: ${a.prev !== before.lastChecksum ? `its first record's prev is not the checksum of seq ${before.lastSeq}` : `its start compact range is not the one at the cut of archive ${before.archiveId}`}`,
      });
    }
    before = a;
    if (storedNote.get(stream, a.lastSeq + 1, a.checkpoint) === undefined) {
      out.push({
        code: 'hash_mismatch', severity: 'error', stream, seq: a.firstSeq, size: a.lastSeq + 1,
        message: `${name(a)}: its checkpoint is not the one the store holds for the stream at its cut (audit_checkpoints has no such note at size ${a.lastSeq + 1}): the archive's checkpoint was replaced`,
      });
    }
    let report;
    try {
      report = verifyArchive(readArchive(db, cipher, a.archiveId), keyring);
    } catch (e) {
      out.push({ code: 'malformed', severity: 'error', stream, seq: a.firstSeq, message: `${name(a)} cannot be read: ${(e as Error).message}` });
      continue;
    }
    for (const f of report.streams.flatMap((x) => x.findings)) {
      if (keyring === undefined && (f.severity !== 'error' || f.code === 'unknown_key')) continue; // no keys: signatures are not judged
      out.push({ ...f, severity: 'error', stream, message: `${name(a)}: ${f.message}` });
    }
  }
  return out;
}

/** Two compact ranges are the same (size and hashes). */
function sameRange(x: CompactRangeState, y: CompactRangeState): boolean {
  if (typeof x !== 'object' || x === null || typeof y !== 'object' || y === null) return false; // an edited column may hold any JSON
  return x.size === y.size && Array.isArray(x.hashes) && Array.isArray(y.hashes) && x.hashes.length === y.hashes.length && x.hashes.every((h, i) => h === y.hashes[i]);
}
