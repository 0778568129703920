import { afterEach, describe, expect, it, vi } from 'vitest';
import { AlertEngine } from '../../src/alerts/alert-engine.js';
import type { AlertEvent } from '../../src/alerts/alert-event.js';
import { builtinAlertRules } from '../../src/alerts/builtin-rules.js';
import { failedLogin, rec, T0_SECONDS } from './helpers.js';

const HOUR = 3600;
const MINUTE = 60;

/**
 * This host's clocks as the engine reads them: the wall clock (`clock`,
 * `at` seconds after T0) and the monotonic clock (`performance.now()`), which
 * `wait` moves too and `stepBy` — an NTP correction — does not. Records are
 * stamped by the wall clock, as the OpenTelemetry SDK stamps a log record
 * with `Date.now()`, unless `ownClock`: then by producers whose clock does not
 * step.
 */
class Host {
  elapsed = 0;
  stepped = 0;
  readonly engine: AlertEngine;
  readonly #ownClock: boolean;
  constructor({ maxGroupsPerRule = 10_000, rules = builtinAlertRules(), ownClock = false } = {}) {
    this.#ownClock = ownClock;
    const real = performance.now.bind(performance);
    const start = real();
    vi.spyOn(performance, 'now').mockImplementation(() => start + this.elapsed * 1000);
    this.engine = new AlertEngine({ rules, maxGroupsPerRule, clock: () => (T0_SECONDS + this.at) * 1000 });
  }
  /** The wall clock, in seconds after T0 (12:00 at the start). */
  get at(): number {
    return 12 * HOUR + this.elapsed + this.stepped;
  }
  /** The time a record made now carries, in seconds after T0. */
  get stamp(): number {
    return this.#ownClock ? 12 * HOUR + this.elapsed : this.at;
  }
  wait(seconds: number): void {
    this.elapsed += seconds;
  }
  stepBy(seconds: number): void {
    this.stepped += seconds;
  }
  /** A failed login made now, evaluated; the names of the rules it raised. */
  fail(actor: string, ip = `198.51.100.${actor.length}`): string[] {
    return this.engine.evaluate(failedLogin(actor, ip, this.stamp)).map((a) => a.rule);
  }
  /** `n` failed logins of `actor`, one per `everySeconds`; every alert raised. */
  failures(actor: string, n: number, everySeconds: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < n; i++, this.wait(everySeconds)) out.push(...this.fail(actor));
    return out;
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('AlertEngine clock when this host\'s wall clock steps back (records stamped by it)', () => {
  /** bob brute-forced at 12:00 (alert, 5 minute cooldown), then the wall clock steps back an hour. */
  function afterStepBack(maxGroupsPerRule?: number): Host {
    const host = new Host({ maxGroupsPerRule });
    expect(host.failures('bob', 5, 1)).toContain('failed_logins');
    host.stepBy(-HOUR);
    return host;
  }

  it('does not add up failures spread over half an hour (one per 4 minutes) into an alert', () => {
    const host = afterStepBack();
    expect(host.failures('alice', 8, 4 * MINUTE)).toEqual([]);
  });

  it('alerts on a brute force 30 minutes after the step: the 5 minute cooldown ran out', () => {
    const host = afterStepBack();
    expect(host.failures('alice', 8, 4 * MINUTE)).toEqual([]);
    const alerts: AlertEvent[] = [];
    for (let i = 0; i < 6; i++, host.wait(1)) alerts.push(...host.engine.evaluate(failedLogin('bob', '203.0.113.9', host.at)));
    const bob = alerts.find((a) => a.rule === 'failed_logins');
    expect(bob).toMatchObject({ group: { 'actor.id': 'bob' }, count: 5 });
    // What the alert shows is the records' own (stepped-back) times.
    expect(bob!.last_time).toBe(failedLogin('bob', 'x', host.at - 2).time);
  });

  it('alerts after the cooldown even when nothing was logged between the step and the brute force', () => {
    const host = afterStepBack();
    host.wait(30 * MINUTE);
    expect(host.failures('bob', 5, 1)).toContain('failed_logins');
  });

  it('does not count failures made before a quiet half hour as just now', () => {
    const host = new Host();
    expect(host.failures('carol', 4, 1)).toEqual([]);
    host.stepBy(-HOUR);
    host.wait(30 * MINUTE);
    expect(host.fail('carol')).toEqual([]);
  });

  it('lets one-off groups expire after their window instead of evicting them', () => {
    const host = afterStepBack(1000);
    // 5000 addresses failing once each over 50 minutes: ~500 per 5 minute window, under the cap of 1000.
    const raised: string[] = [];
    for (let i = 0; i < 5000; i++, host.wait(0.6)) raised.push(...host.fail(`u${i}`, `10.0.${i >> 8}.${i & 255}`));
    expect(raised).not.toContain('alert_groups_evicted');
    expect(host.engine.stats().evictedGroups).toBe(0);
  });

  it('emits an open digest when it is due, not an hour late', () => {
    const host = new Host({ rules: builtinAlertRules({ configChanges: { digest: '15m' } }) });
    const change = () => host.engine.evaluate(rec({ type: 'admin', action: 'update', outcome: 'success', actor: { id: 'root' } }, host.at)).map((a) => a.rule);
    expect(change()).toEqual([]); // opens a digest due at 12:15
    host.stepBy(-HOUR);
    const raised: string[] = [];
    for (let k = 0; k < 20; k++, host.wait(MINUTE)) raised.push(...host.fail(`dave${k}`, `10.1.0.${k}`));
    expect(raised).toContain('config_changes');
  });
});

describe('AlertEngine clock when this host\'s wall clock was wrong forward at start and is set right', () => {
  it('runs windows and cooldowns again from the first record after the correction', () => {
    const host = new Host();
    host.stepBy(24 * HOUR); // a day ahead at boot
    expect(host.failures('bob', 5, 1)).toContain('failed_logins');
    host.wait(MINUTE);
    host.stepBy(-24 * HOUR); // NTP sets it right
    expect(host.failures('alice', 8, 4 * MINUTE)).toEqual([]);
    expect(host.failures('bob', 5, 1)).toContain('failed_logins');
  });
});

describe('AlertEngine clock when only this host\'s wall clock steps back (records carry their own, right time)', () => {
  it('keeps windows and cooldowns running instead of holding every record at the stepped-back clock', () => {
    const host = new Host({ ownClock: true });
    expect(host.failures('bob', 5, 1)).toContain('failed_logins');
    host.stepBy(-HOUR);
    expect(host.failures('alice', 8, 4 * MINUTE)).toEqual([]);
    expect(host.failures('bob', 5, 1)).toContain('failed_logins');
  });
});

describe('AlertEngine clock when this host\'s wall clock is right', () => {
  it('counts a record dated a day back as of now and does not move the clock for it', () => {
    const host = new Host();
    expect(host.failures('dave', 4, 1)).toEqual([]);
    // A client-supplied timestamp a day old: inside the window as of now.
    expect(host.engine.evaluate(failedLogin('dave', '192.0.2.7', host.at - 24 * HOUR)).map((a) => a.rule)).toContain('failed_logins');
    // The clock still follows the records: spread-out failures stay quiet, a burst alerts.
    host.wait(10 * MINUTE);
    expect(host.failures('erin', 6, 4 * MINUTE)).toEqual([]);
    expect(host.failures('frank', 5, 1)).toContain('failed_logins');
  });
});
