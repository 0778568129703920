/**
 * `otel-audit checkpoints` (DESIGN §4.3, §4.4): prints the newest signed
 * checkpoint of each stream (or every one, `--all`) of a store, an export
 * bundle or OTLP JSON lines, as the signed notes they are — to be kept
 * where whoever can write the store cannot reach them. `verify
 * --checkpoints FILE` later checks the store against them, so a tail
 * deleted together with its checkpoints is `truncated` instead of passing.
 */
import { EXIT_OK, EXIT_PROBLEMS, JSON_OPTION, type Command } from '../command.js';
import { CliError } from '../errors.js';
import { newestPerStream, readCheckpoints, type NoteCheckpoint } from '../internal/kept-checkpoints.js';
import { escapeControl, toJson } from '../internal/table.js';
import { checkpointOfNote, formatKeyTime } from '@otel-audit/core';

/**
 * The `checkpoints` verb.
 *
 * @example
 * await main(['checkpoints', 'audit.db']); // prints the newest signed note of each stream
 */
export const checkpointsCommand: Command = {
  name: 'checkpoints',
  summary: 'print the newest signed checkpoint of each stream, to keep apart for verify --checkpoints',
  details: [
    'Whoever can write the store can delete its newest records together with the checkpoints',
    'covering them, and what is left still verifies. A checkpoint kept elsewhere (another host,',
    'the auditors\' mailbox, a ticket) shows that cut later:',
    '',
    '  otel-audit checkpoints audit.db > kept/audit-checkpoints-2026-11-29.txt',
    '  otel-audit verify audit.db --key audit.vkey --checkpoints kept/audit-checkpoints-2026-11-29.txt',
    '',
    'INPUT is a store, an export bundle or OTLP JSON lines. The output is the signed notes,',
    'a blank line between them, after a `#` line saying where and when they were read;',
    '--json gives stream, size, time (and RFC 3339) and note of each.',
    'Exit 1 when the input holds no checkpoint (of the streams asked).',
  ].join('\n'),
  positionals: [{ name: 'input', description: 'DB, BUNDLE or FILE.jsonl', required: true }],
  options: [
    { name: 'stream', type: 'string[]', valueName: 'STREAM', description: 'only this stream' },
    { name: 'all', type: 'boolean', description: 'every checkpoint, not only the newest of each stream' },
    JSON_OPTION,
  ],
  async run(ctx) {
    const { file, notes } = await readCheckpoints(ctx, ctx.positionals[0] as string);
    const streams = ctx.options['stream'] as readonly string[] | undefined;
    const read = ctx.options['all'] === true
      ? notes.flatMap((note): NoteCheckpoint[] => {
        const checkpoint = checkpointOfNote(note);
        return checkpoint === undefined ? [] : [{ note, checkpoint }];
      })
      : newestPerStream(notes);
    const chosen = streams === undefined || streams.length === 0 ? read : read.filter((n) => streams.includes(n.checkpoint.origin));
    if (streams !== undefined) {
      const missing = streams.filter((s) => !chosen.some((n) => n.checkpoint.origin === s));
      if (missing.length > 0) {
        const held = [...new Set(read.map((n) => n.checkpoint.origin))];
        throw new CliError('AUDIT_CLI_USAGE', `${file} holds no checkpoint of stream ${missing.map((s) => JSON.stringify(escapeControl(s))).join(', ')}`
          + (held.length === 0 ? '' : `; it holds checkpoints of ${held.slice(0, 20).map((s) => JSON.stringify(escapeControl(s))).join(', ')}${held.length > 20 ? `, and ${held.length - 20} more` : ''}`),
          'pass --stream with one of the streams listed, or leave it out');
      }
    }
    if (ctx.json) {
      ctx.stdout.write(toJson(chosen.map(({ note, checkpoint: c }) => ({ stream: c.origin, size: c.size, time: c.timeUnixNano.toString(), timeIso: formatKeyTime(c.timeUnixNano), note }))));
    } else if (chosen.length === 0) {
      ctx.stderr.write(`${file} holds no checkpoint: nothing to keep. If its streams were signed, their checkpoints are gone (deleted?): run \`otel-audit verify\` on it\n`);
    } else {
      ctx.stdout.write(`# otel-audit checkpoints of ${escapeControl(file)}, read ${new Date().toISOString()}: keep apart; check with otel-audit verify DB --key VKEY --checkpoints THIS_FILE\n`);
      ctx.stdout.write(chosen.map((n) => n.note).join('\n'));
    }
    return chosen.length > 0 ? EXIT_OK : EXIT_PROBLEMS;
  },
};
