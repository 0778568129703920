/**
 * Which logs queries run in the search worker (internal/slow-query.ts):
 * those no index narrows to the page they return, so they may read the
 * whole window — and none on an encrypted store, whose sealed columns only
 * the main thread's store can open.
 */
import { describe, expect, it } from 'vitest';
import { logsRunInWorker } from '../../src/internal/slow-query.js';

describe('logsRunInWorker', () => {
  it.each([
    [{ eventType: 'system' }, true],
    [{ eventAction: 'login', result: 'failure' }, true],
    [{ severity: 'critical' }, true],
    [{ targetType: 'tool' }, true],
    [{ stream: 'svc/1', eventType: 'system' }, true],
    [{ actorId: 'alice', severity: 'error' }, true],
    [{ text: 'needle' }, true],
    [{}, false],
    [{ excludeStream: 'otel-audit-server/test' }, false],
    [{ stream: 'svc/1' }, false],
    [{ requestId: 'req-7' }, false],
    [{ actorId: 'alice' }, false],
    [{ targetType: 'tool', targetId: '2' }, false],
    [{ stream: 'svc/1', excludeStream: 'other' }, false],
  ])('%j: %s', (filter, expected) => {
    expect(logsRunInWorker({ since: '2026-01-01T00:00:00Z', ...filter }, false)).toBe(expected);
  });

  it('none on an encrypted store: only the main thread holds the key that opens the sealed columns', () => {
    expect(logsRunInWorker({ eventType: 'system' }, true)).toBe(false);
  });
});

