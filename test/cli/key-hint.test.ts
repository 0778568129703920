/**
 * `otel-audit verify --key` with the wrong key (DESIGN §4.3 keyring): the
 * report is followed by a hint naming the key ids that signed the stream's
 * checkpoints and the ids given — never key material — and, after a signer
 * key rotation (`system/key_changed`), the old and new key ids and the seq
 * of the change, so the fix is to pass both .vkey files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditChain, generateNoteKey, noteKeyId, parseSignerKey, type SealedCheckpoint, type SealedRecord } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { chainStore, event, KEYS, MINUTE, runCli, T0, tempDir } from './helpers.js';

const OLD = parseSignerKey(KEYS.signerKey);
const NEXT = generateNoteKey('cli.example/next');
const OTHER = generateNoteKey('demo');

function idOf(verifierKey: string): string {
  const [name, hash] = verifierKey.split('+');
  return noteKeyId(name!, Number.parseInt(hash!, 16));
}

function writeVkey(dir: string, name: string, verifierKey: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${verifierKey}\n`);
  return file;
}

describe('otel-audit verify --key hints', () => {
  it('another service\'s .vkey: the hint names the key id that signed the checkpoints and the one given', async () => {
    const { dir, db } = chainStore(20, { stream: 'my-service/1' });
    const run = await runCli(['verify', db, '--key', writeVkey(dir, 'demo.vkey', OTHER.verifierKey)]);
    expect(run.code).toBe(1);
    const signer = idOf(KEYS.verifierKey);
    expect(run.stdout).toContain(`hint: the checkpoints of my-service/1 are signed by ${signer}; --key gave ${idOf(OTHER.verifierKey)}: `
      + 'pass the .vkey of cli.example/audit (otel-audit keygen wrote it beside the signer key)');
    expect(run.stdout).not.toContain(KEYS.verifierKey.split('+').slice(2).join('+'));
    const json = JSON.parse((await runCli(['verify', db, '--key', writeVkey(dir, 'demo.vkey', OTHER.verifierKey), '--json'])).stdout);
    expect(json.hints).toEqual([expect.stringContaining(`signed by ${signer}`)]);
  });

  it('after a rotation, only the new key: the hint names the change from the old key to the new at its seq', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'audit.db');
    const next = parseSignerKey(NEXT.signerKey);
    const chain = new AuditChain({ stream: 'my-service/1' });
    const records: SealedRecord[] = [];
    const checkpoints: SealedCheckpoint[] = [];
    const checkpoint = (signers: typeof OLD[]): void => {
      const time = T0 + BigInt(chain.size) * MINUTE;
      checkpoints.push({ stream: chain.stream, size: chain.size, rootHash: chain.rootHex(), timeUnixNano: time, note: chain.checkpoint(time, signers) });
    };
    for (let i = 0; i < 10; i++) records.push(chain.append(event(i)));
    checkpoint([OLD]);
    const oldId = idOf(KEYS.verifierKey);
    const newId = idOf(NEXT.verifierKey);
    records.push(chain.append({
      ...event(10), type: 'system', action: 'key_changed', actor: { id: 'otel-audit', type: 'system' },
      details: { old_key_ids: [oldId], new_key_id: newId, reason: 'rotated' },
    }));
    checkpoint([OLD, next]);
    for (let i = 11; i < 20; i++) records.push(chain.append(event(i)));
    checkpoint([next]);
    const store = new SqliteAuditStore(db);
    store.appendSync({ records, checkpoints });
    store.close();

    const run = await runCli(['verify', db, '--key', writeVkey(dir, 'next.vkey', NEXT.verifierKey)]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`hint: the stream my-service/1 changed its signer key from ${oldId} to ${newId} at seq 10; `
      + `--key gave ${newId}: pass both .vkey files`);
    const both = await runCli(['verify', db, '--key', writeVkey(dir, 'old.vkey', KEYS.verifierKey), '--key', path.join(dir, 'next.vkey')]);
    expect(both.code).toBe(0);
    expect(both.stdout).not.toContain('hint:');
  });
});
