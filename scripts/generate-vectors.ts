/**
 * Generates the language-neutral test vectors of DESIGN §4 into
 * `test/vectors/` (STYLE.md, "Tests"): one JSON file per case, in five
 * folders — `canonical/` (RFC 8785), `record-hash/` (§4.1–4.2),
 * `merkle/` (RFC 9162 §2.1 trees and proofs), `checkpoint/` (§4.3),
 * `streams/` (§4.4, negatives named by their mutation) and `redaction/`
 * (§4.5 `hmac` values, scripts/vectors-redaction.ts) — plus a README that
 * tells implementers of other-language verifiers what each file holds.
 *
 * Deterministic: fixed ids, times and a fixed, obviously labelled test key
 * (Ed25519 signing is deterministic), so two runs write identical bytes and
 * `test/vectors.test.ts` can check that the checked-in files are exactly what
 * this script produces. Every vector is cross-checked while it is made: RFC
 * 8785 and RFC 6962 expected values are the published ones, JCS output is
 * compared with an independent implementation, Merkle roots and proofs with a
 * direct transcription of the RFC 9162 definitions, hashes with node:crypto,
 * and each stream case's findings with the ones declared for it here — so a
 * change of behaviour in @otel-audit/core stops the generator instead of
 * silently rewriting the vectors.
 *
 * This file is the entry point; the generators live in scripts/vectors/, one
 * module per folder (canonical, record-hash, merkle, checkpoint, streams,
 * readme), with the shared output map and fixed test keys in output.ts and
 * fixtures.ts.
 *
 * Usage: `npm run vectors` (writes test/vectors/), or
 * `tsx scripts/generate-vectors.ts --out <dir>` / `OTEL_AUDIT_VECTORS_DIR=<dir>`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCanonical } from './vectors/canonical.js';
import { generateCheckpoints } from './vectors/checkpoint.js';
import { generateMerkle } from './vectors/merkle.js';
import { FOLDERS, files, put, writeAll } from './vectors/output.js';
import { readme } from './vectors/readme.js';
import { generateRecordHash } from './vectors/record-hash.js';
import { generateStreams } from './vectors/streams.js';
import { redactionCases } from './vectors-redaction.js';

function outputDir(): string {
  const args = process.argv.slice(2);
  let out: string | undefined = process.env.OTEL_AUDIT_VECTORS_DIR || undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--out') out = args[++i];
    else if (arg.startsWith('--out=')) out = arg.slice('--out='.length);
    else throw new Error(`unknown argument ${JSON.stringify(arg)}; usage: generate-vectors.ts [--out <dir>]`);
  }
  if (out === '') throw new Error('--out needs a directory');
  const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  return path.resolve(out ?? path.join(repo, 'test', 'vectors'));
}

const out = outputDir();
generateCanonical();
generateRecordHash();
generateMerkle();
generateCheckpoints();
generateStreams();
for (const [name, value] of redactionCases()) put('redaction', name, value);
files.set('README.md', readme());
writeAll(out);
const counts = FOLDERS.map((f) => `${f} ${[...files.keys()].filter((k) => k.startsWith(`${f}/`)).length}`).join(', ');
console.log(`wrote ${files.size} files to ${path.relative(process.cwd(), out) || '.'} (${counts})`);
