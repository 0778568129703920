/**
 * Slow reads off the event loop. A `q=` filter is a `LIKE` scan over the
 * details of every row the indexed filters leave; a filter no index narrows
 * (slow-query.ts) reads index entries until the page is full, possibly the
 * whole window; stats over months count millions of index entries. On a
 * large store, run synchronously, each would stall the whole process — and
 * the server may run inside the audited service — for seconds. The pool
 * hands such queries, exports and stats to worker threads (search-worker.ts; `size`, default 1, created on
 * the first search and `unref`'d), each with its own read-only connection to
 * the store's file, running the store's own code. At most `maxQueued`
 * jobs wait or run at once; beyond, a 429. A worker that crashes or exits
 * fails the jobs it held (500) and is replaced on the next job; `close()`
 * ends the workers and fails what is left.
 *
 * The worker runs the built `dist/internal/search-worker.js`. From the
 * sources (vitest loads `src/*.ts`, which a worker thread cannot run) the
 * pool falls back to the `dist` build of the same file: build first
 * (`npx tsc -b packages/server`).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { HttpError } from '../errors.js';
import { rebuildError, type SearchJob, type SearchReply } from './search-protocol.js';
import type { WindowStats, WindowStatsOptions } from './window-stats.js';

/** Options of {@link SearchPool}. */
export interface SearchPoolOptions {
  /** The store's database file. */
  path: string;
  /** Worker threads, default 1. */
  size?: number;
  /** Searches waiting or running at once; beyond, `AUDIT_HTTP_BUSY` (429). Default 8. */
  maxQueued?: number;
  /** The worker script; default the built search-worker.js (see the file comment). */
  workerUrl?: URL;
}

interface Pending {
  worker: Worker;
  resolve(value: unknown): void;
  reject(error: Error): void;
  onChunk?: (chunk: string) => Promise<void>;
}

/** An export's chunk consumer: resolves when the chunk was taken (backpressure). */
export type ChunkSink = (chunk: string) => Promise<void>;

/**
 * Whether an export with `filter` runs in a search worker: it has free
 * text, and the store is not encrypted at rest (there the store refuses
 * `text` before reading a row, and only the main thread's store holds the
 * key). A logs page decides by `logsRunInWorker` (slow-query.ts), which
 * also sends filters no index narrows.
 *
 * @example
 * if (runsInWorker(options, state.encrypted)) await state.search.export(options, write);
 */
export function runsInWorker(filter: Record<string, unknown>, encrypted: boolean): boolean {
  return filter.text !== undefined && !encrypted;
}

/** Flags that load code before the entry point, as `--flag value` or `--flag=value`. */
const PRELOAD_FLAGS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);

/**
 * Node flags without the preloads among them.
 *
 * @example
 * withoutPreloads(['--import', '@otel-audit/node/register', '--enable-source-maps']) // ['--enable-source-maps']
 */
export function withoutPreloads(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (PRELOAD_FLAGS.has(a)) i++;
    else if (!PRELOAD_FLAGS.has(a.split('=')[0]!)) out.push(a);
  }
  return out;
}

