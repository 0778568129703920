import { describe, expect, it } from 'vitest';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { AlertDispatcher, AlertEngine, registerAlertMetrics } from '../../src/index.js';
import { rec } from './helpers.js';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** name → "attr=value" → value, from one collection. */
async function collect(reader: TestReader): Promise<Map<string, Map<string, number>>> {
  const { resourceMetrics } = await reader.collect();
  const out = new Map<string, Map<string, number>>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const m of scope.metrics) {
      const points = new Map<string, number>();
      for (const p of m.dataPoints) points.set(Object.values(p.attributes).join(','), p.value as number);
      out.set(m.descriptor.name, points);
    }
  }
  return out;
}

describe('registerAlertMetrics', () => {
  it('counts alerts fired and groups evicted per rule, and notifier failures', async () => {
    const reader = new TestReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const engine = new AlertEngine({ rules: [{ name: 'twice', match: { type: 'auth' }, group_by: ['actor.id'], window: '5m', condition: 'count >= 2' }], maxGroupsPerRule: 2 });
    const failures: string[] = [];
    const dispatcher = new AlertDispatcher({ notifiers: [{ name: 'broken', notify: async () => { throw new Error('down'); } }], onError: (e) => failures.push(e.notifier) });
    const stop = registerAlertMetrics({ engine, dispatcher, meterProvider });
    const login = (actor: string, at: number) => rec({ type: 'auth', action: 'login', actor: { id: actor } }, at);
    for (const a of engine.evaluate(login('a', 1))) dispatcher.dispatch(a);
    for (const a of engine.evaluate(login('a', 2))) dispatcher.dispatch(a); // fires
    engine.evaluate(login('b', 3));
    engine.evaluate(login('c', 4)); // third group: the least recently used (a) is evicted
    await dispatcher.shutdown();
    expect(failures).toEqual(['broken']);
    const m = await collect(reader);
    expect(m.get('otel_audit.alerts.fired')?.get('twice')).toBe(1);
    expect(m.get('otel_audit.alerts.groups_evicted')?.get('twice')).toBe(1);
    expect(m.get('otel_audit.alerts.notifier_failures')?.get('failed')).toBe(1);
    expect(m.get('otel_audit.alerts.notifier_failures')?.get('dropped')).toBe(0);
    stop();
    await meterProvider.shutdown();
  });
});
