/**
 * Where the pipeline's errors go when @otel-audit/node owns the process's
 * OpenTelemetry setup (the register hook, or `startAudit` registering
 * globally): OpenTelemetry's global error handler passes errors — a sink
 * failing, records not committed at shutdown, a notifier failing — only to
 * the diag logger, which prints nothing unless one is set up, so an outage
 * would go unseen. This handler prints each on stderr instead, secrets
 * masked, and the same message at most once a minute (with how often it
 * came meanwhile). The minute is monotonic (`now`, `performance.now()` by
 * default): a wall-clock step back must not silence an error for its
 * length, nor one forward let a flood through.
 */
import type { ErrorHandler } from '@opentelemetry/core';
import { redactSecrets } from '@otel-audit/core';

const QUIET_MILLIS = 60_000;
const MAX_REMEMBERED = 1_000;

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}

/**
 * An OpenTelemetry error handler printing one line per error through `print`.
 *
 * @example
 * setGlobalErrorHandler(errorPrinter((line) => process.stderr.write(`${line}\n`)));
 */
export function errorPrinter(print: (line: string) => void, now: () => number = () => performance.now()): ErrorHandler {
  const seen = new Map<string, { at: number; repeats: number }>();
  return (e) => {
    const message = redactSecrets(messageOf(e));
    const ours = message.startsWith('otel-audit') || /^AUDIT_/.test(String((e as { code?: unknown } | null)?.code ?? ''));
    const line = message.startsWith('otel-audit') ? message : ours ? `otel-audit: ${message}` : `otel-audit: OpenTelemetry error: ${message}`;
    const t = now();
    const last = seen.get(line);
    if (last !== undefined && t - last.at < QUIET_MILLIS) {
      last.repeats++;
      return;
    }
    if (seen.size >= MAX_REMEMBERED) seen.clear();
    seen.set(line, { at: t, repeats: 0 });
    try {
      print(last !== undefined && last.repeats > 0 ? `${line} (also ${last.repeats} more time${last.repeats === 1 ? '' : 's'} in the minute before)` : line);
    } catch {
      // An error handler must not throw.
    }
  };
}
