/** The outage lines of an OTLP sink: said once, only for a receiver that is really down, without secrets. */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { outageNotice } from '../../src/internal/outage-notice.js';

function notice(waiting = 3) {
  const lines: string[] = [];
  const n = outageNotice({ url: 'https://user:pw@collector.example:4318/v1/logs?token=s3cret', path: '/var/lib/outbox.db', waiting: () => waiting, print: (l) => lines.push(l), afterMillis: 50 });
  return { n, lines };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('outageNotice', () => {
  it('says nothing when a retried failure is followed by a refusal: the receiver answered, it is not down', async () => {
    const { n, lines } = notice();
    n.failed({ kind: 'retry', status: 503, message: 'HTTP 503' });
    n.deadLettered(3, true);
    await sleep(150);
    expect(lines).toEqual([]);
    // A later success finds no outage to recover from.
    n.shipped(5);
    expect(lines).toEqual([]);
    n.stop();
  });

  it('an outage announced, then a refusal: the receiver is back, and the recovery counts the refused records', async () => {
    const { n, lines } = notice(0);
    n.failed({ kind: 'retry', message: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4318' });
    await sleep(150);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^otel-audit: OTLP delivery to https:\/\/collector\.example:4318 has been failing for \d+ s \(last: ECONNREFUSED\)/);
    n.deadLettered(2, true);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/recovered after .*2 of them were refused and moved to the dead-letter table/);
    n.stop();
  });

  it('records expiring while the receiver is still down do not end the outage', async () => {
    const { n, lines } = notice();
    n.failed({ kind: 'retry', message: 'ETIMEDOUT: no answer' });
    await sleep(150);
    n.deadLettered(4, false);
    expect(lines).toHaveLength(1);
    n.stop();
  });

  it('prints a network error code, never another leading word of a message', async () => {
    const { n, lines } = notice();
    n.failed({ kind: 'retry', message: 'SECRETTOKENVALUE: something odd' });
    await sleep(150);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/SECRETTOKENVALUE|s3cret|pw@|\/v1\/logs/);
    expect(lines[0]).toContain('(last: a network error)');
    n.stop();
  });
  it('says how long delivery has really been failing, and how long the recovery took, when the wall clock steps meanwhile', async () => {
    const { n, lines } = notice(1);
    const real = Date.now.bind(Date);
    let step = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => real() + step);
    n.failed({ kind: 'retry', message: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4318' });
    step = 8 * 86_400_000; // NTP fixes a clock that was 8 days behind
    await sleep(150);
    expect(lines).toEqual([expect.stringMatching(/has been failing for 0 s \(last: ECONNREFUSED\)/)]);
    n.shipped(1); // one of the two held is delivered
    step += 8 * 86_400_000; // and another step
    n.shipped(1);
    expect(lines[1]).toMatch(/recovered after 0 s down; the 2 audit record\(s\) held in the outbox meanwhile were delivered in 0 s$/);
    n.stop();
  });
});
