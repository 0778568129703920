/**
 * The collector's refusals of whole requests as findings (DESIGN §4.4,
 * §9): a request answered 401 (no or unknown sender token), 400 (a body
 * that is not OTLP, or beyond the attribute and nesting limits), 413 (too
 * large) or 415 (another content type) is a `request_refused` finding, so
 * failed sender authentication shows where the collector's findings are
 * watched. Bounded as the query server's refusal log is (refusal-log.ts),
 * so a flood cannot grow the store: per status, at most one finding a
 * minute — the first refusal at once, the ones after it counted and
 * reported together when the minute is over (on the collector's timer, or
 * at close), with the count, the window, the last peer address and reason.
 * The window runs on the monotonic clock: a wall-clock step back must not
 * silence a status for its length, nor one forward report every refusal.
 * Wall time only labels the findings.
 */
import type { CollectorFinding } from './collector-findings.js';

/** The statuses recorded; others (404, 405, 409, 503) are not a sender's failure to get in. */
export type RefusedStatus = 400 | 401 | 413 | 415;

const RECORDED: ReadonlySet<number> = new Set([400, 401, 413, 415]);

/** Longest reason quoted (a 400's reason may quote what the client sent). */
const MAX_REASON = 200;

/** The clocks {@link RequestRefusals} reads; tests inject their own. */
export interface RefusalClock {
  /** Milliseconds on a clock that never steps (`performance.now()`): the windows. */
  monotonic(): number;
  /** Milliseconds since the epoch (`Date.now()`): the times named in findings. */
  wall(): number;
}

const SYSTEM_CLOCK: RefusalClock = { monotonic: () => performance.now(), wall: () => Date.now() };

interface Window {
  /** When this status was last reported (monotonic). */
  reportedAt: number;
  /** Refusals since, not reported yet. */
  count: number;
  /** Wall time of the first of them, for the finding's words. */
  since: number;
  peer: string;
  reason: string;
}

/** Counts refused requests per status and raises them as bounded findings. */
export class RequestRefusals {
  readonly #raise: (findings: CollectorFinding[]) => void;
  readonly #windowMillis: number;
  readonly #windows = new Map<number, Window>();
  readonly #clock: RefusalClock;

  /** `raise`: where findings go (CollectorFindings.raiseAll, which never throws). */
  constructor(raise: (findings: CollectorFinding[]) => void, windowMillis = 60_000, clock: RefusalClock = SYSTEM_CLOCK) {
    this.#raise = raise;
    this.#windowMillis = windowMillis;
    this.#clock = clock;
  }

  /**
   * One refused request: reported now if its status was not reported in
   * the last window, else counted. Other statuses are ignored.
   *
   * @example
   * refusals.refused(401, 'a sender token is required', req.socket.remoteAddress);
   */
  refused(status: number, reason: string, peer: string | undefined): void {
    if (!RECORDED.has(status)) return;
    const now = this.#clock.monotonic();
    const wall = this.#clock.wall();
    const w = this.#windows.get(status);
    const from = peer ?? 'an unknown address';
    const why = reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON)}…` : reason;
    if (w === undefined || (w.count === 0 && now - w.reportedAt >= this.#windowMillis)) {
      this.#windows.set(status, { reportedAt: now, count: 0, since: wall, peer: from, reason: why });
      this.#raise([finding(status, `a request from ${from} was refused with ${status} at ${new Date(wall).toISOString()}: ${why}`)]);
      return;
    }
    if (w.count === 0) w.since = wall;
    w.count++;
    w.peer = from;
    w.reason = why;
  }

  /** Report the counts whose minute is over (all of them with `all`, at close). */
  tick(all = false): void {
    const now = this.#clock.monotonic();
    const wall = this.#clock.wall();
    const due: CollectorFinding[] = [];
    for (const [status, w] of this.#windows) {
      if (w.count === 0 || (!all && now - w.reportedAt < this.#windowMillis)) continue;
      due.push(finding(status, `${w.count} more request(s) were refused with ${status} between ${new Date(w.since).toISOString()} and ${new Date(wall).toISOString()}, the last from ${w.peer}: ${w.reason}`));
      w.count = 0;
      w.reportedAt = now;
    }
    if (due.length > 0) this.#raise(due);
  }
}

function finding(status: number, message: string): CollectorFinding {
  // No stream: a refused request was never read far enough to know one.
  return { code: 'request_refused', stream: '(unknown)', message: `${message}${status === 401 ? ' (check the sender\'s exporters.otlphttp.headers token)' : ''}` };
}
