/**
 * loadConfig refuses broken files before anything starts: a table of broken
 * YAML files (fixtures/broken/*.yaml), each naming in its `# expect:` lines
 * the YAML path and the message a user must see; and a good file loads with
 * relative paths resolved against its own directory.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateNoteKey } from '@otel-audit/core';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, startAudit } from '../src/index.js';
import { builtinOptions } from '../src/internal/options-mapping.js';

const BROKEN = join(import.meta.dirname, 'fixtures', 'broken');

function expectations(file: string): { path: string; text: string }[] {
  return readFileSync(join(BROKEN, file), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('# expect: '))
    .map((l) => {
      const [path, text] = l.slice('# expect: '.length).split(' :: ');
      return { path: path!, text: text! };
    });
}

function refusal(options: Parameters<typeof loadConfig>[0]): ConfigError {
  try {
    loadConfig(options);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig refuses broken files with the path, the value and the fix', () => {
  const files = readdirSync(BROKEN).filter((f) => f.endsWith('.yaml')).sort();

  it('has a table of broken files', () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
  });

  it.each(files)('%s', (file) => {
    const error = refusal({ path: join(BROKEN, file), env: {} });
    expect(error.code).toBe('AUDIT_CONFIG_INVALID');
    const wanted = expectations(file);
    expect(wanted.length).toBeGreaterThan(0);
    for (const { path, text } of wanted) {
      const lines = error.message.split('\n').filter((l) => l.startsWith(`  - ${path}`) && l.includes(text));
      expect(lines, `${file}: no line "${path}: ...${text}..." in\n${error.message}`).toHaveLength(1);
      expect(error.problems.some((p) => p.path === path)).toBe(true);
    }
    // Nothing else is reported: every path with a problem is one the file expects.
    expect(new Set(error.problems.map((p) => p.path))).toEqual(new Set(wanted.map((w) => w.path)));
  });

  it('gives the YAML line of a problem', () => {
    const error = refusal({ path: join(BROKEN, 'misspelled-nested-key.yaml'), env: {} });
    expect(error.problems[0]).toMatchObject({ path: 'processors.chain.algoritm', value: 'algoritm', line: 4 });
    expect(error.message).toContain('processors.chain.algoritm (line 4): unknown key');
  });

  it('says which file is missing and how to point at another', () => {
    const error = refusal({ env: { OTEL_AUDIT_CONFIG: '/nonexistent/otel-config.yaml' } });
    expect(error.message).toContain('"/nonexistent/otel-config.yaml" (from OTEL_AUDIT_CONFIG) does not exist');
  });
});

describe('loadConfig of a good file', () => {
  it('resolves relative key files against the file, and keeps the document as written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-node-'));
    writeFileSync(join(dir, 'audit.key'), generateNoteKey('test').signerKey);
    writeFileSync(
      join(dir, 'otel-config.yaml'),
      ['processors:', '  chain: { signer_key_file: ./audit.key, checkpoint: { interval: 5s } }', 'exporters:', '  sqlite: { path: ./audit.db }', 'service:', '  pipelines:', '    audit: { processors: [chain], exporters: [sqlite] }', ''].join('\n'),
    );
    const config = loadConfig({ env: { OTEL_AUDIT_CONFIG: join(dir, 'otel-config.yaml') } });
    expect(config.baseDir).toBe(dir);
    expect(config.processors?.chain).toEqual({ signer_key_file: './audit.key', checkpoint: { interval: '5s' } });
    expect(JSON.stringify(config)).not.toContain('PRIVATE+KEY');
  });

  it('loads the repository otel-config.yaml once its signer key exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-node-'));
    writeFileSync(join(dir, 'audit.key'), generateNoteKey('demo').signerKey);
    const config = loadConfig({ path: join(import.meta.dirname, '..', '..', '..', 'otel-config.yaml'), env: { OTEL_AUDIT_SIGNER_KEY_FILE: join(dir, 'audit.key'), OTEL_AUDIT_DB: join(dir, 'audit.db') } });
    expect(config.service.pipelines.audit?.exporters).toEqual(['sqlite']);
    expect(config.exporters?.sqlite).toMatchObject({ path: join(dir, 'audit.db') });
  });

  it('with secrets: false loads a file whose key files are missing, still checking everything else; startAudit refuses it', async () => {
    const missingKey = join(BROKEN, 'missing-signer-key-file.yaml');
    expect(refusal({ path: missingKey, env: {} }).problems.map((p) => p.path)).toEqual(['processors.chain.signer_key_file']);
    const config = loadConfig({ path: missingKey, env: {}, secrets: false });
    expect(config.processors?.chain).toEqual({ signer_key_file: './keys/missing.key' });
    const other = refusal({ path: join(BROKEN, 'pipeline-names-undefined-exporter.yaml'), env: {}, secrets: false });
    expect(other.problems.length).toBeGreaterThan(0);
    await expect(startAudit(config, { env: {} })).rejects.toThrow('file "./keys/missing.key" does not exist');
    await expect(startAudit({ path: missingKey, env: {}, secrets: false })).rejects.toThrow('file "./keys/missing.key" does not exist');
  });

  it('accepts config_changes digests and an IANA time zone for off-hours admin work, and hands them to the rules', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-node-'));
    writeFileSync(
      join(dir, 'otel-config.yaml'),
      [
        'processors:',
        '  alerts:',
        '    builtins:',
        '      config_changes: { digest: 15m }',
        '      off_hours_admin: { from: "08:00", to: "18:00", time_zone: Europe/Berlin }',
        '    rules:',
        '      - { name: exports, condition: "count >= 3", match: { action: export }, digest: 1h }',
        '  chain: {}',
        'exporters:',
        '  sqlite: { path: ./audit.db }',
        'service:',
        '  pipelines:',
        '    audit: { processors: [alerts, chain], exporters: [sqlite] }',
        '',
      ].join('\n'),
    );
    const config = loadConfig({ path: join(dir, 'otel-config.yaml'), env: {} });
    const alerts = config.processors?.alerts as Parameters<typeof builtinOptions>[0];
    expect(builtinOptions(alerts)).toMatchObject({ configChanges: { digest: '15m' }, offHoursAdmin: { from: '08:00', to: '18:00', timeZone: 'Europe/Berlin' } });
    expect(alerts.rules?.[0]).toMatchObject({ name: 'exports', digest: '1h' });
  });
});

describe('loadConfig never echoes a secret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'otel-audit-node-secrets-'));
  const signer = generateNoteKey('secrets-test').signerKey;
  const pipeline = (processors: string, exporters = 'sqlite') => `service:\n  pipelines:\n    audit: { receivers: [api], processors: [${processors}], exporters: [${exporters}] }\n`;
  const base = 'receivers:\n  api: {}\nexporters:\n  sqlite: { path: ./audit.db }\n  otlphttp:\n    endpoint: "http://127.0.0.1:4318"\n';

  /** The refusal of `text` with `env`: it names `path`, says `says`, and shows `secret` nowhere (message, problems, values). */
  function refusedWithout(text: string, env: NodeJS.ProcessEnv, path: string, says: string, secret: string): void {
    const error = refusal({ text, env, cwd: dir });
    expect(error.problems.map((p) => p.path)).toContain(path);
    const line = error.message.split('\n').find((l) => l.startsWith(`  - ${path}`));
    expect(line, error.message).toContain(says);
    expect(error.message).not.toContain(secret);
    expect(JSON.stringify(error.problems)).not.toContain(secret);
  }

  it('a header value written as a number is refused without showing it', () => {
    refusedWithout(`${base}    headers: { x-api-key: 48151623420815 }\n${pipeline('chain', 'sqlite, otlphttp')}processors:\n  chain: {}\n`, {}, 'exporters.otlphttp.headers.x-api-key', 'must be a string', '48151623420815');
  });

  it('a header value read from a variable stays a string, even when it reads as a number', () => {
    const config = loadConfig({ text: `${base}    headers:\n      x-api-key: \${env:OTLP_KEY}\n${pipeline('chain', 'sqlite, otlphttp')}processors:\n  chain: {}\n`, env: { OTLP_KEY: '0048151623420815' }, cwd: dir });
    expect((config.exporters?.otlphttp as { headers: unknown }).headers).toEqual({ 'x-api-key': '0048151623420815' });
  });

  it('a raw token where tokens[].sha256 wants its hash is refused without showing it, with the fix', () => {
    const text = `${base}${pipeline('chain')}processors:\n  chain: {}\nextensions:\n  audit_server:\n    tokens: [ { name: ops, role: admin, sha256: tok_live_7Hq2mZ9xWv } ]\n`;
    refusedWithout(text, {}, 'extensions.audit_server.tokens[0].sha256', 'sha256sum', 'tok_live_7Hq2mZ9xWv');
  });

  it.each([
    ['processors.redact.hmac_key_env', 'redact: { mode: hmac, hmac_key_env: REDACT_KEY }', 'redact, chain', { REDACT_KEY: 'short-Zq8secret' }, 'REDACT_KEY', 'short-Zq8secret'],
    ['processors.chain.signer_key_env', 'chain: { signer_key_env: SIGNER }', 'chain', { SIGNER: 'not-a-key-Zq8secret' }, 'SIGNER', 'not-a-key-Zq8secret'],
    ['processors.alerts.notifiers[0].secret_env', 'alerts: { notifiers: [ { type: webhook, url: "https://hooks.example/a", secret_env: HOOK_SECRET } ] }\n  chain: {}', 'alerts, chain', { HOOK_SECRET: 'short-Zq8' }, 'HOOK_SECRET', 'short-Zq8'],
  ])('%s: a bad key in the variable is refused naming the variable, not its value', (path, section, processors, env, variable, secret) => {
    refusedWithout(`${base}${pipeline(processors)}processors:\n  ${section}\n`, env, path, variable, secret);
  });

  it('exporters.sqlite.encryption.key_env: a bad key is refused naming the variable, not its value', () => {
    const text = `receivers:\n  api: {}\nexporters:\n  sqlite: { path: ./audit.db, encryption: { enabled: true, key_env: DB_KEY } }\n${pipeline('chain')}processors:\n  chain: {}\n`;
    refusedWithout(text, { DB_KEY: 'not-32-bytes-Zq8secret' }, 'exporters.sqlite.encryption.key_env', 'DB_KEY', 'not-32-bytes-Zq8secret');
  });

  it('receivers.http.actor.api_key_hmac_key_env: a short key is refused at that key, naming the variable', () => {
    const text = `receivers:\n  http: { rules: [ { match: { path: "/**" }, level: none } ], actor: { api_key_hmac_key_env: API_HMAC } }\nexporters:\n  sqlite: { path: ./audit.db }\nservice:\n  pipelines:\n    audit: { receivers: [http], exporters: [sqlite] }\n`;
    refusedWithout(text, { API_HMAC: 'short-Zq8' }, 'receivers.http.actor.api_key_hmac_key_env', 'API_HMAC', 'short-Zq8');
  });

  it('a webhook URL that does not parse is refused without showing it (such URLs often carry a token)', () => {
    const section = 'alerts: { notifiers: [ { type: webhook, url: "hooks.example/T0/xoxb-Zq8secret", secret_env: HOOK_SECRET } ] }\n  chain: {}';
    refusedWithout(`${base}${pipeline('alerts, chain')}processors:\n  ${section}\n`, { HOOK_SECRET: 'a-long-enough-webhook-secret' }, 'processors.alerts.notifiers[0].url', 'is not a URL', 'xoxb-Zq8secret');
  });

  it('an endpoint with credentials and a token that is not an http(s) URL is refused without showing them', () => {
    const text = `${base}    logs_endpoint: "ftp://audit:Zq8secret@collector:4318/v1/logs?api_key=Zq8key"\n${pipeline('chain', 'sqlite, otlphttp')}processors:\n  chain: {}\n`;
    refusedWithout(text, {}, 'exporters.otlphttp.logs_endpoint', 'is not an http(s) URL', 'Zq8secret');
    refusedWithout(text, {}, 'exporters.otlphttp.logs_endpoint', 'is not an http(s) URL', 'Zq8key');
    expect(refusal({ text, env: {}, cwd: dir }).problems.find((p) => p.path === 'exporters.otlphttp.logs_endpoint')?.value).toBe('ftp://***@collector:4318/v1/logs?api_key=***');
  });

  it('credentials written into the server endpoint are masked where the value is quoted', () => {
    const text = `${base}${pipeline('chain')}processors:\n  chain: {}\nextensions:\n  audit_server: { endpoint: "admin:Zq8secret@0.0.0.0:4319" }\n`;
    refusedWithout(text, {}, 'extensions.audit_server.endpoint', '"***@0.0.0.0:4319" is not in the expected form', 'Zq8secret');
  });

  const hexKey = 'a3f9c2e1b4d7a3f9c2e1b4d7a3f9c2e1b4d7a3f9c2e1b4d7a3f9c2e1b4d7beef';
  it.each([
    ['processors.redact.hmac_key_file', `redact: { mode: hmac, hmac_key_file: ${hexKey} }\n  chain: {}`, 'redact, chain'],
    ['processors.alerts.notifiers[0].secret_file', `alerts: { notifiers: [ { type: webhook, url: "https://hooks.example/a", secret_file: ${hexKey} } ] }\n  chain: {}`, 'alerts, chain'],
    ['processors.redact.hmac_key_env', `redact: { mode: hmac, hmac_key_env: ${hexKey} }\n  chain: {}`, 'redact, chain'],
  ])('%s: a hex key pasted where its file or variable name belongs is refused without showing it', (path, section, processors) => {
    refusedWithout(`${base}${pipeline(processors)}processors:\n  ${section}\n`, {}, path, 'looks like a key itself', hexKey);
  });

  it('exporters.sqlite.encryption.key_file: a base64 key pasted as the file name is refused without showing it, with the fix; an ordinary file name is still shown', () => {
    const key = 'YTNmOWMyZTFiNGQ3YTNmOWMyZTFiNGQ3YTNmOWMyZTE=';
    const text = `receivers:\n  api: {}\nexporters:\n  sqlite: { path: ./audit.db, encryption: { enabled: true, key_file: "${key}" } }\n${pipeline('chain')}processors:\n  chain: {}\n`;
    refusedWithout(text, {}, 'exporters.sqlite.encryption.key_file', 'this looks like the secret itself: put it in a file', key);
    // A missing file with an ordinary name is still named, with where it was looked for.
    const error = refusal({ text: `${base}${pipeline('redact, chain')}processors:\n  redact: { mode: hmac, hmac_key_file: ./keys/hmac.key }\n  chain: {}\n`, env: {}, cwd: dir });
    expect(error.message).toContain(`file "./keys/hmac.key" does not exist (looked at ${join(dir, 'keys', 'hmac.key')})`);
  });

  it('a secret pasted where a *_env or *_file setting wants a name is refused without showing it', () => {
    refusedWithout(`${base}${pipeline('chain')}processors:\n  chain: { signer_key_env: "${signer}" }\n`, {}, 'processors.chain.signer_key_env', 'is not an environment variable name', signer);
    refusedWithout(`${base}${pipeline('chain')}processors:\n  chain: { signer_key_file: "${signer}" }\n`, {}, 'processors.chain.signer_key_file', 'a signer key itself', signer);
  });
});

