/**
 * The database file `tail -f` follows (DESIGN §1, §6): opened read-only in
 * place, or through a temporary copy when SQLite cannot read it in place;
 * the path watched at each poll (its device and inode, and for a copy its
 * size and time) so that a file put there is followed; failed opens and
 * failed polls retried, said on stderr once. What a replacing file means
 * for the records shown is the caller's (`replaced`).
 */
import * as fs from 'node:fs';
import type { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import type { CommandContext } from '../command.js';
import { CliError } from '../errors.js';
import { openStore, resolvePath, type OpenedStore } from './inputs.js';
import { escapeControl } from './table.js';

/** How a file that replaced the followed one relates to what was seen, and how to take it on. */
export interface Replacement { readonly continues: boolean; readonly apply: () => void }

/** The file at `file` now (device and inode, `-` when it cannot be stat'ed): another value is another file. */
function identityOf(file: string): string {
  try {
    const s = fs.statSync(file, { bigint: true });
    return `${s.dev}:${s.ino}`;
  } catch {
    return '-';
  }
}

/**
 * Size and modification time of the database and its WAL: changes when
 * anything commits. A file that cannot be stat'ed stamps as `-`: for the
 * WAL that is its usual absence; for the database it differs from every
 * stamp of a readable file, so the copy is taken again and that failure,
 * with its reason, is what the user hears of.
 */
function stampOf(file: string): string {
  return ['', '-wal'].map((suffix) => {
    try {
      const s = fs.statSync(file + suffix);
      return `${s.size}@${s.mtimeMs}`;
    } catch {
      return '-';
    }
  }).join(' ');
}

/** A store opened at the path, which file that was, and its stamp before it was read. */
interface OpenedAt { readonly opened: OpenedStore; readonly identity: string; readonly stamp: string }

/**
 * Opens the store at `db` read-only. The path is stat'ed before and after:
 * a file put there meanwhile is refused (the next poll opens it), so the
 * identity kept is that of the file read.
 */
function openAt(ctx: CommandContext, db: string, file: string): OpenedAt {
  const identity = identityOf(file);
  const stamp = stampOf(file);
  const opened = openStore(ctx, db, { readOnly: true });
  if (identityOf(file) === identity) return { opened, identity, stamp };
  opened.close();
  throw new CliError('AUDIT_CLI_INPUT', `${file} was replaced while it was being opened`, 'run the command again');
}

/**
 * The store as opened, the store `tail -f` polls, how to report that a
 * poll of it failed (it is opened again at the next one) or succeeded, and
 * how to close it.
 */
export interface FollowedStore {
  readonly first: SqliteAuditStore;
  readonly current: () => SqliteAuditStore;
  readonly failed: (e: unknown) => void;
  readonly read: () => void;
  readonly close: () => void;
}

/**
 * Opens the store at `db` read-only. `current()` stats the path: when it
 * names another file, opens that and, if `replaced` reads it without
 * throwing, follows it from then on, with one line on stderr. A copy does
 * not see later commits, so it is also taken again when the file changed.
 * A failed open keeps the previous store (its records stay shown, later
 * ones wait), and a poll that failed in SQLite (`failed`) has the file
 * opened again; either is tried again at every poll until a poll succeeds
 * (`read`). stderr gets one line when it failed twice in a row (once may be
 * a copy caught mid-write, or a file between its move and its replacement)
 * and one when it recovers, with the error's message only (no stack, no
 * cause, no environment).
 */
export function followedStore(ctx: CommandContext, db: string, replaced: (store: SqliteAuditStore) => Replacement): FollowedStore {
  const file = resolvePath(ctx, db);
  const shown = escapeControl(file);
  let { opened, identity, stamp } = openAt(ctx, db, file);
  // Failed opens or polls in a row; one alone (a copy caught mid-write) is not worth a warning.
  let failures = 0;
  // The last current() could not open the file: a poll of the store kept meanwhile says nothing of it.
  let openFailed = false;
  const current = (): SqliteAuditStore => {
    openFailed = false;
    if (failures === 0 && identityOf(file) === identity && (!opened.copied || stampOf(file) === stamp)) return opened.store;
    let next: OpenedAt | undefined;
    try {
      next = openAt(ctx, db, file);
      const change = next.identity === identity ? undefined : replaced(next.opened.store);
      const old = opened;
      ({ opened, identity, stamp } = next);
      next = undefined;
      old.close();
      if (change !== undefined) {
        const how = change.continues ? 'which continues the records shown' : 'which does not continue the records shown: its newest records not shown yet come first';
        ctx.stderr.write(`otel-audit tail: ${shown} was replaced by another file; following the new one, ${how}\n`);
        failures = 0; // read: `replaced` read it
        change.apply();
      }
    } catch (e) {
      next?.opened.close();
      failed(e);
      openFailed = true;
    }
    return opened.store;
  };
  function failed(e: unknown): void {
    if (++failures === 2) {
      const reason = escapeControl(e instanceof Error ? e.message : String(e));
      ctx.stderr.write(`otel-audit tail: warning: cannot read ${shown} again (${reason}); still following, newer records will show once it can be read (retrying every ${String(ctx.options['interval'])} ms)\n`);
    }
  }
  // A file counts as read again once a poll of it succeeded, not when it merely opened.
  function read(): void {
    if (openFailed) return;
    if (failures >= 2) ctx.stderr.write(`otel-audit tail: ${shown} can be read again; following it\n`);
    failures = 0;
  }
  return { first: opened.store, current, failed, read, close: () => opened.close() };
}

/**
 * A poll that failed in SQLite itself (a copy caught mid-write reads as
 * SQLITE_CORRUPT, a writer holding the file past the busy timeout as
 * SQLITE_BUSY): worth trying again. Any other error (a record sealed with
 * a key not given) ends tail as before.
 */
export function isSqliteFailure(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_');
}
