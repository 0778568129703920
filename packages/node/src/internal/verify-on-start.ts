/**
 * The integrity check at start (`exporters.sqlite.verify_on_start`,
 * `AUDIT_LOG_INTEGRITY_CHECKS`; DESIGN §4.4, §7, §9): the store is verified
 * against the signer's own verifier key and those of `verifier_keys_file`
 * (earlier signer keys, other writers of the store), each in its window,
 * and the file is checked by SQLite (an index that no longer matches its
 * table makes queries miss rows, while every record verifies); the result
 * is written as a `system/verify` record — a failure raises the built-in
 * `audit_integrity` alert. The pipeline starts either way; the
 * finding is in the log.
 */
import { Keyring, parseSignerKey, type VerifierKeyEntry } from '@otel-audit/core';
import { storeFileDamage, type SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import type { AuditLogger } from '@otel-audit/instrumentation';

/**
 * Verify `store` and record the outcome through `audit`.
 *
 * @example
 * await verifyOnStart(store, signerKey, [{ key: previousVerifierKey, notAfter: rotatedAtNanos }], audit);
 */
export async function verifyOnStart(store: SqliteAuditStore, signerKey: string | undefined, verifierKeys: readonly VerifierKeyEntry[], audit: AuditLogger): Promise<void> {
  // The signer's own key counts always, unless the file lists it: then its window there is the
  // one that counts (the keyring trusts a key in the union of its windows).
  const own = signerKey !== undefined ? parseSignerKey(signerKey).verifierKey : undefined;
  const trusted = [...(own !== undefined && !verifierKeys.some((e) => e.key === own) ? [own] : []), ...verifierKeys];
  const keyring = trusted.length > 0 ? Keyring.from(trusted) : undefined;
  const report = await store.verify(keyring !== undefined ? { keyring } : {});
  const damage = storeFileDamage(store);
  const findings: Record<string, number> = {};
  for (const s of report.streams) for (const f of s.findings) findings[f.code] = (findings[f.code] ?? 0) + 1;
  const ok = report.ok && damage.length === 0;
  audit.logNowait({
    type: 'system',
    action: 'verify',
    outcome: ok ? 'success' : 'failure',
    severity: ok ? 'info' : 'critical',
    actor: { id: 'otel-audit', type: 'system' },
    target: { type: 'audit_log', id: store.path },
    details: { records: report.records, errors: report.errors, warnings: report.warnings, streams: report.streams.length, findings, ...(damage.length > 0 ? { file_damage: damage[0]!.slice(0, 1000) } : {}) },
  });
}
