/**
 * Key validity windows on the command line (DESIGN §4.3 "Keyring", format
 * §8): `not_before=TIME` / `not_after=TIME` after a verifier key, on its
 * line of a key file or in the `--key` text, bound the checkpoint times in
 * which the key's signatures count — for verify, verify-proof, serve's
 * integrity reports and collect. A checkpoint signed outside is
 * `key_out_of_window` (exit 1), so a retired or leaked key stops counting;
 * a malformed window is refused (exit 2) naming the line, never the key.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JsonLogsSerializer } from '@opentelemetry/otlp-transformer';
import { InMemoryLogRecordExporter } from '@opentelemetry/sdk-logs';
import { AuditChain, canonicalize, createRecordId, Keyring, parseSignerKey, verifyCheckpoint, type AuditRecord, type SealedCheckpoint } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { LogRecordExporterSink } from '@otel-audit/processor';
import { main } from '@otel-audit/cli';
import { chainStore, KEYS, MINUTE, runBin, runCli, startBin, T0, tempDir, until, writeKeys } from './helpers.js';

/** chainStore(30) signs checkpoints at sizes 10, 20, 30 with these times. */
const CHECKPOINT_TIMES = [T0 + 9n * MINUTE, T0 + 19n * MINUTE, T0 + 29n * MINUTE];
const iso = (ns: bigint): string => new Date(Number(ns / 1_000_000n)).toISOString();

/** An otel-config.yaml in `dir` whose chain signs with `KEYS` and whose store trusts `./trusted.vkey`. */
function writeServeConfig(dir: string): void {
  fs.writeFileSync(path.join(dir, 'otel-config.yaml'), [
    'processors:',
    '  chain: { signer_key_file: ./audit.key }',
    'exporters:',
    '  sqlite: { path: ./audit.db, verifier_keys_file: ./trusted.vkey }',
    'service:',
    '  pipelines:',
    '    audit: { processors: [chain], exporters: [sqlite] }',
    '',
  ].join('\n'));
}

interface Finding { code: string; size?: number; seq?: number; lastSeq?: number }
function findingsOf(stdout: string): Finding[] {
  const report = JSON.parse(stdout) as { streams: { findings: Finding[] }[] };
  return report.streams.flatMap((s) => s.findings.map(({ code, size, seq, lastSeq }) => ({ code, ...(size !== undefined ? { size } : {}), ...(seq !== undefined ? { seq } : {}), ...(lastSeq !== undefined ? { lastSeq } : {}) })));
}

