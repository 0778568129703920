/**
 * The two lines an OTLP sink prints about a receiver outage (DESIGN §5,
 * docs/operations.md §5): one when delivery has kept failing for
 * `afterMillis` (default 10 s — the outbox retries after 0.5, 1, 2, 4 s…,
 * so a single transient error or a collector restarting within a few
 * seconds stays quiet), and one when the records held during the outage
 * have all left the outbox. Never one per retry. The receiver is named by
 * its origin only: the path, query, userinfo and headers may hold tokens.
 * Durations are measured on the monotonic clock (`performance.now()`): an
 * NTP step or a VM resume must not make a short outage read `8 days`.
 */
import type { ExportFailure } from '@otel-audit/exporter-sqlite';

/**
 * What {@link outageNotice} needs.
 *
 * @example
 * outageNotice({ url: 'http://collector:4318/v1/logs', path: '/var/lib/app/outbox.db', waiting: () => outbox.waiting(), print: console.error })
 */
export interface OutageNoticeOptions {
  /** Where records are sent; only its origin is printed. */
  url: string;
  /** The outbox file that keeps the records meanwhile. */
  path: string;
  /** Records waiting in the outbox now. */
  waiting: () => number;
  /** Prints one line. */
  print: (line: string) => void;
  /** How long delivery must have been failing before it is announced. Default 10,000. */
  afterMillis?: number;
}

/** Events of the outbox that the notice follows. */
export interface OutageNotice {
  /** An attempt failed and will be retried. */
  failed(failure: ExportFailure): void;
  /** The receiver accepted `records`. */
  shipped(records: number): void;
  /**
   * `records` left the outbox for the dead-letter table: refused for good
   * (`answered`: the receiver answered, so it is up) or expired.
   */
  deadLettered(records: number, answered: boolean): void;
  /** The sink stopped: no line after this. */
  stop(): void;
}

/** A duration for people: `45 s`, `3 min 12 s`, `2 h 5 min`. */
export function durationWords(millis: number): string {
  const s = Math.max(0, Math.round(millis / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 > 0 ? ` ${s % 60} s` : ''}`;
  const m = Math.floor(s / 60);
  return `${Math.floor(m / 60)} h${m % 60 > 0 ? ` ${m % 60} min` : ''}`;
}

/** Codes of the network errors the outbox retries (export-failure.ts), the only words of a message printed. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/** The failure in a few words that cannot hold a secret: a status or an error code, never the receiver's text. */
function reasonOf(failure: ExportFailure): string {
  if ('status' in failure && failure.status !== undefined) return `HTTP ${failure.status}`;
  // Only the network codes the outbox puts in front of its message: any other leading word could be the receiver's.
  const code = /^(E[A-Z]+|UND_ERR_[A-Z_]+):/.exec(failure.message)?.[1];
  if (code !== undefined && NETWORK_CODES.has(code)) return code;
  return failure.message.startsWith('no answer') || failure.message.includes('did not answer') ? 'no answer within the timeout' : 'a network error';
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the OTLP receiver';
  }
}

/**
 * Follow one outbox's attempts and print the outage and recovery lines.
 *
 * @example
 * const notice = outageNotice({ url, path, waiting: () => outbox.waiting(), print });
 * new OutboxLogRecordExporter({ path, exporter, onRetry: (f) => notice.failed(f), onShipped: (n) => notice.shipped(n) });
 */
export function outageNotice(options: OutageNoticeOptions): OutageNotice {
  const origin = originOf(options.url);
  const afterMillis = options.afterMillis ?? 10_000;
  const print = (line: string): void => {
    try {
      options.print(line);
    } catch {
      // A throwing printer must not stop the outbox's shipping.
    }
  };
  let since: number | undefined; // first failed attempt of the current outage (monotonic)
  let reason = '';
  let timer: NodeJS.Timeout | undefined;
  let announced = false;
  let stopped = false;
  // After the first success of an announced outage: records held then, and how many have left since (`at` monotonic).
  let draining: { held: number; gone: number; dead: number; at: number } | undefined;

  /** Records waiting now; 0 when the file cannot say (the recovery is then told with what the request carried). */
  const waitingNow = (): number => {
    try {
      return options.waiting();
    } catch {
      return 0;
    }
  };
  const announce = (): void => {
    timer = undefined;
    if (stopped || since === undefined) return;
    announced = true;
    let held = '';
    try {
      held = `${options.waiting()} audit record(s) are`;
    } catch {
      held = 'the audit records are'; // the file is busy or closed: the line matters more than the count
    }
    print(`otel-audit: OTLP delivery to ${origin} has been failing for ${durationWords(performance.now() - since)} (last: ${reason}); `
      + `nothing is lost: ${held} held in the outbox ${options.path} and are sent, in order, once the receiver takes them again `
      + '(kept up to outbox.max_age; `otel-audit status` shows them and the last error)');
  };
  const settle = (): void => {
    if (draining === undefined || draining.gone < draining.held || since === undefined) return;
    const d = draining;
    const refused = d.dead > 0 ? `; ${d.dead} of them were refused and moved to the dead-letter table (\`otel-audit status\`)` : '';
    print(`otel-audit: OTLP delivery to ${origin} recovered after ${durationWords(d.at - since)} down; `
      + `the ${d.held - d.dead} audit record(s) held in the outbox meanwhile were delivered in ${durationWords(performance.now() - d.at)}${refused}`);
    since = undefined;
    announced = false;
    draining = undefined;
  };

  return {
    failed(failure) {
      if (stopped) return;
      reason = reasonOf(failure);
      draining = undefined; // failing again while catching up: the same outage goes on
      if (since !== undefined) return;
      since = performance.now();
      timer = setTimeout(announce, afterMillis);
      timer.unref();
    },
    shipped(records) {
      if (stopped || since === undefined) return;
      if (!announced) {
        // A short failure, over before anyone needed to hear of it.
        clearTimeout(timer);
        timer = undefined;
        since = undefined;
        return;
      }
      if (draining === undefined) draining = { held: waitingNow() + records, gone: 0, dead: 0, at: performance.now() };
      draining.gone += records;
      settle();
    },
    deadLettered(records, answered) {
      if (stopped || since === undefined) return;
      if (answered && !announced) {
        // The receiver answered (a refusal, not an outage): a failure before it was no outage either.
        clearTimeout(timer);
        timer = undefined;
        since = undefined;
        return;
      }
      // The receiver answered after an announced outage: it is back, and catching up begins.
      if (answered && draining === undefined) draining = { held: records + waitingNow(), gone: 0, dead: 0, at: performance.now() };
      if (draining === undefined) return; // expired while still down: the outage goes on
      draining.gone += records;
      draining.dead += records;
      settle();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
