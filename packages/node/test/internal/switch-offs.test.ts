/**
 * What a configuration switches off while the pipeline runs is said once at
 * start (src/internal/switch-offs.ts), through `onWarning` like `enabled:
 * false`: the line names the YAML path or the variable that did it and what
 * is no longer protected or recorded. A config that switches nothing off
 * says nothing (start-audit.test.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAudit } from '../../src/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Start the pipeline of a config with `redact`, `rule` (the catch-all) and `alerts` as given; returns the warnings. */
async function warningsOf(options: { redact?: string; rule?: string; alerts?: string; env?: NodeJS.ProcessEnv }): Promise<{ lines: string[]; file: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'otel-audit-switch-offs-'));
  dirs.push(dir);
  const file = join(dir, 'otel-config.yaml');
  writeFileSync(file, [
    'receivers:',
    `  http: { rules: [ ${options.rule ?? '{ match: { path: /** }, level: metadata }'} ] }`,
    '  api: {}',
    'processors:',
    `  redact: ${options.redact ?? '{ mode: mask }'}`,
    `  alerts: ${options.alerts ?? '{ builtins: { failed_logins: 3 } }'}`,
    '  chain: { stream: switch-offs/1 }',
    'exporters:',
    '  sqlite: { path: ./audit.db }',
    'service:',
    '  pipelines:',
    '    audit: { receivers: [http, api], processors: [redact, alerts, chain], exporters: [sqlite] }',
  ].join('\n'));
  const lines: string[] = [];
  const handle = await startAudit({ path: file, env: options.env ?? {} }, { registerGlobal: false, onWarning: (m) => lines.push(m) });
  await handle.shutdown();
  // The unsigned-checkpoint warning is another test's.
  return { lines: lines.filter((l) => !l.includes('no checkpoint signer key')), file };
}

describe('a partial switch-off is said once at start', () => {
  it('processors.redact.default_patterns: false names the key and the fields now stored as written', async () => {
    const { lines, file } = await warningsOf({ redact: '{ mode: mask, default_patterns: false }' });
    expect(lines).toEqual([expect.stringMatching(/^otel-audit: warning: the default redaction patterns are OFF by processors\.redact\.default_patterns: false in /)]);
    expect(lines[0]).toContain(file);
    expect(lines[0]).toContain('password, passwd, pwd, passphrase, secret, token or the other 10 default patterns, or the default words (pass, pin, otp, cvv, ...), are stored as written (no patterns or pointers are listed: nothing is redacted)');
  });

  it('an HTTP policy whose every rule is level: none says that no request is audited; an allow-list ending in level: none says nothing', async () => {
    const { lines } = await warningsOf({ rule: '{ match: { path: /healthz }, level: none }, { match: { path: /** }, level: none }' });
    expect(lines).toEqual([expect.stringMatching(/^otel-audit: warning: no HTTP request is audited: every rule of receivers\.http\.rules has level: none .*fix: give the catch-all \(rules\[1\]\) level: metadata/)]);
    expect((await warningsOf({ rule: '{ match: { path: /admin/** }, level: metadata }, { match: { path: /** }, level: none }' })).lines).toEqual([]);
  });

  it('AUDIT_ALERT_ENABLED=false names the variable; processors.alerts.enabled: false names the key', async () => {
    const byEnv = await warningsOf({ env: { AUDIT_ALERT_ENABLED: 'false' } });
    expect(byEnv.lines).toEqual([expect.stringMatching(/^otel-audit: warning: alerts are OFF by AUDIT_ALERT_ENABLED=false: no alert rule runs .*fix: unset AUDIT_ALERT_ENABLED/)]);
    const byFile = await warningsOf({ alerts: '{ enabled: false }' });
    expect(byFile.lines).toEqual([`otel-audit: warning: alerts are OFF by processors.alerts.enabled: false in ${byFile.file}: no alert rule runs (failed logins, privilege escalation, data exfiltration, ...) and no notifier is called; the records are still written; fix: remove enabled: false`]);
  });

  it('AUDIT_LOG_INTEGRITY_CHECKS=false names the variable and the store no longer verified at start', async () => {
    const { lines } = await warningsOf({ env: { AUDIT_LOG_INTEGRITY_CHECKS: 'off' } });
    expect(lines).toEqual([expect.stringMatching(/^otel-audit: warning: the integrity check at start is OFF by AUDIT_LOG_INTEGRITY_CHECKS=off: exporters\.sqlite is not verified when the service starts/)]);
  });
});
