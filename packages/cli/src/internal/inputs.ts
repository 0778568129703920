/**
 * Reading what the user points the CLI at (DESIGN §4.4, §6, §7): resolving
 * paths against the context's cwd, telling a SQLite store, an export bundle
 * and OTLP JSON lines apart, opening a store without creating one by
 * accident (the store constructor creates missing files) and, for verbs
 * that only read, without changing it (evidence stays byte for byte what it
 * was), and turning every failure into a {@link CliError} that says what to
 * do (exit 2).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUNDLE_FORMAT, EncryptionKeyError, encryptionFromEnv, SqliteAuditStore, type SqliteAuditStoreOptions } from '@otel-audit/exporter-sqlite';
import type { CommandContext } from '../command.js';
import { CliError } from '../errors.js';
import { copyToPrivateFile } from './private-file.js';
import { createTempDir, type Interruptible } from './temp-dir.js';

/**
 * What an input file holds.
 *
 * @example
 * const kind: InputKind = detectInput(file); // 'sqlite' | 'bundle' | 'jsonl'
 */
export type InputKind = 'sqlite' | 'bundle' | 'jsonl';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const BUNDLE_HEAD = new RegExp(`^\\{\\s*"format"\\s*:\\s*"${BUNDLE_FORMAT}"`);

/**
 * `file` resolved against the context's working directory.
 *
 * @example
 * resolvePath(ctx, 'audit.db') // '/srv/app/audit.db'
 */
export function resolvePath(ctx: Pick<CommandContext, 'cwd'>, file: string): string {
  return path.resolve(ctx.cwd, file);
}

/**
 * Refuse (exit 2) unless `file` is a readable regular file; `what` names it
 * in the fix (`proof file`, `database file`).
 *
 * @example
 * assertReadableFile('/tmp/proof.json', 'proof file'); // throws CliError naming the path and the fix
 */
export function assertReadableFile(file: string, what: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
    fs.accessSync(file, fs.constants.R_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    const fix = code === 'ENOENT' ? `check the path of the ${what}` : `give this user read access to ${file}`;
    throw new CliError('AUDIT_CLI_INPUT', `cannot read ${file} (${code})`, fix);
  }
  if (stat.isDirectory()) throw new CliError('AUDIT_CLI_INPUT', `${file} is a directory, not a file`, `pass the ${what} itself, not the directory it is in`);
  if (!stat.isFile()) throw new CliError('AUDIT_CLI_INPUT', `${file} is not a regular file`, `pass the ${what} itself`);
}

/** What the first bytes of a file show: its kind, or why it is none. */
interface Sniffed { readonly kind?: InputKind; readonly size: number; readonly binary: boolean }

function sniff(file: string, what: string): Sniffed {
  assertReadableFile(file, what);
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(4096);
  let n: number;
  let size: number;
  try {
    n = fs.readSync(fd, head, 0, head.length, 0);
    size = fs.fstatSync(fd).size;
  } finally {
    fs.closeSync(fd);
  }
  const start = head.subarray(0, n);
  const binary = start.includes(0);
  if (start.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC)) return { kind: 'sqlite', size, binary };
  const text = start.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (BUNDLE_HEAD.test(text)) return { kind: 'bundle', size, binary };
  if (text.startsWith('{')) return { kind: text.includes('"resourceLogs"') || !text.includes('"format"') ? 'jsonl' : 'bundle', size, binary };
  return { size, binary };
}

/**
 * What to do about a store SQLite cannot read: it is evidence, and the
 * records have other copies (docs/operations.md §2 verifies exports and
 * the Collector's output, §5 forwards records and checkpoints).
 */
const DAMAGED_FIX = 'keep the file as evidence and verify another copy of the records — a backup of the store, an export bundle '
  + '(`otel-audit export --format bundle`), or what was forwarded to the collector (its store or the Collector file exporter output, '
  + 'signed checkpoints included) — with `otel-audit verify FILE --key VKEY`; see docs/operations.md §2 (Verifying) and §5 (Forwarding)';

/** SQLite's codes for a file that is no longer a well-formed database. */
const DAMAGED = /^SQLITE_(CORRUPT|NOTADB)/;

function damagedError(file: string, detail: string): CliError {
  return new CliError('AUDIT_CLI_INPUT', `${file} is damaged: it ${detail} — a crash, a bad copy or tampering changed it, so its records cannot be read`, DAMAGED_FIX);
}

/**
 * Why a file of no known kind is refused: empty, or, when its size is whole
 * pages and it holds binary data, a database whose header was overwritten.
 */
function unknownKind(file: string, sniffed: Sniffed, expected: string, fix: string): CliError {
  if (sniffed.size === 0) return new CliError('AUDIT_CLI_INPUT', `${file} is empty, not ${expected}`, fix);
  if (sniffed.binary && sniffed.size % 512 === 0) {
    return new CliError('AUDIT_CLI_INPUT', `${file} is not ${expected}: it has the size of a SQLite database (${sniffed.size} bytes, whole pages) but not its header; `
      + 'if it was an otel-audit store, it is damaged — a crash, a bad copy or tampering changed it', `${DAMAGED_FIX}; if it never was a store, ${fix}`);
  }
  return new CliError('AUDIT_CLI_INPUT', `${file} is not ${expected}`, fix);
}

