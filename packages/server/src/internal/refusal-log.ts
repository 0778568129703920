/**
 * Refused requests in the server's access stream (DESIGN §5 "reads ... are
 * themselves audit records"; issue 7 "refused credentials are recorded"),
 * with a budget per window so a flood cannot grow the store without bound.
 * Refusals of an unknown credential (401) share one budget; refusals of an
 * authenticated principal (403) have a budget per principal, so nobody
 * without a token — nor another principal — can use up the budget that
 * records what an insider was refused. What a budget suppressed is not
 * lost: when the window ends (a timer, unref'd, or close()), one summary
 * record gives the counts, split 401/403 and by principal, and the window.
 * The window runs on the monotonic clock (`performance.now()`): a wall-clock
 * step back must not hold a budget used up for its length, nor one forward
 * renew it at once. Wall time only labels the window in the summary.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../auth.js';
import type { AccessLog } from './access-log.js';

/** Options of {@link RefusalLog}. */
export interface RefusalLogOptions {
  /** Refusals recorded per budget and window. */
  maxPerWindow: number;
  windowMillis: number;
}

/** One refused request. */
export interface Refusal {
  req: IncomingMessage;
  route: string;
  requestId: string;
  /** 401: no principal (unknown credential); 403: `principal` lacked the right. */
  status: 401 | 403;
  principal?: Principal;
}

/** Records refusals within their budgets and summarises the rest per window. */
export class RefusalLog {
  readonly #access: AccessLog;
  readonly #max: number;
  readonly #windowMillis: number;
  /** Monotonic start of the window; -Infinity before the first refusal, so that one opens a window. */
  #windowStart = Number.NEGATIVE_INFINITY;
  /** Wall time at the window's start, for the summary's label only. */
  #windowStartWall = 0;
  #unknown = 0;
  /** Refusals in this window per principal name (bounded: principals come from the configured tokens). */
  readonly #byPrincipal = new Map<string, number>();
  #suppressed401 = 0;
  readonly #suppressed403 = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(access: AccessLog, options: RefusalLogOptions) {
    this.#access = access;
    this.#max = options.maxPerWindow;
    this.#windowMillis = options.windowMillis;
  }

  /** Record `refusal` if its budget allows, else count it for the window's summary. Never throws. */
  refuse(refusal: Refusal): void {
    if (this.#closed) return;
    const now = performance.now();
    if (now - this.#windowStart >= this.#windowMillis) this.#endWindow(now);
    const { req, principal, status } = refusal;
    const name = principal?.name;
    if (status === 401 || name === undefined) {
      if (++this.#unknown > this.#max) return this.#suppress(() => this.#suppressed401++);
    } else {
      const n = (this.#byPrincipal.get(name) ?? 0) + 1;
      this.#byPrincipal.set(name, n);
      if (n > this.#max) return this.#suppress(() => this.#suppressed403.set(name, (this.#suppressed403.get(name) ?? 0) + 1));
    }
    void this.#access.record({
      action: status === 401 ? 'authenticate' : 'authorize', outcome: 'failure', severity: 'warning', route: refusal.route, method: req.method ?? 'GET', requestId: refusal.requestId,
      ...(principal === undefined ? {} : { actor: principal.name, role: principal.role }), ...(req.socket.remoteAddress === undefined ? {} : { ip: req.socket.remoteAddress }),
      details: { status },
    }).catch(() => undefined);
  }

  /** Write the summary of the current window, if anything was suppressed, and stop the timer. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#summary(performance.now());
  }

  #suppress(count: () => void): void {
    count();
    // The summary is written when the window ends, whether or not another refusal comes.
    if (this.#timer === undefined) {
      const end = this.#windowStart + this.#windowMillis;
      // A timer may fire a fraction of a millisecond before the monotonic end it was set for: the window is over then.
      this.#timer = setTimeout(() => void this.#summary(Math.max(performance.now(), end)), Math.max(0, end - performance.now()));
      this.#timer.unref();
    }
  }

  #endWindow(now: number): void {
    void this.#summary(now);
    this.#windowStart = now;
    this.#windowStartWall = Date.now();
    this.#unknown = 0;
    this.#byPrincipal.clear();
  }

  /** One access record counting the refusals the window's budgets left unrecorded; `now` is monotonic. */
  #summary(now: number): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const forbidden = [...this.#suppressed403.values()].reduce((a, b) => a + b, 0);
    const unauthenticated = this.#suppressed401;
    if (unauthenticated + forbidden === 0) return Promise.resolve();
    const byPrincipal = Object.fromEntries(this.#suppressed403);
    this.#suppressed401 = 0;
    this.#suppressed403.clear();
    // Labelled from the wall time at the window's start plus the monotonic time it lasted.
    const windowEnd = this.#windowStartWall + Math.round(Math.min(now - this.#windowStart, this.#windowMillis));
    return this.#access.record({
      action: 'refusals_suppressed', outcome: 'failure', severity: 'warning', route: '/api/audit', method: '*', requestId: randomUUID(),
      details: {
        suppressed: unauthenticated + forbidden, unauthenticated, forbidden, byPrincipal, maxPerWindow: this.#max,
        windowStart: new Date(this.#windowStartWall).toISOString(), windowEnd: new Date(windowEnd).toISOString(),
      },
    }).catch(() => undefined);
  }
}
