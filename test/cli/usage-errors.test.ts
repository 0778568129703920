/**
 * What the user sees when the command line is slightly wrong (DESIGN §7:
 * every error names the problem and a fix that works, exit 2): a missing
 * secret that must already exist is looked for where it lives, not
 * generated anew; a `--db` file that is not a store is called that, not
 * verify's "bundle or JSON lines"; a store SQLite cannot read is called
 * damaged, with the other copies of its records to verify; and a mistyped
 * command or option gets "did you mean".
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chainStore, runCli, writeKeys } from './helpers.js';

/** The problem line and the fix line of a refusal. */
function refusal(stderr: string): { problem: string; fix: string } {
  const [problem = '', fix = ''] = stderr.split('\n  fix: ');
  return { problem, fix };
}

describe('a missing secret', () => {
  it('that must already exist (hash-value\'s redaction key) is looked for in the config, not generated', async () => {
    for (const name of ['NOPE', 'not-a-name']) {
      const run = await runCli(['hash-value', 'alice', '--key-env', name]);
      expect(run.code, name).toBe(2);
      const { fix } = refusal(run.stderr);
      expect(fix, name).toContain('processors.redact');
      expect(fix, name).toContain('hmac_key_file');
      expect(fix, name).toContain('cannot reproduce the stored hmac-sha256: values');
      expect(fix, name).not.toContain('openssl rand');
    }
  });

  it('that senders already present (collect\'s token) is looked for in their headers first', async () => {
    const { dir } = chainStore(1);
    const run = await runCli(['collect', '--db', path.join(dir, 'central.db'), '--token-env', 'COLLECT_TOKEN']);
    expect(run.code).toBe(2);
    expect(refusal(run.stderr).fix).toMatch(/^export COLLECT_TOKEN with the sender token: the token the services already send .*exporters\.otlphttp\.headers.*for a first setup, a new one/);
  });
});

describe('a --db file that is not an otel-audit store', () => {
  it('is called that, with the config key of the store\'s path, by every verb that takes --db', async () => {
    const { dir, db } = chainStore(3);
    const empty = path.join(dir, 'empty.db');
    fs.writeFileSync(empty, '');
    const text = path.join(dir, 'notes.db');
    fs.writeFileSync(text, 'not a database\n');
    const bundle = path.join(dir, 'evidence.json');
    expect((await runCli(['export', '--db', db, '--format', 'bundle', '--out', bundle])).code).toBe(0);
    const verbs = [['query'], ['tail'], ['export', '--format', 'ndjson'], ['proof', '--seq', '1'], ['archives'], ['retention', '--dry-run']];
    for (const [verb, ...rest] of verbs) {
      for (const [file, what] of [[empty, 'is empty, not'], [text, 'is not'], [bundle, 'is an export bundle, not']] as const) {
        const run = await runCli([verb!, '--db', file, ...rest]);
        const label = `${verb} ${path.basename(file)}`;
        expect(run.code, label).toBe(2);
        const { problem, fix } = refusal(run.stderr);
        expect(problem, label).toBe(`otel-audit ${verb}: ${file} ${what} an otel-audit SQLite store`);
        expect(fix, label).toContain('pass the SQLite file of exporters.sqlite (its `path` in otel-config.yaml) as --db FILE');
        expect(run.stderr, label).not.toContain('OTLP JSON lines');
        expect(run.stderr, label).not.toContain('Collector file exporter');
      }
    }
  });
});

