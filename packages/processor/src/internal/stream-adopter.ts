/**
 * Sealing the streams that processes of this host left behind (DESIGN §4.3,
 * §5): a process that was killed (SIGKILL, the OOM killer, a container cut
 * off) never wrote the checkpoint over its last records, and with the
 * default per-process stream id nobody resumes its stream — verification
 * would report that tail `unsigned_tail` for ever, and removing it would go
 * unnoticed. At start, once its own stream is open, the processor asks the
 * primary sink for claims of this host whose process is gone
 * (`AuditSink.abandonedStreams`) and, for each whose last checkpoint its
 * own signer key signed, claims the stream, resumes its
 * chain from the stored head and seals one `system/stream_abandoned` record
 * and a signed checkpoint into it, through the normal queue to every sink.
 * The claims are given up once those records are committed (at the latest
 * at shutdown, after the last append). Never blocks or fails the start: one
 * stream that cannot be adopted goes to `onError` and the next is tried.
 */
import { AuditChain, maskedError, redactSecrets, type AbandonedStream, type AuditSink, type StreamWriter } from '@otel-audit/core';
import { ACTION_STREAM_ABANDONED } from '../semconv.js';
import type { QueueItem } from './delivery.js';
import type { ProcessorMetrics } from './metrics.js';
import type { Outbox } from './outbox.js';
import type { ResolvedOptions } from './resolved-options.js';
import { keyDiffers, storedCheckpoint, type StoredCheckpoint } from './key-change.js';
import { StreamSealer, type SignerState } from './stream-sealer.js';
import { toError } from './to-error.js';

/** At most this many streams are sealed per start, the oldest first; the rest at later starts. */
export const MAX_ADOPTED_PER_START = 64;

type Holder = AbandonedStream['holder'];

export interface StreamAdopterOptions {
  o: ResolvedOptions;
  writer: StreamWriter;
  /** The adopting pipeline's own stream, named in each record. */
  ownStream: string;
  /**
   * Streams not to adopt at this start: those of a spill file being replayed
   * (records of a dead writer not yet in the store) — sealing after the
   * stored head would fork them. Their claims stay for the next start.
   */
  skip: readonly string[];
  keys: SignerState;
  metrics: ProcessorMetrics;
  outbox: Outbox;
  enqueue: (item: QueueItem) => void;
  /** Resolves when everything queued so far is committed by every sink. */
  flush: () => Promise<void>;
  /** False once the processor is shutting down: nothing more is sealed. */
  running: () => boolean;
}

/** Adopts and seals abandoned streams once (see file comment). */
export class StreamAdopter {
  readonly #a: StreamAdopterOptions;
  readonly #primary: AuditSink;
  /** Streams claimed here, released by {@link release}. */
  readonly #held: string[] = [];
  #run: Promise<void> = Promise.resolve();

  constructor(options: StreamAdopterOptions) {
    this.#a = options;
    this.#primary = options.o.sinks[0]!;
  }

