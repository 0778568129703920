/**
 * A team's own OpenTelemetry SDK registered its LoggerProvider before
 * startAudit (adoption review, helper 102, finding 4): our registration is
 * refused, and the processor's own records — stream_started with the pid,
 * checkpoint notes, alerts — went to the global logger, the team's, and on
 * to its logs backend. They stay in our pipeline now: the team's exporter
 * gets only its own records, and ours still reach the store.
 */
import { join } from 'node:path';
import { logs } from '@opentelemetry/api-logs';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { afterEach, describe, expect, it } from 'vitest';
import { audit, startAudit, type AuditHandle } from '../src/index.js';
import { setup, verified } from './start-audit-fixture.js';

let running: AuditHandle | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
  logs.disable();
});

describe('startAudit after another SDK registered its LoggerProvider', () => {
  it("keeps its own records (start, checkpoints) out of the team's logs exporter", async () => {
    const teamExporter = new InMemoryLogRecordExporter();
    const team = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: teamExporter })] });
    expect(logs.setGlobalLoggerProvider(team)).toBe(team);
    team.getLogger('team-app').emit({ body: 'the team logs as before' });

    const { dir } = setup();
    running = await startAudit({ path: join(dir, 'otel-config.yaml') });
    await audit.log({ type: 'admin', action: 'update', outcome: 'success', actor: { id: 'alice', type: 'user' } });
    await running.shutdown();

    const scopes = teamExporter.getFinishedLogRecords().map((r) => r.instrumentationScope.name);
    expect(scopes).toEqual(['team-app']);
    const { rows } = await verified(join(dir, 'audit.db'));
    expect(rows.map((r) => r.event_action)).toEqual(expect.arrayContaining(['stream_started', 'update', 'pipeline_stopped']));
  });
});