/** The worker script: next to this module when built, else the `dist` build of the sources. */
export function searchWorkerUrl(): URL {
  const built = new URL('./search-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  return new URL('../../dist/internal/search-worker.js', import.meta.url);
}

/**
 * Worker threads for free-text queries and exports.
 *
 * @example
 * const pool = new SearchPool({ path: store.path });
 * const page = await pool.query({ text: 'needle', limit: 100 }); // the page store.query would return
 * await pool.close();
 */
export class SearchPool {
  readonly #path: string;
  readonly #size: number;
  readonly #maxQueued: number;
  readonly #url: URL | undefined;
  readonly #workers: Worker[] = [];
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  constructor(options: SearchPoolOptions) {
    this.#path = options.path;
    this.#size = options.size ?? 1;
    this.#maxQueued = options.maxQueued ?? 8;
    this.#url = options.workerUrl;
  }

  /** Searches waiting or running. */
  get queued(): number {
    return this.#pending.size;
  }

  /**
   * `store.query(query)` in a worker: resolves with the page or rejects with
   * the error the store threw, rebuilt (search-protocol.ts).
   *
   * @example
   * const page = await pool.query({ text: 'needle', order: 'newest', limit: 100 });
   */
  query<T>(query: Record<string, unknown>): Promise<T> {
    return this.#run((id) => ({ id, kind: 'query', query })) as Promise<T>;
  }

  /**
   * `store.exportTo(…, options)` in a worker: each chunk goes to `onChunk`,
   * and the next is produced once its promise resolves; a rejection cancels
   * the export (its read transaction ends). Resolves with the store's count.
   *
   * @example
   * const { records } = await pool.export({ format: 'ndjson', text: 'needle' }, (chunk) => write(chunk));
   */
  export(options: Record<string, unknown>, onChunk: ChunkSink): Promise<{ records: number }> {
    return this.#run((id) => ({ id, kind: 'export', options }), onChunk) as Promise<{ records: number }>;
  }

  /**
   * The stats answer of a window (window-stats.ts) computed in a worker.
   *
   * @example
   * const answer = await pool.stats({ sinceMs: Date.now() - 30 * 864e5, untilMs: Date.now(), bucket: 'day' });
   */
  stats(options: WindowStatsOptions): Promise<WindowStats> {
    return this.#run((id) => ({ id, kind: 'stats', options })) as Promise<WindowStats>;
  }

  /** End the workers; jobs not finished reject. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const workers = this.#workers.splice(0);
    this.#failJobs(() => true, new Error('the audit server closed before the search finished; retry against a running server'));
    await Promise.all(workers.map((w) => w.terminate()));
  }

  #run(job: (id: number) => SearchJob, onChunk?: ChunkSink): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error('the audit server is closed; retry against a running server'));
    if (this.#pending.size >= this.#maxQueued) {
      return Promise.reject(new HttpError('AUDIT_HTTP_BUSY', `${this.#pending.size} slow reads (free-text searches q=, filters no index narrows, stats) are queued or running already, as many as the server allows; retry shortly, or narrow the query with indexed filters (stream, actor, request_id, target_type with target_id, since/until) so it ends sooner`));
    }
    let worker: Worker;
    try {
      worker = this.#pick();
    } catch (e) {
      return Promise.reject(e as Error);
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { worker, resolve, reject, ...(onChunk === undefined ? {} : { onChunk }) });
      worker.postMessage(job(id));
    });
  }

  /** A worker with room: a new one while fewer than `size` run, else the least loaded. */
  #pick(): Worker {
    const load = (w: Worker): number => [...this.#pending.values()].filter((p) => p.worker === w).length;
    const idle = this.#workers.find((w) => load(w) === 0);
    if (idle !== undefined) return idle;
    if (this.#workers.length < this.#size) return this.#spawn();
    return this.#workers.reduce((a, b) => (load(b) < load(a) ? b : a));
  }

  #spawn(): Worker {
    const url = this.#url ?? searchWorkerUrl();
    if (!existsSync(fileURLToPath(url))) {
      throw new Error(`the search worker ${fileURLToPath(url)} does not exist; build @otel-audit/server (npx tsc -b packages/server) so free-text searches can run off the event loop`);
    }
    // The app's preloads (the register hook, an APM agent) have no business in a search worker:
    // not from the command line, nor from NODE_OPTIONS, which a worker reads again. Other flags stay.
    const nodeOptions = process.env['NODE_OPTIONS'];
    const worker = new Worker(url, {
      workerData: { path: this.#path },
      execArgv: withoutPreloads(process.execArgv),
      ...(nodeOptions === undefined ? {} : { env: { ...process.env, NODE_OPTIONS: withoutPreloads(nodeOptions.split(/\s+/).filter(Boolean)).join(' ') } }),
    });
    worker.unref();
    this.#workers.push(worker);
    worker.on('message', (m: SearchReply) => this.#onReply(worker, m));
    worker.on('error', (e) => this.#lost(worker, e));
    worker.on('exit', (code) => this.#lost(worker, new Error(`the search worker exited (code ${code}); the search was not answered, retry it`)));
    return worker;
  }

  #onReply(worker: Worker, m: SearchReply): void {
    const p = this.#pending.get(m.id);
    if (p === undefined) return;
    if (m.kind === 'chunk') {
      const ack = p.onChunk === undefined ? Promise.reject(new Error('a chunk for a query')) : p.onChunk(m.chunk);
      ack.then(() => worker.postMessage({ id: m.id, kind: 'ack' } satisfies SearchJob), () => worker.postMessage({ id: m.id, kind: 'cancel' } satisfies SearchJob));
      return;
    }
    this.#pending.delete(m.id);
    if (m.kind === 'done') p.resolve(m.result);
    else p.reject(rebuildError(m.error));
  }

  /** `worker` is gone (crashed, exited, terminated): fail its jobs; the next job spawns a new one. */
  #lost(worker: Worker, error: Error): void {
    const i = this.#workers.indexOf(worker);
    if (i >= 0) this.#workers.splice(i, 1);
    this.#failJobs((p) => p.worker === worker, error);
    if (i >= 0) void worker.terminate();
  }

  #failJobs(which: (p: Pending) => boolean, error: Error): void {
    for (const [id, p] of this.#pending) {
      if (!which(p)) continue;
      this.#pending.delete(id);
      p.reject(error);
    }
  }
}