  /** Start adopting in the background. A sink that cannot claim streams or list abandoned ones has nothing to adopt (without a claim two starting pipelines could both seal one stream). */
  start(): void {
    if (typeof this.#primary.abandonedStreams !== 'function' || typeof this.#primary.claimStream !== 'function') return;
    this.#run = this.#adoptAll().catch((e: unknown) => this.#a.o.onError(toError(e)));
    // Once what was sealed is committed, the streams are free again: a process replacing the dead
    // one (a slot stream) resumes them at once instead of opening another. Not awaited at shutdown.
    void this.#run.then(async () => {
      if (this.#held.length === 0) return;
      await this.#a.flush();
      for (const stream of this.#held.splice(0)) await this.#release(stream);
    }).catch((e: unknown) => this.#a.o.onError(toError(e)));
  }

  /**
   * Wait (up to `timeoutMillis`) for adoption in progress, then give up the
   * claims of adopted streams not given up yet. Called at shutdown after the
   * last append.
   */
  async release(timeoutMillis: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#run, new Promise((r) => (timer = setTimeout(r, timeoutMillis)))]);
    clearTimeout(timer);
    for (const stream of this.#held.splice(0)) await this.#release(stream);
  }

  async #release(stream: string): Promise<void> {
    await this.#primary.releaseStream?.(stream, this.#a.writer).catch((e: unknown) => this.#a.o.onError(toError(e)));
  }

  async #adoptAll(): Promise<void> {
    const { o } = this.#a;
    const left = await this.#primary.abandonedStreams!(this.#a.writer);
    const sealed: string[] = [];
    let tried = 0;
    let more = 0;
    for (const { stream, holder } of left) {
      if (!this.#a.running() || stream === this.#a.ownStream || this.#a.skip.includes(stream)) continue;
      try {
        const stored = await this.#ours(stream);
        if (stored === false) continue;
        if (tried === MAX_ADOPTED_PER_START) {
          more++;
          continue;
        }
        tried++;
        const text = await this.#adopt(stream, holder, stored);
        if (text !== undefined) sealed.push(text);
      } catch (e) {
        o.onError(new Error(`otel-audit: could not seal stream "${stream}" left by pid ${holder.pid} on ${holder.host}: ${redactSecrets(toError(e).message)}`, { cause: maskedError(e) }));
      }
    }
    if (sealed.length > 0 || more > 0) {
      o.onWarning({
        code: 'streams_abandoned',
        message: `otel-audit: sealed ${sealed.length} stream(s) left by processes that ended without stopping`
          + (sealed.length > 0 ? `: ${sealed.join('; ')} — each got a system/stream_abandoned record and a checkpoint over its last records` : '')
          + (more > 0 ? `; ${more} more remain, sealed at the next starts (${MAX_ADOPTED_PER_START} per start)` : ''),
      });
    }
  }

  /**
   * The stream's last stored checkpoint when this pipeline's signer key
   * signed it (both unsigned counts too), `null` for an empty stream with
   * none, else `false`. Another service sharing the file under its own key
   * must not have its stream checkpointed under ours: a verifier holding
   * only that service's key would find a checkpoint by an unknown key. Such
   * a stream keeps its claim for its own service's next start, as does one
   * with records whose checkpoints the sink cannot tell; an empty one is
   * taken (only to be released).
   */
  async #ours(stream: string): Promise<StoredCheckpoint | null | false> {
    const stored = await storedCheckpoint(this.#primary, stream);
    if (stored) return keyDiffers(stored.keyIds, this.#a.keys.keyId) ? false : stored;
    // No checkpoint (or none the sink can tell): a process that died before committing anything leaves a claim over an empty stream, only released.
    const head = await this.#primary.head(stream);
    return head === undefined || head.size === 0 ? null : false;
  }

  /** Claim, read the head, seal; the text naming it for the warning, or undefined when there was nothing to seal or someone else took it. */
  async #adopt(stream: string, holder: Holder, stored: StoredCheckpoint | null): Promise<string | undefined> {
    const a = this.#a;
    const claim = await this.#primary.claimStream!(stream, a.writer);
    if (!claim.ok) return undefined; // adopted (or resumed) by another pipeline meanwhile
    let keep = false;
    try {
      const head = await this.#primary.head(stream);
      if (head === undefined || head.size === 0 || !a.running()) return undefined;
      const chain = new AuditChain({ stream, head, limits: a.o.limits });
      const sealer = new StreamSealer(chain, a.o, a.keys, a.metrics, a.outbox, a.enqueue, false);
      const lastSeq = head.size - 1;
      sealer.sealSystem(ACTION_STREAM_ABANDONED, 'failure', 'warning', {
        pid: holder.pid, host: holder.host, since: holder.since, last_seq: lastSeq,
        // Records past the dead writer's last checkpoint are vouched for from now on only as the store holds them: say from where.
        unsigned_from_seq: stored?.size ?? 0,
        adopted_by: { stream: a.ownStream, pid: process.pid },
      });
      sealer.checkpoint();
      // Held until the records just queued are committed: only then is the stream free.
      keep = true;
      this.#held.push(stream);
      return `"${stream}" (pid ${holder.pid} on host ${holder.host}, since ${holder.since}, last seq ${lastSeq})`;
    } finally {
      if (!keep) await this.#release(stream);
    }
  }
}
