/**
 * A service restarted with another signer key over its SQLite store: the
 * store tells the processor which key signed the stream's last checkpoint,
 * so the change is sealed as a `system/key_changed` record and the whole
 * stream still verifies with both verifier keys.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { afterEach, describe, expect, it } from 'vitest';
import { Keyring, generateNoteKey, noteKeyId, parseSignerKey } from '@otel-audit/core';
import { AuditLogRecordProcessor } from '@otel-audit/processor';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';

const FIRST = generateNoteKey('keys.example/audit');
const SECOND = generateNoteKey('keys.example/audit-2026');
const idOf = (signerKey: string) => {
  const s = parseSignerKey(signerKey);
  return noteKeyId(s.name, s.keyHash);
};

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function runService(file: string, signerKey: string): Promise<void> {
  const store = new SqliteAuditStore(file);
  const processor = new AuditLogRecordProcessor({ stream: 'keys/1', sinks: [store], signerKey, flushIntervalMillis: 5 });
  const provider = new LoggerProvider({ processors: [processor] });
  await processor.ready();
  provider.getLogger('otel-audit').emit({ body: { type: 'admin', action: 'update' } });
  await provider.shutdown();
}

describe('signer key change over a SQLite store', () => {
  it('a restart under another key seals key_changed with both key ids, and the stream verifies', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-keys-'));
    dirs.push(dir);
    const file = path.join(dir, 'audit.db');
    await runService(file, FIRST.signerKey);
    await runService(file, FIRST.signerKey);
    await runService(file, SECOND.signerKey);

    const store = new SqliteAuditStore(file);
    try {
      const changes = store.query({ stream: 'keys/1', eventType: 'system', eventAction: 'key_changed', limit: 10 }).records;
      expect(changes).toHaveLength(1);
      expect(changes[0]!.record.details).toEqual({ old_key_ids: [idOf(FIRST.signerKey)], new_key_id: idOf(SECOND.signerKey), reason: 'resumed_with_other_key' });
      expect((await store.lastCheckpoint('keys/1'))?.note).toContain('keys.example/audit-2026');
      const report = await store.verify({ keyring: Keyring.from([FIRST.verifierKey, SECOND.verifierKey]) });
      expect(report.ok).toBe(true);
      expect(report.streams[0]!.findings).toEqual([]);
    } finally {
      store.close();
    }
  });
});
