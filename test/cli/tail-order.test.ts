/**
 * `otel-audit tail -f` follows the store in the order it stored the records,
 * not by their times (clock review M1): after a clock stepped back an hour,
 * after one record dated a day ahead, and with two writers of two streams
 * committing while it polls, every record committed after it started
 * appears once, in the order stored — also from a file put at its path.
 */
import * as fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { AuditChain } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { chainStore, event, seal, startBin, until, type RunningBin } from './helpers.js';

const HOUR_MILLIS = 3_600_000;
const DAY_MILLIS = 24 * HOUR_MILLIS;
const nanosAt = (offsetMillis: number): bigint => BigInt(Date.now() + offsetMillis) * 1_000_000n;
const shown = (run: RunningBin): string[] => run.stdout().split('\n').filter(Boolean).map((l) => {
  const { record } = JSON.parse(l) as { record: { stream: string; seq: number } };
  return `${record.stream}#${record.seq}`;
});

describe('otel-audit tail -f (the built bin): the order stored, whatever the times', () => {
  it('prints records dated an hour back, a day ahead and after that, of two streams from two writers, once each in the order stored', async () => {
    const { db } = chainStore(3, { make: (i) => event(i, nanosAt(-3_000 + i * 100)) });
    const tail = startBin(['tail', '--db', db, '-f', '--interval', '25', '--ndjson']);
    await until(() => shown(tail).length >= 3 || tail.stderr() !== '', 'the first 3 records');
    expect(shown(tail)).toEqual(['svc/1#0', 'svc/1#1', 'svc/1#2']);
    const expected = [...shown(tail)];
    const first = new SqliteAuditStore(db);
    const second = new SqliteAuditStore(db);
    try {
      const one = new AuditChain({ stream: 'svc/1', head: await first.head('svc/1') });
      const two = new AuditChain({ stream: 'svc/2' });
      /** `store` commits `n` records to `chain` dated `offsetMillis` from now; they are expected in that order. */
      const commit = (store: SqliteAuditStore, chain: AuditChain, n: number, offsetMillis: number): void => {
        const from = chain.size;
        store.appendSync(seal(chain, n, 1_000, (i) => event(i, nanosAt(offsetMillis))));
        for (let seq = from; seq < chain.size; seq++) expected.push(`${chain.stream}#${seq}`);
      };
      // The wall clock stepped back an hour.
      commit(first, one, 2, -HOUR_MILLIS);
      await until(() => shown(tail).length >= expected.length, 'the records dated an hour back');
      // One record dated a day ahead, then records of both streams dated before it.
      commit(second, two, 1, DAY_MILLIS);
      await until(() => shown(tail).length >= expected.length, 'the record dated a day ahead');
      commit(first, one, 2, 0);
      commit(second, two, 2, -HOUR_MILLIS);
      await until(() => shown(tail).length >= expected.length, 'the records after the one dated a day ahead');
      // Both writers commit while tail polls, dated back and forth.
      for (let k = 0; k < 20; k++) {
        commit(k % 2 === 0 ? first : second, k % 2 === 0 ? one : two, 1 + (k % 3), k % 4 === 0 ? -HOUR_MILLIS : k % 4 === 1 ? DAY_MILLIS : 0);
        await sleep(k % 5);
      }
      await until(() => shown(tail).length >= expected.length, 'the records committed while it polled');
      await sleep(300); // a dozen polls more: a repeat would show
    } finally {
      first.close();
      second.close();
    }
    const stopped = await tail.stop();
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(shown(tail)).toEqual(expected);
  });

  it('in a file put at its path that continues it, prints the records stored after the last one shown, dated an hour back, once each', async () => {
    const { db } = chainStore(5, { make: (i) => event(i, nanosAt(-5_000 + i * 100)) });
    const tail = startBin(['tail', '--db', db, '-f', '--interval', '25', '--ndjson']);
    await until(() => shown(tail).length >= 5 || tail.stderr() !== '', 'the first 5 records');
    // The copy goes on after a clock stepped back an hour, then is moved into place (a rotation).
    const next = `${db}.next`;
    fs.copyFileSync(db, next);
    const writer = new SqliteAuditStore(next);
    try {
      const chain = new AuditChain({ stream: 'svc/1', head: await writer.head('svc/1') });
      writer.appendSync(seal(chain, 3, 1_000, (i) => event(i, nanosAt(-HOUR_MILLIS))));
    } finally {
      writer.close();
    }
    fs.renameSync(next, db);
    await until(() => shown(tail).length >= 8, 'the 3 records of the file put in place');
    await sleep(300);
    const stopped = await tail.stop();
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(shown(tail)).toEqual(Array.from({ length: 8 }, (_, i) => `svc/1#${i}`));
    expect(stopped.stderr).toBe(`otel-audit tail: ${db} was replaced by another file; following the new one, which continues the records shown\n`);
  });
});
