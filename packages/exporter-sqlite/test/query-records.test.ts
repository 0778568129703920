import { AuditChain, createRecordId, type AuditEventInput } from '@otel-audit/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidCursorError, SqliteAuditStore } from '../src/index.js';
import { fullEvent, keyring, MINUTE, sealBatch, T0, tempDb } from './helpers.js';

let tmp: ReturnType<typeof tempDb>;
let store: SqliteAuditStore;
const canonical = new Map<string, string>();

beforeAll(() => {
  tmp = tempDb();
  store = new SqliteAuditStore(tmp.file);
  // 120 records over 2 streams; every 3 records share one time (ties on the sort key).
  const a = new AuditChain({ stream: 'a/1' });
  const b = new AuditChain({ stream: 'b/1' });
  for (const [chain, offset] of [[a, 0n], [b, 7n]] as const) {
    const batch = sealBatch(chain, 60, 20, (i) => {
      const e = fullEvent(i, T0 + BigInt(Math.floor(i / 3)) * MINUTE + offset);
      if (i === 7) e.details = { text: '100% off_sale \\ "quoted"' };
      return e;
    });
    for (const r of batch.records) canonical.set(r.record.id, r.canonical);
    store.appendSync(batch);
  }
});
afterAll(() => { store.close(); tmp.cleanup(); });

