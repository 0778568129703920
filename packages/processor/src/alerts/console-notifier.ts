/**
 * The console / diag notifier (DESIGN §9): one line per alert on stderr,
 * stdout, or the OpenTelemetry diag logger (critical → `diag.error`,
 * warning → `diag.warn`). Alerts hold record ids and group values, which
 * were redacted before sealing — never a secret of the pipeline.
 */
import { diag } from '@opentelemetry/api';
import { escapeTerminalText } from '@otel-audit/core';
import type { AlertEvent } from './alert-event.js';
import type { AlertNotifier } from './alert-notifier.js';

/** Options of {@link ConsoleNotifier}. */
export interface ConsoleNotifierOptions {
  /** Default `stderr`. */
  output?: 'stderr' | 'stdout' | 'diag';
  /** `text` (default) for people, `json` for one JSON object per line. */
  format?: 'text' | 'json';
}

/**
 * The one-line text form of an alert. Values are JSON, with characters a
 * terminal would act on escaped ({@link escapeTerminalText}): an account
 * name an attacker chose cannot reorder the line with a bidi override or
 * start a new one with U+2028, nor can a rule's description move the cursor.
 *
 * @example
 * formatAlertLine(alert) // 'otel-audit alert [warning] failed_logins: 5 or more failed logins … (count >= 5, count=5 in 5m) group={"actor.id":"alice"} id=019…'
 */
export function formatAlertLine(alert: AlertEvent): string {
  const group = Object.keys(alert.group).length === 0 ? '' : ` group=${JSON.stringify(alert.group)}`;
  return escapeTerminalText(`otel-audit alert [${alert.severity}] ${alert.rule}: ${alert.description} (${alert.condition}, count=${alert.count} in ${alert.window})${group} id=${alert.id}`);
}

/**
 * Writes alerts as lines.
 *
 * @example
 * new ConsoleNotifier({ output: 'diag' }) // diag.error('otel-audit alert [critical] brute_force_success: …')
 */
export class ConsoleNotifier implements AlertNotifier {
  readonly name = 'console';
  readonly #write: (alert: AlertEvent, line: string) => void;
  readonly #format: 'text' | 'json';

  constructor(options: ConsoleNotifierOptions = {}) {
    const output = options.output ?? 'stderr';
    const format = options.format ?? 'text';
    if (output !== 'stderr' && output !== 'stdout' && output !== 'diag') throw new RangeError(`options.output must be stderr, stdout or diag, got ${String(output)}`);
    if (format !== 'text' && format !== 'json') throw new RangeError(`options.format must be text or json, got ${String(format)}`);
    this.#format = format;
    this.#write =
      output === 'diag'
        ? (alert, line) => (alert.severity === 'critical' ? diag.error(line) : diag.warn(line))
        : (_alert, line) => void (output === 'stdout' ? process.stdout : process.stderr).write(`${line}\n`);
  }

  async notify(alert: AlertEvent): Promise<void> {
    this.#write(alert, this.#format === 'json' ? escapeTerminalText(JSON.stringify(alert)) : formatAlertLine(alert));
  }
}
