/**
 * A man in the middle between the service's outbox and the collector (a
 * loopback proxy that edits OTLP/JSON requests): what it drops, duplicates,
 * reorders or alters must show up as the right finding of the receiver's
 * verification — and only that.
 */
import { createServer, type Server } from 'node:http';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collector, keyring, serviceRecords, startService, tempDir, until } from './support.js';

type LogRecordJson = { body?: { stringValue?: string } };
type Request = { resourceLogs: { scopeLogs: { logRecords: LogRecordJson[] }[] }[] };
/** Edit a request; return the requests to forward now (none = answer 200 without forwarding). */
type Tamper = (req: Request) => Request[];

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function seqOf(lr: LogRecordJson): number | undefined {
  const text = lr.body?.stringValue;
  if (text === undefined || !text.startsWith('{')) return undefined;
  const r = JSON.parse(text) as { seq?: number; type?: string };
  return r.type === 'crud' ? r.seq : undefined;
}

function eachScope(req: Request, edit: (records: LogRecordJson[]) => LogRecordJson[]): Request {
  for (const rl of req.resourceLogs) for (const sl of rl.scopeLogs) sl.logRecords = edit(sl.logRecords);
  return req;
}

async function proxy(target: string, tamper: Tamper): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const out = tamper(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Request);
      let status = 200;
      let body = '{}';
      for (const r of out) {
        const answer = await fetch(`${target}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(r) });
        status = answer.status;
        body = await answer.text();
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

async function run(tamper: Tamper) {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const c = await collector(path.join(tmp.dir, 'central.db'), { gapGraceMillis: 300 });
  cleanups.push(() => c.close());
  const p = await proxy(c.url, tamper);
  const svc = startService({ endpoint: p.url, protocol: 'http/json', outboxPath: path.join(tmp.dir, 'outbox.db'), checkpointEveryRecords: 1000 });
  for (let burst = 0; burst < 3; burst++) {
    for (let i = 0; i < 15; i++) svc.emit();
    await new Promise((r) => setTimeout(r, 150));
  }
  await svc.shutdown();
  return { c, emitted: svc.emitted };
}

const codes = (c: Awaited<ReturnType<typeof run>>['c']) => c.findings().map((f) => [f.code, f.seq]);

describe('a man in the middle', () => {
  it('drops a record: seq_gap at its seq', async () => {
    const { c } = await run((req) => [eachScope(req, (lrs) => lrs.filter((lr) => seqOf(lr) !== 10))]);
    await until(() => c.findings().length > 0, 5_000);
    expect(codes(c)).toEqual([['seq_gap', 10]]);
    expect(c.pending()).toBeGreaterThan(0);
  });

  it('duplicates records and whole requests: nothing to report, each record stored once', async () => {
    const { c, emitted } = await run((req) => {
      eachScope(req, (lrs) => lrs.flatMap((lr) => (seqOf(lr) !== undefined && seqOf(lr)! % 3 === 0 ? [lr, lr] : [lr])));
      return [req, structuredClone(req)];
    });
    await until(() => serviceRecords(c) === emitted);
    await new Promise((r) => setTimeout(r, 400));
    expect(codes(c)).toEqual([]);
    expect((await c.store.verify({ keyring })).streams.find((s) => s.stream === 'svc')).toMatchObject({ errors: 0, records: emitted + 2 });
  });

  it('reorders records inside requests and holds requests back: nothing to report once all arrived', async () => {
    let held: Request | undefined;
    const { c, emitted } = await run((req) => {
      eachScope(req, (lrs) => [...lrs].reverse());
      if (held === undefined && JSON.stringify(req).includes('crud')) {
        held = req;
        return [];
      }
      const out = held !== undefined ? [req, held] : [req];
      held = held !== undefined ? undefined : held;
      return out;
    });
    await until(() => serviceRecords(c) === emitted);
    expect(codes(c)).toEqual([]);
    expect((await c.store.verify({ keyring })).streams.find((s) => s.stream === 'svc')).toMatchObject({ errors: 0 });
  });

  it('alters a record: hash_mismatch at its seq (refused, so its place stays a gap)', async () => {
    const { c } = await run((req) => [eachScope(req, (lrs) => lrs.map((lr) => (seqOf(lr) === 10 ? { ...lr, body: { stringValue: lr.body!.stringValue!.replace('"update"', '"delete"') } } : lr)))]);
    await until(() => c.findings().some((f) => f.code === 'seq_gap'), 5_000);
    const found = codes(c);
    expect(found[0]).toEqual(['hash_mismatch', 10]);
    expect(found).toContainEqual(['seq_gap', 10]);
    expect(found.every(([code]) => code === 'hash_mismatch' || code === 'seq_gap')).toBe(true);
  });
});
