/**
 * The command shell of `otel-audit` (DESIGN §7): help for the tool and each
 * verb, unknown options and verbs refused with exit 2 naming them, keygen
 * writing a 0600 signer file it never overwrites, and the real bin spawned
 * as a child process.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseSignerKey, parseVerifierKey } from '@otel-audit/core';
import { commands } from '@otel-audit/cli';
import { chainStore, runCli, tamper, tempDir, writeKeys } from './helpers.js';

const BIN = fileURLToPath(new URL('../../packages/cli/bin/otel-audit.js', import.meta.url));

describe('otel-audit help and usage errors', () => {
  it('--help lists every verb; each verb has its own --help with its options', async () => {
    const tool = await runCli(['--help']);
    expect(tool.code).toBe(0);
    for (const c of commands) {
      expect(tool.stdout).toContain(`  ${c.name} `);
      const verb = await runCli([c.name, '--help']);
      expect(verb.code, c.name).toBe(0);
      expect(verb.stdout).toContain(`Usage: otel-audit ${c.name}`);
      for (const o of c.options) expect(verb.stdout, `${c.name} --${o.name}`).toContain(`--${o.name}`);
    }
  });

  it('every command line a verb\'s --help quotes parses: its verb and options exist', async () => {
    const quoted = commands.flatMap((c) => [...(c.details ?? '').matchAll(/`otel-audit ([^`]+)`/g)].map((m) => ({ in: c.name, argv: m[1]!.split(/\s+/) })));
    expect(quoted.map((q) => q.in)).toContain('collect');
    for (const q of quoted) {
      const run = await runCli([...q.argv, '--help']);
      expect(run.code, `${q.in} --help quotes \`otel-audit ${q.argv.join(' ')}\`: ${run.stderr}`).toBe(0);
    }
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../packages/cli/package.json', import.meta.url), 'utf8'));
    const run = await runCli(['--version']);
    expect(run).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('no verb prints the help to stderr with exit 2; an unknown verb or option exits 2 naming it and pointing at --help', async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: otel-audit <command>');
    const verb = await runCli(['verfy', 'x.db']);
    expect(verb.code).toBe(2);
    expect(verb.stderr).toContain('unknown command "verfy"');
    expect(verb.stderr).toContain('otel-audit --help');
    const option = await runCli(['query', '--db', 'x.db', '--actr', 'alice']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('unknown option --actr');
    expect(option.stderr).toContain('otel-audit query --help');
  });

  it('missing required options, missing values, wrong types and bad choices exit 2 with the option named', async () => {
    const cases: [string[], string][] = [
      [['query'], 'missing required option --db'],
      [['query', '--db'], '--db needs a value'],
      [['query', '--db', 'a.db', '--limit', 'ten'], '--limit must be a number'],
      [['export', '--db', 'a.db', '--format', 'xml'], '--format must be one of json, ndjson, csv, bundle'],
      [['verify'], 'missing argument INPUT'],
      [['verify', 'a.db', 'b.db'], 'unexpected argument "b.db"'],
    ];
    for (const [argv, message] of cases) {
      const run = await runCli(argv);
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.stderr).toContain(message);
    }
  });
});

describe('otel-audit keygen', () => {
  it('writes NAME.key with mode 0600 and NAME.vkey, prints the verifier key and never the signer key', async () => {
    const dir = tempDir();
    const run = await runCli(['keygen', '--name', 'billing.example/api', '--out', dir]);
    expect(run.code).toBe(0);
    const key = path.join(dir, 'billing.example_api.key');
    const vkey = path.join(dir, 'billing.example_api.vkey');
    expect(fs.statSync(key).mode & 0o777).toBe(0o600);
    const signer = parseSignerKey(fs.readFileSync(key, 'utf8').trim());
    const verifier = parseVerifierKey(fs.readFileSync(vkey, 'utf8').trim());
    expect(signer.name).toBe('billing.example/api');
    expect(verifier.keyHash).toBe(signer.keyHash);
    expect(run.stdout).toContain(fs.readFileSync(vkey, 'utf8').trim());
    expect(run.stdout + run.stderr).not.toContain('PRIVATE+KEY');
  });

  it('refuses to overwrite an existing key (exit 2, file unchanged) and refuses a bad name', async () => {
    const dir = tempDir();
    expect((await runCli(['keygen', '--name', 'a', '--out', dir])).code).toBe(0);
    const before = fs.readFileSync(path.join(dir, 'a.key'), 'utf8');
    const again = await runCli(['keygen', '--name', 'a', '--out', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    expect(fs.readFileSync(path.join(dir, 'a.key'), 'utf8')).toBe(before);
    const bad = await runCli(['keygen', '--name', 'has space', '--out', dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not a valid key name');
  });

  it('--out creates a missing directory (mode 0700) for the key files; a path that is a file is refused', async () => {
    const dir = tempDir();
    const run = await runCli(['keygen', '--name', 'billing-api.example', '--out', 'keys'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const keys = path.join(dir, 'keys');
    expect(fs.statSync(keys).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(keys, 'billing-api.example.key')).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(path.join(keys, 'billing-api.example.vkey'))).toBe(true);
    expect(run.stdout).toContain(`created ${keys} (mode 0700)`);
    const nested = await runCli(['keygen', '--name', 'n', '--out', 'a/b'], { cwd: dir });
    expect(nested.code, nested.stderr).toBe(0);
    expect(fs.existsSync(path.join(dir, 'a', 'b', 'n.key'))).toBe(true);
    const file = path.join(dir, 'not-a-dir');
    fs.writeFileSync(file, 'x');
    const refused = await runCli(['keygen', '--name', 'f', '--out', file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`--out ${file} is a file, not a directory`);
    expect(fs.readFileSync(file, 'utf8')).toBe('x');
  });

  it('--json gives the paths and the verifier key', async () => {
    const dir = tempDir();
    const run = await runCli(['keygen', '--name', 'j', '--json'], { cwd: dir });
    expect(JSON.parse(run.stdout)).toEqual({
      name: 'j', signerKeyFile: path.join(dir, 'j.key'), verifierKeyFile: path.join(dir, 'j.vkey'), verifierKey: fs.readFileSync(path.join(dir, 'j.vkey'), 'utf8').trim(),
    });
  });
});

describe('the real bin', () => {
  it('runs as a child process: verify prints the report and exits 0 intact, 1 tampered, 2 unreadable', () => {
    const { dir, db } = chainStore(20);
    const { vkey } = writeKeys(dir);
    const ok = spawnSync(process.execPath, [BIN, 'verify', db, '--key', vkey], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^INTACT: 20 records/m);
    expect(ok.stderr).toBe('');
    tamper(db, "UPDATE audit_logs SET event_result = 'success' WHERE seq = 5");
    const tampered = spawnSync(process.execPath, [BIN, 'verify', db, '--key', vkey], { encoding: 'utf8' });
    expect(tampered.status).toBe(1);
    expect(tampered.stdout).toMatch(/hash_mismatch\s+5\b/);
    const missing = spawnSync(process.execPath, [BIN, 'verify', path.join(dir, 'missing.db')], { encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('ENOENT');
  });
});