describe('a damaged store', () => {
  it('truncated: verify and query say it is damaged and which other copies to verify (exit 2)', async () => {
    const { dir, db } = chainStore(200);
    const { vkey } = writeKeys(dir);
    const half = path.join(dir, 'half.db');
    const bytes = fs.readFileSync(db);
    fs.writeFileSync(half, bytes.subarray(0, bytes.length / 2));
    for (const argv of [['verify', half, '--key', vkey], ['query', '--db', half]]) {
      const run = await runCli(argv);
      expect(run.code, argv[0]).toBe(2);
      const { problem, fix } = refusal(run.stderr);
      expect(problem, argv[0]).toContain(`${half} is damaged: it starts as a SQLite database, but SQLite cannot read it (database disk image is malformed)`);
      expect(problem, argv[0]).toContain('a crash, a bad copy or tampering');
      expect(fix, argv[0]).toMatch(/^keep the file as evidence and verify another copy of the records — a backup of the store, an export bundle .* forwarded to the collector/);
      expect(fix, argv[0]).toContain('docs/operations.md');
      expect(fix, argv[0]).not.toContain('check that the file is an otel-audit store');
    }
  });

  it('with pages overwritten past those read at open: verify says it is damaged (exit 2)', async () => {
    const { dir, db } = chainStore(200);
    const { vkey } = writeKeys(dir);
    const bytes = fs.readFileSync(db);
    const from = Math.floor((bytes.length * 3) / 4 / 4096) * 4096;
    bytes.fill(0x5a, from);
    const bad = path.join(dir, 'overwritten.db');
    fs.writeFileSync(bad, bytes);
    const run = await runCli(['verify', bad, '--key', vkey]);
    expect(run.code).toBe(2);
    expect(refusal(run.stderr).problem).toContain(`${bad} is damaged: it opens as a SQLite database, but SQLite cannot read all of it`);
    expect(refusal(run.stderr).fix).toContain('verify another copy of the records');
  });

  it('with its header overwritten: the size of whole pages is named as a sign of a damaged store', async () => {
    const { dir, db } = chainStore(20);
    const bytes = fs.readFileSync(db);
    bytes.fill(0, 0, 100);
    const bad = path.join(dir, 'zeroed.db');
    fs.writeFileSync(bad, bytes);
    const run = await runCli(['query', '--db', bad]);
    expect(run.code).toBe(2);
    const { problem, fix } = refusal(run.stderr);
    expect(problem).toContain(`is not an otel-audit SQLite store: it has the size of a SQLite database (${bytes.length} bytes, whole pages) but not its header; if it was an otel-audit store, it is damaged`);
    expect(fix).toContain('verify another copy of the records');
  });
});

describe('a mistyped command or option', () => {
  it('gets "did you mean" with the nearest command, or those it begins', async () => {
    const typo = await runCli(['verfy', 'audit.db']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe('otel-audit: unknown command "verfy"\n  fix: did you mean `otel-audit verify`? (run `otel-audit --help` for the list of commands)\n');
    expect(refusal((await runCli(['exprot'])).stderr).fix).toMatch(/^did you mean `otel-audit export`\?/);
    expect(refusal((await runCli(['ver'])).stderr).fix).toMatch(/^did you mean `otel-audit verify` or `otel-audit verify-proof`\?/);
    const far = await runCli(['zzzzzz']);
    expect(far.code).toBe(2);
    expect(far.stderr).not.toContain('did you mean');
  });

  it('gets "did you mean" with the nearest option of the verb', async () => {
    const { dir, db } = chainStore(3);
    const { vkey } = writeKeys(dir);
    const kye = await runCli(['verify', db, '--kye', vkey]);
    expect(kye.code).toBe(2);
    expect(kye.stderr).toBe('otel-audit verify: unknown option --kye\n  fix: did you mean --key? (run `otel-audit verify --help` for the options)\n');
    expect(refusal((await runCli(['query', '--db', db, '--acter', 'alice'])).stderr).fix).toMatch(/^did you mean --actor\?/);
    expect(refusal((await runCli(['verify', db, '--unsigned', 'x'])).stderr).fix).toMatch(/^did you mean --unsigned-ok\?/);
    const far = await runCli(['query', '--db', db, '--zzzzzz']);
    expect(far.code).toBe(2);
    expect(far.stderr).not.toContain('did you mean');
  });

  it('--db given to verify: the file goes as the argument', async () => {
    const { db } = chainStore(3);
    const run = await runCli(['verify', '--db', db]);
    expect(run.code).toBe(2);
    const { problem, fix } = refusal(run.stderr);
    expect(problem).toBe('otel-audit verify: unknown option --db: verify takes the database as an argument, not as --db');
    expect(fix).toContain(`\`otel-audit verify ${db}\``);
    expect(refusal((await runCli(['verify', '--db=my audit.db'])).stderr).fix).toContain('`otel-audit verify \'my audit.db\'`');
  });
});