/**
 * Detects the kind of `file` from its first bytes: the SQLite header, a JSON
 * object whose `format` is the bundle's, or JSON lines. `what` names the
 * file the verb expects, in the fix when it cannot be read.
 *
 * @example
 * detectInput('/tmp/audit.db') // 'sqlite'
 */
export function detectInput(file: string, what = 'database, bundle or JSON-lines file'): InputKind {
  const sniffed = sniff(file, what);
  if (sniffed.kind !== undefined) return sniffed.kind;
  throw unknownKind(file, sniffed, 'an audit database, an export bundle or OTLP JSON lines',
    'pass the SQLite file of exporters.sqlite, a bundle from `otel-audit export --format bundle`, or the Collector file exporter output');
}

/**
 * The kind of `file` as {@link detectInput} tells it, or undefined for a
 * readable file of none of them (text, say); refuses (exit 2) an unreadable
 * path.
 *
 * @example
 * inputKindOf('/tmp/saved-checkpoints.txt', 'checkpoints file') // undefined
 */
export function inputKindOf(file: string, what: string): InputKind | undefined {
  return sniff(file, what).kind;
}

/** What `--db` takes, for verbs that read only a store. */
const STORE_FIX = 'pass the SQLite file of exporters.sqlite (its `path` in otel-config.yaml) as --db FILE';

/** Refuses (exit 2) a `--db` file that is not a SQLite store, saying what it is instead. */
function assertStoreFile(file: string): void {
  const sniffed = sniff(file, 'database file');
  if (sniffed.kind === 'sqlite') return;
  if (sniffed.kind === undefined) throw unknownKind(file, sniffed, 'an otel-audit SQLite store', STORE_FIX);
  const is = sniffed.kind === 'bundle' ? 'an export bundle' : 'OTLP JSON lines';
  throw new CliError('AUDIT_CLI_INPUT', `${file} is ${is}, not an otel-audit SQLite store`, `${STORE_FIX}; \`otel-audit verify ${file}\` checks the ${sniffed.kind === 'bundle' ? 'bundle' : 'JSON lines'} itself`);
}

/**
 * How {@link openStore} may open a store.
 *
 * @example
 * openStore(ctx, 'audit.db', { readOnly: true } satisfies OpenStoreOptions);
 */
export interface OpenStoreOptions {
  /**
   * The verb only reads: open the store read-only, so the file is never
   * changed (no switch to WAL, no checkpoint of its WAL). When SQLite cannot
   * open it so — a WAL database without its -shm file in a directory this
   * user cannot write — a temporary copy is read instead.
   */
  readOnly?: boolean;
}

/**
 * An open store and how to close it.
 *
 * @example
 * const { store, close, copied } = openStore(ctx, 'audit.db', { readOnly: true });
 */
export interface OpenedStore {
  readonly store: SqliteAuditStore;
  readonly close: () => void;
  /** The store is a temporary copy of the file: it does not see later writes. */
  readonly copied: boolean;
}

/** SQLite could not open the file read-only in place (permissions, no -shm and no way to create it). */
const CANNOT_OPEN_IN_PLACE = /^SQLITE_(CANTOPEN|READONLY|PERM|AUTH)|^E(ROFS|ACCES|PERM)$/;

/**
 * The store options of the context's env: encryption at rest from
 * `AUDIT_LOG_ENCRYPTION(_KEY, _KEY_ID)`, as every verb that opens a store
 * reads it, with the earlier keys of a rotation from
 * `AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS` (so rows they sealed stay readable).
 *
 * @example
 * const store = new SqliteAuditStore(file, storeOptionsOf(ctx));
 */
export function storeOptionsOf(ctx: Pick<CommandContext, 'env'>): SqliteAuditStoreOptions {
  let encryption: ReturnType<typeof encryptionFromEnv>;
  try {
    encryption = encryptionFromEnv(ctx.env);
  } catch (e) {
    throw new CliError('AUDIT_CLI_KEY', (e as Error).message, 'set AUDIT_LOG_ENCRYPTION=true and AUDIT_LOG_ENCRYPTION_KEY to the store\'s key (and AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS to its earlier keys, comma-separated), or unset them');
  }
  return encryption === undefined ? {} : { encryption };
}

/** The SQLite code of `e` or of its cause (the store wraps SQLite's error), e.g. `SQLITE_CORRUPT`. */
function sqliteCode(e: unknown): string | undefined {
  for (const code of [(e as { code?: unknown })?.code, (e as { cause?: { code?: unknown } })?.cause?.code]) {
    if (typeof code === 'string' && code.startsWith('SQLITE_')) return code;
  }
  return undefined;
}

/** The message of SQLite's own error (`database disk image is malformed`), without the store's wrapping. */
function sqliteMessage(e: unknown): string {
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error && typeof (cause as { code?: unknown }).code === 'string' ? cause.message : (e as Error).message;
}

