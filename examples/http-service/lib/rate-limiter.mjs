// A sliding-window rate limiter for the http-service example: at most
// `limit` attempts per key (the client IP) within `windowMillis`. `hit`
// reports whether the attempt is allowed and whether this is the first
// refusal of the current burst, so the server records one explicit
// rate-limit event per burst (the HTTP audit records every 429 anyway,
// DESIGN §8: a 429 becomes a `security`/`rate_limit` record).

/**
 * Create a limiter.
 *
 * @example
 * const limiter = createRateLimiter({ limit: 5, windowMillis: 10_000 });
 * const { allowed, firstRefusal, retryAfterSeconds } = limiter.hit(ip);
 */
export function createRateLimiter({ limit, windowMillis }) {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer; got ${limit}`);
  if (!Number.isSafeInteger(windowMillis) || windowMillis < 1) throw new RangeError(`windowMillis must be a positive integer; got ${windowMillis}`);
  const hits = new Map(); // key -> { times: number[], refused: boolean }

  return {
    limit,
    windowMillis,
    hit(key, now = Date.now()) {
      let entry = hits.get(key);
      if (entry === undefined) {
        entry = { times: [], refused: false };
        hits.set(key, entry);
      }
      entry.times = entry.times.filter((t) => t > now - windowMillis);
      if (entry.times.length < limit) {
        entry.times.push(now);
        entry.refused = false;
        return { allowed: true, firstRefusal: false, retryAfterSeconds: 0 };
      }
      const firstRefusal = !entry.refused;
      entry.refused = true;
      const retryAfterSeconds = Math.max(1, Math.ceil((entry.times[0] + windowMillis - now) / 1000));
      return { allowed: false, firstRefusal, retryAfterSeconds };
    },
  };
}
