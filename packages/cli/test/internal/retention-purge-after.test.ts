/**
 * A purge that fails after retention created its archives (a full disk: the
 * purge needs room too; disk-full review F9): the error says the archives
 * exist and which, instead of only SQLite's "database or disk is full".
 */
import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/errors.js';
import { purgeAfter, type ArchiveWithSpan } from '../../src/internal/retention-checks.js';

const archive = (archiveId: number): ArchiveWithSpan => ({ archiveId, stream: 'svc/1' }) as ArchiveWithSpan;
const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

describe('retention: a purge that fails after the archives were created', () => {
  it('names the archives created and says what the next run does', async () => {
    const error = await purgeAfter([archive(1), archive(2)], () => Promise.reject(full)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toBe('2 archive(s) were created (id 1, 2), then the purge failed: database or disk is full. '
      + 'Each archive is purged whole or not at all; `otel-audit archives --db DB` shows which are');
    expect((error as CliError).fix).toMatch(/free space .* then run retention --apply again; the next run purges what is left and creates no archive twice/);
  });

  it('passes the error on as it is when no archive was created, and the result when the purge succeeds', async () => {
    await expect(purgeAfter([], () => Promise.reject(full))).rejects.toBe(full);
    await expect(purgeAfter([archive(1)], () => Promise.resolve([]))).resolves.toEqual([]);
  });
});
