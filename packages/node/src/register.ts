/**
 * `node --import @otel-audit/node/register app.js` (DESIGN §1.1, §3): before
 * the application loads, registers the import-in-the-middle ESM loader hook
 * (so `import http from 'node:http'` in an ESM app is patched; CommonJS
 * `require` is patched by require-in-the-middle), reads `OTEL_AUDIT_CONFIG`
 * or ./otel-config.yaml, and starts the whole pipeline (top-level await). A
 * configuration error prints every problem to stderr and exits with code 1
 * before the app starts. SIGTERM/SIGINT flush and write the final
 * checkpoint; then, unless the app handles the signal itself, the process
 * ends by that signal. A natural exit flushes too.
 */
import { register } from 'node:module';
import { ConfigError } from './errors.js';
import { startAudit, type AuditHandle } from './start-audit.js';

// Only node:http/https go through the loader hook: the audit needs nothing else, and every other module loads untouched.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['http', 'https'] } });

let handle: AuditHandle;
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

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

function onSignal(signal: (typeof SIGNALS)[number]): void {
  // The app's own handler (registered after ours) decides how the process ends; we only flush.
  const appHandles = process.listenerCount(signal) > 1;
  void handle.shutdown().finally(() => {
    if (appHandles) return;
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.kill(process.pid, signal);
  });
}

if (handle.enabled) {
  for (const s of SIGNALS) process.on(s, onSignal);
  process.once('beforeExit', () => void handle.shutdown());
}
