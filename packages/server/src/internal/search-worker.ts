/**
 * The search worker (search-pool.ts): a worker thread that opens the
 * server's database file read-only — its own better-sqlite3 connection; the
 * store is in WAL mode, so this reader neither blocks the writer nor waits
 * for it — and runs the store's own `query`, `exportTo` and `stats` for the
 * slow reads the main thread hands it (free-text searches, filters no index
 * narrows, stats over a window), so a `LIKE` scan over every row's details
 * or a count over months of index entries stalls this thread, not the
 * service's event loop. Replies carry the page or the stats (structured
 * clone keeps bigints), export chunks (each acknowledged by the main thread
 * before the next is produced: backpressure), or the
 * error's class, code and message, rebuilt on the other side.
 */
import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import type { SearchJob, SearchReply, WorkerError } from './search-protocol.js';
import { windowStats } from './window-stats.js';

const port = parentPort;
if (port === null) throw new Error('search-worker.js runs as a worker thread of the audit server (search-pool.ts); do not run it directly');
const { path } = workerData as { path: string };

let store: SqliteAuditStore | undefined;
/** Export acknowledgements awaited, by job id. */
const acks = new Map<number, { resolve(): void; reject(e: Error): void }>();

function opened(): SqliteAuditStore {
  store ??= new SqliteAuditStore(path, { readOnly: true });
  return store;
}

function describeError(e: unknown): WorkerError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const code = (e as { code?: unknown }).code;
  return { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}), ...(e.stack === undefined ? {} : { stack: e.stack }) };
}

function reply(message: SearchReply): void {
  port!.postMessage(message);
}

/** Run an export into chunks posted to the main thread, one at a time. */
async function runExport(id: number, options: Record<string, unknown>): Promise<void> {
  const sink = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, callback) {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      new Promise<void>((resolve, reject) => {
        acks.set(id, { resolve, reject });
        reply({ id, kind: 'chunk', chunk: text });
      }).then(() => callback(), (e: Error) => callback(e));
    },
  });
  const { records } = await opened().exportTo(sink, options as unknown as Parameters<SqliteAuditStore['exportTo']>[1]);
  reply({ id, kind: 'done', result: { records } });
}

port.on('message', (job: SearchJob) => {
  if (job.kind === 'ack' || job.kind === 'cancel') {
    const waiting = acks.get(job.id);
    acks.delete(job.id);
    if (job.kind === 'ack') waiting?.resolve();
    else waiting?.reject(new Error('the export was cancelled by the server'));
    return;
  }
  const { id } = job;
  const fail = (e: unknown): void => {
    acks.delete(id);
    reply({ id, kind: 'error', error: describeError(e) });
  };
  try {
    if (job.kind === 'query') reply({ id, kind: 'done', result: opened().query(job.query as Parameters<SqliteAuditStore['query']>[0]) });
    // The store's connection is read-only: it serves as the series' reader too.
    else if (job.kind === 'stats') reply({ id, kind: 'done', result: windowStats(opened(), opened().database, job.options) });
    else runExport(id, job.options).catch(fail);
  } catch (e) {
    fail(e);
  }
});
