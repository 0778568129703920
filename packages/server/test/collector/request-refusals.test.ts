/**
 * Refused requests as collector findings (operations §5): a wrong sender
 * token, a malformed or too large body leave a `request_refused` finding,
 * at most one per status a minute, with a count of the others.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { hashToken } from '../../src/auth.js';
import { startCollector } from '../../src/collector/index.js';
import type { CollectorFinding } from '../../src/collector/collector-findings.js';
import { RequestRefusals } from '../../src/collector/request-refusals.js';

const TOKEN = 'sender-token-Zq8-0123456789abcdef';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('startCollector refused requests', () => {
  it('records 401, 400 and 413 as request_refused findings in its own stream: the first of each at once, the rest of the minute counted at close; never the token', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-refusals-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const store = new SqliteAuditStore(path.join(dir, 'central.db'));
    cleanups.push(() => store.close());
    const c = await startCollector({ port: 0, store, stream: 'collector/test', senderTokens: [hashToken(TOKEN)], maxBodyBytes: 1024 });
    const send = (authorization: string, body: string) => fetch(`${c.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body }).then((r) => r.status);
    for (const wrong of ['Bearer wrong-token-0123456789', 'Bearer another-wrong-token-0123', 'Basic eDp5']) expect(await send(wrong, '{}')).toBe(401);
    expect(await send(`Bearer ${TOKEN}`, '{not json')).toBe(400);
    expect(await send(`Bearer ${TOKEN}`, 'x'.repeat(2048))).toBe(413);
    expect(await send(`Bearer ${TOKEN}`, '{}')).toBe(200);
    const now = c.findings();
    expect(now.map((f) => f.code)).toEqual(['request_refused', 'request_refused', 'request_refused']);
    expect(now[0]!.message).toMatch(/^a request from \S*127\.0\.0\.1 was refused with 401 at .*a sender token is required/);
    expect(now[1]!.message).toMatch(/refused with 400/);
    expect(now[2]!.message).toMatch(/refused with 413 .*larger than 1024 bytes/);
    await c.close();
    const all = c.findings();
    expect(all).toHaveLength(4);
    expect(all[3]!.message).toMatch(/^2 more request\(s\) were refused with 401 between \S+ and \S+, the last from \S*127\.0\.0\.1/);
    expect(JSON.stringify(all)).not.toContain(TOKEN);
    // Each is an integrity_failure record of the collector's own stream, where alerts look.
    const records = store.query({ stream: 'collector/test' }).records.map((r) => [r.record.type, r.record.action, (r.record.details as { code: string }).code]);
    expect(records).toEqual(Array(4).fill(['system', 'integrity_failure', 'request_refused']));
  });
});

describe('RequestRefusals', () => {
  it('raises at most one finding per status a minute, each later one with the count since the last', () => {
    const raised: CollectorFinding[] = [];
    const t0 = Date.UTC(2030, 0, 1);
    let at = t0;
    const refusals = new RequestRefusals((f) => raised.push(...f), 60_000, { monotonic: () => at - t0, wall: () => at });
    const refused = (peer: string, when: number, status = 401): void => {
      at = when;
      refusals.refused(status, status === 401 ? 'no token' : 'not here', peer);
    };
    const tick = (when: number): void => {
      at = when;
      refusals.tick();
    };
    refused('10.0.0.1', t0);
    for (let i = 1; i <= 50; i++) refused(`10.0.0.${i}`, t0 + i * 1000);
    refused('10.0.0.9', t0, 404);
    tick(t0 + 59_999);
    expect(raised).toHaveLength(1);
    tick(t0 + 60_000);
    expect(raised.map((f) => f.message)).toEqual([
      expect.stringMatching(/^a request from 10\.0\.0\.1 was refused with 401 at 2030-01-01T00:00:00\.000Z/),
      expect.stringMatching(/^50 more request\(s\) were refused with 401 between 2030-01-01T00:00:01\.000Z and 2030-01-01T00:01:00\.000Z, the last from 10\.0\.0\.50: no token/),
    ]);
    // Within the minute after that report: counted, not raised; nothing more to say once quiet.
    refused('10.0.0.2', t0 + 70_000);
    tick(t0 + 100_000);
    expect(raised).toHaveLength(2);
    tick(t0 + 120_000);
    expect(raised[2]!.message).toMatch(/^1 more request\(s\) were refused with 401/);
    tick(t0 + 500_000);
    refused('10.0.0.3', t0 + 500_000);
    expect(raised).toHaveLength(4);
    expect(raised[3]!.message).toMatch(/^a request from 10\.0\.0\.3/);
  });

  it('keeps its window when the wall clock steps back an hour: the count is reported when the window is over, and the next refusal is raised at once', async () => {
    const raised: CollectorFinding[] = [];
    const refusals = new RequestRefusals((f) => raised.push(...f), 500);
    refusals.refused(401, 'no token', '10.0.0.1');
    const real = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => real() - 3_600_000); // NTP steps the clock back 1 h
    for (let i = 2; i <= 6; i++) refusals.refused(401, 'no token', `10.0.0.${i}`);
    await new Promise((r) => setTimeout(r, 600));
    refusals.tick();
    expect(raised.map((f) => f.message)).toEqual([
      expect.stringMatching(/^a request from 10\.0\.0\.1 was refused with 401/),
      expect.stringMatching(/^5 more request\(s\) were refused with 401 between \S+ and \S+, the last from 10\.0\.0\.6/),
    ]);
    await new Promise((r) => setTimeout(r, 600));
    refusals.refused(401, 'no token', '10.0.0.7');
    expect(raised[2]?.message).toMatch(/^a request from 10\.0\.0\.7 was refused with 401/);
  });
});
