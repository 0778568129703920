/**
 * startAudit with the standard OTLP endpoint variables, checkpoint.every_seconds,
 * encryption key rotation and two SQLite exporters.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { request, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Keyring } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, audit, startAudit, type AuditHandle } from '../src/index.js';
import { get, keys, setupEdited } from './start-audit-fixture.js';

let running: AuditHandle | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
});

describe('startAudit with OTEL_EXPORTER_OTLP_(LOGS_)ENDPOINT', () => {
  /** A loopback OTLP/HTTP receiver that records the path of every request. */
  async function receiver(): Promise<{ url: string; paths: string[]; close: () => Promise<void> }> {
    const paths: string[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        paths.push(req.url ?? '');
        res.setHeader('content-type', 'application/json');
        res.end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths, close: () => new Promise<void>((r) => server.close(() => r())) };
  }

  /** The request paths the receiver saw for a pipeline [sqlite, otlphttp] started with `env`. */
  async function pathsWith(env: (url: string) => NodeJS.ProcessEnv): Promise<string[]> {
    const r = await receiver();
    try {
      const { path } = setupEdited((t) =>
        t.replace('exporters: [sqlite] }', 'exporters: [sqlite, otlphttp] }').replace('  sqlite: { path: ./audit.db }', '  sqlite: { path: ./audit.db }\n  otlphttp: { endpoint: "http://127.0.0.1:9", protocol: http/json }'),
      );
      running = await startAudit({ path, env: { ...env(r.url) } });
      await audit.log({ type: 'crud', action: 'view', outcome: 'success' });
      for (let i = 0; i < 200 && r.paths.length === 0; i++) await new Promise((res) => setTimeout(res, 25));
      await running.shutdown();
      return [...new Set(r.paths)];
    } finally {
      await r.close();
    }
  }

  it('OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is the logs URL as written: nothing is appended', async () => {
    expect(await pathsWith((url) => ({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${url}/custom/logs` }))).toEqual(['/custom/logs']);
  });

  it('OTEL_EXPORTER_OTLP_ENDPOINT is a base URL: /v1/logs is appended', async () => {
    expect(await pathsWith((url) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: `${url}/base/` }))).toEqual(['/base/v1/logs']);
  });

  it('the logs endpoint wins over the base endpoint', async () => {
    expect(await pathsWith((url) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${url}/ingest` }))).toEqual(['/ingest']);
  });
});

