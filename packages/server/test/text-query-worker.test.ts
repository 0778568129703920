/**
 * Free-text searches off the event loop (internal/search-pool.ts): on a
 * store large enough that a `q=` scan takes hundreds of milliseconds, the
 * server's process keeps turning while the search runs — other requests are
 * answered, timers fire — and the answer is the one the store's synchronous
 * `query` (or `export`) gives: same records, order and cursors; errors the
 * same HTTP errors. Searches beyond the queue bound are refused (429) and
 * recorded; a crashed worker fails its jobs and is replaced.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRecordId, type AuditEventInput } from '@otel-audit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditServer } from '../src/index.js';
import { SearchPool } from '../src/internal/search-pool.js';
import { accessRecords, ADMIN_TOKEN, AUDITOR_TOKEN, appendEvents, call, startFixture, STREAM, TOKENS, type Fixture } from './helpers.js';

/** The search text: its prefix recurs all through the filler, so `LIKE` works hard on every row. */
const NEEDLE = 'needlneedlneedlneedlneedlneedl-zz';
const FILLER = 'needl'.repeat(16 * 1024 / 5);
const ROWS = 4000;
const MATCHES = 12;
const SINCE = '2000-01-01T00:00:00Z';
// Searches name the stream: access records (another stream) hold the search text in their query.

let fx: Fixture;
let syncScanMillis = 0;

beforeAll(async () => {
  fx = await startFixture(10);
  const t0 = Date.now() - 3_600_000;
  for (let b = 0; b < ROWS / 500; b++) {
    const events: AuditEventInput[] = Array.from({ length: 500 }, (_, j) => {
      const i = b * 500 + j;
      const hit = i % Math.floor(ROWS / MATCHES) === 7;
      return { id: createRecordId(), time: new Date(t0 + i * 100), type: 'api', action: 'bulky', actor: { id: `user-${i % 3}` }, details: hit ? { i, note: `found ${NEEDLE}` } : { i, blob: FILLER } };
    });
    appendEvents(fx.store, fx.chain, events, false);
  }
  const t = performance.now();
  fx.store.query({ text: NEEDLE, stream: STREAM, since: SINCE, limit: 1000 });
  syncScanMillis = performance.now() - t;
});
afterAll(async () => { await fx.close(); });

/** Count the ticks of a 10 ms interval and the longest gap between them (the event loop's longest stall). */
function watchLoop(): () => { ticks: number; maxGapMillis: number } {
  let ticks = 0;
  let last = performance.now();
  let maxGapMillis = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMillis = Math.max(maxGapMillis, now - last);
    last = now;
    ticks++;
  }, 10);
  return () => {
    clearInterval(timer);
    maxGapMillis = Math.max(maxGapMillis, performance.now() - last);
    return { ticks, maxGapMillis };
  };
}

/** JSON as the server writes it: bigints as decimal strings. */
function asJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
}