describe('otel-audit verify with key validity windows', () => {
  it('a checkpoint signed after the key\'s not_after is key_out_of_window (exit 1), in a key file and in the --key text; inside the window the store is intact (exit 0)', async () => {
    const { dir, db } = chainStore(30);
    const retired = path.join(dir, 'retired.vkey');
    fs.writeFileSync(retired, `# retired when the second key took over\n\n${KEYS.verifierKey} not_after=${iso(CHECKPOINT_TIMES[1]!)}   # inclusive\n`);
    for (const key of [retired, `${KEYS.verifierKey} not_after=${CHECKPOINT_TIMES[1]!}`]) {
      const run = await runCli(['verify', db, '--key', key, '--json']);
      expect(run.code, run.stderr).toBe(1);
      // Records 20..29 are covered by no checkpoint that counts any more.
      expect(findingsOf(run.stdout)).toEqual([{ code: 'key_out_of_window', size: 30 }, { code: 'unsigned_tail', seq: 20, lastSeq: 29 }]);
      const table = await runCli(['verify', db, '--key', key]);
      expect(table.stdout).toMatch(/key_out_of_window .*outside the key's validity window/);
    }
    // A key not yet valid for the first checkpoint.
    const early = await runCli(['verify', db, '--key', `${KEYS.verifierKey} not_before=${CHECKPOINT_TIMES[0]! + 1n}`, '--json']);
    expect(early.code).toBe(1);
    expect(findingsOf(early.stdout)).toEqual([{ code: 'key_out_of_window', size: 10 }]);

    const inside = path.join(dir, 'inside.vkey');
    fs.writeFileSync(inside, `${KEYS.verifierKey} not_before=${CHECKPOINT_TIMES[0]} not_after=${iso(CHECKPOINT_TIMES[2]!)}\n`);
    const ok = await runCli(['verify', db, '--key', inside]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('INTACT');
    // Two windows of one key: trusted in their union.
    const union = await runCli(['verify', db, '--key', `${KEYS.verifierKey} not_after=${iso(CHECKPOINT_TIMES[1]!)}`, '--key', `${KEYS.verifierKey} not_before=${iso(CHECKPOINT_TIMES[2]!)}`]);
    expect(union.code, union.stdout).toBe(0);
  });

  it('reproduces test/vectors/streams/key-out-of-window.json: its records and checkpoints as a store, its keyring as --key with not_after', async () => {
    const file = fileURLToPath(new URL('../vectors/streams/key-out-of-window.json', import.meta.url));
    const vector = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      keyring: { verifierKey: string; notBefore?: string; notAfter?: string }[];
      records: { record: AuditRecord; checksum: string }[];
      checkpoints: string[];
      expected: { ok: boolean; findings: Finding[] };
    };
    const db = path.join(tempDir(), 'vector.db');
    const store = new SqliteAuditStore(db);
    try {
      const checkpoints: SealedCheckpoint[] = vector.checkpoints.map((note) => {
        const cp = verifyCheckpoint(note, Keyring.from([])).checkpoint!;
        return { stream: cp.origin, size: cp.size, rootHash: cp.rootHash.toString('hex'), timeUnixNano: cp.timeUnixNano, note };
      });
      store.appendSync({ records: vector.records.map((r) => ({ record: r.record, canonical: canonicalize(r.record), hash: r.checksum })), checkpoints });
    } finally {
      store.close();
    }
    const keys = vector.keyring.map((k) => [k.verifierKey, ...(k.notBefore !== undefined ? [`not_before=${k.notBefore}`] : []), ...(k.notAfter !== undefined ? [`not_after=${k.notAfter}`] : [])].join(' '));
    expect(keys[0]).toMatch(/ not_after=\d+$/);
    const run = await runCli(['verify', db, ...keys.flatMap((k) => ['--key', k]), '--json']);
    expect(run.code, run.stderr).toBe(1);
    expect(JSON.parse(run.stdout).ok).toBe(vector.expected.ok);
    expect(findingsOf(run.stdout)).toEqual(vector.expected.findings);
  });

  it('refuses a malformed window (exit 2) naming the file and line or the --key value and the fix, never echoing a key', async () => {
    const { dir, db } = chainStore(10);
    const { key: signerFile } = writeKeys(dir);
    const secret = KEYS.signerKey.split('+').slice(4).join('+');
    const publicKey = KEYS.verifierKey.split('+').slice(2).join('+');
    const file = (name: string, text: string): string => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, text);
      return p;
    };
    const cases: [string, RegExp][] = [
      [file('bad-time.vkey', `# keys\n\n${KEYS.verifierKey} not_after=2026-13-01T00:00:00Z\n`), /key file .*bad-time\.vkey line 3: not_after="2026-13-01T00:00:00Z" is not a time/],
      [file('date-only.vkey', `${KEYS.verifierKey}\n${KEYS.verifierKey} not_before=2026-01-01\n`), /key file .*date-only\.vkey line 2: not_before="2026-01-01" is not a time .*RFC 3339/],
      [file('unknown.vkey', `${KEYS.verifierKey} expires=2026-01-01T00:00:00Z\n`), /unknown\.vkey line 1: the first word after the key is expires=\.\.\., not a window bound/],
      [file('twice.vkey', `${KEYS.verifierKey} not_after=1 not_after=2\n`), /twice\.vkey line 1: not_after is given twice/],
      [file('reversed.vkey', `${KEYS.verifierKey} not_before=2026-01-01T00:00:00Z not_after=2025-01-01T00:00:00Z\n`), /reversed\.vkey line 1: not_before \(\d+\) is after not_after \(\d+\)/],
      [file('overflow.vkey', `${KEYS.verifierKey} not_after=9223372036854775808\n`), /overflow\.vkey line 1: not_after="9223372036854775808" is not a time between 1970 and 2262/],
      [file('pasted.vkey', `${KEYS.verifierKey} ${KEYS.signerKey}\n`), /pasted\.vkey line 1 holds a signer \(private\) key/],
      [file('secret-time.vkey', `${KEYS.verifierKey} not_after=${publicKey}\n`), /secret-time\.vkey line 1: not_after=\(a value that is not shown\)/],
      [`${KEYS.verifierKey} not_after=yesterday`, /--key value: not_after=\(a value that is not shown\) is not a time/],
      [`${KEYS.verifierKey} not_after=${KEYS.signerKey}`, /--key value holds a signer \(private\) key/],
      [`${signerFile} not_after=2026-01-01T00:00:00Z`, /--key value: a window cannot follow a key file name/],
    ];
    for (const [key, message] of cases) {
      const run = await runCli(['verify', db, '--key', key]);
      expect(run.code, key).toBe(2);
      expect(run.stderr, key).toMatch(message);
      expect(run.stderr, key).toMatch(/fix: /);
      expect(run.stderr).not.toContain(secret);
      expect(run.stderr).not.toContain(publicKey);
      expect(run.stderr).not.toContain('PRIVATE+KEY');
    }
    const second = await runCli(['verify', db, '--key', KEYS.verifierKey, '--key', `${KEYS.verifierKey} not_after=soon`]);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/--key value 2: not_after=\(a value that is not shown\) is not a time[\s\S]*fix: write the window after the key as not_before=TIME and\/or not_after=TIME/);
  });

  it('the key_out_of_window finding gives the checkpoint time and the key\'s window as RFC 3339 UTC dates, the time also in exact nanoseconds', async () => {
    const { db } = chainStore(30);
    const run = await runCli(['verify', db, '--key', `${KEYS.verifierKey} not_after=${CHECKPOINT_TIMES[1]}`]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain(`the checkpoint time 2023-11-14T22:42:20Z (${CHECKPOINT_TIMES[2]} ns) is outside the key's validity window (not_after=2023-11-14T22:32:20Z)`);
    // A bound one nanosecond after the checkpoint: both still told apart.
    const json = await runCli(['verify', db, '--key', `${KEYS.verifierKey} not_before=${CHECKPOINT_TIMES[0]! + 1n}`, '--json']);
    const finding = (JSON.parse(json.stdout) as { streams: { findings: { code: string; message: string }[] }[] }).streams[0]!.findings[0]!;
    expect(finding.message).toMatch(/the checkpoint time 2023-11-14T22:22:20Z \(1700000540000000000 ns\) is outside the key's validity window \(not_before=2023-11-14T22:22:20\.000000001Z\)$/);
  });

  it('verify --help documents the window', async () => {
    const help = await runCli(['verify', '--help']);
    expect(help.stdout).toMatch(/not_before=TIME/);
    expect(help.stdout).toMatch(/key_out_of_window/);
  });
});

