/**
 * What the startAudit tests share: a configuration in a temp dir (a signer
 * key, an HTTP policy, redaction, alerts, a chain and a SQLite exporter),
 * its variants, and the checks they read the store with.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring, generateNoteKey } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { expect } from 'vitest';

export const keys = generateNoteKey('node-test');

export function setup(extra = ''): { dir: string; text: string } {
  const dir = mkdtempSync(join(tmpdir(), 'otel-audit-start-'));
  writeFileSync(join(dir, 'signer.key'), `${keys.signerKey}\n`, { mode: 0o600 });
  const text = `
resource: { service.name: start-test }
receivers:
  http:
    rules:
      - { match: { path: /api/** }, level: metadata, type: api }
      - { match: { path: /** }, level: none }
  api: {}
processors:
  redact: { mode: mask }
  alerts: { builtins: { failed_logins: 3 } }
  chain:
    stream: start-test/1
    signer_key_file: ./signer.key
    delivery: { batch_size: 10, flush_interval: 20ms }
exporters:
  sqlite: { path: ./audit.db }
service:
  pipelines:
    audit: { receivers: [http, api], processors: [redact, alerts, chain], exporters: [sqlite] }
${extra}`;
  writeFileSync(join(dir, 'otel-config.yaml'), text);
  return { dir, text };
}


export function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

export async function verified(path: string, options: { signed?: boolean } = {}) {
  const store = new SqliteAuditStore(path);
  try {
    const report = await store.verify(options.signed === false ? {} : { keyring: Keyring.from([keys.verifierKey]) });
    const rows = store.database.prepare('SELECT seq, event_type, event_action, event_result, details FROM audit_logs ORDER BY seq').all() as { seq: number; event_type: string; event_action: string; event_result: string; details: string | null }[];
    return { report, rows };
  } finally {
    store.close();
  }
}

/** `promise`, or a failure after `ms`: a regression that hangs fails with a message instead of waiting for the test timeout. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Polls `condition` until it holds, or fails after `ms`. */
export async function until(condition: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The setup() config with `edit` applied to its text. */
export function setupEdited(edit: (text: string) => string): { dir: string; path: string } {
  const { dir, text } = setup();
  const path = join(dir, 'otel-config.yaml');
  const edited = edit(text);
  expect(edited).not.toBe(text);
  writeFileSync(path, edited);
  return { dir, path };
}

export const withoutStream = (text: string) => text.replace('    stream: start-test/1\n', '');
