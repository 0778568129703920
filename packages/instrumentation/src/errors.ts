/**
 * Domain errors of @otel-audit/instrumentation. Each extends core's
 * `AuditError` with a stable `code`. Misuse of an API (a wrong argument type
 * or value) throws the built-in `TypeError`/`RangeError` instead; an invalid
 * event is core's `RecordValidationError` (code `AUDIT_RECORD_INVALID`) with
 * the JSON Pointer of the offending value.
 */
import { AuditError } from '@otel-audit/core';

/**
 * An HTTP audit policy that cannot be loaded (DESIGN §8): names the rule
 * (`rules[3]`), the key, the value and the fix.
 *
 * @example
 * try { createHttpAuditPolicy({ rules: [{ match: { path: '/admin/**' }, level: 'metadata' }] }) }
 * catch (e) { if (e instanceof AuditPolicyError) console.error(e.key, e.message) }
 */
export class AuditPolicyError extends AuditError {
  /** Where in the policy the problem is, e.g. `rules[2].match.path`. */
  readonly key: string;

  constructor(key: string, message: string) {
    super('AUDIT_CONFIG_INVALID', `${key}: ${message}`);
    this.name = 'AuditPolicyError';
    this.key = key;
  }
}

/**
 * `audit.log()` gave up waiting for the record's receipt. `stage` says
 * where the record was: `queued` — an audit processor took it, but its
 * primary sink (the audit store) has not committed it: the store is failing
 * or too slow, and the record may still be committed later (look it up by
 * `recordId` before writing it again); `capacity` — it waited for queue
 * space (overflow `block`) the whole time and was never emitted, so it will
 * not be committed; `unknown` — not said.
 *
 * @example
 * await audit.log(event).catch((e) => { if (e instanceof AuditReceiptTimeoutError && e.stage === 'queued') checkLater(e.recordId) });
 */
export class AuditReceiptTimeoutError extends AuditError {
  /** Id of the record whose receipt did not arrive. */
  readonly recordId: string;
  /** How long `log()` waited. */
  readonly timeoutMillis: number;
  /** Where the record was when the wait ran out (see the class comment). */
  readonly stage: 'queued' | 'capacity' | 'unknown';

  /** `queueFull`: the audit queue was full (overflow `block`) when the wait ran out. */
  constructor(recordId: string, timeoutMillis: number, stage: 'queued' | 'capacity' | 'unknown' = 'unknown', queueFull = false) {
    super('AUDIT_RECEIPT_TIMEOUT', receiptTimeoutMessage(recordId, timeoutMillis, stage, queueFull));
    this.name = 'AuditReceiptTimeoutError';
    this.recordId = recordId;
    this.timeoutMillis = timeoutMillis;
    this.stage = stage;
  }
}

function receiptTimeoutMessage(id: string, timeoutMillis: number, stage: 'queued' | 'capacity' | 'unknown', queueFull: boolean): string {
  const full = queueFull ? ', and the audit queue is full' : '';
  if (stage === 'queued') {
    return `no receipt for audit record ${id} within ${timeoutMillis} ms: the audit store is failing or too slow (the audit processor holds the record but its primary sink has not committed it${full}); `
      + 'the record is still queued and may be committed later: check the audit sink errors, and look the record id up before writing it again';
  }
  if (stage === 'capacity') {
    return `audit record ${id} was not written: the audit queue stayed full for ${timeoutMillis} ms (overflow block: the audit store is failing or too slow), `
      + 'so the record was not emitted and will not be committed: check the audit sink errors';
  }
  return `no receipt for audit record ${id} within ${timeoutMillis} ms: is an AuditLogRecordProcessor installed on the logger provider, and is its primary sink up?`;
}

/**
 * `audit.log()` emitted the record but no audit processor received it: the
 * logger provider it went to has no `AuditLogRecordProcessor` (the app was
 * started without `--import @otel-audit/node/register`, or the processor is
 * on another provider than the one given to `createAuditLogger`). Nothing
 * was recorded; rejected at once instead of after the receipt timeout.
 *
 * @example
 * await audit.log(event).catch((e) => { if (e instanceof AuditPipelineMissingError) console.error(e.message) });
 */
export class AuditPipelineMissingError extends AuditError {
  /** Id of the record nobody received. */
  readonly recordId: string;

  constructor(recordId: string) {
    super(
      'AUDIT_NO_PIPELINE',
      `no audit processor received audit record ${recordId}, so it was not recorded: start the app with \`node --import @otel-audit/node/register app.js\`, `
        + 'or add an AuditLogRecordProcessor to your LoggerProvider and pass that provider as createAuditLogger({ loggerProvider })',
    );
    this.name = 'AuditPipelineMissingError';
    this.recordId = recordId;
  }
}