describe('key validity windows of verify-proof, serve and collect', () => {
  it('verify-proof: a proof whose checkpoint lies outside the key\'s window is invalid (exit 1); inside it is valid', async () => {
    const { dir, db } = chainStore(30);
    const run = await runCli(['proof', '--db', db, '--seq', '12']);
    expect(run.code, run.stderr).toBe(0);
    const proof = path.join(dir, 'proof.json');
    fs.writeFileSync(proof, run.stdout);
    const out = await runCli(['verify-proof', proof, '--key', `${KEYS.verifierKey} not_after=${iso(CHECKPOINT_TIMES[1]!)}`]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/INVALID[\s\S]*key_out_of_window/);
    const inside = await runCli(['verify-proof', proof, '--key', `${KEYS.verifierKey} not_after=${iso(CHECKPOINT_TIMES[2]!)}`]);
    expect(inside.code, inside.stdout).toBe(0);
  });

  it('serve: the integrity report fails a checkpoint outside the --key window, even when --signer-key is the same key', async () => {
    const { dir, db } = chainStore(30);
    const { key } = writeKeys(dir);
    const token = 'key-window-token-0123456789abcdef';
    let out = '';
    const controller = new AbortController();
    const done = main(['serve', '--db', db, '--port', '0', '--token-env', 'TOKEN', '--signer-key', key, '--key', `${KEYS.verifierKey} not_after=${iso(CHECKPOINT_TIMES[1]!)}`, '--json'], {
      stdout: { write: (s: string) => { out += s; return true; } },
      stderr: { write: (s: string) => { out += s; return true; } },
      env: { TOKEN: token }, signal: controller.signal,
    });
    try {
      await until(() => /http:\/\/127\.0\.0\.1:\d+/.test(out), `serve listening (${out})`);
      expect(JSON.parse(out.split('\n')[0]!).verifierKeys).toBe(1);
      const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
      const res = await fetch(`${url}/api/audit/integrity?stream=svc%2F1`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      const body = await res.json() as { intact: boolean; report: { streams: { findings: { code: string; size?: number }[] }[] } };
      expect(body.intact).toBe(false);
      expect(body.report.streams[0]!.findings.map((f) => f.code)).toEqual(['key_out_of_window', 'unsigned_tail']);
      expect(body.report.streams[0]!.findings[0]!.size).toBe(30);
    } finally {
      controller.abort();
      expect(await done).toBe(0);
    }
  });

  it('serve --config: the keys of exporters.sqlite.verifier_keys_file count in their windows, as they do in a --key file', async () => {
    const { dir } = chainStore(30);
    writeKeys(dir);
    fs.writeFileSync(path.join(dir, 'trusted.vkey'), `# the service's key, retired after the second checkpoint\n${KEYS.verifierKey} not_after=${iso(CHECKPOINT_TIMES[1]!)}\n`);
    writeServeConfig(dir);
    const token = 'key-window-token-0123456789abcdef';
    let out = '';
    const controller = new AbortController();
    const done = main(['serve', '--config', 'otel-config.yaml', '--port', '0', '--token-env', 'TOKEN', '--json'], {
      stdout: { write: (s: string) => { out += s; return true; } },
      stderr: { write: (s: string) => { out += s; return true; } },
      env: { TOKEN: token }, cwd: dir, signal: controller.signal,
    });
    try {
      await until(() => /http:\/\/127\.0\.0\.1:\d+/.test(out) || /fix:/.test(out), `serve listening (${out})`);
      // The chain signer's key is the file's key: only its window there counts.
      expect(JSON.parse(out.split('\n')[0]!).verifierKeys).toBe(1);
      const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
      const res = await fetch(`${url}/api/audit/integrity?stream=svc%2F1`, { headers: { authorization: `Bearer ${token}` } });
      const body = await res.json() as { intact: boolean; report: { streams: { findings: { code: string; size?: number }[] }[] } };
      expect(body.intact).toBe(false);
      expect(body.report.streams[0]!.findings.map((f) => [f.code, f.size])).toEqual([['key_out_of_window', 30], ['unsigned_tail', undefined]]);
    } finally {
      controller.abort();
      expect(await done).toBe(0);
    }
  });

  it('a bad key file line is refused in the same words by verify --key and serve --config (verifier_keys_file): the file, the line, the problem and the fix; a signer key unshown', async () => {
    const { dir, db } = chainStore(10);
    writeKeys(dir);
    writeServeConfig(dir);
    const file = path.join(dir, 'trusted.vkey');
    const secret = KEYS.signerKey.split('+').slice(4).join('+');
    const cases: [string, string][] = [
      [`${KEYS.verifierKey} not_after=2026-02-30T00:00:00Z`, ': not_after="2026-02-30T00:00:00Z" is not a time between 1970 and 2262'],
      [`${KEYS.verifierKey} not_before=2026-01-01T00:00:00Z not_before=2026-01-02T00:00:00Z`, ': not_before is given twice'],
      [`${KEYS.verifierKey} # ${KEYS.signerKey}`, ' holds a signer (private) key; it is not shown'],
    ];
    for (const [line, problem] of cases) {
      fs.writeFileSync(file, `# trusted keys\n${line}\n`);
      const verify = await runCli(['verify', db, '--key', file]);
      const serve = await runCli(['serve', '--config', path.join(dir, 'otel-config.yaml'), '--port', '0', '--token-env', 'TOKEN'], { env: { TOKEN: 'key-window-token-0123456789abcdef' } });
      expect([verify.code, serve.code], line).toEqual([2, 2]);
      expect(verify.stderr).toContain(`key file ${file} line 2${problem}`);
      expect(serve.stderr).toMatch(/exporters\.sqlite\.verifier_keys_file \(line 4\): line 2 of "\.\/trusted\.vkey"/);
      expect(serve.stderr).toContain(`line 2 of "./trusted.vkey"${problem}`);
      const fix = /\n {2}fix: (.*)\n/.exec(verify.stderr)![1]!;
      expect(serve.stderr).toContain(fix);
      for (const run of [verify, serve]) expect(run.stderr).not.toContain(secret);
    }
  });

  it('collect: a checkpoint signed after the key\'s not_after is a key_out_of_window finding; a malformed window is refused before the store is created', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'central.db');
    const vkey = path.join(dir, 'svc.vkey');
    fs.writeFileSync(vkey, `${KEYS.verifierKey} not_after=${T0 + 1n}\n`);
    const collect = startBin(['collect', '--listen', '127.0.0.1:0', '--db', db, '--key', vkey]);
    await until(() => /logs: (\S+)/.test(collect.stdout()) || collect.stderr() !== '', 'collect listening');
    const url = /logs: (\S+)/.exec(collect.stdout())![1]!;
    const chain = new AuditChain({ stream: 'svc/1' });
    const signer = parseSignerKey(KEYS.signerKey);
    const records = [];
    const checkpoints: SealedCheckpoint[] = [];
    for (let i = 0; i < 4; i++) {
      records.push(chain.append({ id: createRecordId(), time: T0 + BigInt(i), type: 'crud', action: 'update', actor: { id: 'alice' } }));
      // Checkpoints at size 2 (time T0 + 1, inside the window) and size 4 (T0 + 3, after it).
      if (chain.size % 2 === 0) {
        const t = T0 + BigInt(i);
        checkpoints.push({ stream: 'svc/1', size: chain.size, rootHash: chain.rootHex(), timeUnixNano: t, note: chain.checkpoint(t, [signer]) });
      }
    }
    const mem = new InMemoryLogRecordExporter();
    await new LogRecordExporterSink({ exporter: mem }).append({ records, checkpoints });
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from(JsonLogsSerializer.serializeRequest(mem.getFinishedLogRecords())!) });
    expect(res.status).toBe(200);
    await until(() => collect.stdout().includes('finding key_out_of_window'), `the finding printed (${collect.stdout()})`);
    const stopped = await collect.stop();
    expect(stopped.code).toBe(1);
    expect(stopped.stdout.match(/finding \S+/g)).toEqual(['finding key_out_of_window']);
    expect(stopped.stdout).toMatch(/finding key_out_of_window svc\/1: checkpoint of svc\/1 at size 4/);

    const refused = runBin(['collect', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'never.db'), '--key', `${KEYS.verifierKey} not_after=2026-02-30T00:00:00Z`]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--key value: not_after="2026-02-30T00:00:00Z" is not a time/);
    expect(fs.existsSync(path.join(dir, 'never.db'))).toBe(false);
  });
});