describe('processors.chain.stream', () => {
  const text = 'processors:\n  chain: { stream: "${env:S}" }\nexporters:\n  sqlite: { path: ./audit.db }\nservice:\n  pipelines:\n    audit: { processors: [chain], exporters: [sqlite] }\n';
  const env = { S: 'evil\n999\nAAAA' };

  it('a stream id with a newline (from a variable) is refused at load, naming the key and the fix', () => {
    const error = refusal({ text, env, cwd: mkdtempSync(join(tmpdir(), 'otel-audit-stream-')) });
    expect(error.problems.map((p) => p.path)).toEqual(['processors.chain.stream']);
    expect(error.message).toContain('processors.chain.stream (line 2): must be one line without control characters or surrounding spaces (it is the checkpoint origin) — write the stream id on one line');
  });

  it('startAudit refuses it too, instead of never settling', async () => {
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise((r) => (timer = setTimeout(() => r('startAudit did not settle within 10 s'), 10_000)));
    const started = startAudit({ text, env, cwd: mkdtempSync(join(tmpdir(), 'otel-audit-stream-')) }, { registerGlobal: false, onWarning: () => undefined });
    try {
      await expect(Promise.race([started, hung])).rejects.toThrow(/processors\.chain\.stream .*must be one line/);
    } finally {
      clearTimeout(timer);
    }
  });
});
