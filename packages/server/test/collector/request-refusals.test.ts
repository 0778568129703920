/**
 * Refused requests as collector findings (operations §5): a wrong sender
 * token, a malformed or too large body leave a `request_refused` finding,
 * at most one per status a minute, with a count of the others.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { hashToken } from '../../src/auth.js';
import { startCollector } from '../../src/collector/index.js';
import type { CollectorFinding } from '../../src/collector/collector-findings.js';
import { RequestRefusals } from '../../src/collector/request-refusals.js';

const TOKEN = 'sender-token-Zq8-0123456789abcdef';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
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
    const refusals = new RequestRefusals((f) => raised.push(...f), 60_000);
    const t0 = Date.UTC(2030, 0, 1);
    refusals.refused(401, 'no token', '10.0.0.1', t0);
    for (let i = 1; i <= 50; i++) refusals.refused(401, 'no token', `10.0.0.${i}`, t0 + i * 1000);
    refusals.refused(404, 'not here', '10.0.0.9', t0);
    refusals.tick(t0 + 59_999);
    expect(raised).toHaveLength(1);
    refusals.tick(t0 + 60_000);
    expect(raised.map((f) => f.message)).toEqual([
      expect.stringMatching(/^a request from 10\.0\.0\.1 was refused with 401 at 2030-01-01T00:00:00\.000Z/),
      expect.stringMatching(/^50 more request\(s\) were refused with 401 between 2030-01-01T00:00:01\.000Z and 2030-01-01T00:01:00\.000Z, the last from 10\.0\.0\.50: no token/),
    ]);
    // Within the minute after that report: counted, not raised; nothing more to say once quiet.
    refusals.refused(401, 'no token', '10.0.0.2', t0 + 70_000);
    refusals.tick(t0 + 100_000);
    expect(raised).toHaveLength(2);
    refusals.tick(t0 + 120_000);
    expect(raised[2]!.message).toMatch(/^1 more request\(s\) were refused with 401/);
    refusals.tick(t0 + 500_000);
    refusals.refused(401, 'no token', '10.0.0.3', t0 + 500_000);
    expect(raised).toHaveLength(4);
    expect(raised[3]!.message).toMatch(/^a request from 10\.0\.0\.3/);
  });
});
