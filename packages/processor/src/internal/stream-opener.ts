/**
 * Opening a stream at start (DESIGN §5 "a stream resumes after restart from
 * the head stored ..."): read the primary sink's stored head (retrying with
 * capped backoff while records wait), adopt a spill file left by a crashed
 * process (internal/spill-recovery.ts), build the chain (resumed, or new —
 * and when a stored head cannot be resumed, a new stream that names it), and
 * read which key signed the last stored checkpoint (internal/key-change.ts).
 * First of all, claim the stream in the primary sink (core's
 * `AuditSink.claimStream`): when another live pipeline writes it — replicas
 * with one fixed stream id, a rolling restart — this one writes a slot
 * stream `<stream>/2`, `/3`, … (resumed when it exists; new, naming the
 * stream asked for, when not), instead of resuming it too and racing it
 * for the next seqs (the store would refuse one side's records for ever).
 * Everything asynchronous the processor needs before it can seal a record.
 */
import { AuditChain, createRecordId, maskedError, redactSecrets, type AuditSink, type ChainHead, type HashAlgorithm, type NormalizeOptions, type StreamClaim, type StreamWriter } from '@otel-audit/core';
import type { AuditProcessorWarning } from '../audit-log-record-processor-options.js';
import { storedCheckpoint } from './key-change.js';
import type { Spill } from './spill.js';
import { recoverSpill, type SpillRecovery } from './spill-recovery.js';
import { toError } from './to-error.js';

/** What {@link openStream} found and built. */
export interface OpenedStream {
  chain: AuditChain;
  /** The stream id (a new one when the stored head could not be resumed). */
  stream: string;
  resumed: boolean;
  /** The stream this one follows, when known. */
  previous: string | undefined;
  recovery: SpillRecovery | undefined;
  /** Key ids that signed the last stored checkpoint (undefined: unknown). */
  storedKeyIds: string[] | undefined;
  /** Who held the stream asked for, when this is a new stream because another pipeline writes that one. */
  inUseBy: (StreamWriter & { since: string }) | undefined;
  /** Whether the primary sink holds a claim of `stream` for this pipeline (to give up at shutdown). */
  claimed: boolean;
  /**
   * The process whose claim of `stream` was taken over: it ended without
   * stopping; `unsignedFromSeq`, when known, is the first of its records
   * no checkpoint of its own covered.
   */
  tookOverFrom: (StreamWriter & { since: string; unsignedFromSeq?: number }) | undefined;
}

export interface OpenStreamOptions {
  primary: AuditSink;
  stream: string;
  /** This pipeline, as it claims its stream. */
  writer: StreamWriter;
  alg: HashAlgorithm;
  limits: NormalizeOptions;
  previousStream: string | undefined;
  spill: Spill | undefined;
  /** False once the processor is shutting down: stop waiting. */
  stillStarting: () => boolean;
  /** Where a startup warning goes (the processor's `onWarning`). */
  onWarning: (warning: AuditProcessorWarning) => void;
  /** Where an error goes (the processor's `onError`). */
  onError: (error: Error) => void;
}

async function readHead(o: OpenStreamOptions): Promise<{ head: ChainHead | undefined } | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { head: await o.primary.head(o.stream) };
    } catch (e) {
      if (attempt === 1) o.onError(new Error(`otel-audit: could not read the head of stream "${o.stream}" from the primary sink; retrying (records wait, sealed in order once it answers): ${redactSecrets(toError(e).message)}`, { cause: maskedError(e) }));
      if (!o.stillStarting()) return undefined;
      await new Promise((r) => setTimeout(r, Math.min(30_000, 100 * 2 ** Math.min(attempt, 9))).unref());
      if (!o.stillStarting()) return undefined;
    }
  }
}

