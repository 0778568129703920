/**
 * One table of hostile inputs run against every public function that parses
 * what a client or a caller controls: the policy matcher, the explicit API,
 * setAuditActor/setAuditContext. None may hang, crash the process or throw
 * anything but a TypeError/RangeError/AuditError.
 */
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { AuditError } from '@otel-audit/core';
import { describe, expect, it } from 'vitest';
import { createAuditLogger, createHttpAuditPolicy, setAuditActor, setAuditContext } from '../src/index.js';

const cyclic: Record<string, unknown> = {};
cyclic.self = cyclic;
const deep: Record<string, unknown> = {};
let cur = deep;
for (let i = 0; i < 5000; i++) cur = cur.n = {} as Record<string, unknown>;

const HOSTILE: unknown[] = [
  undefined, null, 0, -0, NaN, Infinity, '', ' ', '\u0000', '\ud800', 'a'.repeat(100_000), '/'.repeat(10_000),
  '/..'.repeat(5_000), '%', '%%%', '%E0%A4%A', '/%00/admin', '/admin\u0000', '/\u2028', [], [1, [2]], {}, cyclic, deep,
  Object.create(null), new Map(), new Date(NaN), () => 1, Symbol('s'), 10n, Buffer.from('x'),
  { toString() { throw new Error('hostile toString'); } },
  new Proxy({}, { get() { throw new Error('hostile proxy'); }, ownKeys() { throw new Error('hostile proxy'); } }),
];

function allowed(e: unknown): boolean {
  return e instanceof TypeError || e instanceof RangeError || e instanceof AuditError;
}

describe('hostile inputs', () => {
  const policy = createHttpAuditPolicy();

  it('policy.match takes any path and method and always answers', () => {
    for (const v of HOSTILE) {
      if (typeof v !== 'string') continue;
      const start = Date.now();
      const m = policy.match('GET', v);
      expect(['none', 'metadata', 'request']).toContain(m.level);
      expect(policy.match(v.slice(0, 64) || 'GET', '/admin/x').level).toBe('metadata');
      expect(Date.now() - start).toBeLessThan(500);
    }
  });

  it('audit.log rejects (never throws synchronously, never hangs) on hostile events and members', async () => {
    const audit = createAuditLogger({ loggerProvider: new LoggerProvider(), receiptTimeoutMillis: 20 });
    for (const v of HOSTILE) {
      for (const event of [v, { type: 'api', action: 'view', details: v }, { type: v, action: 'view' }, { type: 'api', action: 'view', actor: v }, { type: 'api', action: 'view', old_values: v }]) {
        let p: Promise<unknown> | undefined;
        expect(() => (p = audit.log(event as never))).not.toThrow();
        const outcome = await p!.then(() => 'resolved', (e: unknown) => e);
        if (outcome !== 'resolved') expect(allowed(outcome), String(outcome)).toBe(true);
      }
    }
  });

  it('setAuditActor / setAuditContext refuse non-requests and bad values with TypeError', () => {
    const req = { headers: {} };
    for (const v of HOSTILE) {
      try {
        setAuditActor(v as never, 'x');
        setAuditActor(req, v as never);
        setAuditContext(req, v as never);
      } catch (e) {
        expect(allowed(e), String(e)).toBe(true);
      }
    }
  });
});
