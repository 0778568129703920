/**
 * The claim of a stream at start (internal/stream-opener.ts): a primary sink
 * that answers "busy" (another process holds its write lock) is asked again
 * with backoff, so a start that overlaps another process's write still
 * claims its stream; any other failure is given up at once, saying what
 * is lost.
 */
import { InMemoryAuditSink } from '../../src/index.js';
import type { StreamClaim, StreamWriter } from '@otel-audit/core';
import { describe, expect, it } from 'vitest';
import { openStream, type OpenStreamOptions } from '../../src/internal/stream-opener.js';

/** A sink whose claims fail `failures` times with `error` first. */
class ClaimFailingSink extends InMemoryAuditSink {
  claims = 0;
  constructor(private failures: number, private readonly error: () => Error) {
    super();
  }
  async claimStream(_stream: string, _writer: StreamWriter): Promise<StreamClaim> {
    this.claims++;
    if (this.failures-- > 0) throw this.error();
    return { ok: true };
  }
}

function options(primary: InMemoryAuditSink, errors: Error[]): OpenStreamOptions {
  return {
    primary, stream: 'api/1', writer: { id: 'w1', pid: process.pid, host: 'h' }, alg: 'sha256', limits: {}, previousStream: undefined, spill: undefined,
    stillStarting: () => true, onWarning: () => undefined, onError: (e) => void errors.push(e),
  };
}

const busy = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });

describe('openStream: the claim', () => {
  it('asks a busy sink again until the lock is gone, and holds the claim', async () => {
    const sink = new ClaimFailingSink(3, busy);
    const errors: Error[] = [];
    const opened = await openStream(options(sink, errors));
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(opened).toMatchObject({ stream: 'api/1', claimed: true });
    expect(sink.claims).toBe(4);
  });

  it('gives up at once on another failure, saying the stream is written unclaimed and a second writer would go undetected', async () => {
    const sink = new ClaimFailingSink(1, () => new Error('attempt to write a readonly database'));
    const errors: Error[] = [];
    const opened = await openStream(options(sink, errors));
    expect(opened).toMatchObject({ stream: 'api/1', claimed: false });
    expect(sink.claims).toBe(1);
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/could not claim stream "api\/1" .*readonly database.*UNCLAIMED: a second process writing "api\/1" would not be detected.*fix:/)]);
  });
});
