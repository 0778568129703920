/**
 * An empty signer key file is named as empty, with a `fix:` line, by every
 * verb that reads one: collect, serve and retention (exit 2).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chainStore, runCli, tempDir } from './helpers.js';

const TOKEN = '0123456789abcdef0123456789abcdef';

describe('an empty --signer-key file', () => {
  it('is named as empty with the keygen fix by collect, serve and retention (exit 2)', async () => {
    const dir = tempDir();
    const empty = path.join(dir, 'empty.key');
    fs.writeFileSync(empty, '', { mode: 0o600 });
    const { db } = chainStore(3);
    const runs = {
      collect: await runCli(['collect', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'c.db'), '--signer-key', empty]),
      serve: await runCli(['serve', '--db', db, '--port', '0', '--token-env', 'T', '--signer-key', empty], { env: { T: TOKEN } }),
      retention: await runCli(['retention', '--db', db, '--apply', '--signer-key', empty]),
    };
    for (const [verb, run] of Object.entries(runs)) {
      expect(run.code, verb).toBe(2);
      expect(run.stderr, verb).toBe(`otel-audit ${verb}: --signer-key file ${empty} is empty\n  fix: write a key pair with \`otel-audit keygen --name NAME\` and pass its NAME.key\n`);
    }
  });
});
