import * as fs from 'node:fs';
import * as path from 'node:path';
import { AuditChain } from '@otel-audit/core';
import { describe, expect, it } from 'vitest';
import { collectText, fullEvent, sealBatch, storesPerTest } from './helpers.js';
import { csvCell } from '../src/internal/csv.js';

const setup = storesPerTest();

/** A strict RFC 4180 parser for the test's own reading of the CSV. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      cell += c; i++; continue;
    }
    if (c === '"' && cell === '') { quoted = true; i++; continue; }
    if (c === ',') { row.push(cell); cell = ''; i++; continue; }
    if (c === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i += 2; continue; }
    if (c === '\r' || c === '\n' || c === '"') throw new Error(`bare ${JSON.stringify(c)} at ${i}`);
    cell += c; i++;
  }
  expect(cell).toBe('');
  expect(row).toEqual([]);
  return rows;
}

describe('SqliteAuditStore.export', () => {
  it('streams a JSON array of { record, checksum, timestamp }, oldest first, equal to the query results', async () => {
    const s = setup(30);
    const text = await collectText(s.store.export({ format: 'json' }));
    const items = JSON.parse(text);
    expect(items).toHaveLength(30);
    expect(items).toEqual(s.store.query({ order: 'oldest', limit: 1000 }).records);
    expect(JSON.parse(await collectText(s.store.export({ format: 'json', actorId: 'nobody' })))).toEqual([]);
  });

  it('streams NDJSON, one record per line, with the query filters', async () => {
    const s = setup(30);
    const lines = (await collectText(s.store.export({ format: 'ndjson', actorId: 'user-1', order: 'newest' }))).trimEnd().split('\n');
    expect(lines).toHaveLength(10);
    expect(lines.map((l) => JSON.parse(l).record.actor.id)).toEqual(Array(10).fill('user-1'));
    expect(JSON.parse(lines[0]!).record.seq).toBe(28);
  });

  it('writes RFC 4180 CSV with formula cells neutralised', async () => {
    const s = setup(0);
    const chain = new AuditChain({ stream: 'csv/1' });
    const nasty = ['=HYPERLINK("http://x","y")', '+1+1', '-2', '@SUM(A1)', '\tTAB', '\rCR', 'a,b', 'say "hi"', 'multi\nline', 'plain'];
    s.store.appendSync(sealBatch(chain, nasty.length, 100, (i) => ({ ...fullEvent(i), actor: { id: nasty[i]!, type: 'user' }, error: null })));
    const dest = path.join(s.dir, 'out.csv');
    const { records } = await s.store.exportTo(fs.createWriteStream(dest), { format: 'csv' });
    expect(records).toBe(nasty.length);
    const text = fs.readFileSync(dest, 'utf8');
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(expect.arrayContaining(['event_id', 'timestamp', 'actor_id', 'details', 'checksum', 'previous_checksum']));
    const col = rows[0]!.indexOf('actor_id');
    expect(rows.slice(1).map((r) => r[col])).toEqual([
      '\'=HYPERLINK("http://x","y")', "'+1+1", "'-2", "'@SUM(A1)", "'\tTAB", "'\rCR", 'a,b', 'say "hi"', 'multi\nline', 'plain',
    ]);
    for (const r of rows.slice(1)) expect(r).toHaveLength(rows[0]!.length);
    const details = rows[1]![rows[0]!.indexOf('details')]!;
    expect(JSON.parse(details)).toEqual({ i: 0, note: 'a "quoted" value', nested: { list: [1, 2.5, null, true] } });
  });

  it('quotes and neutralises single cells', () => {
    expect(csvCell(undefined)).toBe('');
    expect(csvCell('=1,2')).toBe('"\'=1,2"');
    expect(csvCell('x"y')).toBe('"x""y"');
    expect(csvCell('safe')).toBe('safe');
    // Spreadsheets that split on ";" (many locales) or read tabs must not find a cell starting with "=".
    expect(csvCell("x;=cmd|' /C calc'!A0")).toBe("\"x;=cmd|' /C calc'!A0\"");
    expect(csvCell('x\t=1+1')).toBe('"x\t=1+1"');
  });

  it('reads one snapshot and does not block appends while it runs', async () => {
    const s = setup(3000);
    const it = s.store.export({ format: 'ndjson' })[Symbol.asyncIterator]();
    let text = (await it.next()).value as string;
    await s.store.append(sealBatch(s.chain, 10));
    for (let r = await it.next(); !r.done; r = await it.next()) text += r.value;
    expect(text.trimEnd().split('\n')).toHaveLength(3000);
    expect((await s.store.head('svc/1'))!.size).toBe(3010);
  });

  it('refuses bad options up front', () => {
    const s = setup(1);
    expect(() => s.store.export({ format: 'xml' as never })).toThrow(/^options.format/);
    expect(() => s.store.export({ format: 'csv', since: 'soon' })).toThrow(/^options.since/);
    expect(() => s.store.export({ format: 'csv', order: 'up' as never })).toThrow(/^options.order/);
    expect(() => s.store.export({ format: 'bundle', fromSeq: -3 })).toThrow(/^options.fromSeq/);
    expect(() => s.store.export({ format: 'bundle', actorId: 'x' } as never)).toThrow(/^options.actorId is not an option of a bundle/);
  });
});

