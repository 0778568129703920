/**
 * Runs the language-neutral test vectors of test/vectors/ (DESIGN §4; see
 * test/vectors/README.md) against @otel-audit/core — the redaction vectors
 * against the processor and `otel-audit hash-value` — one test per file, and
 * checks that the checked-in vectors are byte for byte what
 * scripts/generate-vectors.ts produces, so they can never drift from the code.
 * Imports the package by its public name: run `tsc -b` first (`npm test` does).
 */
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  canonicalize,
  consistencyProof,
  genesisPrev,
  HASH_ALGORITHMS,
  inclusionProof,
  leafHash,
  merkleRoot,
  normalizeRecord,
  parseSignerKey,
  recordHash,
  signNote,
  verifyCheckpoint,
  verifyConsistency,
  verifyInclusion,
  Verifier,
  type AuditRecordInput,
  type HashAlgorithm,
} from '@otel-audit/core';
import { main } from '@otel-audit/cli';
import { AuditLogRecordProcessor, InMemoryAuditSink } from '@otel-audit/processor';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { keyringOf, type KeyringEntryJson } from './support/keyring-json.js';
import type { RedactionCase } from '../scripts/vectors-redaction.js';

const REPO = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const VECTORS = path.join(REPO, 'test', 'vectors');
const FOLDERS = ['canonical', 'record-hash', 'merkle', 'checkpoint', 'streams', 'redaction'];

/** Every `*.json` case of a folder, by file name, parsed. */
function cases<T>(folder: string): [name: string, value: T][] {
  const dir = path.join(VECTORS, folder);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f.slice(0, -'.json'.length), JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as T]);
}