async function recover(o: OpenStreamOptions, head: ChainHead | undefined): Promise<{ head: ChainHead | undefined; recovery: SpillRecovery | undefined }> {
  const spill = o.spill;
  if (spill === undefined) return { head, recovery: undefined };
  let recovery: SpillRecovery | undefined;
  try {
    recovery = await recoverSpill(spill.path, o.stream, head, o.primary);
  } catch (e) {
    o.onError(new Error(`otel-audit: could not read the spill file ${spill.path} left by an earlier process: ${redactSecrets(toError(e).message)}`, { cause: maskedError(e) }));
  }
  if (recovery?.kind === 'replay') {
    if (recovery.truncatedTo !== undefined) {
      o.onError(new Error(`otel-audit: the spill file ${spill.path} left by an earlier process ends in a partial line (${recovery.truncatedBytes} byte(s): a write cut short by a crash or a full disk, or a cut file); `
        + `the record(s) in those bytes are not replayed (moved to ${recovery.truncatedTo}); the complete line(s) before them are replayed, `
        + `${recovery.records} record(s) of them not yet in the primary sink`));
    }
    spill.adopt(recovery.lines, recovery.bytes);
    return { head: recovery.head, recovery };
  }
  if (recovery?.kind === 'unreplayable') {
    const count = recovery.countOf === 'records' ? `${recovery.records} record(s)`
      : recovery.countOf === 'lines' ? `${recovery.records} line(s) (counted as lines: the file could not be parsed completely, so the exact number of records is unknown)`
        : 'an unknown number of records (the file could not be read)';
    o.onError(new Error(`otel-audit: ${count} in the spill file left by an earlier process cannot be replayed (${recovery.reason}); moved to ${recovery.movedTo}`));
  }
  return { head, recovery };
}

/**
 * How long a claim the primary sink answers "busy" (another process holds
 * its write lock: a retention run, another service's write) is retried
 * before the stream is written unclaimed. Start-up waits meanwhile (records
 * queue); a lock held longer than this is no brief overlap.
 */
export const CLAIM_BUSY_RETRY_MILLIS = 10_000;

/** SQLite's "the file is locked by another connection" (better-sqlite3's `code`, the store's `sqliteCode`). */
function isBusy(e: unknown): boolean {
  const { code, sqliteCode } = (e ?? {}) as { code?: unknown; sqliteCode?: unknown };
  return [code, sqliteCode].some((c) => typeof c === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(c));
}

/**
 * The primary sink's answer to a claim of `stream`; undefined when it makes
 * no claims, could not answer (the stream is then written unclaimed, said
 * as an error), or the processor stopped starting while it waited. A busy
 * store is retried with backoff for {@link CLAIM_BUSY_RETRY_MILLIS}: giving
 * up at once would switch off the detection of a second writer whenever a
 * start overlaps another process's write.
 */
async function claim(o: OpenStreamOptions, stream: string): Promise<StreamClaim | undefined> {
  if (typeof o.primary.claimStream !== 'function') return undefined;
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await o.primary.claimStream(stream, o.writer);
    } catch (e) {
      const busy = isBusy(e);
      if (busy && performance.now() - started < CLAIM_BUSY_RETRY_MILLIS && o.stillStarting()) {
        // Ref'd, unlike the pipeline's timers: a service whose first await is startAudit has nothing
        // else keeping it alive yet, and would end silently with exit code 0 in the middle of its start.
        await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * 2 ** Math.min(attempt - 1, 5))));
        if (!o.stillStarting()) return undefined;
        continue;
      }
      if (!o.stillStarting()) return undefined;
      const why = busy
        ? `it stayed locked by another process for ${((performance.now() - started) / 1000).toFixed(1)} s over ${attempt} attempts: ${redactSecrets(toError(e).message)}`
        : redactSecrets(toError(e).message);
      o.onError(new Error(`otel-audit: could not claim stream "${stream}" in the primary sink (${why}); writing it UNCLAIMED: a second process writing "${stream}" `
        + 'would not be detected, and the store would refuse one side\'s records; '
        + (busy ? 'fix: find what holds the store\'s write lock (a long `otel-audit retention` run, another process\'s open transaction) and restart this service once it is released'
          : 'fix: make the store writable by this process and restart this service'),
      { cause: maskedError(e) }));
      return undefined;
    }
  }
}

/** Slots tried when the stream asked for is held: `<stream>/2` … `<stream>/<MAX_SLOT>`. */
const MAX_SLOT = 64;

/**
 * The first slot stream of `asked` this pipeline could claim — free, or
 * held by a process of this host that is gone — so that processes sharing
 * one configured stream id (cluster workers, a rolling restart) write a
 * bounded set of streams and a replacement resumes (and so signs) a dead
 * one's slot, instead of a new stream at every start. Undefined when every
 * slot is held (a new stream of its own then).
 */
