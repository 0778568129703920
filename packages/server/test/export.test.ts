/**
 * `GET /api/audit/export` (issue 7): every format parses back to the
 * records the store holds, CSV cells that a spreadsheet would evaluate are
 * neutralised, a bundle verifies offline, exports are access records (a
 * start and a finish with the exact count the store wrote, whatever the
 * records contain) and the store — access stream
 * included — still verifies intact. On an encrypted store an auditor gets
 * the sealed members withheld and no csv/bundle (403).
 */
import { randomBytes } from 'node:crypto';
import { AuditChain, createRecordId } from '@otel-audit/core';
import { verifyBundle } from '@otel-audit/exporter-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WITHHELD } from '../src/index.js';
import { accessRecords, ADMIN_TOKEN, AUDITOR_TOKEN, appendBulky, appendEvents, call, fixturesPerTest, keyring, seededEvent, signer, stalledClient, startFixture, until, type Fixture } from './helpers.js';

/** RFC 4180 rows of `text`. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i++; }
    else cell += c;
  }
  return rows;
}

const FORMULAS = ['=HYPERLINK("http://evil.example","x")', '+1+1', '-2+3', '@SUM(A1)', '\tcmd', '\rcmd'];

describe('export', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture(30);
    appendEvents(fx.store, fx.chain, FORMULAS.map((f, i) => ({
      id: createRecordId(), time: new Date(Date.now() - 30_000 + i), type: 'crud', action: 'formula', actor: { id: f }, target: { type: 'sheet', name: f }, details: { cell: f },
    })));
  });
  afterAll(async () => { await fx.close(); });

  it('json, ndjson and csv parse back to the stored records', async () => {
    const stored = fx.store.query({ stream: 'svc/1', order: 'oldest', limit: 1000 }).records;
    const json = await call(fx, '/api/audit/export?format=json&stream=svc%2F1', AUDITOR_TOKEN);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(json.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-.*\.json"$/);
    const parsed = (await json.json()) as { record: unknown; checksum: string }[];
    expect(parsed.map((i) => i.checksum)).toEqual(stored.map((i) => i.checksum));
    expect(parsed.map((i) => i.record)).toEqual(stored.map((i) => i.record));

    const ndjson = await (await call(fx, '/api/audit/export?format=ndjson&stream=svc%2F1&type=auth', ADMIN_TOKEN)).text();
    const lines = ndjson.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBe(12);
    expect(lines.every((l) => l.record.type === 'auth')).toBe(true);

    const csv = parseCsv(await (await call(fx, '/api/audit/export?format=csv&stream=svc%2F1', ADMIN_TOKEN)).text());
    const header = csv[0]!;
    expect(header.slice(0, 4)).toEqual(['event_id', 'timestamp', 'stream', 'seq']);
    expect(csv.length - 1).toBe(stored.length);
    const col = (name: string) => header.indexOf(name);
    expect(csv.slice(1).map((r) => r[col('checksum')])).toEqual(stored.map((i) => i.checksum));
  });

  it('neutralises spreadsheet formulas in CSV cells', async () => {
    const csv = parseCsv(await (await call(fx, '/api/audit/export?format=csv&action=formula', ADMIN_TOKEN)).text());
    const header = csv[0]!;
    const actors = csv.slice(1).map((r) => r[header.indexOf('actor_id')]!);
    expect(actors).toEqual(FORMULAS.map((f) => `'${f}`));
    for (const row of csv.slice(1)) for (const cell of row) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
  });

  it('a bundle verifies offline against the checkpoint key', async () => {
    const res = await call(fx, '/api/audit/export?format=bundle&stream=svc%2F1', AUDITOR_TOKEN);
    const report = verifyBundle(await res.text(), keyring);
    expect(report.ok).toBe(true);
    expect(report.streams[0]!.checkpoints.verified).toBeGreaterThan(0);
    expect(report.records).toBe(36);
  });

  it('records the exact number of records exported in every format, whatever the records contain', async () => {
    // Record content that looks like the start of a record in each format's text.
    const nested = { record: { record: { record: 1 } }, line: '\n{"record":1}\n', csv: '"\r\n"' };
    const chain = new AuditChain({ stream: 'svc/nested' });
    appendEvents(fx.store, chain, [0, 1, 2].map((i) => ({
      id: createRecordId(), time: new Date(Date.now() - 20_000 + i), type: 'crud', action: 'nested', actor: { id: '{"record":' }, details: nested, old: { record: [{ record: i }] }, new: nested,
    })));
    for (const format of ['bundle', 'json', 'ndjson', 'csv']) {
      await (await call(fx, `/api/audit/export?format=${format}&stream=svc%2Fnested`, ADMIN_TOKEN)).text();
      const finish = accessRecords(fx.store).filter((r) => r.action === 'export').at(-1);
      expect(finish, format).toMatchObject({ outcome: 'success', details: { phase: 'finished', count: 3, query: { format } } });
    }
  });

  it('refuses a missing or unknown format and filters that do not apply to bundles', async () => {
    for (const [q, msg] of [['', /format is required/], ['format=xlsx', /format must be one of json, ndjson, csv, bundle/], ['format=bundle&type=auth', /format=bundle .* remove type/], ['format=csv&from_seq=1', /from_seq applies to format=bundle only/]] as const) {
      const res = await call(fx, `/api/audit/export?${q}`, ADMIN_TOKEN);
      expect(res.status).toBe(400);
      expect((await res.json()).error.message).toMatch(msg);
    }
  });

  it('records each export (start, then finish with the count) and the store still verifies intact', async () => {
    await (await call(fx, '/api/audit/export?format=ndjson&action=formula', AUDITOR_TOKEN)).text();
    const exports = accessRecords(fx.store).filter((r) => r.action === 'export');
    const [start, finish] = exports.slice(-2);
    expect(start).toMatchObject({ outcome: 'unknown', actor: { id: 'bob' }, details: { phase: 'started', query: { format: 'ndjson', action: 'formula' } } });
    expect(finish).toMatchObject({ outcome: 'success', details: { phase: 'finished', count: 6 } });
    await fx.server.close();
    const report = await fx.store.verify({ keyring });
    expect(report.errors).toBe(0);
    const access = report.streams.find((s) => s.stream === 'otel-audit-server/test')!;
    expect(access.records).toBeGreaterThan(5);
    // close() wrote a signed checkpoint over the whole access stream.
    expect(access.checkpoints.lastVerifiedSize).toBe(access.records);
  });
});

describe('bundle of a range deep in a stream', () => {
  const fixture = fixturesPerTest();

  it('is refused (422, recorded) when building its start reads more than maxIntegrityRecords stored hashes, counted from the nearest archive on', async () => {
    // 20 records, then 10 fresh ones; the checkpoints at 20 and 30 stored after them, so no compact
    // range is stored with the one at 20 (a start is then built from seq 0 or an archive).
    const fx = await fixture(0, { maxIntegrityRecords: 15 });
    appendEvents(fx.store, fx.chain, Array.from({ length: 20 }, (_, i) => seededEvent(i, 60 + (20 - i) * 10)), false);
    const time = BigInt(Date.now()) * 1_000_000n;
    const at20 = { stream: fx.chain.stream, size: 20, rootHash: fx.chain.rootHex(), timeUnixNano: time, note: fx.chain.checkpoint(time, [signer]) };
    const fresh = new Date(Date.now() - 30_000).toISOString();
    appendEvents(fx.store, fx.chain, Array.from({ length: 10 }, (_, i) => ({ id: createRecordId(), time: new Date(Date.now() + i), type: 'crud', action: 'fresh' })), false);
    fx.store.appendSync({ records: [], checkpoints: [at20, { stream: fx.chain.stream, size: 30, rootHash: fx.chain.rootHex(), timeUnixNano: time + 1n, note: fx.chain.checkpoint(time + 1n, [signer]) }] });
    const before = accessRecords(fx.store).length;
    // One record, but its start is built from the hashes of the 25 before it.
    const deep = await call(fx, '/api/audit/export?format=bundle&stream=svc%2F1&from_seq=25&to_seq=25', AUDITOR_TOKEN);
    expect(deep.status).toBe(422);
    const reason = /starts deep in stream "svc\/1": at seq 25, with 25 records before it back to seq 0, .* more than 15 per request; export it offline with otel-audit export --format bundle on the database file, or raise the server's maxIntegrityRecords/;
    expect((await deep.json()).error.message).toMatch(reason);
    // Refused before the export began: a refusal on record, no export.
    expect(accessRecords(fx.store).slice(before)).toMatchObject([{ action: 'request', outcome: 'failure', details: { status: 422, reason: expect.stringMatching(reason) } }]);
    // A time range starts where its first record is: the same walk, over every stream.
    expect((await call(fx, `/api/audit/export?format=bundle&since=${fresh}`, AUDITOR_TOKEN)).status).toBe(422);
    const shallow = await call(fx, '/api/audit/export?format=bundle&stream=svc%2F1&from_seq=10&to_seq=12', AUDITOR_TOKEN);
    expect(shallow.status).toBe(200);
    expect(verifyBundle(await shallow.text(), keyring)).toMatchObject({ ok: true, records: 3 });
    // Records 0..19 archived: the start is built from the archive's end, 5 records before seq 25.
    expect(fx.store.archive({ olderThan: fresh, streams: ['svc/1'] })).toMatchObject([{ lastSeq: 19 }]);
    const archived = await call(fx, '/api/audit/export?format=bundle&stream=svc%2F1&from_seq=25&to_seq=25', AUDITOR_TOKEN);
    expect(archived.status).toBe(200);
    expect(verifyBundle(await archived.text(), keyring)).toMatchObject({ ok: true, records: 1 });
  });
});

describe('encrypted store', () => {
  let fx: Fixture;
  beforeAll(async () => { fx = await startFixture(10, {}, { encryption: { keyId: 'k1', key: randomBytes(32) } }); });
  afterAll(async () => { await fx.close(); });

  it('withholds sealed members from auditors and shows them to admins', async () => {
    const auditor = await (await call(fx, '/api/audit/logs?stream=svc%2F1&limit=1', AUDITOR_TOKEN)).json();
    expect(auditor.records[0].record.details).toBe(WITHHELD);
    expect(auditor.records[0].record.old).toBe(WITHHELD);
    expect(auditor.records[0].record.actor.user_agent).toBe(WITHHELD);
    expect(auditor.records[0].withheld).toEqual(['/details', '/old', '/new', '/actor/user_agent']);
    const admin = await (await call(fx, '/api/audit/logs?stream=svc%2F1&limit=1', ADMIN_TOKEN)).json();
    expect(admin.records[0].record.details).toMatchObject({ note: expect.any(String) });
    expect(admin.records[0].checksum).toBe(auditor.records[0].checksum);
  });

  it('auditors export json/ndjson withheld; csv and bundle need admin (403)', async () => {
    const json = (await (await call(fx, '/api/audit/export?format=json&stream=svc%2F1', AUDITOR_TOKEN)).json()) as { record: { details: unknown } }[];
    expect(json.length).toBe(10);
    expect(accessRecords(fx.store).filter((r) => r.action === 'export').at(-1)).toMatchObject({ details: { phase: 'finished', count: 10 } });
    expect(json.every((i) => i.record.details === WITHHELD)).toBe(true);
    const ndjson = await (await call(fx, '/api/audit/export?format=ndjson&stream=svc%2F1', AUDITOR_TOKEN)).text();
    expect(ndjson).not.toContain('"note"');
    for (const format of ['csv', 'bundle']) {
      const res = await call(fx, `/api/audit/export?format=${format}`, AUDITOR_TOKEN);
      expect(res.status).toBe(403);
      expect((await res.json()).error.message).toContain('needs the admin role');
      expect((await call(fx, `/api/audit/export?format=${format}`, ADMIN_TOKEN)).status).toBe(200);
    }
    const refused = accessRecords(fx.store).filter((r) => r.action === 'authorize' && r.outcome === 'failure');
    expect(refused.map((r) => [r.actor?.id, r.request?.endpoint, (r.details as { status: number }).status])).toEqual([['bob', '/api/audit/export', 403], ['bob', '/api/audit/export', 403]]);
  });
});

describe('export of a slow or stalled client', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture(5, { maxConcurrentExports: 1, exportDrainTimeoutMillis: 300 });
    appendBulky(fx, 800); // ~13 MB: more than the socket buffers hold
  });
  afterAll(async () => { await fx.close(); });

  it('waits for each drain without piling listeners up on the response', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => { warnings.push(w); };
    process.on('warning', onWarning);
    try {
      const res = await call(fx, '/api/audit/export?format=ndjson', ADMIN_TOKEN);
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      let bytes = 0;
      for (let n = 0; ; n++) {
        const { value, done } = await reader.read();
        if (done) break;
        bytes += value.length;
        if (n % 16 === 0) await new Promise((r) => setTimeout(r, 2)); // a reader a little slower than the server
      }
      expect(bytes).toBeGreaterThan(12 * 1024 * 1024);
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('cuts off a client that reads nothing for exportDrainTimeoutMillis: the read transaction ends, the slot frees, the end is recorded', async () => {
    const finished = () => accessRecords(fx.store).filter((r) => r.action === 'export' && (r.details as { phase?: string }).phase === 'finished');
    const before = finished().length;
    const socket = stalledClient(fx, '/api/audit/export?format=ndjson', ADMIN_TOKEN);
    try {
      await until(() => finished().length > before, 10_000, 'the export finished');
      expect(finished().at(-1)).toMatchObject({ outcome: 'error' });
      // No reader holds a snapshot any more: the WAL can be checkpointed to its end.
      expect(fx.store.database.pragma('wal_checkpoint(TRUNCATE)')).toEqual([{ busy: 0, log: 0, checkpointed: 0 }]);
      const next = await call(fx, '/api/audit/export?format=ndjson&type=auth', ADMIN_TOKEN);
      expect(next.status).toBe(200);
      await next.text();
    } finally {
      socket.destroy();
    }
  });
});