describe('a q= search on a large store', () => {
  it('is slow enough to matter: the synchronous scan takes at least 300 ms here', () => {
    expect(syncScanMillis, `the store's own scan took ${syncScanMillis.toFixed(0)} ms; raise ROWS`).toBeGreaterThanOrEqual(300);
  });

  it('leaves the event loop running: timers fire and /healthz is answered while the search is in flight', async () => {
    const stop = watchLoop();
    let searchDone = false;
    const search = call(fx, `/api/audit/logs?q=${NEEDLE}&stream=svc%2F1&since=${SINCE}&limit=1000`, AUDITOR_TOKEN).then(async (res) => {
      searchDone = true;
      return { status: res.status, body: await res.json() };
    });
    await new Promise((r) => setTimeout(r, 100));
    const health = await call(fx, '/healthz');
    const healthBeforeSearch = !searchDone;
    const indexed = await call(fx, `/api/audit/logs?actor=user-1&since=${SINCE}&limit=5`, AUDITOR_TOKEN);
    const indexedBeforeSearch = !searchDone;
    const { status, body } = await search;
    const loop = stop();
    expect(health.status).toBe(200);
    expect(indexed.status).toBe(200);
    expect(status).toBe(200);
    expect(body.records.length).toBe(MATCHES);
    expect(healthBeforeSearch, 'the health check waited for the search').toBe(true);
    expect(indexedBeforeSearch, 'an indexed query waited for the search').toBe(true);
    expect(loop.ticks).toBeGreaterThanOrEqual(10);
    expect(loop.maxGapMillis, `the event loop stalled ${loop.maxGapMillis.toFixed(0)} ms (the scan takes ${syncScanMillis.toFixed(0)} ms)`).toBeLessThan(syncScanMillis / 2);
  });

  it.each(['newest', 'oldest'] as const)('pages (order=%s) equal the store\'s own query: records, order, nextCursor — with the loop never stalled', async (order) => {
    const stop = watchLoop();
    const viaHttp: unknown[] = [];
    let cursor: string | undefined;
    do {
      const res = await call(fx, `/api/audit/logs?q=${NEEDLE}&stream=svc%2F1&since=${SINCE}&limit=5&order=${order}${cursor === undefined ? '' : `&cursor=${cursor}`}`, ADMIN_TOKEN);
      expect(res.status).toBe(200);
      const body = await res.json();
      viaHttp.push({ records: body.records, nextCursor: body.nextCursor });
      cursor = body.nextCursor ?? undefined;
    } while (cursor !== undefined && viaHttp.length < 10);
    // The last page scans to the end of the store: on the event loop, that alone would stall it for the whole scan.
    const loop = stop();
    const viaStore: unknown[] = [];
    let storeCursor: string | undefined;
    do {
      const page = fx.store.query({ text: NEEDLE, stream: STREAM, since: SINCE, limit: 5, order, ...(storeCursor === undefined ? {} : { cursor: storeCursor }) });
      viaStore.push(asJson({ records: page.records, nextCursor: page.nextCursor ?? null }));
      storeCursor = page.nextCursor;
    } while (storeCursor !== undefined && viaStore.length < 10);
    expect(viaHttp.length).toBe(3);
    expect(viaHttp).toEqual(viaStore);
    expect(loop.maxGapMillis).toBeLessThan(syncScanMillis / 2);
  });

  it('a q= export streams what the store exports, while the loop keeps turning', async () => {
    let expected = '';
    for await (const chunk of fx.store.export({ format: 'ndjson', text: NEEDLE, stream: STREAM, since: SINCE })) expected += chunk;
    const stop = watchLoop();
    const res = await call(fx, `/api/audit/export?format=ndjson&q=${NEEDLE}&stream=svc%2F1&since=${SINCE}`, ADMIN_TOKEN);
    const text = await res.text();
    const loop = stop();
    expect(res.status).toBe(200);
    expect(text).toBe(expected);
    expect(text.trim().split('\n').length).toBe(MATCHES);
    expect(loop.maxGapMillis).toBeLessThan(syncScanMillis / 2);
    const finished = accessRecords(fx.store).filter((r) => r.action === 'export' && (r.details as { phase?: string } | undefined)?.phase === 'finished');
    expect(finished.at(-1)!.details).toMatchObject({ count: MATCHES });
  });
});

