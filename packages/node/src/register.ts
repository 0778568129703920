/**
 * `node --import @otel-audit/node/register app.js` (DESIGN §1.1, §3): before
 * the application loads, registers the import-in-the-middle ESM loader hook
 * (so `import http from 'node:http'` in an ESM app is patched; CommonJS
 * `require` is patched by require-in-the-middle), reads `OTEL_AUDIT_CONFIG`
 * or ./otel-config.yaml, and starts the whole pipeline (top-level await). A
 * configuration error prints every problem to stderr and exits with code 1
 * before the app starts. On SIGTERM/SIGINT, when the app has no listener of
 * its own for the signal, the pipeline flushes and writes the final
 * checkpoint, then the process ends by that signal; the same signal again
 * during the flush ends it at once. When the app listens for the signal, the
 * app owns shutdown: the pipeline keeps recording until the event loop
 * drains (`beforeExit`) or the app calls `shutdownAudit()`. Listeners of the
 * `signal-exit` library do not count as the app's. In a `node:cluster`
 * primary the hook first disconnects the workers and waits for them to stop
 * (their shutdown timeout plus 5 s), so that ending the primary does not cut
 * their own shutdown short (internal/cluster-primary.ts).
 *
 * In a `worker_threads` Worker (which runs `--import` again) it starts
 * nothing: a second pipeline there would share the main thread's stream and
 * SQLite file, and the two would refuse each other's records. It says so
 * once per process on stderr, and the worker's `audit` calls reject with
 * `AUDIT_NO_PIPELINE`: records are logged from the main thread. A Worker
 * started with `eval: true` does not run `--import`; there the `audit`
 * object says the same on first use (internal/worker-notice.ts).
 */
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { createRefusingAuditLogger, setCurrentAudit } from './audit.js';
import { ConfigError } from './errors.js';
import { stopClusterWorkers } from './internal/cluster-primary.js';
import { markRegisterHook, sayWorkerNotice, workerRefusal } from './internal/worker-notice.js';
import { startAudit, type AuditHandle } from './start-audit.js';

let handle: AuditHandle;
if (!isMainThread) {
  sayWorkerNotice();
  setCurrentAudit(createRefusingAuditLogger(workerRefusal));
} else {
  markRegisterHook();
  // Only node:http/https go through the loader hook: the audit needs nothing else, and every other module loads untouched.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['http', 'https'] } });
  try {
    handle = await startAudit();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
    } else {
      process.stderr.write(`otel-audit: the audit pipeline could not start: ${e instanceof Error ? e.message : String(e)}\n`);
    }
    process.exit(1);
  }
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
type HandledSignal = (typeof SIGNALS)[number];

/** How much longer than a worker's own shutdown timeout a cluster primary waits for it: the app's requests in flight finish first. */
const WORKER_STOP_MARGIN_MILLIS = 5_000;

/**
 * How many listeners per signal the `signal-exit` library has installed
 * (v4 counts its loaded copies in a global emitter, v3 on
 * `process.__signal_exit_emitter__`). Those listeners end the process only
 * once they are the only listeners left, so they are not the app handling
 * the signal — counting them as such would leave both sides waiting.
 */
function signalExitListeners(): number {
  const count = (emitter: unknown): number => (typeof (emitter as { count?: unknown } | undefined)?.count === 'number' ? (emitter as { count: number }).count : 0);
  return count((globalThis as Record<symbol, unknown>)[Symbol.for('signal-exit emitter')]) + count((process as { __signal_exit_emitter__?: unknown }).__signal_exit_emitter__);
}

/** True when the app listens for `signal` itself (read when it arrives: the app registers after us). */
function appHandles(signal: HandledSignal): boolean {
  return process.listeners(signal).filter((l) => l !== onSignal).length > signalExitListeners();
}

/** The signal whose flush is running, if any. */
let stoppingOn: HandledSignal | undefined;

function onSignal(signal: HandledSignal): void {
  if (stoppingOn !== undefined) {
    // The same signal again while we flush: whoever sent it will not wait; end now.
    if (signal === stoppingOn) endBy(signal);
    return;
  }
  if (appHandles(signal)) {
    // The app owns shutdown: it may keep serving (and auditing) for a while. The pipeline
    // stops at beforeExit or at the app's shutdownAudit(), within the shutdown timeout.
    // No forceFlush here: a pending one keeps the process alive until the sink commits,
    // so with the sink down beforeExit would never come and the process never end.
    return;
  }
  stoppingOn = signal;
  // A cluster primary waits for its workers' own shutdown (internal/cluster-primary.ts) first.
  void stopClusterWorkers(signal, handle.shutdownTimeoutMillis + WORKER_STOP_MARGIN_MILLIS)
    .catch(() => undefined)
    .then(() => handle.shutdown())
    .finally(() => endBy(signal));
}

/** End the process by `signal`: with our listeners gone, the default action (or a signal-exit style listener, now alone) does it. */
function endBy(signal: HandledSignal): void {
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.kill(process.pid, signal);
}

/**
 * Said when the process exits without the pipeline having been asked to
 * stop — `process.exit()` in a signal handler of the app's or of another
 * SDK's (auto-instrumentations' SIGTERM handler counts as the app's), or at
 * the end of a script: what was not committed is lost and the stream ends
 * without its final signed checkpoint. Nothing can be flushed in `exit`.
 */
function onExit(): void {
  if (!handle.stopRequested) {
    process.stderr.write('otel-audit: warning: the process exited without stopping the audit pipeline: records not yet committed are lost, '
      + 'and the stream ends without its final signed checkpoint (verify: unsigned_tail); '
      + 'fix: await shutdownAudit() from @otel-audit/node before process.exit() in your signal handler (docs/operations.md §7)\n');
  }
}

if (isMainThread && handle!.enabled) {
  for (const s of SIGNALS) process.on(s, onSignal);
  process.once('beforeExit', () => void handle.shutdown());
  process.once('exit', onExit);
}
