/**
 * `otel-audit serve` end to end (issue 6): the query API of
 * @otel-audit/server over a real store on 127.0.0.1, answering a token from
 * `--token-env` or from the config's `extensions.audit_server`, refusing a
 * request without one or a short token, never printing a token, leaving a
 * store that still verifies when given a signer key for its access stream
 * (and naming the `--unsigned-ok` verify needs without one), and stopping
 * cleanly on abort (in-process) and on SIGTERM (the real bin).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hashToken } from '@otel-audit/server';
import { main } from '@otel-audit/cli';
import { chainStore, runCli, writeKeys } from './helpers.js';

const BIN = fileURLToPath(new URL('../../packages/cli/bin/otel-audit.js', import.meta.url));
const TOKEN = 'cli-test-token-0123456789abcdef0123456789';

async function startServe(argv: string[], env: NodeJS.ProcessEnv, cwd?: string) {
  let out = '';
  let err = '';
  const controller = new AbortController();
  const done = main(argv, {
    stdout: { write: (s: string) => { out += s; return true; } },
    stderr: { write: (s: string) => { err += s; return true; } },
    env, signal: controller.signal, ...(cwd ? { cwd } : {}),
  });
  for (let i = 0; i < 300 && !/http:\/\/\S+/.test(out); i++) {
    const settled = await Promise.race([done.then(() => true), new Promise((r) => setTimeout(() => r(false), 10))]);
    if (settled) break;
  }
  const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
  return { url, done, stop: () => controller.abort(), output: () => out + err };
}

describe('otel-audit serve', () => {
  it('serves the store with a --token-env admin token; a request without a token is refused; abort stops it (exit 0)', async () => {
    const { dir, db } = chainStore(10);
    const s = await startServe(['serve', '--db', db, '--port', '0', '--token-env', 'AUDIT_TOKEN'], { AUDIT_TOKEN: TOKEN });
    expect(s.url, s.output()).toBeDefined();
    const ok = await fetch(`${s.url}/api/audit/logs?limit=3&since=2023-01-01T00:00:00Z`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(JSON.stringify(await ok.json())).toContain('svc/1');
    const anonymous = await fetch(`${s.url}/api/audit/logs`);
    expect(anonymous.status).toBe(401);
    // A proof taken from the server checks offline with verify-proof.
    const proof = await fetch(`${s.url}/api/audit/proof?stream=svc%2F1&seq=3`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(proof.status).toBe(200);
    const file = path.join(dir, 'server-proof.json');
    fs.writeFileSync(file, await proof.text());
    const { vkey } = writeKeys(dir);
    expect((await runCli(['verify-proof', file, '--key', vkey])).code).toBe(0);
    const forged = JSON.parse(fs.readFileSync(file, 'utf8'));
    forged.hash = forged.proof[0];
    fs.writeFileSync(file, JSON.stringify(forged));
    expect((await runCli(['verify-proof', file, '--key', vkey])).code).toBe(1);
    s.stop();
    expect(await s.done).toBe(0);
    expect(s.output()).not.toContain(TOKEN);
  });

  it('takes the store, tokens and signer key from --config (extensions.audit_server)', async () => {
    const { dir } = chainStore(5);
    writeKeys(dir);
    fs.writeFileSync(path.join(dir, 'otel-config.yaml'), [
      'processors:',
      '  chain:',
      '    signer_key_file: ./audit.key',
      'exporters:',
      '  sqlite:',
      '    path: ./audit.db',
      'extensions:',
      '  audit_server:',
      '    endpoint: 127.0.0.1:0',
      '    tokens:',
      `      - { name: auditor-1, role: auditor, sha256: ${hashToken(TOKEN)} }`,
      'service:',
      '  extensions: [audit_server]',
      '  pipelines:',
      '    audit:',
      '      processors: [chain]',
      '      exporters: [sqlite]',
      '',
    ].join('\n'));
    const s = await startServe(['serve', '--config', 'otel-config.yaml', '--json'], {}, dir);
    expect(s.url, s.output()).toBeDefined();
    expect(JSON.parse(s.output().split('\n')[0]!)).toEqual({ url: s.url, db: path.join(dir, 'audit.db'), tokens: 1, verifierKeys: 1, accessStream: expect.stringMatching(/^otel-audit-server\//), accessStreamSigned: true });
    const res = await fetch(`${s.url}/api/audit/logs?limit=1`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    s.stop();
    expect(await s.done).toBe(0);
  });

  it('refuses to start without any token, or with an unset token variable (exit 2)', async () => {
    const { db } = chainStore(2);
    const none = await runCli(['serve', '--db', db, '--port', '0']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no tokens');
    const unset = await runCli(['serve', '--db', db, '--port', '0', '--token-env', 'MISSING_TOKEN']);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('MISSING_TOKEN is not set');
  });

  it('refuses a --token-env token shorter than 16 characters (exit 2) without printing it, and a --signer-key that is no signer key', async () => {
    const { dir, db } = chainStore(2);
    const short = await runCli(['serve', '--db', db, '--port', '0', '--token-env', 'AUDIT_TOKEN'], { env: { AUDIT_TOKEN: 'pw1234567' } });
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('AUDIT_TOKEN holds a token of 9 characters; an admin token needs at least 16');
    expect(short.stderr).toContain('openssl rand -hex 32');
    expect(short.stderr + short.stdout).not.toContain('pw1234567');
    const { vkey } = writeKeys(dir);
    const notSigner = await runCli(['serve', '--db', db, '--port', '0', '--token-env', 'AUDIT_TOKEN', '--signer-key', vkey], { env: { AUDIT_TOKEN: TOKEN } });
    expect(notSigner.code).toBe(2);
    expect(notSigner.stderr).toContain('holds no signer key');
  });

  it('with --signer-key the store verifies after serving; without, it names the access stream that verify needs --unsigned-ok for', async () => {
    const calls = async (url: string) => {
      for (const route of ['/api/audit/logs?limit=2', '/api/audit/checkpoints', '/api/audit/proof?stream=svc%2F1&seq=3']) {
        expect((await fetch(`${url}${route}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      }
    };
    // Signed: verify with the same key as before serving stays INTACT.
    const signed = chainStore(10);
    const { key, vkey } = writeKeys(signed.dir);
    expect((await runCli(['verify', signed.db, '--key', vkey])).code).toBe(0);
    const s = await startServe(['serve', '--db', signed.db, '--port', '0', '--token-env', 'AUDIT_TOKEN', '--key', vkey, '--signer-key', key, '--json'], { AUDIT_TOKEN: TOKEN });
    expect(s.url, s.output()).toBeDefined();
    const started = JSON.parse(s.output().split('\n')[0]!);
    expect(started).toMatchObject({ accessStreamSigned: true, verifierKeys: 1 });
    await calls(s.url!);
    s.stop();
    expect(await s.done).toBe(0);
    expect(s.output()).not.toContain('not signed');
    const after = await runCli(['verify', signed.db, '--key', vkey, '--json']);
    expect(after.code, after.stdout + after.stderr).toBe(0);
    const report = JSON.parse(after.stdout);
    expect(report.streams.find((x: { stream: string }) => x.stream === started.accessStream)).toMatchObject({ records: 3 });

    // Unsigned: serve warns with the stream's name; verify is NOT VERIFIED until that stream is named with --unsigned-ok.
    const unsigned = chainStore(10);
    const keys = writeKeys(unsigned.dir);
    const u = await startServe(['serve', '--db', unsigned.db, '--port', '0', '--token-env', 'AUDIT_TOKEN', '--key', keys.vkey, '--json'], { AUDIT_TOKEN: TOKEN });
    const stream = JSON.parse(u.output().split('\n')[0]!).accessStream as string;
    expect(u.output()).toContain(`access records go to the unsigned stream ${stream} (no --signer-key)`);
    expect(u.output()).toContain(`--unsigned-ok ${stream}`);
    await calls(u.url!);
    u.stop();
    expect(await u.done).toBe(0);
    const refused = await runCli(['verify', unsigned.db, '--key', keys.vkey]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('NOT VERIFIED');
    expect((await runCli(['verify', unsigned.db, '--key', keys.vkey, '--unsigned-ok', stream])).code).toBe(0);
  });

  it('without --signer-key, serve\'s own stream is reported as written without a signer key — by verify and by the integrity route — never as deleted checkpoints', async () => {
    const { dir, db } = chainStore(10);
    const { vkey } = writeKeys(dir);
    const u = await startServe(['serve', '--db', db, '--port', '0', '--token-env', 'AUDIT_TOKEN', '--key', vkey, '--json'], { AUDIT_TOKEN: TOKEN });
    const stream = JSON.parse(u.output().split('\n')[0]!).accessStream as string;
    expect(u.output()).toContain('the dashboard\'s integrity panel (/api/audit/integrity) reports it not verified, written without a signer key');
    expect(u.output()).toContain('start serve with --signer-key FILE (`otel-audit keygen --name NAME` writes one)');
    const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
    expect((await fetch(`${u.url}/api/audit/logs?limit=2`, auth)).status).toBe(200);
    const integrity = await (await fetch(`${u.url}/api/audit/integrity`, auth)).json() as { intact: boolean; notVerified?: string[] };
    expect(integrity.intact).toBe(false);
    expect(integrity.notVerified).toEqual([`stream ${JSON.stringify(stream)}: written without a signer key (unsigned by configuration): nothing vouches for its records; start otel-audit serve with --signer-key`]);
    u.stop();
    expect(await u.done).toBe(0);
    const run = await runCli(['verify', db, '--key', vkey]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`not verified: stream ${JSON.stringify(stream)}: written without a signer key (its start records say so): nothing vouches for its 3 records; start serve with --signer-key`);
    expect(run.stdout).not.toContain('were they deleted?');
  });

  it('the real bin serves until SIGTERM and then exits 0', async () => {
    const { db } = chainStore(3);
    const child = spawn(process.execPath, [BIN, 'serve', '--db', db, '--port', '0', '--token-env', 'AUDIT_TOKEN'], { env: { ...process.env, AUDIT_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 500 && !/http:\/\/\S+/.test(out); i++) await new Promise((r) => setTimeout(r, 10));
    const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    expect(url, out).toBeDefined();
    expect((await fetch(`${url}/api/audit/logs`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).not.toContain(TOKEN);
  });
});
