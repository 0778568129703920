import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { CollectorFindings } from '../../src/collector/collector-findings.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

describe('CollectorFindings', () => {
  it('a finding whose record could not be stored does not move the collector stream on: the next one takes its seq and the stream verifies', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-findings-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'central.db');
    const store = new SqliteAuditStore(file);
    cleanups.push(() => store.close());
    const findings = new CollectorFindings(store, 'collector/test', undefined);
    const finding = (seq: number) => ({ code: 'seq_gap' as const, stream: 'svc/1', seq, message: `seq ${seq} is missing` });
    findings.raise(finding(1));
    // The store refuses the next write (as a full disk would), then accepts again.
    const other = new Database(file);
    other.exec("CREATE TRIGGER refuse_once BEFORE INSERT ON audit_logs BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END");
    expect(() => findings.raise(finding(2))).toThrow(/simulated write failure/);
    expect(findings.list().map((f) => f.seq)).toEqual([1]); // the row and the record commit together, or neither
    other.exec('DROP TRIGGER refuse_once');
    other.close();
    findings.raise(finding(3));
    findings.raise(finding(4));
    const report = await store.verify();
    const own = report.streams.find((s) => s.stream === 'collector/test')!;
    expect(own).toMatchObject({ records: 3, firstSeq: 0, lastSeq: 2, errors: 0 });
  });
});
