/**
 * otel-config.yaml as `otel-audit status` reads it: as the service does,
 * without its key files and secrets (`secrets: false`), and without the
 * `${env:VAR}` references status has no use for. loadConfig has no option to
 * leave an unset variable unresolved, so such a variable (a header token of
 * exporters.otlphttp, say) is given a placeholder — its own reference text,
 * never a value — when it is referenced only at keys status does not read:
 * the outbox path, the pipelines and `enabled` are read, so a variable there
 * must still be set, as must AUDIT_* and OTEL_* (they override the config).
 * loadConfig names such a variable in the problem's `unsetVariable`.
 */
import { ConfigError, loadConfig, type AuditConfig, type ConfigProblem } from '@otel-audit/node';
import type { CommandContext } from '../command.js';
import { readConfigFile } from './serve-config.js';

/** The keys status reads (an outbox of an exporters.otlphttp[/name], the pipelines using it). */
const READ_BY_STATUS = /^(?:enabled$|service(?:\.|$)|exporters\.otlphttp(?:\/[^.]*)?\.outbox(?:\.|$))/;

/**
 * The config, and a note per unset variable status went on without.
 * Throws {@link CliError} (exit 2) listing every problem, as
 * {@link readConfigFile}, when the config does not load even so.
 *
 * @example
 * const { config, notes } = readStatusConfig(ctx, 'otel-config.yaml');
 */
export function readStatusConfig(ctx: Pick<CommandContext, 'cwd' | 'env'>, file: string): { config: AuditConfig; notes: string[] } {
  let unset: ConfigProblem[];
  try {
    return { config: loadConfig({ path: file, env: ctx.env, cwd: ctx.cwd, secrets: false }), notes: [] };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    unset = e.problems.filter((p) => p.unsetVariable !== undefined);
  }
  const names = [...new Set(unset.map((p) => p.unsetVariable!))];
  const skippable = unset.length > 0 && unset.every((p) => !READ_BY_STATUS.test(p.path)) && names.every((n) => !/^(?:AUDIT|OTEL)_/.test(n));
  if (skippable) {
    const env = { ...ctx.env, ...Object.fromEntries(names.map((n) => [n, `\${env:${n}}`])) };
    try {
      const config = loadConfig({ path: file, env, cwd: ctx.cwd, secrets: false });
      const notes = unset.map((p) => `note: environment variable ${p.unsetVariable!} (${p.path}${p.line !== undefined ? `, line ${p.line}` : ''}) is not set; `
        + 'status sends nothing, so it does not need it (the service does)');
      return { config, notes };
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
    }
  }
  return { config: readConfigFile(ctx, file, { secrets: false }), notes: [] }; // throws the problems as they are
}
