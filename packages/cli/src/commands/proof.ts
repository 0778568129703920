/**
 * `otel-audit proof` (DESIGN §4.2, §4.3): prints the inclusion proof of one
 * stored record against the newest checkpoint covering it, as a JSON
 * document that `otel-audit verify-proof` (or any RFC 9162 verifier with
 * the verifier key) checks offline.
 */
import * as fs from 'node:fs';
import { DB_OPTION, type Command } from '../command.js';
import { CliError } from '../errors.js';
import { buildProof } from '../internal/inclusion-proof.js';
import { resolvePath, withStore } from '../internal/inputs.js';
import { escapeControl, toJson } from '../internal/table.js';

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
      const text = toJson(await buildProof(store, stream, seq));
      const out = ctx.options['out'];
      if (typeof out === 'string') {
        const file = resolvePath(ctx, out);
        try {
          fs.writeFileSync(file, text, { flag: 'wx' });
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
