/**
 * Shared fixtures of the `otel-audit` end-to-end tests: running `main`
 * in-process with captured streams, stores built by core's AuditChain (as
 * the processor seals) or by the real pipeline (LoggerProvider → audit
 * processor → SQLite store, plus the OTLP JSON lines a Collector file
 * exporter would write from the same records), the attacker's connection
 * with the append-only triggers dropped, and the built bin run as a child
 * process (as another user, when the tests run as root, so file modes bind).
 */
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import { ExportResultCode } from '@opentelemetry/core';
import { LoggerProvider, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { JsonLogsSerializer } from '@opentelemetry/otlp-transformer';
import { AuditChain, createRecordId, generateNoteKey, parseSignerKey, type AuditEventInput, type SealedCheckpoint, type SealedRecord } from '@otel-audit/core';
import { SqliteAuditStore, type SqliteAuditStoreOptions } from '@otel-audit/exporter-sqlite';
import { AuditLogRecordProcessor, LogRecordExporterSink, type RedactionOptions } from '@otel-audit/processor';
import { createAuditLogger } from '@otel-audit/instrumentation';
import { main, type MainIo } from '@otel-audit/cli';

export const T0 = 1_700_000_000_000_000_000n;
export const MINUTE = 60_000_000_000n;
export const KEYS = generateNoteKey('cli.example/audit');
const SIGNER = parseSignerKey(KEYS.signerKey);

/** What one CLI run printed and returned. */
export interface CliRun { code: number; stdout: string; stderr: string }

/** Runs `otel-audit argv` in-process with captured output. */
export async function runCli(argv: string[], io: Omit<MainIo, 'stdout' | 'stderr'> & { tty?: boolean } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const { tty, ...rest } = io;
  const code = await main(argv, {
    env: {},
    ...rest,
    stdout: { write: (s: string) => { stdout += s; return true; }, isTTY: tty === true },
    stderr: { write: (s: string) => { stderr += s; return true; }, isTTY: tty === true, columns: 100 },
  });
  return { code, stdout, stderr };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** A temp directory removed after the test. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-cli-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes the test key pair into `dir`; returns the file paths. */
export function writeKeys(dir: string): { key: string; vkey: string } {
  const key = path.join(dir, 'audit.key');
  const vkey = path.join(dir, 'audit.vkey');
  fs.writeFileSync(key, `${KEYS.signerKey}\n`, { mode: 0o600 });
  fs.writeFileSync(vkey, `${KEYS.verifierKey}\n`);
  return { key, vkey };
}

/** An event with the members investigators filter on. */
export function event(i: number, time: bigint = T0 + BigInt(i) * MINUTE): AuditEventInput {
  return {
    id: createRecordId(), time, type: i % 4 === 0 ? 'auth' : 'crud', action: i % 4 === 0 ? 'login' : 'update',
    outcome: i % 5 === 0 ? 'failure' : 'success', severity: i % 5 === 0 ? 'warning' : 'info',
    actor: { id: `user-${i % 3}`, type: 'user', ip: `10.0.0.${i % 250}` },
    target: { type: 'tool', id: String(i % 7) },
    request: { id: `req-${i}`, endpoint: '/admin/tools/:id', method: 'PUT' },
    details: { i, note: `change ${i}` },
  };
}

/** Seals `n` records onto `chain`, with a signed checkpoint every `every`. */
export function seal(chain: AuditChain, n: number, every: number, make: (i: number) => AuditEventInput = (i) => event(i)): { records: SealedRecord[]; checkpoints: SealedCheckpoint[] } {
  const records: SealedRecord[] = [];
  const checkpoints: SealedCheckpoint[] = [];
  for (let k = 0; k < n; k++) {
    const i = chain.size;
    records.push(chain.append(make(i)));
    if (chain.size % every === 0) {
      const time = T0 + BigInt(i) * MINUTE;
      checkpoints.push({ stream: chain.stream, size: chain.size, rootHash: chain.rootHex(), timeUnixNano: time, note: chain.checkpoint(time, [SIGNER]) });
    }
  }
  return { records, checkpoints };
}

/** A database in a fresh temp dir holding `n` records of `stream`, signed every `every`. */
export function chainStore(n = 30, options: { stream?: string; every?: number; dir?: string; make?: (i: number) => AuditEventInput; encryption?: SqliteAuditStoreOptions['encryption'] } = {}): { dir: string; db: string } {
  const dir = options.dir ?? tempDir();
  const db = path.join(dir, 'audit.db');
  const store = new SqliteAuditStore(db, options.encryption ? { encryption: options.encryption } : {});
  try {
    const chain = new AuditChain({ stream: options.stream ?? 'svc/1' });
    store.appendSync(seal(chain, n, options.every ?? 10, options.make));
  } finally {
    store.close();
  }
  return { dir, db };
}

/** The attacker: a raw connection with every append-only trigger dropped. */
export function tamper(db: string, sql: string, ...params: unknown[]): void {
  const raw = new Database(db);
  try {
    for (const name of raw.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all() as string[]) raw.exec(`DROP TRIGGER "${name}"`);
    raw.prepare(sql).run(...params);
  } finally {
    raw.close();
  }
}

/** A LogRecordExporter writing OTLP JSON lines, one ExportLogsServiceRequest per export, as the Collector's file exporter does. */
class JsonLinesExporter implements LogRecordExporter {
  readonly lines: string[] = [];
  export(logs: ReadableLogRecord[], done: (result: { code: ExportResultCode }) => void): void {
    const bytes = JsonLogsSerializer.serializeRequest(logs);
    this.lines.push(JSON.stringify(JSON.parse(Buffer.from(bytes!).toString('utf8'))));
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> { return Promise.resolve(); }
  forceFlush(): Promise<void> { return Promise.resolve(); }
}

/**
 * The real pipeline: records logged through `createAuditLogger` into the
 * audit processor, committed to a SQLite store and, through a
 * LogRecordExporterSink, written as OTLP JSON lines. Shut down (final
 * checkpoint written) before it resolves.
 */
export async function pipelineStore(options: { n?: number; redaction?: RedactionOptions; stream?: string; events?: (i: number) => Record<string, unknown> } = {}): Promise<{ dir: string; db: string; jsonl: string }> {
  const dir = tempDir();
  const db = path.join(dir, 'audit.db');
  const jsonl = path.join(dir, 'audit.jsonl');
  const store = new SqliteAuditStore(db);
  const lines = new JsonLinesExporter();
  const processor = new AuditLogRecordProcessor({
    stream: options.stream ?? 'pipeline/1',
    sinks: [store, new LogRecordExporterSink({ exporter: lines })],
    signerKey: KEYS.signerKey,
    flushIntervalMillis: 10,
    checkpointEveryRecords: 5,
    ...(options.redaction ? { redaction: options.redaction } : {}),
  });
  const provider = new LoggerProvider({ processors: [processor] });
  const audit = createAuditLogger({ loggerProvider: provider });
  const make = options.events ?? ((i: number) => ({ type: 'crud', action: 'update', outcome: 'success', actor: { id: `user-${i % 3}` }, target: { type: 'tool', id: String(i) }, details: { i } }));
  for (let i = 0; i < (options.n ?? 12); i++) await audit.log(make(i) as Parameters<typeof audit.log>[0]);
  await provider.shutdown();
  store.close();
  fs.writeFileSync(jsonl, lines.lines.map((l) => `${l}\n`).join(''));
  return { dir, db, jsonl };
}

/** The built `otel-audit` bin. */
export const BIN = fileURLToPath(new URL('../../packages/cli/bin/otel-audit.js', import.meta.url));

/**
 * Spawn options that run the child as an unprivileged user when the tests
 * run as root (root ignores file modes, so a read-only file would not be).
 */
export const UNPRIVILEGED: Pick<SpawnSyncOptions, 'uid' | 'gid'> = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

interface BinOptions { env?: NodeJS.ProcessEnv; cwd?: string; unprivileged?: boolean }

function spawnOptions(options: BinOptions): SpawnSyncOptions {
  return { env: { PATH: process.env['PATH'], ...options.env }, ...(options.cwd ? { cwd: options.cwd } : {}), ...(options.unprivileged ? UNPRIVILEGED : {}) };
}

/** Runs the built bin to completion as a child process. */
export function runBin(argv: string[], options: BinOptions = {}): CliRun {
  const run = spawnSync(process.execPath, [BIN, ...argv], { ...spawnOptions(options), encoding: 'utf8' });
  if (run.error) throw run.error;
  return { code: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
}

/** A long-running verb (`tail -f`, `collect`) of the built bin; `stop()` sends SIGTERM and waits for it to exit. */
export interface RunningBin { stdout(): string; stderr(): string; stop(): Promise<CliRun> }

/** Starts the built bin as a child process; it is stopped after the test if still running. */
export function startBin(argv: string[], options: BinOptions = {}): RunningBin {
  const child = spawn(process.execPath, [BIN, ...argv], { ...spawnOptions(options), stdio: ['ignore', 'pipe', 'pipe'] } as Parameters<typeof spawn>[2]);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString('utf8'); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1))));
  // SIGTERM first: the verb then closes its store (and removes a temporary copy).
  cleanups.push(() => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 2_000).unref();
  });
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      return { code, stdout, stderr };
    },
  };
}

