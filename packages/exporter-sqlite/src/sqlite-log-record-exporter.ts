/**
 * A standard OpenTelemetry `LogRecordExporter` over the store (DESIGN §4.6),
 * for users who wire their own pipeline: each audit LogRecord carries the
 * canonical record text as its body and `audit.record.hash` as an attribute;
 * checkpoints travel as `audit.checkpoint` events whose body is the signed
 * note. A batch is committed in one transaction after checking that every
 * body is canonical and hashes to its attribute (so the store never holds a
 * record that could not verify); other LogRecords are ignored. The result
 * callback is called exactly once; nothing is thrown into the SDK, and the
 * store's I/O runs with tracing suppressed.
 */
import { context } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing, type ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import {
  AuditError, canonicalize, checkpointOfNote, HASH_ALGORITHMS, leafHash,
  type AuditRecord, type HashAlgorithm, type SealedCheckpoint, type SealedRecord,
} from '@otel-audit/core';
import type { SqliteAuditStore } from './sqlite-audit-store.js';

/**
 * Attribute holding the record's hash (DESIGN §4.6).
 *
 * @example
 * logger.emit({ body: sealed.canonical, attributes: { [ATTR_RECORD_HASH]: sealed.hash } });
 */
export const ATTR_RECORD_HASH = 'audit.record.hash';
/**
 * Event name of checkpoint LogRecords.
 *
 * @example
 * logger.emit({ eventName: EVENT_CHECKPOINT, body: note });
 */
export const EVENT_CHECKPOINT = 'audit.checkpoint';

/** Options of {@link SqliteLogRecordExporter}. */
export interface SqliteLogRecordExporterOptions {
  /** Close the store on shutdown. Default false: the store belongs to the caller. */
  closeStoreOnShutdown?: boolean;
}


/** A LogRecord that claims to be an audit record but cannot be stored as one. */
class InvalidAuditLogRecord extends AuditError {
  constructor(message: string) {
    super('AUDIT_RECORD_INVALID', message);
    this.name = 'InvalidAuditLogRecord';
  }
}

function toCheckpoint(note: string): SealedCheckpoint {
  const cp = checkpointOfNote(note);
  if (cp === undefined) throw new InvalidAuditLogRecord('an audit.checkpoint LogRecord does not carry a checkpoint note');
  return { stream: cp.origin, size: cp.size, rootHash: cp.rootHash.toString('hex'), timeUnixNano: cp.timeUnixNano, note };
}

function toRecord(body: string, hash: string): SealedRecord {
  let record: AuditRecord;
  try {
    record = JSON.parse(body) as AuditRecord;
  } catch {
    throw new InvalidAuditLogRecord(`the body of the audit LogRecord with hash ${hash} is not JSON`);
  }
  if (typeof record !== 'object' || record === null || !(HASH_ALGORITHMS as readonly string[]).includes(record.alg)) {
    throw new InvalidAuditLogRecord(`the body of the audit LogRecord with hash ${hash} is not an audit record`);
  }
  if (canonicalize(record) !== body) throw new InvalidAuditLogRecord(`the body of audit record ${String(record.id)} is not its canonical (RFC 8785) text`);
  if (leafHash(record.alg as HashAlgorithm, body).toString('hex') !== hash) {
    throw new InvalidAuditLogRecord(`audit record ${String(record.id)} does not hash to its ${ATTR_RECORD_HASH} attribute`);
  }
  return { record, canonical: body, hash };
}

/**
 * Stores audit LogRecords in a {@link SqliteAuditStore}.
 *
 * @example
 * const store = new SqliteAuditStore('audit.db');
 * const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: new SqliteLogRecordExporter(store) })] });
 */
export class SqliteLogRecordExporter implements LogRecordExporter {
  readonly #store: SqliteAuditStore;
  readonly #closeStore: boolean;
  #shutdown = false;

  constructor(store: SqliteAuditStore, options: SqliteLogRecordExporterOptions = {}) {
    if (typeof store !== 'object' || store === null || typeof store.appendSync !== 'function') throw new TypeError('store must be a SqliteAuditStore');
    this.#store = store;
    this.#closeStore = options.closeStoreOnShutdown === true;
  }

  /**
   * Commit the audit records and checkpoints among `logs` in one
   * transaction; report success or the error through `resultCallback`,
   * exactly once.
   *
   * @example
   * exporter.export(logs, (result) => { if (result.code !== ExportResultCode.SUCCESS) retry(logs) });
   */
  export(logs: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    let called = false;
    const done = (result: ExportResult): void => {
      if (called) return;
      called = true;
      resultCallback(result);
    };
    try {
      if (this.#shutdown) throw new Error('SqliteLogRecordExporter was shut down');
      const records: SealedRecord[] = [];
      const checkpoints: SealedCheckpoint[] = [];
      for (const log of logs) {
        const body = log.body;
        if (typeof body !== 'string') continue;
        if (log.eventName === EVENT_CHECKPOINT) {
          checkpoints.push(toCheckpoint(body));
          continue;
        }
        const hash = log.attributes?.[ATTR_RECORD_HASH];
        if (typeof hash !== 'string') continue;
        records.push(toRecord(body, hash));
      }
      if (records.length > 0 || checkpoints.length > 0) {
        context.with(suppressTracing(context.active()), () => this.#store.appendSync({ records, checkpoints }));
      }
      done({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  /** Writes are synchronous and committed on return: nothing to flush. */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Stop accepting exports (later ones fail); closes the store if asked to.
   * Idempotent.
   *
   * @example
   * await provider.shutdown();
   */
  shutdown(): Promise<void> {
    if (!this.#shutdown) {
      this.#shutdown = true;
      if (this.#closeStore) this.#store.close();
    }
    return Promise.resolve();
  }
}
