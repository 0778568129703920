/**
 * The alert engine's clock (DESIGN §9): record time, made to run on when
 * this host's wall clock steps. Windows, cooldowns, group expiry and digests
 * all run on it. It is the largest record `time` seen, plus `offset`, so that
 * replaying a stream raises the same alerts; this host's wall clock (read
 * rarely, never per record in order) guards it two ways:
 *
 * - Future: a record dated past the wall clock + skew counts as of that bound,
 *   so that one record dated in the year 2200 cannot stop time for good.
 * - Past: a record dated more than the skew before the clock counts as of
 *   the clock (a client-supplied or skewed time) — unless the wall clock is
 *   behind the engine's clock by more than the skew too. The wall clock was
 *   then stepped back (an NTP correction, or a clock wrong forward at boot set
 *   right), and the records it stamps with it: the clock carries on from
 *   where it was by adding the step to later record times (`offset`). Without
 *   this every record would count as of the frozen time until the wall clock
 *   caught up — for an hour after a one-hour step, or a day after booting a
 *   day ahead — and windows, cooldowns and digests would stop that long.
 *
 * The step is measured by this host's clocks, never by the record, so a
 * record with a forged old time cannot move the clock: while the wall clock
 * is right, the clock is at most the skew ahead of it. Its size is where the
 * wall clock should read — the last reading plus the time elapsed since on
 * the monotonic clock (`performance.now()`), which steps do not move — less
 * where it reads; so the time between the last record before the step and
 * the first after it is not lost (a group's failures before a quiet half
 * hour do not count as just now). The clock never goes back, so it carries
 * on at least from the largest time reached.
 */

/** The alert engine's clock, in µs: `advance` with each record's `time`. */
export class EngineClock {
  /** The clock (µs); -Infinity before the first record. */
  now = -Infinity;
  /** The last record's own time (µs): what alerts show (`first_time`). */
  recordMicros = 0;
  readonly #skew: number;
  readonly #read: () => number;
  /** Added to record times (µs): the backward steps of the wall clock that records followed. */
  #offset = 0;
  /**
   * Added to wall clock readings (µs) for the future bound. Apart from
   * `#offset` because the wall clock may step while records keep their own,
   * right time (stamped by another host): the bound must not then hold every
   * record at the stepped-back wall clock.
   */
  #wallOffset = 0;
  /** Latest time (µs) the clock may reach: wall clock at the last reading + skew. */
  #limit = -Infinity;
  /** The last wall clock reading (µs, unshifted) and the monotonic clock then (µs). */
  #lastWall = -Infinity;
  #lastMono = 0;
  /** Where the wall clock should read at the last reading, had it not stepped since the one before (µs, unshifted). */
  #expectedWall = -Infinity;

  /**
   * @param skewMicros how far ahead of the wall clock a record may move the clock, and how far behind it one counts as skewed rather than a step.
   * @param read the wall clock, in Unix ms.
   * @example
   * const clock = new EngineClock(300_000_000, Date.now);
   * const now = clock.advance(record.time); // µs
   */
  constructor(skewMicros: number, read: () => number) {
    this.#skew = skewMicros;
    this.#read = read;
  }

  /** Move the clock with a record's `time` (ns as text); the clock. */
  advance(time: string): number {
    const own = time.length > 3 ? Number(time.slice(0, -3)) : 0;
    this.recordMicros = own;
    let t = own + this.#offset;
    if (t < this.now - this.#skew) {
      // Checked only for records dated well back: skewed ones, or the first after a step.
      const wall = this.#readWall();
      if (wall + this.#offset < this.now - this.#skew) {
        // Records stamped by this host count from where the clock would be had the wall clock not stepped back.
        this.#offset = Math.max(this.now, this.#expectedWall + this.#offset) - wall;
        t = own + this.#offset;
      }
    }
    if (t > this.now) {
      // The wall clock is read only when a record passes the last limit: in order, about once per skew.
      if (t > this.#limit) {
        this.#readWall();
        if (t > this.#limit) t = this.#limit;
      }
      if (t > this.now) this.now = t;
    }
    return this.now;
  }

  /** Read the wall clock (µs, unshifted) and renew the limit. */
  #readWall(): number {
    const wall = this.#read() * 1000;
    const mono = performance.now() * 1000;
    this.#expectedWall = this.#lastWall + (mono - this.#lastMono);
    this.#lastWall = wall;
    this.#lastMono = mono;
    // The clock never runs more than the skew ahead of the shifted wall clock; behind it by more, the wall clock stepped back.
    if (wall + this.#wallOffset < this.now - this.#skew) this.#wallOffset = Math.max(this.now, this.#expectedWall + this.#wallOffset) - wall;
    this.#limit = wall + this.#wallOffset + this.#skew;
    return wall;
  }
}