/** Polls until `cond()` holds; throws naming `what` after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** SHA-256 of a file, or 'absent'. */
export function sha256(file: string): string {
  return fs.existsSync(file) ? createHash('sha256').update(fs.readFileSync(file)).digest('hex') : 'absent';
}

/**
 * Evidence as an auditor receives it, in a fresh temp dir: `wal.db`, a WAL
 * store whose newest records (seq `walFrom`..n-1, with the checkpoint at n)
 * are only in its -wal file — a copy taken from a running or crashed service
 * — and `delete.db`, the same store in rollback-journal (DELETE) mode.
 */
export async function evidenceStores(n = 30, walFrom = 20): Promise<{ dir: string; wal: string; rollback: string }> {
  const { dir, db } = chainStore(walFrom);
  const store = new SqliteAuditStore(db);
  try {
    store.database.pragma('wal_checkpoint(TRUNCATE)');
    store.database.pragma('wal_autocheckpoint = 0');
    store.appendSync(seal(new AuditChain({ stream: 'svc/1', head: await store.head('svc/1') }), n - walFrom, 10));
    const wal = path.join(dir, 'wal.db');
    fs.copyFileSync(db, wal);
    fs.copyFileSync(`${db}-wal`, `${wal}-wal`);
    const rollback = path.join(dir, 'delete.db');
    store.database.prepare('VACUUM INTO ?').run(rollback);
    const raw = new Database(rollback);
    raw.pragma('journal_mode = DELETE');
    raw.close();
    return { dir, wal, rollback };
  } finally {
    store.close();
  }
}
