/**
 * http-overhead: the same small JSON server three ways in one run — no
 * OpenTelemetry; instrumentation-http with a no-op span processor; the audit
 * instrumentation + AuditSpanProcessor + audit processor writing every
 * request, audited at `metadata`, into a SQLite store (BENCH_SINK=count: a
 * counting sink instead, hashing and chaining without storage). Each server is a child process pinned to CPU 0 (when taskset
 * exists); autocannon runs in another child on CPU 1, 10 connections over
 * loopback. A fourth run, `audit-nolog`, has this package's hooks, sampler and
 * span processor emitting to a LoggerProvider without the audit processor:
 * it splits the overhead between this package and the processor.
 * ratio = audited ÷ plain-instrumentation req/s.
 */
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

interface Load { rps: number; p50: number; p99: number; errors: number; non2xx: number; total: number }

function pinned(cpu: string, args: string[]): [string, string[]] {
  return hasTaskset ? ['taskset', ['-c', cpu, ...args]] : [args[0]!, args.slice(1)];
}

async function run(mode: string): Promise<Load & { records?: number }> {
  const [cmd, args] = pinned('0', [tsx, join(here, 'http-server.ts'), mode]);
  const server = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    server.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    server.on('exit', (code) => reject(new Error(`server ${mode} exited with ${code}`)));
  });
  const load = (secs: number): Load => {
    const [c, a] = pinned('1', [tsx, join(here, 'http-load.ts'), `http://127.0.0.1:${port}/api/items`, String(secs)]);
    const r = spawnSync(c, a, { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`load failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Load;
  };
  load(2); // warm-up
  const result = load(seconds);
  const exited = new Promise<void>((r) => server.on('exit', () => r()));
  server.kill('SIGTERM');
  await exited;
  const rec = /RECORDS (\d+)/.exec(out);
  return { ...result, ...(mode === 'audit' && rec ? { records: Number(rec[1]) } : {}) };
}

const plain = await run('plain');
const otel = await run('otel');
const nolog = await run('audit-nolog');
const audit = await run('audit');
for (const [name, r] of [['no OpenTelemetry', plain], ['instrumentation-http', otel], ['audit w/o processor', nolog], ['audited (metadata)', audit]] as const) {
  console.log(`${name.padEnd(22)} ${Math.round(r.rps).toString().padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  errors ${r.errors} non2xx ${r.non2xx}`);
}
console.log(`audited records committed: ${audit.records ?? 'n/a'} of ${audit.total} requests in the measured run (plus warm-up)`);
console.log(JSON.stringify({
  name: 'http-overhead', unit: 'req/s', ours: Math.round(audit.rps), baseline: Math.round(otel.rps), ratio: Number((audit.rps / otel.rps).toFixed(3)),
  noOtel: Math.round(plain.rps), auditWithoutProcessor: Math.round(nolog.rps), ratioWithoutProcessor: Number((nolog.rps / otel.rps).toFixed(3)), ratioVsNoOtel: Number((audit.rps / plain.rps).toFixed(3)), otelVsNoOtel: Number((otel.rps / plain.rps).toFixed(3)),
  p50: { noOtel: plain.p50, otel: otel.p50, auditWithoutProcessor: nolog.p50, audit: audit.p50 }, p99: { noOtel: plain.p99, otel: otel.p99, auditWithoutProcessor: nolog.p99, audit: audit.p99 },
  p99Ratio: Number((audit.p99 / Math.max(otel.p99, 1)).toFixed(3)), seconds, pinned: hasTaskset, sink: process.env.BENCH_SINK === 'count' ? 'counting (no storage)' : 'sqlite',
}));
