/**
 * processor-memory: peak RSS growth while the sink stalls for 10 s under an
 * offered load of 20,000 records/s (~800-byte records), queue bound 10,000.
 * ours: AuditLogRecordProcessor with `block`, producers honouring
 * whenAuditCapacity() and firing without waiting otherwise; also reported:
 * the same with `spill` (producers never wait, overflow goes to a temp
 * file and is replayed after the stall); baseline: the
 * stock BatchLogRecordProcessor (maxQueueSize 10,000) in front of an exporter
 * stalled just as long (it drops silently past its bound). Each side runs in
 * its own process so RSS does not carry over. unit MB; ratio = ours /
 * baseline (lower is better); both must stay bounded by the queue, not by the
 * 200,000 records offered.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ExportResultCode } from '@opentelemetry/core';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { whenAuditCapacity, type AuditBatch, type AuditSink } from '@otel-audit/core';
import { AuditLogRecordProcessor } from '../src/index.js';
import { realisticEvent } from '../../core/bench/fixtures.js';

const STALL_MS = Number(process.env.BENCH_STALL_MS ?? 10_000);
const RATE = 20_000;
const TICK_MS = 10;
const QUEUE = 10_000;

type Mode = 'ours' | 'spill' | 'baseline';

async function child(mode: Mode): Promise<void> {
  let stalled = true;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let committed = 0;
  let emit: (i: number) => void;
  let finish: () => Promise<void>;
  if (mode === 'ours' || mode === 'spill') {
    const sink: AuditSink = { name: 'stalled', async append(b: AuditBatch) { if (stalled) await gate; committed += b.records.length; }, async head() { return undefined; } };
    const processor = new AuditLogRecordProcessor({ sinks: [sink], stream: 'mem/1', maxQueueSize: QUEUE, overflow: mode === 'ours' ? 'block' : 'spill', shutdownTimeoutMillis: 120_000 });
    const provider = new LoggerProvider({ processors: [processor] });
    await processor.ready();
    const logger = provider.getLogger('otel-audit');
    emit = (i) => logger.emit({ body: realisticEvent(i) as never });
    finish = () => provider.shutdown();
  } else {
    const exporter: LogRecordExporter = {
      export: (logs, cb) => void (stalled ? gate : Promise.resolve()).then(() => { committed += logs.length; cb({ code: ExportResultCode.SUCCESS }); }),
      shutdown: async () => {},
      forceFlush: async () => {},
    };
    const provider = new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter, maxQueueSize: QUEUE, maxExportBatchSize: 100, scheduledDelayMillis: 100 })] });
    const logger = provider.getLogger('otel-audit');
    emit = (i) => logger.emit({ body: realisticEvent(i) as never });
    finish = () => provider.shutdown();
  }
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const perTick = (RATE * TICK_MS) / 1000;
  let i = 0;
  let waited = 0;
  const start = Date.now();
  while (Date.now() - start < STALL_MS) {
    const wait = mode === 'ours' ? whenAuditCapacity() : undefined;
    if (wait) {
      waited++;
      await Promise.race([wait, new Promise((r) => setTimeout(r, TICK_MS))]);
      continue;
    }
    for (let k = 0; k < perTick; k++) emit(i++);
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  global.gc?.();
  // Live heap at the end of the stall: what the queue really holds, garbage excluded.
  const liveMB = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
  stalled = false;
  release();
  await finish();
  clearInterval(sampler);
  process.send!({ mode, peakGrowthMB: (peak - rss0) / 2 ** 20, liveMB, offered: i, committed, waited });
}

function run(mode: Mode): Promise<{ peakGrowthMB: number; liveMB: number; offered: number; committed: number; waited: number }> {
  return new Promise((resolve, reject) => {
    const p = fork(fileURLToPath(import.meta.url), [mode], { execArgv: [...process.execArgv, '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    p.on('message', (m) => resolve(m as never));
    p.on('exit', (code) => (code === 0 ? undefined : reject(new Error(`${mode} exited with ${code}`))));
  });
}

const arg = process.argv[2];
if (arg === 'ours' || arg === 'spill' || arg === 'baseline') {
  await child(arg);
} else {
  const o = await run('ours');
  const sp = await run('spill');
  const b = await run('baseline');
  console.log(`processor-memory: ${STALL_MS / 1000} s sink stall at ${RATE} records/s offered, queue ${QUEUE}: ours (block) peak RSS +${o.peakGrowthMB.toFixed(1)} MB, live heap +${o.liveMB.toFixed(1)} MB (${o.offered} offered, ${o.committed} committed, ${o.waited} capacity waits), ours (spill) +${sp.peakGrowthMB.toFixed(1)} MB, live +${sp.liveMB.toFixed(1)} MB (${sp.offered} offered, ${sp.committed} committed), baseline (BatchLogRecordProcessor) +${b.peakGrowthMB.toFixed(1)} MB, live +${b.liveMB.toFixed(1)} MB (${b.offered} offered, ${b.committed} exported)`);
  console.log(JSON.stringify({ name: 'processor-memory', unit: 'MB', ours: Number(o.peakGrowthMB.toFixed(1)), baseline: Number(b.peakGrowthMB.toFixed(1)), ratio: Number((o.peakGrowthMB / b.peakGrowthMB).toFixed(3)), stallMillis: STALL_MS, offeredPerSecond: RATE, maxQueueSize: QUEUE, oursOffered: o.offered, oursCommitted: o.committed, oursLiveMB: Number(o.liveMB.toFixed(1)), spill: Number(sp.peakGrowthMB.toFixed(1)), spillLiveMB: Number(sp.liveMB.toFixed(1)), baselineLiveMB: Number(b.liveMB.toFixed(1)), spillOffered: sp.offered, spillCommitted: sp.committed, baselineOffered: b.offered, baselineExported: b.committed }));
}