describe('SqliteAuditStore.query', () => {
  it('returns records exactly as sealed (rebuilt from columns), newest first by default', () => {
    const page = store.query({ limit: 1000 });
    expect(page.records).toHaveLength(120);
    expect(page.nextCursor).toBeUndefined();
    for (const r of page.records) expect(r.record).toEqual(JSON.parse(canonical.get(r.record.id)!));
    const times = page.records.map((r) => BigInt(r.record.time));
    expect([...times].sort((x, y) => (x > y ? -1 : x < y ? 1 : 0))).toEqual(times);
    expect(page.records[0]!.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  });

  it('filters by each field of the seed API and combines them with AND', () => {
    const all = store.query({ limit: 1000 }).records.map((r) => r.record);
    const count = (pred: (r: (typeof all)[number]) => boolean) => all.filter(pred).length;
    expect(store.query({ stream: 'b/1', limit: 1000 }).records).toHaveLength(60);
    expect(store.query({ eventType: 'auth', limit: 1000 }).records).toHaveLength(count((r) => r.type === 'auth'));
    expect(store.query({ eventAction: 'update', limit: 1000 }).records).toHaveLength(count((r) => r.action === 'update'));
    expect(store.query({ actorId: 'user-1', limit: 1000 }).records).toHaveLength(count((r) => r.actor?.id === 'user-1'));
    expect(store.query({ targetType: 'tool', targetId: '3', limit: 1000 }).records).toHaveLength(count((r) => r.target?.id === '3'));
    expect(store.query({ severity: 'warning', result: 'failure', limit: 1000 }).records).toHaveLength(count((r) => r.outcome === 'failure'));
    expect(store.query({ requestId: 'req-7' }).records).toHaveLength(2);
    const since = T0 + 10n * MINUTE;
    const until = T0 + 12n * MINUTE;
    expect(store.query({ since, until, limit: 1000 }).records.map((r) => r.record.time).sort()).toEqual(
      all.filter((r) => BigInt(r.time) >= since && BigInt(r.time) < until).map((r) => r.time).sort());
    expect(store.query({ since: new Date(Number(T0 / 1_000_000n)), until: '2023-11-14T22:15:00Z', limit: 1000 }).records).toHaveLength(12);
    expect(store.query({ text: 'off_sale', actorId: 'user-1' }).records.map((r) => r.record.seq)).toEqual([7, 7]);
  });

  it('leaves one stream out with excludeStream, in pages and exports alike', async () => {
    const page = store.query({ excludeStream: 'a/1', limit: 1000 });
    expect(page.records).toHaveLength(60);
    expect(new Set(page.records.map((r) => r.record.stream))).toEqual(new Set(['b/1']));
    // Paged with the cursor: the same 60, each once.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const p = store.query({ excludeStream: 'a/1', limit: 7, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...p.records.map((r) => r.record.id));
      cursor = p.nextCursor;
    } while (cursor !== undefined);
    expect(seen.sort()).toEqual(page.records.map((r) => r.record.id).sort());
    let ndjson = '';
    for await (const chunk of store.export({ format: 'ndjson', excludeStream: 'b/1' })) ndjson += chunk;
    const exported = ndjson.trim().split('\n').map((l) => (JSON.parse(l) as { record: { stream: string } }).record.stream);
    expect(exported).toHaveLength(60);
    expect(new Set(exported)).toEqual(new Set(['a/1']));
    expect(store.query({ excludeStream: 'c/1', limit: 1000 }).records).toHaveLength(120);
    expect(() => store.query({ excludeStream: 5 as never })).toThrow(/query\.excludeStream must be a string/);
  });

  it('walks every record exactly once with the keyset cursor, in both orders, across equal times', () => {
    for (const order of ['newest', 'oldest'] as const) {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = store.query({ order, limit: 7, ...(cursor ? { cursor } : {}) });
        seen.push(...page.records.map((r) => r.record.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(18);
      expect(new Set(seen).size).toBe(120);
      expect(seen).toEqual(store.query({ order, limit: 1000 }).records.map((r) => r.record.id));
    }
  });

  it('accepts capped offset pagination', () => {
    const all = store.query({ order: 'oldest', limit: 1000 }).records.map((r) => r.record.id);
    expect(store.query({ order: 'oldest', limit: 10, offset: 30 }).records.map((r) => r.record.id)).toEqual(all.slice(30, 40));
  });

  const hostile: [name: string, query: Record<string, unknown>, expected: RegExp | 'empty' | number][] = [
    ['SQL in a filter is data', { actorId: "' OR 1=1 --" }, 'empty'],
    ['SQL in stream is data', { stream: 'a/1"; DROP TABLE audit_logs; --' }, 'empty'],
    ['LIKE wildcard % is literal', { text: '100%' }, 2],
    ['LIKE wildcard _ is literal', { text: 'off_sale' }, 2],
    ['underscore does not match any char', { text: 'off-sale' }, 'empty'],
    ['backslash is literal', { text: '\\\\' }, 2],
    ['a lone % matches only a literal %', { text: '%' }, 2],
    ['limit 0', { limit: 0 }, /^query.limit must be an integer in 1..1000/],
    ['huge limit', { limit: 1e9 }, /^query.limit/],
    ['fractional limit', { limit: 2.5 }, /^query.limit/],
    ['string limit', { limit: '10' }, /^query.limit/],
    ['huge offset', { offset: 1e7 }, /^query.offset/],
    ['negative offset', { offset: -1 }, /^query.offset/],
    ['garbage cursor', { cursor: 'garbage!!' }, /^query.cursor is not a cursor/],
    ['base64 of other text', { cursor: Buffer.from('{"t":1}').toString('base64url') }, /^query.cursor is not a cursor/],
    ['cursor with SQL', { cursor: Buffer.from("v1.n.1 OR 1=1.2").toString('base64url') }, /^query.cursor/],
    ['overlong cursor', { cursor: 'A'.repeat(10_000) }, /^query.cursor/],
    ['cursor of the other order', { order: 'oldest', cursor: Buffer.from('v1.n.5.5').toString('base64url') }, /made for order 'newest'/],
    ['cursor out of range', { cursor: Buffer.from('v1.n.9999999999999999999.5').toString('base64url') }, /out of range/],
    ['bad order', { order: 'random' }, /^query.order/],
    ['bad date text', { since: 'yesterday' }, /^query.since must be an ISO-8601/],
    ['impossible date', { since: '2026-02-31T00:00:00Z' }, /^query.since is not a valid date/],
    ['impossible time', { since: '2026-02-01T25:00:00Z' }, /^query.since is not a valid date/],
    ['invalid Date', { until: new Date('x') }, /^query.until is an invalid Date/],
    ['number date', { since: 1700000000 }, /^query.since must be a Date/],
    ['negative bigint', { since: -1n }, /^query.since must lie between/],
    ['since after until', { since: T0 + MINUTE, until: T0 }, /^query.since must not be after/],
    ['unknown filter', { actor: 'alice' }, /^query.actor is not a known option/],
    ['non-string filter', { actorId: { $ne: null } }, /^query.actorId must be a string/],
    ['overlong filter', { actorId: 'x'.repeat(5000) }, /^query.actorId must be at most/],
    ['empty text', { text: '' }, /^query.text/],
  ];
  it.each(hostile)('hostile input: %s', (_name, query, expected) => {
    if (expected instanceof RegExp) {
      expect(() => store.query(query as never)).toThrow(expected);
    } else {
      const page = store.query(query as never);
      expect(page.records).toHaveLength(expected === 'empty' ? 0 : expected);
    }
    expect(store.query({ limit: 1 }).records).toHaveLength(1);
  });

  it('raises InvalidCursorError with a stable code', () => {
    try { store.query({ cursor: 'nope' }); } catch (e) {
      expect(e).toBeInstanceOf(InvalidCursorError);
      expect((e as InvalidCursorError).code).toBe('AUDIT_QUERY_CURSOR_INVALID');
    }
    expect.assertions(2);
  });
});

describe('row mapping round trip', () => {
  const str = fc.string({ maxLength: 12 });
  const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)));
  const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
  const event = fc.record({
    type: fc.constantFrom('auth', 'crud', 'x-ü'), action: str.filter((s) => s !== ''),
    outcome: opt(fc.constantFrom('success', 'failure', 'error', 'unknown')),
    actor: opt(fc.record({ id: opt(str), type: opt(str), ip: opt(str), user_agent: opt(str) })),
    target: opt(fc.record({ type: opt(str), id: opt(str), name: opt(str) })),
    request: opt(fc.record({ id: opt(str), session_id: opt(str), endpoint: opt(str), method: opt(str) })),
    details: opt(json), old: opt(json), new: opt(json), error: opt(str),
    time: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
  });

  it('rebuilds any normalised record from its columns to the same bytes, and the store verifies', async () => {
    const t = tempDb();
    const s = new SqliteAuditStore(t.file);
    const chain = new AuditChain({ stream: 'prop/1' });
    await fc.assert(fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 5 }), async (events) => {
      const records = [];
      for (const e of events) {
        try { records.push(chain.append({ ...(e as AuditEventInput), id: createRecordId() })); } catch { /* invalid input is the normaliser's concern */ }
      }
      s.appendSync({ records, checkpoints: [] });
      for (const r of records) {
        const got = s.query({ stream: 'prop/1', order: 'newest', limit: 1000 }).records.find((x) => x.record.id === r.record.id)!;
        expect(got.record).toEqual(JSON.parse(r.canonical));
        expect(got.checksum).toBe(r.hash);
      }
    }), { numRuns: 40 });
    const report = await s.verify({ keyring });
    expect(report.errors).toBe(0);
    s.close();
    t.cleanup();
  });
});