/** Declares one test per case, and a test that fails when the folder has none. */
function walk<T>(folder: string, run: (c: T, name: string) => void | Promise<void>): void {
  describe(folder, () => {
    const list = cases<T>(folder);
    it('has cases', () => {
      expect(list.length).toBeGreaterThan(0);
    });
    for (const [name, c] of list) it(name, () => run(c, name));
  });
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Buffer => Buffer.from(h, 'hex');

describe('test vectors', () => {
  it('has exactly the documented folders and a README', () => {
    const entries = readdirSync(VECTORS).sort();
    expect(entries).toEqual([...FOLDERS, 'README.md'].sort());
  });

  interface CanonicalCase {
    input: string;
    valid: boolean;
    expected?: string;
    expectedUtf8Hex?: string;
  }
  walk<CanonicalCase>('canonical', (c) => {
    if (!c.valid) {
      expect(() => canonicalize(JSON.parse(c.input))).toThrow();
      return;
    }
    const actual = canonicalize(JSON.parse(c.input));
    expect(actual).toBe(c.expected);
    expect(hex(Buffer.from(actual, 'utf8'))).toBe(c.expectedUtf8Hex);
  });

  interface RecordHashCase {
    alg: HashAlgorithm;
    input?: Record<string, unknown>;
    record: Record<string, unknown>;
    canonical: string;
    hash: string;
    genesisPrev: string;
  }
  walk<RecordHashCase>('record-hash', (c) => {
    expect(HASH_ALGORITHMS).toContain(c.alg);
    expect(c.record.alg).toBe(c.alg);
    // A normalised record is a fixed point of normalisation.
    const record = normalizeRecord(c.record as unknown as AuditRecordInput);
    expect(record).toEqual(c.record);
    if (c.input !== undefined) expect(normalizeRecord(c.input as unknown as AuditRecordInput)).toEqual(c.record);
    expect(canonicalize(c.record)).toBe(c.canonical);
    expect(canonicalize(record)).toBe(c.canonical);
    expect(recordHash(record)).toBe(c.hash);
    expect(hex(leafHash(c.alg, Buffer.from(c.canonical, 'utf8')))).toBe(c.hash);
    expect(genesisPrev(c.alg)).toBe(c.genesisPrev);
  });

  it('record-hash covers every algorithm', () => {
    const algs = new Set(cases<RecordHashCase>('record-hash').map(([, c]) => c.alg));
    expect([...algs].sort()).toEqual([...HASH_ALGORITHMS].sort());
  });

  interface TreeCase {
    alg: HashAlgorithm;
    leafData: string[];
    leaves: string[];
    roots: { size: number; root: string }[];
  }
  interface InclusionCase {
    alg: HashAlgorithm;
    leaves: string[];
    index: number;
    size: number;
    leaf: string;
    proof: string[];
    root: string;
    valid: boolean;
  }
  interface ConsistencyCase {
    alg: HashAlgorithm;
    leaves: string[];
    oldSize: number;
    newSize: number;
    oldRoot: string;
    newRoot: string;
    proof: string[];
    valid: boolean;
  }
  walk<TreeCase | InclusionCase | ConsistencyCase>('merkle', (c, name) => {
    const leaves = c.leaves.map(bytes);
    if (name.startsWith('tree-')) {
      const t = c as TreeCase;
      expect(t.leafData.map((d) => hex(leafHash(t.alg, bytes(d))))).toEqual(t.leaves);
      expect(t.roots.map((r) => r.size)).toEqual(Array.from({ length: leaves.length + 1 }, (_, i) => i));
      for (const { size, root } of t.roots) expect(hex(merkleRoot(t.alg, leaves, size)), `root at size ${size}`).toBe(root);
    } else if (name.startsWith('inclusion-')) {
      const p = c as InclusionCase;
      const ok = verifyInclusion(p.alg, p.index, p.size, bytes(p.leaf), p.proof.map(bytes), bytes(p.root));
      expect(ok).toBe(p.valid);
      if (p.valid) {
        expect(leaves).toHaveLength(p.size);
        expect(hex(leaves[p.index]!)).toBe(p.leaf);
        expect(hex(merkleRoot(p.alg, leaves, p.size))).toBe(p.root);
        expect(inclusionProof(p.alg, p.index, p.size, leaves).map(hex)).toEqual(p.proof);
      }
    } else if (name.startsWith('consistency-')) {
      const p = c as ConsistencyCase;
      const ok = verifyConsistency(p.alg, p.oldSize, p.newSize, bytes(p.oldRoot), bytes(p.newRoot), p.proof.map(bytes));
      expect(ok).toBe(p.valid);
      if (p.valid) {
        expect(leaves).toHaveLength(p.newSize);
        expect(hex(merkleRoot(p.alg, leaves, p.oldSize))).toBe(p.oldRoot);
        expect(hex(merkleRoot(p.alg, leaves, p.newSize))).toBe(p.newRoot);
        expect(consistencyProof(p.alg, p.oldSize, p.newSize, leaves).map(hex)).toEqual(p.proof);
      }
    } else {
      expect.fail(`merkle/${name}: unknown kind of case (expected tree-, inclusion- or consistency-)`);
    }
  });

  interface CheckpointCase {
    note: string;
    keyring: KeyringEntryJson[];
    alg?: HashAlgorithm;
    signerKeys?: string[];
    expected: {
      status: string;
      line?: number;
      keys?: string[];
      checkpoint?: { origin: string; size: number; rootHash: string; time: string; extensions: string[] };
    };
  }
  walk<CheckpointCase>('checkpoint', (c) => {
    const result = verifyCheckpoint(c.note, keyringOf(c.keyring), c.alg === undefined ? {} : { alg: c.alg });
    expect(result.status, result.message).toBe(c.expected.status);
    expect(result.ok).toBe(c.expected.status === 'valid');
    if (c.expected.status === 'malformed') {
      expect(result.checkpoint).toBeUndefined();
      expect(result.error?.line, result.message).toBe(c.expected.line);
    } else {
      expect(result.keys).toEqual(c.expected.keys);
      const cp = result.checkpoint!;
      expect({
        origin: cp.origin,
        size: cp.size,
        rootHash: hex(cp.rootHash),
        time: cp.timeUnixNano.toString(),
        extensions: [...cp.extensions],
      }).toEqual(c.expected.checkpoint);
    }
    if (c.signerKeys !== undefined) {
      // Ed25519 is deterministic: the same keys sign the text into the same note.
      const text = c.note.slice(0, c.note.indexOf('\n\n') + 1);
      expect(signNote(text, c.signerKeys.map(parseSignerKey))).toBe(c.note);
    }
  });

  interface Finding {
    code: string;
    seq?: number;
    lastSeq?: number;
    size?: number;
  }
  interface StreamCase {
    keyring: KeyringEntryJson[];
    records: { record: Record<string, unknown>; checksum: string }[];
    checkpoints: string[];
    expected: { ok: boolean; findings: Finding[] };
  }
  walk<StreamCase>('streams', (c) => {
    const verifier = new Verifier({ keyring: keyringOf(c.keyring) });
    for (const note of c.checkpoints) verifier.addCheckpoint(note);
    for (const row of c.records) verifier.addRecord(row.record, row.checksum);
    const report = verifier.finish();
    const findings = report.streams.flatMap((s) =>
      s.findings.map((f) => ({
        code: f.code,
        ...(f.seq === undefined ? {} : { seq: f.seq }),
        ...(f.lastSeq === undefined ? {} : { lastSeq: f.lastSeq }),
        ...(f.size === undefined ? {} : { size: f.size }),
      })),
    );
    expect(findings).toEqual(c.expected.findings);
    expect(report.ok).toBe(c.expected.ok);
  });

  walk<RedactionCase>('redaction', async (c) => {
    // The bytes, independently of the project.
    expect(c.message).toBe(typeof c.value === 'string' ? c.value : canonicalize(c.value as never));
    expect(Buffer.from(c.message, 'utf8').toString('hex')).toBe(c.messageUtf8Hex);
    expect(c.expected).toBe(`hmac-sha256:${createHmac('sha256', Buffer.from(c.key, 'utf8')).update(bytes(c.messageUtf8Hex)).digest('hex')}`);
    // What the processor writes in place of a member whose name matches.
    const sink = new InMemoryAuditSink();
    const processor = new AuditLogRecordProcessor({ sinks: [sink], stream: 'vectors/redaction', redaction: { mode: 'hmac', hmacKey: c.key } });
    const provider = new LoggerProvider({ processors: [processor] });
    provider.getLogger('otel-audit').emit({ body: { type: 'crud', action: 'update', details: { secret: c.value } } as never });
    await processor.forceFlush();
    await provider.shutdown();
    const record = sink.records.map((r) => r.record).find((r) => r.type === 'crud')!;
    expect(record.details).toEqual({ secret: c.expected });
    expect(record.redacted).toEqual(['/details/secret']);
    // What an investigator gets from the command for the value's JSON text.
    let out = '';
    const code = await main(['hash-value', JSON.stringify(c.value), '--key-env', 'VECTOR_KEY', '--as', 'json'], { env: { VECTOR_KEY: c.key }, stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true } });
    expect(code).toBe(0);
    expect(out).toBe(`${c.expected}\n`);
  });

  it('streams include a sha256 and a sha3-256 stream', () => {
    const algs = new Set(cases<StreamCase>('streams').flatMap(([, c]) => c.records.map((r) => r.record.alg)));
    expect(algs).toContain('sha256');
    expect(algs).toContain('sha3-256');
  });

  describe('generator', () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'otel-audit-vectors-'));
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));

    /** Relative paths of every file under `dir`, sorted. */
    function listFiles(dir: string, prefix = ''): string[] {
      return readdirSync(path.join(dir, prefix), { withFileTypes: true })
        .flatMap((e) => (e.isDirectory() ? listFiles(dir, path.join(prefix, e.name)) : [path.join(prefix, e.name)]))
        .sort();
    }

    it('reproduces the checked-in vectors byte for byte', () => {
      const out = path.join(tmp, 'vectors');
      execFileSync(
        process.execPath,
        [path.join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(REPO, 'scripts', 'generate-vectors.ts'), '--out', out],
        { cwd: REPO, stdio: 'pipe' },
      );
      const generated = listFiles(out);
      expect(generated).toEqual(listFiles(VECTORS));
      const differing = generated.filter((f) => !readFileSync(path.join(out, f)).equals(readFileSync(path.join(VECTORS, f))));
      expect(differing, 'vectors differ from the generator output: run `npm run vectors`').toEqual([]);
    });
  });
});