/**
 * `file` passed the SQLite header check, so SQLITE_CORRUPT/NOTADB means a
 * store that was damaged, not a file of another kind.
 */
function storeOpenError(e: unknown, readOnly: boolean, file: string): CliError {
  if (DAMAGED.test(sqliteCode(e) ?? '')) return damagedError(file, `starts as a SQLite database, but SQLite cannot read it (${sqliteMessage(e)})`);
  const fix = e instanceof EncryptionKeyError
    ? 'set AUDIT_LOG_ENCRYPTION_KEY to the key the store was written with'
    : readOnly
      ? 'check that the file is an otel-audit store'
      : 'check that the file is an otel-audit store and that this user may write beside it (SQLite needs its -wal file)';
  return new CliError('AUDIT_CLI_INPUT', (e as Error).message, fix);
}

function cannotOpenInPlace(e: unknown): boolean {
  const cause = (e as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' && CANNOT_OPEN_IN_PLACE.test(cause.code);
}

/**
 * Copies the database with its WAL or rollback journal (what it holds
 * beyond the file) to a temp dir (0700, files 0600); returns the copy and
 * its cleanup, which also runs when the context's signal aborts (Ctrl-C). The -shm
 * index is not copied: SQLite rebuilds it from the WAL.
 */
function temporaryCopy(file: string, ctx: Interruptible): { copy: string; remove: () => void } {
  const tmp = createTempDir('otel-audit-ro-', ctx);
  const copy = path.join(tmp.dir, 'copy.db');
  try {
    copyToPrivateFile(file, copy);
    for (const suffix of ['-wal', '-journal']) if (fs.existsSync(file + suffix)) copyToPrivateFile(file + suffix, copy + suffix);
  } catch (e) {
    tmp.remove();
    throw new CliError('AUDIT_CLI_INPUT', `cannot copy the read-only database ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'copy it somewhere writable and pass the copy');
  }
  return { copy, remove: tmp.remove };
}

/**
 * Opens the SQLite store at `file` (which must exist and be a SQLite file),
 * with encryption at rest from `AUDIT_LOG_ENCRYPTION(_KEY)` of the context's
 * env. With `readOnly`, the file is opened read-only and left unchanged.
 * Returns the store and how to close it.
 *
 * @example
 * const { store, close } = openStore(ctx, String(ctx.options['db']), { readOnly: true });
 * try { ... } finally { close(); }
 */
export function openStore(ctx: Pick<CommandContext, 'cwd' | 'env'> & Interruptible, file: string, options: OpenStoreOptions = {}): OpenedStore {
  const resolved = resolvePath(ctx, file);
  assertStoreFile(resolved);
  const storeOptions = storeOptionsOf(ctx);
  const readOnly = options.readOnly === true;
  try {
    const store = new SqliteAuditStore(resolved, { ...storeOptions, readOnly });
    return { store, close: () => store.close(), copied: false };
  } catch (e) {
    if (!readOnly || e instanceof EncryptionKeyError || !cannotOpenInPlace(e)) throw storeOpenError(e, readOnly, resolved);
  }
  // The copy is ours: opened by the writer, which can replay a WAL or
  // roll back a hot journal the read-only connection could not.
  const { copy, remove } = temporaryCopy(resolved, ctx);
  try {
    const store = new SqliteAuditStore(copy, storeOptions);
    return { store, close: () => { store.close(); remove(); }, copied: true };
  } catch (e) {
    remove();
    const error = storeOpenError(e, readOnly, resolved);
    throw new CliError('AUDIT_CLI_INPUT', error.message.split(copy).join(resolved), error.fix);
  }
}

/**
 * Reads a text file the user named, with the same messages as other inputs.
 *
 * @example
 * const text = readTextFile(ctx, 'proof.json', 'proof file');
 */
export function readTextFile(ctx: Pick<CommandContext, 'cwd'>, file: string, what: string): string {
  const resolved = resolvePath(ctx, file);
  assertReadableFile(resolved, what);
  return fs.readFileSync(resolved, 'utf8');
}

/**
 * Runs `body` with the store open and closes it afterwards. By default the
 * verb only reads (a read-only file is verified through a temporary copy).
 *
 * @example
 * return withStore(ctx, db, (store) => { ... return 0; });
 */
export async function withStore<T>(ctx: Pick<CommandContext, 'cwd' | 'env'> & Interruptible, file: string, body: (store: SqliteAuditStore) => Promise<T> | T, options: OpenStoreOptions = { readOnly: true }): Promise<T> {
  const { store, close } = openStore(ctx, file, options);
  try {
    return await body(store);
  } catch (e) {
    // A page past the ones read at open may be the damaged one.
    if (DAMAGED.test(sqliteCode(e) ?? '')) throw damagedError(resolvePath(ctx, file), `opens as a SQLite database, but SQLite cannot read all of it (${sqliteMessage(e)})`);
    throw e;
  } finally {
    close();
  }
}