describe('errors of a search', () => {
  it.each([
    ['garbage!', 'newest'],
    [Buffer.from('v1.o.1.1').toString('base64url'), 'newest'],
  ] as const)('a bad cursor (%s) is the same 400, with the store\'s message, as without q=', async (cursor, order) => {
    let storeMessage = '';
    try {
      fx.store.query({ text: NEEDLE, stream: STREAM, since: SINCE, order, cursor });
    } catch (e) {
      storeMessage = (e as Error).message;
    }
    const withText = await call(fx, `/api/audit/logs?q=${NEEDLE}&stream=svc%2F1&since=${SINCE}&order=${order}&cursor=${cursor}`, AUDITOR_TOKEN);
    const indexed = await call(fx, `/api/audit/logs?actor=user-1&since=${SINCE}&order=${order}&cursor=${cursor}`, AUDITOR_TOKEN);
    expect(withText.status).toBe(400);
    expect(await withText.json()).toEqual({ error: { code: 'AUDIT_QUERY_CURSOR_INVALID', message: storeMessage } });
    expect(await indexed.json()).toEqual({ error: { code: 'AUDIT_QUERY_CURSOR_INVALID', message: storeMessage } });
  });

  it('searches beyond the queue bound are refused with 429 and recorded; the others are answered', async () => {
    const stream = 'otel-audit-server/queue-test';
    const server = createAuditServer({ store: fx.store, tokens: TOKENS, stream, maxQueuedSearches: 2 });
    const { url } = await server.listen(0);
    try {
      const answers = await Promise.all(Array.from({ length: 4 }, () => call({ url }, `/api/audit/logs?q=${NEEDLE}&stream=svc%2F1&since=${SINCE}`, AUDITOR_TOKEN)));
      const statuses = answers.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 200, 429, 429]);
      const refused = answers.find((r) => r.status === 429)!;
      expect((await refused.json()).error.message).toMatch(/free-text searches q=.*are queued or running already.*retry shortly/);
      const recorded = accessRecords(fx.store, stream).filter((r) => r.action === 'request' && r.outcome === 'failure');
      expect(recorded.map((r) => (r.details as { status?: number }).status)).toEqual([429, 429]);
    } finally {
      await server.close();
    }
  });

  it('a crashed worker fails its search (no hang) and is replaced for the next', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-worker-'));
    const script = path.join(dir, 'worker.mjs');
    fs.writeFileSync(script, [
      "import { parentPort } from 'node:worker_threads';",
      "parentPort.on('message', (job) => { if (job.query.text === 'crash') throw new Error('boom'); if (job.query.text === 'exit') process.exit(3);",
      "  parentPort.postMessage({ id: job.id, kind: 'done', result: { ok: job.query.text } }); });",
    ].join('\n'));
    const pool = new SearchPool({ path: 'unused.db', workerUrl: pathToFileURL(script) });
    try {
      await expect(pool.query({ text: 'crash' })).rejects.toThrow('boom');
      await expect(pool.query({ text: 'exit' })).rejects.toThrow(/search worker exited \(code 3\)/);
      await expect(pool.query({ text: 'fine' })).resolves.toEqual({ ok: 'fine' });
      expect(pool.queued).toBe(0);
    } finally {
      await pool.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the worker does not run the app\'s --import preloads (the register hook would start, and say workers are not audited)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-worker-'));
    try {
      fs.writeFileSync(path.join(dir, 'preload.mjs'), 'globalThis.PRELOADED = true;\n');
      fs.writeFileSync(path.join(dir, 'worker.mjs'), [
        "import { parentPort } from 'node:worker_threads';",
        "parentPort.on('message', (job) => parentPort.postMessage({ id: job.id, kind: 'done', result: { preloaded: globalThis.PRELOADED === true } }));",
      ].join('\n'));
      const pool = pathToFileURL(path.join(import.meta.dirname, '..', 'dist', 'internal', 'search-pool.js')).href;
      fs.writeFileSync(path.join(dir, 'run.mjs'), [
        `import { SearchPool } from ${JSON.stringify(pool)};`,
        "const p = new SearchPool({ path: 'unused.db', workerUrl: new URL('./worker.mjs', import.meta.url) });",
        'const r = await p.query({ text: "x" }); await p.close();',
        'console.log(JSON.stringify({ main: globalThis.PRELOADED === true, worker: r.preloaded }));',
      ].join('\n'));
      const out = execFileSync(process.execPath, ['--import', './preload.mjs', 'run.mjs'], { cwd: dir, encoding: 'utf8' });
      expect(JSON.parse(out)).toEqual({ main: true, worker: false });
      // The same preload given in NODE_OPTIONS, as containers often do: a worker reads NODE_OPTIONS again.
      const viaEnv = execFileSync(process.execPath, ['run.mjs'], { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '--import ./preload.mjs' } });
      expect(JSON.parse(viaEnv)).toEqual({ main: true, worker: false });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a store the worker cannot open is a 500 whose error reaches onError, not a hang', async () => {
    const errors: unknown[] = [];
    const other = await startFixture(5, { onError: (e) => errors.push(e) });
    try {
      // The server's own connection stays open on the unlinked file; the worker's open fails.
      fs.rmSync(path.join(other.dir, 'audit.db'));
      const res = await call(other, '/api/audit/logs?q=anything', AUDITOR_TOKEN);
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ error: { code: 'AUDIT_HTTP_INTERNAL', message: 'internal error; see the server log' } });
      expect(String(errors[0])).toMatch(/search worker: StoreOpenError \(AUDIT_STORE_OPEN_FAILED\): cannot open audit store .*audit\.db read-only/);
    } finally {
      await other.close();
    }
  });
});
