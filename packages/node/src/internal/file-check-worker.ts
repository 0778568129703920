/**
 * SQLite's check of the store file for the verification at start
 * (`verify_on_start`, internal/verify-on-start.ts), run in a worker thread.
 * `PRAGMA integrity_check` is one synchronous call over the whole file (about
 * a quarter of the time of verifying the records: seconds at millions of
 * records); on the main thread it would stop the app answering for that
 * long. `quick_check` would be cheaper but does not compare indexes with
 * their table — the damage this check exists to find. Same words as
 * exporter-sqlite's `storeFileDamage`, which `otel-audit verify` runs.
 * better-sqlite3 cannot interrupt a running statement: a stopped check is
 * no longer waited for, but the process cannot exit (even by
 * `process.exit`) until the worker's call returns — measured: a 1.5 M-row test table,
 * a 10.5 s check, stopped at 0.3 s, the process exited at 9.5 s. A child
 * process could be killed at once, but would start the service again in a
 * single-executable build and where NODE_OPTIONS names the register hook.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Problems SQLite reports, at most this many. */
const MAX_PROBLEMS = 5;

/** The worker: a read-only connection, the check, its lines posted back — or why it could not run (a file moved, locked: not damage). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let answer;
try {
  const db = new Database(workerData.path, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = ' + workerData.busyTimeoutMillis);
    answer = { found: db.pragma('integrity_check(' + workerData.maxProblems + ')').map((r) => r.integrity_check) };
  } finally {
    db.close();
  }
} catch (e) {
  answer = { error: String(e && e.message) };
}
parentPort.postMessage(answer);
`;

/** better-sqlite3 as exporter-sqlite resolves it: the driver that wrote the store. */
function driverPath(): string {
  const store = createRequire(import.meta.url).resolve('@otel-audit/exporter-sqlite/package.json');
  return createRequire(store).resolve('better-sqlite3');
}

/** A running check: its outcome, and a way to stop waiting for it. */
export interface FileCheck {
  /**
   * Why the file is not sound, as lines for people (none when SQLite finds
   * nothing wrong); undefined when stopped. Rejects when the check could not
   * run (the worker failed, the file could not be opened): that says
   * nothing of the file, and must not raise an integrity alert.
   */
  readonly damage: Promise<string[] | undefined>;
  /** Stop the check (the worker is terminated; the process does not wait for it). */
  stop(): void;
}

/**
 * Start SQLite's check of the file at `path` in a worker thread.
 *
 * @example
 * const check = startFileCheck(store.path);
 * const damage = await check.damage; // ['the database file fails SQLite's integrity check: ...']
 */
export function startFileCheck(path: string, busyTimeoutMillis = 5_000): FileCheck {
  let stop = (): void => undefined;
  const damage = new Promise<string[] | undefined>((resolve, reject) => {
    let stopped = false;
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver: driverPath(), path, busyTimeoutMillis, maxProblems: MAX_PROBLEMS } });
    } catch (e) {
      reject(new Error(`SQLite's check of the file could not start: ${(e as Error).message}`, { cause: e }));
      return;
    }
    // A shutdown must not wait for a check still running.
    worker.unref();
    worker.once('message', (answer: { found?: string[]; error?: string }) => {
      if (answer.found !== undefined) resolve(describeDamage(answer.found));
      else reject(new Error(`SQLite's check of the file could not run: ${answer.error ?? 'no reason given'}`));
    });
    worker.once('error', (e) => reject(new Error(`SQLite's check of the file failed: ${e.message}`, { cause: e })));
    // Settled already when it answered; else it was stopped, or ended without a word.
    worker.once('exit', () => (stopped ? resolve(undefined) : reject(new Error('SQLite\'s check of the file ended without an answer'))));
    stop = () => {
      stopped = true;
      resolve(undefined);
      void worker.terminate().catch(() => undefined);
    };
  });
  // Read by the caller only after the records are verified: a failure meanwhile is not unhandled.
  damage.catch(() => undefined);
  return { damage, stop: () => stop() };
}

function describeDamage(found: string[]): string[] {
  if (found.length === 1 && found[0] === 'ok') return [];
  return [`the database file fails SQLite's integrity check, so queries may miss or misread rows even where the records verify `
    + `(an edited schema, a damaged page: a crash, a bad copy or tampering): ${found.slice(0, MAX_PROBLEMS).join('; ')}`];
}
