/**
 * `exporters.sqlite.verifier_keys_file` (src/internal/secrets.ts, DESIGN
 * §4.3 "Keyring"): read by core's key-line reader, as `otel-audit verify
 * --key` reads a key file — a key may carry its validity window, which the
 * integrity check at start (`verify_on_start`) honours, and a bad line is a
 * config problem naming the file, the line, what is wrong and the fix,
 * never showing a signer key. `processors.chain.signer_key_file`: an
 * empty file is named as empty, with the keygen command that writes one; a
 * file group or others may read gets one warning naming `chmod 600`.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateNoteKey } from '@otel-audit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, audit, loadConfig, startAudit } from '../../src/index.js';

const earlier = generateNoteKey('secrets-test/earlier');
const current = generateNoteKey('secrets-test/current');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A config in a temp dir: chain signing with `signer`, the store trusting ./trusted.vkey. */
function setup(signer: string): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'otel-audit-secrets-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'signer.key'), `${signer}\n`);
  writeFileSync(join(dir, 'trusted.vkey'), '# none yet\n');
  const config = join(dir, 'otel-config.yaml');
  writeFileSync(config, [
    'processors:',
    '  chain: { stream: secrets-test/1, signer_key_file: ./signer.key }',
    'exporters:',
    '  sqlite: { path: ./audit.db, verify_on_start: true, verifier_keys_file: ./trusted.vkey }',
    'service:',
    '  pipelines:',
    '    audit: { processors: [chain], exporters: [sqlite] }',
    '',
  ].join('\n'));
  return { dir, config };
}

function lastCheck(dir: string): { result: string; findings: Record<string, number> } {
  const db = new Database(join(dir, 'audit.db'), { readonly: true });
  try {
    const row = db.prepare("SELECT event_result, details FROM audit_logs WHERE event_type = 'system' AND event_action = 'verify' ORDER BY log_id DESC LIMIT 1").get() as { event_result: string; details: string };
    return { result: row.event_result, findings: (JSON.parse(row.details) as { findings: Record<string, number> }).findings };
  } finally {
    db.close();
  }
}

describe('verifier_keys_file', () => {
  it('verify_on_start trusts an earlier key only in the window its line gives: after not_after its checkpoints are key_out_of_window', async () => {
    const { dir, config } = setup(earlier.signerKey);
    let running = await startAudit({ path: config });
    await audit.log({ type: 'crud', action: 'view', outcome: 'success' });
    await running.verifyOnStart;
    await running.shutdown();
    writeFileSync(join(dir, 'signer.key'), `${current.signerKey}\n`);

    writeFileSync(join(dir, 'trusted.vkey'), `# retired long before it signed\n${earlier.verifierKey}  not_after=2001-01-01T00:00:00Z  # retired\n`);
    running = await startAudit({ path: config });
    await running.verifyOnStart;
    await running.shutdown();
    expect(lastCheck(dir)).toMatchObject({ result: 'failure', findings: { key_out_of_window: expect.any(Number) } });

    writeFileSync(join(dir, 'trusted.vkey'), `${earlier.verifierKey} not_before=1000000000000000000 not_after=2200-01-01T00:00:00Z\n`);
    running = await startAudit({ path: config });
    await running.verifyOnStart;
    await running.shutdown();
    expect(lastCheck(dir)).toEqual({ result: 'success', findings: {} });
  });

  it('a bad line is a problem naming the key, the file, the line, what is wrong and the fix, in the words of `otel-audit verify --key`; a signer key is not shown', () => {
    const { dir, config } = setup(current.signerKey);
    const cases: [string, string, RegExp][] = [
      [`${earlier.verifierKey} not_after=2026-02-30T00:00:00Z`, 'line 2 of "./trusted.vkey": not_after="2026-02-30T00:00:00Z" is not a time between 1970 and 2262 in Unix nanoseconds or RFC 3339 (with seconds and Z or an offset)', /^write the window after the key as not_before=TIME and\/or not_after=TIME/],
      [`${earlier.verifierKey} # ${earlier.signerKey}`, 'line 2 of "./trusted.vkey" holds a signer (private) key; it is not shown', /verifier keys \(\.vkey\) only/],
      [`${earlier.verifierKey} until=2026-01-01T00:00:00Z`, 'line 2 of "./trusted.vkey": the first word after the key is until=..., not a window bound (only not_before= and not_after= may follow a key)', /not_before=TIME/],
      [`${earlier.verifierKey} not_before=2 not_after=1`, 'line 2 of "./trusted.vkey": not_before (2) is after not_after (1), so the key would never count', /swap the two bounds/],
    ];
    for (const [line, message, fix] of cases) {
      writeFileSync(join(dir, 'trusted.vkey'), `# trusted keys\n${line}\n${earlier.verifierKey}\n`);
      let error: unknown;
      try {
        loadConfig({ path: config });
      } catch (e) {
        error = e;
      }
      expect(error, line).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => [p.path, p.message, p.fix])).toEqual([['exporters.sqlite.verifier_keys_file', message, expect.stringMatching(fix)]]);
      expect((error as Error).message).not.toContain(earlier.signerKey.split('+').slice(4).join('+'));
    }
  });
});

describe('signer_key_file', () => {
  it('an empty file is a problem saying so, with the command that writes one, not "is this a public verifier key?"', () => {
    const { dir, config } = setup('');
    writeFileSync(join(dir, 'signer.key'), '\n');
    let error: unknown;
    try {
      loadConfig({ path: config });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => [p.path, p.message, p.fix])).toEqual([
      ['processors.chain.signer_key_file', 'file "./signer.key" is empty', expect.stringContaining('otel-audit keygen --name signer --out .')],
    ]);
    expect((error as Error).message).not.toContain('public verifier key');
  });

  it.runIf(process.platform !== 'win32')('a file open to group or others starts with one warning naming it and chmod 600; a 0600 one with none', async () => {
    const { dir, config } = setup(current.signerKey);
    chmodSync(join(dir, 'signer.key'), 0o644);
    const warnings: string[] = [];
    let running = await startAudit({ path: config }, { onWarning: (m) => warnings.push(m) });
    await running.shutdown();
    expect(warnings.filter((w) => w.includes('chmod'))).toEqual([
      `otel-audit: warning: processors.chain.signer_key_file "./signer.key" is open to group or others (mode 0644): whoever reads it can sign checkpoints; fix: chmod 600 ${join(dir, 'signer.key')}`,
    ]);
    expect(warnings.join('\n')).not.toContain(current.signerKey.split('+').slice(4).join('+'));

    chmodSync(join(dir, 'signer.key'), 0o600);
    warnings.length = 0;
    running = await startAudit({ path: config }, { onWarning: (m) => warnings.push(m) });
    await running.shutdown();
    expect(warnings.filter((w) => w.includes('chmod'))).toEqual([]);
  });
});
