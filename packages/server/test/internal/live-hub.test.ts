/**
 * The live stream's poller (src/internal/live-hub.ts) on a long stream: a
 * poll reads the records appended since the last one by seq range
 * (`store.readStream`), so its cost is the new records, not the stream's
 * length — no bundle export, whose verifiable start reads every checksum
 * before the range and blocked the server for about a second per poll on a
 * 300,000-record stream. Polls are driven by hand here; the client is a
 * real HTTP response on 127.0.0.1:0.
 */
import { createServer, request, type Server } from 'node:http';
import { createRecordId } from '@otel-audit/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveHub } from '../../src/internal/live-hub.js';
import { appendEvents, fixturesPerTest, STREAM, until } from '../helpers.js';

const fixture = fixturesPerTest();
const servers: Server[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A server on 127.0.0.1:0 whose one route registers its response with `hub`, and a client reading it. */
async function connect(hub: LiveHub): Promise<{ events: () => { event: string; data: { record: { seq: number; action: string }; checksum: string; timestamp?: string } }[]; close: () => void }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8' });
    res.write(': connected\n\n');
    hub.add({ res, principal: 'test', withhold: false, sent: 0 });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  let raw = '';
  const req = request({ host: '127.0.0.1', port: (server.address() as { port: number }).port, path: '/' }, (res) => res.on('data', (c: Buffer) => { raw += c.toString('utf8'); }));
  req.on('error', () => undefined);
  req.end();
  await until(() => hub.clients.size === 1, 5_000, 'the client connected');
  return {
    events: () => raw.split('\n\n').flatMap((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      return event === undefined || data === undefined ? [] : [{ event, data: JSON.parse(data) }];
    }),
    close: () => req.destroy(),
  };
}

describe('LiveHub.pollOnce', () => {
  it('sends the records new on a 50,000-record stream, in order and once each, without a bundle export or its walk of the stream', async () => {
    const fx = await fixture(2);
    const base = Date.now() - 3_600_000;
    appendEvents(fx.store, fx.chain, Array.from({ length: 50_000 }, (_, i) => ({ id: createRecordId(), time: new Date(base + i), type: 'api', action: 'call' })), false);
    const known = fx.chain.size;
    const hub = new LiveHub(fx.store, { pollIntervalMillis: 3_600_000, heartbeatIntervalMillis: 3_600_000, maxRecordsPerPoll: 2 });
    const client = await connect(hub);
    try {
      appendEvents(fx.store, fx.chain, [
        { id: createRecordId(), time: new Date(), type: 'crud', action: 'new-1' },
        { id: createRecordId(), time: new Date(), type: 'alert', action: 'failed_logins', severity: 'critical' },
        { id: createRecordId(), time: new Date(), type: 'crud', action: 'new-3' },
      ], false);
      // A bundle export's start is built on its own read connection: neither may be used by a poll.
      const exports = vi.spyOn(fx.store, 'export');
      const readers = vi.spyOn(fx.store, 'openReader');
      for (let i = 0; i < 3; i++) await hub.pollOnce();
      expect(exports).not.toHaveBeenCalled();
      expect(readers).not.toHaveBeenCalled();
      await until(() => client.events().length >= 3, 5_000, 'three events arrived');
      const events = client.events();
      expect(events.map((e) => [e.event, e.data.record.seq, e.data.record.action])).toEqual([
        ['record', known, 'new-1'], ['alert', known + 1, 'failed_logins'], ['record', known + 2, 'new-3'],
      ]);
      expect(events[0]!.data.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(events[0]!.data.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    } finally {
      client.close();
      hub.close();
    }
  });
});
