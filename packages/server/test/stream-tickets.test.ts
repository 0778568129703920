/**
 * Stream tickets (src/auth.ts `StreamTickets`) expire by the monotonic
 * clock: they are signed with a key that lives only in this process, so a
 * wall-clock step (an NTP correction, a VM resumed) neither expires a ticket
 * just issued nor keeps one valid for the length of a step back.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StreamTickets } from '../src/auth.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const auditor = { name: 'bob', role: 'auditor' } as const;

function stepWallClock(stepMillis: number): void {
  const real = Date.now.bind(Date);
  vi.spyOn(Date, 'now').mockImplementation(() => real() + stepMillis);
}

describe('StreamTickets and the wall clock', () => {
  it('accepts a ticket just issued after the wall clock stepped forward an hour', () => {
    const tickets = new StreamTickets(30_000);
    const { ticket, expiresAt } = tickets.issue(auditor);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(29_000); // the label is wall time
    stepWallClock(3_600_000);
    expect(tickets.redeem(ticket)).toEqual(auditor);
  });

  it('refuses a ticket past its TTL even though the wall clock stepped back an hour', async () => {
    const tickets = new StreamTickets(200);
    const { ticket } = tickets.issue(auditor);
    stepWallClock(-3_600_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(() => tickets.redeem(ticket)).toThrow(/stream ticket has expired/);
  });
});
