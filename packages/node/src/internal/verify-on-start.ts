/**
 * The integrity check at start (`exporters.sqlite.verify_on_start`,
 * `AUDIT_LOG_INTEGRITY_CHECKS`; DESIGN §4.4, §7, §9): the store is verified
 * against the signer's own verifier key and those of `verifier_keys_file`
 * (earlier signer keys, other writers of the store), each in its window,
 * and the file is checked by SQLite (an index that no longer matches its
 * table makes queries miss rows, while every record verifies); the result
 * is written as a `system/verify` record — a failure raises the built-in
 * `audit_integrity` alert. The pipeline starts either way; the finding is
 * in the log. So the check runs in the background once the pipeline is
 * ready: a full verify takes as long as the store is big (minutes at
 * millions of records), and the app must not wait for it to be loaded. The
 * records are verified on the main thread in slices (store.verify yields
 * between them), then the file in a worker thread
 * (internal/file-check-worker.ts).
 * A shutdown stops the check and seals it as interrupted (outcome
 * `unknown`), so the log shows a check that started and did not finish.
 */
import { Keyring, parseSignerKey, type VerifierKeyEntry } from '@otel-audit/core';
import type { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import type { AuditLogger } from '@otel-audit/instrumentation';
import { startFileCheck, type FileCheck } from './file-check-worker.js';

/**
 * How the check at start ended: `success`, `failure` (findings or file
 * damage: the `audit_integrity` alert), `error` (it could not run), or
 * `interrupted` (a shutdown stopped it). `records` counts those verified.
 */
export interface VerifyOnStartResult {
  outcome: 'success' | 'failure' | 'error' | 'interrupted';
  records: number;
}

/** A check running in the background. */
export interface BackgroundVerify {
  /** Resolves once the result is sealed (never rejects). */
  readonly done: Promise<VerifyOnStartResult>;
  /** Stop the check (at shutdown, while the processor still seals) and wait for its record. */
  stop(): Promise<VerifyOnStartResult>;
}

/** Progress is reported this often; a stop takes effect at the next report. */
const STOP_EVERY_RECORDS = 1_000;

/** Thrown from the progress callback to end a verify a shutdown stopped. */
class Stopped extends Error {}

/**
 * Start verifying `store` in the background and record the outcome through
 * `audit` (the pipeline's own logger, which still seals while the pipeline
 * shuts down). `onError` hears a check that could not run.
 *
 * @example
 * const check = startVerifyOnStart(store, signerKey, [{ key: previousVerifierKey, notAfter: rotatedAtNanos }], audit, console.error);
 * const { outcome } = await check.done;
 */
export function startVerifyOnStart(
  store: SqliteAuditStore, signerKey: string | undefined, verifierKeys: readonly VerifierKeyEntry[], audit: AuditLogger, onError: (e: Error) => void,
): BackgroundVerify {
  let stopped = false;
  let records = 0;
  let fileCheck: FileCheck | undefined;
  const seal = (outcome: VerifyOnStartResult['outcome'], details: Record<string, unknown>): VerifyOnStartResult => {
    const ok = outcome === 'success';
    try {
      audit.logNowait({
        type: 'system',
        action: 'verify',
        // An interrupted check found nothing either way: `unknown`, which raises no alert.
        outcome: outcome === 'interrupted' ? 'unknown' : outcome,
        severity: ok ? 'info' : outcome === 'interrupted' ? 'warning' : 'critical',
        actor: { id: 'otel-audit', type: 'system' },
        target: { type: 'audit_log', id: store.path },
        details,
      });
    } catch (e) {
      // Refused (the pipeline stopped, its queue full): said, so the check does not vanish silently.
      onError(new Error(`otel-audit: the result of the integrity check at start (${outcome}) could not be sealed: ${e instanceof Error ? e.message : String(e)}`));
    }
    return { outcome, records };
  };
  const run = async (): Promise<VerifyOnStartResult> => {
    if (stopped) throw new Stopped();
    // The signer's own key counts always, unless the file lists it: then its window there is the
    // one that counts (the keyring trusts a key in the union of its windows).
    const own = signerKey !== undefined ? parseSignerKey(signerKey).verifierKey : undefined;
    const trusted = [...(own !== undefined && !verifierKeys.some((e) => e.key === own) ? [own] : []), ...verifierKeys];
    const keyring = trusted.length > 0 ? Keyring.from(trusted) : undefined;
    const report = await store.verify({
      ...(keyring !== undefined ? { keyring } : {}),
      progressEveryRecords: STOP_EVERY_RECORDS,
      onProgress: (p) => {
        records = p.records;
        if (stopped) throw new Stopped();
      },
    });
    records = report.records;
    if (stopped) throw new Stopped();
    // After the records, not beside them: a process cannot exit while the worker's one SQLite call
    // runs, and a service that fails early in its start (a crash loop) must still exit at once.
    fileCheck = startFileCheck(store.path);
    const damage = await fileCheck.damage;
    if (damage === undefined) throw new Stopped();
    const findings: Record<string, number> = {};
    for (const s of report.streams) for (const f of s.findings) findings[f.code] = (findings[f.code] ?? 0) + 1;
    return seal(report.ok && damage.length === 0 ? 'success' : 'failure', {
      records: report.records, errors: report.errors, warnings: report.warnings, streams: report.streams.length, findings,
      ...(damage.length > 0 ? { file_damage: damage[0]!.slice(0, 1000) } : {}),
    });
  };
  // Begun on a later turn: even the first slice of rows is not verified inside startAudit.
  const done = new Promise((resolve) => setImmediate(resolve)).then(run).catch((e: unknown) => {
    fileCheck?.stop();
    if (e instanceof Stopped || stopped) return seal('interrupted', { interrupted: 'shutdown', records });
    const message = e instanceof Error ? e.message : String(e);
    onError(new Error(`otel-audit: the integrity check at start (verify_on_start) of ${store.path} could not run: ${message}; `
      + `fix: run \`otel-audit verify ${store.path}\` to see why`, { cause: e }));
    return seal('error', { records, error: message.slice(0, 1000) });
  });
  return {
    done,
    stop: () => {
      stopped = true;
      fileCheck?.stop();
      return done;
    },
  };
}
