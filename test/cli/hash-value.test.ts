/**
 * `otel-audit hash-value` end to end (issue 6, DESIGN §4.5): the value it
 * prints equals the field the real processor wrote in `hmac` redaction
 * mode, for a string and (with `--as json`) a number, with the key from a
 * file or an environment variable; the key is never printed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipelineStore, runCli } from './helpers.js';

const HMAC_KEY = 'redaction-key-0123456789abcdef';

describe('otel-audit hash-value', () => {
  it('matches the fields redacted by the processor in hmac mode', async () => {
    const { dir, db } = await pipelineStore({
      n: 2,
      redaction: { mode: 'hmac', hmacKey: HMAC_KEY },
      events: (i) => ({ type: 'auth', action: 'login', outcome: 'failure', actor: { id: `u${i}` }, details: { password: 'hunter2', ssn: 123456789 } }),
    });
    const keyFile = path.join(dir, 'redact.key');
    fs.writeFileSync(keyFile, `${HMAC_KEY}\n`);
    const page = JSON.parse((await runCli(['query', '--db', db, '--type', 'auth', '--json'])).stdout);
    const details = page.records[0].record.details;
    expect(details.password).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);

    const fromFile = await runCli(['hash-value', 'hunter2', '--key-file', keyFile]);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout.trim()).toBe(details.password);
    const fromEnv = await runCli(['hash-value', '123456789', '--as', 'json', '--key-env', 'REDACT_KEY', '--json'], { env: { REDACT_KEY: HMAC_KEY } });
    expect(JSON.parse(fromEnv.stdout)).toEqual({ value: details.ssn });
    expect(fromFile.stdout + fromEnv.stdout).not.toContain(HMAC_KEY);
    const wrong = await runCli(['hash-value', 'hunter3', '--key-file', keyFile]);
    expect(wrong.stdout.trim()).not.toBe(details.password);
  });

  it('needs exactly one key source, set and at least 16 bytes (exit 2)', async () => {
    const none = await runCli(['hash-value', 'x']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('exactly one of --key-file and --key-env');
    const unset = await runCli(['hash-value', 'x', '--key-env', 'NOPE']);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('NOPE is not set');
    const short = await runCli(['hash-value', 'x', '--key-env', 'K'], { env: { K: 'short' } });
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('shorter than 16 bytes');
    expect(short.stderr).not.toContain('short\n');
  });

  it('does not echo a VALUE that is not JSON under --as json: it is the secret being looked for (exit 2)', async () => {
    for (const value of ['hunter2-secret{', '{"pin": hunter2-secret}']) {
      const r = await runCli(['hash-value', value, '--as', 'json', '--key-env', 'K'], { env: { K: HMAC_KEY } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('VALUE is not JSON');
      expect(r.stderr).not.toContain('hunter2');
    }
  });
});
