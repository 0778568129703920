import { afterEach, describe, expect, it, vi } from 'vitest';
import { errorPrinter } from '../../src/internal/error-output.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('errorPrinter', () => {
  it('keeps its minute when the wall clock steps forward: a repeated error is not printed again at once', () => {
    const real = Date.now.bind(Date);
    let step = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => real() + step);
    const lines: string[] = [];
    const handle = errorPrinter((l) => lines.push(l));
    const error = new Error('otel-audit: OTLP export failed: ECONNREFUSED');
    handle(error);
    step = 3_600_000; // NTP steps the clock forward 1 h
    handle(error);
    handle(error);
    expect(lines).toEqual(['otel-audit: OTLP export failed: ECONNREFUSED']);
  });

  it('prints each error once a minute at most, secrets masked, saying how often it came meanwhile', () => {
    const lines: string[] = [];
    let t = 0;
    const handle = errorPrinter((l) => lines.push(l), () => t);
    handle(new Error('otel-audit: audit sink "sqlite" failed (attempt 1): SQLITE_BUSY: database is locked; retrying with backoff'));
    handle(new Error('otel-audit: audit sink "sqlite" failed (attempt 1): SQLITE_BUSY: database is locked; retrying with backoff'));
    t = 30_000;
    handle(new Error('otel-audit: audit sink "sqlite" failed (attempt 1): SQLITE_BUSY: database is locked; retrying with backoff'));
    handle('export failed for https://user:pw@collector:4318/v1/logs?api_key=k1');
    t = 61_000;
    handle(new Error('otel-audit: audit sink "sqlite" failed (attempt 1): SQLITE_BUSY: database is locked; retrying with backoff'));
    expect(lines).toEqual([
      'otel-audit: audit sink "sqlite" failed (attempt 1): SQLITE_BUSY: database is locked; retrying with backoff',
      'otel-audit: OpenTelemetry error: export failed for https://***@collector:4318/v1/logs?api_key=***',
      'otel-audit: audit sink "sqlite" failed (attempt 1): SQLITE_BUSY: database is locked; retrying with backoff (also 2 more times in the minute before)',
    ]);
  });

  it('never throws, whatever it is given or however printing fails', () => {
    const handle = errorPrinter(() => {
      throw new Error('stderr closed');
    });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => handle(cyclic as never)).not.toThrow();
    expect(() => handle(undefined as never)).not.toThrow();
  });
});
