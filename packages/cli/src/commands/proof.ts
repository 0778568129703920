/**
 * `otel-audit proof` (DESIGN §4.2, §4.3): prints the inclusion proof of one
 * stored record against the newest checkpoint covering it, as a JSON
 * document that `otel-audit verify-proof` (or any RFC 9162 verifier with
 * the verifier key) checks offline.
 */
import type { StoredStream } from '@otel-audit/exporter-sqlite';
import { DB_OPTION, type Command } from '../command.js';
import { CliError } from '../errors.js';
import { buildProof } from '../internal/inclusion-proof.js';
import { resolvePath, withStore } from '../internal/inputs.js';
import { writePrivateFile } from '../internal/private-file.js';
import { escapeControl, toJson } from '../internal/table.js';

/**
 * Refuses (exit 2) a stream the store does not hold, or a seq past its end:
 * that is a wrong --seq or --stream, not a checkpoint still to come.
 */
function assertHolds(streams: readonly StoredStream[], stream: string, seq: number): void {
  const held = streams.find((s) => s.stream === stream);
  const name = JSON.stringify(escapeControl(stream));
  if (held === undefined) {
    const names = streams.slice(0, 5).map((s) => JSON.stringify(escapeControl(s.stream))).join(', ');
    throw new CliError('AUDIT_CLI_USAGE', `the store has no stream ${name}; ${streams.length === 0 ? 'it holds no stream' : `it holds ${names}${streams.length > 5 ? ', ...' : ''}`}`, 'pass --stream with a stream listed (`otel-audit query` shows each record\'s stream)');
  }
  // size is the stream head's (purged records included); 0 when the store keeps no head for it: leave that to buildProof.
  if (held.size > 0 && seq >= held.size) {
    throw new CliError('AUDIT_CLI_USAGE', `stream ${name} has no record seq ${seq}: it holds seq 0..${held.size - 1}`, 'pass a --seq in that range (`otel-audit query` shows each record\'s seq)');
  }
}

/**
 * The `proof` verb.
 *
 * @example
 * await main(['proof', '--db', 'audit.db', '--seq', '42', '--out', 'proof.json']);
 */
export const proofCommand: Command = {
  name: 'proof',
  summary: 'print the inclusion proof of one record against its newest checkpoint (JSON)',
  details: 'Exit 1 when the stored records no longer match the checkpoint (run verify), 2 when\nthere is no such record or no checkpoint covers it yet.',
  options: [
    DB_OPTION,
    { name: 'seq', type: 'number', valueName: 'N', required: true, description: 'seq of the record' },
    { name: 'stream', type: 'string', valueName: 'STREAM', description: 'its stream (needed when the store has several)' },
    { name: 'out', alias: 'o', type: 'string', valueName: 'FILE', description: 'write the proof to FILE instead of stdout' },
    { name: 'json', type: 'boolean', description: 'accepted for symmetry: the proof is always JSON' },
  ],
  async run(ctx) {
    const seq = ctx.options['seq'] as number;
    if (!Number.isSafeInteger(seq) || seq < 0) throw new CliError('AUDIT_CLI_USAGE', `--seq must be a non-negative integer; got ${seq}`, 'pass the seq shown by `otel-audit query`');
    return withStore(ctx, String(ctx.options['db']), async (store) => {
      let stream = ctx.options['stream'] as string | undefined;
      if (stream === undefined) {
        const streams = store.streams().map((s) => s.stream);
        if (streams.length !== 1) {
          throw new CliError('AUDIT_CLI_USAGE', streams.length === 0 ? 'the store holds no stream' : `the store holds ${streams.length} streams: ${streams.slice(0, 5).join(', ')}${streams.length > 5 ? ', ...' : ''}`, 'pass --stream STREAM');
        }
        stream = streams[0] as string;
      }
      assertHolds(store.streams(), stream, seq);
      const text = toJson(await buildProof(store, stream, seq));
      const out = ctx.options['out'];
      if (typeof out === 'string') {
        const file = resolvePath(ctx, out);
        try {
          writePrivateFile(file, text);
        } catch (e) {
          throw new CliError('AUDIT_CLI_EXISTS', `cannot create ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'choose another --out; proof never overwrites a file');
        }
        ctx.stderr.write(`proof of ${escapeControl(stream)} seq ${seq} written to ${escapeControl(file)}\n`);
      } else {
        ctx.stdout.write(text);
      }
      return 0;
    });
  },
};
