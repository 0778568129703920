/**
 * `verifierKeys` with validity windows (src/internal/verifier-keyring.ts,
 * DESIGN §4.3 "Keyring"): `createAuditServer` and `startCollector` take
 * `{ key, notBefore?, notAfter? }` beside plain keys, so a checkpoint whose
 * time lies outside its key's window is `key_out_of_window` in the
 * integrity report and in the collector's findings; a bad entry throws at
 * creation, named by its index, before the collector opens its store.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonLogsSerializer } from '@opentelemetry/otlp-transformer';
import { InMemoryLogRecordExporter } from '@opentelemetry/sdk-logs';
import { AuditChain, AuditError, createRecordId, type SealedCheckpoint } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { LogRecordExporterSink } from '@otel-audit/processor';
import { createAuditServer, startCollector } from '../../src/index.js';
import { AUDITOR_TOKEN, call, fixturesPerTest, keys, signer, TOKENS, until } from '../helpers.js';

const fixture = fixturesPerTest();
const HOUR_NS = 3_600_000_000_000n;
const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-keywindow-'));
  dirs.push(d);
  return d;
}

describe('createAuditServer verifierKeys with windows', () => {
  it('a checkpoint signed after the key\'s notAfter fails the integrity report (key_out_of_window); inside the window it is intact', async () => {
    const retired = await fixture(10, { verifierKeys: [{ key: keys.verifierKey, notAfter: nowNs() - HOUR_NS }] });
    const out = await (await call(retired, '/api/audit/integrity?stream=svc%2F1', AUDITOR_TOKEN)).json();
    expect(out.intact).toBe(false);
    expect(out.report.streams[0].findings.map((f: { code: string }) => f.code)).toContain('key_out_of_window');

    const current = await fixture(10, { verifierKeys: [{ key: keys.verifierKey, notBefore: nowNs() - HOUR_NS, notAfter: nowNs() + HOUR_NS }] });
    const ok = await (await call(current, '/api/audit/integrity?stream=svc%2F1', AUDITOR_TOKEN)).json();
    expect(ok.report.streams[0].findings).toEqual([]);
    expect(ok.intact).toBe(true);
  });

  it('a string entry is a key line as `--key` reads it: its not_before=/not_after= window counts; a signer key in it is refused unshown', async () => {
    const retired = await fixture(10, { verifierKeys: [`${keys.verifierKey} not_after=2001-01-01T00:00:00Z   # retired`] });
    const out = await (await call(retired, '/api/audit/integrity?stream=svc%2F1', AUDITOR_TOKEN)).json();
    expect(out.intact).toBe(false);
    expect(out.report.streams[0].findings.map((f: { code: string }) => f.code)).toContain('key_out_of_window');
    expect(out.report.streams[0].findings[0].message).toMatch(/outside the key's validity window \(not_after=2001-01-01T00:00:00Z\)$/);

    const current = await fixture(10, { verifierKeys: [`${keys.verifierKey} not_before=2001-01-01T00:00:00Z`] });
    expect((await (await call(current, '/api/audit/integrity?stream=svc%2F1', AUDITOR_TOKEN)).json()).intact).toBe(true);

    const store = new SqliteAuditStore(path.join(tempDir(), 'audit.db'));
    try {
      const create = (entry: string) => () => createAuditServer({ store, tokens: TOKENS, verifierKeys: [keys.verifierKey, entry] });
      expect(create(`${keys.verifierKey} not_after=${keys.signerKey}`)).toThrow(/^options\.verifierKeys\[1\]: the key line holds a signer \(private\) key; it is not shown$/);
      expect(create(`${keys.verifierKey} not_after=2026-02-30T00:00:00Z`)).toThrow('options.verifierKeys[1]: the key line: not_after="2026-02-30T00:00:00Z" is not a time between 1970 and 2262');
    } finally {
      store.close();
    }
  });

  it('refuses a bad entry at creation, naming its index, never its key text', () => {
    const store = new SqliteAuditStore(path.join(tempDir(), 'audit.db'));
    try {
      const cases: [unknown[], new (...a: never[]) => Error, RegExp][] = [
        [[keys.verifierKey, { key: keys.verifierKey, notAfter: 1_700_000_000 }], TypeError, /^options\.verifierKeys\[1\]: window\.notAfter must be a bigint/],
        [[{ key: keys.verifierKey, notBefore: 2n, notAfter: 1n }], RangeError, /^options\.verifierKeys\[0\]: window\.notBefore \(2\) must not be after window\.notAfter \(1\)/],
        [[{ notAfter: 1n }], TypeError, /^options\.verifierKeys\[0\] must be a verifier key string/],
        [[keys.verifierKey, 'nobody+12345678+AAAA'], AuditError, /^options\.verifierKeys\[1\]: /],
      ];
      for (const [verifierKeys, type, message] of cases) {
        const create = () => createAuditServer({ store, tokens: TOKENS, verifierKeys: verifierKeys as never });
        expect(create).toThrow(type);
        expect(create).toThrow(message);
      }
    } finally {
      store.close();
    }
  });
});

describe('startCollector verifierKeys with windows', () => {
  it('a checkpoint signed after the key\'s notAfter is a key_out_of_window finding; one inside is not', async () => {
    const t0 = 1_700_000_000_000_000_000n;
    const c = await startCollector({ port: 0, dbPath: path.join(tempDir(), 'central.db'), verifierKeys: [{ key: keys.verifierKey, notAfter: t0 + 1n }] });
    try {
      const chain = new AuditChain({ stream: 'svc/1' });
      const records = [];
      const checkpoints: SealedCheckpoint[] = [];
      for (let i = 0; i < 4; i++) {
        records.push(chain.append({ id: createRecordId(), time: t0 + BigInt(i), type: 'crud', action: 'update', actor: { id: 'alice' } }));
        if (chain.size % 2 === 0) {
          const t = t0 + BigInt(i);
          checkpoints.push({ stream: 'svc/1', size: chain.size, rootHash: chain.rootHex(), timeUnixNano: t, note: chain.checkpoint(t, [signer]) });
        }
      }
      const mem = new InMemoryLogRecordExporter();
      await new LogRecordExporterSink({ exporter: mem }).append({ records, checkpoints });
      const res = await fetch(`${c.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from(JsonLogsSerializer.serializeRequest(mem.getFinishedLogRecords())!) });
      expect(res.status).toBe(200);
      await until(() => c.findings().length > 0, 5_000, 'a finding');
      expect(c.findings().map((f) => [f.code, f.stream])).toEqual([['key_out_of_window', 'svc/1']]);
      expect(c.findings()[0]!.message).toMatch(/at size 4/);
    } finally {
      await c.close();
    }
  });

  it('a bad entry throws naming its index before the store file is created', async () => {
    const file = path.join(tempDir(), 'never.db');
    await expect(startCollector({ port: 0, dbPath: file, verifierKeys: [{ key: keys.verifierKey, notBefore: 5n, notAfter: 4n }] })).rejects.toThrow(/^options\.verifierKeys\[0\]: window\.notBefore/);
    await expect(startCollector({ port: 0, dbPath: file, verifierKeys: ['not a key'] })).rejects.toThrow(/^options\.verifierKeys\[0\]: /);
    expect(fs.existsSync(file)).toBe(false);
  });
});
