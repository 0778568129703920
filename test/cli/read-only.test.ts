/**
 * The verbs that only read leave the evidence as it was (DESIGN §4.4, §6):
 * `verify`, `query`, `export`, `proof`, `tail` and `retention --dry-run`,
 * run as the built bin on a rollback-journal database and on a WAL database
 * whose newest records are only in its -wal file, change neither the .db
 * nor the -wal by a byte — and still see the records of the -wal. A WAL
 * database in a directory the user cannot write is read through a copy.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evidenceStores, runBin, sha256, writeKeys } from './helpers.js';

/** Every read verb on `db`, with what each must show of the 30 records. */
function readEverything(db: string, vkey: string, out: string, options: { unprivileged?: boolean } = {}): void {
  const verify = runBin(['verify', db, '--key', vkey], options);
  expect(verify.stderr).toBe('');
  expect(verify.code, verify.stdout).toBe(0);
  expect(verify.stdout).toMatch(/^INTACT: 30 records in 1 stream, 3 signed checkpoints verified/m);

  const query = runBin(['query', '--db', db, '--limit', '100', '--json'], options);
  expect(query.code, query.stderr).toBe(0);
  expect(JSON.parse(query.stdout).records.map((r: { record: { seq: number } }) => r.record.seq)).toEqual(Array.from({ length: 30 }, (_, i) => 29 - i));

  const ndjson = runBin(['export', '--db', db, '--format', 'ndjson'], options);
  expect(ndjson.code, ndjson.stderr).toBe(0);
  expect(ndjson.stdout.trim().split('\n')).toHaveLength(30);
  const bundle = path.join(out, `bundle-${path.basename(db)}.json`);
  expect(runBin(['export', '--db', db, '--format', 'bundle', '--out', bundle], options).code).toBe(0);
  expect(runBin(['verify', bundle, '--key', vkey], options).stdout).toMatch(/^INTACT: 30 records/m);

  const proof = runBin(['proof', '--db', db, '--seq', '29'], options);
  expect(proof.code, proof.stderr).toBe(0);
  expect(JSON.parse(proof.stdout)).toMatchObject({ stream: 'svc/1', leafIndex: 29, treeSize: 30 });

  const tail = runBin(['tail', '--db', db, '-n', '3', '--ndjson'], options);
  expect(tail.stdout.trim().split('\n').map((l) => JSON.parse(l).record.seq)).toEqual([27, 28, 29]);

  const dry = runBin(['retention', '--db', db, '--dry-run', '--archive-after-days', '0', '--retention-days', '0', '--json'], options);
  expect(dry.code, dry.stderr).toBe(0);
  expect(JSON.parse(dry.stdout).archived[0]).toMatchObject({ firstSeq: 0, lastSeq: 29 });
}

describe('read verbs leave the evidence unchanged', () => {
  for (const kind of ['rollback', 'wal'] as const) {
    it(`a ${kind === 'wal' ? 'WAL database with an un-checkpointed -wal' : 'rollback-journal (DELETE) database'}: .db and -wal byte-identical after verify, query, export, proof, tail, retention --dry-run`, async () => {
      const evidence = await evidenceStores();
      const db = evidence[kind];
      const { vkey } = writeKeys(evidence.dir);
      const before = { db: sha256(db), wal: sha256(`${db}-wal`) };
      expect(before.wal === 'absent').toBe(kind === 'rollback');
      readEverything(db, vkey, evidence.dir);
      expect({ db: sha256(db), wal: sha256(`${db}-wal`) }).toEqual(before);
      expect(sha256(`${db}-journal`)).toBe('absent');
    });
  }

  it('a WAL database in a directory this user cannot write is read through a copy: same results, nothing changed', async () => {
    const evidence = await evidenceStores();
    const { vkey } = writeKeys(evidence.dir);
    const out = fs.mkdtempSync(path.join(path.dirname(evidence.dir), 'otel-audit-cli-out-'));
    fs.chmodSync(out, 0o777);
    // The store is created 0600: read access for the auditor (another user) is granted deliberately.
    for (const f of [evidence.wal, `${evidence.wal}-wal`]) fs.chmodSync(f, 0o644);
    const before = { db: sha256(evidence.wal), wal: sha256(`${evidence.wal}-wal`) };
    fs.chmodSync(evidence.dir, 0o555);
    try {
      readEverything(evidence.wal, vkey, out, { unprivileged: true });
      expect(fs.existsSync(`${evidence.wal}-shm`)).toBe(false);
    } finally {
      fs.chmodSync(evidence.dir, 0o755);
      fs.rmSync(out, { recursive: true, force: true });
    }
    expect({ db: sha256(evidence.wal), wal: sha256(`${evidence.wal}-wal`) }).toEqual(before);
  });
});
