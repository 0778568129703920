/**
 * Slow reads off the event loop (internal/slow-query.ts, search-pool.ts):
 * a logs query that no index narrows (here `type=` alone) and the stats
 * read as much of the table as the window holds, synchronously. They run in
 * the search worker, so a cheap request (`/healthz`) is answered while they
 * run. The read is made slow deterministically and the same wherever it
 * runs: on the main thread the store's `query`/`stats` wait a second before
 * reading; in the worker a wrapper around the real worker script waits as
 * long before each job — blocking its thread as a long scan would.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { AUDITOR_TOKEN, call, fixturesPerTest, type Fixture } from './helpers.js';

const DELAY_MILLIS = 1_000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-slow-'));
const realWorker = pathToFileURL(path.join(import.meta.dirname, '..', 'dist', 'internal', 'search-worker.js')).href;
const slowWorker = path.join(dir, 'slow-worker.mjs');
fs.writeFileSync(slowWorker, [
  "import { parentPort } from 'node:worker_threads';",
  'const on = parentPort.on.bind(parentPort);',
  "parentPort.on = (event, listener) => on(event, event !== 'message' ? listener : (job) => {",
  `  if (job.kind === 'query' || job.kind === 'stats') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${DELAY_MILLIS});`,
  '  listener(job);',
  '});',
  `await import(${JSON.stringify(realWorker)});`,
].join('\n'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// The server's search pool runs the wrapper (test only: the server offers no such option).
vi.mock('../src/internal/search-pool.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/internal/search-pool.js')>();
  class SlowPool extends original.SearchPool {
    constructor(options: ConstructorParameters<typeof original.SearchPool>[0]) {
      super({ ...options, workerUrl: pathToFileURL(slowWorker) });
    }
  }
  return { ...original, SearchPool: SlowPool };
});

const fixture = fixturesPerTest();
const DAY_MS = 86_400_000;

/** Block the calling thread for `millis`, as a synchronous scan does. */
function block(millis: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, millis);
}

/**
 * Send `slow` (its read slowed on the main thread and in the worker alike),
 * then `/healthz` once the slow one is under way. Returns the order the two
 * answers came in, and the slow request's status and body.
 */
async function raceWithHealth(fx: Fixture, slow: string): Promise<{ order: string[]; status: number; body: any }> {
  const query = fx.store.query.bind(fx.store);
  const stats = fx.store.stats.bind(fx.store);
  const spies = [
    vi.spyOn(fx.store, 'query').mockImplementation((q) => (block(DELAY_MILLIS), query(q))),
    vi.spyOn(fx.store, 'stats').mockImplementation((o) => (block(DELAY_MILLIS), stats(o))),
  ];
  try {
    const order: string[] = [];
    const slowDone = call(fx, slow, AUDITOR_TOKEN).then(async (res) => {
      order.push('slow');
      return { status: res.status, body: await res.json() };
    });
    // Long enough for the slow request to reach its read; short next to the read's second.
    await new Promise((r) => setTimeout(r, 100));
    const health = await call(fx, '/healthz');
    order.push('cheap');
    expect(health.status).toBe(200);
    const { status, body } = await slowDone;
    return { order, status, body };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

describe('a slow read does not hold up other requests', () => {
  it('logs?type= (no index narrows it): /healthz is answered first, and the page is right', async () => {
    const fx = await fixture(20);
    const { order, status, body } = await raceWithHealth(fx, '/api/audit/logs?type=admin&limit=100');
    expect(order, 'the health check waited for the slow query').toEqual(['cheap', 'slow']);
    expect(status).toBe(200);
    expect(body.records.length).toBe(4);
    expect(body.records.every((r: any) => r.record.type === 'admin')).toBe(true);
  });

  it('stats over a long window: /healthz is answered first, and the counts are right', async () => {
    const fx = await fixture(20);
    const since = new Date(Date.now() - 180 * DAY_MS).toISOString();
    const { order, status, body } = await raceWithHealth(fx, `/api/audit/stats?since=${since}`);
    expect(order, 'the health check waited for the stats').toEqual(['cheap', 'slow']);
    expect(status).toBe(200);
    expect(body).toMatchObject({ total: 20, failedLogins: 4, configChanges: 4, distinctActors: 3 });
  });
});