describe('checkpoint.every_seconds (DESIGN §4.3)', () => {
  it('writes a checkpoint that often while the tree grows, however few records came', async () => {
    const { dir, path } = setupEdited((t) => t.replace('    stream: start-test/1\n', '    stream: start-test/1\n    checkpoint: { every_records: 100000, every_seconds: 0.1 }\n'));
    running = await startAudit({ path });
    await audit.log({ type: 'crud', action: 'view', outcome: 'success' });
    const db = new Database(join(dir, 'audit.db'), { readonly: true });
    try {
      const checkpoints = () => db.prepare("SELECT count(*) FROM audit_checkpoints WHERE stream = 'start-test/1'").pluck().get() as number;
      const deadline = Date.now() + 5_000;
      while (checkpoints() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(checkpoints()).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });

  it('is refused beside interval, which says the same', async () => {
    const { path } = setupEdited((t) => t.replace('    stream: start-test/1\n', '    stream: start-test/1\n    checkpoint: { interval: 5s, every_seconds: 5 }\n'));
    await expect(startAudit({ path })).rejects.toThrow(/processors\.chain\.checkpoint\.every_seconds.*says the same as interval \(5s\).*keep one of interval and every_seconds/s);
  });
});

describe('startAudit after an encryption key rotation', () => {
  const oldKey = Buffer.alloc(32, 3).toString('base64');
  const newKey = Buffer.alloc(32, 4).toString('hex');
  /** The config file at `path` with the store's key id switched from k-old to k-new. */
  const toNewKeyId = (path: string) => {
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('key_id: k-old');
    writeFileSync(path, text.replace('key_id: k-old', 'key_id: k-new'));
  };

  it('opens the store with the new key when the earlier keys are listed (previous_keys_file), and each row stays readable', async () => {
    const { dir, path } = setupEdited((t) => t.replace('  sqlite: { path: ./audit.db }', '  sqlite: { path: ./audit.db, encryption: { enabled: true, key_env: DB_KEY, key_id: k-old } }'));
    running = await startAudit({ path, env: { DB_KEY: oldKey } });
    await audit.log({ type: 'crud', action: 'view', outcome: 'success', details: { note: 'sealed-by-old' } });
    await running.shutdown();

    // The new key alone is refused: rows sealed by k-old would become unreadable.
    toNewKeyId(path);
    await expect(startAudit({ path, env: { DB_KEY: newKey } })).rejects.toThrow(/k-old/);
    running = undefined;

    writeFileSync(join(dir, 'previous.keys'), `k-old:${oldKey}\n`, { mode: 0o600 });
    writeFileSync(path, readFileSync(path, 'utf8').replace('key_id: k-new', 'key_id: k-new, previous_keys_file: ./previous.keys'));
    running = await startAudit({ path, env: { DB_KEY: newKey } });
    await audit.log({ type: 'crud', action: 'view', outcome: 'success', details: { note: 'sealed-by-new' } });
    await running.shutdown();
    running = undefined;

    const store = new SqliteAuditStore(join(dir, 'audit.db'), {
      readOnly: true,
      encryption: { keyId: 'k-new', key: Buffer.from(newKey, 'hex'), previousKeys: [{ keyId: 'k-old', key: Buffer.from(oldKey, 'base64') }] },
    });
    try {
      const views = store.query({ eventAction: 'view', order: 'oldest' }).records;
      expect(views.map((r) => r.record.details)).toEqual([{ note: 'sealed-by-old' }, { note: 'sealed-by-new' }]);
      const ids = store.database.prepare("SELECT enc_key_id FROM audit_logs WHERE event_action = 'view' ORDER BY log_id").pluck().all();
      expect(ids).toEqual(['k-old', 'k-new']);
      const report = await store.verify({ keyring: Keyring.from([keys.verifierKey]) });
      expect(report.ok).toBe(true);
    } finally {
      store.close();
    }
  });

  it('AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS lists them too; a bad entry is refused by its position, never shown', async () => {
    const { dir, path } = setupEdited((t) => t.replace('  sqlite: { path: ./audit.db }', '  sqlite: { path: ./audit.db, encryption: { enabled: true, key_env: DB_KEY, key_id: k-old } }'));
    running = await startAudit({ path, env: { DB_KEY: oldKey } });
    await audit.log({ type: 'crud', action: 'view', outcome: 'success' });
    await running.shutdown();
    running = undefined;
    toNewKeyId(path);

    const bad = 'Zq8-not-a-key-secret';
    const refused = await startAudit({ path, env: { DB_KEY: newKey, AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS: `k-old:${oldKey},${bad}` } }).then(() => undefined, (e: unknown) => e as Error);
    expect(refused).toBeInstanceOf(ConfigError);
    expect(refused!.message).toMatch(/exporters\.sqlite\.encryption\.previous_keys_env.*entry 2 is not a 32-byte key.*AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS/s);
    expect(refused!.message).not.toContain(bad);
    expect(refused!.message).not.toContain(oldKey);

    running = await startAudit({ path, env: { DB_KEY: newKey, AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS: `k-old:${oldKey}` } });
    await audit.log({ type: 'crud', action: 'view', outcome: 'success' });
    await running.shutdown();
    running = undefined;
    const db = new Database(join(dir, 'audit.db'), { readonly: true });
    try {
      expect(db.prepare("SELECT enc_key_id FROM audit_logs WHERE event_action = 'view' ORDER BY log_id").pluck().all()).toEqual(['k-old', 'k-new']);
    } finally {
      db.close();
    }
  });
});

describe('startAudit with two sqlite exporters', () => {
  it('encrypts each store with its own encryption settings', async () => {
    const key = Buffer.alloc(32, 9).toString('base64');
    const { dir, path } = setupEdited((t) =>
      t
        .replace('exporters: [sqlite] }', 'exporters: [sqlite, sqlite/secure] }')
        .replace('  sqlite: { path: ./audit.db }', '  sqlite: { path: ./audit.db }\n  sqlite/secure: { path: ./secure.db, encryption: { enabled: true, key_env: SECURE_DB_KEY, key_id: secure-1 } }'),
    );
    running = await startAudit({ path, env: { SECURE_DB_KEY: key } });
    await audit.log({ type: 'crud', action: 'view', outcome: 'success', details: { note: 'plain-or-sealed' } });
    await running.shutdown();

    const stored = (file: string) => {
      const store = new SqliteAuditStore(join(dir, file), { readOnly: true }); // a writer without the key is refused on an encrypted store
      try {
        return store.database.prepare("SELECT enc_key_id, details FROM audit_logs WHERE event_action = 'view'").get() as { enc_key_id: string | null; details: string };
      } finally {
        store.close();
      }
    };
    expect(stored('audit.db')).toEqual({ enc_key_id: null, details: JSON.stringify({ note: 'plain-or-sealed' }) });
    const secure = stored('secure.db');
    expect(secure.enc_key_id).toBe('secure-1');
    expect(secure.details).not.toContain('plain-or-sealed');
  });
});
