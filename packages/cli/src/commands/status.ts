/**
 * `otel-audit status` (DESIGN §5): the state of a service's OTLP outbox —
 * records waiting, age of the oldest, dead letters, the last error and the
 * last success — read from the outbox file beside the running service
 * (the last error quotes the receiver, so its control characters are
 * escaped).
 * `--outbox FILE` names the file; `--config` finds it (every
 * `exporters.otlphttp[/name]` the pipeline uses) the way the service does,
 * without reading the key files and secrets the config names (status uses
 * none; a note says the signer key was not checked), nor the `${env:VAR}`
 * it has no use for (a header token: a note names it). Exit 1 when
 * records were dead-lettered.
 */
import * as path from 'node:path';
import { readOutboxStatus, requeueDeadLetters, type OutboxStatus } from '@otel-audit/exporter-sqlite';
import type { AuditConfig, ChainProcessorConfig, OtlpHttpExporterConfig } from '@otel-audit/node';
import { JSON_OPTION, type Command, type CommandContext } from '../command.js';
import { CliError } from '../errors.js';
import { resolvePath } from '../internal/inputs.js';
import { readStatusConfig } from '../internal/status-config.js';
import { escapeControl } from '../internal/table.js';

/** The default outbox file of `createOtlpSink`, relative to the config's directory. */
const DEFAULT_OUTBOX = 'otel-audit-outbox.db';

/**
 * What the config names as the chain's signer key, which status neither
 * reads nor checks: it signs nothing, and the key file may live only where
 * the service runs.
 */
function uncheckedSignerKey(config: AuditConfig): string | undefined {
  const entry = Object.entries(config.processors ?? {}).find(([key]) => key === 'chain' || key.startsWith('chain/'));
  const chain = entry?.[1] as ChainProcessorConfig | undefined;
  if (chain?.signer_key_file !== undefined) return `processors.${entry![0]}.signer_key_file`;
  if (chain?.signer_key_env !== undefined) return `processors.${entry![0]}.signer_key_env`;
  return undefined;
}

/**
 * The outbox files of the otlphttp exporters the config's pipeline uses (one
 * defined but unused has none), and the signer key setting left unchecked.
 */
function outboxesOf(ctx: CommandContext, file: string): { files: string[]; unchecked: string | undefined; notes: string[] } {
  const { config, notes } = readStatusConfig(ctx, file);
  const base = config.baseDir ?? ctx.cwd;
  const used = new Set(Object.values(config.service?.pipelines ?? {}).flatMap((p) => p?.exporters ?? []));
  const out: string[] = [];
  const unused: string[] = [];
  for (const [key, value] of Object.entries(config.exporters ?? {})) {
    if (key !== 'otlphttp' && !key.startsWith('otlphttp/')) continue;
    if (used.has(key)) out.push(path.resolve(base, (value as OtlpHttpExporterConfig).outbox?.path ?? DEFAULT_OUTBOX));
    else unused.push(key);
  }
  if (out.length === 0 && unused.length > 0) {
    throw new CliError('AUDIT_CLI_USAGE', `${file} defines exporters.${unused.join(', exporters.')} but its pipeline does not use ${unused.length === 1 ? 'it' : 'them'}: nothing is forwarded, so there is no outbox`, `add ${unused[0]} to service.pipelines.audit.exporters, or pass --outbox FILE`);
  }
  if (out.length === 0) throw new CliError('AUDIT_CLI_USAGE', `${file} has no exporters.otlphttp: nothing is forwarded, so there is no outbox`, 'pass --outbox FILE, or configure exporters.otlphttp');
  return { files: out, unchecked: uncheckedSignerKey(config), notes };
}

function age(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function text(s: OutboxStatus): string {
  const lines = [`outbox ${escapeControl(s.path)}`, `  waiting:      ${s.depth} record(s)${s.depth > 0 ? `, oldest ${age(s.oldestAgeMillis)}` : ''}`, `  dead letters: ${s.deadLetters}`];
  if (s.lastError) {
    // An error older than the last success is history: the receiver took records since.
    const past = s.lastSuccessAt !== undefined && s.lastSuccessAt > s.lastError.at ? ' (before the last success: resolved)' : '';
    lines.push(`  last error:   ${escapeControl(s.lastError.at)}${past} ${s.lastError.status !== undefined ? `HTTP ${s.lastError.status} ` : ''}${escapeControl(s.lastError.message)}`);
  }
  lines.push(`  last success: ${s.lastSuccessAt ?? 'never'}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The `status` verb.
 *
 * @example
 * await main(['status', '--outbox', 'outbox.db', '--json']);
 */
export const statusCommand: Command = {
  name: 'status',
  summary: 'show the OTLP outbox: records waiting, oldest age, dead letters, last error',
  details: [
    'Dead letters are records the receiver refused (400, 401, 403, 413, or rejected in a partial',
    'success) or did not accept within outbox.max_age. Once the cause is fixed, --requeue puts them',
    'back in the queue; the service ships them with its next export or at its next start.',
    'Exit codes: 0 nothing dead-lettered, 1 records are in the dead-letter table, 2 could not read.',
  ].join('\n'),
  options: [
    { name: 'outbox', type: 'string', valueName: 'FILE', description: 'the outbox file (exporters.otlphttp.outbox.path)' },
    { name: 'config', alias: 'c', type: 'string', valueName: 'FILE', description: 'otel-config.yaml to find the outbox in' },
    { name: 'requeue', type: 'boolean', description: 'move the dead-lettered records back into the queue first' },
    JSON_OPTION,
  ],
  async run(ctx) {
    const outbox = ctx.options['outbox'] as string | undefined;
    const config = ctx.options['config'] as string | undefined;
    if (outbox === undefined && config === undefined) throw new CliError('AUDIT_CLI_USAGE', 'status needs --outbox FILE or --config FILE', 'otel-audit status --outbox ./otel-audit-outbox.db');
    const { files, unchecked, notes } = outbox !== undefined ? { files: [resolvePath(ctx, outbox)], unchecked: undefined, notes: [] } : outboxesOf(ctx, config!);
    if (ctx.options['requeue'] === true) {
      for (const f of files) {
        let moved: number;
        try {
          moved = requeueDeadLetters(f);
        } catch (e) {
          throw new CliError('AUDIT_CLI_INPUT', (e as Error).message, 'check the path and that this user may write the outbox');
        }
        ctx.stderr.write(`otel-audit status: requeued ${moved} dead-lettered record(s) of ${f}\n`);
      }
    }
    const statuses = files.map((f) => {
      try {
        return readOutboxStatus(f);
      } catch (e) {
        throw new CliError('AUDIT_CLI_INPUT', (e as Error).message, 'check the path (the service creates the outbox when it starts)');
      }
    });
    if (ctx.json) ctx.stdout.write(`${JSON.stringify(outbox !== undefined ? statuses[0] : statuses)}\n`);
    else for (const s of statuses) ctx.stdout.write(text(s));
    if (!ctx.json) for (const note of notes) ctx.stderr.write(`${note}\n`);
    if (unchecked !== undefined && !ctx.json) ctx.stderr.write(`note: ${unchecked} was not checked: status reads no keys (the service checks it when it starts)\n`);
    return statuses.some((s) => s.deadLetters > 0) ? 1 : 0;
  },
};