async function freeSlot(o: OpenStreamOptions, asked: string): Promise<{ stream: string; answer: StreamClaim } | undefined> {
  for (let slot = 2; slot <= MAX_SLOT; slot++) {
    const stream = `${asked}/${slot}`;
    const answer = await claim(o, stream);
    if (answer === undefined) return undefined;
    if (answer.ok) return { stream, answer };
  }
  return undefined;
}

/**
 * Open the stream (see file comment). Resolves undefined when the processor
 * stopped starting meanwhile.
 *
 * @example
 * const opened = await openStream({ primary: sinks[0], stream: 'api/1', writer, alg: 'sha256', limits, previousStream: undefined, spill: undefined, stillStarting: () => true, onWarning, onError });
 */
export async function openStream(options: OpenStreamOptions): Promise<OpenedStream | undefined> {
  let o = options;
  let answer = await claim(o, o.stream);
  let inUseBy: OpenedStream['inUseBy'];
  if (answer?.ok === false) {
    inUseBy = answer.holder;
    // A spill file at the configured path is the holder's (it is alive): not adopted here.
    const asked = o.stream;
    o = { ...o, previousStream: asked, spill: undefined };
    const slot = await freeSlot(o, asked);
    const next = slot?.stream ?? `${asked}/${createRecordId()}`;
    o.onWarning({
      code: 'stream_in_use',
      message: `otel-audit: stream "${asked}" is being written by another pipeline (pid ${inUseBy.pid} on ${inUseBy.host}, since ${inUseBy.since}); this one writes `
        + (slot !== undefined ? `stream "${next}" (resumed when it exists, else new, its first record naming "${asked}")` : `the new stream "${next}", whose first record names it`)
        + ' — give each process its own stream id (processors.chain.stream)',
    });
    o = { ...o, stream: next };
    answer = slot?.answer ?? await claim(o, next);
  }
  const claimed = answer?.ok === true;
  if (!o.stillStarting()) return undefined;
  const read = await readHead(o);
  if (read === undefined || !o.stillStarting()) return undefined;
  const { head, recovery } = await recover(o, read.head);
  if (!o.stillStarting()) return undefined;
  let stream = o.stream;
  let chain: AuditChain;
  let resumed = head !== undefined && head.size > 0;
  let previous = o.previousStream;
  try {
    if (resumed && head!.alg !== o.alg) o.onWarning({ code: 'stream_algorithm_kept', message: `otel-audit: stream "${stream}" uses ${head!.alg}; it keeps it (options.alg ${o.alg} applies to new streams)` });
    chain = new AuditChain({ stream, head: resumed ? head : undefined, alg: resumed ? undefined : o.alg, limits: o.limits });
  } catch (e) {
    // A stored head that cannot be resumed: start a new stream that names it.
    o.onError(new Error(`otel-audit: the stored head of stream "${stream}" cannot be resumed (${redactSecrets(toError(e).message)}); starting a new stream`, { cause: maskedError(e) }));
    previous = stream;
    resumed = false;
    stream = `${stream}/${createRecordId()}`;
    chain = new AuditChain({ stream, alg: o.alg, limits: o.limits });
  }
  let storedKeyIds: string[] | undefined;
  let tookOverFrom: OpenedStream['tookOverFrom'] = answer?.ok === true && stream === o.stream ? answer.tookOverFrom : undefined;
  if (resumed) {
    try {
      const stored = await storedCheckpoint(o.primary, stream);
      storedKeyIds = stored?.keyIds;
      if (tookOverFrom !== undefined && stored !== undefined) tookOverFrom = { ...tookOverFrom, unsignedFromSeq: stored?.size ?? 0 };
    } catch (e) {
      o.onError(new Error(`otel-audit: could not read the last checkpoint of stream "${stream}" to compare signer keys: ${redactSecrets(toError(e).message)}`, { cause: maskedError(e) }));
    }
    if (!o.stillStarting()) return undefined;
  }
  return { chain, stream, resumed, previous, recovery, storedKeyIds, inUseBy, claimed: claimed && stream === o.stream, tookOverFrom };
}
