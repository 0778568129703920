/**
 * JSON columns as the store writes them (internal/json-column-check.ts):
 * store verification hashes the value JSON.parse reads from a column, so
 * other text for the same value would verify — and a member name given
 * twice reads differently in SQL (first wins) than in JSON.parse (last
 * wins). Such text is a hash_mismatch naming the column; the text the store
 * writes for any value (integer-like names first) is not.
 */
import { AuditChain, createRecordId } from '@otel-audit/core';
import { describe, expect, it } from 'vitest';
import { attacker, codes, keyring, MINUTE, sealBatch, storesPerTest, T0 } from './helpers.js';

const setup = storesPerTest();

describe('SqliteAuditStore.verify: JSON column text', () => {
  it('reports JSON column text the store does not write, though it parses to the same value (a name given twice reads differently in SQL)', async () => {
    const s = setup(30);
    const db = attacker(s.file);
    const details = db.prepare('SELECT details FROM audit_logs WHERE seq = 5').pluck().get() as string;
    expect(details).toBe('{"i":5,"nested":{"list":[1,2.5,null,true]},"note":"a \\"quoted\\" value"}');
    const sameValue: [column: string, text: string][] = [
      ['details', '{"i":5,"nested":{"list":[1,2.5,null,true]},"note":"nothing to see","note":"a \\"quoted\\" value"}'],
      ['details', '{"i": 5,"nested":{"list":[1,2.5,null,true]},"note":"a \\"quoted\\" value"}'],
      ['details', '{"i":5.0,"nested":{"list":[1,2.5,null,true]},"note":"a \\"quoted\\" value"}'],
      ['details', '{"note":"a \\"quoted\\" value","i":5,"nested":{"list":[1,2.5,null,true]}}'],
      ['details', '{"i":5,"nested":{"list":[1,2.5,null,true]},"note":"\\u0061 \\"quoted\\" value"}'],
      ['old_values', '{"name" :"before"}'],
      ['redacted', '[ "/details/password"]'],
    ];
    for (const [column, text] of sameValue) {
      expect(JSON.parse(text)).toEqual(JSON.parse(db.prepare(`SELECT ${column} FROM audit_logs WHERE seq = 5`).pluck().get() as string));
      const original = db.prepare(`SELECT ${column} FROM audit_logs WHERE seq = 5`).pluck().get();
      db.prepare(`UPDATE audit_logs SET ${column} = ? WHERE seq = 5`).run(text);
      if (text.includes('nothing to see')) {
        // What the edit is for: SQL reads the first of the two, verification the value hashed.
        expect(db.prepare("SELECT json_extract(details, '$.note') FROM audit_logs WHERE seq = 5").pluck().get()).toBe('nothing to see');
      }
      const report = await s.store.verify({ keyring });
      db.prepare(`UPDATE audit_logs SET ${column} = ? WHERE seq = 5`).run(original);
      expect(report.ok, text).toBe(false);
      expect(report.streams[0]!.findings, text).toEqual([expect.objectContaining({ code: 'hash_mismatch', seq: 5, message: expect.stringContaining(`column ${column} holds JSON text the store does not write`) })]);
    }
    db.close();
    expect((await s.store.verify({ keyring })).ok).toBe(true);
  });

  it('takes the JSON text the store writes for any value as intact: integer-like member names first, a member named __proto__', async () => {
    const s = setup(0);
    const chain = new AuditChain({ stream: 'svc/1' });
    const details = JSON.parse('{"b":1,"10":2,"":3,"2":{"z":[{"1":0,"a":1}],"__proto__":"p"},"é":4,"😀":5,"\u00ff":6}') as Record<string, unknown>;
    s.store.appendSync(sealBatch(chain, 10, 10, (i) => ({ id: createRecordId(), type: 'crud', action: 'update', time: T0 + BigInt(i) * MINUTE, details, old: [details], new: { '0': details } })));
    const report = await s.store.verify({ keyring });
    expect(codes(report)).toEqual([]);
    expect(report.streams[0]!.records).toBe(10);
  });
});
