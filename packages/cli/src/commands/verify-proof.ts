/**
 * `otel-audit verify-proof` (DESIGN §4.2, §4.3): checks a proof document
 * from `otel-audit proof` offline — the record's hash, the RFC 9162 audit
 * path to the checkpoint's root (core's `verifyInclusion`) and the
 * checkpoint's signature under the given verifier key. Exit 0 valid, 1 not,
 * 2 could not run.
 */
import { EXIT_OK, EXIT_PROBLEMS, JSON_OPTION, type Command } from '../command.js';
import { CliError } from '../errors.js';
import { verifyProofDocument } from '../internal/inclusion-proof.js';
import { readTextFile } from '../internal/inputs.js';
import { keyringOf } from '../internal/keys.js';
import { escapeControl, toJson } from '../internal/table.js';

/**
 * The `verify-proof` verb.
 *
 * @example
 * await main(['verify-proof', 'proof.json', '--key', 'audit.vkey']); // 0 when the record is in the signed log
 */
export const verifyProofCommand: Command = {
  name: 'verify-proof',
  summary: 'check an inclusion proof offline against the verifier key (exit 0 valid, 1 invalid)',
  details: 'Without --key the signature of the checkpoint cannot be trusted and the proof is\nreported invalid (unknown_key).',
  positionals: [{ name: 'proof', description: 'PROOF.json from `otel-audit proof`', required: true }],
  options: [
    { name: 'key', alias: 'k', type: 'string[]', valueName: 'VKEY', description: 'trusted verifier key: a .vkey file or the key text, optionally followed by its window not_before=TIME not_after=TIME' },
    JSON_OPTION,
  ],
  async run(ctx) {
    const keyring = keyringOf(ctx, ctx.options['key'] as string[] | undefined);
    const text = readTextFile(ctx, ctx.positionals[0] as string, 'proof file');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new CliError('AUDIT_CLI_INPUT', `the proof is not JSON: ${(e as Error).message}`, 'pass the JSON printed by `otel-audit proof`');
    }
    const check = verifyProofDocument(doc, keyring);
    const d = doc as { stream?: unknown; leafIndex?: unknown; treeSize?: unknown };
    if (ctx.json) {
      ctx.stdout.write(toJson({ ok: check.ok, stream: d.stream, seq: d.leafIndex, treeSize: d.treeSize, signature: check.signature, problems: check.problems }));
    } else if (check.ok) {
      ctx.stdout.write(`VALID: record ${escapeControl(JSON.stringify(d.stream))} seq ${String(d.leafIndex)} is included in the signed checkpoint of ${String(d.treeSize)} records\n`);
    } else {
      ctx.stdout.write(`INVALID proof:\n${check.problems.map((p) => `  - ${escapeControl(p)}`).join('\n')}\n`);
      if (keyring.size === 0) ctx.stdout.write('hint: pass --key with the verifier key (.vkey) to check the checkpoint signature\n');
    }
    return check.ok ? EXIT_OK : EXIT_PROBLEMS;
  },
};
