/**
 * Help text of the `otel-audit` command and of each verb, rendered from the
 * declared options and positionals (DESIGN §7), so help never drifts from
 * what the parser accepts.
 */
import type { Command, OptionSpec } from '../command.js';

function optionLabel(spec: OptionSpec): string {
  const alias = spec.alias !== undefined ? `-${spec.alias}, ` : '    ';
  const value = spec.type === 'boolean' ? '' : ` ${spec.valueName ?? (spec.type === 'number' ? 'N' : 'VALUE')}`;
  return `${alias}--${spec.name}${value}`;
}

function optionText(spec: OptionSpec): string {
  const notes: string[] = [];
  if (spec.required === true) notes.push('required');
  // Said once, even when the description says it already.
  if (spec.type === 'string[]' && !/\brepeatable\b/.test(spec.description)) notes.push('repeatable');
  if (spec.choices !== undefined) notes.push(spec.choices.join('|'));
  if (spec.default !== undefined && spec.type !== 'boolean') notes.push(`default ${String(spec.default)}`);
  return notes.length > 0 ? `${spec.description} (${notes.join('; ')})` : spec.description;
}

/** A help row: the label in a 26-column gutter, on its own line when it does not fit. */
function row(label: string, text: string): string {
  return label.length < 25 ? `  ${label.padEnd(26)}${text}` : `  ${label}\n  ${''.padEnd(26)}${text}`;
}

/**
 * Help of one verb.
 *
 * @example
 * stdout.write(commandHelp(verifyCommand));
 */
export function commandHelp(command: Command): string {
  const positionals = (command.positionals ?? []).map((p) => (p.required === true ? p.name.toUpperCase() : `[${p.name.toUpperCase()}]`));
  const lines = [`Usage: otel-audit ${command.name}${positionals.length > 0 ? ` ${positionals.join(' ')}` : ''} [options]`, '', command.summary, ''];
  if ((command.positionals ?? []).length > 0) {
    lines.push('Arguments:');
    for (const p of command.positionals ?? []) lines.push(row(p.name.toUpperCase(), p.description));
    lines.push('');
  }
  lines.push('Options:');
  for (const spec of command.options) lines.push(row(optionLabel(spec), optionText(spec)));
  lines.push(row('-h, --help', 'show this help'));
  if (command.details !== undefined) lines.push('', command.details.trimEnd());
  return `${lines.join('\n')}\n`;
}

/**
 * Help of the whole tool: every verb with its summary.
 *
 * @example
 * stdout.write(toolHelp(commands));
 */
export function toolHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length), 8) + 2;
  const lines = [
    'Usage: otel-audit <command> [options]',
    '',
    'Tamper-evident audit logs on OpenTelemetry: verify, query and operate an audit store.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Run `otel-audit <command> --help` for a command\'s options; `otel-audit --version` for the version.',
    'Exit codes: 0 ok/intact, 1 problems found, 2 could not run.',
  ];
  return `${lines.join('\n')}\n`;
}
