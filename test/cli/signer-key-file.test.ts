/**
 * `--signer-key FILE` of `collect` and `serve`, and the chain signer key of
 * `serve --config`: an empty file is named as empty, with the command that
 * writes one; a file group or others may read is accepted with one warning
 * naming the file and `chmod 600` (POSIX only), and the key is never shown.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chainStore, KEYS, runCli, startBin, tempDir, until } from './helpers.js';

const posix = process.platform !== 'win32';
const TOKEN = 'cli-test-token-0123456789abcdef0123456789';

describe('signer key files', () => {
  it('an empty --signer-key file is named as empty, with the fix (exit 2), for collect and serve', async () => {
    const dir = tempDir();
    const empty = path.join(dir, 'empty.key');
    fs.writeFileSync(empty, '\n', { mode: 0o600 });
    const collect = await runCli(['collect', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'audit.db'), '--signer-key', empty]);
    expect(collect.code).toBe(2);
    expect(collect.stderr).toContain(`--signer-key file ${empty} is empty`);
    expect(collect.stderr).toContain('otel-audit keygen --name NAME');
    expect(collect.stderr).not.toContain('public verifier key');
    const serve = await runCli(['serve', '--db', path.join(dir, 'audit.db'), '--port', '0', '--token-env', 'AUDIT_TOKEN', '--signer-key', empty], { env: { AUDIT_TOKEN: TOKEN } });
    expect(serve.code).toBe(2);
    expect(serve.stderr).toContain(`--signer-key file ${empty} is empty`);
  });

  it.runIf(posix)('collect warns once about a --signer-key file open to group or others, naming it and chmod 600; not about a 0600 one', async () => {
    const dir = tempDir();
    const key = path.join(dir, 'audit.key');
    fs.writeFileSync(key, `${KEYS.signerKey}\n`);
    fs.chmodSync(key, 0o644);
    const loose = startBin(['collect', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'audit.db'), '--signer-key', key]);
    await until(() => /logs: (\S+)/.test(loose.stdout()), 'collect listening');
    const stopped = await loose.stop();
    const warnings = stopped.stderr.split('\n').filter((l) => l.includes('chmod'));
    expect(warnings).toEqual([`otel-audit: warning: --signer-key file ${key} is open to group or others (mode 0644): whoever reads it can sign checkpoints; fix: chmod 600 ${key}`]);
    expect(stopped.stdout + stopped.stderr).not.toContain(KEYS.signerKey);

    fs.chmodSync(key, 0o600);
    const tight = startBin(['collect', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'audit2.db'), '--signer-key', key]);
    await until(() => /logs: (\S+)/.test(tight.stdout()), 'collect listening');
    expect((await tight.stop()).stderr).not.toContain('chmod');
  });

  it.runIf(posix)('serve --config warns about a processors.chain.signer_key_file open to group or others', async () => {
    const { dir } = chainStore(2);
    const key = path.join(dir, 'audit.key');
    fs.writeFileSync(key, `${KEYS.signerKey}\n`, { mode: 0o640 });
    fs.chmodSync(key, 0o640);
    const config = path.join(dir, 'otel-config.yaml');
    fs.writeFileSync(config, [
      'processors:',
      '  chain: { stream: svc/1, signer_key_file: ./audit.key }',
      'exporters:',
      '  sqlite: { path: ./audit.db }',
      'service:',
      '  pipelines:',
      '    audit: { processors: [chain], exporters: [sqlite] }',
      '',
    ].join('\n'));
    const serve = startBin(['serve', '--config', config, '--port', '0', '--token-env', 'AUDIT_TOKEN'], { env: { AUDIT_TOKEN: TOKEN } });
    await until(() => /http:\/\/\S+/.test(serve.stdout()), 'serve listening');
    const stopped = await serve.stop();
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toContain(`otel-audit: warning: processors.chain.signer_key_file ${key} is open to group or others (mode 0640): whoever reads it can sign checkpoints; fix: chmod 600 ${key}`);
  });
});
