import { afterEach, expect, it } from 'vitest';
import { MAX_EMIT_MILLIS, outageScenario } from './outage.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it('the receiver down for 30 s while the service keeps logging: every record arrives once, verifiable, emits never blocked', async () => {
  const result = await outageScenario(30_000, cleanups);
  expect(result.delivered).toBe(result.emitted);
  expect(result.maxEmitMillis).toBeLessThan(MAX_EMIT_MILLIS);
  expect(result.report.errors).toBe(0);
  expect(result.findings).toEqual([]);
  expect(result.depthDuringOutage).toBeGreaterThan(1000);
}, 120_000);
