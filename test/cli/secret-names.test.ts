/**
 * A secret pasted where the name of its variable or file belongs (DESIGN
 * §7: tokens and HMAC keys are never printed): `serve --token-env`,
 * `hash-value --key-env/--key-file` and `--signer-key` refuse it (exit 2)
 * by its length, without echoing it on stdout or stderr, while a plain
 * variable name that is not set is still named.
 */
import { describe, expect, it } from 'vitest';
import { KEYS, chainStore, runCli, tempDir } from './helpers.js';

const TOKEN = 'abcdefSECRETTOKEN0123456789abcdef';
const HMAC = 'HMACSECRETKEY-0123456789';
const HEX = '3f9a1c0be4d27a8e5b6c9d0f1a2b3c4d5e6f708192a3b4c5';

describe('a secret given as a variable or file name', () => {
  it('is refused without being printed', async () => {
    const { db } = chainStore(5);
    const cwd = tempDir();
    const cases: [string, string[]][] = [
      [TOKEN, ['serve', '--db', db, '--port', '0', '--token-env', TOKEN]],
      [HEX, ['serve', '--db', db, '--port', '0', '--token-env', HEX]],
      [HMAC, ['hash-value', 'alice', '--key-env', HMAC]],
      [HEX, ['hash-value', 'alice', '--key-env', HEX]],
      [HMAC, ['hash-value', 'alice', '--key-file', HMAC]],
      [KEYS.signerKey, ['retention', '--db', db, '--apply', '--signer-key', KEYS.signerKey]],
      [KEYS.signerKey, ['serve', '--db', db, '--port', '0', '--token-env', 'T', '--signer-key', KEYS.signerKey]],
    ];
    for (const [secret, argv] of cases) {
      const run = await runCli(argv, { cwd, env: { T: 'a-token-of-enough-length' } });
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.stdout + run.stderr, argv.join(' ')).not.toContain(secret.slice(-16));
      expect(run.stderr, argv.join(' ')).toMatch(/\(\d+ characters\)|not shown/);
    }
  });

  it('still names a variable or a file that is plainly a name', async () => {
    const cwd = tempDir();
    const env = await runCli(['hash-value', 'x', '--key-env', 'REDACTION_KEY_2024_01'], { cwd });
    expect(env.stderr).toContain('environment variable REDACTION_KEY_2024_01 is not set');
    const file = await runCli(['hash-value', 'x', '--key-file', 'keys/redaction.key'], { cwd });
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('keys/redaction.key (ENOENT)');
  });
});
